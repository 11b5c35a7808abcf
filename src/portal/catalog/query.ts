import { EntityError } from './entity.js';

/**
 * A catalog predicate, the shape of Backstage's POST /entities/by-query `query`:
 * `{$all:[...]}`, `{$any:[...]}`, `{$not: p}`, or `{ "field.path": value | {$exists} | {$in} | {$hasPrefix} | {$contains} }`
 * (several paths in one object all have to match). Values compare case-insensitively.
 */
export type Predicate =
  | { $all: Predicate[] }
  | { $any: Predicate[] }
  | { $not: Predicate }
  | { [path: string]: PredicateValue };

export type Primitive = string | number | boolean;
export type PredicateValue = Primitive | { $exists: boolean } | { $in: Primitive[] } | { $hasPrefix: string } | { $contains: unknown };

/**
 * Backstage's GET filter syntax: each `filter` parameter is `key=value,key2=value2,key3` (all
 * must hold; a bare key means the field exists; one key given several values matches any);
 * several `filter` parameters match if any of them does.
 */
export function parseFilterParams(filters: string[]): Predicate | undefined {
  const alternatives: Predicate[] = [];
  for (const filter of filters) {
    const byKey = new Map<string, { values: string[]; exists: boolean }>();
    for (const part of filter.split(',')) {
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (!key) {
        if (part.trim()) throw new EntityError(`invalid filter "${filter}": "${part}" has no key`, 'filter');
        continue;
      }
      const slot = byKey.get(key) ?? { values: [], exists: false };
      if (eq < 0) slot.exists = true;
      else slot.values.push(part.slice(eq + 1).trim());
      byKey.set(key, slot);
    }
    const parts: Predicate[] = [];
    for (const [key, slot] of byKey) parts.push(slot.values.length ? { [key]: { $in: slot.values } } : { [key]: { $exists: true } });
    if (parts.length) alternatives.push(parts.length === 1 ? parts[0]! : { $all: parts });
  }
  if (!alternatives.length) return undefined;
  return alternatives.length === 1 ? alternatives[0] : { $any: alternatives };
}

const LOGICAL = ['$all', '$any', '$not'];
const MATCHERS = ['$exists', '$in', '$hasPrefix', '$contains'];
const isPrimitive = (v: unknown): v is Primitive => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * Checks a predicate's shape up front, so a malformed query is a 400 naming the part that is
 * wrong (`query.$all[0].kind: ...`), not a 500 or a silently ignored key. As in Backstage,
 * $all, $any and $not stand alone in their object; unknown operators and matchers are refused.
 */
export function checkPredicate(p: unknown, at = 'query'): Predicate {
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new EntityError(`${at} must be an object`, at);
  const o = p as Record<string, unknown>;
  const keys = Object.keys(o);
  const op = keys.find((k) => LOGICAL.includes(k));
  if (op) {
    if (keys.length !== 1) throw new EntityError(`${at}: ${op} must be the only key of its object; wrap the other conditions in $all`, at);
    if (op === '$not') checkPredicate(o.$not, `${at}.$not`);
    else {
      if (!Array.isArray(o[op])) throw new EntityError(`${at}.${op} must be a list of predicates`, `${at}.${op}`);
      (o[op] as unknown[]).forEach((x, i) => checkPredicate(x, `${at}.${op}[${i}]`));
    }
    return p as Predicate;
  }
  for (const [k, v] of Object.entries(o)) {
    const path = `${at}.${k}`;
    if (k.startsWith('$')) throw new EntityError(`${at}: unknown operator "${k}" (use $all, $any or $not)`, path);
    if (isPrimitive(v)) continue;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new EntityError(`${path} must be a string, number, boolean or one of ${MATCHERS.join(', ')}`, path);
    const ops = Object.keys(v);
    if (ops.length !== 1 || !MATCHERS.includes(ops[0]!)) throw new EntityError(`${path}: unknown matcher ${JSON.stringify(ops)} (use one of ${MATCHERS.join(', ')})`, path);
    const m = v as Record<string, unknown>;
    if ('$exists' in m && typeof m.$exists !== 'boolean') throw new EntityError(`${path}.$exists must be true or false`, `${path}.$exists`);
    if ('$in' in m) {
      if (!Array.isArray(m.$in)) throw new EntityError(`${path}.$in must be a list`, `${path}.$in`);
      m.$in.forEach((x, i) => {
        if (!isPrimitive(x)) throw new EntityError(`${path}.$in[${i}] must be a string, number or boolean`, `${path}.$in[${i}]`);
      });
    }
    if ('$hasPrefix' in m && typeof m.$hasPrefix !== 'string') throw new EntityError(`${path}.$hasPrefix must be a string`, `${path}.$hasPrefix`);
    if ('$contains' in m && !isPrimitive(m.$contains)) {
      const c = m.$contains;
      // an item of a list is matched by a value or by fields of the item, not by $all/$any/$not
      if (c && typeof c === 'object' && Object.keys(c).some((x) => x.startsWith('$'))) throw new EntityError(`${path}.$contains takes a value or an object of fields`, `${path}.$contains`);
      checkPredicate(c, `${path}.$contains`);
    }
  }
  return p as Predicate;
}

export interface OrderField {
  field: string;
  order: 'asc' | 'desc';
}

/** `orderField=metadata.name,desc` as the GET endpoint takes it. */
export function parseOrderFields(values: string[]): OrderField[] {
  return values.map((v) => {
    const [field, order = 'asc'] = v.split(',').map((s) => s.trim());
    if (!field || (order !== 'asc' && order !== 'desc')) throw new EntityError(`invalid orderField "${v}": use FIELD or FIELD,asc|desc`, 'orderField');
    return { field, order };
  });
}

/** What a cursor remembers: the query that produced a page and where the next page starts. */
export interface CursorState {
  predicate?: Predicate;
  orderFields: OrderField[];
  fullText?: { term: string; fields?: string[] };
  offset: number;
  totalItems?: number;
  /** Set when the cursor came from the POST endpoint; the client routes such cursors back there. */
  viaPost?: boolean;
}

export function encodeCursor(c: CursorState): string {
  const body: Record<string, unknown> = { o: c.orderFields, f: c.fullText, n: c.offset };
  // catalog-client sends cursors holding a `query` key to POST /entities/by-query, others to GET
  if (c.viaPost) body.query = c.predicate ?? {};
  else body.filter = c.predicate;
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

export function decodeCursor(s: string): CursorState {
  try {
    const b = JSON.parse(Buffer.from(s, 'base64').toString('utf8'));
    const predicate = 'query' in b ? (Object.keys(b.query ?? {}).length ? b.query : undefined) : b.filter;
    return { predicate: predicate ? checkPredicate(predicate, 'cursor') : undefined, orderFields: b.o ?? [], fullText: b.f, offset: Number(b.n) || 0, viaPost: 'query' in b };
  } catch (e) {
    throw new EntityError(`malformed cursor: ${(e as Error).message}`, 'cursor');
  }
}
