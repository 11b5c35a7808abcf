import type { Client, TypeInfo } from '../api/client.js';
import type { Resource } from '../api/types.js';
import type { Informer, InformerFactory } from '../runtime/informer.js';

export const TRACKING_ID = 'argocd.argoproj.io/tracking-id';
const INDEX = 'argocd.app-instance';

/** `<app>:<group>/<kind>:<namespace>/<name>`: Argo CD's annotation tracking. */
export function trackingId(appInstance: string, obj: Resource): string {
  const av = obj.apiVersion;
  const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
  return `${appInstance}:${group}/${obj.kind}:${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function instanceOf(obj: Resource): string | undefined {
  const id = obj.metadata.annotations?.[TRACKING_ID];
  if (!id) return undefined;
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(0, colon);
}

/**
 * The live side of the comparison for the destination `https://kubernetes.default.svc` (Pave
 * itself): shared informers per kind, indexed by the Application instance in the tracking
 * annotation. A change to any tracked object calls `onTrackedChange` with its instance, which is
 * how self-heal and health changes reach the Application within milliseconds.
 */
export class LocalLiveState {
  private watched = new Map<string, Informer>();
  private types = new Map<string, TypeInfo>();
  private refreshing?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly informers: InformerFactory,
    private readonly onTrackedChange: (instance: string) => void,
  ) {}

  /** The served type of an apiVersion+kind; a miss refreshes the list of served types. */
  async typeOf(apiVersion: string, kind: string): Promise<TypeInfo | undefined> {
    const k = `${apiVersion}/${kind}`;
    const t = this.types.get(k);
    if (t) return t;
    // a miss may be a CRD applied a moment ago (an earlier wave of the same sync): look again
    this.refreshing ??= this.client.types().then((list) => {
      this.types.clear();
      for (const ti of list) this.types.set(`${ti.group ? `${ti.group}/` : ''}${ti.version}/${ti.kind}`, ti);
    }).finally(() => (this.refreshing = undefined));
    await this.refreshing;
    return this.types.get(k);
  }

  /** Starts watching a kind (once) and waits for its cache; undefined if the type is not served. */
  async informer(apiVersion: string, kind: string): Promise<Informer | undefined> {
    const k = `${apiVersion}/${kind}`;
    let inf = this.watched.get(k);
    if (!inf) {
      if (!(await this.typeOf(apiVersion, kind))) return undefined;
      inf = this.informers.get(apiVersion, kind);
      inf.addIndexer(INDEX, (o) => {
        const i = instanceOf(o);
        return i ? [i] : [];
      });
      const notify = (o: Resource) => {
        const i = instanceOf(o);
        if (i) this.onTrackedChange(i);
      };
      inf.addHandler({ onAdd: notify, onUpdate: (_o, n) => notify(n), onDelete: notify });
      this.watched.set(k, inf);
    }
    await inf.waitForSync();
    return inf;
  }

  async get(obj: Resource): Promise<Resource | undefined> {
    const inf = await this.informer(obj.apiVersion, obj.kind);
    if (!inf) return undefined;
    return inf.get(obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!);
  }

  /** Synchronous cache read, for kinds already watched. */
  cached(obj: Resource): Resource | undefined {
    const inf = this.watched.get(`${obj.apiVersion}/${obj.kind}`);
    return inf?.get(obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!);
  }

  /** Every watched object that carries `instance` in its tracking annotation. */
  tracked(instance: string): Resource[] {
    const out: Resource[] = [];
    for (const inf of this.watched.values()) out.push(...inf.byIndex(INDEX, instance));
    return out;
  }
}
