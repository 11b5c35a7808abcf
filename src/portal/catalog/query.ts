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

/** Checks a predicate's shape up front, so a malformed query is a 400 naming the operator, not a 500. */
export function checkPredicate(p: unknown, at = 'query'): Predicate {
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new EntityError(`${at} must be an object`, at);
  const o = p as Record<string, unknown>;
  if ('$all' in o || '$any' in o) {
    const op = '$all' in o ? '$all' : '$any';
    if (!Array.isArray(o[op])) throw new EntityError(`${at}.${op} must be a list`, `${at}.${op}`);
    (o[op] as unknown[]).forEach((x, i) => checkPredicate(x, `${at}.${op}[${i}]`));
    return p as Predicate;
  }
  if ('$not' in o) {
    checkPredicate(o.$not, `${at}.$not`);
    return p as Predicate;
  }
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('$')) throw new EntityError(`${at}: unknown operator "${k}"`, `${at}.${k}`);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const ops = Object.keys(v);
      if (ops.length !== 1 || !['$exists', '$in', '$hasPrefix', '$contains'].includes(ops[0]!)) throw new EntityError(`${at}.${k}: unknown matcher ${JSON.stringify(ops)}`, `${at}.${k}`);
      if (ops[0] === '$in' && !Array.isArray((v as { $in: unknown }).$in)) throw new EntityError(`${at}.${k}.$in must be a list`, `${at}.${k}.$in`);
    } else if (!['string', 'number', 'boolean'].includes(typeof v)) throw new EntityError(`${at}.${k} must be a string, number, boolean or matcher`, `${at}.${k}`);
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
