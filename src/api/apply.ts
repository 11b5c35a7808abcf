import { ApiError } from './errors.js';
import type { ManagedFieldsEntry, Resource } from './types.js';
import { jsonClone } from './clone.js';

/**
 * Server-side apply with a deliberately simple ownership model: each Apply field manager owns
 * the leaf fields of the configuration it last applied (lists are atomic leaves). Applying
 * removes the fields a manager stopped applying, unless another manager also owns them, and
 * refuses (409, naming field and manager) to change a value another Apply manager owns unless
 * forced, in which case ownership moves. Update operations are not tracked.
 */
const SEP = '\u0000';
const IGNORED_TOP = new Set(['apiVersion', 'kind']);
const IGNORED_META = new Set(['name', 'namespace', 'resourceVersion', 'uid', 'managedFields', 'creationTimestamp', 'generation', 'deletionTimestamp', 'selfLink']);

function isPlainObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function fieldSet(config: Resource, ignoreStatus: boolean): Set<string> {
  const out = new Set<string>();
  const walk = (v: any, path: string[]) => {
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) {
        if (path.length === 0 && (IGNORED_TOP.has(k) || (ignoreStatus && k === 'status'))) continue;
        if (path.length === 1 && path[0] === 'metadata' && IGNORED_META.has(k)) continue;
        walk(child, [...path, k]);
      }
    } else if (path.length) out.add(path.join(SEP));
  };
  walk(config, []);
  return out;
}

export function toFieldsV1(fields: Set<string>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const f of fields) {
    let cur = root;
    for (const seg of f.split(SEP)) cur = cur[`f:${seg}`] ??= {};
  }
  return root;
}

export function fromFieldsV1(v: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: Record<string, any>, path: string[]) => {
    const keys = Object.keys(node).filter((k) => k.startsWith('f:'));
    if (!keys.length) {
      if (path.length) out.add(path.join(SEP));
      return;
    }
    for (const k of keys) walk(node[k] ?? {}, [...path, k.slice(2)]);
  };
  if (v) walk(v, []);
  return out;
}

function valueAt(obj: any, path: string[]): unknown {
  let cur = obj;
  for (const s of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[s];
  }
  return cur;
}

function removeAt(obj: any, path: string[]): void {
  const parents: any[] = [];
  let cur = obj;
  for (const s of path.slice(0, -1)) {
    if (!isPlainObject(cur[s])) return;
    parents.push(cur);
    cur = cur[s];
  }
  delete cur[path[path.length - 1]!];
  // drop objects the removal left empty, so a removed label does not leave `labels: {}`
  for (let i = path.length - 2; i >= 0; i--) {
    const parent = parents[i];
    const key = path[i]!;
    if (isPlainObject(parent[key]) && Object.keys(parent[key]).length === 0) delete parent[key];
    else break;
  }
}

function deepMerge(base: any, over: any): any {
  if (!isPlainObject(over) || !isPlainObject(base)) return jsonClone(over);
  const out: Record<string, any> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = deepMerge(base[k], v);
  }
  return out;
}

/**
 * Applies `config` for `manager` onto `live` (undefined when creating). Returns the merged
 * object with its managedFields updated. `statusIsSubresource` keeps status out of the main
 * resource's ownership, as the API server does.
 */
export function serverSideApply(live: Resource | undefined, config: Resource, manager: string, force: boolean, statusIsSubresource: boolean, now: string): Resource {
  const applied = fieldSet(config, statusIsSubresource);
  const entries: ManagedFieldsEntry[] = jsonClone(live?.metadata.managedFields ?? []);
  const owned = new Map<string, Set<string>>();
  for (const e of entries) if (e.operation === 'Apply') owned.set(e.manager, fromFieldsV1(e.fieldsV1));
  const mine = owned.get(manager) ?? new Set<string>();

  if (live) {
    const conflicts: { field: string; manager: string }[] = [];
    for (const [other, set] of owned) {
      if (other === manager) continue;
      for (const f of applied) {
        if (!set.has(f)) continue;
        const path = f.split(SEP);
        if (JSON.stringify(valueAt(live, path)) !== JSON.stringify(valueAt(config, path))) conflicts.push({ field: path.join('.'), manager: other });
      }
    }
    if (conflicts.length && !force) {
      throw new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.map((c) => `conflict with "${c.manager}": .${c.field}`).join('; ')}`, {
        causes: conflicts.map((c) => ({ field: `.${c.field}`, message: `conflict with "${c.manager}"`, reason: 'FieldManagerConflict' })),
      });
    }
    for (const c of conflicts) owned.get(c.manager)?.delete(c.field.split('.').join(SEP));
  }

  let merged: Resource = live ? jsonClone(live) : ({ apiVersion: config.apiVersion, kind: config.kind, metadata: {} } as Resource);
  for (const f of mine) {
    if (applied.has(f)) continue;
    const sharedWithOther = [...owned].some(([m, s]) => m !== manager && s.has(f));
    if (!sharedWithOther) removeAt(merged, f.split(SEP));
  }
  const { metadata: cfgMeta, ...cfgRest } = config;
  const { managedFields: _mf, resourceVersion: _rv, ...metaRest } = cfgMeta ?? {};
  merged = deepMerge(merged, cfgRest);
  merged.metadata = deepMerge(merged.metadata ?? {}, metaRest);
  owned.set(manager, applied);

  const next: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e.operation !== 'Apply') next.push(e);
  }
  for (const [m, set] of owned) {
    if (!set.size) continue;
    const prev = entries.find((e) => e.manager === m && e.operation === 'Apply');
    next.push({ manager: m, operation: 'Apply', apiVersion: m === manager ? config.apiVersion : prev?.apiVersion ?? config.apiVersion, time: m === manager ? now : prev?.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(set) });
  }
  merged.metadata.managedFields = next;
  return merged;
}
