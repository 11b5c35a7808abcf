import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Client } from '../../api/client.js';
import { ApiError, isApiError } from '../../api/errors.js';
import type { Resource } from '../../api/types.js';
import type { ControllerSpec, ReconcileResult } from '../../runtime/controller.js';
import type { Informer } from '../../runtime/informer.js';
import type { CatalogIndex } from '../catalog/catalog-index.js';
import { ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, parseEntityRef, stringifyEntityRef } from '../catalog/entity.js';
import { readDirectoryContents, removeWorkspace, StepError, TaskCancelled, writeDirectoryContents, type TaskEventBody, type TaskRunner, type TaskSpec } from './task-runner.js';
import { ParameterCheck } from './parameters.js';

export const TASK_API = 'scaffolder.pave.dev/v1alpha1';
export const TASK_NAMESPACE = 'pave-system';
/**
 * On a task created with secrets until they are stored beside it: the task is visible to the
 * runner from its create on, and must not start without them.
 */
const AWAITING_SECRETS = 'scaffolder.pave.dev/awaiting-secrets';
/** How long a task waits for its secrets before the server that took them is taken to have stopped. */
const SECRETS_GRACE_MS = 60_000;

/** The resource type tasks are stored as, so they survive restarts and show in kubectl. */
export const taskCrd: Resource = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'scaffoldertasks.scaffolder.pave.dev' },
  spec: {
    group: 'scaffolder.pave.dev',
    scope: 'Namespaced',
    names: { plural: 'scaffoldertasks', singular: 'scaffoldertask', kind: 'ScaffolderTask', shortNames: ['task'] },
    versions: [{
      name: 'v1alpha1', served: true, storage: true, subresources: { status: {} },
      additionalPrinterColumns: [{ name: 'Template', type: 'string', jsonPath: '.spec.templateInfo.entityRef' }, { name: 'State', type: 'string', jsonPath: '.status.state' }],
      schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    }],
  },
};

export type TaskState = 'open' | 'processing' | 'completed' | 'failed' | 'cancelled';

export interface TaskEvent {
  id: number;
  taskId: string;
  body: TaskEventBody;
  type: 'log' | 'completion' | 'cancelled' | 'recovered';
  createdAt: string;
}

/** Parameter names whose values are secret: `ui:field: Secret`, `ui:widget: password` or format password. */
export function secretParameters(parameters: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (s: any) => {
    if (!s || typeof s !== 'object') return;
    if (Array.isArray(s)) return s.forEach(walk);
    for (const [k, p] of Object.entries<any>(s.properties ?? {})) {
      if (p && (p['ui:field'] === 'Secret' || p['ui:widget'] === 'password' || p.format === 'password')) out.add(k);
    }
    for (const key of ['dependencies', 'allOf', 'oneOf', 'anyOf']) if (s[key]) walk(Object.values(s[key]));
  };
  walk(parameters);
  return out;
}

interface Running {
  abort: AbortController;
  events: TaskEvent[];
  listeners: Set<(e: TaskEvent) => void>;
  flush?: NodeJS.Timeout;
  /** The event save in flight, if any. */
  flushing?: Promise<void>;
}

/**
 * Scaffolder tasks: created from a template and parameters, stored as ScaffolderTask
 * resources, run by a controller (so a task created on one request runs even if the server
 * restarts first), with their event log in the task's status. Secret parameters are kept in a
 * Secret owned by the task (encrypted at rest) and never in the task, its events or the log.
 */
export class TaskService {
  private readonly parameters = new ParameterCheck();
  private running = new Map<string, Running>();
  private informer?: Informer;

  constructor(
    private readonly client: Client,
    private readonly index: CatalogIndex,
    private readonly runner: TaskRunner,
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {}

  attach(informer: Informer): void {
    this.informer = informer;
  }

  private ref(id: string) {
    return { apiVersion: TASK_API, kind: 'ScaffolderTask', namespace: TASK_NAMESPACE, name: id };
  }

  /** Builds a task spec from a Template entity in the catalog and the user's values. */
  specFor(templateRef: string, values: Record<string, unknown>, userRef?: string): { spec: TaskSpec; secrets: Record<string, string> } {
    let key: string;
    try {
      key = stringifyEntityRef(parseEntityRef(templateRef, { defaultKind: 'Template' }));
    } catch (e) {
      throw ApiError.badRequest(`templateRef: ${(e as Error).message}`);
    }
    const rec = this.index.get(key);
    if (!rec || rec.entity.kind !== 'Template') throw new ApiError(404, 'NotFound', `Template ${templateRef} was not found in the catalog`);
    const t = rec.entity;
    if (t.apiVersion !== 'scaffolder.backstage.io/v1beta3') throw ApiError.badRequest(`Template ${templateRef} is ${t.apiVersion}; only scaffolder.backstage.io/v1beta3 templates run`);
    return this.split(
      {
        apiVersion: t.apiVersion,
        parameters: this.parameters.check(rec.ref, t.spec?.parameters, values),
        steps: t.spec?.steps ?? [],
        output: t.spec?.output,
        templateInfo: { entityRef: rec.ref, entity: { metadata: { name: t.metadata.name, title: t.metadata.title, annotations: t.metadata.annotations } }, location: t.metadata.annotations?.[ANNOTATION_LOCATION], origin: t.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION] },
        user: userRef ? { ref: userRef } : undefined,
        EXPERIMENTAL_recovery: t.spec?.EXPERIMENTAL_recovery,
      },
      t.spec?.parameters,
    );
  }

  /** Moves secret parameters out of the spec. */
  split(spec: TaskSpec, parameterSchema: unknown, secrets: Record<string, string> = {}): { spec: TaskSpec; secrets: Record<string, string> } {
    const secret = secretParameters(parameterSchema);
    const parameters = { ...spec.parameters };
    const out = { ...secrets };
    for (const k of secret) {
      if (parameters[k] !== undefined) out[k] = String(parameters[k]);
      delete parameters[k];
    }
    return { spec: { ...spec, parameters }, secrets: out };
  }

  async create(spec: TaskSpec, secrets: Record<string, string>, createdBy?: string): Promise<string> {
    const id = randomUUID();
    const task: Resource = await this.client.create<Resource>({
      apiVersion: TASK_API,
      kind: 'ScaffolderTask',
      metadata: { name: id, namespace: TASK_NAMESPACE, annotations: { 'pave.dev/trace-id': id, ...(createdBy ? { 'scaffolder.pave.dev/created-by': createdBy } : {}), ...(Object.keys(secrets).length ? { [AWAITING_SECRETS]: 'true' } : {}) } },
      spec,
    });
    if (Object.keys(secrets).length) {
      await this.storeSecrets(task, secrets);
      await this.client.patch(this.ref(id), 'merge', { metadata: { annotations: { [AWAITING_SECRETS]: null } } });
    }
    return id;
  }

  /** Keeps a task's secrets in a Secret it owns, so they go when the task goes. */
  private async storeSecrets(task: Resource, secrets: Record<string, string>): Promise<void> {
    const id = task.metadata.name!;
    await this.client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `task-${id}`, namespace: TASK_NAMESPACE, ownerReferences: [{ apiVersion: TASK_API, kind: 'ScaffolderTask', name: id, uid: task.metadata.uid! }] },
        data: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
      },
      { fieldManager: 'pave-scaffolder', force: true },
    );
  }

  async get(id: string): Promise<Resource> {
    try {
      return await this.client.get(this.ref(id));
    } catch (e) {
      if (isApiError(e, 404)) throw new ApiError(404, 'NotFound', `Task with id ${id} does not exist`);
      throw e;
    }
  }

  /** The task as Backstage serialises it. */
  serialize(t: Resource): Record<string, unknown> {
    return {
      id: t.metadata.name,
      spec: t.spec,
      status: t.status?.state ?? 'open',
      createdAt: t.metadata.creationTimestamp,
      lastHeartbeatAt: t.status?.lastHeartbeatAt,
      createdBy: t.metadata.annotations?.['scaffolder.pave.dev/created-by'] ?? '',
    };
  }

  async list(): Promise<Resource[]> {
    return (await this.client.list(TASK_API, 'ScaffolderTask', { namespace: TASK_NAMESPACE })).items;
  }

  /** Events after `after` (an event id): the persisted ones plus any not yet flushed. */
  async events(id: string, after = -1): Promise<TaskEvent[]> {
    const live = this.running.get(id);
    const events: TaskEvent[] = live ? live.events : ((await this.get(id)).status?.events ?? []);
    return events.filter((e) => e.id > after);
  }

  /** Calls `listener` for each new event of a running task; returns an unsubscribe function. */
  subscribe(id: string, listener: (e: TaskEvent) => void): (() => void) | undefined {
    const r = this.running.get(id);
    if (!r) return undefined;
    r.listeners.add(listener);
    return () => r.listeners.delete(listener);
  }

  async cancel(id: string): Promise<TaskState> {
    const t = await this.get(id);
    const r = this.running.get(id);
    if (r) {
      r.abort.abort();
      return 'cancelled';
    }
    const state: TaskState = t.status?.state ?? 'open';
    if (state === 'open') await this.writeStatus(id, { state: 'cancelled', events: [...(t.status?.events ?? []), this.event(id, t.status?.events ?? [], 'cancelled', { message: 'Run cancelled', status: 'cancelled' })] });
    return state === 'open' ? 'cancelled' : state;
  }

  /**
   * Runs a finished task again from the start, as the same task. A task's secrets are deleted
   * when it finishes, so a retry that needs them is given them again (as Backstage's retry is).
   */
  async retry(id: string, secrets: Record<string, string> = {}): Promise<void> {
    const t = await this.get(id);
    const state: TaskState = t.status?.state ?? 'open';
    if (state === 'processing' || state === 'open') throw new ApiError(409, 'Conflict', `Task ${id} is ${state}; only finished tasks can be retried`);
    if (Object.keys(secrets).length) await this.storeSecrets(t, secrets);
    if (t.metadata.annotations?.[AWAITING_SECRETS]) await this.client.patch(this.ref(id), 'merge', { metadata: { annotations: { [AWAITING_SECRETS]: null } } });
    const events = t.status?.events ?? [];
    await this.writeStatus(id, { state: 'open', events: [...events, this.event(id, events, 'recovered', { message: 'Retrying the task from the start' })] });
  }

  private event(taskId: string, existing: TaskEvent[], type: TaskEvent['type'], body: TaskEventBody): TaskEvent {
    return { id: existing.length ? existing[existing.length - 1]!.id + 1 : 0, taskId, body, type, createdAt: new Date().toISOString() };
  }

  private async writeStatus(id: string, status: Record<string, unknown>): Promise<void> {
    await this.client.patch(this.ref(id), 'merge', { status: { ...status, lastHeartbeatAt: new Date().toISOString() } }, { subresource: 'status' });
  }

  private async secretsStored(id: string): Promise<boolean> {
    return this.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: TASK_NAMESPACE, name: `task-${id}` }).then(
      () => true,
      (e) => {
        if (isApiError(e, 404)) return false;
        throw e;
      },
    );
  }

  private async secretsOf(id: string): Promise<Record<string, string>> {
    try {
      const s = await this.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: TASK_NAMESPACE, name: `task-${id}` });
      return Object.fromEntries(Object.entries<string>(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    } catch (e) {
      if (isApiError(e, 404)) return {};
      throw e;
    }
  }

  /** Claims an open task and runs it; a task found `processing` that no one here runs was interrupted by a restart. */
  async reconcile(key: string): Promise<ReconcileResult | void> {
    const t = this.informer?.get(key) ?? (await this.client.get(this.ref(key.split('/')[1]!)).catch(() => undefined));
    if (!t) return;
    const id = t.metadata.name!;
    if (this.running.has(id)) return;
    const state: TaskState = t.status?.state ?? 'open';
    const events: TaskEvent[] = t.status?.events ?? [];
    if (state === 'processing') {
      if (t.spec?.EXPERIMENTAL_recovery?.EXPERIMENTAL_strategy === 'startOver') {
        await this.writeStatus(id, { state: 'open', events: [...events, this.event(id, events, 'recovered', { message: 'The server restarted while this task ran; starting it over' })] });
      } else {
        const msg = 'The server restarted while this task ran; it was stopped';
        await this.writeStatus(id, { state: 'failed', events: [...events, this.event(id, events, 'recovered', { message: msg, status: 'failed' }), this.event(id, [...events, { id: (events.at(-1)?.id ?? -1) + 1 } as TaskEvent], 'completion', { message: msg, status: 'failed', error: { name: 'Error', message: msg } })] });
      }
      return;
    }
    if (state !== 'open') return;
    if (t.metadata.annotations?.[AWAITING_SECRETS] && !(await this.secretsStored(id))) {
      const age = Date.now() - Date.parse(t.metadata.creationTimestamp ?? '');
      // the annotation's removal brings the task back here; the wait is for a server that stopped
      if (!(age >= SECRETS_GRACE_MS)) return { requeueAfter: SECRETS_GRACE_MS - Math.max(0, age) + 1000 };
      const msg = 'The server stopped before this task\'s secrets were stored; retry it with its secrets';
      await this.writeStatus(id, { state: 'failed', events: [...events, this.event(id, events, 'completion', { message: msg, status: 'failed', error: { name: 'Error', message: msg } })] });
      return;
    }
    // claiming with the resourceVersion we read: if another worker claimed it first, this conflicts
    await this.client.patch(this.ref(id), 'merge', { metadata: { resourceVersion: t.metadata.resourceVersion }, status: { state: 'processing', lastHeartbeatAt: new Date().toISOString() } }, { subresource: 'status' });
    await this.execute(t);
  }

  /**
   * Runs a claimed task to its end. The end is published in this order: workspace and secrets
   * removed, final state stored, then the completion event sent. So whoever sees the completion
   * can retry at once: the task is finished in the store and nothing of the old run is left to
   * delete the new run's workspace or secrets.
   */
  private async execute(t: Resource): Promise<void> {
    const id = t.metadata.name!;
    const r: Running = { abort: new AbortController(), events: [...(t.status?.events ?? [])], listeners: new Set() };
    this.running.set(id, r);
    const flush = () => {
      clearTimeout(r.flush);
      r.flush = undefined;
      r.flushing = this.writeStatus(id, { events: [...r.events] }).catch((err) => this.log.warn({ err, task: id }, 'could not save task events'));
    };
    const push = (type: TaskEvent['type'], body: TaskEventBody) => {
      const e = this.event(id, r.events, type, body);
      r.events.push(e);
      for (const l of r.listeners) l(e);
      r.flush ??= setTimeout(flush, 50);
    };
    const workspace = join(this.dataDir, 'scaffolder', 'tasks', id);
    let state: TaskState = 'completed';
    let output: Record<string, unknown> | undefined;
    let end: { type: TaskEvent['type']; body: TaskEventBody };
    try {
      await removeWorkspace(workspace);
      output = await this.runner.run(t.spec as TaskSpec, { taskId: id, workspace, secrets: await this.secretsOf(id), isDryRun: false, signal: r.abort.signal, emit: (b) => push('log', b) });
      end = { type: 'completion', body: { message: 'Run completed with status: completed', status: 'completed', output } };
    } catch (e) {
      if (r.abort.signal.aborted || e instanceof TaskCancelled) {
        state = 'cancelled';
        end = { type: 'cancelled', body: { message: 'Run cancelled', status: 'cancelled' } };
      } else {
        state = 'failed';
        const message = (e as Error).message;
        if (e instanceof StepError) push('log', { stepId: e.stepId, status: 'failed', message });
        end = { type: 'completion', body: { message: `Run completed with status: failed: ${message}`, status: 'failed', error: { name: 'Error', message } } };
        this.log.info({ task: id, error: message }, 'scaffolder task failed');
      }
    }
    try {
      await removeWorkspace(workspace);
      await this.client.delete({ apiVersion: 'v1', kind: 'Secret', namespace: TASK_NAMESPACE, name: `task-${id}` }).catch(() => undefined);
      clearTimeout(r.flush);
      // an event save still in flight must not land after the final write and drop its events
      await r.flushing;
      const last = this.event(id, r.events, end.type, end.body);
      r.events.push(last);
      await this.writeStatus(id, { state, events: r.events, ...(output ? { output } : {}) });
      this.running.delete(id);
      for (const l of r.listeners) l(last);
    } finally {
      this.running.delete(id);
    }
  }

  /** Runs a template without storing a task or publishing anything, in a scratch workspace. */
  async dryRun(spec: TaskSpec, secrets: Record<string, string>, directoryContents: { path: string; base64Content: string }[]) {
    const id = `dry-run-${randomUUID()}`;
    const workspace = join(this.dataDir, 'scaffolder', 'dry-run', id);
    const log: { body: TaskEventBody }[] = [];
    try {
      await writeDirectoryContents(workspace, directoryContents);
      const output = await this.runner.run(spec, { taskId: id, workspace, secrets, isDryRun: true, signal: new AbortController().signal, emit: (body) => log.push({ body }) });
      return { log, directoryContents: await readDirectoryContents(workspace), output, steps: spec.steps.map((s, i) => ({ id: s.id ?? `step-${i}`, name: s.name ?? s.id, action: s.action })) };
    } catch (e) {
      throw ApiError.badRequest(`dry run failed: ${(e as Error).message}`);
    } finally {
      await removeWorkspace(workspace);
    }
  }

  controller(): ControllerSpec {
    return {
      name: 'scaffolder-tasks',
      for: { apiVersion: TASK_API, kind: 'ScaffolderTask' },
      workers: 8,
      reconcile: (key) => this.reconcile(key),
    };
  }
}
