/**
 * `npm run bench -- gitops [--apps N] [--pushes N]`: push-to-synced latency through the
 * built-in Git host, and a monorepo of N Applications (default 1000) each on its own path.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../src/api/log.js';
import { gitHostModule } from '../src/githost/index.js';
import { gitOpsModule } from '../src/gitops/index.js';
import { Platform } from '../src/platform.js';

const exec = promisify(execFile);
const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@example.com' };
const git = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd, env, maxBuffer: 256 * 1024 * 1024 })).stdout.trim();

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

function cm(name: string, value: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}


export async function run(args: string[]): Promise<Record<string, number | string>> {
  return runBench(args);
}

async function runBench(args: string[]): Promise<Record<string, number | string>> {
  const apps = arg(args, 'apps', 1000);
  const pushes = arg(args, 'pushes', 30);
  const dataDir = mkdtempSync(join(tmpdir(), 'pave-bench-gitops-'));
  const work = mkdtempSync(join(tmpdir(), 'pave-bench-wc-'));
  const gitops = gitOpsModule();
  const p = new Platform({ dataDir, port: 0, log: createLogger('silent'), modules: [gitHostModule(), gitops] });
  await p.start();
  const client = p.client;
  const createRepo = async (name: string) => {
    const res = await fetch(`${p.url}/api/git/repos`, { method: 'POST', headers: { authorization: `Bearer ${p.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ owner: 'bench', name }) });
    const body = (await res.json()) as { url: string };
    const dir = join(work, name);
    await exec('git', ['clone', '--quiet', body.url.replace('http://', `http://x:${p.adminToken}@`), dir], { env });
    await git(dir, 'checkout', '-q', '-B', 'main');
    return { url: body.url, dir };
  };
  const application = (name: string, repoURL: string, path: string) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: { project: 'default', source: { repoURL, targetRevision: 'HEAD', path }, destination: { server: 'https://kubernetes.default.svc', namespace: 'default' }, syncPolicy: { automated: { prune: true, selfHeal: true } } },
  });
  const app = (name: string) => client.get({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name });
  const value = async (name: string) => (await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name }).catch(() => undefined))?.data?.value;

  try {
    // push → synced, one app, one file
    const single = await createRepo('single');
    mkdirSync(join(single.dir, 'app'), { recursive: true });
    writeFileSync(join(single.dir, 'app', 'cm.yaml'), cm('latency', 'v0'));
    await git(single.dir, 'add', '-A');
    await git(single.dir, 'commit', '-q', '-m', 'v0');
    await git(single.dir, 'push', '-q', 'origin', 'HEAD:main');
    await client.create(application('latency', single.url, 'app'));
    await until(async () => (await value('latency')) === 'v0', 30_000, 'the first sync');
    const latencies: number[] = [];
    for (let i = 1; i <= pushes; i++) {
      writeFileSync(join(single.dir, 'app', 'cm.yaml'), cm('latency', `v${i}`));
      await git(single.dir, 'commit', '-q', '-am', `v${i}`);
      const sha = await git(single.dir, 'rev-parse', 'HEAD');
      const t0 = performance.now();
      await git(single.dir, 'push', '-q', 'origin', 'HEAD:main');
      await until(async () => {
        const a = await app('latency');
        return a.status?.sync?.status === 'Synced' && a.status?.sync?.revision === sha && (await value('latency')) === `v${i}`;
      }, 30_000, `push ${i} to be synced`);
      latencies.push(performance.now() - t0);
    }

    // monorepo: N apps, each its own path
    const mono = await createRepo('mono');
    for (let i = 0; i < apps; i++) {
      const dir = join(mono.dir, 'apps', `app-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cm.yaml'), cm(`mono-${i}`, 'v0'));
    }
    await git(mono.dir, 'add', '-A');
    await git(mono.dir, 'commit', '-q', '-m', 'monorepo');
    await git(mono.dir, 'push', '-q', 'origin', 'HEAD:main');
    const coldStart = performance.now();
    for (let i = 0; i < apps; i++) await client.create(application(`mono-${i}`, mono.url, `apps/app-${i}`));
    await until(async () => {
      const list = await client.list('argoproj.io/v1alpha1', 'Application', { namespace: 'argocd' });
      return list.items.filter((a) => a.metadata.name!.startsWith('mono-') && a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy').length === apps;
    }, 600_000, 'every monorepo app to be Synced');
    const coldMs = performance.now() - coldStart;
    await p.manager.settle(200, 120_000);

    const target = Math.floor(apps / 2);
    const rendersBefore = gitops.repoService()!.renders;
    writeFileSync(join(mono.dir, 'apps', `app-${target}`, 'cm.yaml'), cm(`mono-${target}`, 'v1'));
    await git(mono.dir, 'commit', '-q', '-am', 'one path');
    const sha = await git(mono.dir, 'rev-parse', 'HEAD');
    const t0 = performance.now();
    await git(mono.dir, 'push', '-q', 'origin', 'HEAD:main');
    await until(async () => {
      const a = await app(`mono-${target}`);
      return a.status?.sync?.status === 'Synced' && a.status?.sync?.revision === sha && (await value(`mono-${target}`)) === 'v1';
    }, 120_000, 'the touched monorepo app to be synced');
    const onePathMs = performance.now() - t0;
    await p.manager.settle(200, 120_000);
    const rendered = gitops.repoService()!.renders - rendersBefore;

    return {
      push_to_synced_p50_ms: Math.round(percentile(latencies, 50)),
      push_to_synced_p99_ms: Math.round(percentile(latencies, 99)),
      pushes,
      monorepo_apps: apps,
      monorepo_one_path_ms: Math.round(onePathMs),
      monorepo_rendered_apps: rendered,
      cold_refresh_1000_apps_s: Math.round(coldMs / 100) / 10,
      rss_mb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    };
  } finally {
    await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
