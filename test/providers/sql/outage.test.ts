import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Resource } from '../../../src/api/types.js';
import { controlPlaneModule } from '../../../src/controlplane/index.js';
import { providersModule, providersRuntime } from '../../../src/providers/index.js';
import { eventually, startPlatform } from '../../support/platform.js';
import { requireService, secret } from '../support.js';

const PG = 'postgresql.sql.crossplane.io/v1alpha1';

/**
 * A TCP relay to the real PostgreSQL that can be taken down and brought back on the same port:
 * down, connections are refused and open ones are cut, as when the server stops.
 */
class Outage {
  port = 0;
  private server?: Server;
  private sockets = new Set<Socket>();

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

function condition(o: Resource, type: string) {
  return (o.status?.conditions ?? []).find((c: { type: string }) => c.type === type) as { status: string; message?: string } | undefined;
}

describe('provider-sql during a PostgreSQL outage', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let admin: pg.Client;
  const outage = new Outage();
  const names = Array.from({ length: 20 }, (_, i) => `pave-outage-${Date.now().toString(36)}-${i}`);

  before(async () => {
    await requireService('PostgreSQL', 5432);
    await outage.up();
    p = await startPlatform({ listen: false, modules: [controlPlaneModule(), providersModule()], settings: { 'dns-port': '0' } });
    admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await p.client.create(secret('pg-flaky', 'default', { endpoint: '127.0.0.1', port: String(outage.port), username: 'postgres', password: '' }));
    await p.client.create({ apiVersion: PG, kind: 'ProviderConfig', metadata: { name: 'flaky' }, spec: { credentials: { source: 'PostgreSQLConnectionSecret', connectionSecretRef: { namespace: 'default', name: 'pg-flaky' } }, sslmode: 'disable' } });
  });

  after(async () => {
    await outage.down().catch(() => undefined);
    for (const n of names) await admin?.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`).catch(() => undefined);
    await admin?.end();
    await p?.close();
  });

  const databases = async () => (await p.client.list(PG, 'Database')).items.filter((o) => names.includes(o.metadata.name!));

  it('reports Synced=False naming the server, keeps its connection attempts bounded, and recovers when it returns', async () => {
    for (const name of names) await p.client.create({ apiVersion: PG, kind: 'Database', metadata: { name }, spec: { providerConfigRef: { name: 'flaky' }, forProvider: {} } });
    await eventually(async () => (await databases()).filter((o) => condition(o, 'Ready')?.status === 'True').length === names.length, 30_000, 'all Databases Ready');

    const server = providersRuntime(p)!.postgres.list().find((s) => s.credentials.port === outage.port)!;
    await outage.down();
    const attemptsBefore = server.breaker.failedAttempts;
    const refusedBefore = server.breaker.refused;
    const unsynced = await eventually(async () => {
      const items = await databases();
      return items.every((o) => condition(o, 'Synced')?.status === 'False') ? items : undefined;
    }, 15_000, 'every Database Synced=False');
    // the cause is whichever failure came first: a refused connection, or an open one cut
    for (const o of unsynced) assert.match(condition(o, 'Synced')!.message!, new RegExp(`PostgreSQL 127\\.0\\.0\\.1:${outage.port}: .*(ECONNREFUSED|Connection terminated)`));
    assert.equal(condition(unsynced[0]!, 'Ready')?.status, 'True', 'the databases were not seen to go away: Ready stays as it was');

    // The reconcilers keep retrying, but the server's port sees about one probe per half second.
    await new Promise((r) => setTimeout(r, 3000));
    const attempts = server.breaker.failedAttempts - attemptsBefore;
    const refused = server.breaker.refused - refusedBefore;
    assert.ok(refused > attempts, `retries are answered without contacting the server (${refused} refused, ${attempts} attempts)`);
    assert.ok(attempts <= 20, `at most a few connection attempts a second reach the stopped server (${attempts} in the outage)`);

    await outage.up();
    await eventually(async () => (await databases()).every((o) => condition(o, 'Ready')?.status === 'True' && condition(o, 'Synced')?.status === 'True'), 15_000, 'every Database Ready and Synced again');
    const [row] = (await admin.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = ANY($1)', [names])).rows;
    assert.equal(row.n, names.length, 'nothing was lost or recreated twice');
  });
});
