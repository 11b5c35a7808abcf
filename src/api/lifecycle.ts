import type { Logger } from 'pino';
import { WorkQueue } from '../runtime/workqueue.js';
import { SYSTEM } from './admission.js';
import { ApiError } from './errors.js';
import { typeFromCrd } from './registry.js';
import type { ResourceService, Target } from './service.js';
import type { Resource } from './types.js';
import { jsonClone } from './clone.js';

const NS_FINALIZER = 'kubernetes';
const CRD_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/**
 * Finishes deletions that must first remove what lives inside the object: a Namespace's
 * objects, a CustomResourceDefinition's custom resources. The finalizer is removed only when
 * nothing is left, so a crash midway resumes on the next start.
 */
export class ContentCleanup {
  private queue = new WorkQueue<string>({ baseDelayMs: 250, maxDelayMs: 10_000 });
  private stops: (() => void)[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly service: ResourceService,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const s = this.service.store;
    for (const [group, resource] of [['', 'namespaces'], ['apiextensions.k8s.io', 'customresourcedefinitions']] as const) {
      const list = await s.list(group, resource);
      for (const o of list.items) if (o.metadata.deletionTimestamp) this.queue.add(`${resource}/${o.metadata.name}`);
      this.stops.push(
        s.watch({ fromRevision: list.revision, group, resource }, (e) => {
          if (e.type !== 'DELETED' && e.object.metadata.deletionTimestamp) this.queue.add(`${resource}/${e.object.metadata.name}`);
        }),
      );
    }
    this.running = this.work();
  }

  async stop(): Promise<void> {
    for (const s of this.stops) s();
    this.queue.shutdown();
    await this.running;
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const more = await this.process(key);
        if (more) this.queue.addAfter(key, 200);
        else this.queue.forget(key);
      } catch (err) {
        this.log.warn({ err, object: key }, 'cleanup failed; will retry');
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Returns true while content remains (deletions were issued and must be awaited). */
  private async process(key: string): Promise<boolean> {
    const [resource, name] = key.split('/') as [string, string];
    const isNs = resource === 'namespaces';
    const owner = this.service.target(isNs ? 'v1' : 'apiextensions.k8s.io/v1', isNs ? 'Namespace' : 'CustomResourceDefinition');
    const obj = await this.service.store.get({ group: owner.type.group, resource, namespace: '', name });
    if (!obj?.metadata.deletionTimestamp) return false;
    const finalizer = isNs ? NS_FINALIZER : CRD_FINALIZER;
    const targets: Target[] = [];
    if (isNs) {
      for (const type of this.service.namespacedTypes()) targets.push({ type, version: type.versions.find((v) => v.storage)!.name, namespace: name });
    } else {
      const t = typeFromCrd(obj);
      const type = this.service.registry.byGroupResource(t.group, t.plural);
      if (type) targets.push({ type, version: type.versions.find((v) => v.storage)!.name, namespace: '' });
    }
    let remaining = 0;
    for (const t of targets) {
      const list = await this.service.list(t, {});
      for (const item of list.items) {
        remaining++;
        if (item.metadata.deletionTimestamp) continue;
        await this.service.delete({ ...t, namespace: item.metadata.namespace ?? '' }, item.metadata.name!, { user: SYSTEM }).catch(ignoreNotFound);
      }
    }
    if (remaining > 0) return true;
    if ((obj.metadata.finalizers ?? []).includes(finalizer)) {
      const next: Resource = jsonClone(obj);
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      await this.service.update(owner, next, { user: SYSTEM }).catch(ignoreNotFound);
    }
    return false;
  }
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof ApiError && e.code === 404)) throw e;
}
