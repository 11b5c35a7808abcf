import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import { isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { ControllerSpec } from '../runtime/controller.js';
import type { WorkQueue } from '../runtime/workqueue.js';
import { ARGO_API_VERSION, CONTROL_NAMESPACE } from './crds.js';
import { diff, type IgnoreDifference } from './diff.js';
import { assessHealth, worst, type CustomHealth, type HealthStatus } from './health.js';
import type { Destinations } from './clusters.js';
import { trackingId, TRACKING_ID, type LiveState } from './live-state.js';
import { checkProject, deniedResources } from './project.js';
import { ManifestError } from './render.js';
import type { RepoService } from './repo-service.js';
import { HOOK, optionsOf, planTasks, resourceKey, runSyncFailHooks, syncStep, type ResourceResult, type SyncTarget } from './sync.js';

export const FIELD_MANAGER = 'argocd-controller';
export const REFRESH = 'argocd.argoproj.io/refresh';
export const DEPENDS_ON = 'pave.dev/depends-on';
const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

export interface AppControllerDeps {
  repo: RepoService;
  destinations: Destinations;
  customHealth: CustomHealth;
  log: Logger;
}

/** The Argo CD app instance name: the name, or `<namespace>_<name>` outside the control namespace. */
export function appInstance(app: Resource): string {
  return app.metadata.namespace === CONTROL_NAMESPACE ? app.metadata.name! : `${app.metadata.namespace}_${app.metadata.name}`;
}

export function appKeyOfInstance(instance: string): string {
  const u = instance.indexOf('_');
  return u < 0 ? `${CONTROL_NAMESPACE}/${instance}` : `${instance.slice(0, u)}/${instance.slice(u + 1)}`;
}

type Cond = { type: string; message: string; lastTransitionTime?: string };

function durationMs(v: string | undefined, dflt: number): number {
  if (!v) return dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) return dflt;
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000);
}

/**
 * Reconciles an Application: resolve the revision, render the source, compare with live,
 * report sync and health, and run sync operations (manual ones from `.operation`, automated
 * ones from syncPolicy) one wave per step. Everything it decides is written to the
 * Application's status, so a restart resumes a running operation where it stood.
 */
export function applicationController(deps: AppControllerDeps, queueRef: { queue?: WorkQueue<string> }, watchesExtra: ControllerSpec['watches']): ControllerSpec {
  return {
    name: 'gitops-applications',
    for: { apiVersion: ARGO_API_VERSION, kind: 'Application' },
    generationChangedOnly: true,
    workers: 8,
    queue: { baseDelayMs: 500, maxDelayMs: 180_000, qps: 500, burst: 2000 },
    watches: watchesExtra,
    async reconcile(key, ctx) {
      const [namespace, name] = key.split('/') as [string, string];
      let app: Resource;
      try {
        app = await ctx.client.get({ apiVersion: ARGO_API_VERSION, kind: 'Application', namespace, name });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      return reconcileApp(app, ctx.client, deps, ctx.log);
    },
  };
}

async function reconcileApp(app: Resource, client: Client, deps: AppControllerDeps, log: Logger): Promise<{ requeueAfter?: number } | void> {
  const instance = appInstance(app);
  const spec = app.spec ?? {};
  const conditions: Cond[] = [];
  const status: Record<string, any> = structuredClone(app.status ?? {});
  const now = new Date().toISOString();

  if (app.metadata.deletionTimestamp) return finalise(app, client, deps, instance, log);

  const source = spec.source ?? spec.sources?.[0];
  const dest = spec.destination ?? {};
  const problems: string[] = [];
  if (!source?.repoURL) problems.push('spec.source.repoURL is required');
  if (source && source.path === undefined && !source.chart) problems.push('spec.source.path is required for a directory source');
  if (source?.chart || source?.helm || source?.kustomize || source?.plugin) problems.push(`spec.source: only directory sources are supported (found ${source.chart || source.helm ? 'helm' : source.kustomize ? 'kustomize' : 'plugin'})`);
  const cluster = await deps.destinations.resolve(dest);
  if (!cluster.ok) problems.push(cluster.problem);
  else if (!problems.length) {
    const denied = await checkProject(client, app, source, { server: cluster.server, name: cluster.name, namespace: dest.namespace });
    if (denied) problems.push(denied);
  }
  if (problems.length || !cluster.ok) {
    conditions.push({ type: 'InvalidSpecError', message: `Application ${instance}: ${problems.join('; ')}` });
    status.sync = { status: 'Unknown', comparedTo: { source, destination: dest } };
    status.health = { status: 'Unknown' };
    return writeStatus(app, client, status, conditions, now);
  }

  const hard = app.metadata.annotations?.[REFRESH] === 'hard';
  if (app.metadata.annotations?.[REFRESH]) {
    deps.repo.invalidate(source.repoURL);
    await client.patch({ apiVersion: ARGO_API_VERSION, kind: 'Application', namespace: app.metadata.namespace, name: app.metadata.name! }, 'merge', { metadata: { annotations: { [REFRESH]: null } } });
  }

  // what Git wants
  let revision: string;
  let desired: Resource[];
  try {
    revision = await deps.repo.resolve(source.repoURL, source.targetRevision, hard);
    desired = (await deps.repo.render(source.repoURL, revision, source.path ?? '.', source.directory ?? {}, hard)).objects;
  } catch (e) {
    const what = e instanceof ManifestError ? `failed to render manifests: ${e.message}` : `failed to load ${source.repoURL} at ${source.targetRevision ?? 'HEAD'}: ${(e as Error).message}`;
    conditions.push({ type: 'ComparisonError', message: what });
    status.sync = { ...(status.sync ?? {}), status: 'Unknown', comparedTo: { source, destination: dest } };
    log.info({ app: instance, err: what }, 'comparison failed');
    await writeStatus(app, client, status, conditions, now);
    return { requeueAfter: 180_000 };
  }
  const ignore: IgnoreDifference[] = spec.ignoreDifferences ?? [];
  const appOptions = new Set<string>(spec.syncPolicy?.syncOptions ?? []);
  const live = cluster.live;
  const compare = async (objs: Resource[]) => {
    const found = new Map<string, Resource | undefined>();
    for (const o of objs) found.set(resourceKey(o), await live.get(o));
    return found;
  };

  // what is live, and how it compares
  let prepared: Resource[];
  let liveMap: Map<string, Resource | undefined>;
  try {
    prepared = await prepare(desired, dest.namespace, instance, live);
    for (const r of status.resources ?? []) await live.watch(r.version ? `${r.group ? `${r.group}/` : ''}${r.version}` : 'v1', r.kind);
    liveMap = await compare(prepared);
  } catch (e) {
    // only a remote cluster fails here: unreachable, or refusing the credentials
    const what = `failed to load live state from cluster ${cluster.name || cluster.server} (${cluster.server}): ${(e as Error).message}`;
    conditions.push({ type: 'ComparisonError', message: what });
    status.sync = { ...(status.sync ?? {}), status: 'Unknown', revision, comparedTo: { source, destination: dest } };
    log.info({ app: instance, err: what }, 'comparison failed');
    await writeStatus(app, client, status, conditions, now);
    return { requeueAfter: 30_000 };
  }
  const desiredKeys = new Set(prepared.map(resourceKey));
  const prunable = live.tracked(instance).filter((o) => !desiredKeys.has(resourceKey(o)) && !o.metadata.annotations?.[HOOK] && o.metadata.annotations?.[TRACKING_ID] === trackingId(instance, o) && !o.metadata.deletionTimestamp);
  const inSync = (o: Resource) => {
    const current = liveMap.get(resourceKey(o));
    if (!current) return false;
    if (current.metadata.annotations?.[TRACKING_ID] !== o.metadata.annotations?.[TRACKING_ID]) return false;
    return diff(o, current, ignore).inSync;
  };
  const resources: any[] = [];
  let health: HealthStatus = 'Healthy';
  let outOfSync = 0;
  for (const o of prepared) {
    if (o.metadata.annotations?.[HOOK]) continue;
    const current = liveMap.get(resourceKey(o));
    const synced = inSync(o);
    if (!synced) outOfSync++;
    const h = assessHealth(current, deps.customHealth);
    if (h) health = worst(health, h.status);
    // the differing fields travel with the status, so `pave app diff` and the portal need no renderer
    const changes = synced ? [] : current ? diff(o, current, ignore).changes.slice(0, 20) : [{ path: '', desired: 'present', live: 'missing' }];
    if (!synced && current && !changes.length) changes.push({ path: `metadata.annotations.${TRACKING_ID}`, desired: o.metadata.annotations?.[TRACKING_ID], live: current.metadata.annotations?.[TRACKING_ID] });
    resources.push({ ...ref(o), status: synced ? 'Synced' : 'OutOfSync', ...(h ? { health: h } : {}), ...(changes.length ? { diff: changes } : {}) });
  }
  for (const o of prunable) resources.push({ ...ref(o), status: 'OutOfSync', requiresPruning: true });
  const syncStatus = outOfSync || prunable.length ? 'OutOfSync' : 'Synced';
  status.sync = { status: syncStatus, revision, comparedTo: { source, destination: dest } };
  status.health = { status: health };
  status.resources = resources;
  status.sourceType = 'Directory';
  status.summary = {};

  const denied = await deniedResources(client, app, prepared, (o) => !!o.metadata.namespace);
  if (denied.length) {
    conditions.push({ type: 'SyncError', message: `sync refused by the project: ${denied.join('; ')}` });
    return writeStatus(app, client, status, conditions, now);
  }
  const unmanaged = prepared.map((o) => live.unmanaged(o)).filter((m): m is string => !!m);
  if (unmanaged.length) {
    conditions.push({ type: 'SyncError', message: `sync refused by the cluster Secret: ${unmanaged.join('; ')}` });
    return writeStatus(app, client, status, conditions, now);
  }

  // whether to run an operation
  let op = app.operation ?? (status.operationState?.phase === 'Running' ? status.operationState.operation : undefined);
  const automated = spec.syncPolicy?.automated;
  if (!op && automated && syncStatus === 'OutOfSync') {
    const last = status.operationState;
    const onlyPrune = !outOfSync && !(automated.prune ?? false);
    const sameRevision = last?.syncResult?.revision === revision;
    const emptyRefused = !prepared.length && !automated.allowEmpty && prunable.length > 0;
    const blocked = await waitingOn(app, client);
    if (emptyRefused) conditions.push({ type: 'SyncError', message: 'auto-sync would delete every resource of the application and allowEmpty is false' });
    else if (blocked) status.operationState = { ...(last ?? {}), message: `waiting for ${blocked} (${DEPENDS_ON})` };
    else if (onlyPrune) undefined;
    else if (sameRevision && last?.phase !== 'Succeeded' && last?.phase !== 'Running') conditions.push({ type: 'SyncError', message: `auto-sync of ${revision.slice(0, 12)} failed and is not retried for the same revision: ${last?.message ?? ''}` });
    else if (sameRevision && last?.phase === 'Succeeded' && !automated.selfHeal) undefined;
    else op = { sync: { revision, prune: automated.prune ?? false, syncOptions: spec.syncPolicy?.syncOptions }, initiatedBy: { automated: true }, ...(spec.syncPolicy?.retry ? { retry: spec.syncPolicy.retry } : {}) };
    if (blocked) {
      await writeStatus(app, client, status, conditions, now);
      return { requeueAfter: 5_000 };
    }
  }
  if (!op) return writeStatus(app, client, status, conditions, now);

  // one step of the operation
  let state = status.operationState;
  const fresh = !state || state.phase !== 'Running' || JSON.stringify(state.operation?.initiatedBy) !== JSON.stringify(op.initiatedBy) || (app.operation && state.operation?.sync?.revision !== app.operation.sync?.revision);
  if (fresh) state = { operation: op, phase: 'Running', message: 'syncing', startedAt: now, retryCount: 0, syncResult: { resources: [], revision: op.sync?.revision ?? revision, source } };
  const opRevision = op.sync?.revision ? await deps.repo.resolve(source.repoURL, op.sync.revision) : revision;
  let opDesired = prepared;
  if (opRevision !== revision) opDesired = await prepare((await deps.repo.render(source.repoURL, opRevision, source.path ?? '.', source.directory ?? {})).objects, dest.namespace, instance, live);
  const opLive = opRevision === revision ? liveMap : await compare(opDesired);
  const opOptions = new Set<string>([...appOptions, ...(op.sync?.syncOptions ?? [])]);
  const tasks = planTasks(opDesired, (o) => opLive.get(resourceKey(o)), (o) => {
    const l = opLive.get(resourceKey(o));
    return !!l && l.metadata.annotations?.[TRACKING_ID] === o.metadata.annotations?.[TRACKING_ID] && diff(o, l, ignore).inSync;
  });
  const opKeys = new Set(opDesired.map(resourceKey));
  // an object is the app's only when its tracking id names the object itself: a copied one does not count
  const toPrune = live.tracked(instance).filter((o) => !opKeys.has(resourceKey(o)) && !o.metadata.annotations?.[HOOK] && o.metadata.annotations?.[TRACKING_ID] === trackingId(instance, o) && !o.metadata.deletionTimestamp);
  const target = syncTarget(live, deps.customHealth, opOptions, dest.namespace);
  const step = await syncStep(tasks, toPrune, { prune: !!op.sync?.prune, pruneLast: opOptions.has('PruneLast=true'), applyOutOfSyncOnly: opOptions.has('ApplyOutOfSyncOnly=true'), dryRun: !!op.sync?.dryRun }, target, fresh ? [] : (state.syncResult?.resources ?? []));
  state = { ...state, phase: step.phase, message: step.message, syncResult: { ...state.syncResult, revision: opRevision, resources: step.resources } };
  let requeueAfter: number | undefined;
  if (step.phase === 'Running') requeueAfter = 2_000;
  else if (step.phase === 'Failed') {
    await runSyncFailHooks(tasks, target);
    const retry = op.retry;
    const limit = retry ? (retry.limit ?? 5) : 0;
    const count = state.retryCount ?? 0;
    if (retry && (limit < 0 || count < limit)) {
      const base = durationMs(retry.backoff?.duration, 5_000);
      const factor = retry.backoff?.factor ?? 2;
      const max = durationMs(retry.backoff?.maxDuration, 180_000);
      requeueAfter = Math.min(max, base * factor ** count);
      state = { ...state, phase: 'Running', retryCount: count + 1, message: `${step.message}. Retrying attempt #${count + 1} in ${Math.round(requeueAfter / 1000)}s`, syncResult: { ...state.syncResult, resources: [] } };
    } else {
      state.finishedAt = now;
      conditions.push({ type: 'SyncError', message: step.message });
    }
  } else {
    state.finishedAt = now;
    if (!op.sync?.dryRun && opRevision === revision) markApplied(status, step.resources);
    const history = [...(status.history ?? [])];
    const id = (history[history.length - 1]?.id ?? -1) + 1;
    history.push({ id, revision: opRevision, deployedAt: now, deployStartedAt: state.startedAt, source, initiatedBy: op.initiatedBy ?? {} });
    status.history = history.slice(-(spec.revisionHistoryLimit ?? 10));
  }
  status.operationState = state;
  if (state.phase !== 'Running') log.info({ app: instance, phase: state.phase, revision: opRevision, message: state.message }, 'sync finished');
  await writeStatus(app, client, status, conditions, now);
  if (app.operation && state.phase !== 'Running') {
    await client.patch({ apiVersion: ARGO_API_VERSION, kind: 'Application', namespace: app.metadata.namespace, name: app.metadata.name! }, 'json', [{ op: 'remove', path: '/operation' }]).catch(() => undefined);
  }
  return requeueAfter !== undefined ? { requeueAfter } : undefined;
}

/**
 * What a successful sync just applied is in sync by construction (server-side apply of the
 * desired fields), so the status says so at once instead of after the informers catch up; the
 * next comparison, triggered by those same writes, confirms it and refreshes health.
 */
function markApplied(status: Record<string, any>, results: ResourceResult[]): void {
  const applied = new Set(results.filter((r) => r.status === 'Synced' && !r.hookType).map((r) => resourceKey(r)));
  const pruned = new Set(results.filter((r) => r.status === 'Pruned').map((r) => resourceKey(r)));
  status.resources = (status.resources ?? [])
    .filter((r: any) => !(r.requiresPruning && pruned.has(resourceKey(r))))
    .map((r: any) => (applied.has(resourceKey(r)) && !r.requiresPruning ? { ...r, status: 'Synced', diff: undefined } : r));
  if (status.resources.every((r: any) => r.status === 'Synced')) status.sync = { ...status.sync, status: 'Synced' };
}

function ref(o: Resource) {
  const av = o.apiVersion;
  const slash = av.indexOf('/');
  return { group: slash < 0 ? '' : av.slice(0, slash), version: slash < 0 ? av : av.slice(slash + 1), kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name };
}

/** Namespaces defaulted from the destination, cluster-scoped kinds without one, tracking set. */
async function prepare(objs: Resource[], namespace: string | undefined, instance: string, live: LiveState): Promise<Resource[]> {
  const out: Resource[] = [];
  for (const o of objs) {
    const t = await live.typeOf(o.apiVersion, o.kind);
    if (t && !t.namespaced) delete o.metadata.namespace;
    else if (!o.metadata.namespace && (t?.namespaced || namespace)) o.metadata.namespace = namespace || 'default';
    o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [TRACKING_ID]: trackingId(instance, o) };
    out.push(o);
  }
  return out;
}

/** Writes go to the destination's API; reads come from its live state. */
function syncTarget(live: LiveState, customHealth: CustomHealth, options: Set<string>, namespace: string | undefined): SyncTarget {
  const client = live.client;
  let namespaceReady = false;
  return {
    async apply(obj) {
      const own = optionsOf(obj);
      if (!namespaceReady && options.has('CreateNamespace=true') && namespace) {
        await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: FIELD_MANAGER });
        namespaceReady = true;
      }
      const replace = own.has('Replace=true') || options.has('Replace=true');
      if (replace) {
        const existing = await live.get(obj);
        if (existing) return client.update({ ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion } });
        return client.create(obj);
      }
      // server-side apply always: the field manager lets a later sync remove fields Git dropped
      return client.apply(obj, { fieldManager: FIELD_MANAGER, force: true });
    },
    async remove(obj) {
      await client.delete({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name! }, { propagationPolicy: 'Foreground' }).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    },
    live: (obj) => live.cached(obj),
    health: (obj) => assessHealth(obj, customHealth),
  };
}

/** The first Application named in pave.dev/depends-on that is not yet Synced and Healthy. */
async function waitingOn(app: Resource, client: Client): Promise<string | undefined> {
  const names = (app.metadata.annotations?.[DEPENDS_ON] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    const [ns, name] = n.includes('/') ? n.split('/') : [app.metadata.namespace!, n];
    try {
      const dep = await client.get({ apiVersion: ARGO_API_VERSION, kind: 'Application', namespace: ns, name: name! });
      if (dep.status?.sync?.status !== 'Synced' || dep.status?.health?.status !== 'Healthy') return `Application ${ns}/${name}`;
    } catch (e) {
      if (isNotFound(e)) return `Application ${ns}/${name} (not found)`;
      throw e;
    }
  }
  return undefined;
}

/**
 * Cascading deletion: with the resources finalizer, tracked objects go before the Application.
 * When no cluster answers to the destination any more, there is nothing Pave can delete, and
 * the finalizer goes (as in Argo CD); any other destination problem keeps it until fixed.
 */
async function finalise(app: Resource, client: Client, deps: AppControllerDeps, instance: string, log: Logger): Promise<{ requeueAfter?: number } | void> {
  const fins = app.metadata.finalizers ?? [];
  const mine = fins.filter((f) => f.startsWith(RESOURCES_FINALIZER));
  if (!mine.length) return;
  const cluster = await deps.destinations.resolve(app.spec?.destination ?? {});
  if (!cluster.ok && !cluster.missing) throw new Error(`cannot delete the resources of Application ${instance}: ${cluster.problem}`);
  let remaining: Resource[] = [];
  if (cluster.ok) {
    for (const r of app.status?.resources ?? []) await cluster.live.watch(`${r.group ? `${r.group}/` : ''}${r.version}`, r.kind);
    remaining = cluster.live.tracked(instance).filter((o) => o.metadata.annotations?.[TRACKING_ID] === trackingId(instance, o));
    for (const o of remaining) {
      if (o.metadata.deletionTimestamp) continue;
      await cluster.live.client.delete({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name! }).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
  } else log.info({ app: instance, reason: cluster.problem }, 'the destination cluster is gone; its resources are left as they are');
  if (remaining.length) return { requeueAfter: 500 };
  await client.update({ ...app, metadata: { ...app.metadata, finalizers: fins.filter((f) => !mine.includes(f)) } });
}

async function writeStatus(app: Resource, client: Client, status: Record<string, any>, conditions: Cond[], now: string): Promise<void> {
  const prev: Cond[] = app.status?.conditions ?? [];
  status.conditions = conditions.map((c) => ({ ...c, lastTransitionTime: prev.find((p) => p.type === c.type && p.message === c.message)?.lastTransitionTime ?? now }));
  if (!status.conditions.length) delete status.conditions;
  const { reconciledAt: _a, observedAt: _b, ...before } = app.status ?? {};
  const { reconciledAt: _c, observedAt: _d, ...after } = status;
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  status.reconciledAt = now;
  status.observedAt = now;
  await client.updateStatus({ ...app, status });
}
