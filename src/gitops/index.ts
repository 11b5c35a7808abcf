import { join } from 'node:path';
import { isApiError } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { Platform, PlatformModule } from '../platform.js';
import type { WorkQueue } from '../runtime/workqueue.js';
import { applicationController, appKeyOfInstance, DEPENDS_ON } from './application-controller.js';
import { applicationSetController } from './applicationset-controller.js';
import { ClusterRegistry } from './clusters.js';
import { ARGO_API_VERSION, argoCrds, CONTROL_NAMESPACE } from './crds.js';
import type { Health } from './health.js';
import { LuaHealthChecks } from './lua-health.js';
import { LocalLiveState } from './live-state.js';
import type { RepoCredentials } from './mirror.js';
import { forgetProjects } from './project.js';
import { RepoService } from './repo-service.js';

export { ARGO_API_VERSION } from './crds.js';

const GIT_API_VERSION = 'git.pave.dev/v1alpha1';

/** Repository URLs compare equal with or without `.git` and a trailing slash. */
export function normaliseRepoUrl(url: string): string {
  return String(url ?? '').replace(/\/+$/, '').replace(/\.git$/, '').toLowerCase();
}

/** True when a push that changed `changed` can affect an Application's source. */
function affects(app: Resource, changed: string[]): boolean {
  const src = app.spec?.source ?? app.spec?.sources?.[0] ?? {};
  const base = String(src.path ?? '.').replace(/^\.?\/*/, '').replace(/\/+$/, '');
  const extra = (app.metadata.annotations?.['argocd.argoproj.io/manifest-generate-paths'] ?? '').split(';').map((s) => s.trim()).filter(Boolean);
  const roots = [base, ...extra.map((e) => (e.startsWith('/') ? e.slice(1) : `${base}/${e}`).replace(/\/\.$/, '').replace(/^\.\/?/, ''))];
  return changed.some((p) => roots.some((r) => !r || r === '.' || p === r || p.startsWith(`${r}/`)));
}

/**
 * Delivery: Argo CD's Application, AppProject and ApplicationSet served from argoproj.io/v1alpha1,
 * the repo service, and the controllers that sync Git into Pave or into remote clusters declared
 * by Argo CD cluster Secrets. Pushes to the built-in host reach the Applications on the changed
 * paths through the GitRepository objects' status.
 */
export function gitOpsModule(): PlatformModule & { repoService(): RepoService | undefined; clusters(): ClusterRegistry | undefined } {
  let repo: RepoService | undefined;
  let clusters: ClusterRegistry | undefined;
  return {
    /** The module's repo service (its render counter is what benchmarks read). */
    repoService: () => repo,
    /** The declared clusters and the remote ones being watched. */
    clusters: () => clusters,
    name: 'gitops',
    async install(p: Platform) {
      for (const crd of argoCrds()) await p.client.apply(crd, { fieldManager: 'pave-gitops', force: true });
      await p.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: CONTROL_NAMESPACE } }, { fieldManager: 'pave-gitops' });
      try {
        await p.client.create({ apiVersion: ARGO_API_VERSION, kind: 'AppProject', metadata: { name: 'default', namespace: CONTROL_NAMESPACE }, spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] } });
      } catch (e) {
        if (!isApiError(e, 409)) throw e;
      }
      const log = p.log.child({ component: 'gitops' });
      const informers = p.manager.informers;
      const hostKnown = !!p.registry.lookup(GIT_API_VERSION, 'GitRepository');
      const gitRepos = hostKnown ? informers.get(GIT_API_VERSION, 'GitRepository') : undefined;
      const secrets = informers.get('v1', 'Secret', CONTROL_NAMESPACE);
      const apps = informers.get(ARGO_API_VERSION, 'Application');
      apps.addIndexer('repoURL', (a) => [normaliseRepoUrl((a.spec?.source ?? a.spec?.sources?.[0])?.repoURL)]);
      apps.addIndexer('dependsOn', (a) => (a.metadata.annotations?.[DEPENDS_ON] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((n) => (n.includes('/') ? n : `${a.metadata.namespace}/${n}`)));

      const credentials = async (url: string): Promise<RepoCredentials | undefined> => {
        if (p.url && url.startsWith(`${p.url}/git/`)) return { bearerToken: p.adminToken };
        const norm = normaliseRepoUrl(url);
        let best: { len: number; creds: RepoCredentials } | undefined;
        for (const s of secrets.list()) {
          const type = s.metadata.labels?.['argocd.argoproj.io/secret-type'];
          if (type !== 'repository' && type !== 'repo-creds') continue;
          const d = (k: string) => (s.data?.[k] ? Buffer.from(s.data[k], 'base64').toString('utf8') : undefined);
          const su = normaliseRepoUrl(d('url') ?? '');
          const match = type === 'repository' ? su === norm : norm.startsWith(su);
          if (!su || !match || (best && best.len >= su.length + (type === 'repository' ? 1000 : 0))) continue;
          best = { len: su.length + (type === 'repository' ? 1000 : 0), creds: { username: d('username'), password: d('password'), bearerToken: d('bearerToken') } };
        }
        return best?.creds;
      };
      const knownRefs = (url: string): Record<string, string> | undefined => {
        if (!gitRepos) return undefined;
        const norm = normaliseRepoUrl(url);
        const hit = gitRepos.list().find((r) => r.status?.url && normaliseRepoUrl(r.status.url) === norm);
        if (!hit) return undefined;
        return { ...(hit.status.refs ?? {}), 'symref:HEAD': `refs/heads/${hit.status.defaultBranch ?? 'main'}` };
      };
      repo = new RepoService({ cacheDir: join(p.dataDir, 'gitops', 'repos'), credentials, knownRefs });
      const queueRef: { queue?: WorkQueue<string> } = {};
      const onTrackedChange = (instance: string) => queueRef.queue?.add(appKeyOfInstance(instance));
      const local = new LocalLiveState(p.client, informers, onTrackedChange);
      clusters = new ClusterRegistry({ local, secrets, apps, log, onTrackedChange, requeue: (key) => queueRef.queue?.add(key) });
      const lua = new LuaHealthChecks(log);
      const settings = informers.get('v1', 'ConfigMap', CONTROL_NAMESPACE);
      const loadLua = (cm: Resource) => {
        if (cm.metadata.name === 'argocd-cm') {
          lua.load(cm.data ?? {});
          for (const a of apps.list()) queueRef.queue?.add(`${a.metadata.namespace}/${a.metadata.name}`);
        }
      };
      settings.addHandler({ onAdd: loadLua, onUpdate: (_o, n) => loadLua(n), onDelete: (cm) => cm.metadata.name === 'argocd-cm' && lua.load({}) });

      const keyOf = (a: Resource) => `${a.metadata.namespace}/${a.metadata.name}`;
      const watches = [
        {
          apiVersion: ARGO_API_VERSION,
          kind: 'Application',
          map: (a: Resource) => apps.byIndex('dependsOn', keyOf(a)).map(keyOf),
        },
        {
          apiVersion: ARGO_API_VERSION,
          kind: 'AppProject',
          map: (proj: Resource) => {
            forgetProjects();
            return apps.list().filter((a) => (a.spec?.project || 'default') === proj.metadata.name && a.metadata.namespace === proj.metadata.namespace).map(keyOf);
          },
        },
        ...(hostKnown
          ? [
              {
                apiVersion: GIT_API_VERSION,
                kind: 'GitRepository',
                map: (r: Resource) => {
                  if (!r.status?.url) return [];
                  const on = apps.byIndex('repoURL', normaliseRepoUrl(r.status.url));
                  const changed: string[] = r.status.lastPush?.changedPaths ?? [];
                  // the Applications whose paths changed go to the front of the queue
                  const first = on.filter((a) => affects(a, changed));
                  const rest = on.filter((a) => !first.includes(a));
                  return [...first, ...rest].map(keyOf);
                },
              },
            ]
          : []),
      ];
      // claims, composites and managed resources report health through conditions; until the
      // control plane has written any, they are still being provisioned (as Argo CD's Crossplane checks say)
      const crossplaneHealth = (o: Resource): Health | undefined => {
        if (o.status?.conditions?.length) return undefined;
        const t = p.registry.lookup(o.apiVersion, o.kind);
        return t?.categories.some((c) => c === 'managed' || c === 'composite' || c === 'claim') ? { status: 'Progressing', message: 'waiting for the control plane to report Synced and Ready' } : undefined;
      };
      const controller = p.manager.add(applicationController({ repo, destinations: clusters, customHealth: (o) => lua.check(o) ?? crossplaneHealth(o), log }, queueRef, watches));
      queueRef.queue = controller.queue;
      p.manager.add(applicationSetController(repo, log));
    },
    async stop() {
      await clusters?.close();
      repo?.close();
    },
  };
}
