/**
 * How Go prints the JSON values a composition handles, because Crossplane's transforms and
 * combine patches are Go's fmt.Sprintf and encoding/json: a string transform on a number,
 * a `%s` given an integer or a hash of an object must give the text Crossplane gives, or a
 * composition renders differently (and a hash-derived name changes) when it moves to Pave.
 * JSON numbers that are whole are Go int64s, others float64s, as Kubernetes decodes them.
 */

/** Go's type name of a decoded JSON value, as `%T` and bad-verb output show it. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return isGoInt(v) ? 'int64' : 'float64';
  return Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}';
}

function isGoInt(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63;
}

/** Go's `%v`: `5`, `2.5`, `1e+06`, `true`, `<nil>`, `[a b]`, `map[a:1 b:2]` (keys sorted). */
export function goValueString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return isGoInt(v) ? BigInt(v).toString() : goFloat(v);
  if (Array.isArray(v)) return `[${v.map(goValueString).join(' ')}]`;
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o).sort().map((k) => `${k}:${goValueString(o[k])}`).join(' ')}]`;
}

/** Go's shortest `%g` of a float64: exponent form below 1e-4 and from 1e+06. */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

/**
 * Go's json.Marshal of a decoded JSON value: object keys sorted, and <, >, & and the line and
 * paragraph separators escaped, so ToJson and the hashes of objects match Crossplane's.
 */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${goJsonString(k)}:${goJson(o[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return goJsonString(v);
  return JSON.stringify(v);
}

function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Go's fmt.Sprintf for the verbs compositions use: %s %v %d %f %e %q %x %X %t %%, with
 * optional width and precision. A value of the wrong type prints as Go prints it
 * (`%!d(string=abc)`), and a missing argument as `%!s(MISSING)`.
 */
export function goFormat(fmt: string, args: unknown[]): string {
  let i = 0;
  const out = fmt.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([svdfqxXtTe%])/g, (_m, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const text = formatOne(verb, args[i++], prec === undefined ? undefined : Number(prec));
    if (!width || text.length >= Number(width)) return text;
    return flags.includes('-') ? text.padEnd(Number(width)) : text.padStart(Number(width), flags.includes('0') && verb !== 's' ? '0' : ' ');
  });
  return i < args.length ? `${out}%!(EXTRA ${args.slice(i).map((a) => `${goTypeName(a)}=${goValueString(a)}`).join(', ')})` : out;
}

function formatOne(verb: string, a: unknown, prec: number | undefined): string {
  const bad = () => (a === null || a === undefined ? `%!${verb}(<nil>)` : `%!${verb}(${goTypeName(a)}=${goValueString(a)})`);
  // Go applies a verb to each element of an array or object
  if (typeof a === 'object' && a !== null && verb !== 'v' && verb !== 'T') {
    if (Array.isArray(a)) return `[${a.map((x) => formatOne(verb, x, prec)).join(' ')}]`;
    const o = a as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${formatOne(verb, k, prec)}:${formatOne(verb, o[k], prec)}`).join(' ')}]`;
  }
  switch (verb) {
    case 'v':
      return goValueString(a);
    case 'T':
      return goTypeName(a);
    case 's':
      if (typeof a !== 'string') return bad();
      return prec === undefined ? a : a.slice(0, prec);
    case 'q':
      return typeof a === 'string' ? JSON.stringify(a) : bad();
    case 'd':
      return typeof a === 'number' && isGoInt(a) ? BigInt(a).toString() : bad();
    case 'f':
    case 'e':
      if (typeof a !== 'number') return bad();
      return verb === 'f' ? a.toFixed(prec ?? 6) : goExponent(a, prec ?? 6);
    case 't':
      return typeof a === 'boolean' ? String(a) : bad();
    case 'x':
    case 'X': {
      let s: string;
      if (typeof a === 'number' && isGoInt(a)) s = BigInt(a).toString(16);
      else if (typeof a === 'string') s = Buffer.from(a, 'utf8').toString('hex');
      else return bad();
      return verb === 'X' ? s.toUpperCase() : s;
    }
    default:
      return bad();
  }
}

function goExponent(n: number, prec: number): string {
  const [mantissa, exp] = n.toExponential(prec).split('e') as [string, string];
  const e = Number(exp);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
