import type { Resource } from '../../api/types.js';

/**
 * The composition function contract: a TypeScript mirror of Crossplane's
 * RunFunctionRequest / RunFunctionResponse (apiextensions.fn.proto.v1). A function receives
 * the observed state and the desired state so far, and returns the desired state it wants.
 * Functions are pure: they must not write to the API. The pipeline passes each function's
 * desired state and context to the next one.
 *
 * A platform team adds a function by writing a module whose default export (or export named
 * `compositionFunction`) implements CompositionFunction, and naming it in a `Function` object
 * (pkg.crossplane.io/v1) with the annotation `pave.dev/module: <path or package>`; pipeline
 * steps then refer to it by the Function's name, as in Crossplane.
 */
export interface CompositionFunction {
  /** The name pipeline steps use in functionRef.name. */
  name: string;
  run(req: RunFunctionRequest): Promise<RunFunctionResponse> | RunFunctionResponse;
}

export type Ready = 'READY_UNSPECIFIED' | 'READY_TRUE' | 'READY_FALSE';

export interface ObservedResource {
  resource: Resource;
  /** Plain (decoded) connection details. */
  connectionDetails?: Record<string, string>;
}

export interface DesiredResource {
  resource: Resource;
  ready?: Ready;
}

export interface State<R> {
  composite: { resource: Resource; connectionDetails?: Record<string, string>; ready?: Ready };
  resources: Record<string, R>;
}

export interface RunFunctionRequest {
  meta?: { tag?: string };
  observed: State<ObservedResource>;
  desired: State<DesiredResource>;
  /** The step's `input`, as written in the Composition. */
  input?: Record<string, any>;
  /** Shared between steps; keys are conventionally namespaced (`apiextensions.crossplane.io/environment`). */
  context: Record<string, unknown>;
  /** The step's `credentials`, by name: each the data of the Secret it names, decoded. */
  credentials?: Record<string, { credentialData: { data: Record<string, string> } }>;
  /**
   * What the function asked for in `requirements.extraResources` of its previous call, by the
   * name it gave: the matching objects (none when nothing matches).
   */
  extraResources?: Record<string, { items: { resource: Resource }[] }>;
}

/** Which objects a function wants to read: one by name, or all with some labels. */
export interface ResourceSelector {
  apiVersion: string;
  kind: string;
  matchName?: string;
  matchLabels?: { labels: Record<string, string> };
  /** For namespaced kinds; without it, every namespace. */
  namespace?: string;
}

export interface Requirements {
  /** Objects the function needs to see: it is called again with them in `extraResources`. */
  extraResources?: Record<string, ResourceSelector>;
}

export type Severity = 'SEVERITY_FATAL' | 'SEVERITY_WARNING' | 'SEVERITY_NORMAL';

export interface FunctionResult {
  severity: Severity;
  message: string;
  reason?: string;
  /** TARGET_COMPOSITE (default) or TARGET_COMPOSITE_AND_CLAIM. */
  target?: 'TARGET_COMPOSITE' | 'TARGET_COMPOSITE_AND_CLAIM';
}

export interface FunctionCondition {
  type: string;
  status: 'STATUS_CONDITION_TRUE' | 'STATUS_CONDITION_FALSE' | 'STATUS_CONDITION_UNKNOWN';
  reason: string;
  message?: string;
  target?: 'TARGET_COMPOSITE' | 'TARGET_COMPOSITE_AND_CLAIM';
}

export interface RunFunctionResponse {
  meta?: { tag?: string; ttl?: string };
  desired?: State<DesiredResource>;
  results?: FunctionResult[];
  context?: Record<string, unknown>;
  conditions?: FunctionCondition[];
  requirements?: Requirements;
}

/** A fatal result as a function returns it. */
export function fatal(message: string, reason?: string): FunctionResult {
  return { severity: 'SEVERITY_FATAL', message, ...(reason ? { reason } : {}) };
}
