import type { ControllerSpec } from '../runtime/controller.js';
import { Reason, setConditions } from './conditions.js';
import { FIELD_MANAGER, type ControlPlane } from './control-plane.js';
import { claimCrd, compositeCrd, referenceableVersion, XrdError, type Xrd } from './xrd-crds.js';
import { jsonClone } from '../api/clone.js';

/**
 * CompositeResourceDefinition → composite and claim CRDs, then the controllers that serve
 * them. Established says the composite type is served and watched; Offered says the same of
 * the claim type. The CRDs are owned by the XRD, so deleting it removes them and their objects.
 */
export function xrdController(cp: ControlPlane): ControllerSpec {
  return {
    name: 'xrd',
    for: { apiVersion: 'apiextensions.crossplane.io/v1', kind: 'CompositeResourceDefinition' },
    generationChangedOnly: true,
    async reconcile(key, ctx) {
      const cached = ctx.informers.get('apiextensions.crossplane.io/v1', 'CompositeResourceDefinition').get(key) as Xrd | undefined;
      if (!cached || cached.metadata.deletionTimestamp) return;
      const xrd = jsonClone(cached);
      const status = jsonClone(xrd.status ?? {});
      let composite;
      let claim;
      try {
        composite = compositeCrd(xrd);
        claim = claimCrd(xrd);
      } catch (e) {
        if (!(e instanceof XrdError)) throw e;
        const message = `CompositeResourceDefinition ${xrd.metadata.name} is invalid: ${e.message}`;
        setConditions(status, { type: 'Established', status: 'False', reason: 'InvalidDefinition', message });
        ctx.recorder.event(xrd, 'Warning', 'InvalidDefinition', message);
        if (JSON.stringify(status) !== JSON.stringify(xrd.status ?? {})) await ctx.client.updateStatus({ ...xrd, status });
        return;
      }
      try {
        await ctx.client.apply(composite, { fieldManager: FIELD_MANAGER, force: true });
        if (claim) await ctx.client.apply(claim, { fieldManager: FIELD_MANAGER, force: true });
      } catch (e) {
        const message = `cannot serve the types of ${xrd.metadata.name}: ${(e as Error).message}`;
        setConditions(status, { type: 'Established', status: 'False', reason: 'CannotApplyCRD', message });
        ctx.recorder.event(xrd, 'Warning', 'CannotApplyCRD', message);
        await ctx.client.updateStatus({ ...xrd, status });
        throw e;
      }
      cp.startXrd(xrd);
      const apiVersion = referenceableVersion(xrd);
      setConditions(status, { type: 'Established', status: 'True', reason: Reason.WatchingComposite });
      if (claim) setConditions(status, { type: 'Offered', status: 'True', reason: Reason.WatchingClaim });
      else status.conditions = status.conditions.filter((c: { type: string }) => c.type !== 'Offered');
      status.controllers = {
        compositeResourceType: { apiVersion, kind: xrd.spec.names.kind },
        ...(xrd.spec.claimNames ? { compositeResourceClaimType: { apiVersion, kind: xrd.spec.claimNames.kind } } : {}),
      };
      if (JSON.stringify(status) !== JSON.stringify(xrd.status ?? {})) await ctx.client.updateStatus({ ...xrd, status });
    },
  };
}
