import { ApiFailure, failureFrom, request, send, streamedPieces } from './http';

/** The Kubernetes envelope as the UI reads it; fields beyond it are kept as sent. */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    managedFields?: unknown[];
  };
  spec?: any;
  status?: any;
  [field: string]: any;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Ref {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

interface DiscoveryResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const plurals = new Map<string, Promise<Map<string, DiscoveryResource>>>();

/** The discovery document of one group version, fetched once per page load. */
function resourcesOf(apiVersion: string): Promise<Map<string, DiscoveryResource>> {
  let p = plurals.get(apiVersion);
  if (!p) {
    const path = apiVersion.includes('/') ? `/k8s/apis/${apiVersion}` : `/k8s/api/${apiVersion}`;
    p = request<{ resources: DiscoveryResource[] }>(path).then((doc) => new Map(doc.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, r])));
    p.catch(() => plurals.delete(apiVersion));
    plurals.set(apiVersion, p);
  }
  return p;
}

/** The collection path of a kind, e.g. /k8s/apis/argoproj.io/v1alpha1/namespaces/argocd/applications. */
export async function collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
  const r = (await resourcesOf(apiVersion)).get(kind);
  if (!r) throw new ApiFailure(404, `${kind} (${apiVersion}) is not served by this Pave server`, apiVersion.includes('/') ? `/k8s/apis/${apiVersion}` : `/k8s/api/${apiVersion}`);
  const base = apiVersion.includes('/') ? `/k8s/apis/${apiVersion}` : `/k8s/api/${apiVersion}`;
  return r.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.name}` : `${base}/${r.name}`;
}

export async function objectPath(ref: Ref): Promise<string> {
  return `${await collectionPath(ref.apiVersion, ref.kind, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}

export async function getObject<T extends Resource = Resource>(ref: Ref): Promise<T> {
  return request<T>(await objectPath(ref));
}

export async function listObjects<T extends Resource = Resource>(apiVersion: string, kind: string, opts: { namespace?: string; labelSelector?: string } = {}): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
  const sel = opts.labelSelector ? `?labelSelector=${encodeURIComponent(opts.labelSelector)}` : '';
  return request(`${await collectionPath(apiVersion, kind, opts.namespace)}${sel}`);
}

export async function mergePatch<T extends Resource = Resource>(ref: Ref, patch: unknown): Promise<T> {
  return request<T>(`${await objectPath(ref)}?fieldManager=pave-web`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(patch) });
}

export async function deleteObject(ref: Ref): Promise<void> {
  await request(await objectPath(ref), { method: 'DELETE' });
}

/** core/v1 Events whose involvedObject is `ref`, newest last. */
export async function eventsFor(ref: Ref & { uid?: string }): Promise<Resource[]> {
  const ns = ref.namespace || 'default';
  const sel = `involvedObject.name=${ref.name},involvedObject.kind=${ref.kind}`;
  const list = await request<{ items: Resource[] }>(`/k8s/api/v1/namespaces/${encodeURIComponent(ns)}/events?fieldSelector=${encodeURIComponent(sel)}`);
  return list.items.sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')));
}

export function condition(obj: Resource | undefined, type: string): Condition | undefined {
  return (obj?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandlers {
  onEvent: (type: WatchType, obj: Resource) => void;
  /** The full set after each (re-)list; events that follow apply on top of it. */
  onListed?: (items: Resource[]) => void;
  onError?: (e: ApiFailure) => void;
}

/**
 * Streams watch events of a collection (optionally one object) until `signal` aborts,
 * re-listing and re-watching when the stream ends so that callers always converge on the
 * server's state.
 */
export function watchObjects(apiVersion: string, kind: string, opts: { namespace?: string; name?: string; labelSelector?: string }, on: WatchHandlers, signal: AbortSignal): void {
  const { onEvent, onListed, onError } = on;
  const run = async () => {
    let delay = 500;
    while (!signal.aborted) {
      try {
        const base = await collectionPath(apiVersion, kind, opts.namespace);
        const params = new URLSearchParams();
        if (opts.name) params.set('fieldSelector', `metadata.name=${opts.name}`);
        if (opts.labelSelector) params.set('labelSelector', opts.labelSelector);
        const list = await request<{ items: Resource[]; metadata: { resourceVersion: string } }>(`${base}?${params}`, { signal });
        onListed?.(list.items);
        params.set('watch', 'true');
        params.set('resourceVersion', list.metadata.resourceVersion);
        params.set('allowWatchBookmarks', 'true');
        const res = await send(`${base}?${params}`, { signal });
        if (!res.ok) throw failureFrom(res.status, await res.text(), base);
        delay = 500;
        for await (const piece of streamedPieces(res, '\n')) {
          const line = piece.trim();
          if (!line) continue;
          const e = JSON.parse(line) as { type: WatchType; object: Resource };
          if (e.type === 'ERROR') throw new ApiFailure(e.object.code ?? 500, e.object.message ?? 'watch failed', base);
          if (e.type !== 'BOOKMARK') onEvent(e.type, e.object);
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiFailure) {
          onError?.(e);
          if (e.status === 404) delay = Math.max(delay, 5000);
        }
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void run();
}

export function refOf(obj: Resource): Ref {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
}

export function keyOf(ref: Ref): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}
