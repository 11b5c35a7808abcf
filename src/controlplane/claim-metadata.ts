import type { ManagedFieldsEntry, Resource } from '../api/types.js';

/**
 * The field manager that owns, on an XR, the labels and annotations its claim gave it, as
 * Crossplane's server-side claim sync records them.
 */
export const CLAIM_MANAGER = 'apiextensions.crossplane.io/claim';

export interface XrMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  managedFields: ManagedFieldsEntry[] | undefined;
}

/**
 * The labels and annotations an XR gets from its claim. A key the claim gave the XR before and
 * no longer has is removed; keys someone else set on the XR stay. Which keys came from the
 * claim is recorded in the XR's managedFields under CLAIM_MANAGER, where server-side apply
 * keeps ownership, so it survives restarts and a kubectl apply to the XR sees the claim's
 * ownership. `always` are keys the claim sets on every XR (its name and namespace): they are
 * never removed, so they are not recorded.
 */
export function xrMetadataFromClaim(apiVersion: string, xr: Resource | undefined, labels: Record<string, string>, annotations: Record<string, string>, always: readonly string[]): XrMetadata {
  const before = ownedKeys(xr);
  const outLabels = { ...(xr?.metadata.labels ?? {}) };
  const outAnnotations = { ...(xr?.metadata.annotations ?? {}) };
  for (const k of before.labels) if (!(k in labels)) delete outLabels[k];
  for (const k of before.annotations) if (!(k in annotations)) delete outAnnotations[k];
  Object.assign(outLabels, labels);
  Object.assign(outAnnotations, annotations);
  const labelKeys = Object.keys(labels).filter((k) => !always.includes(k)).sort();
  const annotationKeys = Object.keys(annotations).sort();
  const same = labelKeys.join('\n') === before.labels.join('\n') && annotationKeys.join('\n') === before.annotations.join('\n');
  const others = (xr?.metadata.managedFields ?? []).filter((e) => !isClaimEntry(e));
  let managedFields = xr?.metadata.managedFields;
  if (!same) {
    const entry = labelKeys.length || annotationKeys.length ? [claimEntry(apiVersion, labelKeys, annotationKeys)] : [];
    managedFields = [...others, ...entry];
    if (!managedFields.length) managedFields = xr?.metadata.managedFields ? [] : undefined;
  }
  return { labels: outLabels, annotations: outAnnotations, managedFields };
}

function isClaimEntry(e: ManagedFieldsEntry): boolean {
  return e.manager === CLAIM_MANAGER && e.operation === 'Apply' && !e.subresource;
}

/** The label and annotation keys, sorted, that the XR's managedFields say its claim set. */
function ownedKeys(xr: Resource | undefined): { labels: string[]; annotations: string[] } {
  const entry = xr?.metadata.managedFields?.find(isClaimEntry);
  const meta = (entry?.fieldsV1?.['f:metadata'] ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const keys = (m: Record<string, unknown> | undefined) => Object.keys(m ?? {}).filter((k) => k.startsWith('f:')).map((k) => k.slice(2)).sort();
  return { labels: keys(meta['f:labels']), annotations: keys(meta['f:annotations']) };
}

function claimEntry(apiVersion: string, labels: string[], annotations: string[]): ManagedFieldsEntry {
  const set = (keys: string[]) => Object.fromEntries(keys.map((k) => [`f:${k}`, {}]));
  const meta: Record<string, unknown> = {};
  if (labels.length) meta['f:labels'] = set(labels);
  if (annotations.length) meta['f:annotations'] = set(annotations);
  return { manager: CLAIM_MANAGER, operation: 'Apply', apiVersion, time: new Date().toISOString(), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': meta } };
}
