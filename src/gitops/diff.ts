import type { Resource } from '../api/types.js';

/** One `spec.ignoreDifferences` entry, as Argo CD writes it. */
export interface IgnoreDifference {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
  jsonPointers?: string[];
  jqPathExpressions?: string[];
}

export interface DiffResult {
  inSync: boolean;
  /** Field paths that differ, with desired and live values, for `pave app diff`. */
  changes: { path: string; desired: unknown; live: unknown }[];
}

/** Metadata the server sets; never part of a comparison. */
const SERVER_META = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'ownerReferences', 'finalizers'];

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

/** The comparable form of an object: server-set metadata and status dropped. */
export function normalise(obj: Resource): Resource {
  const { status: _status, ...rest } = structuredClone(obj);
  for (const k of SERVER_META) delete (rest.metadata as Record<string, unknown>)[k];
  delete rest.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  if (rest.metadata.annotations && !Object.keys(rest.metadata.annotations).length) delete rest.metadata.annotations;
  return rest as Resource;
}

function removePointer(obj: unknown, pointer: string): void {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur = obj as Record<string, unknown> | undefined;
  for (let i = 0; cur && i < parts.length - 1; i++) cur = cur[parts[i]!] as Record<string, unknown> | undefined;
  if (cur && typeof cur === 'object') delete cur[parts[parts.length - 1]!];
}

/** jq paths as Argo CD users write them most (`.spec.replicas`, `.metadata.labels["x"]`) become pointers. */
function jqToPointer(expr: string): string | undefined {
  const m = expr.trim().match(/^(\.[A-Za-z0-9_-]+|\["[^"]+"\])+$/);
  if (!m) return undefined;
  const parts = [...expr.matchAll(/\.([A-Za-z0-9_-]+)|\["([^"]+)"\]/g)].map((x) => (x[1] ?? x[2]!).replace(/~/g, '~0').replace(/\//g, '~1'));
  return '/' + parts.join('/');
}

function applies(rule: IgnoreDifference, obj: Resource): boolean {
  return rule.kind === obj.kind && (rule.group ?? '') === groupOf(obj.apiVersion) && (!rule.name || rule.name === obj.metadata.name) && (!rule.namespace || rule.namespace === obj.metadata.namespace);
}

/**
 * Compares desired with live as Argo CD's default diff does for fields the manifest sets:
 * every field in desired must be equal in live; fields only live has (defaults, server-set
 * values, status) do not count. Ignored differences are removed from both sides first.
 */
export function diff(desired: Resource, live: Resource | undefined, ignore: IgnoreDifference[] = []): DiffResult {
  if (!live) return { inSync: false, changes: [{ path: '', desired: 'present', live: 'missing' }] };
  const d = normalise(desired);
  const l = normalise(live);
  for (const rule of ignore) {
    if (!applies(rule, desired)) continue;
    const pointers = [...(rule.jsonPointers ?? []), ...(rule.jqPathExpressions ?? []).map(jqToPointer).filter((p): p is string => !!p)];
    for (const p of pointers) {
      removePointer(d, p);
      removePointer(l, p);
    }
  }
  const changes: DiffResult['changes'] = [];
  compare(d, l, '', changes);
  return { inSync: changes.length === 0, changes };
}

function compare(d: unknown, l: unknown, path: string, out: DiffResult['changes']): void {
  if (d === null || typeof d !== 'object') {
    if (!looseEqual(d, l)) out.push({ path: path || '.', desired: d, live: l });
    return;
  }
  if (Array.isArray(d)) {
    if (!Array.isArray(l) || l.length !== d.length) {
      out.push({ path, desired: d, live: l });
      return;
    }
    d.forEach((x, i) => compare(x, l[i], `${path}[${i}]`, out));
    return;
  }
  if (!l || typeof l !== 'object' || Array.isArray(l)) {
    out.push({ path, desired: d, live: l });
    return;
  }
  for (const [k, v] of Object.entries(d as Record<string, unknown>)) {
    if (v === null && (l as Record<string, unknown>)[k] === undefined) continue;
    compare(v, (l as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out);
  }
}

function looseEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // YAML may say `port: "80"` where the server stores 80: Kubernetes' own diff treats them apart,
  // but ConfigMap data is always strings, so only numbers and their strings compare equal here
  return (typeof a === 'number' && typeof b === 'string' && String(a) === b) || (typeof b === 'number' && typeof a === 'string' && String(b) === a);
}
