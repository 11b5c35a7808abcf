import type { Client, ObjectRef } from '../../api/client.js';
import { isNotFound } from '../../api/errors.js';
import type { Resource } from '../../api/types.js';
import { parseEntityRef, resourceNameFor, stringifyEntityRef } from '../catalog/entity.js';
import { catalogKind, storageApiVersion } from '../catalog/kinds.js';
import type { ActionContext, TemplateAction } from './actions.js';

const ARGO_API = 'argoproj.io/v1alpha1';

/** What a check makes of one version of the watched object: keep waiting, done, or failed. */
type Verdict<T> = { done: T } | { failed: string } | undefined;

/**
 * Waits for one object to reach a state, reacting to its watch events (not a poll interval), so a
 * step ends within milliseconds of the change it waits for. `check` sees undefined while the
 * object does not exist. A slow re-read backs the watch up in case its stream ends.
 */
export async function waitForObject<T>(client: Client, ref: ObjectRef, check: (obj: Resource | undefined) => Verdict<T>, opts: { timeoutMs: number; signal: AbortSignal; what: string }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let watch: { stop(): void } | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      watch?.stop();
      for (const t of timers) clearTimeout(t);
      opts.signal.removeEventListener('abort', onAbort);
      f();
    };
    const judge = (obj: Resource | undefined) => {
      let v: Verdict<T>;
      try {
        v = check(obj);
      } catch (e) {
        return finish(() => reject(e));
      }
      if (v && 'done' in v) finish(() => resolve(v.done));
      else if (v && 'failed' in v) finish(() => reject(new Error(v.failed)));
    };
    const reread = () =>
      client.get(ref).then(judge, (e) => (isNotFound(e) ? judge(undefined) : undefined));
    const onAbort = () => finish(() => reject(new Error('the task was cancelled')));
    // a listener added to an already aborted signal never fires: a cancel that came first would be lost
    if (opts.signal.aborted) return onAbort();
    opts.signal.addEventListener('abort', onAbort);
    timers.push(setTimeout(() => finish(() => reject(new Error(`timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${opts.what}`))), opts.timeoutMs));
    timers.push(setInterval(() => void reread(), 5000));
    client
      .watch(ref.apiVersion, ref.kind, { namespace: ref.namespace, fieldSelector: `metadata.name=${ref.name}` }, (e) => {
        if (e.type === 'ADDED' || e.type === 'MODIFIED') judge(e.object);
        else if (e.type === 'DELETED') judge(undefined);
      })
      .then((w) => {
        if (settled) w.stop();
        else watch = w;
        // read after the watch is open, so a change between the two is never missed
        return reread();
      })
      .catch((e) => finish(() => reject(e)));
  });
}

/** How one sync operation of an Application relates to the commit a task pushed. */
function syncVerdict(app: Resource | undefined, ref: ObjectRef, revision: string, pushedBy: number): Verdict<{ revision: string; resources: number; phase: string }> {
  const id = `Application ${ref.namespace}/${ref.name}`;
  if (!app) return { failed: `${id} does not exist, so nothing syncs the commit; create it (see examples/platform/bootstrap) or remove this step` };
  const op = app.status?.operationState;
  const synced = op?.syncResult?.revision as string | undefined;
  const result = { revision: synced ?? revision, resources: (op?.syncResult?.resources ?? []).length, phase: op?.phase as string };
  // an operation on this commit, or one that resolved the branch after the push (it contains the commit)
  const covers = synced === revision || (!!op?.startedAt && Date.parse(op.startedAt) > pushedBy);
  if (covers && op?.phase === 'Succeeded') return { done: result };
  if (synced === revision && (op?.phase === 'Failed' || op?.phase === 'Error')) return { failed: `${id} failed to sync ${revision.slice(0, 7)}: ${op.message ?? op.phase}` };
  if ((app.status?.history ?? []).some((h: { revision?: string }) => h.revision === revision)) return { done: { ...result, revision, phase: 'Succeeded' } };
  const error = (app.status?.conditions ?? []).find((c: { type: string }) => /Error$/.test(c.type) && c.type !== 'SyncError');
  if (error && app.status?.sync?.revision === revision) return { failed: `${id} cannot sync ${revision.slice(0, 7)}: ${error.message}` };
  return undefined;
}

/**
 * Actions that follow a request past the Git push: until GitOps has applied the commit, and
 * until the catalog shows what it created. Each ends as soon as the change lands.
 */
export function deliveryActions(deps: { client: Client }): TemplateAction[] {
  const str = { type: 'string' };
  const waitForSync: TemplateAction = {
    id: 'pave:gitops:wait-for-sync',
    description: 'Waits until an Argo CD Application has synced a commit (its sync operation on that revision succeeded).',
    schema: {
      input: { type: 'object', required: ['application', 'revision'], properties: { application: str, namespace: str, revision: str, timeoutSeconds: { type: 'number', minimum: 1 } } },
      output: { type: 'object', properties: { application: str, revision: str } },
    },
    async handler(ctx: ActionContext) {
      const ref = { apiVersion: ARGO_API, kind: 'Application', namespace: ctx.input.namespace ?? 'argocd', name: ctx.input.application as string };
      const revision = String(ctx.input.revision);
      const started = Date.now();
      ctx.log(`Waiting for Application ${ref.namespace}/${ref.name} to sync commit ${revision.slice(0, 7)}`);
      const r = await waitForObject(deps.client, ref, (app) => syncVerdict(app, ref, revision, started), {
        timeoutMs: (ctx.input.timeoutSeconds ?? 300) * 1000,
        signal: ctx.signal,
        what: `Application ${ref.namespace}/${ref.name} to sync ${revision.slice(0, 7)}`,
      });
      ctx.log(`Application ${ref.namespace}/${ref.name} synced ${r.revision.slice(0, 7)} in ${Date.now() - started} ms (${r.resources} resources applied)`);
      ctx.output('application', ref.name);
      ctx.output('revision', r.revision);
    },
  };
  const waitForEntity: TemplateAction = {
    id: 'pave:catalog:wait-for-entity',
    description: 'Waits until an entity is in the catalog, for example the Component that a synced claim becomes.',
    schema: {
      input: { type: 'object', required: ['entityRef'], properties: { entityRef: str, timeoutSeconds: { type: 'number', minimum: 1 } } },
      output: { type: 'object', properties: { entityRef: str } },
    },
    async handler(ctx: ActionContext) {
      const parsed = parseEntityRef(String(ctx.input.entityRef), { defaultKind: 'Component' });
      const entityRef = stringifyEntityRef(parsed);
      const k = catalogKind(parsed.kind);
      if (!k) throw new Error(`entityRef "${ctx.input.entityRef}" has kind "${parsed.kind}", which is not a catalog kind`);
      const ref = { apiVersion: storageApiVersion(k), kind: k.kind, namespace: parsed.namespace, name: resourceNameFor(parsed.name) };
      const started = Date.now();
      await waitForObject(deps.client, ref, (e) => (e ? { done: true } : undefined), { timeoutMs: (ctx.input.timeoutSeconds ?? 120) * 1000, signal: ctx.signal, what: `${entityRef} in the catalog` });
      ctx.log(`${entityRef} is in the catalog (after ${Date.now() - started} ms)`);
      ctx.output('entityRef', entityRef);
    },
  };
  return [waitForSync, waitForEntity];
}
