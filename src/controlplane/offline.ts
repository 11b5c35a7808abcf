import { compileSchema, type OpenApiSchema } from '../api/schema.js';
import type { Condition, Resource } from '../api/types.js';
import { ready, Reason, synced } from './conditions.js';
import { decodeSecretData } from './composition/connection.js';
import { overlay } from './overlay.js';
import { listNames } from './composite.js';
import { compose, composedNames, COMPOSITION_RESOURCE_NAME, finishComposed, selects, type ComposeSources, type CompositionSpec, type StepResult } from './composition/composer.js';
import { crossplaneCrds } from './crds.js';
import { FunctionRegistry } from './functions/registry.js';
import type { ObservedResource } from './functions/types.js';
import { claimCrd, compositeCrd, XrdError, type Xrd } from './xrd-crds.js';

/**
 * The control plane without a server: `pave render` and `pave validate`. Everything here
 * works from objects read from files, with no API, no cluster and no container runtime.
 */

/** Schemas by apiVersion/kind, from CRDs, XRDs (via the CRDs they generate) and Crossplane's own. */
export class SchemaSet {
  private schemas = new Map<string, OpenApiSchema>();
  private validators = new Map<string, ReturnType<typeof compileSchema>>();

  constructor(objects: Resource[] = []) {
    for (const crd of crossplaneCrds()) this.addCrd(crd);
    for (const o of objects) {
      if (o.kind === 'CustomResourceDefinition') this.addCrd(o);
      if (o.kind === 'CompositeResourceDefinition') {
        try {
          this.addCrd(compositeCrd(o as Xrd));
          const claim = claimCrd(o as Xrd);
          if (claim) this.addCrd(claim);
        } catch {
          // reported by validate; render without the schema
        }
      }
    }
  }

  private addCrd(crd: Resource): void {
    for (const v of crd.spec?.versions ?? []) {
      if (v.schema?.openAPIV3Schema) this.schemas.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
    }
  }

  schema(apiVersion: string, kind: string): OpenApiSchema | undefined {
    return this.schemas.get(`${apiVersion}/${kind}`);
  }

  /**
   * The object with the defaults its schema declares filled in, as the API server stores it.
   * Fields the schema does not declare are kept: render shows what the functions would see
   * of the file the user wrote, not a pruned copy.
   */
  withDefaults(obj: Resource): Resource {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const schema = this.schemas.get(key);
    if (!schema) return obj;
    let v = this.validators.get(key);
    if (!v) this.validators.set(key, (v = compileSchema(schema)));
    const defaulted = structuredClone(obj) as Record<string, unknown>;
    v(defaulted);
    return overlay(defaulted, obj) as Resource;
  }

  /** Problems of one object against its schema: `field: message`, or undefined when no schema is known. */
  check(obj: Resource): string[] | undefined {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const schema = this.schemas.get(key);
    if (!schema) return undefined;
    let v = this.validators.get(key);
    if (!v) this.validators.set(key, (v = compileSchema(schema)));
    return v(structuredClone(obj) as Record<string, unknown>, { strict: true }).causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  }
}

export interface RenderInput {
  composite: Resource;
  composition: Resource;
  /** Function objects (pkg.crossplane.io) the pipeline names. */
  functions?: Resource[];
  /** Observed composed resources (with the crossplane.io/composition-resource-name annotation). */
  observed?: Resource[];
  /**
   * CRDs and XRDs: the XR gets the defaults of its schema, and patches to paths a schema lacks
   * fail as they would on a server.
   */
  definitions?: Resource[];
  /** Where relative function module paths resolve from. */
  baseDir?: string;
  /** Objects a function may ask for in requirements.extraResources. */
  extraResources?: Resource[];
  /** Secrets that pipeline steps' credentials name. */
  credentials?: Resource[];
  /** The context the first step starts with. */
  context?: Record<string, unknown>;
}

export interface RenderOutput {
  /** The XR (its input spec and metadata, the status composition gives it), then each composed resource, sorted by composition resource name. */
  objects: Resource[];
  fatal?: string;
  events: { type: string; reason: string; message: string }[];
  /** Every non-fatal result, in pipeline order. */
  results: StepResult[];
  /** The context the pipeline ended with. */
  context: Record<string, unknown>;
}

/**
 * The lastTransitionTime of every condition render writes. A real time would make two renders
 * of the same input differ, which breaks the golden-file tests people keep of render output;
 * Crossplane's render picks this same instant, so its output and Pave's can be compared.
 */
export const RENDER_CONDITION_TIME = '2024-01-01T00:00:00Z';

/** Condition types Crossplane owns: a function may not set them on the XR. */
const SYSTEM_CONDITIONS = new Set(['Synced', 'Ready']);

/**
 * What composing the XR produces: the XR with the status the pipeline gives it (Ready, the
 * desired status fields and the functions' own conditions, as Crossplane's render reports it),
 * then each composed resource named as Pave will create it.
 */
export async function render(input: RenderInput): Promise<RenderOutput> {
  const schemas = new SchemaSet(input.definitions ?? []);
  const registry = new FunctionRegistry((apiVersion, kind) => schemas.schema(apiVersion, kind));
  // an XR read from a file lacks the defaults the API server would fill in from its XRD
  const xr = structuredClone(schemas.withDefaults(input.composite));
  const observed: Record<string, ObservedResource> = {};
  for (const o of input.observed ?? []) {
    const name = o.metadata.annotations?.[COMPOSITION_RESOURCE_NAME];
    if (name) observed[name] = { resource: o };
  }
  const fnObjects = new Map((input.functions ?? []).map((f) => [f.metadata.name!, f]));
  const sources: ComposeSources = {
    secret: async (namespace, name) => {
      const s = (input.credentials ?? []).find((c) => c.kind === 'Secret' && c.metadata.name === name && (c.metadata.namespace ?? 'default') === namespace);
      if (!s) return undefined;
      return { ...decodeSecretData((s.data ?? {}) as Record<string, string>), ...((s.stringData ?? {}) as Record<string, string>) };
    },
    select: async (sel) => (input.extraResources ?? []).filter((o) => selects(sel, o)),
  };
  const result = await compose({ composite: xr, composition: input.composition.spec as CompositionSpec, observed, functions: registry, functionObject: (n) => fnObjects.get(n), baseDir: input.baseDir, sources, context: input.context });
  const at = (c: Condition): Condition => ({ ...c, lastTransitionTime: RENDER_CONDITION_TIME });
  if (result.fatal) {
    const status = { conditions: [at(synced(false, result.fatal)), at(ready('False', Reason.Creating))] };
    return { objects: [{ ...xr, status }], fatal: result.fatal, events: result.events, results: result.results, context: result.context };
  }
  const status: Record<string, any> = {};
  for (const [k, v] of Object.entries(result.composite?.status ?? {})) if (k !== 'conditions') status[k] = v;
  const unready = Object.entries(result.resources).filter(([, d]) => d.ready !== 'READY_TRUE').map(([n]) => n);
  const conditions = [at(unready.length ? ready('False', Reason.Creating, `Unready resources: ${listNames(unready)}`) : ready('True', Reason.Available))];
  for (const c of result.conditions) {
    if (SYSTEM_CONDITIONS.has(c.type)) continue;
    const next = at({ type: c.type, status: c.status === 'STATUS_CONDITION_TRUE' ? 'True' : c.status === 'STATUS_CONDITION_FALSE' ? 'False' : 'Unknown', reason: c.reason, ...(c.message ? { message: c.message } : {}) });
    const i = conditions.findIndex((x) => x.type === c.type);
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
  }
  status.conditions = conditions;
  const names = composedNames(xr, result.resources, (t) => observed[t]?.resource.metadata.name);
  const composed = Object.entries(result.resources)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, d]) => {
      const o = finishComposed(xr, name, d.resource, names.get(name)!);
      if (!xr.metadata.uid) for (const r of o.metadata.ownerReferences ?? []) delete (r as { uid?: string }).uid;
      return o;
    });
  return { objects: [{ ...xr, status }, ...composed], events: result.events, results: result.results, context: result.context };
}

/**
 * The documents `pave render` prints, in the shape `crossplane render` prints them: the XR as
 * only its identity and status (functions can change nothing else) unless the full XR is asked
 * for, the composed resources, then the results if asked for.
 */
export function renderDocuments(out: RenderOutput, opts: { includeFullXr?: boolean; includeFunctionResults?: boolean; includeContext?: boolean } = {}): Resource[] {
  const [xr, ...composed] = out.objects;
  if (!xr) return [];
  const identity = { name: xr.metadata.name, ...(xr.metadata.namespace ? { namespace: xr.metadata.namespace } : {}) };
  const shownXr: Resource = opts.includeFullXr ? xr : { apiVersion: xr.apiVersion, kind: xr.kind, metadata: identity, status: xr.status };
  const results = opts.includeFunctionResults ? out.results.map((r) => ({ apiVersion: 'render.crossplane.io/v1beta1', kind: 'Result', step: r.step, severity: r.severity, message: r.message }) as unknown as Resource) : [];
  const context = opts.includeContext ? [{ apiVersion: 'render.crossplane.io/v1beta1', kind: 'Context', fields: out.context } as unknown as Resource] : [];
  return [shownXr, ...composed, ...results, ...context];
}

/** What validation found for one resource. */
export interface ValidationResult {
  /** apiVersion and kind as Kubernetes prints a GroupVersionKind: `group/version, Kind=Kind`. */
  gvk: string;
  /** metadata.name, or the composition resource name of an unnamed composed resource. */
  name: string;
  /** `field: message` for each problem; undefined when no schema for the kind is known. */
  problems?: string[];
}

/**
 * Checks resources against the schemas extensions define (CRDs, and XRDs through the CRDs
 * they generate) and Crossplane's own, plus the rules of XRDs and compositions, as
 * `crossplane beta validate EXTENSIONS RESOURCES` does. An extension that cannot give a
 * schema (an XRD that does not convert) is reported in `extensionProblems`.
 */
export function validate(resources: Resource[], extensions: Resource[] = resources): { results: ValidationResult[]; extensionProblems: string[] } {
  const schemas = new SchemaSet(extensions);
  const extensionProblems: string[] = [];
  for (const x of extensions) {
    if (x.kind !== 'CompositeResourceDefinition' || resources.includes(x)) continue;
    try {
      compositeCrd(x as Xrd);
    } catch (e) {
      extensionProblems.push(`CompositeResourceDefinition ${x.metadata?.name}: ${e instanceof XrdError ? e.message : String(e)}`);
    }
  }
  const results = resources.map((o): ValidationResult => {
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
    const gvk = `${group}/${version}, Kind=${o.kind}`;
    const name = o.metadata?.name ?? o.metadata?.annotations?.[COMPOSITION_RESOURCE_NAME] ?? '';
    const problems = schemas.check(o);
    if (problems === undefined) return { gvk, name };
    if (o.kind === 'CompositeResourceDefinition') {
      try {
        compositeCrd(o as Xrd);
      } catch (e) {
        problems.push(e instanceof XrdError ? e.message : String(e));
      }
    }
    if (o.kind === 'Composition') problems.push(...compositionProblems(o, schemas));
    return { gvk, name, problems };
  });
  return { results, extensionProblems };
}

function compositionProblems(c: Resource, schemas: SchemaSet): string[] {
  const out: string[] = [];
  const ref = c.spec?.compositeTypeRef;
  if (ref && !schemas.schema(ref.apiVersion, ref.kind)) out.push(`spec.compositeTypeRef: no XRD or CRD among the extensions defines ${ref.apiVersion}/${ref.kind}`);
  const mode = c.spec?.mode ?? (c.spec?.pipeline ? 'Pipeline' : 'Resources');
  if (mode === 'Pipeline' && !c.spec?.pipeline?.length) out.push('spec.pipeline: a Pipeline composition needs at least one step');
  const steps = new Set<string>();
  (c.spec?.pipeline ?? []).forEach((s: { step: string }, i: number) => {
    if (steps.has(s.step)) out.push(`spec.pipeline[${i}].step: "${s.step}" is used twice`);
    steps.add(s.step);
  });
  (c.spec?.resources ?? []).forEach((r: { base?: Resource; name?: string }, i: number) => {
    if (!r.base?.apiVersion || !r.base.kind) out.push(`spec.resources[${i}].base: apiVersion and kind are required`);
  });
  return out;
}
