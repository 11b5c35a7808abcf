import { query, request } from './http';

/** A Backstage catalog entity as the catalog API serves it. */
export interface Entity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    title?: string;
    description?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    tags?: string[];
    links?: { url: string; title?: string; icon?: string; type?: string }[];
  };
  spec?: Record<string, any>;
  relations?: { type: string; targetRef: string }[];
}

export interface EntityRef {
  kind: string;
  namespace: string;
  name: string;
}

/** Parses `kind:namespace/name` (kind and namespace optional) the way Backstage does. */
export function parseRef(ref: string, defaults: { kind?: string; namespace?: string } = {}): EntityRef {
  const colon = ref.indexOf(':');
  const kind = colon >= 0 ? ref.slice(0, colon) : defaults.kind ?? '';
  const rest = colon >= 0 ? ref.slice(colon + 1) : ref;
  const slash = rest.indexOf('/');
  return { kind: kind.toLowerCase(), namespace: slash >= 0 ? rest.slice(0, slash) : defaults.namespace ?? 'default', name: slash >= 0 ? rest.slice(slash + 1) : rest };
}

export function stringifyRef(e: Entity | EntityRef): string {
  const r = 'metadata' in e ? { kind: e.kind, namespace: e.metadata.namespace ?? 'default', name: e.metadata.name } : e;
  return `${r.kind.toLowerCase()}:${r.namespace}/${r.name}`;
}

/** The short form users read: `name` in the default namespace, `namespace/name` otherwise. */
export function humanRef(ref: string, defaultKind?: string): string {
  const r = parseRef(ref, { kind: defaultKind });
  const ns = r.namespace === 'default' ? '' : `${r.namespace}/`;
  return `${defaultKind && r.kind === defaultKind.toLowerCase() ? '' : `${r.kind}:`}${ns}${r.name}`;
}

export function entityPath(e: Entity | EntityRef): string {
  const r = 'metadata' in e ? { kind: e.kind, namespace: e.metadata.namespace ?? 'default', name: e.metadata.name } : e;
  return `/catalog/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.kind.toLowerCase())}/${encodeURIComponent(r.name)}`;
}

export interface QueryResult {
  items: Entity[];
  totalItems: number;
  pageInfo: { nextCursor?: string; prevCursor?: string };
}

export interface EntityQuery {
  /** `key=value` conditions, AND-ed; several values for one key match any of them (Backstage's filter parameter). */
  filter: Record<string, string | string[] | undefined>;
  text?: string;
  limit: number;
  cursor?: string;
  orderField?: string;
}

function filterParam(filter: Record<string, string | string[] | undefined>): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(filter)) {
    if (v === undefined || (Array.isArray(v) && !v.length) || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) parts.push(`${k}=${item}`);
  }
  return parts.length ? parts.join(',') : undefined;
}

/** One page of GET /api/catalog/entities/by-query; the server does filtering, search and paging. */
export function queryEntities(q: EntityQuery): Promise<QueryResult> {
  if (q.cursor) return request(`/api/catalog/entities/by-query${query({ cursor: q.cursor, limit: q.limit })}`);
  return request(
    `/api/catalog/entities/by-query${query({
      filter: filterParam(q.filter),
      fullTextFilterTerm: q.text?.trim() || undefined,
      fullTextFilterFields: q.text?.trim() ? 'metadata.name,metadata.title,metadata.description' : undefined,
      orderField: q.orderField ?? 'metadata.name,asc',
      limit: q.limit,
    })}`,
  );
}

export type Facets = Record<string, { value: string; count: number }[]>;

export async function entityFacets(facets: string[], filter: Record<string, string | string[] | undefined> = {}): Promise<Facets> {
  const body = await request<{ facets: Facets }>(`/api/catalog/entity-facets${query({ facet: facets, filter: filterParam(filter) })}`);
  return body.facets;
}

export function getEntity(ref: EntityRef): Promise<Entity> {
  return request(`/api/catalog/entities/by-name/${encodeURIComponent(ref.kind)}/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}`);
}

/** Several entities at once (missing ones come back as null, as Backstage does). */
export async function getEntitiesByRefs(refs: string[]): Promise<(Entity | null)[]> {
  if (!refs.length) return [];
  const body = await request<{ items: (Entity | null)[] }>('/api/catalog/entities/by-refs', { method: 'POST', json: { entityRefs: refs } });
  return body.items;
}

/** Asks the catalog to re-read an entity's source now. */
export function refreshEntity(ref: string): Promise<void> {
  return request('/api/catalog/refresh', { method: 'POST', json: { entityRef: ref } });
}

export function relationTargets(e: Entity, type: string): string[] {
  return (e.relations ?? []).filter((r) => r.type === type).map((r) => r.targetRef);
}
