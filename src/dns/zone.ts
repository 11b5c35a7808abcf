import { isIP } from 'node:net';
import { HealthMonitor, validateHealthCheck, type HealthCheckSpec, type HealthState } from './health.js';

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT';

/** A group of answers with an optional health check: one side of a failover, one weighted entry. */
export interface Endpoint {
  targets: string[];
  healthCheck?: HealthCheckSpec;
  weight?: number;
}

/**
 * What a Record asks the DNS server to answer for one name and type:
 * `targets` (simple), `failover` (the primary while it passes its checks, else the secondary),
 * or `weighted` (one healthy entry per query, chosen in proportion to its weight).
 */
export interface RecordSetSpec {
  name: string;
  type: RecordType;
  ttl?: number;
  targets?: string[];
  failover?: { primary: Endpoint; secondary: Endpoint };
  weighted?: Endpoint[];
}

interface ServedSet {
  owner: string;
  spec: RecordSetSpec;
  health: Map<Endpoint, HealthState>;
}

/** Lower-case, no trailing dot: the one form names are compared in. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Checks a record set before it is served, naming the field at fault. */
export function validateRecordSet(s: RecordSetSpec, at = 'spec.forProvider'): void {
  if (!s.name || !/^[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(s.name)) throw new Error(`${at}.name "${s.name ?? ''}" is not a DNS name`);
  if (!['A', 'AAAA', 'CNAME', 'TXT'].includes(s.type)) throw new Error(`${at}.type must be A, AAAA, CNAME or TXT`);
  const modes = [s.targets, s.failover, s.weighted].filter((x) => x !== undefined).length;
  if (modes !== 1) throw new Error(`${at}: set exactly one of targets, failover or weighted`);
  const endpoints: [Endpoint, string][] = s.targets
    ? [[{ targets: s.targets }, `${at}.targets`]]
    : s.failover
      ? [[s.failover.primary, `${at}.failover.primary`], [s.failover.secondary, `${at}.failover.secondary`]]
      : s.weighted!.map((e, i) => [e, `${at}.weighted[${i}]`] as [Endpoint, string]);
  for (const [e, field] of endpoints) {
    if (!e?.targets?.length) throw new Error(`${field}${s.targets ? '' : '.targets'} must list at least one target`);
    for (const t of e.targets) {
      if (s.type === 'A' && isIP(t) !== 4) throw new Error(`${field}: "${t}" is not an IPv4 address`);
      if (s.type === 'AAAA' && isIP(t) !== 6) throw new Error(`${field}: "${t}" is not an IPv6 address`);
    }
    if (s.type === 'CNAME' && e.targets.length > 1) throw new Error(`${field}: a CNAME has exactly one target`);
    if (e.healthCheck) validateHealthCheck(e.healthCheck, `${field}.healthCheck`);
    if (s.weighted && !(Number(e.weight) >= 0)) throw new Error(`${field}.weight must be a number ≥ 0`);
  }
}

/**
 * The records the built-in DNS server is authoritative for, keyed by name and type, each
 * owned by the managed resource that put it there. Health checks run while a set is served.
 */
export class Zone {
  private sets = new Map<string, ServedSet>();
  readonly monitor = new HealthMonitor();

  private key(name: string, type: string): string {
    return `${canonicalName(name)}/${type}`;
  }

  /** Serves `spec` for `owner`; fails if another owner serves the same name and type. */
  upsert(owner: string, spec: RecordSetSpec): void {
    validateRecordSet(spec);
    const key = this.key(spec.name, spec.type);
    const prev = this.sets.get(key);
    if (prev && prev.owner !== owner) throw new Error(`${spec.type} ${canonicalName(spec.name)} is already served by ${prev.owner}`);
    const served: ServedSet = { owner, spec: structuredClone(spec), health: new Map() };
    // Acquire before releasing the previous set, so a probe both share keeps its history.
    for (const e of endpoints(served.spec)) if (e.healthCheck) served.health.set(e, this.monitor.acquire(e.healthCheck));
    if (prev) this.release(prev);
    this.sets.set(key, served);
  }

  /** The set `owner` serves for name and type, if any. */
  get(owner: string, name: string, type: string): RecordSetSpec | undefined {
    const s = this.sets.get(this.key(name, type));
    return s && s.owner === owner ? s.spec : undefined;
  }

  remove(owner: string, name: string, type: string): void {
    const key = this.key(name, type);
    const s = this.sets.get(key);
    if (s && s.owner === owner) {
      this.release(s);
      this.sets.delete(key);
    }
  }

  /** Whether any record exists for the name (to tell NXDOMAIN from an empty answer). */
  hasName(name: string): boolean {
    const n = canonicalName(name);
    for (const s of this.sets.values()) if (canonicalName(s.spec.name) === n) return true;
    return false;
  }

  /** The answers for a query now: the targets of the endpoint routing picks, and the TTL. */
  resolve(name: string, type: string): { targets: string[]; ttl: number; type: RecordType } | undefined {
    const s = this.sets.get(this.key(name, type)) ?? (type !== 'CNAME' ? this.sets.get(this.key(name, 'CNAME')) : undefined);
    if (!s) return undefined;
    return { targets: this.pick(s), ttl: s.spec.ttl ?? 60, type: s.spec.type };
  }

  /** Health of each endpoint of a served set, for status.atProvider. */
  health(owner: string, name: string, type: string): { targets: string[]; healthy: boolean; lastError?: string }[] {
    const s = this.sets.get(this.key(name, type));
    if (!s || s.owner !== owner) return [];
    return endpoints(s.spec).map((e) => {
      const h = s.health.get(e);
      return { targets: e.targets, healthy: h?.healthy ?? true, ...(h?.lastError ? { lastError: h.lastError } : {}) };
    });
  }

  /** The targets answered right now, for status.atProvider. */
  active(owner: string, name: string, type: string): string[] {
    const s = this.sets.get(this.key(name, type));
    return s && s.owner === owner ? this.pick(s) : [];
  }

  close(): void {
    this.monitor.stopAll();
    this.sets.clear();
  }

  private pick(s: ServedSet): string[] {
    const healthy = (e: Endpoint) => s.health.get(e)?.healthy ?? true;
    if (s.spec.targets) return s.spec.targets;
    if (s.spec.failover) {
      const { primary, secondary } = s.spec.failover;
      // Both down: answer the primary rather than nothing (fail open, as DNS failover services do).
      return healthy(primary) || !healthy(secondary) ? primary.targets : secondary.targets;
    }
    const live = s.spec.weighted!.filter(healthy);
    const pool = live.length ? live : s.spec.weighted!;
    const total = pool.reduce((n, e) => n + (e.weight ?? 1), 0);
    let r = Math.random() * total;
    for (const e of pool) if ((r -= e.weight ?? 1) < 0) return e.targets;
    return pool[pool.length - 1]!.targets;
  }

  private release(s: ServedSet): void {
    for (const e of endpoints(s.spec)) if (e.healthCheck) this.monitor.release(e.healthCheck);
  }
}

function endpoints(s: RecordSetSpec): Endpoint[] {
  if (s.targets) return [{ targets: s.targets }];
  if (s.failover) return [s.failover.primary, s.failover.secondary];
  return s.weighted ?? [];
}
