import type { ManagedResource, ProviderContext } from '../../controlplane/provider.js';
import type { Resource } from '../../api/types.js';
import { externalName, mrLabel } from '../managed-resource.js';

/**
 * Resolves a cross-resource reference the way crossplane-runtime's generated resolvers do:
 * a value set directly wins; else `<field>Ref` names the target object; else `<field>Selector`
 * picks the first object with the given labels (and, with matchControllerRef, the same
 * controller as the referencing resource). The resolved value is the target's external name.
 */
export async function resolveReference(mr: ManagedResource, field: string, target: { apiVersion: string; kind: string }, ctx: ProviderContext): Promise<string | undefined> {
  const p = mr.spec.forProvider ?? {};
  if (typeof p[field] === 'string' && p[field]) return p[field];
  const ref = p[`${field}Ref`] as { name: string } | undefined;
  if (ref?.name) {
    try {
      return externalName((await ctx.client.get({ ...target, name: ref.name })) as ManagedResource);
    } catch (err) {
      throw new Error(`${mrLabel(mr)}: spec.forProvider.${field}Ref: cannot resolve ${target.kind} ${ref.name}: ${(err as Error).message}`);
    }
  }
  const sel = p[`${field}Selector`] as { matchLabels?: Record<string, string>; matchControllerRef?: boolean } | undefined;
  if (sel) {
    const labelSelector = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const items = (await ctx.client.list(target.apiVersion, target.kind, labelSelector ? { labelSelector } : {})).items;
    const controller = (o: Resource) => o.metadata.ownerReferences?.find((r) => r.controller)?.uid;
    const mine = controller(mr);
    const match = items.find((o) => !sel.matchControllerRef || (mine !== undefined && controller(o) === mine));
    if (!match) throw new Error(`${mrLabel(mr)}: spec.forProvider.${field}Selector matches no ${target.kind}`);
    return externalName(match as ManagedResource);
  }
  return undefined;
}
