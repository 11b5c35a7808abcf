/** Skip predicates look at most this deep; below it paths are not built at all. */
const SKIP_DEPTH = 4;

/**
 * Structural equality of JSON values as the API compares objects: key order does not matter,
 * and a key holding `undefined` is the same as an absent key (as after JSON serialisation).
 * It stops at the first difference, which is what makes a no-op-write check cheap. `skip`
 * names paths (up to four keys deep) to leave out of the comparison; the path it is given is
 * reused for the next call, so it must not keep it.
 */
export function jsonEqual(a: unknown, b: unknown, skip?: (path: readonly string[]) => boolean): boolean {
  return skip ? equalSkipping(a, b, skip, []) : equal(a, b);
}

// Most comparisons skip nothing: this walk builds no paths and allocates nothing.
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let compared = 0;
  for (const k in x) {
    const v = x[k];
    if (v === undefined) continue;
    compared++;
    if (!equal(v, y[k])) return false;
  }
  let present = 0;
  for (const k in y) if (y[k] !== undefined) present++;
  return compared === present;
}

// `path` is one array pushed and popped along the walk, so asking `skip` costs no allocation.
function equalSkipping(a: unknown, b: unknown, skip: (path: readonly string[]) => boolean, path: string[]): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const deep = path.length + 1 < SKIP_DEPTH;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!deep) {
        if (!equal(a[i], b[i])) return false;
        continue;
      }
      path.push(String(i));
      const same = equalSkipping(a[i], b[i], skip, path);
      path.pop();
      if (!same) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let compared = 0;
  for (const k in x) {
    const v = x[k];
    if (v === undefined) continue;
    path.push(k);
    if (skip(path)) {
      path.pop();
      continue;
    }
    compared++;
    const same = deep ? equalSkipping(v, y[k], skip, path) : equal(v, y[k]);
    path.pop();
    if (!same) return false;
  }
  let present = 0;
  for (const k in y) {
    if (y[k] === undefined) continue;
    path.push(k);
    if (!skip(path)) present++;
    path.pop();
  }
  return compared === present;
}
