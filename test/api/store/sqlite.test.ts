import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { Resource } from '../../../src/api/types.js';
import { SqliteStore } from '../../../src/api/store/sqlite.js';
import { DEFAULT_CHECKPOINT_POLICY, shouldCheckpoint } from '../../../src/api/store/sqlite-engine.js';
import { tempDir } from '../../support/platform.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite (in memory)', async (opts) => new SqliteStore({ path: ':memory:', watchWindow: opts?.watchWindow }));
// a cache of four objects: nearly every read goes through eviction and the weakly held tier
storeConformance('sqlite (in memory, tiny read cache)', async (opts) => new SqliteStore({ path: ':memory:', watchWindow: opts?.watchWindow, readCacheEntries: 4 }));
storeConformance('sqlite (file, checkpointed in the background)', async (opts) => new SqliteStore({ path: join(tempDir('pave-sqlite-'), 'pave.db'), watchWindow: opts?.watchWindow }));

const cm = (name: string, data: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `uid-${name}` }, data });
const key = (name: string) => ({ group: '', resource: 'configmaps', namespace: 'default', name });

test('a second store on the same file is refused while the first is open, and gets everything once it closed', async () => {
  const dir = tempDir('pave-sqlite-');
  const path = join(dir, 'pave.db');
  const first = new SqliteStore({ path });
  await first.create(key('a'), cm('a', { v: '1' }));
  assert.throws(() => new SqliteStore({ path }), /in use by another process/);
  await first.close();
  assert.deepEqual(readdirSync(dir).sort(), ['pave.db', 'pave.db-lock'], 'a clean close leaves no write-ahead log behind');
  const second = new SqliteStore({ path });
  try {
    assert.deepEqual((await second.get(key('a')))?.data, { v: '1' });
  } finally {
    await second.close();
  }
});

test('an object pushed out of the read cache is read at its latest version, and not at all once deleted', async () => {
  const store = new SqliteStore({ path: join(tempDir('pave-sqlite-'), 'pave.db'), readCacheEntries: 2 });
  try {
    // held here, so the cache's weak reference to it stays alive after it is pushed out
    const first = await store.create(key('kept'), cm('kept', { v: '1' }));
    for (let i = 0; i < 10; i++) await store.create(key(`other-${i}`), cm(`other-${i}`));
    assert.deepEqual((await store.get(key('kept')))?.data, { v: '1' });
    await store.update(key('kept'), { ...cm('kept', { v: '2' }), metadata: { ...first.metadata } }, Number(first.metadata.resourceVersion), first);
    for (let i = 10; i < 20; i++) await store.create(key(`other-${i}`), cm(`other-${i}`));
    assert.deepEqual((await store.get(key('kept')))?.data, { v: '2' }, 'not the version the caller still holds');
    const latest = await store.get(key('kept'));
    await store.delete(key('kept'), Number(latest!.metadata.resourceVersion), latest);
    assert.equal(await store.get(key('kept')), undefined);
    assert.equal(first.data?.v, '1');
  } finally {
    await store.close();
  }
});

test('what a write returns is shared with readers and watchers, so it is frozen: changing it throws and changes nothing', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  const seen: Resource[] = [];
  const stop = store.watch({}, (e) => seen.push(e.object));
  try {
    const created = await store.create(key('a'), cm('a', { v: '1' }));
    assert.throws(() => ((created.data as Record<string, string>).v = '2'), TypeError);
    assert.throws(() => (created.metadata.labels = { team: 'b' }), TypeError);
    assert.deepEqual((await store.get(key('a')))?.data, { v: '1' });
    assert.deepEqual(seen.at(-1)?.data, { v: '1' }, 'watchers got what was written');
    // what get returns is the caller's own copy
    const copy = (await store.get(key('a')))!;
    (copy.data as Record<string, string>).v = '3';
    assert.deepEqual((await store.get(key('a')))?.data, { v: '1' });
  } finally {
    stop();
    await store.close();
  }
});

test('writes that race in one batch: the first to commit wins, the rest get 409 and change nothing', async () => {
  const store = new SqliteStore({ path: join(tempDir('pave-sqlite-'), 'pave.db') });
  try {
    const created = await store.create(key('race'), cm('race'));
    const rv = Number(created.metadata.resourceVersion);
    const attempts = await Promise.allSettled([1, 2, 3].map((i) => store.update(key('race'), { ...cm('race', { by: String(i) }), metadata: { ...created.metadata } }, rv, created)));
    assert.deepEqual(attempts.map((a) => a.status), ['fulfilled', 'rejected', 'rejected']);
    assert.equal((attempts[1] as PromiseRejectedResult).reason.code, 409);
    assert.deepEqual((await store.get(key('race')))?.data, { by: '1' });
    const twice = await Promise.allSettled([store.create(key('twin'), cm('twin')), store.create(key('twin'), cm('twin'))]);
    assert.deepEqual(twice.map((a) => a.status), ['fulfilled', 'rejected']);
    assert.equal((twice[1] as PromiseRejectedResult).reason.code, 409);
  } finally {
    await store.close();
  }
});

test('a database written with the earlier WITHOUT ROWID objects table opens with every object, owner and revision', async () => {
  const path = join(tempDir('pave-sqlite-'), 'pave.db');
  const old = new Database(path);
  old.exec(`
    CREATE TABLE objects (grp TEXT NOT NULL, res TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
      uid TEXT NOT NULL, rv INTEGER NOT NULL, labels TEXT, data BLOB NOT NULL, PRIMARY KEY (grp, res, ns, name)) WITHOUT ROWID;
    CREATE INDEX objects_uid ON objects (uid);
    CREATE TABLE owners (owner_uid TEXT NOT NULL, grp TEXT NOT NULL, res TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
      PRIMARY KEY (owner_uid, grp, res, ns, name)) WITHOUT ROWID;
    CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO meta (k, v) VALUES ('revision', 2);`);
  const obj = (name: string, uid: string, rv: number, owner?: string) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid, resourceVersion: String(rv), ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: owner }] } : {}) } });
  old.prepare(`INSERT INTO objects VALUES ('', 'configmaps', 'default', 'a', 'uid-a', 1, NULL, ?)`).run(obj('a', 'uid-a', 1));
  old.prepare(`INSERT INTO objects VALUES ('', 'configmaps', 'default', 'b', 'uid-b', 2, NULL, ?)`).run(obj('b', 'uid-b', 2, 'uid-a'));
  old.exec(`INSERT INTO owners VALUES ('uid-a', '', 'configmaps', 'default', 'b')`);
  old.close();

  const store = new SqliteStore({ path });
  try {
    assert.equal(store.revision(), 2);
    assert.deepEqual((await store.list('', 'configmaps')).items.map((o) => o.metadata.name), ['a', 'b']);
    assert.deepEqual(await store.dependents('uid-a'), [{ group: '', resource: 'configmaps', namespace: 'default', name: 'b' }]);
    const key = { group: '', resource: 'configmaps', namespace: 'default', name: 'a' };
    await assert.rejects(store.create(key, JSON.parse(obj('a', 'uid-x', 0))), { code: 409 });
    const updated = await store.update(key, JSON.parse(obj('a', 'uid-a', 1)), 1);
    assert.ok(Number(updated.metadata.resourceVersion) > 2, 'revisions go on from the stored one');
    assert.equal((await store.findByUid('uid-b'))?.key.name, 'b');
  } finally {
    await store.close();
  }
});

test('once writes pause, the database file alone holds them: the WAL has been copied into it', async () => {
  const dir = tempDir('pave-sqlite-');
  const path = join(dir, 'pave.db');
  const store = new SqliteStore({ path });
  try {
    for (let i = 0; i < 50; i++) await store.create(key(`c-${i}`), cm(`c-${i}`, { v: String(i) }));
    // a copy of the main file without its WAL sees only what has been checkpointed
    const copied = () => {
      const copy = join(tempDir('pave-sqlite-copy-'), 'copy.db');
      copyFileSync(path, copy);
      const db = new Database(copy);
      try {
        return db.prepare(`SELECT count(*) FROM objects WHERE name LIKE 'c-%'`).pluck().get() as number;
      } finally {
        db.close();
      }
    };
    const deadline = Date.now() + 15_000;
    while (copied() < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(copied(), 50);
  } finally {
    await store.close();
  }
});

test('a burst of small writes is checkpointed by volume or when it pauses, not on every tick', () => {
  const p = DEFAULT_CHECKPOINT_POLICY;
  const at = (pendingKb: number, sinceWriteMs: number, sinceCheckpointMs: number) => shouldCheckpoint(p, { pendingKb, sinceWriteMs, sinceCheckpointMs });
  assert.equal(at(0, 60_000, 60_000), false, 'nothing written, nothing to copy');
  assert.equal(at(64, 0, p.tickMs), false, 'still writing, little written');
  assert.equal(at(p.volumeKb, 0, p.tickMs), true, 'a lot written');
  assert.equal(at(64, p.idleMs, p.idleMs), true, 'writes paused');
  assert.equal(at(64, 0, p.maxAgeMs), true, 'never pausing, but old');
});
