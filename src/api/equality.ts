/** Skip predicates look at most this deep; below it paths are not built at all. */
const SKIP_DEPTH = 4;

/**
 * Structural equality of JSON values as the API compares objects: key order does not matter,
 * and a key holding `undefined` is the same as an absent key (as after JSON serialisation).
 * It stops at the first difference, which is what makes a no-op-write check cheap. `skip`
 * names paths (up to four keys deep) to leave out of the comparison.
 */
export function jsonEqual(a: unknown, b: unknown, skip?: (path: readonly string[]) => boolean, path: string[] = []): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const deeper = (k: string) => (skip ? [...path, k] : path);
  const childSkip = skip && path.length + 1 < SKIP_DEPTH ? skip : undefined;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i], childSkip, deeper(String(i)))) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let compared = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    const p = deeper(k);
    if (skip && skip(p)) continue;
    compared++;
    if (!jsonEqual(x[k], y[k], childSkip, p)) return false;
  }
  let present = 0;
  for (const k in y) if (y[k] !== undefined && !(skip && skip(deeper(k)))) present++;
  return compared === present;
}
