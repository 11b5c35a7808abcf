import type { Logger } from 'pino';
import type { Client } from '../../api/client.js';
import { isApiError } from '../../api/errors.js';
import type { ResourceType, TypeRegistry } from '../../api/registry.js';
import type { Resource } from '../../api/types.js';
import type { InformerFactory } from '../../runtime/informer.js';
import { WorkQueue } from '../../runtime/workqueue.js';
import { canonicalJson } from './canonical.js';
import type { CatalogIndex } from './catalog-index.js';
import { DEFAULT_NAMESPACE, entityRef, INTERNAL_PREFIX, resourceNameFor, type Entity } from './entity.js';
import { catalogKind, entityToResource, storageApiVersion } from './kinds.js';
import { templatesForXrd } from './xrd-templates.js';

const XRD = { apiVersion: 'apiextensions.crossplane.io/v1', kind: 'CompositeResourceDefinition' };
const COMPOSITION = { apiVersion: 'apiextensions.crossplane.io/v1', kind: 'Composition' };
const APPLICATION = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' };
export const INGESTOR = 'ingestor:controlplane';

type Source = 'xrd' | 'claim' | 'xr' | 'app';

/** The owner a claim names: pave.dev/owner, else TeraSky's annotation. */
function ownerOf(o: Resource): string | undefined {
  const a = o.metadata.annotations ?? {};
  return a['pave.dev/owner'] ?? a['terasky.backstage.io/owner'];
}

/** The Argo CD Application that manages an object, from its tracking id (`app:group/kind:ns/name`). */
function trackingApp(o: Resource): string | undefined {
  const id = o.metadata.annotations?.['argocd.argoproj.io/tracking-id'];
  return id ? id.split(':')[0] : o.metadata.labels?.['app.kubernetes.io/instance'];
}

/**
 * Makes the control plane visible in the catalog: every claim becomes a Component (owner from
 * its annotations, a label selector for its Kubernetes objects), every composite a Resource
 * that the claim depends on, every Argo CD Application a Component (unless a catalog entity
 * already names it with argocd/app-name) that depends on the claims it deploys, and every XRD
 * a set of Templates. Entities are owned by their source object, so deleting the source
 * removes them. Types appear as XRDs are applied; the ingestor follows them.
 */
export class ControlPlaneIngestor {
  private queue = new WorkQueue<string>();
  private watched = new Set<string>();
  private kinds = new Map<string, Source>();
  private unlisten?: () => void;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly client: Client,
    private readonly registry: TypeRegistry,
    private readonly informers: InformerFactory,
    private readonly index: CatalogIndex,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unlisten = this.registry.onChange((t, change) => change === 'added' && this.typeAdded(t));
    for (const t of this.registry.all()) this.typeAdded(t);
    for (let i = 0; i < 2; i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.unlisten?.();
    this.queue.shutdown();
    await Promise.all(this.workers);
  }

  idle(): boolean {
    return this.queue.len() === 0;
  }

  private typeAdded(t: ResourceType): void {
    const v = t.versions.find((x) => x.storage) ?? t.versions[0]!;
    const apiVersion = t.group ? `${t.group}/${v.name}` : v.name;
    if (apiVersion === XRD.apiVersion && t.kind === XRD.kind) this.watch(apiVersion, t.kind, 'xrd');
    else if (apiVersion === APPLICATION.apiVersion && t.kind === APPLICATION.kind) this.watch(apiVersion, t.kind, 'app');
    else if (apiVersion === COMPOSITION.apiVersion && t.kind === COMPOSITION.kind) this.watch(apiVersion, t.kind, undefined);
    else {
      const source = this.kinds.get(`${t.group}/${t.kind}`);
      if (source) this.watch(apiVersion, t.kind, source);
    }
  }

  private watch(apiVersion: string, kind: string, source: Source | undefined): void {
    const id = `${apiVersion}/${kind}`;
    if (this.watched.has(id)) return;
    this.watched.add(id);
    const inf = this.informers.get(apiVersion, kind);
    const enqueue = (o: Resource) => {
      if (source) this.queue.add(`${source}|${apiVersion}|${kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`);
      // a new composition changes the templates' composition choice
      else for (const x of this.informers.get(XRD.apiVersion, XRD.kind).list()) this.queue.add(`xrd|${XRD.apiVersion}|${XRD.kind}||${x.metadata.name}`);
    };
    inf.addHandler({ onAdd: enqueue, onUpdate: (_a, b) => enqueue(b), onDelete: enqueue });
    inf.start();
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcile(key);
        this.queue.forget(key);
      } catch (err) {
        if (!isApiError(err, 409)) this.log.warn({ err, key }, 'control-plane ingestion failed; retrying');
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcile(key: string): Promise<void> {
    const [source, apiVersion, kind, ns, name] = key.split('|') as [Source, string, string, string, string];
    const obj = this.informers.get(apiVersion, kind).get(ns ? `${ns}/${name}` : name);
    if (!obj || obj.metadata.deletionTimestamp) return; // entities are owned by the object: GC removes them
    if (source === 'xrd') return this.xrd(obj);
    const entity = source === 'claim' ? this.claimEntity(obj) : source === 'xr' ? this.xrEntity(obj) : this.appEntity(obj);
    if (entity) await this.write(entity, obj);
  }

  private async xrd(xrd: Resource): Promise<void> {
    const spec = xrd.spec ?? {};
    const served = (spec.versions ?? []).filter((v: { served?: boolean }) => v.served !== false).map((v: { name: string }) => v.name);
    this.kinds.set(`${spec.group}/${spec.names?.kind}`, 'xr');
    if (spec.claimNames?.kind) this.kinds.set(`${spec.group}/${spec.claimNames.kind}`, 'claim');
    for (const v of served) {
      if (this.registry.lookup(`${spec.group}/${v}`, spec.names?.kind)) this.watch(`${spec.group}/${v}`, spec.names.kind, 'xr');
      if (spec.claimNames?.kind && this.registry.lookup(`${spec.group}/${v}`, spec.claimNames.kind)) this.watch(`${spec.group}/${v}`, spec.claimNames.kind, 'claim');
    }
    const compositions = this.registry.lookup(COMPOSITION.apiVersion, COMPOSITION.kind)
      ? this.informers.get(COMPOSITION.apiVersion, COMPOSITION.kind).list().filter((c) => c.spec?.compositeTypeRef?.kind === spec.names?.kind && String(c.spec?.compositeTypeRef?.apiVersion ?? '').startsWith(`${spec.group}/`)).map((c) => c.metadata.name!).sort()
      : [];
    for (const t of templatesForXrd(xrd, compositions)) await this.write(t, xrd);
  }

  private base(o: Resource, kind: string, namespace: string, spec: Record<string, unknown>, extra: Record<string, string>): Entity {
    const a = o.metadata.annotations ?? {};
    const annotations: Record<string, string> = { ...extra };
    if (a['pave.dev/trace-id']) annotations['pave.dev/trace-id'] = a['pave.dev/trace-id'];
    return { apiVersion: 'backstage.io/v1alpha1', kind, metadata: { name: o.metadata.name!, namespace, annotations, tags: ['crossplane'] }, spec };
  }

  private claimEntity(c: Resource): Entity {
    const ns = c.metadata.namespace ?? DEFAULT_NAMESPACE;
    const dependencyOf: string[] = [];
    const app = trackingApp(c);
    if (app) dependencyOf.push(this.appRef(app));
    const component = c.metadata.annotations?.['pave.dev/component'];
    if (component) dependencyOf.push(component);
    const xr = c.spec?.resourceRef;
    return this.base(c, 'Component', ns, {
      type: 'crossplane-claim',
      lifecycle: 'production',
      owner: ownerOf(c) ?? 'unknown',
      ...(dependencyOf.length ? { dependencyOf } : {}),
      ...(xr?.name ? { dependsOn: [`resource:${DEFAULT_NAMESPACE}/${xr.name}`] } : {}),
    }, {
      'backstage.io/kubernetes-label-selector': `crossplane.io/claim-name=${c.metadata.name},crossplane.io/claim-namespace=${ns}`,
      'pave.dev/claim': `${c.apiVersion}/${c.kind}/${ns}/${c.metadata.name}`,
      ...(app ? { 'argocd/app-name': app } : {}),
    });
  }

  private xrEntity(x: Resource): Entity {
    return this.base(x, 'Resource', DEFAULT_NAMESPACE, { type: 'crossplane-xr', owner: ownerOf(x) ?? x.metadata.labels?.['crossplane.io/claim-namespace'] ?? 'unknown' }, {
      'backstage.io/kubernetes-label-selector': `crossplane.io/composite=${x.metadata.name}`,
      'pave.dev/composite': `${x.apiVersion}/${x.kind}/${x.metadata.name}`,
    });
  }

  /** The catalog entity that stands for an Application: one that names it, else the generated one. */
  private appRef(app: string): string {
    for (const rec of this.index.all()) if (rec.entity.metadata.annotations?.['argocd/app-name'] === app && rec.entity.spec?.type !== 'crossplane-claim' && rec.emittedBy !== INGESTOR) return rec.ref;
    return `component:${DEFAULT_NAMESPACE}/${app}`;
  }

  private appEntity(a: Resource): Entity | undefined {
    const named = this.appRef(a.metadata.name!);
    if (named !== `component:${DEFAULT_NAMESPACE}/${a.metadata.name}`) return undefined;
    return this.base(a, 'Component', DEFAULT_NAMESPACE, { type: 'argocd-application', lifecycle: 'production', owner: ownerOf(a) ?? a.spec?.project ?? 'unknown' }, { 'argocd/app-name': a.metadata.name! });
  }

  /** Stores an entity owned by its source unless a different producer already owns that name. */
  private async write(entity: Entity, source: Resource): Promise<void> {
    const k = catalogKind(entity.kind)!;
    const desired = entityToResource(entity)!;
    desired.metadata.annotations = { ...(desired.metadata.annotations ?? {}), [`${INTERNAL_PREFIX}emitted-by`]: INGESTOR };
    desired.metadata.ownerReferences = [{ apiVersion: source.apiVersion, kind: source.kind, name: source.metadata.name!, uid: source.metadata.uid!, blockOwnerDeletion: false }];
    const current = this.informers.get(storageApiVersion(k), k.kind).get(`${desired.metadata.namespace}/${resourceNameFor(entity.metadata.name)}`);
    if (current) {
      const by = current.metadata.annotations?.[`${INTERNAL_PREFIX}emitted-by`];
      if (by !== INGESTOR) {
        this.log.info({ entity: entityRef(entity), providedBy: by ?? 'the API' }, 'a catalog entity with this name exists; not replacing it');
        return;
      }
      const same = canonicalJson({ m: { ...current.metadata, uid: 0, resourceVersion: 0, generation: 0, creationTimestamp: 0, managedFields: 0 }, s: current.spec }) === canonicalJson({ m: { ...desired.metadata, uid: 0, resourceVersion: 0, generation: 0, creationTimestamp: 0, managedFields: 0 }, s: desired.spec });
      if (same) return;
      await this.client.update({ ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion } });
      return;
    }
    await this.client.create(desired);
  }
}
