import type { Logger } from 'pino';
import type { Resource } from '../api/types.js';
import type { Informer } from '../runtime/informer.js';
import { CONTROL_NAMESPACE } from './crds.js';
import { RemoteLiveState, type LiveState, type RemoteCluster } from './live-state.js';

export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const IN_CLUSTER_NAME = 'in-cluster';
export const SECRET_TYPE = 'argocd.argoproj.io/secret-type';
const BY_DESTINATION = 'destination';

/** An Argo CD cluster Secret, read: where the cluster is, how to authenticate, what Pave may manage. */
export interface ClusterSecret extends RemoteCluster {
  /** `<namespace>/<name>` of the Secret, for messages. */
  secret: string;
  /** Why Pave cannot connect with this configuration, naming the Secret's field; undefined if it can. */
  problem?: string;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * Reads a Secret labelled `argocd.argoproj.io/secret-type: cluster` (data keys `name`, `server`,
 * `config`, `namespaces`, `clusterResources`); undefined for any other Secret. The config's
 * content never reaches a message: a JSON error would quote it, token included.
 */
export function parseClusterSecret(s: Resource): ClusterSecret | undefined {
  if (s.metadata.labels?.[SECRET_TYPE] !== 'cluster') return undefined;
  const d = (k: string) => (s.data?.[k] ? Buffer.from(s.data[k], 'base64').toString('utf8') : undefined);
  const server = trimSlash(d('server')?.trim() ?? '');
  const out: ClusterSecret = {
    secret: `${s.metadata.namespace}/${s.metadata.name}`,
    name: d('name')?.trim() ?? '',
    server,
    namespaces: (d('namespaces') ?? '').split(',').map((n) => n.trim()).filter(Boolean),
    clusterResources: d('clusterResources')?.trim() === 'true',
  };
  if (!server) return { ...out, problem: 'data.server is required' };
  if (!/^https?:\/\//.test(server)) return { ...out, problem: `data.server must be an http:// or https:// URL (found ${server})` };
  let config: Record<string, any> = {};
  const raw = d('config');
  if (raw?.trim()) {
    try {
      config = JSON.parse(raw);
    } catch {
      return { ...out, problem: 'data.config is not valid JSON' };
    }
    if (!config || typeof config !== 'object' || Array.isArray(config)) return { ...out, problem: 'data.config must be a JSON object' };
  }
  const unsupported = unsupportedConfig(config, server.startsWith('https://'));
  if (unsupported) return { ...out, problem: unsupported };
  return { ...out, ...(config.bearerToken ? { bearerToken: String(config.bearerToken) } : {}) };
}

/** What in a cluster config Pave's HTTP client cannot honour; honouring part of it would connect insecurely or fail obscurely. */
function unsupportedConfig(config: Record<string, any>, https: boolean): string | undefined {
  if (!config.bearerToken && (config.username || config.password)) return 'data.config.username/password: basic authentication is not supported; set data.config.bearerToken';
  for (const k of ['execProviderConfig', 'awsAuthConfig', 'proxyUrl']) if (config[k]) return `data.config.${k} is not supported; set data.config.bearerToken`;
  const tls = config.tlsClientConfig ?? {};
  if (!https) return undefined;
  if (tls.insecure === true) return 'data.config.tlsClientConfig.insecure is not supported: Pave verifies https servers against the system certificate authorities';
  for (const k of ['caData', 'certData', 'keyData', 'serverName']) {
    if (tls[k]) return `data.config.tlsClientConfig.${k} is not supported: Pave verifies https servers against the system certificate authorities and sends no client certificate`;
  }
  return undefined;
}

/** The cluster an Application's spec.destination names, or why there is none. */
export type Resolution =
  | { ok: true; server: string; name: string; live: LiveState }
  | { ok: false; /** no cluster has that server or name (as opposed to a bad spec or Secret) */ missing: boolean; problem: string };

/** Resolves Application destinations; the Application controller's only view of clusters. */
export interface Destinations {
  /**
   * Argo CD's rules: exactly one of server and name; `https://kubernetes.default.svc` and
   * `in-cluster` are Pave itself; anything else must match one cluster Secret. A problem's
   * message starts with `spec.destination` and names the server or name.
   */
  resolve(dest: { server?: string; name?: string }): Promise<Resolution>;
}

export interface ClusterRegistryDeps {
  /** The live state of Pave itself. */
  local: LiveState;
  /** Secrets in the Argo CD namespace. */
  secrets: Informer;
  /** Applications, to know which clusters are still in use and whom a Secret change concerns. */
  apps: Informer;
  log: Logger;
  /** Called with the app instance of a tracked object that changed on a remote cluster. */
  onTrackedChange(instance: string): void;
  /** Asks for an Application (`namespace/name`) to be reconciled again. */
  requeue(appKey: string): void;
}

function destinationKeys(app: Resource): string[] {
  const d = app.spec?.destination ?? {};
  return [...(d.server ? [`server:${trimSlash(String(d.server))}`] : []), ...(d.name ? [`name:${d.name}`] : [])];
}

/**
 * The clusters declared by cluster Secrets, and one RemoteLiveState per cluster in use. A
 * remote's watches start when the first Application resolves to it and stop when the last
 * Application naming it goes or points elsewhere, or when its Secret changes or is deleted.
 */
export class ClusterRegistry implements Destinations {
  private clusters = new Map<string, ClusterSecret>();
  private open = new Map<string, RemoteLiveState>();

  constructor(private readonly deps: ClusterRegistryDeps) {
    deps.apps.addIndexer(BY_DESTINATION, destinationKeys);
    deps.secrets.addHandler({ onAdd: (s) => this.secretChanged(s), onUpdate: (_o, n) => this.secretChanged(n), onDelete: (s) => this.secretChanged(s, true) });
    deps.apps.addHandler({
      onUpdate: (o, n) => {
        if (destinationKeys(o).join() !== destinationKeys(n).join()) this.sweep();
      },
      onDelete: () => this.sweep(),
    });
  }

  async resolve(dest: { server?: string; name?: string }): Promise<Resolution> {
    const server = dest.server ? trimSlash(dest.server) : undefined;
    if (server && dest.name) return { ok: false, missing: false, problem: `spec.destination: set either server or name, not both (server ${dest.server}, name "${dest.name}")` };
    // an empty destination has always meant Pave itself here; Argo CD would reject it
    if (!server && !dest.name) return this.local(IN_CLUSTER_NAME);
    if (dest.name === IN_CLUSTER_NAME) return this.local(IN_CLUSTER_NAME);
    await this.deps.secrets.waitForSync();
    const matches = [...this.clusters.entries()].filter(([, c]) => (server ? c.server === server : c.name === dest.name));
    // a cluster Secret for the in-cluster server only names Pave itself
    if (server === IN_CLUSTER) return this.local(matches[0]?.[1].name || IN_CLUSTER_NAME);
    const alias = matches.find(([, c]) => c.server === IN_CLUSTER);
    if (alias) return this.local(alias[1].name);
    const what = server ? `server ${server}` : `name "${dest.name}"`;
    if (!matches.length) return { ok: false, missing: true, problem: `spec.destination: no cluster with ${what} is configured; declare it with a Secret labelled ${SECRET_TYPE}: cluster in namespace ${CONTROL_NAMESPACE}, or use ${IN_CLUSTER} (${IN_CLUSTER_NAME})` };
    if (matches.length > 1) return { ok: false, missing: false, problem: `spec.destination: ${matches.length} cluster Secrets match ${what} (${matches.map(([, c]) => c.secret).join(', ')}); keep one` };
    const [key, c] = matches[0]!;
    if (c.problem) return { ok: false, missing: false, problem: `spec.destination: cluster ${c.name || c.server} (Secret ${c.secret}): ${c.problem}` };
    let live = this.open.get(key);
    if (!live) {
      this.deps.log.info({ cluster: c.name, server: c.server, secret: c.secret }, 'watching remote cluster');
      live = new RemoteLiveState(c, this.deps.log.child({ cluster: c.name, server: c.server }), this.deps.onTrackedChange);
      this.open.set(key, live);
    }
    return { ok: true, server: c.server, name: c.name, live };
  }

  /** The remote clusters being watched now. */
  connected(): { name: string; server: string }[] {
    return [...this.open.keys()].map((k) => this.clusters.get(k)).filter((c): c is ClusterSecret => !!c).map((c) => ({ name: c.name, server: c.server }));
  }

  /** Stops every remote's watches and connections (at shutdown). */
  async close(): Promise<void> {
    const all = [...this.open.keys()];
    await Promise.all(all.map((k) => this.release(k, 'shutdown')));
  }

  private local(name: string): Resolution {
    return { ok: true, server: IN_CLUSTER, name, live: this.deps.local };
  }

  private usersOf(c: ClusterSecret): Resource[] {
    const apps = this.deps.apps;
    return [...new Set([...apps.byIndex(BY_DESTINATION, `server:${c.server}`), ...(c.name ? apps.byIndex(BY_DESTINATION, `name:${c.name}`) : [])])];
  }

  private secretChanged(s: Resource, deleted = false): void {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    const before = this.clusters.get(key);
    const after = deleted ? undefined : parseClusterSecret(s);
    if (!before && !after) return;
    if (before && after && sameCluster(before, after)) return;
    if (after) this.clusters.set(key, after);
    else this.clusters.delete(key);
    // new credentials or another server: the next reconcile connects afresh
    void this.release(key, after ? 'its Secret changed' : 'its Secret was deleted');
    const affected = new Set([...(before ? this.usersOf(before) : []), ...(after ? this.usersOf(after) : [])]);
    for (const a of affected) this.deps.requeue(`${a.metadata.namespace}/${a.metadata.name}`);
  }

  /** Stops watching each remote no Application names any more. */
  private sweep(): void {
    for (const key of this.open.keys()) {
      const c = this.clusters.get(key);
      if (!c || !this.usersOf(c).length) void this.release(key, 'no Application uses it');
    }
  }

  private async release(key: string, why: string): Promise<void> {
    const live = this.open.get(key);
    if (!live) return;
    this.open.delete(key);
    this.deps.log.info({ secret: key, reason: why }, 'stopped watching remote cluster');
    await live.close().catch((err) => this.deps.log.warn({ secret: key, err: (err as Error).message }, 'closing the remote cluster connection failed'));
  }
}

function sameCluster(a: ClusterSecret, b: ClusterSecret): boolean {
  return a.name === b.name && a.server === b.server && a.bearerToken === b.bearerToken && a.namespaces.join() === b.namespaces.join() && a.clusterResources === b.clusterResources && a.problem === b.problem;
}
