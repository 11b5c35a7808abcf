import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { readManifests } from '../../src/cli/manifests.js';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { providersModule, providersRuntime } from '../../src/providers/index.js';
import { STARTER_PLATFORM_DIR } from '../../src/providers/starter.js';
import { eventually, startPlatform } from '../support/platform.js';

const PG = 'postgresql.sql.crossplane.io/v1alpha1';
const condition = (o: Resource | undefined, type: string) => (o?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);

describe('the local cloud: embedded PostgreSQL for `pave up` with nothing configured', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;

  before(async () => {
    p = await startPlatform({ listen: false, modules: [controlPlaneModule(), providersModule()], settings: { 'local-cloud': 'true', 'starter-platform': 'true', 'dns-port': '0' } });
  });

  after(async () => {
    await p?.close();
  });

  it('starts PostgreSQL inside the data directory and points the local ProviderConfig at it', async () => {
    await providersRuntime(p)!.backendsReady;
    const local = providersRuntime(p)!.localPostgres!;
    assert.ok(local.port > 0);
    const pc = await p.client.get({ apiVersion: PG, kind: 'ProviderConfig', name: 'local' });
    assert.equal(pc.spec.credentials.connectionSecretRef.name, 'local-postgresql');
    const s = await p.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'pave-system', name: 'local-postgresql' });
    assert.equal(Buffer.from(s.data.port, 'base64').toString(), String(local.port));
  });

  it('the example claim gives a database that psql reaches with the connection secret', async () => {
    const claim = readManifests([join(STARTER_PLATFORM_DIR, 'claims', 'postgres-database.yaml')])[0]!.object;
    await p.client.create(claim);
    await eventually(async () => condition(await p.client.get({ apiVersion: 'platform.pave.dev/v1alpha1', kind: 'PostgresDatabase', namespace: 'default', name: 'orders-db' }), 'Ready')?.status === 'True', 30_000, 'claim Ready');
    const secret = await eventually(async () => {
      const o = await p.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'orders-db' }).catch(() => undefined);
      return o?.data?.dsn ? o : undefined;
    }, 30_000, 'claim connection secret');
    const dsn = Buffer.from(secret.data.dsn, 'base64').toString();
    const psql = spawnSync('psql', [dsn, '-Atc', 'CREATE TABLE t (x int); INSERT INTO t VALUES (7); SELECT x FROM t'], { encoding: 'utf8' });
    assert.equal(psql.status, 0, psql.stderr);
    assert.equal(psql.stdout.trim().split('\n').pop(), '7');
  });

  it('survives an outage: Synced=False naming the backend, then Ready again soon after the server returns', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `outage-${i}`);
    for (const name of names) await p.client.create({ apiVersion: PG, kind: 'Database', metadata: { name }, spec: { providerConfigRef: { name: 'local' }, forProvider: {} } });
    const allReady = async () => (await p.client.list(PG, 'Database')).items.filter((o) => names.includes(o.metadata.name!)).every((o) => condition(o, 'Ready')?.status === 'True' && condition(o, 'Synced')?.status === 'True');
    await eventually(allReady, 30_000, 'databases Ready');

    await providersRuntime(p)!.backendsReady;
    const local = providersRuntime(p)!.localPostgres!;
    await local.stop();
    // Drift that needs the server: the reconciler must reach it to notice anything.
    await p.client.patch({ apiVersion: PG, kind: 'Database', name: 'outage-0' }, 'merge', { spec: { forProvider: { connectionLimit: 3 } } });
    const synced = await eventually(async () => {
      const c = condition(await p.client.get({ apiVersion: PG, kind: 'Database', name: 'outage-0' }), 'Synced');
      return c?.status === 'False' ? c : undefined;
    }, 15_000, 'Synced=False during the outage');
    assert.match(synced.message, new RegExp(`PostgreSQL 127\\.0\\.0\\.1:${local.port}`));

    await new Promise((r) => setTimeout(r, 3000));
    await local.start();
    const back = Date.now();
    await eventually(allReady, 15_000, 'databases Ready after the outage');
    const recovery = Date.now() - back;
    assert.ok(recovery < 5000, `Ready again ${recovery} ms after the server returned`);
  });
});
