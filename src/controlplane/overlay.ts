/**
 * `over` laid on `base`: objects present in both merge key by key, anything else in `over`
 * wins (lists are replaced, not merged). Neither is changed; the result shares the values it
 * did not have to merge, so callers treat it as read-only or copy it.
 */
export function overlay(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? overlay(base[k], v) : v;
  return out;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}
