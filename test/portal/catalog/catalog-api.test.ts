import { CATALOG_FILTER_EXISTS, CatalogClient } from '@backstage/catalog-client';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { exampleCatalog, writeTree } from './fixtures.js';

describe('catalog API through @backstage/catalog-client', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let catalog: CatalogClient;
  let dir: string;
  let locationId: string;

  before(async () => {
    p = await startPlatform({ modules: [portalModule()] });
    dir = tempDir('pave-catalog-');
    writeTree(dir, exampleCatalog);
    catalog = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${p.url}/api/catalog` }, fetchApi: { fetch } });
    const added = await catalog.addLocation({ type: 'file', target: join(dir, 'all.yaml') });
    locationId = added.location.id;
    await eventually(async () => (await catalog.getEntityByRef('component:default/playback-order')) && (await catalog.getEntityByRef('group:default/acme-corp')), 10_000, 'the example catalog to be ingested');
    await p.manager.settle(200);
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests every kind from a Location with targets, with relations in both directions', async () => {
    const c = await catalog.getEntityByRef('component:artist-lookup');
    assert.ok(c, 'artist-lookup is in the catalog');
    const rel = (e: { relations?: { type: string; targetRef: string }[] }) => (e.relations ?? []).map((r) => `${r.type} ${r.targetRef}`).sort();
    assert.deepEqual(rel(c), ['dependsOn resource:default/artists-db', 'ownedBy group:default/team-a', 'partOf system:default/audio-playback', 'providesApi api:default/spotify'].sort());
    assert.equal(c.metadata.title, 'Artist Lookup');
    assert.equal(c.metadata.annotations?.['backstage.io/managed-by-location'], `file:${join(dir, 'components/artist-lookup.yaml')}`);
    assert.equal(c.metadata.annotations?.['backstage.io/managed-by-origin-location'], `file:${join(dir, 'all.yaml')}`);
    assert.ok(c.metadata.uid && c.metadata.etag);

    const team = await catalog.getEntityByRef('group:default/team-a');
    const teamRel = rel(team!);
    for (const r of ['ownerOf component:default/artist-lookup', 'ownerOf api:default/spotify', 'ownerOf system:default/audio-playback', 'hasMember user:default/breanna.davison', 'hasMember user:default/janelle.dawe', 'childOf group:default/infrastructure']) {
      assert.ok(teamRel.includes(r), `team-a has "${r}" (has ${teamRel.join(', ')})`);
    }
    const api = await catalog.getEntityByRef('api:default/spotify');
    assert.ok(rel(api!).includes('apiProvidedBy component:default/artist-lookup'));
    assert.ok(rel(api!).includes('apiConsumedBy component:default/playback-order'));
    assert.match(api!.spec!.definition as string, /title: Spotify/, '$text placeholder was substituted');
    const system = await catalog.getEntityByRef('system:default/audio-playback');
    assert.ok(rel(system!).includes('hasPart component:default/artist-lookup'));
    assert.ok(rel(system!).includes('partOf domain:default/artists'));
    const user = await catalog.getEntityByRef('user:default/janelle.dawe');
    assert.ok(rel(user!).includes('memberOf group:default/team-b'));
    assert.ok(rel(user!).includes('ownerOf component:default/playback-order'));
  });

  it('an invalid entity shows as an error on its Location and the rest are still ingested', async () => {
    assert.equal(await catalog.getEntityByRef('component:default/broken_thing'), undefined);
    const loc = await catalog.getEntityByRef('location:default/example-groups');
    const items = (loc as { status?: { items?: { message: string }[] } }).status?.items ?? [];
    assert.ok(items.some((i) => /Broken_Thing/.test(i.message) && /spec\.lifecycle/.test(i.message)), `location status names the entity and field: ${JSON.stringify(items)}`);
    assert.ok(await catalog.getEntityByRef('component:default/playback-order'));
  });

  it('queries by filter, order and cursor, with totals', async () => {
    const byOwner = await catalog.queryEntities({ filter: { kind: 'component', 'relations.ownedBy': 'group:default/team-a' } });
    assert.deepEqual(byOwner.items.map((e) => e.metadata.name), ['artist-lookup']);
    assert.equal(byOwner.totalItems, 1);

    const page1 = await catalog.queryEntities({ filter: { kind: ['group', 'user'] }, orderFields: { field: 'metadata.name', order: 'asc' }, limit: 4 });
    assert.equal(page1.totalItems, 6);
    assert.deepEqual(page1.items.map((e) => e.metadata.name), ['acme-corp', 'breanna.davison', 'infrastructure', 'janelle.dawe']);
    assert.ok(page1.pageInfo.nextCursor);
    const page2 = await catalog.queryEntities({ cursor: page1.pageInfo.nextCursor!, limit: 4 });
    assert.deepEqual(page2.items.map((e) => e.metadata.name), ['team-a', 'team-b']);
    assert.equal(page2.pageInfo.nextCursor, undefined);
    assert.ok(page2.pageInfo.prevCursor);

    const text = await catalog.queryEntities({ fullTextFilter: { term: 'LOOKUP' } });
    assert.deepEqual(text.items.map((e) => e.metadata.name), ['artist-lookup']);

    const pred = await catalog.queryEntities({ query: { $all: [{ kind: 'component' }, { $not: { 'spec.type': 'service' } }] } as never });
    assert.deepEqual(pred.items.map((e) => e.metadata.name), ['playback-order']);

    const withDocs = await catalog.getEntities({ filter: { kind: 'component', 'metadata.annotations.backstage.io/techdocs-ref': CATALOG_FILTER_EXISTS } });
    assert.deepEqual(withDocs.items.map((e) => e.metadata.name), ['artist-lookup'], 'a bare filter key matches entities that have the field');

    const fields = await catalog.getEntities({ filter: { kind: 'api' }, fields: ['kind', 'metadata.name'] });
    assert.deepEqual(fields.items, [{ kind: 'API', metadata: { name: 'spotify' } }]);
  });

  it('serves refs, facets, ancestry and locations', async () => {
    const refs = await catalog.getEntitiesByRefs({ entityRefs: ['component:default/artist-lookup', 'component:default/nope', 'Group:Default/TEAM-A'] });
    assert.equal(refs.items[0]?.metadata.name, 'artist-lookup');
    assert.equal(refs.items[1], undefined);
    assert.equal(refs.items[2]?.metadata.name, 'team-a', 'refs resolve case-insensitively');

    const facets = await catalog.getEntityFacets({ facets: ['spec.type', 'metadata.tags'], filter: { kind: 'component' } });
    assert.deepEqual(facets.facets['spec.type'], [{ value: 'service', count: 1 }, { value: 'website', count: 1 }]);
    assert.deepEqual(facets.facets['metadata.tags']?.map((f) => f.value).sort(), ['data', 'java']);

    const ancestry = await catalog.getEntityAncestors({ entityRef: 'component:default/artist-lookup' });
    assert.equal(ancestry.rootEntityRef, 'component:default/artist-lookup');
    assert.equal(ancestry.items.length, 3, 'component ← example-groups location ← registered location');
    assert.equal(ancestry.items[1]!.entity.metadata.name, 'example-groups');

    const locations = await catalog.getLocations();
    assert.deepEqual(locations.items, [{ id: locationId, type: 'file', target: join(dir, 'all.yaml') }]);
    assert.deepEqual(await catalog.getLocationById(locationId), { id: locationId, type: 'file', target: join(dir, 'all.yaml') });
    assert.equal((await catalog.getLocationByEntity('component:default/artist-lookup'))?.id, locationId);
    await assert.rejects(catalog.addLocation({ type: 'file', target: join(dir, 'all.yaml') }), (e: Error & { body?: { error?: { name?: string } } }) => e.body?.error?.name === 'ConflictError');

    const dry = await catalog.addLocation({ type: 'file', target: join(dir, 'systems.yaml'), dryRun: true });
    assert.deepEqual(dry.entities.map((e) => e.kind).sort(), ['Domain', 'Location', 'Resource', 'System']);
    assert.equal((await catalog.getLocations()).items.length, 1, 'a dry run stores nothing');
  });

  it('validates entities and answers errors in Backstage shape', async () => {
    assert.deepEqual(await catalog.validateEntity({ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok' }, spec: { type: 'service', lifecycle: 'x', owner: 'me' } }, 'url:http://x/y'), { valid: true });
    const bad = await catalog.validateEntity({ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'not ok!' }, spec: {} } as never, 'url:http://x/y');
    assert.equal(bad.valid, false);
    assert.ok(!bad.valid && bad.errors.some((e) => /metadata\.name/.test(e.message)));
    const res = await fetch(`${p.url}/api/catalog/entities/by-name/component/default/missing`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { name: string }; request: { method: string }; response: { statusCode: number } };
    assert.equal(body.error.name, 'NotFoundError');
    assert.equal(body.response.statusCode, 404);
    assert.equal(body.request.method, 'GET');
  });

  it('marks entities a location stops providing as orphans, and keeps the last good version of an entity that turns invalid', async () => {
    writeFileSync(join(dir, 'components/playback.yaml'), exampleCatalog['components/playback.yaml']!.split('---')[0]!.replace('  lifecycle: production\n', ''));
    writeFileSync(join(dir, 'apis.yaml'), '');
    await catalog.refreshEntity('location:default/example-groups');
    const api = await eventually(async () => {
      const e = await catalog.getEntityByRef('api:default/spotify');
      return e?.metadata.annotations?.['backstage.io/orphan'] === 'true' && e;
    }, 10_000, 'spotify to be marked orphan');
    assert.ok(api);
    const playback = await eventually(async () => {
      const e = await catalog.getEntityByRef('component:default/playback-order');
      return (e as { status?: { items?: unknown[] } })?.status?.items?.length && e;
    }, 10_000, 'playback-order to show its error');
    assert.equal((playback as { spec?: { lifecycle?: string } }).spec?.lifecycle, 'production', 'the last good version is kept');
    assert.match(JSON.stringify((playback as { status?: unknown }).status), /spec\.lifecycle/);
  });

  it('removing a registered location removes its entities', async () => {
    await catalog.removeLocationById(locationId);
    await eventually(async () => !(await catalog.getEntityByRef('component:default/artist-lookup')), 10_000, 'entities to be removed');
    await eventually(() => portalOf(p).index.size === 0, 10_000, 'every entity of the location to be removed');
  });
});
