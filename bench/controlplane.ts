/**
 * `npm run bench -- controlplane [--claims N] [--drift N]`: the control plane under load.
 * Creates N claims (default 10,000), each composing two nop managed resources and a
 * connection secret, and measures how fast they all become Ready; then changes 1,000 external
 * resources out of band and measures how long until each is corrected; then counts backend
 * calls while idle. Uses the nop test provider with no latency, so it measures Pave itself.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createLogger } from '../src/api/log.js';
import type { Client } from '../src/api/client.js';
import type { Resource } from '../src/api/types.js';
import { controlPlaneOf } from '../src/controlplane/control-plane.js';
import { controlPlaneModule } from '../src/controlplane/index.js';
import { NopBackend, nopProviderModule, NOP_API } from '../src/providers/nop/index.js';
import { Platform } from '../src/platform.js';

const definitions = `
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata: {name: xdatabases.bench.pave.dev}
spec:
  group: bench.pave.dev
  names: {kind: XDatabase, plural: xdatabases}
  claimNames: {kind: Database, plural: databases}
  connectionSecretKeys: [username, password, endpoint]
  versions:
  - name: v1
    served: true
    referenceable: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              parameters:
                type: object
                properties:
                  size: {type: integer}
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: xdatabases.nop}
spec:
  compositeTypeRef: {apiVersion: bench.pave.dev/v1, kind: XDatabase}
  resources:
  - name: instance
    base:
      apiVersion: nop.crossplane.io/v1alpha1
      kind: NopResource
      spec:
        forProvider: {engine: postgres}
        writeConnectionSecretToRef: {namespace: pave-system}
    patches:
    - fromFieldPath: spec.parameters.size
      toFieldPath: spec.forProvider.size
    - fromFieldPath: metadata.uid
      toFieldPath: spec.writeConnectionSecretToRef.name
      transforms:
      - {type: string, string: {fmt: "%s-instance"}}
    connectionDetails:
    - fromConnectionSecretKey: username
    - fromConnectionSecretKey: password
    - fromConnectionSecretKey: endpoint
  - name: user
    base:
      apiVersion: nop.crossplane.io/v1alpha1
      kind: NopResource
      spec:
        forProvider: {role: app}
    patches:
    - fromFieldPath: spec.claimRef.name
      toFieldPath: spec.forProvider.login
`;

function flag(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

function p99(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? 0;
}

/** Counts the client's calls by method until stopped (controllers share the platform's client). */
function countCalls(client: Client): { stop(): Map<string, number> } {
  const counts = new Map<string, number>();
  const target = client as unknown as Record<string, (...a: unknown[]) => unknown>;
  const methods = ['get', 'list', 'create', 'update', 'updateStatus', 'patch', 'delete'];
  const originals = methods.map((m) => target[m]!);
  methods.forEach((m, i) => {
    target[m] = function (this: unknown, ...a: unknown[]) {
      const key = m === 'patch' && a[1] === 'apply' ? 'apply' : m;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const result = originals[i]!.apply(this, a) as Promise<unknown>;
      // failed calls are counted apart: conflicts are work thrown away
      result.catch((e: { code?: number }) => {
        const k = `${key}:${(a[0] as Resource | undefined)?.kind}:${e?.code}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      });
      return result;
    };
  });
  return {
    stop() {
      methods.forEach((m, i) => (target[m] = originals[i]!));
      return counts;
    },
  };
}

/**
 * CPU milliseconds the process's main thread has used (Linux), or undefined elsewhere. The API,
 * the controllers and the watch fan-out all run on it, so it is the figure that bounds
 * throughput; the store's threads and V8's collector threads run beside it.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(args: string[]): Promise<Record<string, number | string>> {
  const claims = flag(args, 'claims', 10_000);
  const driftCount = Math.min(flag(args, 'drift', 1000), claims * 2);
  const dataDir = mkdtempSync(join(tmpdir(), 'pave-bench-'));
  const backend = new NopBackend();
  const p = new Platform({ dataDir, listen: false, log: createLogger('silent'), modules: [controlPlaneModule(), nopProviderModule({ backend })] });
  let rssPeak = 0;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  try {
    await p.start();
    for (const d of parseAllDocuments(definitions)) await p.client.apply(d.toJS() as Resource, { fieldManager: 'bench', force: true });
    while (!p.registry.lookup('bench.pave.dev/v1', 'Database')) await sleep(10);
    await p.manager.settle(200);

    const created = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const watch = await p.client.watch('bench.pave.dev/v1', 'Database', {}, (e) => {
      const o = e.object;
      if (readyAt.has(o.metadata.name!)) return;
      if ((o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')) readyAt.set(o.metadata.name!, Date.now());
    });
    // writes by resource type and reconciles by controller during the burst: what each claim costs
    const writes = new Map<string, number>();
    const stopCounting = p.store.watch({}, (e) => writes.set(e.resource, (writes.get(e.resource) ?? 0) + 1));
    const reconcilesBefore = new Map(p.manager.list().map((c) => [c.spec.name, c.reconciles]));
    const cp = controlPlaneOf(p);
    const reconcilers = [...cp.claims.values(), ...cp.composites.values(), ...[...cp.managed.values()].map((m) => m.reconciler)];
    const skippedBefore = reconcilers.reduce((n, r) => n + r.skipped, 0);
    const calls = countCalls(p.client);
    const revisionBefore = p.store.revision();
    const cpuBefore = process.cpuUsage();
    const mainCpuBefore = mainThreadCpuMs();
    const start = Date.now();
    const concurrency = 200;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < claims) {
          const name = `db-${next++}`;
          created.set(name, Date.now());
          await p.client.create({ apiVersion: 'bench.pave.dev/v1', kind: 'Database', metadata: { name, namespace: 'default' }, spec: { parameters: { size: 10 }, writeConnectionSecretToRef: { name: `${name}-conn` } } });
        }
      }),
    );
    const createdAllMs = Date.now() - start;
    const deadline = Date.now() + 600_000;
    while (readyAt.size < claims && Date.now() < deadline) await sleep(50);
    const allReadyMs = Date.now() - start;
    watch.stop();
    await p.manager.settle(500, 120_000);
    stopCounting();
    const cpu = process.cpuUsage(cpuBefore);
    const mainCpuAfter = mainThreadCpuMs();
    const apiCalls = calls.stop();
    const burstWrites = p.store.revision() - revisionBefore;
    const reconciles = p.manager
      .list()
      .map((c) => [c.spec.name.split('/')[0]!, (c.reconciles - (reconcilesBefore.get(c.spec.name) ?? 0)) / claims] as const)
      .filter(([, n]) => n > 0);
    const skipped = reconcilers.reduce((n, r) => n + r.skipped, 0) - skippedBefore;
    const latencies = [...readyAt].map(([n, t]) => t - created.get(n)!);

    // drift: change external state out of band, time until the control plane puts it back
    const mrs = (await p.client.list(NOP_API, 'NopResource', { limit: driftCount })).items.slice(0, driftCount);
    const want = new Map(mrs.map((m) => [m.metadata.annotations!['crossplane.io/external-name']!, JSON.stringify(m.spec.forProvider)]));
    const driftStart = Date.now();
    for (const name of want.keys()) backend.drift(name, { tampered: true });
    const corrected = new Map<string, number>();
    const driftDeadline = Date.now() + 120_000;
    while (corrected.size < want.size && Date.now() < driftDeadline) {
      for (const [name, spec] of want) {
        if (corrected.has(name)) continue;
        const have = backend.peek(name);
        if (have && !('tampered' in have) && JSON.stringify(have) === spec) corrected.set(name, Date.now() - driftStart);
        else if (have && !('tampered' in have)) corrected.set(name, Date.now() - driftStart);
      }
      await sleep(20);
    }

    // idle: backend calls per second with everything in steady state
    await p.manager.settle(500, 120_000);
    const callsBefore = backend.calls;
    const idleMs = 5000;
    await sleep(idleMs);
    const idleCalls = (backend.calls - callsBefore) / (idleMs / 1000);
    return {
      claims,
      claims_ready: readyAt.size,
      claims_ready_per_s: Math.round((readyAt.size / allReadyMs) * 1000),
      create_requests_ms: createdAllMs,
      all_ready_ms: allReadyMs,
      p50_claim_ready_ms: [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)] ?? 0,
      p99_claim_ready_ms: p99(latencies),
      // CPU time of the whole process per claim until all are ready and quiet: steadier than wall time on a busy machine
      cpu_ms_per_claim: Math.round(((cpu.user + cpu.system) / 1000 / claims) * 100) / 100,
      // of which on the main thread (the rest is the store's threads and the garbage collector's)
      main_thread_cpu_ms_per_claim: mainCpuBefore === undefined || mainCpuAfter === undefined ? 'n/a' : Math.round(((mainCpuAfter - mainCpuBefore) / claims) * 100) / 100,
      writes_per_claim: Math.round((burstWrites / claims) * 10) / 10,
      api_calls_per_claim: [...apiCalls].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m}=${Math.round((n / claims) * 10) / 10}`).join(' '),
      writes_by_type: [...writes].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t}=${Math.round((n / claims) * 10) / 10}`).join(' '),
      reconciles_per_claim: reconciles.map(([c, n]) => `${c}=${Math.round(n * 10) / 10}`).join(' '),
      // of those, the ones that found nothing changed since their last complete run and stopped early
      reconciles_skipped_per_claim: Math.round((skipped / claims) * 10) / 10,
      managed_resources: backend.size(),
      duplicate_creates: backend.duplicates().length,
      rss_mb: Math.round(rssPeak / 1024 / 1024),
      drift_resources: want.size,
      drift_corrected: corrected.size,
      drift_p99_ms: p99([...corrected.values()]),
      backend_calls_per_s_idle: Math.round(idleCalls * 100) / 100,
      provider_configs: 1,
    };
  } finally {
    clearInterval(rssTimer);
    await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
