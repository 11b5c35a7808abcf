import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Resource } from '../../../src/api/types.js';
import { controlPlaneModule } from '../../../src/controlplane/index.js';
import { providersModule } from '../../../src/providers/index.js';
import { eventually, startPlatform } from '../../support/platform.js';
import { requireService, secret, uniqueName } from '../support.js';

const PG = 'postgresql.sql.crossplane.io/v1alpha1';

function condition(o: Resource, type: string) {
  return (o.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

describe('provider-sql PostgreSQL end to end: managed resources through the API', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let admin: pg.Client;
  const names: string[] = [];

  before(async () => {
    await requireService('PostgreSQL', 5432);
    p = await startPlatform({ listen: false, modules: [controlPlaneModule(), providersModule()], settings: { 'dns-port': '0' } });
    admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await p.client.create(secret('pg-admin', 'default', { endpoint: '127.0.0.1', port: '5432', username: 'postgres', password: '' }));
    // Unmodified provider-sql YAML, as a Crossplane user would apply it.
    await p.client.create({ apiVersion: PG, kind: 'ProviderConfig', metadata: { name: 'default' }, spec: { credentials: { source: 'PostgreSQLConnectionSecret', connectionSecretRef: { namespace: 'default', name: 'pg-admin' } }, sslmode: 'disable' } });
  });

  after(async () => {
    for (const n of names) {
      await admin.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS "${n}"`).catch(() => undefined);
    }
    await admin.end();
    await p.close();
  });

  const get = (kind: string, name: string) => p.client.get({ apiVersion: PG, kind, name });
  const exists = async (sql: string, v: string) => (await admin.query(sql, [v])).rowCount === 1;

  it('provisions a Database, Role and Grant whose connection secret logs in, heals drift, and honours deletionPolicy', async () => {
    const name = uniqueName('pave-e2e');
    names.push(name);
    await p.client.create({ apiVersion: PG, kind: 'Database', metadata: { name }, spec: { forProvider: { connectionLimit: 20 } } });
    await p.client.create({ apiVersion: PG, kind: 'Role', metadata: { name }, spec: { forProvider: { privileges: { login: true }, connectionLimit: 5 }, writeConnectionSecretToRef: { name: `${name.replace(/_/g, '-')}-conn`, namespace: 'default' } } });
    await p.client.create({ apiVersion: PG, kind: 'Grant', metadata: { name: `${name.replace(/_/g, '-')}-grant` }, spec: { forProvider: { privileges: ['ALL'], roleRef: { name }, databaseRef: { name } } } });

    for (const [kind, n] of [['Database', name], ['Role', name], ['Grant', `${name.replace(/_/g, '-')}-grant`]] as const) {
      await eventually(async () => condition(await get(kind, n), 'Ready')?.status === 'True', 15_000, `${kind} ${n} Ready`);
    }
    const db = await get('Database', name);
    assert.equal(condition(db, 'Synced')?.status, 'True');
    assert.equal(db.status.atProvider.connectionLimit, 20);

    const conn = await p.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: `${name.replace(/_/g, '-')}-conn` });
    const d = Object.fromEntries(Object.entries(conn.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.deepEqual(Object.keys(d).sort(), ['endpoint', 'password', 'port', 'uri', 'username']);
    const app = new pg.Client({ host: d.endpoint, port: Number(d.port), user: d.username, password: d.password, database: name });
    await app.connect();
    await app.query('CREATE TEMP TABLE t (x int)'); // TEMPORARY comes with the ALL grant
    await app.query('INSERT INTO t VALUES (42)');
    assert.equal((await app.query('SELECT x FROM t')).rows[0].x, 42);
    await app.end();

    // Drift: the database is dropped out of band and comes back within seconds.
    await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
    await eventually(() => exists('SELECT 1 FROM pg_database WHERE datname = $1', name), 10_000, 'database recreated');
    // Drift: a changed connection limit is put back.
    // (retried: the provider may be granting on the same catalog row at this moment)
    await eventually(() => admin.query(`ALTER DATABASE "${name}" CONNECTION LIMIT 99`).then(() => true), 5000, 'out-of-band ALTER');
    await eventually(async () => (await admin.query('SELECT datconnlimit FROM pg_database WHERE datname = $1', [name])).rows[0]?.datconnlimit === 20, 10_000, 'connection limit restored');
    // The recreated database gets its grant back too.
    await eventually(async () => Number((await admin.query(`SELECT count(*) AS n FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1::text AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1::text)`, [name])).rows[0]?.n) === 3, 10_000, 'grant restored');

    const events = await p.client.list('v1', 'Event', { namespace: 'default' });
    assert.ok(events.items.some((e) => e.involvedObject?.name === name && e.reason === 'CreatedExternalResource'), 'an Event records the creation');

    // Update through the API: the new limit reaches the server.
    await p.client.patch({ apiVersion: PG, kind: 'Database', name }, 'merge', { spec: { forProvider: { connectionLimit: 7 } } });
    await eventually(async () => (await admin.query('SELECT datconnlimit FROM pg_database WHERE datname = $1', [name])).rows[0]?.datconnlimit === 7, 10_000, 'connection limit updated');

    // Orphan: the object goes, the database stays.
    await p.client.patch({ apiVersion: PG, kind: 'Database', name }, 'merge', { spec: { deletionPolicy: 'Orphan' } });
    await p.client.delete({ apiVersion: PG, kind: 'Grant', name: `${name.replace(/_/g, '-')}-grant` });
    await p.client.delete({ apiVersion: PG, kind: 'Database', name });
    await eventually(async () => !(await get('Database', name).catch(() => undefined)), 10_000, 'Database object gone');
    assert.equal(await exists('SELECT 1 FROM pg_database WHERE datname = $1', name), true);

    // Delete: the role is dropped.
    await p.client.delete({ apiVersion: PG, kind: 'Role', name });
    await eventually(async () => !(await exists('SELECT 1 FROM pg_roles WHERE rolname = $1', name)), 10_000, 'role dropped');
  });

  it('reports Synced=False naming the backend when the server cannot be reached', async () => {
    await p.client.create(secret('pg-nowhere', 'default', { endpoint: '127.0.0.1', port: '1', username: 'postgres', password: 'x' }));
    await p.client.create({ apiVersion: PG, kind: 'ProviderConfig', metadata: { name: 'nowhere' }, spec: { credentials: { source: 'PostgreSQLConnectionSecret', connectionSecretRef: { namespace: 'default', name: 'pg-nowhere' } } } });
    await p.client.create({ apiVersion: PG, kind: 'Database', metadata: { name: 'unreachable' }, spec: { forProvider: {}, providerConfigRef: { name: 'nowhere' } } });
    const synced = await eventually(async () => {
      const c = condition(await get('Database', 'unreachable'), 'Synced');
      return c?.status === 'False' ? c : undefined;
    }, 10_000, 'Synced=False');
    assert.match(synced.message, /PostgreSQL 127\.0\.0\.1:1/);
  });
});
