import { jsonClone } from '../../api/clone.js';
import type { Resource } from '../../api/types.js';
import { fatal, type CompositionFunction, type DesiredResource, type RunFunctionRequest, type RunFunctionResponse } from './types.js';

/**
 * function-dummy, built in: returns the RunFunctionResponse written in its input
 * (dummy.fn.crossplane.io/v1beta1 Response, field `response`), laid over what it was given.
 * Crossplane's own tests compose with it, so their compositions run here unmodified.
 *
 * The overlay follows protobuf's merge, which the upstream function uses: the desired XR's
 * top-level fields and each named composed resource are replaced whole, results and conditions
 * are added to, context keys are replaced. Connection details are bytes in a
 * RunFunctionResponse, so the input writes them in base64, as protobuf's JSON does.
 */
export function dummy(): CompositionFunction {
  return {
    name: 'function-dummy',
    run(req: RunFunctionRequest): RunFunctionResponse {
      const given: unknown = req.input?.response;
      if (!given || typeof given !== 'object' || Array.isArray(given)) {
        return { desired: req.desired, results: [fatal('input.response must be a RunFunctionResponse (an object)', 'InvalidInput')], context: req.context };
      }
      // the input belongs to the composition, which other XRs share: what is returned is a copy
      const overlay = jsonClone(given) as RunFunctionResponse;
      const desired = jsonClone(req.desired);
      const wanted = overlay.desired;
      if (wanted?.composite) {
        const { resource, connectionDetails, ready } = wanted.composite;
        if (resource) desired.composite.resource = { ...desired.composite.resource, ...resource } as Resource;
        if (connectionDetails) desired.composite.connectionDetails = { ...(desired.composite.connectionDetails ?? {}), ...decodeBytes(connectionDetails) };
        if (ready) desired.composite.ready = ready;
      }
      for (const [name, r] of Object.entries(wanted?.resources ?? {})) desired.resources[name] = r as DesiredResource;
      return {
        desired,
        results: overlay.results ?? [],
        ...(overlay.conditions ? { conditions: overlay.conditions } : {}),
        ...(overlay.requirements ? { requirements: overlay.requirements } : {}),
        context: { ...req.context, ...(overlay.context ?? {}) },
      };
    },
  };
}

function decodeBytes(details: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]));
}
