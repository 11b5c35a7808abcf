/**
 * Crossplane field paths: `spec.parameters.size`, `spec.items[0].name`,
 * `metadata.labels[crossplane.io/claim-name]` and `metadata.annotations["a.b/c"]`.
 * A segment is a field name (string) or an array index (number).
 */
export type Segment = string | number;

const cache = new Map<string, Segment[]>();

export class FieldPathError extends Error {}

export function parseFieldPath(path: string | Segment[]): Segment[] {
  if (typeof path !== 'string') return path;
  const hit = cache.get(path);
  if (hit) return hit;
  const out: Segment[] = [];
  let i = 0;
  let field = '';
  const flush = () => {
    if (field) out.push(field);
    field = '';
  };
  while (i < path.length) {
    const c = path[i]!;
    if (c === '.') {
      flush();
      i++;
    } else if (c === '[') {
      flush();
      const end = path.indexOf(']', i);
      if (end < 0) throw new FieldPathError(`invalid field path "${path}": unclosed [`);
      let inner = path.slice(i + 1, end).trim();
      if (/^-?\d+$/.test(inner)) out.push(Number(inner));
      else {
        if (/^'.*'$|^".*"$/.test(inner)) inner = inner.slice(1, -1);
        if (!inner) throw new FieldPathError(`invalid field path "${path}": empty []`);
        out.push(inner);
      }
      i = end + 1;
    } else {
      field += c;
      i++;
    }
  }
  flush();
  if (!out.length) throw new FieldPathError(`invalid field path "${path}": it is empty`);
  if (cache.size > 10_000) cache.clear();
  cache.set(path, out);
  return out;
}

/** The value at `path`, or undefined when any segment is missing. */
export function getFieldPath(obj: unknown, path: string | Segment[]): unknown {
  let cur: any = obj;
  for (const s of parseFieldPath(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (typeof s === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[s];
    } else {
      if (Array.isArray(cur)) return undefined;
      cur = cur[s];
    }
  }
  return cur;
}

/** Sets the value at `path`, creating objects and arrays on the way; refuses to cross a scalar. */
export function setFieldPath(obj: Record<string, any>, path: string | Segment[], value: unknown): void {
  const segs = parseFieldPath(path);
  let cur: any = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i]!;
    const nextIsIndex = typeof segs[i + 1] === 'number';
    let child = cur[s];
    if (child === undefined || child === null) {
      child = nextIsIndex ? [] : {};
      cur[s] = child;
    } else if (typeof child !== 'object' || Array.isArray(child) !== nextIsIndex) {
      throw new FieldPathError(`cannot set ${path}: ${segs.slice(0, i + 1).join('.')} is ${Array.isArray(child) ? 'an array' : typeof child}, not ${nextIsIndex ? 'an array' : 'an object'}`);
    }
    cur = child;
  }
  const last = segs[segs.length - 1]!;
  if (typeof last === 'number' && !Array.isArray(cur)) throw new FieldPathError(`cannot set ${path}: not an array`);
  cur[last] = value;
}

/** A parsed field path written back as text: `spec.items[0].name`, `metadata.labels[a.b/c]`. */
export function formatFieldPath(segs: Segment[]): string {
  return segs.map((s, i) => (typeof s === 'number' ? `[${s}]` : /[.[\]]/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/**
 * The concrete paths a path with `*` segments names in `obj`: each `*` stands for every index
 * of an array or every key of an object found there, and only paths whose every field exists
 * are kept, as Crossplane expands a wildcard toFieldPath. A path without `*` is returned as is.
 */
export function expandWildcards(obj: unknown, path: string): Segment[][] {
  const segs = parseFieldPath(path);
  if (!segs.includes('*')) return [segs];
  const out: Segment[][] = [];
  const walk = (cur: unknown, i: number, prefix: Segment[]): void => {
    if (i === segs.length) {
      out.push(prefix);
      return;
    }
    const s = segs[i]!;
    if (s === '*') {
      if (Array.isArray(cur)) cur.forEach((v, ix) => walk(v, i + 1, [...prefix, ix]));
      else if (cur && typeof cur === 'object') for (const [k, v] of Object.entries(cur)) walk(v, i + 1, [...prefix, k]);
      return;
    }
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) !== (typeof s === 'number')) return;
    const next = (cur as Record<string | number, unknown>)[s];
    if (next === undefined) return;
    walk(next, i + 1, [...prefix, s]);
  };
  walk(obj, 0, []);
  return out;
}

/** Deletes the value at `path` if present. */
export function deleteFieldPath(obj: Record<string, any>, path: string): void {
  const segs = parseFieldPath(path);
  let cur: any = obj;
  for (const s of segs.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return;
    cur = cur[s];
  }
  if (cur && typeof cur === 'object') delete cur[segs[segs.length - 1]!];
}

/**
 * Whether an OpenAPI schema admits `path`: each field must be declared, or the object must
 * preserve unknown fields or allow additionalProperties. Lets a bad toFieldPath fail with a
 * message that names it, instead of being silently pruned.
 */
export function schemaAllowsPath(schema: Record<string, any> | undefined, path: string | Segment[]): boolean {
  let s = schema;
  for (const seg of parseFieldPath(path)) {
    if (!s) return true;
    if (s['x-kubernetes-preserve-unknown-fields']) return true;
    if (typeof seg === 'number') {
      if (s.type && s.type !== 'array') return false;
      s = s.items;
      continue;
    }
    if (s.properties && seg in s.properties) s = s.properties[seg];
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') s = s.additionalProperties;
    else if (s.additionalProperties === true) return true;
    else if (s.type === 'object' && !s.properties) return true;
    else return !s.properties && s.type === undefined;
  }
  return true;
}
