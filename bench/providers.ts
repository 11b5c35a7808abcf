/**
 * `npm run bench -- providers [--postgres URL] [--databases N]`: provisioning and drift figures
 * against a real PostgreSQL (the one at --postgres, default postgresql://postgres@127.0.0.1:5432;
 * `--postgres embedded` uses the local cloud's embedded server), and DNS failover on the
 * built-in DNS server.
 *
 * pg_claim_ready_p50_ms   one PostgresDatabase claim (database + role + grant) to Ready, median of 20
 * pg_100_claims_ready_s   100 claims created at once, until all are Ready
 * pg_drift_p99_ms         N managed Databases (default 1000), 50 dropped out of band one after another,
 *                         from each drop until it exists again
 * pg_idle_queries_per_s   statements provider-sql sends per second in steady state at N databases
 * dns_failover_ms         primary health endpoint down → DNS answers the secondary (interval 1 s, threshold 2)
 *
 * The outage phase (`--outage-databases N`, default 1000; `--outage-seconds S`, default 30) runs
 * against an embedded PostgreSQL of its own, which it stops for S seconds under N managed Databases:
 * outage_synced_false      Databases reporting Synced=False (with a message naming the server) at the end of the outage
 * outage_attempts_per_s    connection attempts that reached the stopped server's port, per second
 * outage_statements_per_s  statements the reconcilers asked for during the outage (refused or attempted), per second
 * outage_recovery_ms       server accepting connections again → every Database Ready=True and Synced=True
 * `--only outage` runs that phase alone.
 */
import { Resolver } from 'node:dns/promises';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../src/api/log.js';
import type { Resource } from '../src/api/types.js';
import { controlPlaneModule } from '../src/controlplane/index.js';
import { Platform } from '../src/platform.js';
import { providersModule, providersRuntime, type ProvidersRuntime } from '../src/providers/index.js';
import { LocalPostgres } from '../src/providers/local-cloud.js';

const PG = 'postgresql.sql.crossplane.io/v1alpha1';
const XR = 'platform.pave.dev/v1alpha1';

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

const ready = (o: Resource | undefined) => (o?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
const progress = (what: string) => process.stderr.write(`providers bench: ${what}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

export async function run(args: string[]): Promise<Record<string, number | string>> {
  const target = arg(args, '--postgres', 'postgresql://postgres@127.0.0.1:5432/postgres');
  const databases = Number(arg(args, '--databases', '1000'));
  const dataDir = mkdtempSync(join(tmpdir(), 'pave-bench-providers-'));
  const settings: Record<string, string> = { 'starter-platform': 'true', 'dns-port': '0' };
  if (target === 'embedded') settings['local-cloud'] = 'true';
  else settings.postgres = target;
  const p = new Platform({ dataDir, listen: false, log: createLogger(process.env.PAVE_BENCH_LOG ?? 'silent'), modules: [controlPlaneModule(), providersModule()], settings });
  await p.start();
  const rt = providersRuntime(p)!;
  await rt.backendsReady;
  const adminUrl = target === 'embedded' ? `postgresql://postgres:${encodeURIComponent(rt.localPostgres!.password)}@127.0.0.1:${rt.localPostgres!.port}/postgres` : target;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const tag = Date.now().toString(36);
  const figures: Record<string, number | string> = { postgres: target === 'embedded' ? 'embedded' : 'external' };
  const only = arg(args, '--only', '');
  try {
    if (only !== 'outage') await provisioningAndDrift(p, rt, admin, adminUrl, tag, databases, figures);
    if (!only || only === 'outage') {
      progress('backend outage');
      Object.assign(figures, await outage(p, rt, dataDir, Number(arg(args, '--outage-databases', '1000')), Number(arg(args, '--outage-seconds', '30'))));
    }
  } finally {
    // cleanup: managed resources first (they drop what they made), then the platform
    for (const kind of ['PostgresDatabase']) {
      for (const o of (await p.client.list(XR, kind, { namespace: 'default' })).items) await p.client.delete({ apiVersion: XR, kind, namespace: 'default', name: o.metadata.name! }).catch(() => undefined);
    }
    for (const o of (await p.client.list(PG, 'Database')).items) await p.client.delete({ apiVersion: PG, kind: 'Database', name: o.metadata.name! }).catch(() => undefined);
    const cleanupDeadline = Date.now() + 120_000;
    while (Date.now() < cleanupDeadline && (await p.client.list(PG, 'Database')).items.length + (await p.client.list(PG, 'Role')).items.length > 0) await sleep(200);
    await admin.end();
    await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}

async function provisioningAndDrift(p: Platform, rt: ProvidersRuntime, admin: pg.Client, adminUrl: string, tag: string, databases: number, figures: Record<string, number | string>): Promise<void> {
  progress('claims one at a time');
  // 1. one claim at a time
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const name = `b${tag}-one-${i}`;
    const t0 = performance.now();
    await p.client.create({ apiVersion: XR, kind: 'PostgresDatabase', metadata: { name, namespace: 'default' }, spec: { writeConnectionSecretToRef: { name } } });
    while (!ready(await p.client.get({ apiVersion: XR, kind: 'PostgresDatabase', namespace: 'default', name }))) await sleep(5);
    latencies.push(performance.now() - t0);
  }
  figures.pg_claim_ready_p50_ms = Math.round(percentile(latencies, 0.5));

  progress('100 claims at once');
  // 2. a hundred at once
  const t1 = performance.now();
  const many = Array.from({ length: 100 }, (_, i) => `b${tag}-many-${i}`);
  await Promise.all(many.map((name) => p.client.create({ apiVersion: XR, kind: 'PostgresDatabase', metadata: { name, namespace: 'default' }, spec: { writeConnectionSecretToRef: { name } } })));
  for (;;) {
    const items = (await p.client.list(XR, 'PostgresDatabase', { namespace: 'default' })).items.filter((o) => many.includes(o.metadata.name!));
    if (items.length === many.length && items.every(ready)) break;
    await sleep(20);
  }
  figures.pg_100_claims_ready_s = Number(((performance.now() - t1) / 1000).toFixed(2));

  // The claims go before the scale phase, so the figures below are about the N databases alone.
  await Promise.all([...many, ...Array.from({ length: 20 }, (_, i) => `b${tag}-one-${i}`)].map((name) => p.client.delete({ apiVersion: XR, kind: 'PostgresDatabase', namespace: 'default', name })));
  while ((await p.client.list(PG, 'Role')).items.length > 0) await sleep(100);

  progress(`${databases} databases`);
  // 3. drift at scale: N databases, 50 dropped out of band
  const names = Array.from({ length: databases }, (_, i) => `b${tag}-db-${i}`);
  const t2 = performance.now();
  await Promise.all(names.map((name) => p.client.create({ apiVersion: PG, kind: 'Database', metadata: { name }, spec: { providerConfigRef: { name: 'local' }, forProvider: {} } })));
  for (;;) {
    const items = (await p.client.list(PG, 'Database')).items.filter((o) => o.metadata.name!.startsWith(`b${tag}-db-`));
    if (items.length === names.length && items.every(ready)) break;
    await sleep(100);
  }
  figures.pg_databases_ready_s = Number(((performance.now() - t2) / 1000).toFixed(1));
  await sleep(2000);

  progress('steady state, then drift');
  // steady state: statements per second with nothing changing
  const q0 = rt.postgres.queries();
  const idleSeconds = 10;
  await sleep(idleSeconds * 1000);
  figures.pg_idle_queries_per_s = Number(((rt.postgres.queries() - q0) / idleSeconds).toFixed(2));

  const dropped = names.filter((_, i) => i % Math.floor(databases / 50) === 0).slice(0, 50);
  const droppedAt = new Map<string, number>();
  const healed = new Map<string, number>();
  // Watched from the first drop on, on a connection of its own: a database put back while later
  // ones are still being dropped counts from its own drop to its return.
  const watcher = new pg.Client({ connectionString: adminUrl });
  await watcher.connect();
  let dropping = true;
  const watching = (async () => {
    const deadline = performance.now() + 120_000;
    while ((dropping || healed.size < dropped.length) && performance.now() < deadline) {
      const gone = [...droppedAt.keys()].filter((n) => !healed.has(n));
      if (gone.length) {
        const rows = (await watcher.query('SELECT datname FROM pg_database WHERE datname = ANY($1) AND datconnlimit <> -2', [gone])).rows as { datname: string }[];
        const now = performance.now();
        for (const r of rows) healed.set(r.datname, now - droppedAt.get(r.datname)!);
      }
      await sleep(10);
    }
  })();
  const dropStart = performance.now();
  for (const name of dropped) {
    await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
    droppedAt.set(name, performance.now());
  }
  dropping = false;
  // PostgreSQL runs DROP and CREATE DATABASE one at a time, so the drops and the repairs share it.
  figures.pg_drift_drops_took_s = Number(((performance.now() - dropStart) / 1000).toFixed(1));
  await watching;
  await watcher.end();
  figures.pg_drift_recreated = `${healed.size}/${dropped.length}`;
  figures.pg_drift_p50_ms = healed.size ? Math.round(percentile([...healed.values()], 0.5)) : -1;
  figures.pg_drift_p99_ms = healed.size === dropped.length ? Math.round(percentile([...healed.values()], 0.99)) : -1;

  progress('DNS failover');
  // 4. DNS failover, interval 1 s, threshold 2
  figures.dns_failover_ms = await dnsFailover(p, rt.dns.port);
}

async function dnsFailover(p: Platform, port: number): Promise<number> {
  let up = true;
  const health = createServer((_req, res) => {
    res.statusCode = up ? 200 : 503;
    res.end();
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(health.address() as { port: number }).port}/healthz`;
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  try {
    await p.client.create({
      apiVersion: 'dns.pave.dev/v1alpha1',
      kind: 'Record',
      metadata: { name: 'bench-failover' },
      spec: { forProvider: { name: 'failover.bench.pave', type: 'A', ttl: 0, failover: { primary: { targets: ['10.0.0.1'], healthCheck: { type: 'HTTP', url, intervalSeconds: 1, failureThreshold: 2 } }, secondary: { targets: ['10.0.0.2'] } } } },
    });
    while ((await resolver.resolve4('failover.bench.pave').catch(() => []))[0] !== '10.0.0.1') await sleep(20);
    await sleep(1500); // let the probe settle into its interval, as in steady state
    up = false;
    const t = performance.now();
    while ((await resolver.resolve4('failover.bench.pave'))[0] !== '10.0.0.2') await sleep(10);
    return Math.round(performance.now() - t);
  } finally {
    health.close();
    await p.client.delete({ apiVersion: 'dns.pave.dev/v1alpha1', kind: 'Record', name: 'bench-failover' }).catch(() => undefined);
  }
}

/**
 * N Databases on an embedded PostgreSQL of their own, which is stopped for `seconds` and started
 * again on the same port: what users see meanwhile (conditions), what the server's port sees
 * (connection attempts), and how long until everything is Ready and Synced again.
 */
async function outage(p: Platform, rt: ProvidersRuntime, dataDir: string, n: number, seconds: number): Promise<Record<string, number | string>> {
  mkdirSync(join(dataDir, 'outage'), { recursive: true });
  chmodSync(dataDir, 0o711); // as root the server runs as `postgres`, which must reach its directory
  const server = new LocalPostgres(join(dataDir, 'outage'), createLogger('silent'));
  await server.start();
  const label = `PostgreSQL 127.0.0.1:${server.port}`;
  const out: Record<string, number | string> = { outage_databases: n, outage_s: seconds };
  const prefix = `outage-${Date.now().toString(36)}-`;
  const mine = async () => (await p.client.list(PG, 'Database')).items.filter((o) => o.metadata.name!.startsWith(prefix));
  const cond = (o: Resource, type: string) => (o.status?.conditions ?? []).find((c: { type: string }) => c.type === type) as { status: string; message?: string } | undefined;
  try {
    await p.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'outage-postgresql', namespace: 'default' }, data: { endpoint: b64('127.0.0.1'), port: b64(String(server.port)), username: b64('postgres'), password: b64(server.password) } });
    await p.client.create({ apiVersion: PG, kind: 'ProviderConfig', metadata: { name: 'outage' }, spec: { credentials: { source: 'PostgreSQLConnectionSecret', connectionSecretRef: { name: 'outage-postgresql', namespace: 'default' } }, sslmode: 'disable' } });
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => p.client.create({ apiVersion: PG, kind: 'Database', metadata: { name: `${prefix}${i}` }, spec: { providerConfigRef: { name: 'outage' }, forProvider: {} } })));
    while (!((await mine()).filter(ready).length === n)) await sleep(200);
    out.outage_databases_ready_s = Number(((performance.now() - t0) / 1000).toFixed(1));
    await sleep(3000); // steady state before the outage

    const pool = rt.postgres.list().find((s) => s.credentials.port === server.port)!;
    const before = { attempts: pool.breaker.failedAttempts, refused: pool.breaker.refused, queries: pool.queries };
    progress(`stopping the embedded PostgreSQL for ${seconds} s under ${n} Databases`);
    const stoppedAt = performance.now();
    // the outage starts with the stop request: a stopping server refuses new sessions at once
    let stopMs = -1;
    const stopping = server.stop().then(() => (stopMs = Math.round(performance.now() - stoppedAt)));
    let allFalseMs = -1;
    while (performance.now() - stoppedAt < seconds * 1000 || stopMs < 0) {
      const unsynced = (await mine()).filter((o) => cond(o, 'Synced')?.status === 'False').length;
      if (unsynced === n && allFalseMs < 0) allFalseMs = Math.round(performance.now() - stoppedAt);
      await sleep(500);
    }
    await stopping;
    out.outage_stop_took_ms = stopMs;
    const during = (performance.now() - stoppedAt) / 1000;
    const items = await mine();
    const unsynced = items.filter((o) => cond(o, 'Synced')?.status === 'False');
    out.outage_synced_false = `${unsynced.length}/${n}`;
    out.outage_all_synced_false_ms = allFalseMs;
    out.outage_message_names_backend = unsynced.length > 0 && unsynced.every((o) => cond(o, 'Synced')!.message!.includes(label)) ? 'yes' : 'no';
    if (unsynced[0]) out.outage_message = cond(unsynced[0], 'Synced')!.message!.slice(0, 160);
    out.outage_attempts_per_s = Number(((pool.breaker.failedAttempts - before.attempts) / during).toFixed(2));
    out.outage_statements_per_s = Number(((pool.queries - before.queries + pool.breaker.refused - before.refused) / during).toFixed(2));

    progress('starting it again');
    await server.start(server.port);
    const backAt = performance.now();
    let recovered = 0;
    while (performance.now() - backAt < 120_000) {
      const now = await mine();
      recovered = now.filter((o) => cond(o, 'Ready')?.status === 'True' && cond(o, 'Synced')?.status === 'True').length;
      if (recovered === n) break;
      await sleep(50);
    }
    out.outage_recovery_ms = recovered === n ? Math.round(performance.now() - backAt) : -1;
    out.outage_recovered = `${recovered}/${n}`;
  } finally {
    for (const o of await mine()) await p.client.delete({ apiVersion: PG, kind: 'Database', name: o.metadata.name! }).catch(() => undefined);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await mine()).length > 0) await sleep(200);
    await p.client.delete({ apiVersion: PG, kind: 'ProviderConfig', name: 'outage' }).catch(() => undefined);
    await server.stop();
  }
  return out;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}
