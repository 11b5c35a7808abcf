export interface WorkQueueOptions {
  /** First retry delay for a failing key; doubles per failure. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The global token bucket that rate-limited adds also pass through. */
  qps?: number;
  burst?: number;
}

/**
 * A de-duplicating work queue with the guarantees controllers rely on: a key is processed by at
 * most one worker at a time; a key added while it is being processed is processed again
 * afterwards; a key added many times while waiting is processed once. Failing keys retry with
 * per-key exponential backoff, and all retries together pass a global token bucket.
 */
export class WorkQueue<K = string> {
  private queue: K[] = [];
  private head = 0;
  private dirty = new Set<K>();
  private processing = new Set<K>();
  private waiters: ((k: K | undefined) => void)[] = [];
  private failures = new Map<K, number>();
  private timers = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private closed = false;
  private readonly base: number;
  private readonly max: number;
  private readonly qps: number;
  private readonly burst: number;
  private tokens: number;
  private lastRefill = Date.now();

  constructor(opts: WorkQueueOptions = {}) {
    this.base = opts.baseDelayMs ?? 1000;
    this.max = opts.maxDelayMs ?? 60_000;
    this.qps = opts.qps ?? 50;
    this.burst = opts.burst ?? 300;
    this.tokens = this.burst;
  }

  add(key: K): void {
    if (this.closed || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(key);
      this.processing.add(key);
      w(key);
    } else this.queue.push(key);
  }

  /** Adds the key after `ms`; an earlier pending add of the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, timer });
  }

  /** Adds the key after its backoff delay (and after a token from the global bucket). */
  addRateLimited(key: K): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const backoff = Math.min(this.max, this.base * 2 ** n);
    this.addAfter(key, Math.max(backoff, this.bucketDelay()));
  }

  /** How many times the key has failed since it was last forgotten. */
  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears the key's backoff: call after a successful reconcile. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Waits for the next key; undefined once the queue is shut down and drained of waiters. */
  get(): Promise<K | undefined> {
    while (this.head < this.queue.length) {
      const k = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (!this.dirty.has(k)) continue;
      this.dirty.delete(k);
      this.processing.add(k);
      return Promise.resolve(k);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key finished; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  len(): number {
    return this.dirty.size;
  }

  /** Keys waiting or being processed, plus those scheduled for later. */
  pending(): number {
    return this.dirty.size + this.processing.size + this.timers.size;
  }

  shutdown(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  get isShutdown(): boolean {
    return this.closed;
  }

  private bucketDelay(): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.qps);
    this.lastRefill = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
}
