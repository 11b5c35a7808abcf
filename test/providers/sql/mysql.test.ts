import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { MysqlDatabaseClient } from '../../../src/providers/sql/mysql/database.js';
import { MysqlGrantClient } from '../../../src/providers/sql/mysql/grant.js';
import { MysqlServer, MysqlServers, mysqlCredentials } from '../../../src/providers/sql/mysql/server.js';
import { MysqlUserClient } from '../../../src/providers/sql/mysql/user.js';
import { startPlatform } from '../../support/platform.js';
import { managed, providerContext, requireService, secret, uniqueName } from '../support.js';

const MY = 'mysql.sql.crossplane.io/v1alpha1';
const admin = { endpoint: '127.0.0.1', port: 3306, username: 'root', password: '' };

describe('provider-sql MySQL clients against a real MariaDB', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let server: MysqlServer;
  const created: { db: string[]; user: string[] } = { db: [], user: [] };

  before(async () => {
    await requireService('MariaDB', 3306);
    p = await startPlatform({ listen: false, modules: [] });
    server = new MysqlServer(admin);
  });

  after(async () => {
    for (const d of created.db) await server.query(`DROP DATABASE IF EXISTS \`${d}\``).catch(() => undefined);
    for (const u of created.user) await server.query(`DROP USER IF EXISTS '${u}'@'%'`).catch(() => undefined);
    await server.close();
    await p?.close();
  });

  it('creates a database, finds it dropped out of band, recreates it and deletes it', async () => {
    const dbs = new MysqlDatabaseClient(server);
    const name = uniqueName('pave_db');
    created.db.push(name);
    const mr = managed(MY, 'Database', name, {});
    assert.equal((await dbs.observe(mr)).resourceExists, false);
    await dbs.create(mr);
    await dbs.create(mr); // idempotent: a retry after a crash succeeds
    const seen = await dbs.observe(mr);
    assert.equal(seen.resourceExists, true);
    assert.equal(seen.resourceUpToDate, true);
    assert.ok(seen.atProvider?.characterSet, 'atProvider reports the character set');

    await server.query(`DROP DATABASE \`${name}\``);
    assert.equal((await dbs.observe(mr)).resourceExists, false);
    await dbs.create(mr);
    assert.equal((await server.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])).length, 1);

    await dbs.delete(mr);
    await dbs.delete(mr); // already gone is not an error
    assert.equal((await dbs.observe(mr)).resourceExists, false);
  });

  it('observes many databases with one catalog query', async () => {
    const dbs = new MysqlDatabaseClient(server);
    const names = Array.from({ length: 20 }, () => uniqueName('pave_many'));
    created.db.push(...names);
    const mrs = names.map((n) => managed(MY, 'Database', n, {}));
    for (const mr of mrs.slice(0, 10)) await dbs.create(mr);
    const before = server.queries;
    const obs = await dbs.observeMany(mrs);
    assert.equal(server.queries - before, 1);
    assert.deepEqual(obs.map((o) => o.resourceExists), [...Array(10).fill(true), ...Array(10).fill(false)]);
  });

  it('creates a user with a generated password and a grant; the connection secret logs in and reaches the database', async () => {
    const ctx = providerContext(p.client);
    const name = uniqueName('pave_app');
    created.db.push(name);
    created.user.push(name);
    await new MysqlDatabaseClient(server).create(managed(MY, 'Database', name, {}));
    const users = new MysqlUserClient(server, ctx);
    const user = managed(MY, 'User', name, { resourceOptions: { maxUserConnections: 3 } });
    const { connectionDetails } = await users.create(user);
    assert.deepEqual(Object.keys(connectionDetails).sort(), ['endpoint', 'password', 'port', 'username']);
    assert.equal(connectionDetails.username, name);
    assert.equal(connectionDetails.port, '3306');
    assert.ok(connectionDetails.password.length >= 24);
    const obs = await users.observe(user);
    assert.equal(obs.resourceUpToDate, true);
    assert.ok((obs.atProvider?.resourceOptionsAsClauses as string[]).includes('MAX_USER_CONNECTIONS 3'));

    await server.query(`ALTER USER '${name}'@'%' WITH MAX_USER_CONNECTIONS 9`);
    const drifted = await users.observe(user);
    assert.equal(drifted.resourceUpToDate, false);
    assert.match(drifted.diff!, /MAX_USER_CONNECTIONS is 9, want 3/);
    await users.update(user);
    assert.equal((await users.observe(user)).resourceUpToDate, true);

    const grants = new MysqlGrantClient(server, ctx);
    const grant = managed(MY, 'Grant', `${name}-grant`, { privileges: ['SELECT', 'INSERT', 'CREATE'], user: name, database: name });
    assert.equal((await grants.observe(grant)).resourceExists, false);
    await grants.create(grant);
    const g1 = await grants.observe(grant);
    assert.equal(g1.resourceUpToDate, true);
    assert.deepEqual(g1.atProvider?.privileges, ['CREATE', 'INSERT', 'SELECT']);
    await server.query(`REVOKE INSERT ON \`${name}\`.* FROM '${name}'@'%'`);
    const g2 = await grants.observe(grant);
    assert.equal(g2.resourceUpToDate, false);
    assert.match(g2.diff!, /holds CREATE, SELECT on .*, want CREATE, INSERT, SELECT/);
    await grants.update(grant);
    assert.equal((await grants.observe(grant)).resourceUpToDate, true);

    const app = await mysql.createConnection({ host: connectionDetails.endpoint, port: Number(connectionDetails.port), user: connectionDetails.username, password: connectionDetails.password, database: name });
    try {
      await app.query('CREATE TABLE t (x int)');
      await app.query('INSERT INTO t VALUES (42)');
      const [rows] = await app.query('SELECT x FROM t');
      assert.deepEqual(rows, [{ x: 42 }]);
      await assert.rejects(app.query('DROP TABLE t'), /DROP command denied/);
    } finally {
      await app.end();
    }

    // ALL means every privilege of the level, however the server lists them.
    const all = managed(MY, 'Grant', `${name}-all`, { privileges: ['ALL'], user: name, database: name });
    await grants.update(all);
    assert.equal((await grants.observe(all)).resourceUpToDate, true);
    assert.equal((await grants.observe(grant)).resourceUpToDate, false);

    // A table-level grant sits beside the database one.
    const table = managed(MY, 'Grant', `${name}-table`, { privileges: ['SELECT'], user: name, database: name, table: 't' });
    assert.equal((await grants.observe(table)).resourceExists, false);
    await grants.create(table);
    assert.equal((await grants.observe(table)).resourceUpToDate, true);
    await grants.delete(table);
    assert.equal((await grants.observe(table)).resourceExists, false);

    await grants.delete(all);
    assert.equal((await grants.observe(all)).resourceExists, false);
    await users.delete(user);
    await users.delete(user); // already gone is not an error
    assert.equal((await users.observe(user)).resourceExists, false);
    await grants.delete(grant); // the user is gone, and its grants with it: not an error
  });

  it('a global grant on *.* and a user at a host', async () => {
    const ctx = providerContext(p.client);
    const name = uniqueName('pave_ops');
    const users = new MysqlUserClient(server, ctx);
    const user = managed(MY, 'User', `${name}@localhost`, {});
    await users.create(user);
    try {
      assert.equal((await users.observe(user)).resourceExists, true);
      assert.equal((await server.query('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [name, 'localhost'])).length, 1);
      const grants = new MysqlGrantClient(server, ctx);
      const grant = managed(MY, 'Grant', `${name}-global`, { privileges: ['PROCESS', 'SHOW DATABASES'], user: `${name}@localhost` });
      assert.equal((await grants.observe(grant)).resourceExists, false);
      await grants.create(grant);
      assert.equal((await grants.observe(grant)).resourceUpToDate, true);
      const [row] = await server.query<{ Process_priv: string; Select_priv: string }>('SELECT Process_priv, Select_priv FROM mysql.user WHERE User = ? AND Host = ?', [name, 'localhost']);
      assert.deepEqual({ ...row }, { Process_priv: 'Y', Select_priv: 'N' });
      await grants.delete(grant);
      assert.equal((await grants.observe(grant)).resourceExists, false);
    } finally {
      await users.delete(user);
    }
  });

  it('puts back a password changed out of band when the password comes from a Secret', async () => {
    const ctx = providerContext(p.client);
    const name = uniqueName('pave_pw');
    created.user.push(name);
    await p.client.create(secret(name.replace(/_/g, '-'), 'default', { password: 's3cret-one' }));
    const users = new MysqlUserClient(server, ctx);
    const user = managed(MY, 'User', name, { passwordSecretRef: { name: name.replace(/_/g, '-'), namespace: 'default', key: 'password' } });
    const { connectionDetails } = await users.create(user);
    assert.equal(connectionDetails.password, 's3cret-one');
    assert.equal((await users.observe(user)).resourceUpToDate, true);
    await server.query(`ALTER USER '${name}'@'%' IDENTIFIED BY 'changed'`);
    const obs = await users.observe(user);
    assert.equal(obs.resourceUpToDate, false);
    assert.match(obs.diff!, /password/);
    await users.update(user);
    assert.equal((await users.observe(user)).resourceUpToDate, true);
    const app = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: name, password: 's3cret-one' });
    await app.end();
  });

  it('reads credentials from the ProviderConfig secret and names the backend when it is unreachable', async () => {
    const ctx = providerContext(p.client);
    await p.client.create(secret('my-down', 'default', { endpoint: '127.0.0.1', port: '1', username: 'root', password: 'x' }));
    const pc = { apiVersion: MY, kind: 'ProviderConfig', metadata: { name: 'down' }, spec: { credentials: { source: 'MySQLConnectionSecret', connectionSecretRef: { name: 'my-down', namespace: 'default' } } } };
    const creds = await mysqlCredentials(pc, ctx);
    assert.deepEqual(creds, { endpoint: '127.0.0.1', port: 1, username: 'root', password: 'x', tls: undefined });
    const servers = new MysqlServers();
    try {
      const dbs = new MysqlDatabaseClient(servers.get(creds));
      await assert.rejects(dbs.observe(managed(MY, 'Database', 'x', {})), /MySQL 127\.0\.0\.1:1: .*ECONNREFUSED/);
      // while it stays down, further statements fail at once with the same cause instead of reconnecting
      await assert.rejects(dbs.observe(managed(MY, 'Database', 'x', {})), /MySQL 127\.0\.0\.1:1: .*ECONNREFUSED.*unreachable since/);
    } finally {
      await servers.closeAll();
    }
    await assert.rejects(mysqlCredentials({ ...pc, spec: { credentials: { source: 'MySQLConnectionSecret' } } }, ctx), /ProviderConfig down: spec\.credentials\.connectionSecretRef/);
  });
});
