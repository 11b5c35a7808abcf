import { CatalogClient } from '@backstage/catalog-client';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { portalModule } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { exampleCatalog, writeTree } from './fixtures.js';

/**
 * POST /entities/by-query with Backstage's predicate `query` (what catalog-client's
 * queryEntities({ query }) sends): logical $all/$any/$not over field expressions whose values
 * are primitives or $exists, $in, $hasPrefix, $contains matchers.
 */
describe('catalog predicate queries (POST /entities/by-query)', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let catalog: CatalogClient;
  let dir: string;

  before(async () => {
    p = await startPlatform({ modules: [portalModule()] });
    dir = tempDir('pave-predicate-');
    writeTree(dir, exampleCatalog);
    catalog = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${p.url}/api/catalog` }, fetchApi: { fetch } });
    await catalog.addLocation({ type: 'file', target: join(dir, 'all.yaml') });
    await eventually(async () => (await catalog.getEntityByRef('component:default/playback-order')) && (await catalog.getEntityByRef('api:default/spotify')) && (await catalog.getEntityByRef('user:default/janelle.dawe')), 10_000, 'the example catalog');
    await p.manager.settle(200);
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const names = async (query: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    (await catalog.queryEntities({ query, orderFields: { field: 'metadata.name', order: 'asc' }, limit: 100, ...extra } as never)).items.map((e) => e.metadata.name);

  it('matches field expressions case-insensitively, every key of one object having to hold', async () => {
    assert.deepEqual(await names({ kind: 'Component' }), ['artist-lookup', 'playback-order']);
    assert.deepEqual(await names({ kind: 'component', 'spec.type': 'SERVICE' }), ['artist-lookup']);
    assert.deepEqual(await names({ 'metadata.tags': 'java' }), ['artist-lookup'], 'a list matches when one of its items does');
    assert.deepEqual(await names({ 'metadata.tags.java': true }), ['artist-lookup'], 'a listed value is also a key, as in Backstage');
    assert.deepEqual(await names({ 'relations.ownedBy': 'group:default/team-a', kind: 'component' }), ['artist-lookup']);
    assert.deepEqual(await names({ 'spec.profile.displayName': 'ACME Corp' }), ['acme-corp']);
    assert.deepEqual(await names({ kind: 'component', 'spec.type': 'nothing-has-this' }), []);
  });

  it('combines with $all, $any and $not, nested', async () => {
    assert.deepEqual(await names({ $all: [{ kind: 'component' }, { $any: [{ 'spec.type': 'service' }, { 'spec.type': 'website' }] }] }), ['artist-lookup', 'playback-order']);
    assert.deepEqual(await names({ $all: [{ kind: 'group' }, { $not: { 'spec.type': 'team' } }] }), ['acme-corp', 'infrastructure']);
    assert.deepEqual(await names({ $any: [{ kind: 'api' }, { kind: 'domain' }] }), ['artists', 'spotify']);
    assert.equal((await names({ $all: [] })).length, (await names({ kind: { $exists: true } })).length, '$all of nothing is everything');
    assert.deepEqual(await names({ $any: [] }), [], '$any of nothing is nothing');
    assert.deepEqual(await names({ $not: { $not: { kind: 'system' } } }), ['audio-playback']);
  });

  it('supports $exists, $in, $hasPrefix and $contains', async () => {
    assert.deepEqual(await names({ 'metadata.annotations.backstage.io/techdocs-ref': { $exists: true } }), ['artist-lookup']);
    assert.deepEqual(await names({ kind: 'component', 'spec.system': { $exists: true }, 'metadata.tags': { $exists: false } }), ['playback-order']);
    assert.deepEqual(await names({ kind: { $in: ['Domain', 'system', 'RESOURCE'] } }), ['artists', 'artists-db', 'audio-playback']);
    assert.deepEqual(await names({ 'metadata.name': { $hasPrefix: 'TEAM-' } }), ['team-a', 'team-b']);
    assert.deepEqual(await names({ relations: { $contains: { type: 'memberOf', targetRef: 'group:default/team-b' } } }), ['janelle.dawe']);
    assert.deepEqual(await names({ 'metadata.tags': { $contains: 'data' } }), ['artist-lookup']);
  });

  it('pages with order and cursors, keeping the predicate, and applies fields and full text', async () => {
    const query = { kind: { $in: ['group', 'user'] } };
    const first = await catalog.queryEntities({ query, orderFields: { field: 'metadata.name', order: 'desc' }, limit: 4 } as never);
    assert.equal(first.totalItems, 6);
    assert.deepEqual(first.items.map((e) => e.metadata.name), ['team-b', 'team-a', 'janelle.dawe', 'infrastructure']);
    assert.ok(first.pageInfo.nextCursor);
    const second = await catalog.queryEntities({ cursor: first.pageInfo.nextCursor!, limit: 4 });
    assert.deepEqual(second.items.map((e) => e.metadata.name), ['breanna.davison', 'acme-corp'], 'the cursor keeps the predicate and the order');
    assert.equal(second.pageInfo.nextCursor, undefined);
    const back = await catalog.queryEntities({ cursor: second.pageInfo.prevCursor!, limit: 4 });
    assert.deepEqual(back.items.map((e) => e.metadata.name), first.items.map((e) => e.metadata.name));

    const slim = await catalog.queryEntities({ query: { kind: 'api' }, fields: ['kind', 'metadata.name'] } as never);
    assert.deepEqual(slim.items, [{ kind: 'API', metadata: { name: 'spotify' } }]);
    const text = await catalog.queryEntities({ query: { kind: 'user' }, fullTextFilter: { term: 'DAWE' } } as never);
    assert.deepEqual(text.items.map((e) => e.metadata.name), ['janelle.dawe']);
    const both = await catalog.queryEntities({ query: { 'spec.type': 'team' }, filter: { 'metadata.name': 'team-b' } } as never);
    assert.deepEqual(both.items.map((e) => e.metadata.name), ['team-b'], 'filter and query together both have to hold');
  });

  it('takes the predicate for refs and facets as well', async () => {
    const refs = await catalog.getEntitiesByRefs({ entityRefs: ['component:default/artist-lookup', 'component:default/playback-order'], query: { 'spec.type': 'website' } } as never);
    assert.deepEqual(refs.items.map((e) => e?.metadata.name), [undefined, 'playback-order']);
    const facets = await catalog.getEntityFacets({ facets: ['spec.type'], query: { $any: [{ kind: 'component' }, { kind: 'api' }] } } as never);
    assert.deepEqual(facets.facets['spec.type'], [{ value: 'openapi', count: 1 }, { value: 'service', count: 1 }, { value: 'website', count: 1 }]);
  });

  it('answers the wire format Backstage documents', async () => {
    const res = await fetch(`${p.url}/api/catalog/entities/by-query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { kind: 'group' }, limit: 2, offset: 1, orderBy: [{ field: 'metadata.name', order: 'asc' }], fields: ['metadata.name'] }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { items: unknown[]; totalItems: number; pageInfo: { nextCursor?: string; prevCursor?: string } };
    assert.deepEqual(body.items, [{ metadata: { name: 'infrastructure' } }, { metadata: { name: 'team-a' } }]);
    assert.equal(body.totalItems, 4);
    assert.ok(body.pageInfo.nextCursor && body.pageInfo.prevCursor);
    const none = await fetch(`${p.url}/api/catalog/entities/by-query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: { kind: 'group' }, totalItems: 'exclude' }) });
    assert.equal(((await none.json()) as { totalItems: number }).totalItems, 0, 'totalItems: exclude skips the count');
  });

  it('refuses malformed predicates with a 400 that names the part', async () => {
    const bad: [unknown, RegExp][] = [
      ['component', /query must be an object/],
      [{ $all: [{ kind: 'component' }], kind: 'api' }, /\$all must be the only key/],
      [{ kind: 'api', $any: [] }, /\$any must be the only key/],
      [{ $not: { kind: 'api' }, 'spec.type': 'x' }, /\$not must be the only key/],
      [{ $any: { kind: 'api' } }, /\$any must be a list/],
      [{ $or: [] }, /unknown operator "\$or"/],
      [{ kind: { $regex: '.*' } }, /query\.kind: unknown matcher/],
      [{ kind: { $in: 'api' } }, /\$in must be a list/],
      [{ kind: { $in: [{ a: 1 }] } }, /\$in\[0\] must be a string, number or boolean/],
      [{ kind: { $exists: 'yes' } }, /\$exists must be true or false/],
      [{ 'metadata.name': { $hasPrefix: 7 } }, /\$hasPrefix must be a string/],
      [{ kind: null }, /query\.kind must be/],
      [{ kind: ['api', 'group'] }, /query\.kind must be/],
      [{ $all: [{ $any: [{ kind: { $nope: 1 } }] }] }, /query\.\$all\[0\]\.\$any\[0\]\.kind: unknown matcher/],
      [{ relations: { $contains: { $any: [] } } }, /\$contains takes a value or an object of fields/],
    ];
    for (const [query, why] of bad) {
      const res = await fetch(`${p.url}/api/catalog/entities/by-query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      const body = (await res.json()) as { error: { name: string; message: string } };
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.equal(body.error.name, 'InputError');
      assert.match(body.error.message, why, JSON.stringify(query));
    }
    for (const [field, value, why] of [['limit', -1, /limit must be a non-negative integer/], ['orderBy', [{ field: 'metadata.name', order: 'up' }], /orderBy\[0\]\.order must be asc or desc/], ['fields', 'metadata.name', /fields must be a list/]] as const) {
      const res = await fetch(`${p.url}/api/catalog/entities/by-query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: { kind: 'api' }, [field]: value }) });
      assert.equal(res.status, 400, field);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, why);
    }
  });
});
