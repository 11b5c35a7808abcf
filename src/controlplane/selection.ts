import type { Resource } from '../api/types.js';
import type { Informer } from '../runtime/informer.js';
import { revisionsOf } from './revisions.js';
import type { Xrd } from './xrd-crds.js';

/**
 * Chooses an XR's composition: the XRD's enforcedCompositionRef, else spec.compositionRef,
 * else the compositions matching spec.compositionSelector, else the XRD's
 * defaultCompositionRef, else any composition for the type. Where several match, the first by
 * name wins, so the choice is reproducible (Crossplane picks at random).
 */
export function selectComposition(xr: Resource, xrd: Xrd, compositions: Resource[]): { name: string } | { error: string } {
  const forType = compositions
    .filter((c) => composes(c, xr))
    .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  const enforced = xrd.spec.enforcedCompositionRef?.name;
  if (enforced) return { name: enforced };
  const ref = xr.spec?.compositionRef?.name;
  if (ref) return { name: ref };
  const selector = xr.spec?.compositionSelector?.matchLabels as Record<string, string> | undefined;
  if (selector) {
    const hit = forType.find((c) => Object.entries(selector).every(([k, v]) => c.metadata.labels?.[k] === v));
    if (hit) return { name: hit.metadata.name! };
    const want = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
    return { error: `cannot select Composition: no compatible Compositions found: none composing ${xr.apiVersion}/${xr.kind} matches spec.compositionSelector.matchLabels (${want})` };
  }
  const def = xrd.spec.defaultCompositionRef?.name;
  if (def) return { name: def };
  if (forType[0]) return { name: forType[0].metadata.name! };
  return { error: `cannot select Composition: no compatible Compositions found: create one whose spec.compositeTypeRef is ${xr.apiVersion}/${xr.kind}` };
}

/**
 * Whether a composition (or revision) composes the XR's type: its compositeTypeRef names the XR's
 * kind at the XR's apiVersion, which is the XRD's referenceable version. Crossplane compares the
 * version too: a composition for a version that is no longer referenceable is not used.
 */
export function composes(composition: Resource, xr: Resource): boolean {
  const ref = composition.spec?.compositeTypeRef;
  return ref?.kind === xr.kind && ref.apiVersion === xr.apiVersion;
}

export type RevisionChoice = { composition: string; revision: string } | { reason: 'SelectComposition' | 'SelectCompositionRevision'; error: string; retry: boolean };

/**
 * An XR's composition and revision: the composition as selectComposition chooses it, then
 * under the Manual update policy the pinned spec.compositionRevisionRef, else the newest
 * revision matching spec.compositionRevisionSelector. `revisions` is the CompositionRevision
 * cache with revisionIndex added. Pure, so a claim can record the choice its XR will make.
 */
export function selectRevision(xr: Resource, xrd: Xrd, compositions: Resource[], revisions: Informer): RevisionChoice {
  const choice = selectComposition(xr, xrd, compositions);
  if ('error' in choice) return { reason: 'SelectComposition', error: choice.error, retry: true };
  if (!compositions.some((c) => c.metadata.name === choice.name)) {
    const field = xr.spec?.compositionRef?.name === choice.name ? 'spec.compositionRef' : "the XRD's enforcedCompositionRef or defaultCompositionRef";
    return { reason: 'SelectComposition', error: `cannot fetch Composition: Composition "${choice.name}" not found (${field})`, retry: false };
  }
  const policy = xr.spec?.compositionUpdatePolicy ?? xrd.spec.defaultCompositionUpdatePolicy ?? 'Automatic';
  const want = xr.spec?.compositionRevisionSelector?.matchLabels as Record<string, string> | undefined;
  const candidates = revisionsOf(revisions, choice.name).filter((r) => !want || Object.entries(want).every(([k, v]) => r.metadata.labels?.[k] === v));
  if (!candidates.length) {
    return { reason: 'SelectCompositionRevision', error: `Composition "${choice.name}" has no revision${want ? ' matching spec.compositionRevisionSelector' : ' yet'}`, retry: false };
  }
  const pinned = xr.spec?.compositionRevisionRef?.name;
  return { composition: choice.name, revision: policy === 'Manual' && pinned ? pinned : candidates[0]!.metadata.name! };
}
