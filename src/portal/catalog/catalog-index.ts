import type { Resource } from '../../api/types.js';
import { DEFAULT_NAMESPACE, parseEntityRef, refKey, stringifyEntityRef, type Entity, type EntityRelation } from './entity.js';
import { internalAnnotation, resourceToEntity } from './kinds.js';
import type { OrderField, Predicate, PredicateValue, Primitive } from './query.js';
import { relationsOf, type Relation } from './relations.js';

/** One entity as the index holds it: the served form, its search fields and the relations it emits. */
export interface IndexedEntity {
  key: string;
  ref: string;
  uid: string;
  entity: Entity;
  resource: { apiVersion: string; kind: string; namespace: string; name: string };
  /** [lowercased path, lowercased value, original value] for every searchable leaf. */
  fields: [string, string, string][];
  emitted: Relation[];
  /** The Location entity whose processing produced this one, if any. */
  emittedBy?: string;
  /** Why relations could not be computed, if they could not. */
  relationError?: string;
  /** The default full-text fields (name, title, display name), lowercased, for term search. */
  text: string;
}

const TEXT_FIELDS = ['metadata.name', 'metadata.title', 'spec.profile.displayname'];

const MAX_VALUE_LENGTH = 200;
const SKIP = new Set(['metadata.uid', 'metadata.etag']);

/** Flattens an entity into search fields the way Backstage's search table has them. */
function flatten(e: Entity): [string, string, string][] {
  const out: [string, string, string][] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) {
      for (const x of v) {
        walk(x, path);
        // as in Backstage's search table, a listed value is also a key: metadata.tags.java=true
        if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') {
          const s = String(x);
          if (s.length <= MAX_VALUE_LENGTH) out.push([`${path}.${s.toLowerCase()}`, 'true', 'true']);
        }
      }
      return;
    }
    if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v as object)) walk(x, path ? `${path}.${k.toLowerCase()}` : k.toLowerCase());
      return;
    }
    if (SKIP.has(path)) return;
    const s = String(v);
    if (s.length > MAX_VALUE_LENGTH) return;
    out.push([path, s.toLowerCase(), s]);
  };
  walk({ apiVersion: e.apiVersion, kind: e.kind, metadata: e.metadata, spec: e.spec }, '');
  return out;
}

function add(index: Map<string, Set<string>>, k: string, v: string): void {
  let s = index.get(k);
  if (!s) index.set(k, (s = new Set()));
  s.add(v);
}

function del(index: Map<string, Set<string>>, k: string, v: string): void {
  const s = index.get(k);
  if (!s) return;
  s.delete(v);
  if (!s.size) index.delete(k);
}

const SEP = '\u0000';

/**
 * The catalog's query side: every entity in memory with an inverted index of its fields and
 * relations, so filters, refs, facets and full-text search are answered without reading or
 * parsing stored objects per request. Fed by the informers of the catalog kinds; relations are
 * derived here (both directions), so they are always consistent with the stored entities.
 */
export class CatalogIndex {
  private byKey = new Map<string, IndexedEntity>();
  private byUid = new Map<string, string>();
  /** `path` and `path\0value` → keys of entities with that field. */
  private search = new Map<string, Set<string>>();
  /** source key → `type\0target` → how many emitters assert it. */
  private relations = new Map<string, Map<string, { type: string; target: string; count: number }>>();
  private listeners: ((e: IndexedEntity, change: 'upsert' | 'remove') => void)[] = [];
  /** path → lowercased value → a value as written: the candidate values of a facet. */
  private values = new Map<string, Map<string, string>>();

  get size(): number {
    return this.byKey.size;
  }

  relationCount(): number {
    let n = 0;
    for (const m of this.relations.values()) n += m.size;
    return n;
  }

  onChange(l: (e: IndexedEntity, change: 'upsert' | 'remove') => void): void {
    this.listeners.push(l);
  }

  upsert(r: Resource): void {
    const entity = resourceToEntity(r);
    const ref = stringifyEntityRef({ kind: entity.kind, namespace: entity.metadata.namespace ?? DEFAULT_NAMESPACE, name: entity.metadata.name });
    const key = refKey(ref);
    const old = this.byKey.get(key);
    if (old) this.unindex(old);
    let emitted: Relation[] = [];
    let relationError: string | undefined;
    try {
      emitted = relationsOf(entity);
    } catch (e) {
      relationError = (e as Error).message;
    }
    const rec: IndexedEntity = {
      key,
      ref,
      uid: r.metadata.uid!,
      entity,
      resource: { apiVersion: r.apiVersion, kind: r.kind, namespace: r.metadata.namespace ?? DEFAULT_NAMESPACE, name: r.metadata.name! },
      fields: flatten(entity),
      emitted,
      emittedBy: internalAnnotation(r, 'emitted-by'),
      relationError,
      text: '',
    };
    rec.text = rec.fields.filter(([k]) => TEXT_FIELDS.includes(k)).map(([, v]) => v).join('\n');
    this.byKey.set(key, rec);
    this.byUid.set(rec.uid, key);
    for (const [k, v, orig] of rec.fields) {
      add(this.search, k + SEP + v, key);
      let vals = this.values.get(k);
      if (!vals) this.values.set(k, (vals = new Map()));
      if (!vals.has(v)) vals.set(v, orig);
    }
    for (const rel of emitted) this.addRelation(rel);
    for (const l of this.listeners) l(rec, 'upsert');
  }

  remove(r: Resource): void {
    const e = resourceToEntity(r);
    const key = refKey({ kind: e.kind, namespace: e.metadata.namespace ?? DEFAULT_NAMESPACE, name: e.metadata.name });
    const rec = this.byKey.get(key);
    if (!rec || rec.uid !== r.metadata.uid) return;
    this.unindex(rec);
    this.byKey.delete(key);
    this.byUid.delete(rec.uid);
    for (const l of this.listeners) l(rec, 'remove');
  }

  private unindex(rec: IndexedEntity): void {
    for (const [k, v] of rec.fields) del(this.search, k + SEP + v, rec.key);
    for (const rel of rec.emitted) this.removeRelation(rel);
    this.byUid.delete(rec.uid);
  }

  private addRelation(rel: Relation): void {
    const source = rel.source.toLowerCase();
    let m = this.relations.get(source);
    if (!m) this.relations.set(source, (m = new Map()));
    const k = rel.type + SEP + rel.target.toLowerCase();
    const slot = m.get(k);
    if (slot) slot.count++;
    else {
      m.set(k, { type: rel.type, target: rel.target, count: 1 });
      const path = `relations.${rel.type.toLowerCase()}`;
      add(this.search, path, source);
      add(this.search, path + SEP + rel.target.toLowerCase(), source);
    }
  }

  private removeRelation(rel: Relation): void {
    const source = rel.source.toLowerCase();
    const m = this.relations.get(source);
    const k = rel.type + SEP + rel.target.toLowerCase();
    const slot = m?.get(k);
    if (!m || !slot) return;
    if (--slot.count > 0) return;
    m.delete(k);
    if (!m.size) this.relations.delete(source);
    const path = `relations.${rel.type.toLowerCase()}`;
    del(this.search, path + SEP + rel.target.toLowerCase(), source);
    if (![...m.values()].some((x) => x.type === rel.type)) del(this.search, path, source);
  }

  /** By ref (`kind:ns/name`, case-insensitive) or by kind, namespace and name. */
  get(ref: string): IndexedEntity | undefined {
    return this.byKey.get(ref.toLowerCase());
  }

  getByUid(uid: string): IndexedEntity | undefined {
    const k = this.byUid.get(uid);
    return k ? this.byKey.get(k) : undefined;
  }

  all(): IterableIterator<IndexedEntity> {
    return this.byKey.values();
  }

  relationsOf(key: string): EntityRelation[] {
    const m = this.relations.get(key);
    if (!m) return [];
    return [...m.values()].map((r) => ({ type: r.type, targetRef: r.target, target: parseEntityRef(r.target) })) as EntityRelation[];
  }

  /** The entity as the API serves it: stored form plus relations, optionally cut to `fields`. */
  served(rec: IndexedEntity, fields?: string[]): Entity {
    const full: Entity = { ...rec.entity, relations: this.relationsOf(rec.key) };
    if (rec.relationError) full.status = { items: [...(full.status?.items ?? []), { type: 'backstage.io/catalog-processing', level: 'error', message: rec.relationError, error: { name: 'InputError', message: rec.relationError } }] };
    return fields?.length ? project(full, fields) : full;
  }

  /**
   * Keys a predicate matches. The result may be one of the index's own sets (never mutate it)
   * and may hold keys of relation sources that are not entities: callers skip those.
   */
  select(p: Predicate | undefined): ReadonlySet<string> {
    if (!p) return new Set(this.byKey.keys());
    return this.eval(p);
  }

  private eval(p: Predicate): ReadonlySet<string> {
    if ('$all' in p && Array.isArray(p.$all)) {
      const sets = (p.$all as Predicate[]).map((x) => this.eval(x));
      return sets.length ? intersect(sets) : new Set(this.byKey.keys());
    }
    if ('$any' in p && Array.isArray(p.$any)) {
      const out = new Set<string>();
      for (const x of p.$any as Predicate[]) for (const k of this.eval(x)) out.add(k);
      return out;
    }
    if ('$not' in p) {
      const excluded = this.eval(p.$not as Predicate);
      const out = new Set<string>();
      for (const k of this.byKey.keys()) if (!excluded.has(k)) out.add(k);
      return out;
    }
    const parts = Object.entries(p as Record<string, PredicateValue>).map(([path, v]) => this.match(path.toLowerCase(), v));
    return parts.length === 1 ? parts[0]! : intersect(parts);
  }

  private match(path: string, v: PredicateValue): ReadonlySet<string> {
    const none: ReadonlySet<string> = new Set();
    if (v !== null && typeof v === 'object') {
      if ('$exists' in v) {
        const has = this.holders(path);
        if (v.$exists) return has;
        const out = new Set<string>();
        for (const k of this.byKey.keys()) if (!has.has(k)) out.add(k);
        return out;
      }
      if ('$in' in v) {
        if (v.$in.length === 1) return this.search.get(path + SEP + String(v.$in[0]).toLowerCase()) ?? none;
        const out = new Set<string>();
        for (const x of v.$in) for (const k of this.search.get(path + SEP + String(x).toLowerCase()) ?? none) out.add(k);
        return out;
      }
      if ('$hasPrefix' in v) {
        const prefix = String(v.$hasPrefix).toLowerCase();
        const out = new Set<string>();
        for (const rec of this.byKey.values()) if (this.valuesOf(rec, path).some((x) => x.startsWith(prefix))) out.add(rec.key);
        return out;
      }
      if ('$contains' in v) {
        const c = v.$contains as Record<string, unknown> | Primitive;
        if (c && typeof c === 'object' && path === 'relations' && typeof c.type === 'string' && typeof c.targetRef === 'string') {
          return this.search.get(`relations.${c.type.toLowerCase()}${SEP}${c.targetRef.toLowerCase()}`) ?? none;
        }
        if (c && typeof c === 'object') return this.eval(Object.fromEntries(Object.entries(c).map(([k, x]) => [`${path}.${k}`, x as PredicateValue])));
        return this.match(path, c as Primitive);
      }
    }
    return this.search.get(path + SEP + String(v).toLowerCase()) ?? none;
  }

  /** Keys of entities that have a field at all: the union of its value sets (fields are not indexed twice). */
  private holders(path: string): ReadonlySet<string> {
    if (path.startsWith('relations.')) return this.search.get(path) ?? new Set();
    const out = new Set<string>();
    for (const lower of this.values.get(path)?.keys() ?? []) for (const k of this.search.get(path + SEP + lower) ?? []) out.add(k);
    return out;
  }

  /** Lowercased values of a field path for one entity (relations included). */
  valuesOf(rec: IndexedEntity, path: string): string[] {
    if (path.startsWith('relations.')) {
      const type = path.slice('relations.'.length);
      return this.relationsOf(rec.key).filter((r) => r.type.toLowerCase() === type).map((r) => r.targetRef.toLowerCase());
    }
    const out: string[] = [];
    for (const [k, v] of rec.fields) if (k === path) out.push(v);
    return out;
  }

  /**
   * Runs a query: filter, full-text term, order, then one page. Entities without the order
   * field sort last; ties fall back to the entity ref, so paging is stable.
   */
  query(q: { predicate?: Predicate; fullText?: { term: string; fields?: string[] }; orderFields?: OrderField[]; offset?: number; limit?: number }): { items: IndexedEntity[]; totalItems: number } {
    const term = q.fullText?.term?.trim().toLowerCase();
    const fields = q.fullText?.fields?.length ? q.fullText.fields.map((f) => f.toLowerCase()) : undefined;
    const textMatch = (rec: IndexedEntity) => {
      if (!fields) return rec.text.includes(term!);
      for (const [path, v] of rec.fields) if (v.includes(term!) && fields.includes(path)) return true;
      return false;
    };
    let keys: string[] = [];
    if (!q.predicate) {
      for (const rec of this.byKey.values()) if (!term || textMatch(rec)) keys.push(rec.key);
    } else {
      for (const k of this.select(q.predicate)) {
        const rec = this.byKey.get(k);
        if (rec && (!term || textMatch(rec))) keys.push(k);
      }
    }
    const order = q.orderFields ?? [];
    if (order.length) {
      const sortKeys = new Map<string, (string | undefined)[]>();
      for (const k of keys) {
        const rec = this.byKey.get(k)!;
        sortKeys.set(k, order.map((o) => this.valuesOf(rec, o.field.toLowerCase())[0]));
      }
      keys.sort((a, b) => {
        const va = sortKeys.get(a)!;
        const vb = sortKeys.get(b)!;
        for (let i = 0; i < order.length; i++) {
          const x = va[i];
          const y = vb[i];
          if (x === y) continue;
          if (x === undefined) return 1;
          if (y === undefined) return -1;
          const c = x < y ? -1 : 1;
          return order[i]!.order === 'desc' ? -c : c;
        }
        return a < b ? -1 : a > b ? 1 : 0;
      });
    } else keys.sort();
    const offset = Math.max(0, q.offset ?? 0);
    const page = q.limit === undefined ? keys.slice(offset) : keys.slice(offset, offset + q.limit);
    return { items: page.map((k) => this.byKey.get(k)!), totalItems: keys.length };
  }

  /** Counts of each value of each facet over the matching entities, original case kept. */
  facets(predicate: Predicate | undefined, facets: string[]): Record<string, { value: string; count: number }[]> {
    const selected = predicate ? this.select(predicate) : undefined;
    const out: Record<string, { value: string; count: number }[]> = {};
    for (const facet of facets) {
      const path = facet.toLowerCase();
      const counts: { value: string; count: number }[] = [];
      if (path.startsWith('relations.')) {
        const byTarget = new Map<string, { value: string; count: number }>();
        for (const k of selected ?? this.byKey.keys()) {
          if (!this.byKey.has(k)) continue;
          for (const r of this.relationsOf(k)) {
            if (`relations.${r.type.toLowerCase()}` !== path) continue;
            const slot = byTarget.get(r.targetRef) ?? { value: r.targetRef, count: 0 };
            slot.count++;
            byTarget.set(r.targetRef, slot);
          }
        }
        counts.push(...byTarget.values());
      } else {
        // per candidate value, count the selected entities holding it: the index's sets do the work
        for (const [lower, value] of this.values.get(path) ?? []) {
          const holders = this.search.get(path + SEP + lower);
          if (!holders) continue;
          let count = 0;
          if (!selected) count = holders.size;
          else if (holders.size <= selected.size) {
            for (const k of holders) if (selected.has(k)) count++;
          } else for (const k of selected) if (holders.has(k)) count++;
          if (count) counts.push({ value, count });
        }
      }
      out[facet] = counts.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
    }
    return out;
  }
}

function intersect(sets: ReadonlySet<string>[]): Set<string> {
  sets = [...sets].sort((a, b) => a.size - b.size);
  const [first, ...rest] = sets;
  const out = new Set<string>();
  for (const k of first ?? []) if (rest.every((s) => s.has(k))) out.add(k);
  return out;
}

/** Keeps only the given dotted paths of an entity, as Backstage's `fields` parameter does. */
export function project(e: Entity, fields: string[]): Entity {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const parts = f.split('.');
    let src: unknown = e;
    for (const p of parts) src = src && typeof src === 'object' ? (src as Record<string, unknown>)[p] : undefined;
    if (src === undefined) continue;
    let dst = out;
    for (const p of parts.slice(0, -1)) dst = (dst[p] ??= {}) as Record<string, unknown>;
    dst[parts[parts.length - 1]!] = src;
  }
  return out as unknown as Entity;
}
