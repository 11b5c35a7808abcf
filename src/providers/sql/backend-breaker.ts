/**
 * Keeps an unreachable SQL server from being hammered by its own managed resources. When a
 * statement fails because the server cannot be reached, the breaker opens: for the next
 * `probeIntervalMs` every statement fails at once with that error (so a thousand resources
 * retrying with backoff cost the server nothing); after it, one statement goes through as a
 * probe while the others keep failing fast. The first statement that reaches the server, even
 * one the server rejects, closes the breaker. The probe interval is short so that a server
 * coming back is noticed within a second by whatever polls next.
 */
export class BackendBreaker {
  private lastError?: Error;
  private downSince?: string;
  private nextProbeAt = 0;
  private probing = false;
  /** Statements refused without contacting the server, for benchmarks. */
  refused = 0;
  /** Connection attempts that failed, for benchmarks. */
  failedAttempts = 0;

  constructor(private readonly probeIntervalMs = 500) {}

  /** Whether the server was unreachable at the last attempt. */
  get open(): boolean {
    return this.lastError !== undefined;
  }

  async run<T>(statement: () => Promise<T>, isConnectionError: (err: unknown) => boolean): Promise<T> {
    const last = this.lastError;
    if (last && (this.probing || Date.now() < this.nextProbeAt)) {
      this.refused++;
      // the message stays the same for the whole outage, so conditions carrying it are written once
      throw new Error(`${last.message} (unreachable since ${this.downSince}; retrying every ${this.probeIntervalMs / 1000} s)`, { cause: (last as Error & { cause?: unknown }).cause });
    }
    const probe = last !== undefined;
    if (probe) this.probing = true;
    try {
      const result = await statement();
      this.close();
      return result;
    } catch (err) {
      if (isConnectionError(err)) {
        this.failedAttempts++;
        this.lastError = err as Error;
        this.downSince ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        this.nextProbeAt = Date.now() + this.probeIntervalMs;
      } else this.close();
      throw err;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private close(): void {
    this.lastError = undefined;
    this.downSince = undefined;
  }
}
