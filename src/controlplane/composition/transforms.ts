import { createHash } from 'node:crypto';
import { jsonClone } from '../../api/clone.js';

/**
 * Crossplane's patch transforms (map, match, math, string, convert), applied in order to a
 * patch's value. Each failure throws a TransformError whose message names the transform index
 * and what was wrong, so the XR's condition tells the platform team which line to fix.
 */
export interface Transform {
  type?: 'map' | 'match' | 'math' | 'string' | 'convert';
  map?: Record<string, unknown>;
  match?: { patterns?: MatchPattern[]; fallbackValue?: unknown; fallbackTo?: 'Value' | 'Input' };
  math?: { type?: 'Multiply' | 'ClampMin' | 'ClampMax'; multiply?: number; clampMin?: number; clampMax?: number };
  string?: StringTransform;
  convert?: { toType: 'string' | 'int' | 'int64' | 'bool' | 'float64' | 'object' | 'array'; format?: 'none' | 'quantity' | 'json' };
}

interface MatchPattern {
  type?: 'literal' | 'regexp';
  literal?: string;
  regexp?: string;
  result: unknown;
}

interface StringTransform {
  type?: 'Format' | 'Convert' | 'TrimPrefix' | 'TrimSuffix' | 'Regexp' | 'Join' | 'Replace';
  fmt?: string;
  convert?: 'ToUpper' | 'ToLower' | 'ToBase64' | 'FromBase64' | 'ToJson' | 'ToSha1' | 'ToSha256' | 'ToSha512' | 'ToAdler32';
  trim?: string;
  regexp?: { match: string; group?: number };
  join?: { separator?: string };
  replace?: { search: string; replace: string };
}

export class TransformError extends Error {}

export function applyTransforms(value: unknown, transforms: Transform[] | undefined): unknown {
  let v = value;
  (transforms ?? []).forEach((t, i) => {
    try {
      v = applyTransform(v, t);
    } catch (e) {
      throw new TransformError(`transform ${i} (${t.type ?? 'unknown'}): ${(e as Error).message}`);
    }
  });
  return v;
}

function applyTransform(v: unknown, t: Transform): unknown {
  switch (t.type) {
    case 'map':
      return mapTransform(v, t.map);
    case 'match':
      return matchTransform(v, t.match);
    case 'math':
      return mathTransform(v, t.math);
    case 'string':
      return stringTransform(v, t.string);
    case 'convert':
      return convertTransform(v, t.convert);
    default:
      throw new Error(`unknown transform type "${t.type}"; expected map, match, math, string or convert`);
  }
}

function mapTransform(v: unknown, map: Record<string, unknown> | undefined): unknown {
  if (!map) throw new Error('map is required');
  if (typeof v !== 'string') throw new Error(`input must be a string to look up in the map, got ${describeType(v)}`);
  if (!(v in map)) throw new Error(`key "${v}" is not found in the map`);
  return jsonClone(map[v]);
}

function matchTransform(v: unknown, m: Transform['match']): unknown {
  if (!m) throw new Error('match is required');
  for (const [i, p] of (m.patterns ?? []).entries()) {
    const type = p.type ?? 'literal';
    if (type === 'literal') {
      if (p.literal === undefined) throw new Error(`pattern ${i}: literal is required`);
      if (typeof v === 'string' && v === p.literal) return jsonClone(p.result);
    } else if (type === 'regexp') {
      if (!p.regexp) throw new Error(`pattern ${i}: regexp is required`);
      let re: RegExp;
      try {
        re = new RegExp(p.regexp);
      } catch (e) {
        throw new Error(`pattern ${i}: invalid regexp: ${(e as Error).message}`);
      }
      if (typeof v === 'string' && re.test(v)) return jsonClone(p.result);
    } else throw new Error(`pattern ${i}: unknown type "${type}"`);
  }
  if (m.fallbackTo === 'Input') return v;
  return jsonClone(m.fallbackValue ?? null);
}

function mathTransform(v: unknown, m: Transform['math']): unknown {
  if (!m) throw new Error('math is required');
  if (typeof v !== 'number') throw new Error(`input must be a number, got ${describeType(v)}`);
  const type = m.type ?? (m.multiply !== undefined ? 'Multiply' : m.clampMin !== undefined ? 'ClampMin' : m.clampMax !== undefined ? 'ClampMax' : undefined);
  if (type === 'Multiply') {
    if (typeof m.multiply !== 'number') throw new Error('multiply must be a number');
    return v * m.multiply;
  }
  if (type === 'ClampMin') {
    if (typeof m.clampMin !== 'number') throw new Error('clampMin must be a number');
    return Math.max(v, m.clampMin);
  }
  if (type === 'ClampMax') {
    if (typeof m.clampMax !== 'number') throw new Error('clampMax must be a number');
    return Math.min(v, m.clampMax);
  }
  throw new Error(`unknown math type "${m.type}"`);
}

function stringTransform(v: unknown, s: StringTransform | undefined): unknown {
  if (!s) throw new Error('string is required');
  const type = s.type ?? 'Format';
  switch (type) {
    case 'Format':
      if (s.fmt === undefined) throw new Error('fmt is required for a Format string transform');
      return goFormat(s.fmt, [v]);
    case 'Convert':
      return stringConvert(v, s.convert);
    case 'TrimPrefix':
    case 'TrimSuffix': {
      const str = requireString(v);
      if (s.trim === undefined) throw new Error(`trim is required for ${type}`);
      if (type === 'TrimPrefix') return str.startsWith(s.trim) ? str.slice(s.trim.length) : str;
      return s.trim && str.endsWith(s.trim) ? str.slice(0, -s.trim.length) : str;
    }
    case 'Regexp': {
      const str = requireString(v);
      if (!s.regexp?.match) throw new Error('regexp.match is required');
      const m = new RegExp(s.regexp.match).exec(str);
      if (!m) throw new Error(`regexp ${s.regexp.match} does not match "${str}"`);
      const g = s.regexp.group ?? 0;
      if (m[g] === undefined) throw new Error(`regexp ${s.regexp.match} has no group ${g}`);
      return m[g];
    }
    case 'Join': {
      if (!Array.isArray(v)) throw new Error(`input must be an array to join, got ${describeType(v)}`);
      return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(s.join?.separator ?? '');
    }
    case 'Replace': {
      const str = requireString(v);
      if (!s.replace?.search) throw new Error('replace.search is required');
      return str.split(s.replace.search).join(s.replace.replace ?? '');
    }
    default:
      throw new Error(`unknown string transform type "${type}"`);
  }
}

function stringConvert(v: unknown, convert: StringTransform['convert']): string {
  if (convert === 'ToJson') return JSON.stringify(v);
  const str = convert && convert.startsWith('ToSha') || convert === 'ToAdler32' ? (typeof v === 'string' ? v : JSON.stringify(v)) : requireString(v);
  switch (convert) {
    case 'ToUpper':
      return str.toUpperCase();
    case 'ToLower':
      return str.toLowerCase();
    case 'ToBase64':
      return Buffer.from(str, 'utf8').toString('base64');
    case 'FromBase64':
      return Buffer.from(str, 'base64').toString('utf8');
    case 'ToSha1':
      return createHash('sha1').update(str).digest('hex');
    case 'ToSha256':
      return createHash('sha256').update(str).digest('hex');
    case 'ToSha512':
      return createHash('sha512').update(str).digest('hex');
    case 'ToAdler32':
      return String(adler32(str));
    default:
      throw new Error(`unknown string convert "${convert}"`);
  }
}

function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function convertTransform(v: unknown, c: Transform['convert']): unknown {
  if (!c?.toType) throw new Error('convert.toType is required');
  const format = c.format ?? 'none';
  if (format === 'quantity') {
    if (typeof v !== 'string') throw new Error(`quantity format needs a string input, got ${describeType(v)}`);
    const n = parseQuantity(v);
    if (c.toType === 'float64') return n;
    if (c.toType === 'int' || c.toType === 'int64') return Math.ceil(n);
    if (c.toType === 'string') return String(n);
    throw new Error(`cannot convert a quantity to ${c.toType}`);
  }
  if (format === 'json') {
    if (typeof v !== 'string') throw new Error(`json format needs a string input, got ${describeType(v)}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (e) {
      throw new Error(`input is not valid JSON: ${(e as Error).message}`);
    }
    if (c.toType === 'object' && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) throw new Error('JSON input is not an object');
    if (c.toType === 'array' && !Array.isArray(parsed)) throw new Error('JSON input is not an array');
    return parsed;
  }
  if (format !== 'none') throw new Error(`unknown convert format "${format}"`);
  switch (c.toType) {
    case 'string':
      if (typeof v === 'object' && v !== null) throw new Error(`cannot convert ${describeType(v)} to string`);
      return String(v);
    case 'int':
    case 'int64': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'number') return Math.trunc(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
      throw new Error(`cannot convert ${describeType(v)} ${JSON.stringify(v)} to ${c.toType}`);
    }
    case 'float64': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      throw new Error(`cannot convert ${describeType(v)} ${JSON.stringify(v)} to float64`);
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      if (typeof v === 'string' && ['true', '1', 't', 'TRUE', 'True'].includes(v)) return true;
      if (typeof v === 'string' && ['false', '0', 'f', 'FALSE', 'False'].includes(v)) return false;
      throw new Error(`cannot convert ${describeType(v)} ${JSON.stringify(v)} to bool`);
    }
    default:
      throw new Error(`cannot convert to ${c.toType} without format json`);
  }
}

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("10Gi", "500m", "1e3") as a number. */
export function parseQuantity(q: string): number {
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m || !(m[2]! in SUFFIXES)) throw new Error(`"${q}" is not a quantity`);
  return Number(m[1]) * SUFFIXES[m[2]!]!;
}

function requireString(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`input must be a string, got ${describeType(v)}`);
  return v;
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Go's fmt verbs as compositions use them: %s %v %d %f %.Nf %q %x %t %%. */
export function goFormat(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([svdfqxXtTe%])/g, (_m, _flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (a === undefined && i > args.length) return `%!${verb}(MISSING)`;
    let out: string;
    switch (verb) {
      case 's':
      case 'v':
        out = typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a);
        break;
      case 'd':
        out = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${typeof a}=${String(a)})`;
        break;
      case 'f':
      case 'e':
        out = typeof a === 'number' ? (verb === 'e' ? a.toExponential(prec ? Number(prec) : 6) : a.toFixed(prec ? Number(prec) : 6)) : `%!${verb}(${typeof a}=${String(a)})`;
        break;
      case 'q':
        out = JSON.stringify(typeof a === 'string' ? a : String(a));
        break;
      case 'x':
      case 'X': {
        const s = typeof a === 'number' ? a.toString(16) : Buffer.from(String(a), 'utf8').toString('hex');
        out = verb === 'X' ? s.toUpperCase() : s;
        break;
      }
      case 't':
        out = String(Boolean(a));
        break;
      default:
        out = typeof a;
    }
    return width ? out.padStart(Number(width)) : out;
  });
}
