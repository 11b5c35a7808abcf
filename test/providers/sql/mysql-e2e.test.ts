import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { parseAllDocuments } from 'yaml';
import type { Resource } from '../../../src/api/types.js';
import { controlPlaneModule } from '../../../src/controlplane/index.js';
import { providersModule } from '../../../src/providers/index.js';
import { eventually, startPlatform } from '../../support/platform.js';
import { requireService, secret, uniqueName } from '../support.js';

const MY = 'mysql.sql.crossplane.io/v1alpha1';

function condition(o: Resource, type: string) {
  return (o.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

/** Unmodified provider-sql YAML, as a Crossplane user would apply it. */
function manifests(name: string): Resource[] {
  const text = `
apiVersion: mysql.sql.crossplane.io/v1alpha1
kind: ProviderConfig
metadata:
  name: default
spec:
  credentials:
    source: MySQLConnectionSecret
    connectionSecretRef:
      namespace: default
      name: mariadb-admin
---
apiVersion: mysql.sql.crossplane.io/v1alpha1
kind: Database
metadata:
  name: ${name}
spec:
  forProvider: {}
---
apiVersion: mysql.sql.crossplane.io/v1alpha1
kind: User
metadata:
  name: ${name}
spec:
  forProvider:
    resourceOptions:
      maxUserConnections: 10
  writeConnectionSecretToRef:
    name: ${name}-conn
    namespace: default
---
apiVersion: mysql.sql.crossplane.io/v1alpha1
kind: Grant
metadata:
  name: ${name}-grant
spec:
  forProvider:
    privileges:
      - ALL
    userRef:
      name: ${name}
    databaseRef:
      name: ${name}
`;
  return parseAllDocuments(text).map((d) => d.toJS() as Resource);
}

describe('provider-sql MySQL end to end against MariaDB: managed resources through the API', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let admin: mysql.Connection;
  const names: string[] = [];

  before(async () => {
    await requireService('MariaDB', 3306);
    p = await startPlatform({ listen: false, modules: [controlPlaneModule(), providersModule()], settings: { 'dns-port': '0' } });
    admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
    await p.client.create(secret('mariadb-admin', 'default', { endpoint: '127.0.0.1', port: '3306', username: 'root', password: '' }));
  });

  after(async () => {
    for (const n of names) {
      await admin?.query(`DROP DATABASE IF EXISTS \`${n}\``).catch(() => undefined);
      await admin?.query(`DROP USER IF EXISTS '${n}'@'%'`).catch(() => undefined);
    }
    await admin?.end();
    await p?.close();
  });

  const get = (kind: string, name: string) => p.client.get({ apiVersion: MY, kind, name });
  const schemaExists = async (name: string) => ((await admin.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]))[0] as unknown[]).length === 1;
  const userExists = async (name: string) => ((await admin.query("SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [name]))[0] as unknown[]).length === 1;
  const readSecret = async (name: string) => {
    const s = await p.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name });
    return Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };
  /** Logs in with a connection secret and writes and reads a row in the database. */
  const useDatabase = async (d: Record<string, string>, database: string, value: number) => {
    const app = await mysql.createConnection({ host: d.endpoint, port: Number(d.port), user: d.username, password: d.password, database });
    try {
      await app.query('CREATE TABLE IF NOT EXISTS t (x int)');
      await app.query('INSERT INTO t VALUES (?)', [value]);
      const [rows] = await app.query('SELECT x FROM t WHERE x = ?', [value]);
      assert.deepEqual(rows, [{ x: value }]);
    } finally {
      await app.end();
    }
  };

  it('provisions a Database, User and Grant whose connection secret logs in, heals drift, and honours deletionPolicy', async () => {
    const name = uniqueName('pave-my');
    names.push(name);
    for (const m of manifests(name)) await p.client.create(m);
    for (const [kind, n] of [['Database', name], ['User', name], ['Grant', `${name}-grant`]] as const) {
      await eventually(async () => condition(await get(kind, n), 'Ready')?.status === 'True', 15_000, `${kind} ${n} Ready`);
    }
    assert.equal(condition(await get('Database', name), 'Synced')?.status, 'True');
    assert.ok((await get('User', name)).status.atProvider.resourceOptionsAsClauses.includes('MAX_USER_CONNECTIONS 10'));
    assert.equal((await get('Grant', `${name}-grant`)).spec.forProvider.user, name, 'the resolved reference is recorded');

    const first = await readSecret(`${name}-conn`);
    assert.deepEqual(Object.keys(first).sort(), ['endpoint', 'password', 'port', 'username']);
    await useDatabase(first, name, 1);

    // Drift: the database is dropped out of band and comes back, with its grant usable again.
    await admin.query(`DROP DATABASE \`${name}\``);
    await eventually(() => schemaExists(name), 10_000, 'database recreated');
    await eventually(() => useDatabase(first, name, 2).then(() => true), 10_000, 'the recreated database is usable with the same secret');

    // Drift: the user is dropped out of band; it comes back with a new password in its secret, and its grant.
    await admin.query(`DROP USER '${name}'@'%'`);
    await eventually(() => userExists(name), 10_000, 'user recreated');
    const second = await eventually(async () => {
      const s = await readSecret(`${name}-conn`);
      return s.password !== first.password ? s : undefined;
    }, 10_000, 'the connection secret carries the new password');
    await eventually(() => useDatabase(second, name, 3).then(() => true), 10_000, 'the recreated user reaches the database again');

    // Drift: a changed resource option is put back.
    await admin.query(`ALTER USER '${name}'@'%' WITH MAX_USER_CONNECTIONS 99`);
    await eventually(async () => {
      const [rows] = await admin.query("SELECT max_user_connections AS n FROM mysql.user WHERE User = ? AND Host = '%'", [name]);
      return Number((rows as { n: number }[])[0]?.n) === 10;
    }, 10_000, 'MAX_USER_CONNECTIONS restored');

    const events = await p.client.list('v1', 'Event', { namespace: 'default' });
    assert.ok(events.items.some((e) => e.involvedObject?.name === name && e.involvedObject?.kind === 'User' && e.reason === 'CreatedExternalResource'), 'an Event records the creation');

    // Update through the API: the new option reaches the server.
    await p.client.patch({ apiVersion: MY, kind: 'User', name }, 'merge', { spec: { forProvider: { resourceOptions: { maxUserConnections: 4 } } } });
    await eventually(async () => {
      const [rows] = await admin.query("SELECT max_user_connections AS n FROM mysql.user WHERE User = ? AND Host = '%'", [name]);
      return Number((rows as { n: number }[])[0]?.n) === 4;
    }, 10_000, 'MAX_USER_CONNECTIONS updated');

    // Orphan: the object goes, the database stays.
    await p.client.patch({ apiVersion: MY, kind: 'Database', name }, 'merge', { spec: { deletionPolicy: 'Orphan' } });
    await p.client.delete({ apiVersion: MY, kind: 'Database', name });
    await eventually(async () => !(await get('Database', name).catch(() => undefined)), 10_000, 'Database object gone');
    assert.equal(await schemaExists(name), true);

    // Delete: the grant is revoked and the user dropped.
    await p.client.delete({ apiVersion: MY, kind: 'Grant', name: `${name}-grant` });
    await eventually(async () => ((await admin.query('SELECT 1 FROM mysql.db WHERE User = ? AND Db = ?', [name, name]))[0] as unknown[]).length === 0, 10_000, 'grant revoked');
    await p.client.delete({ apiVersion: MY, kind: 'User', name });
    await eventually(async () => !(await userExists(name)), 10_000, 'user dropped');
  });

  it('rejects a Grant without privileges, naming the field', async () => {
    await assert.rejects(
      p.client.create({ apiVersion: MY, kind: 'Grant', metadata: { name: 'no-privileges' }, spec: { forProvider: { user: 'x', database: 'y' } } }),
      /Grant.* "no-privileges" is invalid: .*privileges/,
    );
  });

  it('reports Synced=False naming the backend when the server cannot be reached', async () => {
    await p.client.create(secret('mariadb-nowhere', 'default', { endpoint: '127.0.0.1', port: '1', username: 'root', password: 'x' }));
    await p.client.create({ apiVersion: MY, kind: 'ProviderConfig', metadata: { name: 'nowhere' }, spec: { credentials: { source: 'MySQLConnectionSecret', connectionSecretRef: { namespace: 'default', name: 'mariadb-nowhere' } } } });
    await p.client.create({ apiVersion: MY, kind: 'Database', metadata: { name: 'unreachable' }, spec: { forProvider: {}, providerConfigRef: { name: 'nowhere' } } });
    const synced = await eventually(async () => {
      const c = condition(await get('Database', 'unreachable'), 'Synced');
      return c?.status === 'False' ? c : undefined;
    }, 10_000, 'Synced=False');
    assert.match(synced.message, /MySQL 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
