import type { ControllerSpec } from '../runtime/controller.js';
import { setConditions } from './conditions.js';
import type { Provider } from './provider.js';
import { jsonClone } from '../api/clone.js';

export const IN_USE_FINALIZER = 'in-use.crossplane.io';
const LABEL = 'crossplane.io/provider-config';

/**
 * Keeps a provider's ProviderConfigs honest about their users: status.users counts the
 * ProviderConfigUsages naming each one, and the in-use finalizer holds a deletion until no
 * managed resource uses it, so deleting credentials cannot strand external resources.
 */
export function providerConfigController(provider: Provider): ControllerSpec | undefined {
  const pc = provider.providerConfig;
  const group = pc?.apiVersion.split('/')[0];
  // usage is tracked only for providers that serve a ProviderConfigUsage kind beside their ProviderConfig
  if (!pc || !provider.crds.some((c) => c.spec?.group === group && c.spec?.names?.kind === 'ProviderConfigUsage')) return undefined;
  return {
    name: `providerconfig/${provider.name}`,
    for: pc,
    watches: [{ apiVersion: pc.apiVersion, kind: 'ProviderConfigUsage', map: (u) => [u.metadata.labels?.[LABEL] ?? u.providerConfigRef?.name].filter(Boolean) }],
    workers: 1,
    async reconcile(key, ctx) {
      const cached = ctx.informers.get(pc.apiVersion, pc.kind).get(key);
      if (!cached) return;
      const usages = ctx.informers.get(pc.apiVersion, 'ProviderConfigUsage');
      usages.addIndexer('providerconfig', (u) => [u.metadata.labels?.[LABEL] ?? u.providerConfigRef?.name ?? '']);
      if (!usages.hasSynced()) return { requeueAfter: 200 };
      const users = usages.byIndex('providerconfig', key).length;
      const obj = jsonClone(cached);
      const finalizers = obj.metadata.finalizers ?? [];
      if (obj.metadata.deletionTimestamp) {
        if (users === 0 && finalizers.includes(IN_USE_FINALIZER)) {
          await ctx.client.update({ ...obj, metadata: { ...obj.metadata, finalizers: finalizers.filter((f) => f !== IN_USE_FINALIZER) } });
          return;
        }
      } else if (!finalizers.includes(IN_USE_FINALIZER)) {
        const updated = await ctx.client.update({ ...obj, metadata: { ...obj.metadata, finalizers: [...finalizers, IN_USE_FINALIZER] } });
        obj.metadata = updated.metadata;
      }
      const status = jsonClone(obj.status ?? {});
      status.users = users;
      if (obj.metadata.deletionTimestamp) setConditions(status, { type: 'Terminating', status: 'True', reason: 'InUse', message: `${users} managed resource${users === 1 ? '' : 's'} still use${users === 1 ? 's' : ''} this ${pc.kind}` });
      if (JSON.stringify(status) !== JSON.stringify(obj.status ?? {})) await ctx.client.updateStatus({ ...obj, status }).catch(() => undefined);
    },
  };
}
