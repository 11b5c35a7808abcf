import { createHash } from 'node:crypto';
import type { Resource } from '../api/types.js';
import type { ControllerSpec } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';

export const LABEL_COMPOSITION_NAME = 'crossplane.io/composition-name';
export const LABEL_COMPOSITION_HASH = 'crossplane.io/composition-hash';
const REVISION_API = 'apiextensions.crossplane.io/v1';

/** The hash Crossplane labels revisions with: of the spec, and of the labels that select it. */
export function compositionHash(composition: Resource): string {
  return createHash('sha256').update(stable({ spec: composition.spec, labels: composition.metadata.labels ?? {} })).digest('hex').slice(0, 63);
}

/** Indexes revisions by the composition they belong to. */
export function revisionIndex(informer: Informer): void {
  informer.addIndexer('composition', (o) => {
    const n = o.metadata.labels?.[LABEL_COMPOSITION_NAME];
    return n ? [n] : [];
  });
}

/** The revisions of a composition, newest (highest spec.revision) first. */
export function revisionsOf(informer: Informer, composition: string): Resource[] {
  return informer.byIndex('composition', composition).sort((a, b) => (b.spec?.revision ?? 0) - (a.spec?.revision ?? 0));
}

/**
 * One CompositionRevision per distinct Composition spec. Returning to an earlier spec makes
 * that revision current again (its revision number becomes the highest), as in Crossplane.
 */
export function revisionController(): ControllerSpec {
  return {
    name: 'composition-revisions',
    for: { apiVersion: 'apiextensions.crossplane.io/v1', kind: 'Composition' },
    owns: [{ apiVersion: REVISION_API, kind: 'CompositionRevision' }],
    generationChangedOnly: true,
    async reconcile(key, ctx) {
      const comp = ctx.informers.get(REVISION_API, 'Composition').get(key);
      if (!comp || comp.metadata.deletionTimestamp) return;
      const revInformer = ctx.informers.get(REVISION_API, 'CompositionRevision');
      revisionIndex(revInformer);
      // the cache may lag our own writes; read the authoritative list before numbering
      const list = await ctx.client.list(REVISION_API, 'CompositionRevision', { labelSelector: `${LABEL_COMPOSITION_NAME}=${key}` });
      const revisions = list.items.sort((a, b) => (b.spec?.revision ?? 0) - (a.spec?.revision ?? 0));
      const hash = compositionHash(comp);
      const latest = revisions[0];
      const top = latest?.spec?.revision ?? 0;
      const same = revisions.find((r) => r.metadata.labels?.[LABEL_COMPOSITION_HASH] === hash);
      if (same) {
        if (same === latest) return;
        await ctx.client.update({ ...same, spec: { ...same.spec, revision: top + 1 } });
        return;
      }
      await ctx.client.create({
        apiVersion: REVISION_API,
        kind: 'CompositionRevision',
        metadata: {
          name: `${key}-${hash.slice(0, 7)}`,
          labels: { ...(comp.metadata.labels ?? {}), [LABEL_COMPOSITION_NAME]: key, [LABEL_COMPOSITION_HASH]: hash },
          ownerReferences: [{ apiVersion: comp.apiVersion, kind: comp.kind, name: key, uid: comp.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: { ...structuredClone(comp.spec), revision: top + 1 },
      });
    },
  };
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
