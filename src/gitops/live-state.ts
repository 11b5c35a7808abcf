import type { Logger } from 'pino';
import type { Client, TypeInfo } from '../api/client.js';
import { HttpClient } from '../api/http-client.js';
import type { Resource } from '../api/types.js';
import { cacheKey, InformerFactory, type Informer } from '../runtime/informer.js';

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
 * The live side of one destination cluster, as the Application controller compares and syncs
 * against it. Reads come from watch-fed caches, so a comparison sends no requests; a change to
 * any object carrying a tracking annotation is reported with its app instance, which is how
 * self-heal and health changes reach the Application.
 */
export interface LiveState {
  /** The destination's API: what a sync applies and prunes goes through it. */
  readonly client: Client;
  /** The served type of an apiVersion+kind; a miss looks again (an earlier wave may have applied the CRD). */
  typeOf(apiVersion: string, kind: string): Promise<TypeInfo | undefined>;
  /**
   * Starts watching a kind (once) and resolves when its cache is filled; false when the
   * destination does not serve or does not manage the kind. Rejects when the cache cannot be
   * filled (the destination is unreachable or refuses the credentials).
   */
  watch(apiVersion: string, kind: string): Promise<boolean>;
  /** The live object with obj's identity, watching its kind first; undefined if there is none. */
  get(obj: Resource): Promise<Resource | undefined>;
  /** Synchronous cache read, for kinds already watched. */
  cached(obj: Resource): Resource | undefined;
  /** Every watched object that carries `instance` in its tracking annotation. */
  tracked(instance: string): Resource[];
  /** Why the destination does not let Pave manage obj (namespaced mode), or undefined. */
  unmanaged(obj: Resource): string | undefined;
}

/** Served types by apiVersion/kind, listed again on a miss; concurrent misses share one listing. */
class ServedTypes {
  private types = new Map<string, TypeInfo>();
  private refreshing?: Promise<void>;

  constructor(private readonly list: () => Promise<TypeInfo[]>) {}

  async get(apiVersion: string, kind: string): Promise<TypeInfo | undefined> {
    const k = `${apiVersion}/${kind}`;
    const t = this.types.get(k);
    if (t) return t;
    this.refreshing ??= this.list()
      .then((list) => {
        this.types.clear();
        for (const ti of list) this.types.set(`${ti.group ? `${ti.group}/` : ''}${ti.version}/${ti.kind}`, ti);
      })
      .finally(() => (this.refreshing = undefined));
    await this.refreshing;
    return this.types.get(k);
  }
}

/** Indexes an informer's objects by app instance and reports changes to tracked ones. */
function trackInstances(inf: Informer, onTrackedChange: (instance: string) => void): void {
  inf.addIndexer(INDEX, (o) => {
    const i = instanceOf(o);
    return i ? [i] : [];
  });
  const notify = (o: Resource) => {
    const i = instanceOf(o);
    if (i) onTrackedChange(i);
  };
  inf.addHandler({ onAdd: notify, onUpdate: (_o, n) => notify(n), onDelete: notify });
}

/**
 * The live side for the destination `https://kubernetes.default.svc` (Pave itself): the
 * manager's shared informers per kind, indexed by the Application instance in the tracking
 * annotation.
 */
export class LocalLiveState implements LiveState {
  private watched = new Map<string, Informer>();
  private types: ServedTypes;

  constructor(
    readonly client: Client,
    private readonly informers: InformerFactory,
    private readonly onTrackedChange: (instance: string) => void,
  ) {
    this.types = new ServedTypes(() => this.client.types());
  }

  typeOf(apiVersion: string, kind: string): Promise<TypeInfo | undefined> {
    return this.types.get(apiVersion, kind);
  }

  /** Starts watching a kind (once) and waits for its cache; undefined if the type is not served. */
  async informer(apiVersion: string, kind: string): Promise<Informer | undefined> {
    const k = `${apiVersion}/${kind}`;
    let inf = this.watched.get(k);
    if (!inf) {
      if (!(await this.typeOf(apiVersion, kind))) return undefined;
      inf = this.informers.get(apiVersion, kind);
      trackInstances(inf, this.onTrackedChange);
      this.watched.set(k, inf);
    }
    await inf.waitForSync();
    return inf;
  }

  async watch(apiVersion: string, kind: string): Promise<boolean> {
    return !!(await this.informer(apiVersion, kind));
  }

  async get(obj: Resource): Promise<Resource | undefined> {
    const inf = await this.informer(obj.apiVersion, obj.kind);
    return inf?.get(cacheKey(obj));
  }

  cached(obj: Resource): Resource | undefined {
    return this.watched.get(`${obj.apiVersion}/${obj.kind}`)?.get(cacheKey(obj));
  }

  tracked(instance: string): Resource[] {
    const out: Resource[] = [];
    for (const inf of this.watched.values()) out.push(...inf.byIndex(INDEX, instance));
    return out;
  }

  unmanaged(): string | undefined {
    return undefined;
  }
}

/** A cluster other than Pave itself, as an Argo CD cluster Secret describes it. */
export interface RemoteCluster {
  /** The display name, for messages. */
  name: string;
  /** The Kubernetes-compatible API root (for a Pave server, `http://host:port/k8s`). */
  server: string;
  bearerToken?: string;
  /** Argo CD's namespaced mode: only these namespaces are watched and managed. Empty: all. */
  namespaces: string[];
  /** In namespaced mode, whether cluster-scoped kinds are managed too. */
  clusterResources: boolean;
}

/**
 * The live side of a remote destination: Pave's HTTP client pointed at the cluster's server with
 * its credentials, and an informer factory of its own over that client, so watches on the remote
 * drive self-heal exactly as local ones do. `close` stops the watches and the connections.
 */
export class RemoteLiveState implements LiveState {
  readonly client: HttpClient;
  /** Each watch holds a connection for as long as it runs, so watches get a client of their own: requests never queue behind them. */
  private readonly watchClient: HttpClient;
  private readonly informers: InformerFactory;
  /** Informers per apiVersion/kind, by namespace ('' for one cluster-wide informer). */
  private watched = new Map<string, Map<string, Informer>>();
  private types: ServedTypes;
  private closed = false;

  constructor(
    private readonly cluster: RemoteCluster,
    log: Logger,
    private readonly onTrackedChange: (instance: string) => void,
    private readonly syncTimeoutMs = 30_000,
  ) {
    this.client = new HttpClient({ server: cluster.server, token: cluster.bearerToken, connections: 8 });
    this.watchClient = new HttpClient({ server: cluster.server, token: cluster.bearerToken, connections: 1024 });
    this.informers = new InformerFactory(this.watchClient, log);
    this.informers.start();
    // the HTTP client caches discovery; a miss must ask the server again
    this.types = new ServedTypes(() => {
      this.client.invalidate();
      return this.client.types();
    });
  }

  private get scoped(): boolean {
    return this.cluster.namespaces.length > 0;
  }

  typeOf(apiVersion: string, kind: string): Promise<TypeInfo | undefined> {
    return this.types.get(apiVersion, kind);
  }

  private async informersOf(apiVersion: string, kind: string): Promise<Map<string, Informer> | undefined> {
    const k = `${apiVersion}/${kind}`;
    let infs = this.watched.get(k);
    if (!infs) {
      if (this.closed) throw new Error(`the connection to cluster ${this.cluster.name} (${this.cluster.server}) is closed`);
      const t = await this.typeOf(apiVersion, kind);
      if (!t || (this.scoped && !t.namespaced && !this.cluster.clusterResources)) return undefined;
      infs = this.watched.get(k);
      if (!infs) {
        const namespaces = this.scoped && t.namespaced ? this.cluster.namespaces : [''];
        infs = new Map(namespaces.map((ns) => [ns, this.informers.get(apiVersion, kind, ns || undefined)]));
        for (const inf of infs.values()) trackInstances(inf, this.onTrackedChange);
        this.watched.set(k, infs);
      }
    }
    await this.synced(apiVersion, kind, infs);
    return infs;
  }

  /**
   * Waits for the caches to fill. An informer retries failed lists forever and quietly, so one
   * direct list per namespace says at once why it fails (unreachable, token refused), and a
   * deadline bounds the rest.
   */
  private async synced(apiVersion: string, kind: string, infs: Map<string, Informer>): Promise<void> {
    if ([...infs.values()].every((i) => i.hasSynced())) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`cannot list ${apiVersion}/${kind} on ${this.cluster.server} within ${Math.round(this.syncTimeoutMs / 1000)} s`)), this.syncTimeoutMs);
      timer.unref();
    });
    const probe = Promise.all([...infs.keys()].map((ns) => this.client.list(apiVersion, kind, { namespace: ns || undefined, limit: 1 })));
    try {
      await Promise.race([Promise.all([...infs.values()].map((i) => i.waitForSync())), probe.then(() => deadline), deadline]);
    } finally {
      clearTimeout(timer);
      probe.catch(() => undefined);
    }
    if (this.closed) throw new Error(`the connection to cluster ${this.cluster.name} (${this.cluster.server}) is closed`);
  }

  private informerFor(infs: Map<string, Informer> | undefined, obj: Resource): Informer | undefined {
    if (!infs) return undefined;
    return infs.get('') ?? infs.get(obj.metadata.namespace ?? '');
  }

  async watch(apiVersion: string, kind: string): Promise<boolean> {
    return !!(await this.informersOf(apiVersion, kind));
  }

  async get(obj: Resource): Promise<Resource | undefined> {
    return this.informerFor(await this.informersOf(obj.apiVersion, obj.kind), obj)?.get(cacheKey(obj));
  }

  cached(obj: Resource): Resource | undefined {
    return this.informerFor(this.watched.get(`${obj.apiVersion}/${obj.kind}`), obj)?.get(cacheKey(obj));
  }

  tracked(instance: string): Resource[] {
    const out: Resource[] = [];
    for (const infs of this.watched.values()) for (const inf of infs.values()) out.push(...inf.byIndex(INDEX, instance));
    return out;
  }

  unmanaged(obj: Resource): string | undefined {
    if (!this.scoped) return undefined;
    const what = `${obj.kind} "${obj.metadata.name}"`;
    const ns = obj.metadata.namespace;
    if (ns && !this.cluster.namespaces.includes(ns)) return `${what}: namespace ${ns} is not managed on cluster ${this.cluster.name} (namespaces: ${this.cluster.namespaces.join(', ')})`;
    if (!ns && !this.cluster.clusterResources) return `${what}: cluster-scoped resources are not managed on cluster ${this.cluster.name} (it is limited to namespaces ${this.cluster.namespaces.join(', ')} and clusterResources is not true)`;
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.informers.stop();
    await Promise.all([this.client.close(), this.watchClient.close()]);
  }
}
