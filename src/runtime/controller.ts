import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import { jsonEqual } from '../api/equality.js';
import { ApiError } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { EventRecorder } from './events.js';
import { cacheKey, type Informer, type InformerFactory } from './informer.js';
import { WorkQueue, type WorkQueueOptions } from './workqueue.js';

export interface GVK {
  apiVersion: string;
  kind: string;
}

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (a poll), even if nothing changes. */
  requeueAfter?: number;
}

/** What a reconciler is given: the shared caches and clients of its manager. */
export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  recorder: EventRecorder;
  log: Logger;
}

/**
 * A controller, declared the way controller-runtime declares one: the type it reconciles
 * (`for`), the types it owns (changes map to the controller owner), and other watches with a
 * mapping function. `reconcile` must be idempotent and depend only on what it reads: it may
 * be called any number of times for a key, including after a crash at any line.
 * Throwing retries the key with backoff; returning requeueAfter schedules a poll.
 */
export interface ControllerSpec {
  name: string;
  for: GVK;
  owns?: GVK[];
  /**
   * Other types whose changes map to keys of this controller. `changed`, when given, filters
   * updates (as a controller-runtime predicate does): an update it calls unchanged queues nothing.
   */
  watches?: (GVK & { map: (obj: Resource) => string[]; changed?: (oldObj: Resource, newObj: Resource) => boolean })[];
  workers?: number;
  queue?: WorkQueueOptions;
  /** Skip update events that change neither generation, labels, annotations nor deletion (status-only writes). */
  generationChangedOnly?: boolean;
  reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | void>;
}

export class Controller {
  readonly queue: WorkQueue<string>;
  private workers: Promise<void>[] = [];
  readonly informer: Informer;
  private inflight = 0;
  reconciles = 0;
  errors = 0;

  constructor(
    readonly spec: ControllerSpec,
    private readonly ctx: ControllerContext,
  ) {
    this.queue = new WorkQueue<string>(spec.queue);
    this.informer = ctx.informers.get(spec.for.apiVersion, spec.for.kind);
    const enqueue = (o: Resource) => this.queue.add(cacheKey(o));
    this.informer.addHandler({
      onAdd: enqueue,
      onUpdate: (old, o) => {
        if (spec.generationChangedOnly && !meaningfulChange(old, o)) return;
        enqueue(o);
      },
      onDelete: enqueue,
    });
    for (const owned of spec.owns ?? []) {
      const inf = ctx.informers.get(owned.apiVersion, owned.kind);
      const toOwner = (o: Resource) => {
        const ref = o.metadata.ownerReferences?.find((r) => r.controller && r.kind === spec.for.kind && r.apiVersion.split('/')[0] === spec.for.apiVersion.split('/')[0]);
        if (ref) this.queue.add(o.metadata.namespace && this.ownerNamespaced ? `${o.metadata.namespace}/${ref.name}` : ref.name);
      };
      inf.addHandler({ onAdd: toOwner, onUpdate: (_o, n) => toOwner(n), onDelete: toOwner });
    }
    for (const w of spec.watches ?? []) {
      const inf = ctx.informers.get(w.apiVersion, w.kind);
      const map = (o: Resource) => {
        for (const k of w.map(o)) this.queue.add(k);
      };
      const changed = w.changed;
      inf.addHandler({ onAdd: map, onUpdate: (o, n) => (!changed || changed(o, n)) && map(n), onDelete: map });
    }
  }

  /** Owned objects map to `namespace/owner` only when the owner's type is namespaced. */
  private ownerNamespaced = true;

  async start(): Promise<void> {
    const types = await this.ctx.client.types();
    const [group, version] = this.spec.for.apiVersion.includes('/') ? this.spec.for.apiVersion.split('/') : ['', this.spec.for.apiVersion];
    const t = types.find((x) => x.group === group && x.version === version && x.kind === this.spec.for.kind);
    if (t) this.ownerNamespaced = t.namespaced;
    const n = this.spec.workers ?? 4;
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.queue.shutdown();
    await Promise.all(this.workers);
  }

  /** True when nothing is queued or running: for tests and benchmarks that wait for quiet. */
  idle(): boolean {
    return this.inflight === 0 && this.queue.len() === 0;
  }

  private async work(): Promise<void> {
    const log = this.ctx.log;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.inflight++;
      try {
        const res = await this.spec.reconcile(key, this.ctx);
        this.reconciles++;
        this.queue.forget(key);
        if (res?.requeueAfter !== undefined) this.queue.addAfter(key, res.requeueAfter);
      } catch (err) {
        this.errors++;
        this.reconciles++;
        const conflict = err instanceof ApiError && err.code === 409;
        if (!conflict) log.warn({ err: errorSummary(err), controller: this.spec.name, key }, 'reconcile failed; retrying with backoff');
        this.queue.addRateLimited(key);
      } finally {
        this.inflight--;
        this.queue.done(key);
      }
    }
  }
}

function meaningfulChange(a: Resource, b: Resource): boolean {
  const x = a.metadata;
  const y = b.metadata;
  return (
    x.generation !== y.generation ||
    x.deletionTimestamp !== y.deletionTimestamp ||
    !jsonEqual(x.labels, y.labels) ||
    !jsonEqual(x.annotations, y.annotations) ||
    !jsonEqual(x.finalizers, y.finalizers)
  );
}

function errorSummary(err: unknown): unknown {
  return err instanceof ApiError ? { code: err.code, reason: err.reason, message: err.message } : err;
}
