import { ApiError } from './errors.js';
import { jsonClone } from './clone.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+json': 'apply',
};

function isPlainObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. Returns a new value; `target` is not modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return jsonClone(patch);
  const out: Record<string, any> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Strategic merge patch as kubectl sends it. Pave has no Go struct tags to tell it which lists
 * merge by key, so lists are replaced as in a merge patch; the `$patch`, `$retainKeys`,
 * `$setElementOrder/` and `$deleteFromPrimitiveList/` directives are honoured or dropped.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return jsonClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return jsonClone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, any> = isPlainObject(target) ? { ...target } : {};
  const retain = Array.isArray(patch.$retainKeys) ? new Set<string>(patch.$retainKeys) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = out[field].filter((x: unknown) => !v.includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.has(k)) delete out[k];
  return out;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(p: string, where: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw ApiError.badRequest(`${where}: JSON pointer "${p}" must start with "/"`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(doc: any, segs: string[], where: string): [any, string] {
  let cur = doc;
  for (const s of segs.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || !(s in cur)) throw ApiError.badRequest(`${where}: path segment "${s}" does not exist`);
    cur = Array.isArray(cur) ? cur[Number(s)] : cur[s];
  }
  if (cur === null || typeof cur !== 'object') throw ApiError.badRequest(`${where}: parent is not an object or array`);
  return [cur, segs[segs.length - 1]!];
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 6902 JSON patch. Returns a new document. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw ApiError.badRequest('a JSON patch must be an array of operations');
  let out = jsonClone(doc);
  ops.forEach((raw, i) => {
    const op = raw as JsonPatchOp;
    const where = `JSON patch operation ${i} (${op?.op} ${op?.path})`;
    if (!op || typeof op.path !== 'string') throw ApiError.badRequest(`${where}: missing "path"`);
    const segs = parsePointer(op.path, where);
    const get = (path: string[]) => path.reduce((c: any, s) => (c == null ? undefined : c[s]), out);
    const add = (path: string[], value: unknown) => {
      if (!path.length) {
        out = value;
        return;
      }
      const [parent, last] = resolveParent(out, path, where);
      if (Array.isArray(parent)) {
        const idx = last === '-' ? parent.length : Number(last);
        if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw ApiError.badRequest(`${where}: index ${last} is out of range`);
        parent.splice(idx, 0, value);
      } else parent[last] = value;
    };
    const remove = (path: string[]) => {
      const [parent, last] = resolveParent(out, path, where);
      if (Array.isArray(parent)) {
        const idx = Number(last);
        if (!(idx >= 0 && idx < parent.length)) throw ApiError.badRequest(`${where}: index ${last} is out of range`);
        return parent.splice(idx, 1)[0];
      }
      if (!(last in parent)) throw ApiError.badRequest(`${where}: path does not exist`);
      const v = parent[last];
      delete parent[last];
      return v;
    };
    switch (op.op) {
      case 'add':
        add(segs, jsonClone(op.value));
        break;
      case 'remove':
        remove(segs);
        break;
      case 'replace':
        remove(segs);
        add(segs, jsonClone(op.value));
        break;
      case 'move': {
        const v = remove(parsePointer(op.from ?? '', where));
        add(segs, v);
        break;
      }
      case 'copy':
        add(segs, jsonClone(get(parsePointer(op.from ?? '', where))));
        break;
      case 'test':
        if (!deepEqual(get(segs), op.value)) throw new ApiError(422, 'Invalid', `${where}: test failed`);
        break;
      default:
        throw ApiError.badRequest(`${where}: unknown op "${(op as JsonPatchOp).op}"`);
    }
  });
  return out;
}
