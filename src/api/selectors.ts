import { ApiError } from './errors.js';
import type { Resource } from './types.js';

/** One requirement of a label or field selector, in the operators Kubernetes defines. */
export interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists';
  values: string[];
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. */
export function parseLabelSelector(text: string | undefined): Requirement[] {
  if (!text || !text.trim()) return [];
  const reqs: Requirement[] = [];
  let i = 0;
  const s = text;
  const skipWs = () => {
    while (i < s.length && s[i] === ' ') i++;
  };
  const readKey = () => {
    skipWs();
    const start = i;
    while (i < s.length && /[A-Za-z0-9._\-/]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    let negate = false;
    if (s[i] === '!') {
      negate = true;
      i++;
    }
    const key = readKey();
    if (!key) throw ApiError.badRequest(`invalid label selector "${text}": expected a label key at position ${i}`);
    skipWs();
    if (negate) {
      reqs.push({ key, op: '!exists', values: [] });
    } else if (i >= s.length || s[i] === ',') {
      reqs.push({ key, op: 'exists', values: [] });
    } else if (s.startsWith('!=', i)) {
      i += 2;
      reqs.push({ key, op: 'notin', values: [readKey()] });
    } else if (s.startsWith('==', i)) {
      i += 2;
      reqs.push({ key, op: 'in', values: [readKey()] });
    } else if (s[i] === '=') {
      i += 1;
      reqs.push({ key, op: 'in', values: [readKey()] });
    } else {
      const m = /^(in|notin)\s*\(([^)]*)\)/.exec(s.slice(i));
      if (!m) throw ApiError.badRequest(`invalid label selector "${text}": unexpected "${s.slice(i, i + 10)}" after key "${key}"`);
      i += m[0].length;
      const values = m[2]!.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
      reqs.push({ key, op: m[1] as 'in' | 'notin', values });
    }
    skipWs();
    if (i < s.length) {
      if (s[i] !== ',') throw ApiError.badRequest(`invalid label selector "${text}": expected "," at position ${i}`);
      i++;
    }
  }
  return reqs;
}

/** Parses a field selector: `metadata.name=x,status.phase!=Done`. */
export function parseFieldSelector(text: string | undefined): Requirement[] {
  if (!text || !text.trim()) return [];
  return text.split(',').map((part) => {
    const m = /^\s*([A-Za-z0-9._\-[\]]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw ApiError.badRequest(`invalid field selector "${text}": "${part}" is not key=value or key!=value`);
    return { key: m[1]!, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] } as Requirement;
  });
}

export function selectorFromObject(sel: LabelSelectorObject | undefined): Requirement[] {
  if (!sel) return [];
  const reqs: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'in', values: [v] }));
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const)[e.operator];
    if (!op) throw ApiError.badRequest(`invalid label selector operator "${e.operator}" for key "${e.key}"`);
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

export function selectorToString(reqs: Requirement[]): string {
  return reqs
    .map((r) => {
      if (r.op === 'exists') return r.key;
      if (r.op === '!exists') return `!${r.key}`;
      if (r.values.length === 1) return `${r.key}${r.op === 'in' ? '=' : '!='}${r.values[0]}`;
      return `${r.key} ${r.op} (${r.values.join(',')})`;
    })
    .join(',');
}

export function matchesRequirement(value: string | undefined, r: Requirement): boolean {
  switch (r.op) {
    case 'exists':
      return value !== undefined;
    case '!exists':
      return value === undefined;
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
  }
}

export function matchesLabels(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  for (const r of reqs) if (!matchesRequirement(labels?.[r.key], r)) return false;
  return true;
}

/** Reads a dotted field path such as `status.phase` or `metadata.name` as a string. */
export function fieldValue(obj: Resource, path: string): string | undefined {
  let cur: any = obj;
  for (const seg of path.split('.')) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = cur[seg];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}

export function matchesFields(obj: Resource, reqs: Requirement[]): boolean {
  for (const r of reqs) {
    // a field that is absent compares as the empty string, as in Kubernetes
    if (!matchesRequirement(fieldValue(obj, r.key) ?? '', r)) return false;
  }
  return true;
}
