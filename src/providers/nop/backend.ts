import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { deepFreeze } from '../../api/clone.js';

/**
 * TEST PROVIDER BACKEND. An imaginary external system for tests and benchmarks: it stores
 * named objects, can be slow (latency), flaky (failure rate) and can drift (fields changed out
 * of band). It counts create calls per external name, which is how tests prove that a crash
 * never creates an external resource twice. With a state file, every change is appended to it
 * synchronously, so the counts survive the process being killed.
 */
export interface NopBackendOptions {
  latencyMs?: number;
  /** Probability (0..1) that a create, update or delete fails before doing anything. */
  failureRate?: number;
  /** Append-only JSON-lines file holding the backend's state across processes. */
  statePath?: string;
}

interface Entry {
  op: 'create' | 'update' | 'delete' | 'drift';
  name: string;
  fields?: Record<string, unknown>;
}

export class NopBackend {
  private objects = new Map<string, Record<string, unknown>>();
  private creates = new Map<string, number>();
  latencyMs: number;
  failureRate: number;
  /** Every call that reached the backend (observe, observeMany, create, update, delete). */
  calls = 0;

  constructor(private readonly opts: NopBackendOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.failureRate = opts.failureRate ?? 0;
    if (opts.statePath && existsSync(opts.statePath)) {
      for (const line of readFileSync(opts.statePath, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          this.replay(JSON.parse(line) as Entry);
        } catch {
          // a line torn by a kill mid-write was never acknowledged, so it never happened
        }
      }
    }
  }

  private replay(e: Entry): void {
    if (e.op === 'create') this.creates.set(e.name, (this.creates.get(e.name) ?? 0) + 1);
    if (e.op === 'delete') this.objects.delete(e.name);
    // frozen: every read hands out this one copy, as a client library hands out its own decoded response
    else this.objects.set(e.name, deepFreeze(e.fields ?? {}));
  }

  private record(e: Entry): void {
    if (this.opts.statePath) appendFileSync(this.opts.statePath, JSON.stringify(e) + '\n');
    this.replay(e);
  }

  private async call(mayFail: boolean, what: string): Promise<void> {
    this.calls++;
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (mayFail && this.failureRate > 0 && Math.random() < this.failureRate) throw new Error(`nop backend: injected failure of ${what}`);
  }

  async get(name: string): Promise<Record<string, unknown> | undefined> {
    await this.call(false, 'get');
    return this.peek(name);
  }

  /** Many objects in one call, as a real backend's list or catalog query would return them. */
  async getMany(names: string[]): Promise<(Record<string, unknown> | undefined)[]> {
    await this.call(false, 'getMany');
    return names.map((n) => this.peek(n));
  }

  async create(name: string, fields: Record<string, unknown>): Promise<void> {
    await this.call(true, `create ${name}`);
    this.record({ op: 'create', name, fields: structuredClone(fields) });
  }

  async update(name: string, fields: Record<string, unknown>): Promise<void> {
    await this.call(true, `update ${name}`);
    this.record({ op: 'update', name, fields: structuredClone(fields) });
  }

  async delete(name: string): Promise<void> {
    await this.call(true, `delete ${name}`);
    if (this.objects.has(name)) this.record({ op: 'delete', name });
  }

  /** Changes an object behind the control plane's back, as a person with console access would. */
  drift(name: string, fields: Record<string, unknown>): void {
    if (!this.objects.has(name)) throw new Error(`nop backend: no object ${name} to drift`);
    this.record({ op: 'drift', name, fields: { ...this.objects.get(name), ...fields } });
  }

  /** Without a call: what the backend holds (for tests), frozen. */
  peek(name: string): Record<string, unknown> | undefined {
    return this.objects.get(name);
  }

  createCount(name: string): number {
    return this.creates.get(name) ?? 0;
  }

  /** External names created more than once: empty when the control plane is crash-safe. */
  duplicates(): string[] {
    return [...this.creates].filter(([, n]) => n > 1).map(([k]) => k);
  }

  size(): number {
    return this.objects.size;
  }
}
