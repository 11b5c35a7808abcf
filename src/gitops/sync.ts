import type { Resource } from '../api/types.js';
import type { Health } from './health.js';

export const HOOK = 'argocd.argoproj.io/hook';
export const HOOK_DELETE_POLICY = 'argocd.argoproj.io/hook-delete-policy';
export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
export const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

export type SyncPhase = 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail';
const PHASES: SyncPhase[] = ['PreSync', 'Sync', 'PostSync'];

/** One desired object (or hook) of a sync, with what the comparison found. */
export interface SyncTask {
  obj: Resource;
  phase: SyncPhase;
  wave: number;
  hook: boolean;
  inSync: boolean;
  live?: Resource;
}

/** Argo CD's syncResult.resources entry. */
export interface ResourceResult {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: 'Synced' | 'SyncFailed' | 'Pruned' | 'PruneSkipped';
  message: string;
  syncPhase: SyncPhase;
  hookType?: SyncPhase;
  hookPhase?: 'Running' | 'Succeeded' | 'Failed';
}

export interface SyncOptions {
  prune: boolean;
  pruneLast: boolean;
  applyOutOfSyncOnly: boolean;
  dryRun?: boolean;
}

/** What the engine needs from the destination; the Application controller provides it. */
export interface SyncTarget {
  apply(obj: Resource): Promise<Resource>;
  remove(obj: Resource): Promise<void>;
  live(obj: Resource): Resource | undefined;
  health(obj: Resource | undefined): Health | undefined;
}

export interface SyncStep {
  phase: 'Running' | 'Succeeded' | 'Failed';
  message: string;
  resources: ResourceResult[];
}

function parts(obj: Resource) {
  const av = obj.apiVersion;
  const slash = av.indexOf('/');
  return { group: slash < 0 ? '' : av.slice(0, slash), version: slash < 0 ? av : av.slice(slash + 1), kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
}

export function resourceKey(o: { group?: string; kind: string; namespace?: string; name: string } | Resource): string {
  if ('metadata' in o) {
    const p = parts(o as Resource);
    return `${p.group}/${p.kind}/${p.namespace}/${p.name}`;
  }
  return `${o.group ?? ''}/${o.kind}/${o.namespace ?? ''}/${o.name}`;
}

export function optionsOf(obj: Resource): Set<string> {
  return new Set((obj.metadata.annotations?.[SYNC_OPTIONS] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

/** Kinds that others depend on go first within a wave, as kubectl and Argo CD order them. */
const KIND_ORDER = ['Namespace', 'CustomResourceDefinition', 'CompositeResourceDefinition', 'Composition', 'ServiceAccount', 'Secret', 'ConfigMap', 'ProviderConfig', 'AppProject'];
function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

/** Splits desired objects into sync tasks: phase from the hook annotation, wave from sync-wave. */
export function planTasks(desired: Resource[], live: (o: Resource) => Resource | undefined, inSync: (o: Resource) => boolean): SyncTask[] {
  const tasks: SyncTask[] = [];
  for (const obj of desired) {
    const hookTypes = (obj.metadata.annotations?.[HOOK] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const wave = Number(obj.metadata.annotations?.[SYNC_WAVE] ?? 0) || 0;
    if (hookTypes.includes('Skip')) continue;
    if (hookTypes.length) {
      for (const h of hookTypes) if (['PreSync', 'Sync', 'PostSync', 'SyncFail'].includes(h)) tasks.push({ obj, phase: h as SyncPhase, wave, hook: true, inSync: false, live: live(obj) });
      continue;
    }
    tasks.push({ obj, phase: 'Sync', wave, hook: false, inSync: inSync(obj), live: live(obj) });
  }
  return tasks.sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase) || a.wave - b.wave || kindRank(a.obj.kind) - kindRank(b.obj.kind) || resourceKey(a.obj).localeCompare(resourceKey(b.obj)));
}

/**
 * Advances a sync operation by one step. It is re-entrant: given the results recorded so far
 * it applies the first wave that is not done, and returns Running while a wave still has to
 * become healthy before the next one starts. A crash between steps repeats at most one wave's
 * applies, which are idempotent.
 */
export async function syncStep(tasks: SyncTask[], prunable: Resource[], opts: SyncOptions, target: SyncTarget, previous: ResourceResult[]): Promise<SyncStep> {
  const results = new Map(previous.map((r) => [resourceKey(r) + (r.hookType ? `#${r.hookType}` : ''), r]));
  const out = () => [...results.values()];
  const record = (t: SyncTask | Resource, status: ResourceResult['status'], message: string, extra: Partial<ResourceResult> = {}) => {
    const obj = 'obj' in t ? t.obj : t;
    const phase = 'obj' in t ? t.phase : 'Sync';
    const hookType = 'obj' in t && t.hook ? t.phase : undefined;
    const r: ResourceResult = { ...parts(obj), status, message, syncPhase: phase, ...(hookType ? { hookType } : {}), ...extra };
    results.set(resourceKey(obj) + (hookType ? `#${hookType}` : ''), r);
    return r;
  };
  const seen = (t: SyncTask) => results.get(resourceKey(t.obj) + (t.hook ? `#${t.phase}` : ''));

  const prune = async (): Promise<string | undefined> => {
    for (const obj of prunable) {
      if (seen({ obj, phase: 'Sync', wave: 0, hook: false, inSync: false })) continue;
      if (!opts.prune || optionsOf(obj).has('Prune=false')) {
        record(obj, 'PruneSkipped', opts.prune ? 'ignored (Prune=false)' : 'ignored (requires pruning)');
        continue;
      }
      try {
        await target.remove(obj);
        record(obj, 'Pruned', 'pruned');
      } catch (e) {
        record(obj, 'SyncFailed', `prune failed: ${(e as Error).message}`);
        return `pruning ${obj.kind}/${obj.metadata.name} failed: ${(e as Error).message}`;
      }
    }
    return undefined;
  };

  const groups: SyncTask[][] = [];
  for (const t of tasks) {
    if (t.phase === 'SyncFail') continue;
    const last = groups[groups.length - 1];
    if (last && last[0]!.phase === t.phase && last[0]!.wave === t.wave) last.push(t);
    else groups.push([t]);
  }
  let pruned = false;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    if (!pruned && !opts.pruneLast && group[0]!.phase !== 'PreSync') {
      pruned = true;
      const failed = await prune();
      if (failed) return { phase: 'Failed', message: failed, resources: out() };
    }
    let waiting: string | undefined;
    let appliedNow = 0;
    let hooksStarted = 0;
    for (const t of group) {
      const prev = seen(t);
      if (t.hook) {
        if (!prev) {
          try {
            const created = await createHook(t, target);
            record({ ...t, obj: created }, 'Synced', 'hook created', { hookPhase: 'Running' });
            results.set(resourceKey(t.obj) + `#${t.phase}`, { ...results.get(resourceKey(created) + `#${t.phase}`)! });
            appliedNow++;
            hooksStarted++;
          } catch (e) {
            record(t, 'SyncFailed', (e as Error).message, { hookPhase: 'Failed' });
            return { phase: 'Failed', message: `${t.phase} hook ${t.obj.kind}/${t.obj.metadata.name} failed: ${(e as Error).message}`, resources: out() };
          }
          continue;
        }
        if (prev.hookPhase === 'Succeeded') continue;
        const live = target.live({ ...t.obj, metadata: { ...t.obj.metadata, name: prev.name } });
        const h = target.health(live);
        if (h?.status === 'Degraded') {
          results.set(resourceKey(t.obj) + `#${t.phase}`, { ...prev, hookPhase: 'Failed', status: 'SyncFailed', message: h.message ?? 'hook failed' });
          return { phase: 'Failed', message: `${t.phase} hook ${t.obj.kind}/${prev.name} failed: ${h.message ?? 'degraded'}`, resources: out() };
        }
        if (live && (!h || h.status === 'Healthy')) {
          results.set(resourceKey(t.obj) + `#${t.phase}`, { ...prev, hookPhase: 'Succeeded', message: 'hook completed' });
          if (deletePolicies(t.obj).includes('HookSucceeded')) await target.remove(live).catch(() => undefined);
        } else waiting = `waiting for ${t.phase} hook ${t.obj.kind}/${prev.name}`;
        continue;
      }
      const mustApply = !t.inSync || (!prev && !opts.applyOutOfSyncOnly);
      if (mustApply) {
        try {
          if (!opts.dryRun) await target.apply(t.obj);
          record(t, 'Synced', `${t.obj.kind.toLowerCase()}/${t.obj.metadata.name} ${t.live ? 'configured' : 'created'}`);
          appliedNow++;
        } catch (e) {
          record(t, 'SyncFailed', (e as Error).message);
          return { phase: 'Failed', message: `one or more objects failed to apply: ${t.obj.kind}/${t.obj.metadata.name}: ${(e as Error).message}`, resources: out() };
        }
      } else if (!prev) record(t, 'Synced', `${t.obj.kind.toLowerCase()}/${t.obj.metadata.name} unchanged`);
    }
    const isLast = g === groups.length - 1 && !(opts.pruneLast && prunable.length);
    if (waiting) return { phase: 'Running', message: waiting, resources: out() };
    // hooks always finish before the operation does, even in the last wave
    if (hooksStarted) return { phase: 'Running', message: `waiting for ${group[0]!.phase} hooks to complete`, resources: out() };
    if (isLast) break;
    if (appliedNow) return { phase: 'Running', message: `waiting for wave ${group[0]!.wave} of ${group[0]!.phase} to become healthy`, resources: out() };
    for (const t of group) {
      if (t.hook) continue;
      const h = target.health(t.live);
      if (h && h.status !== 'Healthy' && h.status !== 'Suspended') {
        return { phase: 'Running', message: `waiting for healthy state of ${t.obj.kind}/${t.obj.metadata.name} (wave ${t.wave}): ${h.status}${h.message ? `: ${h.message}` : ''}`, resources: out() };
      }
    }
  }
  if (!pruned || opts.pruneLast) {
    const failed = await prune();
    if (failed) return { phase: 'Failed', message: failed, resources: out() };
  }
  return { phase: 'Succeeded', message: 'successfully synced (all tasks run)', resources: out() };
}

function deletePolicies(obj: Resource): string[] {
  return (obj.metadata.annotations?.[HOOK_DELETE_POLICY] ?? 'BeforeHookCreation').split(',').map((s) => s.trim());
}

async function createHook(t: SyncTask, target: SyncTarget): Promise<Resource> {
  const obj = structuredClone(t.obj);
  if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${Date.now().toString(36)}`;
  const existing = target.live(obj);
  if (existing && deletePolicies(obj).includes('BeforeHookCreation')) await target.remove(existing);
  return target.apply(obj);
}

/** Runs SyncFail hooks after a failed sync; their own failures are reported, not retried. */
export async function runSyncFailHooks(tasks: SyncTask[], target: SyncTarget): Promise<void> {
  for (const t of tasks) if (t.hook && t.phase === 'SyncFail') await createHook(t, target).catch(() => undefined);
}
