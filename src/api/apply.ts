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
  return appliedFields(config, ignoreStatus).fields;
}

/**
 * The leaf fields of an applied configuration, and toFieldsV1 of them built in the same walk
 * (undefined in the one case it would differ: a key holding the path separator).
 */
function appliedFields(config: Resource, ignoreStatus: boolean): { fields: Set<string>; tree: Record<string, unknown> | undefined } {
  const fields = new Set<string>();
  let exact = true;
  // `path` is the joined field path so far: each leaf costs one string, not an array per level.
  // Returns whether `v` holds a leaf, so `node` gets an entry only for fields that exist.
  const walk = (v: any, path: string, depth: number, inMetadata: boolean, node: Record<string, unknown>): boolean => {
    const keys = isPlainObject(v) ? Object.keys(v) : undefined;
    if (!keys?.length) {
      if (depth) fields.add(path);
      return depth > 0;
    }
    let found = false;
    for (const k of keys) {
      if (depth === 0 && (IGNORED_TOP.has(k) || (ignoreStatus && k === 'status'))) continue;
      if (inMetadata && IGNORED_META.has(k)) continue;
      if (k.includes(SEP)) exact = false;
      const child: Record<string, unknown> = {};
      if (walk(v[k], depth === 0 ? k : path + SEP + k, depth + 1, depth === 0 && k === 'metadata', child)) {
        node[`f:${k}`] = child;
        found = true;
      }
    }
    return found;
  };
  const tree: Record<string, unknown> = {};
  walk(config, '', 0, false, tree);
  return { fields, tree: exact ? tree : undefined };
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
  return parseFieldsV1(v).fields;
}

/**
 * The fields a FieldsV1 tree names, and whether toFieldsV1 of them would give the tree back
 * as it is: only `f:` keys, every leaf `{}`. Such a tree can be kept when its fields are.
 */
function parseFieldsV1(v: Record<string, unknown> | undefined): { fields: Set<string>; canonical: boolean } {
  const fields = new Set<string>();
  let canonical = true;
  const walk = (node: Record<string, any>, path: string, depth: number) => {
    let leaf = true;
    for (const k in node) {
      if (!k.startsWith('f:')) {
        canonical = false;
        continue;
      }
      leaf = false;
      const child = node[k];
      const seg = k.slice(2);
      if (!isPlainObject(child) || seg.includes(SEP)) canonical = false;
      walk(child ?? {}, depth === 0 ? seg : path + SEP + seg, depth + 1);
    }
    if (leaf && depth) fields.add(path);
  };
  if (v) walk(v, '', 0);
  return { fields, canonical };
}

/** Two field sets with the same fields in the same order, so toFieldsV1 builds the same tree from both. */
function sameFieldOrder(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  const other = b.values();
  for (const f of a) if (other.next().value !== f) return false;
  return true;
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

/** Merges `over` onto a copy of `base`; `over`'s values become part of the result, not copies. */
function deepMerge(base: any, over: any): any {
  if (!isPlainObject(over) || !isPlainObject(base)) return over;
  const out: Record<string, any> = { ...base };
  for (const k of Object.keys(over)) {
    const v = over[k];
    if (v === null) delete out[k];
    else out[k] = deepMerge(base[k], v);
  }
  return out;
}

/**
 * Applies `config` for `manager` onto `live` (undefined when creating). Returns the merged
 * object with its managedFields updated. `statusIsSubresource` keeps status out of the main
 * resource's ownership, as the API server does. `live` is not changed; `config` is taken
 * over: it must be JSON values only (as jsonClone makes them), and the result shares its
 * values, so the caller hands over its own copy and uses it no more.
 */
export function serverSideApply(live: Resource | undefined, config: Resource, manager: string, force: boolean, statusIsSubresource: boolean, now: string): Resource {
  const { fields: applied, tree: appliedTree } = appliedFields(config, statusIsSubresource);
  let merged: Resource = live ? jsonClone(live) : ({ apiVersion: config.apiVersion, kind: config.kind, metadata: {} } as Resource);
  // the merged object's copy of the entries: the ones kept are already the result's own
  const entries: ManagedFieldsEntry[] = (live && merged.metadata.managedFields) || [];
  const owned = new Map<string, Set<string>>();
  // the stored fieldsV1 of managers whose fields stay the same: kept as they are, not rebuilt
  const unchanged = new Map<string, Record<string, unknown>>();
  for (const e of entries) {
    if (e.operation !== 'Apply') continue;
    const { fields, canonical } = parseFieldsV1(e.fieldsV1);
    owned.set(e.manager, fields);
    if (canonical) unchanged.set(e.manager, e.fieldsV1);
    else unchanged.delete(e.manager);
  }
  const mine = owned.get(manager) ?? new Set<string>();
  if (!sameFieldOrder(applied, mine)) unchanged.delete(manager);

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
    for (const c of conflicts) {
      owned.get(c.manager)?.delete(c.field.split('.').join(SEP));
      unchanged.delete(c.manager);
    }
  }

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
    const fieldsV1 = unchanged.get(m) ?? ((m === manager && appliedTree) || toFieldsV1(set));
    next.push({ manager: m, operation: 'Apply', apiVersion: m === manager ? config.apiVersion : prev?.apiVersion ?? config.apiVersion, time: m === manager ? now : prev?.time, fieldsType: 'FieldsV1', fieldsV1 });
  }
  merged.metadata.managedFields = next;
  return merged;
}
