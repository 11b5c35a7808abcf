import { mkdir, readdir, readFile, lstat, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Ajv } from 'ajv';
import type { ActionContext, TemplateAction } from './actions.js';
import type { TemplateBase } from './template-files.js';
import type { Templater } from './templating.js';
import { safePath } from './workspace.js';

/** A step of a v1beta3 template. */
export interface TemplateStep {
  id?: string;
  name?: string;
  action: string;
  input?: Record<string, unknown>;
  if?: unknown;
  each?: unknown;
}

/** What a task runs: the template's steps and output, the user's parameters. */
export interface TaskSpec {
  apiVersion: string;
  parameters: Record<string, unknown>;
  steps: TemplateStep[];
  output?: Record<string, unknown>;
  templateInfo?: { entityRef?: string; baseUrl?: string; entity?: { metadata?: Record<string, unknown> }; location?: string; origin?: string };
  user?: { ref?: string };
  EXPERIMENTAL_recovery?: { EXPERIMENTAL_strategy?: string };
}

export interface TaskEventBody {
  message: string;
  stepId?: string;
  status?: 'open' | 'processing' | 'completed' | 'failed' | 'cancelled' | 'skipped';
  output?: unknown;
  error?: { name: string; message: string };
}

export interface RunOptions {
  taskId: string;
  workspace: string;
  secrets: Record<string, string>;
  isDryRun: boolean;
  signal: AbortSignal;
  emit(body: TaskEventBody): void;
}

/** Replaces secret values (of three characters or more) with *** in text and in every string of a value. */
function secretMask(secrets: Record<string, string>): { text(s: string): string; value(v: unknown): unknown } {
  const values = Object.values(secrets).filter((v) => typeof v === 'string' && v.length >= 3);
  const text = (s: string) => values.reduce((out, v) => out.split(v).join('***'), s);
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(value);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
    return v;
  };
  return { text, value };
}

/** The step ids of a template, defaulting the way Backstage does (step-N). */
function stepId(step: TemplateStep, i: number): string {
  return step.id ?? `step-${i}`;
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return v !== '' && v !== 'false';
  return !!v;
}

/**
 * Runs a template's steps in order: renders each step's `if`, `each` and `input` against the
 * parameters, secrets and earlier steps' outputs, validates the input against the action's
 * schema, and runs the action in the task workspace. Returns the rendered output.
 * Secret values are masked in every message it emits, in the error it throws and in the
 * output it returns, so they reach neither the task record nor the server log.
 */
export class TaskRunner {
  private ajv = new Ajv({ allErrors: true, strict: false });
  private validators = new Map<string, ReturnType<Ajv['compile']>>();

  constructor(
    private readonly actions: Map<string, TemplateAction>,
    private readonly templater: Templater,
  ) {}

  async run(spec: TaskSpec, o: RunOptions): Promise<Record<string, unknown>> {
    const mask = secretMask(o.secrets);
    try {
      return mask.value(await this.steps(spec, o, mask.text)) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof TaskCancelled) throw e;
      const message = mask.text((e as Error).message);
      throw e instanceof StepError ? new StepError(e.stepId, message) : new Error(message);
    }
  }

  private async steps(spec: TaskSpec, o: RunOptions, mask: (s: string) => string): Promise<Record<string, unknown>> {
    const emit = (b: TaskEventBody) => o.emit({ ...b, message: mask(b.message) });
    await mkdir(o.workspace, { recursive: true });
    const steps: Record<string, { output: Record<string, unknown> }> = {};
    const context: Record<string, unknown> = { parameters: spec.parameters, secrets: o.secrets, steps, user: spec.user ?? {}, context: { task: { id: o.taskId } } };
    const template: TemplateBase = { location: spec.templateInfo?.location, origin: spec.templateInfo?.origin };
    for (const [i, step] of spec.steps.entries()) {
      const id = stepId(step, i);
      const name = step.name ?? id;
      const render = (part: string, value: unknown, ctx = context) => {
        try {
          return this.templater.render(value, ctx);
        } catch (e) {
          throw new StepError(id, `step "${name}": its ${part} cannot be rendered: ${(e as Error).message}`);
        }
      };
      if (o.signal.aborted) throw new TaskCancelled();
      if (step.if !== undefined && !truthy(render('if', step.if))) {
        emit({ stepId: id, status: 'skipped', message: `Skipping step ${name} because its if condition is false` });
        continue;
      }
      const action = this.actions.get(step.action);
      if (!action) throw new StepError(id, `step "${name}" uses action "${step.action}", which does not exist (see /api/scaffolder/v2/actions)`);
      if (o.isDryRun && !action.supportsDryRun) {
        emit({ stepId: id, status: 'skipped', message: `Skipping step ${name}: ${action.id} does not run in a dry run` });
        continue;
      }
      emit({ stepId: id, status: 'processing', message: `Beginning step ${name}` });
      const output: Record<string, unknown> = {};
      const each = step.each === undefined ? undefined : render('each', step.each);
      const iterations: ({ key: string; value: unknown } | undefined)[] =
        step.each === undefined ? [undefined] : Array.isArray(each) ? each.map((value, k) => ({ key: String(k), value })) : each && typeof each === 'object' ? Object.entries(each).map(([key, value]) => ({ key, value })) : [];
      if (each !== undefined && each !== null && !Array.isArray(each) && typeof each !== 'object') throw new StepError(id, `step "${name}": each must be a list or an object`);
      for (const it of iterations) {
        const input = (render('input', step.input ?? {}, it ? { ...context, each: it } : context) ?? {}) as Record<string, any>;
        this.validate(action, input, id, name);
        const ctx: ActionContext = {
          input,
          workspacePath: o.workspace,
          log: (m) => emit({ stepId: id, message: m }),
          output: (k, v) => {
            if (it) ((output[k] ??= []) as unknown[]).push(v);
            else output[k] = v;
          },
          template,
          traceId: o.taskId,
          user: spec.user,
          isDryRun: o.isDryRun,
          signal: o.signal,
        };
        try {
          await action.handler(ctx);
        } catch (e) {
          throw new StepError(id, `step "${name}" (${action.id}) failed: ${(e as Error).message}`);
        }
      }
      steps[id] = { output };
      emit({ stepId: id, status: 'completed', message: `Finished step ${name}` });
    }
    try {
      return (this.templater.render(spec.output ?? {}, context) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`the template's output cannot be rendered: ${(e as Error).message}`);
    }
  }

  private validate(action: TemplateAction, input: Record<string, unknown>, id: string, name: string): void {
    const schema = action.schema?.input;
    if (!schema) return;
    let v = this.validators.get(action.id);
    if (!v) this.validators.set(action.id, (v = this.ajv.compile(schema)));
    if (!v(input)) {
      const why = (v.errors ?? []).map((e) => `input${e.instancePath.replace(/\//g, '.')} ${e.message}`).join('; ');
      throw new StepError(id, `step "${name}" (${action.id}) has invalid input: ${why}`);
    }
  }
}

export class StepError extends Error {
  constructor(
    readonly stepId: string,
    message: string,
  ) {
    super(message);
  }
}

export class TaskCancelled extends Error {
  constructor() {
    super('the task was cancelled');
  }
}

/** Seeds a workspace from dry-run `directoryContents`, refusing paths that leave it. */
export async function writeDirectoryContents(workspace: string, contents: { path: string; base64Content: string }[]): Promise<void> {
  await mkdir(workspace, { recursive: true });
  for (const [i, f] of contents.entries()) {
    const full = await safePath(workspace, f.path, `directoryContents[${i}].path`);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, Buffer.from(f.base64Content, 'base64'));
  }
}

export async function readDirectoryContents(workspace: string): Promise<{ path: string; base64Content: string; executable: boolean }[]> {
  const out: { path: string; base64Content: string; executable: boolean }[] = [];
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const st = await lstat(full);
      if (st.isDirectory()) await walk(full);
      else if (st.isFile()) out.push({ path: relative(workspace, full), base64Content: (await readFile(full)).toString('base64'), executable: (st.mode & 0o111) !== 0 });
    }
  };
  await walk(workspace);
  return out;
}

export async function removeWorkspace(workspace: string): Promise<void> {
  await rm(workspace, { recursive: true, force: true });
}
