import { connect } from 'node:net';

/**
 * What a DNS endpoint is checked with: an HTTP GET that must answer 2xx/3xx, or a TCP connect.
 * An endpoint turns unhealthy after `failureThreshold` failed checks in a row and healthy again
 * after `successThreshold` passing ones, so one lost packet does not flip an answer.
 */
export interface HealthCheckSpec {
  type: 'HTTP' | 'TCP';
  /** HTTP: the URL to GET. */
  url?: string;
  /** TCP: where to connect. */
  host?: string;
  port?: number;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface HealthState {
  healthy: boolean;
  lastCheck?: string;
  lastError?: string;
}

/** Validates a health check, naming the field that is wrong. */
export function validateHealthCheck(h: HealthCheckSpec, field: string): void {
  if (h.type === 'HTTP' && !/^https?:\/\//.test(h.url ?? '')) throw new Error(`${field}.url must be an http:// or https:// URL for an HTTP check`);
  if (h.type === 'TCP' && (!h.host || !h.port)) throw new Error(`${field} needs host and port for a TCP check`);
  if (h.type !== 'HTTP' && h.type !== 'TCP') throw new Error(`${field}.type must be HTTP or TCP`);
  if (h.intervalSeconds !== undefined && !(h.intervalSeconds > 0)) throw new Error(`${field}.intervalSeconds must be positive`);
}

class Probe {
  state: HealthState = { healthy: true };
  users = 0;
  private failures = 0;
  private successes = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(readonly spec: HealthCheckSpec) {}

  start(): void {
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    const error = await check(this.spec);
    if (this.stopped) return;
    this.state.lastCheck = new Date().toISOString();
    this.state.lastError = error;
    if (error) {
      this.successes = 0;
      if (++this.failures >= (this.spec.failureThreshold ?? 3)) this.state.healthy = false;
    } else {
      this.failures = 0;
      if (++this.successes >= (this.spec.successThreshold ?? 1)) this.state.healthy = true;
    }
    this.timer = setTimeout(() => void this.tick(), (this.spec.intervalSeconds ?? 10) * 1000);
    this.timer.unref();
  }
}

/** Returns undefined when the endpoint is healthy, else why not. */
async function check(spec: HealthCheckSpec): Promise<string | undefined> {
  const timeoutMs = (spec.timeoutSeconds ?? Math.min(spec.intervalSeconds ?? 10, 5)) * 1000;
  if (spec.type === 'HTTP') {
    try {
      const res = await fetch(spec.url!, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      return res.status < 400 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, a timeout) in its cause
      const e = err as Error & { cause?: { message?: string } };
      return e.cause?.message ?? e.message;
    }
  }
  return new Promise((resolve) => {
    const s = connect({ host: spec.host!, port: spec.port! });
    const t = setTimeout(() => (s.destroy(), resolve('timed out')), timeoutMs);
    s.once('connect', () => (clearTimeout(t), s.destroy(), resolve(undefined)));
    s.once('error', (e) => (clearTimeout(t), resolve(e.message)));
  });
}

/**
 * Runs one probe per distinct health check, however many record sets share it, and stops it
 * when the last one lets go. A new probe counts as healthy until its checks say otherwise.
 */
export class HealthMonitor {
  private probes = new Map<string, Probe>();

  acquire(spec: HealthCheckSpec): HealthState {
    const key = JSON.stringify(spec);
    let p = this.probes.get(key);
    if (!p) {
      p = new Probe(spec);
      this.probes.set(key, p);
      p.start();
    }
    p.users++;
    return p.state;
  }

  release(spec: HealthCheckSpec): void {
    const key = JSON.stringify(spec);
    const p = this.probes.get(key);
    if (p && --p.users <= 0) {
      p.stop();
      this.probes.delete(key);
    }
  }

  stopAll(): void {
    for (const p of this.probes.values()) p.stop();
    this.probes.clear();
  }
}
