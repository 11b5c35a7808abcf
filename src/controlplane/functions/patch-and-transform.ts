import type { Resource } from '../../api/types.js';
import { extractConnectionDetails, type ConnectionDetail } from '../composition/connection.js';
import { applyEnvironmentPatch, applyPatch, expandPatchSets, patchDirection, RequiredFieldMissingError, type Patch, type PatchSet } from '../composition/patches.js';
import { isReady, type ReadinessCheck } from '../composition/readiness.js';
import { fatal, type CompositionFunction, type DesiredResource, type FunctionResult, type RunFunctionRequest, type RunFunctionResponse } from './types.js';
import { jsonClone } from '../../api/clone.js';

/** One composed resource template, as Resources mode and function-patch-and-transform write it. */
export interface ComposedTemplate {
  name?: string;
  base?: Resource;
  patches?: Patch[];
  connectionDetails?: ConnectionDetail[];
  readinessChecks?: ReadinessCheck[];
}

/** The input of function-patch-and-transform (pt.fn.crossplane.io/v1beta1 Resources). */
export interface PatchAndTransformInput {
  apiVersion?: string;
  kind?: string;
  patchSets?: PatchSet[];
  environment?: { patches?: Patch[] };
  resources?: ComposedTemplate[];
}

export const ENVIRONMENT_KEY = 'apiextensions.crossplane.io/environment';

/** Looks up the OpenAPI schema of a composed type, so that a patch to a path it lacks fails by name. */
export type SchemaLookup = (apiVersion: string, kind: string) => Record<string, any> | undefined;

/**
 * function-patch-and-transform, built in. Resources mode compositions run through it too, so
 * the two behave identically. Every error is fatal and names the resource template and the
 * patch index, because a half-rendered resource must never be applied. The one exception is
 * a Required patch whose source is not set yet: as in Crossplane, that resource alone is held
 * back (or, if it exists, the patch skipped) with a warning, so that a resource waiting for a
 * value another resource reports does not stop that other resource from being created.
 */
export function patchAndTransform(schemas?: SchemaLookup): CompositionFunction {
  return {
    name: 'function-patch-and-transform',
    run(req: RunFunctionRequest): RunFunctionResponse {
      const input = (req.input ?? {}) as PatchAndTransformInput;
      const desired = jsonClone(req.desired);
      // read only: composed-bound patches read the XR, composite-bound ones write desiredComposite
      const composite = req.observed.composite.resource;
      // ToComposite patches write here; only what they write becomes desired composite state
      const desiredComposite: Record<string, any> = desired.composite.resource ?? { apiVersion: composite.apiVersion, kind: composite.kind, metadata: {} };
      const environment = jsonClone((req.context[ENVIRONMENT_KEY] as Record<string, any>) ?? {});
      const connection: Record<string, string> = { ...(desired.composite.connectionDetails ?? {}) };
      const warnings: FunctionResult[] = [];
      try {
        (input.environment?.patches ?? []).forEach((p, i) => {
          applyEnvironmentPatch(p, `environment patch ${i}`, { composite, desiredComposite, environment });
        });
        const seen = new Set<string>();
        for (const [i, tpl] of (input.resources ?? []).entries()) {
          const name = tpl.name ?? `resource-${i}`;
          if (seen.has(name)) throw new Error(`resources[${i}]: the name "${name}" is used twice`);
          seen.add(name);
          const where = `resource "${name}"`;
          if (!tpl.base?.apiVersion || !tpl.base.kind) throw new Error(`${where}: base must have apiVersion and kind`);
          const observed = req.observed.resources[name];
          const composed: Record<string, any> = jsonClone(tpl.base);
          composed.metadata ??= {};
          const schema = schemas?.(tpl.base.apiVersion, tpl.base.kind);
          let patches;
          try {
            patches = expandPatchSets(tpl.patches, input.patchSets);
          } catch (e) {
            throw new Error(`${where}: ${(e as Error).message}`);
          }
          let heldBack = false;
          for (const { patch, index } of patches) {
            const dir = patchDirection(patch);
            try {
              if (dir === 'toComposed') applyPatch(patch, `patch ${index}`, { composite, composed, environment, composedSchema: schema });
              else if (observed) applyPatch(patch, `patch ${index}`, { composite: dir === 'toComposite' ? desiredComposite : composite, composed: observed.resource, environment });
            } catch (e) {
              if (!(e instanceof RequiredFieldMissingError)) throw new Error(`${where}: ${(e as Error).message}`);
              // Required means "do not create this resource until the field exists": a resource
              // that does not exist yet stays out of desired state, while others still render.
              if (dir === 'toComposed' && !observed) {
                warnings.push({ severity: 'SEVERITY_WARNING', reason: 'RequiredFieldMissing', message: `${where} is not created yet: ${e.message}` });
                heldBack = true;
                break;
              }
              warnings.push({ severity: 'SEVERITY_WARNING', reason: 'RequiredFieldMissing', message: `${where}: ${e.message}; the patch is skipped because the resource already exists` });
            }
          }
          if (heldBack) continue;
          const entry: DesiredResource = { resource: composed as Resource };
          if (observed) {
            try {
              Object.assign(connection, extractConnectionDetails(observed.resource, observed.connectionDetails, tpl.connectionDetails));
              // only ever Ready: an unready resource is left unspecified, as upstream leaves it, so
              // that a later step (function-auto-ready, say) may still decide it is ready
              if (isReady(observed.resource, tpl.readinessChecks)) entry.ready = 'READY_TRUE';
            } catch (e) {
              throw new Error(`${where}: ${(e as Error).message}`);
            }
          } else {
            Object.assign(connection, extractConnectionDetails(undefined, undefined, (tpl.connectionDetails ?? []).filter((d) => (d.type ?? (d.value !== undefined ? 'FromValue' : '')) === 'FromValue')));
          }
          desired.resources[name] = entry;
        }
      } catch (e) {
        return { desired: req.desired, results: [fatal((e as Error).message, 'PatchAndTransformFailed')], context: req.context };
      }
      desired.composite = { ...desired.composite, resource: desiredComposite as Resource, connectionDetails: connection };
      return { desired, ...(warnings.length ? { results: warnings } : {}), context: { ...req.context, [ENVIRONMENT_KEY]: environment } };
    },
  };
}
