import { createHash } from 'node:crypto';
import { jsonClone } from '../../api/clone.js';
import { goFormat, goJson, goTypeName, goValueString } from './goformat.js';

export { goFormat } from './goformat.js';

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
    } else if (type === 'regexp') {
      if (!p.regexp) throw new Error(`pattern ${i}: regexp is required`);
    } else throw new Error(`pattern ${i}: unknown type "${type}"`);
    // Crossplane matches strings only: any other input is an error, not a miss
    if (typeof v !== 'string') throw new Error(`pattern ${i}: input must be a string, got ${goTypeName(v)}`);
    if (type === 'literal' ? v === p.literal : compileRegexp(p.regexp!, `pattern ${i}`).test(v)) return jsonClone(p.result ?? null);
  }
  if (m.fallbackTo === 'Input') {
    if (m.fallbackValue !== undefined) throw new Error('fallbackValue and fallbackTo: Input cannot both be set');
    return v;
  }
  return jsonClone(m.fallbackValue ?? null);
}

function compileRegexp(source: string, what: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new Error(`${what}: invalid regexp: ${(e as Error).message}`);
  }
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
      const str = goValueString(v);
      if (s.trim === undefined) throw new Error(`trim is required for ${type}`);
      if (type === 'TrimPrefix') return str.startsWith(s.trim) ? str.slice(s.trim.length) : str;
      return s.trim && str.endsWith(s.trim) ? str.slice(0, -s.trim.length) : str;
    }
    case 'Regexp': {
      const str = goValueString(v);
      if (!s.regexp?.match) throw new Error('regexp.match is required');
      const m = compileRegexp(s.regexp.match, 'regexp.match').exec(str);
      if (!m) throw new Error(`regexp ${s.regexp.match} does not match "${str}"`);
      const g = s.regexp.group ?? 0;
      if (m[g] === undefined) throw new Error(`regexp ${s.regexp.match} has no group ${g}`);
      return m[g];
    }
    case 'Join': {
      if (!Array.isArray(v)) throw new Error(`input must be an array to join, got ${describeType(v)}`);
      return v.map(goValueString).join(s.join?.separator ?? '');
    }
    case 'Replace': {
      const str = goValueString(v);
      if (!s.replace?.search) throw new Error('replace.search is required');
      return str.split(s.replace.search).join(s.replace.replace ?? '');
    }
    default:
      throw new Error(`unknown string transform type "${type}"`);
  }
}

function stringConvert(v: unknown, convert: StringTransform['convert']): string {
  if (convert === 'ToJson') return goJson(v);
  // hashes are of the string itself, or of the JSON of anything else
  const hashed = () => (typeof v === 'string' ? v : goJson(v));
  switch (convert) {
    case 'ToUpper':
      return goValueString(v).toUpperCase();
    case 'ToLower':
      return goValueString(v).toLowerCase();
    case 'ToBase64':
      return Buffer.from(goValueString(v), 'utf8').toString('base64');
    case 'FromBase64': {
      // Buffer decodes anything, skipping what is not base64; Crossplane refuses it
      const str = goValueString(v).replace(/[\r\n]/g, '');
      if (str.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(str)) throw new Error(`"${truncate(str)}" is not valid base64`);
      return Buffer.from(str, 'base64').toString('utf8');
    }
    case 'ToSha1':
      return createHash('sha1').update(hashed()).digest('hex');
    case 'ToSha256':
      return createHash('sha256').update(hashed()).digest('hex');
    case 'ToSha512':
      return createHash('sha512').update(hashed()).digest('hex');
    case 'ToAdler32':
      return String(adler32(hashed()));
    default:
      throw new Error(`unknown string convert "${convert}"`);
  }
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
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

/** Crossplane's convert pairs: input type, then `toType/format` (int is int64). */
const CONVERSIONS: Record<string, Record<string, (v: any) => unknown>> = {
  string: {
    'int64/none': (v: string) => parseGoInt(v),
    'bool/none': (v: string) => parseGoBool(v),
    'float64/none': (v: string) => parseGoFloat(v),
    'float64/quantity': (v: string) => parseQuantity(v),
    'object/json': (v: string) => parseJson(v, 'object'),
    'array/json': (v: string) => parseJson(v, 'array'),
  },
  int64: {
    'string/none': (v: number) => BigInt(v).toString(),
    'bool/none': (v: number) => v === 1,
    'float64/none': (v: number) => v,
  },
  float64: {
    'string/none': (v: number) => decimalString(v),
    'int64/none': (v: number) => Math.trunc(v),
    'bool/none': (v: number) => v === 1,
  },
  bool: {
    'string/none': (v: boolean) => String(v),
    'int64/none': (v: boolean) => (v ? 1 : 0),
    'float64/none': (v: boolean) => (v ? 1 : 0),
  },
};

function convertTransform(v: unknown, c: Transform['convert']): unknown {
  if (!c?.toType) throw new Error('convert.toType is required');
  const format = c.format ?? 'none';
  if (!['none', 'quantity', 'json'].includes(format)) throw new Error(`unknown convert format "${format}"`);
  const from = goTypeName(v);
  const to = c.toType === 'int' ? 'int64' : c.toType;
  if (from === to) return v;
  const fn = CONVERSIONS[from]?.[`${to}/${format}`];
  if (!fn) {
    if (!(from in CONVERSIONS)) throw new Error(`cannot convert input of type ${from}`);
    throw new Error(`conversion from ${from} to ${to} is not supported with format ${format}`);
  }
  return fn(v);
}

/** A float64 as Go's FormatFloat(f, 'f', -1) writes it: shortest digits, never an exponent. */
function decimalString(n: number): string {
  const plain = String(n);
  if (!plain.includes('e')) return plain;
  const [mantissa, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  const abs = exp >= 0
    ? digits.length <= exp + 1 ? digits + '0'.repeat(exp + 1 - digits.length) : `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
    : `0.${'0'.repeat(-exp - 1)}${digits}`;
  return n < 0 ? `-${abs}` : abs;
}

function parseGoInt(v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`cannot convert string ${JSON.stringify(v)} to int64: not an integer`);
  return Number(v);
}

function parseGoBool(v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`cannot convert string ${JSON.stringify(v)} to bool`);
}

function parseGoFloat(v: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) throw new Error(`cannot convert string ${JSON.stringify(v)} to float64: not a number`);
  return Number(v);
}

function parseJson(v: string, want: 'object' | 'array'): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new Error(`input is not valid JSON: ${(e as Error).message}`);
  }
  if (want === 'array' ? !Array.isArray(parsed) : typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`JSON input is not an ${want}`);
  return parsed;
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

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
