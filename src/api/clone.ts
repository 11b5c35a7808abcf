/**
 * A deep copy of a JSON value, as a JSON round trip would make it (keys holding `undefined`
 * are dropped, values with toJSON such as Dates become what toJSON returns), several times
 * faster than structuredClone or JSON.parse(JSON.stringify()). Resources are JSON: every copy
 * the API and the controllers make of one goes through here.
 */
export function jsonClone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      a[i] = x === undefined ? null : jsonClone(x);
    }
    return a as T;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return jsonClone((v as unknown as { toJSON(): T }).toJSON());
  const out: Record<string, unknown> = {};
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined && typeof x !== 'function') out[k] = jsonClone(x);
  }
  return out as T;
}
