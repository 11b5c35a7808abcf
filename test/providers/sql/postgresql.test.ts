import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DatabaseClient } from '../../../src/providers/sql/postgresql/database.js';
import { GrantClient } from '../../../src/providers/sql/postgresql/grant.js';
import { RoleClient } from '../../../src/providers/sql/postgresql/role.js';
import { PostgresServer, PostgresServers, postgresCredentials } from '../../../src/providers/sql/postgresql/server.js';
import { startPlatform } from '../../support/platform.js';
import { managed, providerContext, requireService, secret, uniqueName } from '../support.js';

const PG = 'postgresql.sql.crossplane.io/v1alpha1';
const admin = { endpoint: '127.0.0.1', port: 5432, username: 'postgres', password: '', database: 'postgres' };

describe('provider-sql PostgreSQL clients against a real server', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let server: PostgresServer;
  const created: { db: string[]; role: string[] } = { db: [], role: [] };

  before(async () => {
    await requireService('PostgreSQL', 5432);
    p = await startPlatform({ listen: false, modules: [] });
    server = new PostgresServer(admin);
  });

  after(async () => {
    for (const d of created.db) await server.query(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`).catch(() => undefined);
    for (const r of created.role) await server.query(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
    await server.close();
    await p.close();
  });

  it('creates a database, finds it dropped out of band, recreates it, updates it and deletes it', async () => {
    const dbs = new DatabaseClient(server);
    const name = uniqueName('pave_db');
    created.db.push(name);
    const mr = managed(PG, 'Database', name, { connectionLimit: 5 });
    assert.equal((await dbs.observe(mr)).resourceExists, false);
    await dbs.create(mr);
    await dbs.create(mr); // idempotent: a retry after a crash succeeds
    const seen = await dbs.observe(mr);
    assert.equal(seen.resourceExists, true);
    assert.equal(seen.resourceUpToDate, true);
    assert.equal(seen.atProvider?.connectionLimit, 5);

    await server.query(`ALTER DATABASE "${name}" CONNECTION LIMIT 50`);
    const drifted = await dbs.observe(mr);
    assert.equal(drifted.resourceUpToDate, false);
    assert.match(drifted.diff!, /connectionLimit is 50, want 5/);
    await dbs.update(mr);
    assert.equal((await dbs.observe(mr)).resourceUpToDate, true);

    await server.query(`DROP DATABASE "${name}"`);
    assert.equal((await dbs.observe(mr)).resourceExists, false);
    await dbs.create(mr);
    assert.equal((await server.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name])).length, 1);

    await dbs.delete(mr);
    await dbs.delete(mr); // already gone is not an error
    assert.equal((await dbs.observe(mr)).resourceExists, false);
  });

  it('observes many databases with one catalog query', async () => {
    const dbs = new DatabaseClient(server);
    const names = Array.from({ length: 20 }, () => uniqueName('pave_many'));
    created.db.push(...names);
    const mrs = names.map((n) => managed(PG, 'Database', n, {}));
    for (const mr of mrs.slice(0, 10)) await dbs.create(mr);
    const before = server.queries;
    const obs = await dbs.observeMany(mrs);
    assert.equal(server.queries - before, 1);
    assert.deepEqual(obs.map((o) => o.resourceExists), [...Array(10).fill(true), ...Array(10).fill(false)]);
  });

  it('creates a role with a generated password and a grant; the connection secret logs in to the database', async () => {
    const ctx = providerContext(p.client);
    const name = uniqueName('pave_app');
    created.db.push(name);
    created.role.push(name);
    await new DatabaseClient(server).create(managed(PG, 'Database', name, {}));
    const roles = new RoleClient(server, ctx);
    const role = managed(PG, 'Role', name, { connectionLimit: 3, privileges: { login: true } });
    const { connectionDetails } = await roles.create(role);
    assert.equal(connectionDetails.username, name);
    assert.equal(connectionDetails.endpoint, '127.0.0.1');
    assert.equal(connectionDetails.port, '5432');
    assert.ok(connectionDetails.password.length >= 24);
    const obs = await roles.observe(role);
    assert.equal(obs.resourceUpToDate, true);
    assert.match(String(obs.atProvider?.privilegesAsClauses), /\bLOGIN\b.*CONNECTION LIMIT 3/);

    const grants = new GrantClient(server, ctx);
    const grant = managed(PG, 'Grant', `${name}-grant`, { privileges: ['CONNECT', 'TEMPORARY'], role: name, database: name });
    assert.equal((await grants.observe(grant)).resourceExists, false);
    await grants.create(grant);
    assert.equal((await grants.observe(grant)).resourceUpToDate, true);
    await server.query(`REVOKE TEMPORARY ON DATABASE "${name}" FROM "${name}"`);
    assert.equal((await grants.observe(grant)).resourceUpToDate, false);
    await grants.update(grant);
    assert.equal((await grants.observe(grant)).resourceUpToDate, true);

    const app = new pg.Client({ connectionString: connectionDetails.uri });
    await app.connect();
    try {
      const r = await app.query('SELECT current_user AS u, current_database() AS d');
      assert.deepEqual(r.rows[0], { u: name, d: name });
    } finally {
      await app.end();
    }

    await grants.delete(grant);
    assert.equal((await grants.observe(grant)).resourceExists, false);
    await roles.delete(role);
    assert.equal((await roles.observe(role)).resourceExists, false);
  });

  it('a claim\'s database, role and grant deleted together leave nothing behind, not even a half-dropped database', async () => {
    const ctx = providerContext(p.client);
    const dbs = new DatabaseClient(server);
    const roles = new RoleClient(server, ctx);
    const grants = new GrantClient(server, ctx);
    const deleting = { deletionTimestamp: new Date().toISOString() };
    const names = Array.from({ length: 12 }, () => uniqueName('pave_race'));
    created.db.push(...names);
    created.role.push(...names);
    for (const name of names) {
      const role = managed(PG, 'Role', name, { privileges: { login: true } });
      const db = managed(PG, 'Database', name, { owner: name });
      const grant = managed(PG, 'Grant', `${name}-grant`, { privileges: ['ALL'], role: name, database: name });
      await roles.create(role);
      await dbs.create(db);
      await grants.create(grant);
      // as the garbage collector deletes a claim's composed resources: all at once
      const results = await Promise.allSettled([grant, db, role].map((mr) => {
        mr.metadata = { ...mr.metadata, ...deleting };
        return mr === grant ? grants.delete(mr) : mr === db ? dbs.delete(mr) : roles.delete(mr);
      }));
      assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), [], `deleting ${name}`);
      assert.equal((await dbs.observe(db)).resourceExists, false, `database ${name} is gone`);
      assert.equal((await roles.observe(role)).resourceExists, false, `role ${name} is gone`);
    }
    const husks = await server.query(`SELECT datname FROM pg_database WHERE datname = ANY($1)`, [names]);
    assert.deepEqual(husks, []);
  });

  it('a database a lost DROP left half-dropped counts as absent to create and as present to delete', async () => {
    const dbs = new DatabaseClient(server);
    const name = uniqueName('pave_husk');
    created.db.push(name);
    await server.query(`CREATE DATABASE "${name}"`);
    // the state an interrupted DROP DATABASE leaves behind (PostgreSQL marks it before removing files)
    await server.query('UPDATE pg_database SET datconnlimit = -2 WHERE datname = $1', [name]);
    const mr = managed(PG, 'Database', name, {});
    assert.equal((await dbs.observe(mr)).resourceExists, false, 'to create, a husk is absent');
    const deleting = { ...mr, metadata: { ...mr.metadata, deletionTimestamp: new Date().toISOString() } };
    assert.equal((await dbs.observe(deleting)).resourceExists, true, 'to delete, a husk is still there');
    await dbs.delete(deleting);
    assert.equal((await dbs.observe(deleting)).resourceExists, false);
    assert.deepEqual(await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]), []);
  });

  it('puts back a password changed out of band when the password comes from a Secret', async () => {
    const ctx = providerContext(p.client);
    const name = uniqueName('pave_pw');
    created.role.push(name);
    await p.client.create(secret(`${name.replace(/_/g, '-')}`, 'default', { password: 's3cret-one' }));
    const roles = new RoleClient(server, ctx);
    const role = managed(PG, 'Role', name, { privileges: { login: true }, passwordSecretRef: { name: name.replace(/_/g, '-'), namespace: 'default', key: 'password' } });
    const created1 = await roles.create(role);
    assert.equal(created1.connectionDetails.password, 's3cret-one');
    assert.equal((await roles.observe(role)).resourceUpToDate, true);
    await server.query(`ALTER ROLE "${name}" PASSWORD 'changed'`);
    const obs = await roles.observe(role);
    assert.equal(obs.resourceUpToDate, false);
    assert.match(obs.diff!, /password/);
    await roles.update(role);
    assert.equal((await roles.observe(role)).resourceUpToDate, true);
  });

  it('runs a burst longer than the connect timeout without taking the busy server for an unreachable one', async () => {
    // 8 connections, 40 statements of 0.8 s: the last wait about 3.2 s for a connection, past the 3 s connect timeout
    const burst = await Promise.allSettled(Array.from({ length: 40 }, () => server.query('SELECT pg_sleep(0.8)')));
    const failed = burst.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    assert.deepEqual(failed, []);
    assert.deepEqual(await server.read('SELECT 1 AS one'), [{ one: 1 }]);
  });

  it('reads credentials from the ProviderConfig secret and names the backend when it is unreachable', async () => {
    const ctx = providerContext(p.client);
    await p.client.create(secret('pg-down', 'default', { endpoint: '127.0.0.1', port: '1', username: 'postgres', password: 'x' }));
    const pc = { apiVersion: PG, kind: 'ProviderConfig', metadata: { name: 'down' }, spec: { credentials: { source: 'PostgreSQLConnectionSecret', connectionSecretRef: { name: 'pg-down', namespace: 'default' } } } };
    const creds = await postgresCredentials(pc, ctx);
    assert.deepEqual(creds, { endpoint: '127.0.0.1', port: 1, username: 'postgres', password: 'x', database: 'postgres', sslmode: undefined });
    const servers = new PostgresServers();
    try {
      await assert.rejects(new DatabaseClient(servers.get(creds)).observe(managed(PG, 'Database', 'x', {})), /PostgreSQL 127\.0\.0\.1:1: .*ECONNREFUSED/);
    } finally {
      await servers.closeAll();
    }
    await assert.rejects(postgresCredentials({ ...pc, spec: { credentials: { source: 'PostgreSQLConnectionSecret' } } }, ctx), /ProviderConfig down: spec\.credentials\.connectionSecretRef/);
  });
});
