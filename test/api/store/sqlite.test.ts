import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../../src/api/store/sqlite.js';
import { tempDir } from '../../support/platform.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite (in memory)', async (opts) => new SqliteStore({ path: ':memory:', watchWindow: opts?.watchWindow }));

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
