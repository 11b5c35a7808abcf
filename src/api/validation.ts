import type { StatusCause } from './errors.js';
import type { ObjectMeta } from './types.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const OWNER_REFERENCE_FIELDS = ['apiVersion', 'kind', 'name', 'uid'] as const;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function nameProblems(name: string, label: boolean): string | undefined {
  if (label) {
    if (name.length > 63) return 'must be no more than 63 characters';
    if (!DNS1123_LABEL.test(name)) return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    return undefined;
  }
  if (name.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(name)) return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

// Label and annotation keys repeat across objects (app, pave.dev/..., crossplane.io/...): each
// is checked once. '' records a valid key; the map is emptied when full, so it stays small.
const keyVerdicts = new Map<string, string>();
const KEY_VERDICTS_MAX = 10_000;

function knownKeyProblem(key: string): string | undefined {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    if (keyVerdicts.size >= KEY_VERDICTS_MAX) keyVerdicts.clear();
    verdict = qualifiedKeyProblem(key) ?? '';
    keyVerdicts.set(key, verdict);
  }
  return verdict || undefined;
}

function qualifiedKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return 'prefix part must be a lowercase RFC 1123 subdomain';
  if (!name || name.length > 63 || !QUALIFIED_NAME.test(name)) return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)";
  return undefined;
}

function stringMapProblems(field: 'labels' | 'annotations', map: unknown, causes: StatusCause[]): void {
  if (map === undefined || map === null) return;
  if (typeof map !== 'object' || Array.isArray(map)) {
    causes.push({ field: `metadata.${field}`, message: 'Invalid value: must be a map of strings', reason: 'FieldValueInvalid' });
    return;
  }
  for (const k of Object.keys(map)) {
    const v = (map as Record<string, unknown>)[k];
    const kp = knownKeyProblem(k);
    if (kp) causes.push({ field: `metadata.${field}`, message: `Invalid value: ${JSON.stringify(k)}: ${kp}`, reason: 'FieldValueInvalid' });
    if (typeof v !== 'string') causes.push({ field: `metadata.${field}.${k}`, message: 'Invalid value: must be a string', reason: 'FieldValueInvalid' });
    else if (field === 'labels' && (v.length > 63 || !LABEL_VALUE.test(v))) {
      causes.push({ field: `metadata.labels.${k}`, message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)`, reason: 'FieldValueInvalid' });
    }
  }
}

/** Validates the parts of metadata every object shares; returns field-path causes. */
export function metadataProblems(meta: ObjectMeta, namespaced: boolean, nameIsLabel: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!meta.name) causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
  else {
    const p = nameProblems(meta.name, nameIsLabel);
    if (p) causes.push({ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(meta.name)}: ${p}`, reason: 'FieldValueInvalid' });
  }
  if (namespaced && meta.namespace) {
    const p = nameProblems(meta.namespace, true);
    if (p) causes.push({ field: 'metadata.namespace', message: `Invalid value: ${JSON.stringify(meta.namespace)}: ${p}`, reason: 'FieldValueInvalid' });
  }
  stringMapProblems('labels', meta.labels, causes);
  stringMapProblems('annotations', meta.annotations, causes);
  if (meta.finalizers !== undefined && (!Array.isArray(meta.finalizers) || meta.finalizers.some((f) => typeof f !== 'string'))) {
    causes.push({ field: 'metadata.finalizers', message: 'Invalid value: must be a list of strings', reason: 'FieldValueInvalid' });
  }
  if (meta.ownerReferences !== undefined) {
    if (!Array.isArray(meta.ownerReferences)) causes.push({ field: 'metadata.ownerReferences', message: 'Invalid value: must be a list', reason: 'FieldValueInvalid' });
    else
      meta.ownerReferences.forEach((o, i) => {
        for (const f of OWNER_REFERENCE_FIELDS) {
          if (!o || typeof o[f] !== 'string' || !o[f]) causes.push({ field: `metadata.ownerReferences[${i}].${f}`, message: 'Required value', reason: 'FieldValueRequired' });
        }
      });
  }
  return causes;
}
