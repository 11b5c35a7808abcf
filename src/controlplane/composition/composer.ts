import { createHash } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import type { FunctionRegistry } from '../functions/registry.js';
import type { PatchAndTransformInput } from '../functions/patch-and-transform.js';
import type { DesiredResource, FunctionCondition, ObservedResource, ResourceSelector, RunFunctionRequest, RunFunctionResponse, Severity, State } from '../functions/types.js';
import { jsonClone } from '../../api/clone.js';
import { jsonEqual } from '../../api/equality.js';

/** The spec of a Composition (or of a CompositionRevision, which copies it). */
export interface CompositionSpec {
  compositeTypeRef: { apiVersion: string; kind: string };
  mode?: 'Resources' | 'Pipeline';
  resources?: PatchAndTransformInput['resources'];
  patchSets?: PatchAndTransformInput['patchSets'];
  environment?: PatchAndTransformInput['environment'] & Record<string, unknown>;
  pipeline?: PipelineStep[];
  writeConnectionSecretsToNamespace?: string;
}

export interface PipelineStep {
  step: string;
  functionRef: { name: string };
  input?: Record<string, any>;
  credentials?: StepCredentials[];
}

/** A pipeline step's credentials: the Secret whose data the function gets under `name`. */
export interface StepCredentials {
  name: string;
  source: 'None' | 'Secret';
  secretRef?: { namespace: string; name: string };
}

/**
 * What a pipeline may read beyond the XR and its composed resources: the reconciler reads it
 * from the API, `pave render` from files. compose only asks; it never reads on its own.
 */
export interface ComposeSources {
  /** The Secret's data, decoded, or undefined when there is no such Secret. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The objects a function's requirements.extraResources selector matches. */
  select(selector: ResourceSelector): Promise<Resource[]>;
}

/**
 * How many times a step is called while its requirements keep changing, as in Crossplane: a
 * function that asks for something new every time would otherwise never finish.
 */
export const MAX_REQUIREMENT_CALLS = 5;

export interface ComposeRequest {
  composite: Resource;
  composition: CompositionSpec;
  /** Observed composed resources keyed by their composition resource name. */
  observed: Record<string, ObservedResource>;
  /** Connection details the XR currently has. */
  compositeConnectionDetails?: Record<string, string>;
  functions: FunctionRegistry;
  /** The `Function` object of that name, if any. */
  functionObject?: (name: string) => Resource | undefined | Promise<Resource | undefined>;
  /** Where relative function module paths resolve from. */
  baseDir?: string;
  /** Where credentials and extra resources come from; without it, a step that needs them fails. */
  sources?: ComposeSources;
  /** The context the first step starts with (`pave render --context-values`). */
  context?: Record<string, unknown>;
}

export interface ComposeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** A non-fatal result a pipeline step returned, with the step's name (as `crossplane render -r` prints it). */
export interface StepResult {
  step: string;
  severity: Severity;
  message: string;
}

export interface ComposeResult {
  /** Desired composed resources keyed by composition resource name (not yet named or labelled). */
  resources: Record<string, DesiredResource>;
  /** What the functions want set on the XR (status, and sometimes spec). */
  composite: Resource;
  connectionDetails: Record<string, string>;
  events: ComposeEvent[];
  /** The non-fatal results of the steps that ran, in pipeline order (their Events say the same). */
  results: StepResult[];
  conditions: FunctionCondition[];
  /** Set when a step failed or returned a fatal result: the pipeline stopped there. */
  fatal?: string;
  /** Whether a step read credentials or extra resources, which change without the XR changing. */
  readSources: boolean;
  /** The context the last step that ran returned. */
  context: Record<string, unknown>;
}

/**
 * Runs a composition against one XR and what is observed of its composed resources. Pure:
 * it reads nothing and writes nothing, so the reconciler, `pave render` and `pave plan` get the
 * same answer. Resources mode is a one-step pipeline of the built-in patch-and-transform.
 */
export async function compose(req: ComposeRequest): Promise<ComposeResult> {
  const c = req.composition;
  const steps: PipelineStep[] =
    (c.mode ?? (c.pipeline ? 'Pipeline' : 'Resources')) === 'Pipeline'
      ? c.pipeline ?? []
      : [
          // its readiness checks decide alone, as in Crossplane's Resources mode: no auto-ready after it
          { step: 'resources', functionRef: { name: 'function-patch-and-transform' }, input: { patchSets: c.patchSets, resources: c.resources, environment: c.environment } },
        ];
  const xr = req.composite;
  let desired: State<DesiredResource> = {
    composite: { resource: { apiVersion: xr.apiVersion, kind: xr.kind, metadata: { name: xr.metadata.name } }, connectionDetails: {} },
    resources: {},
  };
  let context: Record<string, unknown> = req.context ? jsonClone(req.context) : {};
  let readSources = false;
  const events: ComposeEvent[] = [];
  const results: StepResult[] = [];
  const conditions: FunctionCondition[] = [];
  const result = (fatalMessage?: string): ComposeResult => ({
    resources: desired.resources,
    composite: desired.composite.resource,
    connectionDetails: desired.composite.connectionDetails ?? {},
    events,
    results,
    conditions,
    readSources,
    context,
    ...(fatalMessage ? { fatal: fatalMessage } : {}),
  });
  if (!steps.length) return result('the composition has no pipeline steps and no resources');
  for (const step of steps) {
    const label = c.mode === 'Pipeline' || c.pipeline ? `pipeline step "${step.step}"` : 'composition';
    const request: RunFunctionRequest = {
      meta: { tag: step.step },
      observed: { composite: { resource: xr, connectionDetails: req.compositeConnectionDetails ?? {} }, resources: req.observed },
      desired,
      input: step.input,
      context,
    };
    let response: RunFunctionResponse;
    try {
      const fn = await req.functions.resolve(step.functionRef?.name ?? '', await req.functionObject?.(step.functionRef?.name ?? ''), req.baseDir);
      if (step.credentials?.length) {
        request.credentials = await stepCredentials(step, req.sources);
        readSources = true;
      }
      // a step is called again while the objects it asks for change, with those objects
      let asked: Record<string, ResourceSelector> = {};
      for (let call = 1; ; call++) {
        // built-in functions never change their request; others get a copy they may change freely
        response = await fn.run(req.functions.isBuiltin(fn) ? request : jsonClone(request));
        const wanted = response.requirements?.extraResources ?? {};
        if (jsonEqual(wanted, asked)) break;
        if (call === MAX_REQUIREMENT_CALLS) throw new Error(`its requirements were still changing after ${MAX_REQUIREMENT_CALLS} calls`);
        asked = wanted;
        request.extraResources = await extraResources(wanted, req.sources);
        readSources = true;
      }
    } catch (e) {
      return result(`${label} (function ${step.functionRef?.name}) failed: ${(e as Error).message}`);
    }
    for (const r of response.results ?? []) {
      if (r.severity === 'SEVERITY_FATAL') return result(`${label}: ${r.message}`);
      events.push({ type: r.severity === 'SEVERITY_WARNING' ? 'Warning' : 'Normal', reason: r.reason ?? 'ComposeResources', message: `${label}: ${r.message}` });
      results.push({ step: step.step, severity: r.severity, message: r.message });
    }
    conditions.push(...(response.conditions ?? []));
    if (response.desired) desired = response.desired;
    context = response.context ?? context;
  }
  return result();
}

/** The data of the Secrets a step's credentials name, as the function receives them. */
async function stepCredentials(step: PipelineStep, sources: ComposeSources | undefined): Promise<NonNullable<RunFunctionRequest['credentials']>> {
  const out: NonNullable<RunFunctionRequest['credentials']> = {};
  for (const [i, c] of (step.credentials ?? []).entries()) {
    if (c.source === 'None') continue;
    const ref = c.secretRef;
    if (c.source !== 'Secret' || !ref?.name || !ref.namespace) throw new Error(`credentials[${i}] ("${c.name}"): source must be Secret with secretRef.namespace and secretRef.name`);
    if (!sources) throw new Error(`credentials[${i}] ("${c.name}"): no Secrets can be read here`);
    const data = await sources.secret(ref.namespace, ref.name);
    if (!data) throw new Error(`credentials[${i}] ("${c.name}"): Secret ${ref.namespace}/${ref.name} not found`);
    out[c.name] = { credentialData: { data } };
  }
  return out;
}

/** The objects each selector of a step's requirements matches. */
async function extraResources(wanted: Record<string, ResourceSelector>, sources: ComposeSources | undefined): Promise<NonNullable<RunFunctionRequest['extraResources']>> {
  const out: NonNullable<RunFunctionRequest['extraResources']> = {};
  for (const [name, sel] of Object.entries(wanted)) {
    if (!sel?.apiVersion || !sel.kind) throw new Error(`requirements.extraResources["${name}"] needs apiVersion and kind`);
    if (!sel.matchName && !sel.matchLabels) throw new Error(`requirements.extraResources["${name}"] needs matchName or matchLabels`);
    const items = sources ? await sources.select(sel) : [];
    out[name] = { items: items.map((resource) => ({ resource })) };
  }
  return out;
}

/** Whether an object is one a selector of requirements.extraResources names. */
export function selects(sel: ResourceSelector, o: Resource): boolean {
  // any version of the kind: the API serves each object at every version of its type
  const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
  if (group(o.apiVersion) !== group(sel.apiVersion) || o.kind !== sel.kind) return false;
  if (sel.namespace && o.metadata.namespace !== sel.namespace) return false;
  if (sel.matchName) return o.metadata.name === sel.matchName;
  return Object.entries(sel.matchLabels?.labels ?? {}).every(([k, v]) => o.metadata.labels?.[k] === v);
}

export const COMPOSITION_RESOURCE_NAME = 'crossplane.io/composition-resource-name';
export const LABEL_COMPOSITE = 'crossplane.io/composite';
export const LABEL_CLAIM_NAME = 'crossplane.io/claim-name';
export const LABEL_CLAIM_NAMESPACE = 'crossplane.io/claim-namespace';

/**
 * The name of a composed resource: its template's generateName, else the XR's name and a dash,
 * then a five-character suffix, as Crossplane names them; but the suffix is derived from the
 * XR's uid and the template name rather than random, so a retry after a crash finds the
 * resource it already created instead of making a second one. `attempt` is for the rare
 * template whose suffix another of the same XR already has.
 */
export function composedName(xr: Resource, resourceName: string, attempt = 0, prefix = `${xr.metadata.name}-`): string {
  const suffix = createHash('sha256').update(`${xr.metadata.uid ?? xr.metadata.name}/${resourceName}${attempt ? `#${attempt}` : ''}`).digest('hex').slice(0, 5);
  return generatedName(prefix, suffix);
}

/**
 * A name as the API server makes one from generateName `prefix`: the prefix cut to 58
 * characters, so that with a five-character suffix the name fits in 63, and so can be a label
 * value (crossplane.io/composite) and most backends' identifiers.
 */
export function generatedName(prefix: string, suffix: string): string {
  return `${prefix.slice(0, 58)}${suffix}`;
}

/**
 * The names of an XR's composed resources, by template name: a template that names its resource
 * gets that name, one that exists keeps its name, and the rest get composedName (from the
 * template's generateName, when it has one). Five hex characters give two templates of one XR
 * the same suffix about once in a million XRs: the later in template-name order then hashes
 * again, so every reconcile picks the same names and no template takes over another's resource.
 */
export function composedNames(xr: Resource, desired: Record<string, { resource: Resource }>, existing: (resourceName: string) => string | undefined): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  const templates = Object.keys(desired).sort();
  const keep = (t: string, name: string | undefined) => {
    if (!name || names.has(t)) return;
    names.set(t, name);
    taken.add(name);
  };
  for (const t of templates) keep(t, desired[t]!.resource.metadata?.name);
  for (const t of templates) keep(t, existing(t));
  for (const t of templates) {
    if (names.has(t)) continue;
    const prefix = desired[t]!.resource.metadata?.generateName || `${xr.metadata.name}-`;
    let attempt = 0;
    while (taken.has(composedName(xr, t, attempt, prefix))) attempt++;
    keep(t, composedName(xr, t, attempt, prefix));
  }
  return names;
}

/** Names, labels and owns a desired composed resource the way Crossplane does; `name` is from composedNames. */
export function finishComposed(xr: Resource, resourceName: string, desired: Resource, name: string): Resource {
  const out = jsonClone(desired);
  const meta = (out.metadata ??= {});
  meta.name = name;
  delete meta.generateName;
  const xrLabels = xr.metadata.labels ?? {};
  meta.labels = { ...(meta.labels ?? {}), [LABEL_COMPOSITE]: xr.metadata.name! };
  if (xrLabels[LABEL_CLAIM_NAME]) meta.labels[LABEL_CLAIM_NAME] = xrLabels[LABEL_CLAIM_NAME];
  if (xrLabels[LABEL_CLAIM_NAMESPACE]) meta.labels[LABEL_CLAIM_NAMESPACE] = xrLabels[LABEL_CLAIM_NAMESPACE];
  meta.annotations = { ...(meta.annotations ?? {}), [COMPOSITION_RESOURCE_NAME]: resourceName };
  const trace = xr.metadata.annotations?.['pave.dev/trace-id'];
  if (trace) meta.annotations['pave.dev/trace-id'] = trace;
  meta.ownerReferences = [{ apiVersion: xr.apiVersion, kind: xr.kind, name: xr.metadata.name!, uid: xr.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }];
  return out;
}
