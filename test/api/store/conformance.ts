import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GarbageCollector } from '../../../src/api/gc.js';
import { InProcessClient } from '../../../src/api/client.js';
import { ApiError } from '../../../src/api/errors.js';
import { createLogger } from '../../../src/api/log.js';
import { builtinTypes, TypeRegistry } from '../../../src/api/registry.js';
import { ResourceService } from '../../../src/api/service.js';
import type { Store } from '../../../src/api/store/store.js';
import type { Resource, WatchEvent } from '../../../src/api/types.js';
import { eventually, widget, widgetCrd } from '../../support/platform.js';

const isCode = (code: number) => (e: unknown) => e instanceof ApiError && e.code === code;

/**
 * The contract every Store backend must meet, exercised through the ResourceService so that the
 * semantics clients rely on (not only the storage calls) are what is checked. Run it with a
 * factory that returns a fresh, empty store.
 */
export function storeConformance(name: string, makeStore: (opts?: { watchWindow?: number }) => Promise<Store>): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    let service: ResourceService;
    let client: InProcessClient;
    let gc: GarbageCollector;
    const cm = (n: string, data: Record<string, string> = {}, extra: Partial<Resource['metadata']> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, namespace: 'default', ...extra }, data });
    const ref = (o: Resource) => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name! });

    before(async () => {
      store = await makeStore();
      const registry = new TypeRegistry();
      for (const t of builtinTypes()) registry.register(t);
      service = new ResourceService(store, registry);
      await service.start();
      client = new InProcessClient(service);
      gc = new GarbageCollector(service, createLogger('silent'), 60_000);
      await gc.start();
      await client.create(widgetCrd);
    });
    after(async () => {
      await gc.stop();
      await service.stop();
      await store.close();
    });

    test('create assigns uid, creationTimestamp, generation and a resourceVersion; get returns it', async () => {
      const created = await client.create(cm('c1', { a: '1' }));
      assert.match(created.metadata.uid!, /^[0-9a-f-]{36}$/);
      assert.ok(Date.parse(created.metadata.creationTimestamp!) > 0);
      assert.equal(created.metadata.generation, 1);
      assert.ok(Number(created.metadata.resourceVersion) > 0);
      const got = await client.get(ref(created));
      assert.deepEqual(got, created);
      await assert.rejects(client.create(cm('c1')), isCode(409), 'a second create of the same name is AlreadyExists');
    });

    test('resourceVersions increase across all types, and a stale update is a 409 Conflict', async () => {
      const a = await client.create(cm('rv-a'));
      const b = await client.create(widget('rv-b'));
      assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
      const updated = await client.update({ ...a, data: { x: '1' } });
      assert.ok(Number(updated.metadata.resourceVersion) > Number(b.metadata.resourceVersion));
      await assert.rejects(client.update({ ...a, data: { x: '2' } }), (e: unknown) => e instanceof ApiError && e.code === 409 && /modified/.test(e.message));
      assert.deepEqual((await client.get(ref(a))).data, { x: '1' }, 'the stale write changed nothing');
    });

    test('generation bumps on spec changes only, not on status or metadata', async () => {
      const w = await client.create(widget('gen', 1));
      const labelled = await client.update({ ...w, metadata: { ...w.metadata, labels: { team: 'a' } } });
      assert.equal(labelled.metadata.generation, 1);
      const withStatus = await client.updateStatus({ ...labelled, status: { phase: 'Ready' } });
      assert.equal(withStatus.metadata.generation, 1);
      assert.equal(withStatus.status.phase, 'Ready');
      const resized = await client.update({ ...withStatus, spec: { ...withStatus.spec, size: 2 } });
      assert.equal(resized.metadata.generation, 2);
      assert.equal(resized.status.phase, 'Ready', 'a main-resource update keeps the status');
      const ignored = await client.update({ ...resized, status: { phase: 'Hacked' } });
      assert.equal(ignored.status.phase, 'Ready', 'status is only written through the status subresource');
    });

    test('an update that changes nothing does not create a new revision', async () => {
      const c = await client.create(cm('noop', { a: '1' }));
      const again = await client.update(c);
      assert.equal(again.metadata.resourceVersion, c.metadata.resourceVersion);
    });

    test('finalizers hold a deleted object until they are removed', async () => {
      const c = await client.create(cm('fin', {}, { finalizers: ['example.com/cleanup'] }));
      const marked = await client.delete(ref(c));
      assert.ok(marked.metadata.deletionTimestamp, 'deletionTimestamp is set');
      const still = await client.get(ref(c));
      assert.ok(still.metadata.deletionTimestamp);
      await assert.rejects(client.update({ ...still, metadata: { ...still.metadata, finalizers: ['example.com/cleanup', 'another'] } }), isCode(422), 'no new finalizers while deleting');
      await client.update({ ...still, metadata: { ...still.metadata, finalizers: [] } });
      await assert.rejects(client.get(ref(c)), isCode(404));
    });

    test('label selectors (=, !=, in, notin, exists, !exists) and field selectors filter lists', async () => {
      await client.create(cm('sel-1', {}, { labels: { app: 'web', tier: 'front' } }));
      await client.create(cm('sel-2', {}, { labels: { app: 'api', tier: 'back' } }));
      await client.create(cm('sel-3', {}, { labels: { app: 'db' } }));
      const names = async (labelSelector?: string, fieldSelector?: string) =>
        (await client.list('v1', 'ConfigMap', { namespace: 'default', labelSelector, fieldSelector })).items.map((i) => i.metadata.name).filter((n) => n!.startsWith('sel-'));
      assert.deepEqual(await names('app=web'), ['sel-1']);
      assert.deepEqual(await names('app!=web,app'), ['sel-2', 'sel-3']);
      assert.deepEqual(await names('app in (web, db)'), ['sel-1', 'sel-3']);
      assert.deepEqual(await names('app notin (web),tier'), ['sel-2']);
      assert.deepEqual(await names('!tier,app'), ['sel-3']);
      assert.deepEqual(await names(undefined, 'metadata.name=sel-2'), ['sel-2']);
      assert.deepEqual(await names('app', 'metadata.name!=sel-2'), ['sel-1', 'sel-3']);
    });

    test('lists page with limit and continue', async () => {
      for (let i = 0; i < 7; i++) await client.create(cm(`page-${i}`, {}, { labels: { paged: 'yes' } }));
      const seen: string[] = [];
      let cont: string | undefined;
      do {
        const page = await client.list('v1', 'ConfigMap', { namespace: 'default', labelSelector: 'paged=yes', limit: 3, continue: cont });
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((i) => i.metadata.name!));
        cont = page.metadata.continue;
      } while (cont);
      assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
    });

    test('namespaces scope objects; cluster-scoped types ignore them; a missing namespace is 404', async () => {
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
      await client.create({ ...cm('same'), metadata: { name: 'same', namespace: 'team-a' } });
      await client.create(cm('same'));
      assert.equal((await client.list('v1', 'ConfigMap', { namespace: 'team-a' })).items.length, 1);
      assert.ok((await client.list('v1', 'ConfigMap')).items.length >= 2, 'an unscoped list spans namespaces');
      await assert.rejects(client.create({ ...cm('x'), metadata: { name: 'x', namespace: 'nowhere' } }), (e: unknown) => e instanceof ApiError && e.code === 404 && /nowhere/.test(e.message));
    });

    test('watch from a resourceVersion replays what came after it, then streams live', async () => {
      const first = await client.create(cm('w-1'));
      await client.create(cm('w-2'));
      const events: string[] = [];
      const w = await client.watch('v1', 'ConfigMap', { namespace: 'default', resourceVersion: first.metadata.resourceVersion }, (e: WatchEvent) => events.push(`${e.type} ${e.object.metadata.name}`));
      const third = await client.create(cm('w-3'));
      await client.delete(ref(third));
      await eventually(() => events.length >= 3);
      w.stop();
      assert.deepEqual(events.filter((e) => / w-/.test(e)), ['ADDED w-2', 'ADDED w-3', 'DELETED w-3']);
    });

    test('watch without a resourceVersion starts with the existing objects; label selection turns changes into add/delete', async () => {
      await client.create(cm('ws-1', {}, { labels: { watch: 'me' } }));
      const events: string[] = [];
      const w = await client.watch('v1', 'ConfigMap', { namespace: 'default', labelSelector: 'watch=me' }, (e) => events.push(`${e.type} ${e.object.metadata.name}`));
      const c2 = await client.create(cm('ws-2'));
      await client.update({ ...c2, metadata: { ...c2.metadata, labels: { watch: 'me' } } });
      const latest = await client.get(ref(c2));
      await client.update({ ...latest, metadata: { ...latest.metadata, labels: {} } });
      await eventually(() => events.length >= 3);
      w.stop();
      assert.deepEqual(events, ['ADDED ws-1', 'ADDED ws-2', 'DELETED ws-2']);
    });

    test('a watch from a compacted resourceVersion fails with 410 Gone; one inside the window replays', async () => {
      const small = await makeStore({ watchWindow: 5 });
      const registry = new TypeRegistry();
      for (const t of builtinTypes()) registry.register(t);
      const svc = new ResourceService(small, registry);
      await svc.start();
      const c = new InProcessClient(svc);
      const first = await c.create(cm('gone-0'));
      for (let i = 1; i <= 10; i++) await c.create(cm(`gone-${i}`));
      await assert.rejects(c.watch('v1', 'ConfigMap', { resourceVersion: first.metadata.resourceVersion }, () => undefined), isCode(410));
      const replayed: string[] = [];
      const w = await c.watch('v1', 'ConfigMap', { resourceVersion: String(small.revision() - 2) }, (e) => replayed.push(e.object.metadata.name!));
      w.stop();
      assert.deepEqual(replayed, ['gone-9', 'gone-10']);
      await svc.stop();
      await small.close();
    });

    test('garbage collection: background deletes dependents, orphan keeps them, foreground deletes them first', async () => {
      const owner = (n: string) => client.create(cm(n));
      const dependent = (n: string, o: Resource) => client.create(cm(n, {}, { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: true }] }));

      const bg = await owner('gc-bg');
      const bgDep = await dependent('gc-bg-dep', bg);
      await client.delete(ref(bg), { propagationPolicy: 'Background' });
      await eventually(async () => client.get(ref(bgDep)).then(() => false, (e) => e.code === 404), 5000, 'background deletion of the dependent');

      const orph = await owner('gc-orphan');
      const orphDep = await dependent('gc-orphan-dep', orph);
      await client.delete(ref(orph), { propagationPolicy: 'Orphan' });
      await eventually(async () => client.get(ref(orph)).then(() => false, (e) => e.code === 404), 5000, 'the orphaning owner to go');
      const kept = await client.get(ref(orphDep));
      assert.equal(kept.metadata.ownerReferences, undefined, 'the orphan lost its owner reference');

      const fg = await owner('gc-fg');
      const fgDep = await client.create(cm('gc-fg-dep', {}, { finalizers: ['example.com/hold'], ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-fg', uid: fg.metadata.uid!, blockOwnerDeletion: true }] }));
      await client.delete(ref(fg), { propagationPolicy: 'Foreground' });
      await eventually(async () => (await client.get(ref(fgDep))).metadata.deletionTimestamp, 5000, 'the dependent to be marked for deletion');
      assert.ok((await client.get(ref(fg))).metadata.finalizers?.includes('foregroundDeletion'), 'the owner waits for its dependent');
      // the collector is still writing the dependent (it drops the foregroundDeletion finalizer it
      // added), so the hold is released as a controller would: read, change, retry on a conflict
      for (let attempt = 0; ; attempt++) {
        const d = await client.get(ref(fgDep));
        const released = await client.update({ ...d, metadata: { ...d.metadata, finalizers: (d.metadata.finalizers ?? []).filter((f) => f !== 'example.com/hold') } }).then(
          () => true,
          (e) => {
            if (e instanceof ApiError && e.code === 409 && attempt < 5) return false;
            throw e;
          },
        );
        if (released) break;
      }
      await eventually(async () => client.get(ref(fg)).then(() => false, (e) => e.code === 404), 5000, 'the owner to go once its dependent is gone');
    });

    test('server-side apply creates, updates, removes fields the manager stopped applying, and reports conflicts', async () => {
      const base: Resource = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'ssa', namespace: 'default', labels: { a: '1', b: '2' } }, spec: { size: 3 } };
      const created = await client.apply(base, { fieldManager: 'alice' });
      assert.equal(created.spec.size, 3);
      assert.equal(created.metadata.managedFields?.[0]?.manager, 'alice');
      const dropped = await client.apply({ ...base, metadata: { ...base.metadata, labels: { a: '1' } } }, { fieldManager: 'alice' });
      assert.deepEqual(dropped.metadata.labels, { a: '1' }, 'label b was removed when alice stopped applying it');
      await assert.rejects(client.apply({ ...base, metadata: { name: 'ssa', namespace: 'default' }, spec: { size: 9 } }, { fieldManager: 'bob' }), (e: unknown) => e instanceof ApiError && e.code === 409 && /alice/.test(e.message) && /spec\.size/.test(e.message));
      const forced: Resource = await client.apply({ ...base, metadata: { name: 'ssa', namespace: 'default' }, spec: { size: 9 } }, { fieldManager: 'bob', force: true });
      assert.equal(forced.spec.size, 9);
      assert.deepEqual(forced.metadata.labels, { a: '1' }, "bob's apply leaves alice's label alone");
    });

    test('merge, JSON and strategic patches', async () => {
      const c = await client.create(cm('patchme', { a: '1', b: '2' }));
      const merged = await client.patch(ref(c), 'merge', { data: { a: null, c: '3' } });
      assert.deepEqual(merged.data, { b: '2', c: '3' });
      const jp = await client.patch(ref(c), 'json', [{ op: 'replace', path: '/data/b', value: 'two' }, { op: 'add', path: '/data/d', value: '4' }]);
      assert.deepEqual(jp.data, { b: 'two', c: '3', d: '4' });
      const sp = await client.patch(ref(c), 'strategic', { data: { d: null } });
      assert.deepEqual(sp.data, { b: 'two', c: '3' });
      await assert.rejects(client.patch(ref(c), 'json', [{ op: 'test', path: '/data/b', value: 'nope' }]), isCode(422));
    });

    test('schema validation rejects invalid objects with the field path and stores nothing', async () => {
      await assert.rejects(client.create({ ...widget('bad'), spec: { size: 'big' } }), (e: unknown) => e instanceof ApiError && e.code === 422 && e.details?.causes?.some((c) => c.field === 'spec.size') === true);
      await assert.rejects(client.create({ ...widget('bad2'), spec: {} }), (e: unknown) => e instanceof ApiError && e.code === 422 && /spec\.size: Required value/.test(e.message));
      await assert.rejects(client.create({ ...cm('Bad_Name') }), (e: unknown) => e instanceof ApiError && e.code === 422 && /metadata\.name/.test(e.message));
      await assert.rejects(client.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: 'bad' }), isCode(404));
    });
  });
}
