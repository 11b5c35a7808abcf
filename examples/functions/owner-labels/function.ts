/**
 * function-owner-labels: a composition function written in TypeScript, as a platform team
 * writes one for Pave. It labels every composed resource with the team that owns it, taken from
 * the claim's `pave.dev/owner` annotation (a claim's annotations reach its composite resource),
 * so that `pave get databases -l pave.dev/owner=team-reports` finds a team's infrastructure.
 *
 * Its input (the pipeline step's `input`):
 *   required: true   a composite resource without an owner fails to compose (a fatal result)
 *   required: false  it composes, with a warning Event saying that the owner is missing
 *
 * `npm run build` compiles it to dist/examples/functions/owner-labels/function.js, the module
 * that the Function object in function.yaml names.
 */
import type { CompositionFunction, FunctionResult, RunFunctionRequest, RunFunctionResponse } from '../../../src/controlplane/functions/types.js';

const OWNER = 'pave.dev/owner';

function run(req: RunFunctionRequest): RunFunctionResponse {
  const composite = req.observed.composite.resource;
  const owner: string | undefined = composite.metadata.annotations?.[OWNER];
  const what = `${composite.kind} ${composite.metadata.name}`;
  if (!owner) {
    const message = `${what} has no ${OWNER} annotation: set metadata.annotations[${OWNER}] on the claim`;
    // returning the desired state unchanged leaves it as the earlier steps made it
    if (req.input?.required !== false) return { desired: req.desired, context: req.context, results: [{ severity: 'SEVERITY_FATAL', reason: 'OwnerMissing', message }] };
    return { desired: req.desired, context: req.context, results: [{ severity: 'SEVERITY_WARNING', reason: 'OwnerMissing', message }] };
  }
  // the request is this function's own copy: changing it in place is allowed
  const desired = req.desired;
  for (const { resource } of Object.values(desired.resources)) {
    resource.metadata = { ...resource.metadata, labels: { ...resource.metadata?.labels, [OWNER]: owner } };
  }
  const count = Object.keys(desired.resources).length;
  const results: FunctionResult[] = [{ severity: 'SEVERITY_NORMAL', reason: 'OwnerLabelled', message: `labelled ${count} resource${count === 1 ? '' : 's'} for ${owner}` }];
  return { desired, context: req.context, results };
}

const ownerLabels: CompositionFunction = { name: 'function-owner-labels', run };
export default ownerLabels;
