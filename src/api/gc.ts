import type { Logger } from 'pino';
import { WorkQueue } from '../runtime/workqueue.js';
import { SYSTEM } from './admission.js';
import { ApiError } from './errors.js';
import type { ResourceService, Target } from './service.js';
import type { StoreEvent } from './store/store.js';
import type { ObjectKey, Resource } from './types.js';

/**
 * The garbage collector: owner references as Kubernetes defines them. Its work items are owner
 * uids. For an owner that is gone, dependents with no other live owner are deleted (in the
 * background) and the others lose the dangling reference. For an owner being deleted with the
 * `orphan` finalizer, dependents lose the reference; with `foregroundDeletion`, dependents are
 * deleted first and the finalizer goes when none remain. Everything it needs is in the store,
 * so a restart picks up where a crash left off (see `resync`).
 */
export class GarbageCollector {
  private queue = new WorkQueue<string>({ baseDelayMs: 200, maxDelayMs: 30_000, qps: 500, burst: 1000 });
  private stopWatch?: () => void;
  private sweepTimer?: NodeJS.Timeout;
  private running: Promise<void>[] = [];
  /**
   * Owners last read alive and not being deleted, until an event says otherwise: a new
   * dependent of one (each composed resource, each secret) then costs no read of its owner.
   * Safe because an owner's deletion always queues its uid again.
   */
  private alive = new Set<string>();
  /** Deletions seen so far: an owner read alive is remembered only if none came during the read. */
  private deletions = 0;

  constructor(
    private readonly service: ResourceService,
    private readonly log: Logger,
    private readonly sweepEveryMs = 30_000,
  ) {}

  async start(workers = 2): Promise<void> {
    this.stopWatch = this.service.store.watch({}, (e) => this.observe(e));
    await this.resync();
    this.sweepTimer = setInterval(() => void this.resync().catch((err) => this.log.warn({ err }, 'garbage collector sweep failed')), this.sweepEveryMs);
    this.sweepTimer.unref();
    for (let i = 0; i < workers; i++) this.running.push(this.work());
  }

  async stop(): Promise<void> {
    this.stopWatch?.();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.queue.shutdown();
    await Promise.all(this.running);
  }

  /** Keys still to process: lets tests and benchmarks wait for the collector to settle. */
  pending(): number {
    return this.queue.pending();
  }

  /** Finds work that a crash may have left: dependents of owners that no longer exist. */
  async resync(): Promise<void> {
    for (const uid of await this.service.store.missingOwners()) this.queue.add(uid);
  }

  private observe(e: StoreEvent): void {
    const o = e.object;
    if (e.type === 'DELETED' || o.metadata.deletionTimestamp) {
      this.alive.delete(o.metadata.uid!);
      this.deletions++;
    }
    // a new object is alive until an event says otherwise: its dependents, created a moment
    // later, then cost no read of it (every claim's XR, managed resources and secrets)
    else if (e.type === 'ADDED') this.remember(o.metadata.uid!);
    if (e.type === 'DELETED') {
      this.queue.add(o.metadata.uid!);
      for (const ref of o.metadata.ownerReferences ?? []) this.queue.add(ref.uid);
      return;
    }
    const fin = o.metadata.finalizers;
    if (o.metadata.deletionTimestamp && fin && (fin.includes('orphan') || fin.includes('foregroundDeletion'))) this.queue.add(o.metadata.uid!);
    if (e.type === 'ADDED') for (const ref of o.metadata.ownerReferences ?? []) this.queue.add(ref.uid);
  }

  private async work(): Promise<void> {
    for (;;) {
      const uid = await this.queue.get();
      if (uid === undefined) return;
      try {
        await this.process(uid);
        this.queue.forget(uid);
      } catch (err) {
        this.log.warn({ err, ownerUid: uid }, 'garbage collection failed; will retry');
        this.queue.addRateLimited(uid);
      } finally {
        this.queue.done(uid);
      }
    }
  }

  private target(key: ObjectKey): Target | undefined {
    const type = this.service.registry.byGroupResource(key.group, key.resource);
    if (!type) return undefined;
    return { type, version: type.versions.find((v) => v.storage)!.name, namespace: key.namespace };
  }

  private async process(uid: string): Promise<void> {
    if (this.alive.has(uid)) return;
    const store = this.service.store;
    const deletions = this.deletions;
    const owner = await store.findByUid(uid);
    // a live owner that is not being deleted needs nothing: skip reading its dependents, which
    // for an owner of thousands of objects would make every dependent's creation O(n)
    if (owner && !owner.object.metadata.deletionTimestamp) {
      // a deletion that committed while the store was read may be this owner's (its uid is queued again)
      if (deletions === this.deletions) this.remember(uid);
      return;
    }
    const dependents = await store.dependents(uid);
    if (!owner) {
      for (const key of dependents) await this.releaseOrDelete(key, uid);
      return;
    }
    const meta = owner.object.metadata;
    const fin = meta.finalizers ?? [];
    if (fin.includes('orphan')) {
      for (const key of dependents) await this.removeRef(key, uid);
      await this.removeFinalizer(owner.key, 'orphan');
    } else if (fin.includes('foregroundDeletion')) {
      if (!dependents.length) {
        await this.removeFinalizer(owner.key, 'foregroundDeletion');
        return;
      }
      for (const key of dependents) {
        const t = this.target(key);
        const dep = await store.get(key);
        if (!t || !dep || dep.metadata.deletionTimestamp) continue;
        await this.ignoreGone(this.service.delete(t, key.name, { user: SYSTEM }, { propagationPolicy: 'Foreground' }));
      }
    }
  }

  private remember(uid: string): void {
    if (this.alive.size >= 100_000) this.alive.clear();
    this.alive.add(uid);
  }

  /** A dependent of a vanished owner: deleted if no other owner is alive, else just unlinked. */
  private async releaseOrDelete(key: ObjectKey, goneUid: string): Promise<void> {
    const dep = await this.service.store.get(key);
    const t = this.target(key);
    if (!dep || !t) return;
    const others = (dep.metadata.ownerReferences ?? []).filter((r) => r.uid !== goneUid);
    let alive = false;
    for (const r of others) if (await this.service.store.findByUid(r.uid)) alive = true;
    if (alive) return this.removeRef(key, goneUid);
    if (dep.metadata.deletionTimestamp) return;
    this.log.debug({ object: `${key.resource}/${key.namespace}/${key.name}` }, 'deleting dependent of a deleted owner');
    await this.ignoreGone(this.service.delete(t, key.name, { user: SYSTEM }, { propagationPolicy: 'Background' }));
  }

  private async removeRef(key: ObjectKey, uid: string): Promise<void> {
    await this.mutate(key, (o) => {
      const refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      if (refs.length === (o.metadata.ownerReferences ?? []).length) return false;
      if (refs.length) o.metadata.ownerReferences = refs;
      else delete o.metadata.ownerReferences;
      return true;
    });
  }

  private async removeFinalizer(key: ObjectKey, finalizer: string): Promise<void> {
    await this.mutate(key, (o) => {
      const fin = o.metadata.finalizers ?? [];
      if (!fin.includes(finalizer)) return false;
      o.metadata.finalizers = fin.filter((f) => f !== finalizer);
      return true;
    });
  }

  private async mutate(key: ObjectKey, change: (o: Resource) => boolean): Promise<void> {
    const t = this.target(key);
    if (!t) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const o = await this.service.store.get(key);
      if (!o || !change(o)) return;
      try {
        await this.service.update(t, o, { user: SYSTEM });
        return;
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return;
        if (!(e instanceof ApiError && e.reason === 'Conflict')) throw e;
      }
    }
    throw new Error(`gave up updating ${key.resource}/${key.namespace}/${key.name} after repeated conflicts`);
  }

  private async ignoreGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
}
