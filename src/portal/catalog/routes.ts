import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../api/errors.js';
import { jsonBody, queryInt, queryList } from '../backstage-http.js';
import type { CatalogIndex, IndexedEntity } from './catalog-index.js';
import { entityProblems, EntityError, parseEntityRef, stringifyEntityRef, type Entity } from './entity.js';
import { catalogKind } from './kinds.js';
import type { LocationService } from './location-service.js';
import { checkPredicate, decodeCursor, encodeCursor, parseFilterParams, parseOrderFields, type CursorState, type OrderField, type Predicate } from './query.js';
import { relationsOf } from './relations.js';

const DEFAULT_LIMIT = 20;

/** The catalog REST API under /api/catalog, in the shapes @backstage/catalog-client expects. */
export function registerCatalogRoutes(app: FastifyInstance, index: CatalogIndex, locations: LocationService): void {
  const byName = (p: { kind: string; namespace: string; name: string }): IndexedEntity => {
    const rec = index.get(stringifyEntityRef(p));
    if (!rec) throw new ApiError(404, 'NotFound', `No entity named '${p.name}' found, with kind '${p.kind}' in namespace '${p.namespace}'`);
    return rec;
  };

  app.get('/entities', async (req) => {
    const q = req.query as Record<string, unknown>;
    const predicate = parseFilterParams(queryList(q, 'filter'));
    const order = queryList(q, 'order').map((o) => {
      const [dir, ...field] = o.split(':');
      if ((dir !== 'asc' && dir !== 'desc') || !field.length) throw new EntityError(`invalid order "${o}": use asc:FIELD or desc:FIELD`, 'order');
      return { field: field.join(':'), order: dir as 'asc' | 'desc' };
    });
    const offset = queryInt(q, 'offset') ?? (q.after ? Number(Buffer.from(String(q.after), 'base64').toString()) || 0 : 0);
    const res = index.query({ predicate, orderFields: order, offset, limit: queryInt(q, 'limit') });
    return res.items.map((r) => index.served(r, queryList(q, 'fields', true)));
  });

  const runQuery = (state: CursorState, limit: number, fields: string[], countTotal = true) => {
    const res = index.query({ predicate: state.predicate, fullText: state.fullText, orderFields: state.orderFields, offset: state.offset, limit });
    const pageInfo: { nextCursor?: string; prevCursor?: string } = {};
    if (state.offset + limit < res.totalItems) pageInfo.nextCursor = encodeCursor({ ...state, offset: state.offset + limit });
    if (state.offset > 0) pageInfo.prevCursor = encodeCursor({ ...state, offset: Math.max(0, state.offset - limit) });
    // totalItems=exclude asks for no count; Backstage then answers 0
    return { items: res.items.map((r) => index.served(r, fields)), totalItems: countTotal ? res.totalItems : 0, pageInfo };
  };

  app.get('/entities/by-query', async (req) => {
    const q = req.query as Record<string, unknown>;
    const limit = queryInt(q, 'limit') ?? DEFAULT_LIMIT;
    const fields = queryList(q, 'fields', true);
    const countTotal = q.totalItems !== 'exclude';
    if (q.cursor) return runQuery(decodeCursor(String(q.cursor)), limit, fields, countTotal);
    const term = typeof q.fullTextFilterTerm === 'string' ? q.fullTextFilterTerm : undefined;
    const state: CursorState = {
      predicate: parseFilterParams(queryList(q, 'filter')),
      orderFields: parseOrderFields(queryList(q, 'orderField')),
      fullText: term ? { term, fields: queryList(q, 'fullTextFilterFields', true) } : undefined,
      offset: queryInt(q, 'offset') ?? 0,
    };
    return runQuery(state, limit, fields, countTotal);
  });

  /**
   * The predicate form (catalog-client's queryEntities({ query })): a JSON body of
   * `{ query?, limit?, offset?, orderBy?: [{ field, order }], fullTextFilter?: { term, fields? },
   * fields?, totalItems?: 'include' | 'exclude' }`, or `{ cursor, limit?, fields? }` for later pages.
   */
  app.post('/entities/by-query', async (req) => {
    const b = queryBody(jsonBody(req));
    if (b.cursor) return runQuery({ ...decodeCursor(b.cursor), viaPost: true }, b.limit, b.fields, b.countTotal);
    const state: CursorState = {
      predicate: b.query,
      orderFields: b.orderBy,
      fullText: b.fullTextFilter,
      offset: b.offset,
      viaPost: true,
    };
    return runQuery(state, b.limit, b.fields, b.countTotal);
  });

  app.post('/entities/by-refs', async (req) => {
    const b = jsonBody(req);
    if (!Array.isArray(b.entityRefs)) throw new EntityError('entityRefs must be a list of entity refs', 'entityRefs');
    let predicate: Predicate | undefined = b.query !== undefined ? checkPredicate(b.query) : parseFilterParams(queryList(req.query, 'filter'));
    const allowed = predicate ? index.select(predicate) : undefined;
    const fields: string[] = Array.isArray(b.fields) ? b.fields : [];
    return {
      items: b.entityRefs.map((ref: unknown) => {
        if (typeof ref !== 'string') return null;
        let rec: IndexedEntity | undefined;
        try {
          rec = index.get(stringifyEntityRef(parseEntityRef(ref)));
        } catch {
          return null;
        }
        if (!rec || (allowed && !allowed.has(rec.key))) return null;
        return index.served(rec, fields);
      }),
    };
  });

  app.get('/entities/by-name/:kind/:namespace/:name', async (req) => index.served(byName(req.params as never)));

  app.get('/entities/by-name/:kind/:namespace/:name/ancestry', async (req) => {
    const root = byName(req.params as never);
    const items: { entity: Entity; parentEntityRefs: string[] }[] = [];
    const seen = new Set<string>();
    for (let rec: IndexedEntity | undefined = root; rec && !seen.has(rec.key); ) {
      seen.add(rec.key);
      const parent: IndexedEntity | undefined = rec.emittedBy ? index.get(rec.emittedBy) : undefined;
      items.push({ entity: index.served(rec), parentEntityRefs: parent ? [parent.ref] : [] });
      rec = parent;
    }
    return { rootEntityRef: root.ref, items };
  });

  app.get('/entities/by-uid/:uid', async (req) => {
    const { uid } = req.params as { uid: string };
    const rec = index.getByUid(uid);
    if (!rec) throw new ApiError(404, 'NotFound', `No entity with uid ${uid}`);
    return index.served(rec);
  });

  app.delete('/entities/by-uid/:uid', async (req, reply) => {
    const { uid } = req.params as { uid: string };
    const rec = index.getByUid(uid);
    if (!rec) throw new ApiError(404, 'NotFound', `No entity with uid ${uid}`);
    await locations.deleteEntity(rec);
    reply.code(204).send();
  });

  const facets = (facetNames: string[], predicate: Predicate | undefined) => {
    if (!facetNames.length) throw new EntityError('at least one facet is required', 'facet');
    return { facets: index.facets(predicate, facetNames) };
  };
  app.get('/entity-facets', async (req) => facets(queryList(req.query, 'facet'), parseFilterParams(queryList(req.query, 'filter'))));
  app.post('/entity-facets', async (req) => {
    const b = jsonBody(req);
    return facets(Array.isArray(b.facets) ? b.facets : [], b.query !== undefined ? checkPredicate(b.query) : undefined);
  });

  app.get('/locations', async () => locations.list().map((data) => ({ data })));
  app.post('/locations/by-query', async (req) => {
    const b = jsonBody(req);
    const all = locations.list();
    const limit = typeof b.limit === 'number' ? b.limit : all.length;
    return { items: all.slice(0, limit), totalItems: all.length, pageInfo: {} };
  });
  app.get('/locations/:id', async (req) => locations.get((req.params as { id: string }).id));
  app.get('/locations/by-entity/:kind/:namespace/:name', async (req) => locations.byEntity(stringifyEntityRef(req.params as never)));
  app.post('/locations', async (req, reply) => {
    const b = jsonBody(req);
    const dryRun = (req.query as Record<string, string>).dryRun === 'true';
    const res = await locations.add(b.type ?? 'url', b.target, { dryRun });
    reply.code(201);
    return res;
  });
  app.delete('/locations/:id', async (req, reply) => {
    await locations.remove((req.params as { id: string }).id);
    reply.code(204).send();
  });

  app.post('/refresh', async (req, reply) => {
    const b = jsonBody(req);
    if (typeof b.entityRef !== 'string') throw new EntityError('entityRef is required', 'entityRef');
    locations.refresh(stringifyEntityRef(parseEntityRef(b.entityRef)));
    reply.code(200).send();
  });

  app.post('/validate-entity', async (req, reply) => {
    const b = jsonBody(req);
    const errors = validationErrors(b.entity);
    if (typeof b.location !== 'string' || !b.location.includes(':')) errors.push({ name: 'InputError', message: 'location must be a location ref like url:https://... or file:/path' });
    if (errors.length) {
      reply.code(400);
      return { errors };
    }
    return {};
  });
}

/** The body of POST /entities/by-query, checked field by field so a mistake is a 400 naming it. */
function queryBody(b: Record<string, unknown>) {
  const count = (name: string, fallback: number) => {
    const v = b[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new EntityError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`, name);
    return v;
  };
  const strings = (name: string, v: unknown): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new EntityError(`${name} must be a list of strings`, name);
    return v;
  };
  const orderBy = b.orderBy === undefined ? [] : b.orderBy;
  if (!Array.isArray(orderBy)) throw new EntityError('orderBy must be a list of { field, order }', 'orderBy');
  orderBy.forEach((o: Record<string, unknown>, i) => {
    if (!o || typeof o.field !== 'string' || !o.field) throw new EntityError(`orderBy[${i}].field must be a field path`, `orderBy[${i}].field`);
    if (o.order !== 'asc' && o.order !== 'desc') throw new EntityError(`orderBy[${i}].order must be asc or desc`, `orderBy[${i}].order`);
  });
  const ft = b.fullTextFilter as { term?: unknown; fields?: unknown } | undefined;
  if (ft !== undefined && (!ft || typeof ft !== 'object' || (ft.term !== undefined && typeof ft.term !== 'string'))) throw new EntityError('fullTextFilter must be { term, fields? }', 'fullTextFilter');
  const term = typeof ft?.term === 'string' ? ft.term.trim() : '';
  if (b.totalItems !== undefined && b.totalItems !== 'include' && b.totalItems !== 'exclude') throw new EntityError('totalItems must be include or exclude', 'totalItems');
  if (b.cursor !== undefined && (typeof b.cursor !== 'string' || !b.cursor)) throw new EntityError('cursor must be a string', 'cursor');
  return {
    cursor: b.cursor as string | undefined,
    query: b.query !== undefined ? checkPredicate(b.query) : undefined,
    limit: count('limit', DEFAULT_LIMIT),
    offset: count('offset', 0),
    orderBy: orderBy as OrderField[],
        fullTextFilter: term ? { term, fields: strings('fullTextFilter.fields', ft!.fields) } : undefined,
    fields: strings('fields', b.fields),
    countTotal: b.totalItems !== 'exclude',
  };
}

/** Everything wrong with an entity a client asks about, as serialised errors. */
export function validationErrors(entity: unknown): { name: string; message: string }[] {
  const errors = entityProblems(entity).map((e) => ({ name: e.name, message: e.message }));
  if (!errors.length) {
    const e = entity as Entity;
    if (!catalogKind(e.kind)) errors.push({ name: 'InputError', message: `kind: "${e.kind}" is not a catalog kind` });
    try {
      relationsOf({ ...e, metadata: { namespace: 'default', ...e.metadata } });
    } catch (err) {
      errors.push({ name: 'InputError', message: (err as Error).message });
    }
  }
  return errors;
}

