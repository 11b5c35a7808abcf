/**
 * Scenario `api`: the resource API's throughput and latency on this machine.
 *   npm run bench -- api [--objects 100000]
 * In-process creates run against an embedded platform; everything else against `pave up` in a
 * separate process, driven over HTTP from this one (so client and server each get a core).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createLogger } from '../src/api/log.js';
import { Platform } from '../src/platform.js';
import { tempDir } from '../test/support/platform.js';
import { freePort, startPaveProcess, stopProcess } from '../test/support/process.js';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const pad = 'x'.repeat(330);
function configMap(i: number) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `obj-${i}`, namespace: 'default', labels: { shard: `s${i % 100}`, app: 'bench' } }, data: { index: String(i), pad } };
}

async function inprocCreates(n: number): Promise<number> {
  const dir = tempDir('pave-bench-');
  const p = new Platform({ dataDir: dir, listen: false, modules: [], log: createLogger('silent') });
  await p.start();
  const start = performance.now();
  const batch = 64;
  for (let i = 0; i < n; i += batch) {
    const ps = [];
    for (let j = i; j < Math.min(n, i + batch); j++) ps.push(p.client.create(configMap(j)));
    await Promise.all(ps);
  }
  const rate = n / ((performance.now() - start) / 1000);
  await p.stop();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function httpLoad(url: string, n: number, clients: number, make: (i: number) => { method: 'GET' | 'POST'; path: string; body?: string }, expect: number): Promise<number> {
  const agent = new Agent({ connections: clients, pipelining: 1 });
  let next = 0;
  let failures = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < n; i = next++) {
        const r = make(i);
        const res = await request(url + r.path, { method: r.method, body: r.body, headers: r.body ? { 'content-type': 'application/json' } : {}, dispatcher: agent });
        await res.body.text();
        if (res.statusCode !== expect) failures++;
      }
    }),
  );
  const rate = n / ((performance.now() - start) / 1000);
  await agent.close();
  if (failures) throw new Error(`${failures} of ${n} requests did not answer ${expect}`);
  return rate;
}

async function watchLatency(url: string, watchers: number, writes: number): Promise<number> {
  const agent = new Agent({ connections: watchers + 4 });
  const latencies: number[] = [];
  let sentAt = 0;
  let pendingForWrite = 0;
  let resolveWrite: (() => void) | undefined;
  const streams = await Promise.all(
    Array.from({ length: watchers }, async () => {
      const ac = new AbortController();
      const res = await request(`${url}/k8s/api/v1/namespaces/watched/configmaps?watch=true`, { dispatcher: agent, signal: ac.signal });
      void (async () => {
        try {
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            // count events without decoding: the measure is the server's fan-out, not JSON parsing here
            let n = 0;
            for (let at = chunk.indexOf('"ADDED"'); at >= 0; at = chunk.indexOf('"ADDED"', at + 7)) n++;
            for (let i = 0; i < n; i++) {
              latencies.push(performance.now() - sentAt);
              if (--pendingForWrite === 0) resolveWrite?.();
            }
          }
        } catch {
          // aborted at the end
        }
      })();
      return ac;
    }),
  );
  const all: number[] = [];
  for (let w = 0; w < writes; w++) {
    latencies.length = 0;
    pendingForWrite = watchers;
    const done = new Promise<void>((r) => (resolveWrite = r));
    sentAt = performance.now();
    const res = await request(`${url}/k8s/api/v1/namespaces/watched/configmaps`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${w}` } }) });
    await res.body.text();
    await done;
    all.push(Math.max(...latencies));
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const s of streams) s.abort();
  await agent.close();
  return percentile(all, 99);
}

const hasWrk = spawnSync('sh', ['-c', 'command -v wrk']).status === 0;

/**
 * Throughput with wrk (Debian's package), a C load generator, when it is installed: a Node
 * client on this 2-core machine saturates before the server does. 16 keep-alive connections.
 */
function wrkLoad(url: string, seconds: number, script: string): Promise<{ rate: number; non2xx: number }> {
  const dir = tempDir('pave-bench-wrk-');
  const file = join(dir, 'load.lua');
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    const c = spawn('wrk', ['-t1', '-c16', `-d${seconds}s`, '-s', file, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', () => {
      rmSync(dir, { recursive: true, force: true });
      const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (!rate) return reject(new Error(`wrk printed no rate:\n${out}`));
      resolve({ rate: Number(rate[1]), non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) });
    });
  });
}

const wrkCreates = `
counter = 0
request = function()
  counter = counter + 1
  local body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"wrk-' .. counter .. '-' .. math.random(1, 1000000000) .. '","namespace":"default","labels":{"shard":"s' .. (counter % 100) .. '","app":"bench"}},"data":{"pad":"${pad}"}}'
  return wrk.format("POST", "/k8s/api/v1/namespaces/default/configmaps", {["Content-Type"] = "application/json"}, body)
end
`;

const wrkGets = `
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/k8s/api/v1/namespaces/default/configmaps/obj-" .. (counter % 20000))
end
`;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

export async function run(args: string[]): Promise<Record<string, number | string>> {
  const objects = arg(args, 'objects', 100_000);
  const inproc_creates_per_s = Math.round(await inprocCreates(20_000));

  const dataDir = tempDir('pave-bench-http-');
  const port = await freePort();
  let server = await startPaveProcess(dataDir, port, ['--no-local-cloud', '--no-starter-platform', '--dns-port', '0']);
  const url = server.url;
  // 20,000 objects to read back, then the measured runs
  const seeded = await httpLoad(url, 20_000, 16, (i) => ({ method: 'POST', path: '/k8s/api/v1/namespaces/default/configmaps', body: JSON.stringify(configMap(i)) }), 201);
  let http_creates_per_s: number;
  let http_gets_per_s: number;
  let wrkCreated = 0;
  if (hasWrk) {
    const creates = await wrkLoad(url, 5, wrkCreates);
    const gets = await wrkLoad(url, 5, wrkGets);
    if (creates.non2xx || gets.non2xx) throw new Error(`wrk saw ${creates.non2xx + gets.non2xx} failed requests`);
    http_creates_per_s = Math.round(creates.rate);
    http_gets_per_s = Math.round(gets.rate);
    wrkCreated = Math.round(creates.rate * 5);
  } else {
    http_creates_per_s = Math.round(seeded);
    http_gets_per_s = Math.round(await httpLoad(url, 60_000, 16, (i) => ({ method: 'GET', path: `/k8s/api/v1/namespaces/default/configmaps/obj-${i % 20_000}` }), 200));
  }

  await request(`${url}/k8s/api/v1/namespaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } }) }).then((r) => r.body.text());
  const watch_p99_ms = Math.round((await watchLatency(url, 1000, 20)) * 10) / 10;

  if (objects > 20_000 + wrkCreated) await httpLoad(url, objects - 20_000 - wrkCreated, 16, (i) => ({ method: 'POST', path: '/k8s/api/v1/namespaces/default/configmaps', body: JSON.stringify(configMap(i + 20_000)) }), 201);
  const listTimes: number[] = [];
  let listed = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const res = await request(`${url}/k8s/api/v1/namespaces/default/configmaps?labelSelector=shard%3Ds7`);
    const body = JSON.parse(await res.body.text());
    listTimes.push(performance.now() - t);
    listed = body.items.length;
  }
  const list_100k_selector_ms = Math.round(percentile(listTimes, 50) * 10) / 10;
  const rss_mb_100k = rssMb(server.child.pid!);

  await stopProcess(server.child);
  server = await startPaveProcess(dataDir, port, ['--no-local-cloud', '--no-starter-platform', '--dns-port', '0']);
  const startup_ms = server.readyMs;
  await stopProcess(server.child);
  rmSync(dataDir, { recursive: true, force: true });

  // the same on a data directory of a plain `pave up`: embedded PostgreSQL and starter platform
  const fullDir = tempDir('pave-bench-full-');
  const first = await startPaveProcess(fullDir, port, ['--dns-port', '0']);
  await new Promise((r) => setTimeout(r, 3000));
  await stopProcess(first.child);
  const again = await startPaveProcess(fullDir, port, ['--dns-port', '0']);
  const startup_full_ms = again.readyMs;
  await stopProcess(again.child);
  rmSync(fullDir, { recursive: true, force: true });
  return { startup_full_ms, load_client: hasWrk ? 'wrk' : 'undici', inproc_creates_per_s, http_creates_per_s, http_gets_per_s, watch_p99_ms, list_100k_selector_ms, list_selected_items: listed, stored_objects: objects, rss_mb_100k, startup_ms };
}
