import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Client } from '../../src/api/client.js';
import type { Resource } from '../../src/api/types.js';
import { readManifests } from '../../src/cli/manifests.js';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { providersModule } from '../../src/providers/index.js';
import { STARTER_PLATFORM_DIR } from '../../src/providers/starter.js';
import { eventually, startPlatform } from '../support/platform.js';
import { requireService } from './support.js';

const XR = 'platform.pave.dev/v1alpha1';

function claimFile(file: string): Resource {
  return readManifests([join(STARTER_PLATFORM_DIR, 'claims', file)])[0]!.object;
}

async function secretData(p: { client: Client }, name: string): Promise<Record<string, string>> {
  const s = await p.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name });
  return Object.fromEntries(Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

describe('the starter platform on real servers', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let admin: pg.Client;

  before(async () => {
    await requireService('PostgreSQL', 5432);
    await requireService('Redis', 6379);
    await requireService('RabbitMQ', 5672);
    await requireService('NATS', 4222);
    p = await startPlatform({
      listen: false,
      modules: [controlPlaneModule(), providersModule()],
      settings: { postgres: 'postgresql://postgres@127.0.0.1:5432/postgres', redis: 'redis://127.0.0.1:6379', rabbitmq: 'amqp://guest:guest@127.0.0.1:5672', nats: 'nats://127.0.0.1:4222', 'starter-platform': 'true', 'dns-port': '0' },
    });
    admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await admin.connect();
    for (const n of ['default-orders-db', 'default-billing-db']) {
      await admin.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS "${n}"`);
    }
  });

  after(async () => {
    for (const n of ['default-orders-db', 'default-billing-db']) {
      await admin.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS "${n}"`).catch(() => undefined);
    }
    await admin.end();
    await p.close();
  });

  const waitReady = (kind: string, name: string) =>
    eventually(async () => {
      const o = await p.client.get({ apiVersion: XR, kind, namespace: 'default', name }).catch(() => undefined);
      return o?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ? o : undefined;
    }, 30_000, `${kind} ${name} Ready`);

  it('loads the XRDs and compositions on first start and creates local ProviderConfigs', async () => {
    const xrds = await p.client.list('apiextensions.crossplane.io/v1', 'CompositeResourceDefinition');
    assert.deepEqual(xrds.items.map((x) => x.metadata.name).sort(), ['xcaches.platform.pave.dev', 'xdnsnames.platform.pave.dev', 'xpostgresdatabases.platform.pave.dev', 'xqueues.platform.pave.dev']);
    const comps = await p.client.list('apiextensions.crossplane.io/v1', 'Composition');
    assert.ok(comps.items.length >= 6);
    for (const g of ['postgresql.sql.crossplane.io', 'redis.pave.dev', 'rabbitmq.pave.dev', 'nats.pave.dev']) {
      const pc = await p.client.get({ apiVersion: `${g}/v1alpha1`, kind: 'ProviderConfig', name: 'local' });
      assert.equal(pc.metadata.name, 'local');
    }
  });

  it('a PostgresDatabase claim gives a DSN that connects, creates a table and queries it', async () => {
    await p.client.create(claimFile('postgres-database.yaml'));
    await waitReady('PostgresDatabase', 'orders-db');
    const d = await eventually(async () => {
      const s = await secretData(p, 'orders-db').catch(() => undefined);
      return s?.dsn ? s : undefined;
    }, 10_000, 'connection secret with dsn');
    assert.equal(d.database, 'default-orders-db');
    const app = new pg.Client({ connectionString: d.dsn });
    await app.connect();
    try {
      await app.query('CREATE TABLE orders (id int PRIMARY KEY, item text)');
      await app.query(`INSERT INTO orders VALUES (1, 'book')`);
      assert.deepEqual((await app.query('SELECT item FROM orders')).rows, [{ item: 'book' }]);
      const limit = await admin.query('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', ['default-orders-db']);
      assert.equal(limit.rows[0].rolconnlimit, 20);
    } finally {
      await app.end();
    }
  });

  it('the production composition orphans the database when the claim is deleted', async () => {
    await p.client.create(claimFile('postgres-database-production.yaml'));
    await waitReady('PostgresDatabase', 'billing-db');
    assert.equal((await admin.query('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', ['default-billing-db'])).rows[0].rolconnlimit, 50);
    await p.client.delete({ apiVersion: XR, kind: 'PostgresDatabase', namespace: 'default', name: 'billing-db' });
    await eventually(async () => (await p.client.list('postgresql.sql.crossplane.io/v1alpha1', 'Database')).items.every((o) => o.metadata.annotations?.['crossplane.io/external-name'] !== 'default-billing-db'), 15_000, 'managed Database gone');
    assert.equal((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['default-billing-db'])).rowCount, 1);
  });

  it('a Cache claim gives a Redis URL confined to its prefix', async () => {
    await p.client.create(claimFile('cache.yaml'));
    await waitReady('Cache', 'sessions');
    const d = await eventually(async () => {
      const s = await secretData(p, 'sessions-cache').catch(() => undefined);
      return s?.url ? s : undefined;
    }, 10_000, 'cache connection secret');
    assert.equal(d.keyPrefix, 'default-sessions:');
    const r = new Redis(d.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      await r.set(`${d.keyPrefix}user:1`, 'alice');
      assert.equal(await r.get(`${d.keyPrefix}user:1`), 'alice');
      await assert.rejects(r.get('other:key'), /NOPERM/);
    } finally {
      r.disconnect();
    }
    await p.client.delete({ apiVersion: XR, kind: 'Cache', namespace: 'default', name: 'sessions' });
  });

  it('a Queue claim on RabbitMQ publishes and consumes; on NATS it makes a stream', async () => {
    await p.client.create(claimFile('queue.yaml'));
    await waitReady('Queue', 'order-events');
    const d = await eventually(async () => {
      const s = await secretData(p, 'order-events-queue').catch(() => undefined);
      return s?.queue ? s : undefined;
    }, 10_000, 'queue connection secret');
    const conn = await amqp.connect(d.url);
    try {
      const ch = await conn.createChannel();
      ch.sendToQueue(d.queue, Buffer.from('hello'));
      const m = await eventually(() => ch.get(d.queue, { noAck: true }), 5000, 'message');
      assert.equal(m && m.content.toString(), 'hello');
      await ch.close();
    } finally {
      await conn.close();
    }
    await p.client.delete({ apiVersion: XR, kind: 'Queue', namespace: 'default', name: 'order-events' });

    const nats = { ...claimFile('queue.yaml'), metadata: { name: 'jobs', namespace: 'default' } };
    nats.spec = { compositionSelector: { matchLabels: { provider: 'nats' } }, writeConnectionSecretToRef: { name: 'jobs-queue' } };
    await p.client.create(nats);
    await waitReady('Queue', 'jobs');
    const nd = await eventually(async () => {
      const s = await secretData(p, 'jobs-queue').catch(() => undefined);
      return s?.stream ? s : undefined;
    }, 10_000, 'nats connection secret');
    assert.equal(nd.stream, 'default-jobs');
    assert.equal(nd.subjects, 'default.jobs.>');
    await p.client.delete({ apiVersion: XR, kind: 'Queue', namespace: 'default', name: 'jobs' });
  });
});
