import { createHash } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import type { FunctionRegistry } from '../functions/registry.js';
import type { PatchAndTransformInput } from '../functions/patch-and-transform.js';
import type { DesiredResource, FunctionCondition, ObservedResource, RunFunctionRequest, State } from '../functions/types.js';
import { jsonClone } from '../../api/clone.js';

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
  credentials?: unknown[];
}

export interface ComposeRequest {
  composite: Resource;
  composition: CompositionSpec;
  /** Observed composed resources keyed by their composition resource name. */
  observed: Record<string, ObservedResource>;
  /** Connection details the XR currently has. */
  compositeConnectionDetails?: Record<string, string>;
  functions: FunctionRegistry;
  /** The `Function` object of that name, if any. */
  functionObject?: (name: string) => Resource | undefined;
  /** Where relative function module paths resolve from. */
  baseDir?: string;
}

export interface ComposeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ComposeResult {
  /** Desired composed resources keyed by composition resource name (not yet named or labelled). */
  resources: Record<string, DesiredResource>;
  /** What the functions want set on the XR (status, and sometimes spec). */
  composite: Resource;
  connectionDetails: Record<string, string>;
  events: ComposeEvent[];
  conditions: FunctionCondition[];
  /** Set when a step failed or returned a fatal result: the pipeline stopped there. */
  fatal?: string;
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
          { step: 'resources', functionRef: { name: 'function-patch-and-transform' }, input: { patchSets: c.patchSets, resources: c.resources, environment: c.environment } },
          { step: 'readiness', functionRef: { name: 'function-auto-ready' } },
        ];
  const xr = req.composite;
  let desired: State<DesiredResource> = {
    composite: { resource: { apiVersion: xr.apiVersion, kind: xr.kind, metadata: { name: xr.metadata.name } }, connectionDetails: {} },
    resources: {},
  };
  let context: Record<string, unknown> = {};
  const events: ComposeEvent[] = [];
  const conditions: FunctionCondition[] = [];
  const result = (fatalMessage?: string): ComposeResult => ({
    resources: desired.resources,
    composite: desired.composite.resource,
    connectionDetails: desired.composite.connectionDetails ?? {},
    events,
    conditions,
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
    let response;
    try {
      const fn = await req.functions.resolve(step.functionRef?.name ?? '', req.functionObject?.(step.functionRef?.name ?? ''), req.baseDir);
      // built-in functions never change their request; others get a copy they may change freely
      response = await fn.run(req.functions.isBuiltin(fn) ? request : jsonClone(request));
    } catch (e) {
      return result(`${label} (function ${step.functionRef?.name}) failed: ${(e as Error).message}`);
    }
    for (const r of response.results ?? []) {
      if (r.severity === 'SEVERITY_FATAL') return result(`${label}: ${r.message}`);
      events.push({ type: r.severity === 'SEVERITY_WARNING' ? 'Warning' : 'Normal', reason: r.reason ?? 'ComposeResources', message: `${label}: ${r.message}` });
    }
    conditions.push(...(response.conditions ?? []));
    if (response.desired) desired = response.desired;
    context = response.context ?? context;
  }
  return result();
}

export const COMPOSITION_RESOURCE_NAME = 'crossplane.io/composition-resource-name';
export const LABEL_COMPOSITE = 'crossplane.io/composite';
export const LABEL_CLAIM_NAME = 'crossplane.io/claim-name';
export const LABEL_CLAIM_NAMESPACE = 'crossplane.io/claim-namespace';

/**
 * The name of a composed resource: the XR's name and a five-character suffix, as Crossplane
 * names them, but derived from the XR's uid and the template name rather than random, so a
 * retry after a crash finds the resource it already created instead of making a second one.
 */
export function composedName(xr: Resource, resourceName: string): string {
  const suffix = createHash('sha256').update(`${xr.metadata.uid ?? xr.metadata.name}/${resourceName}`).digest('hex').slice(0, 5);
  return `${xr.metadata.name}-${suffix}`;
}

/** Names, labels and owns a desired composed resource the way Crossplane does. */
export function finishComposed(xr: Resource, resourceName: string, desired: Resource, existingName?: string): Resource {
  const out = jsonClone(desired);
  const meta = (out.metadata ??= {});
  meta.name = meta.name || existingName || composedName(xr, resourceName);
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
