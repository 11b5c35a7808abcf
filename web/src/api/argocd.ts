import { request } from './http';
import { mergePatch, type Resource } from './k8s';

/** Argo CD Applications are plain objects in the resource API; these are the fields the UI reads. */
export const APP_API_VERSION = 'argoproj.io/v1alpha1';

export interface HistoryEntry {
  id: number;
  revision?: string;
  deployedAt?: string;
  deployStartedAt?: string;
  source?: Record<string, unknown>;
  initiatedBy?: { username?: string; automated?: boolean };
}

export function appRef(app: Resource) {
  return { apiVersion: APP_API_VERSION, kind: 'Application', namespace: app.metadata.namespace, name: app.metadata.name };
}

/** Asks the controller to sync now, as `argocd app sync` does: by setting the operation field. */
export function syncApplication(app: Resource, user: string, opts: { revision?: string; source?: Record<string, unknown>; prune?: boolean } = {}): Promise<Resource> {
  const revision = opts.revision ?? app.spec?.source?.targetRevision;
  return mergePatch(appRef(app), {
    operation: {
      initiatedBy: { username: user },
      sync: { ...(revision ? { revision } : {}), ...(opts.source ? { source: opts.source } : {}), prune: opts.prune ?? Boolean(app.spec?.syncPolicy?.automated?.prune) },
      retry: {},
    },
  });
}

/** Asks the controller to re-read Git and compare now (the refresh annotation Argo CD uses). */
export function refreshApplication(app: Resource, hard = false): Promise<Resource> {
  return mergePatch(appRef(app), { metadata: { annotations: { 'argocd.argoproj.io/refresh': hard ? 'hard' : 'normal' } } });
}

export interface ManagedResourceDiff {
  group?: string;
  kind: string;
  namespace?: string;
  name: string;
  /** JSON strings, as Argo CD's API returns them. */
  targetState?: string;
  liveState?: string;
  normalizedLiveState?: string;
  predictedLiveState?: string;
}

/** Desired vs live of every resource of an Application (Argo CD's managed-resources API). */
export async function managedResources(app: Resource): Promise<ManagedResourceDiff[]> {
  const body = await request<{ items?: ManagedResourceDiff[] }>(`/api/v1/applications/${encodeURIComponent(app.metadata.name)}/managed-resources?appNamespace=${encodeURIComponent(app.metadata.namespace ?? '')}`);
  return body.items ?? [];
}
