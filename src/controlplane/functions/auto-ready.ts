import type { CompositionFunction, RunFunctionRequest, RunFunctionResponse } from './types.js';
import { jsonClone } from '../../api/clone.js';

/**
 * function-auto-ready, built in: marks each desired composed resource ready when its observed
 * counterpart has a Ready condition of True, for resources an earlier step left unspecified.
 */
export function autoReady(): CompositionFunction {
  return {
    name: 'function-auto-ready',
    run(req: RunFunctionRequest): RunFunctionResponse {
      const desired = jsonClone(req.desired);
      for (const [name, d] of Object.entries(desired.resources)) {
        if (d.ready && d.ready !== 'READY_UNSPECIFIED') continue;
        const o = req.observed.resources[name]?.resource;
        const ok = ((o?.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
        d.ready = ok ? 'READY_TRUE' : 'READY_FALSE';
      }
      return { desired, context: req.context };
    },
  };
}
