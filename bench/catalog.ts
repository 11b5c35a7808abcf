/**
 * `npm run bench -- catalog [scale]`: ingests a generated org (1,000 groups, 5,000 users,
 * 50,000 components, 20,000 APIs, 24,000 resources at scale 1) from catalog files through
 * registered Locations, then measures the catalog API over HTTP and template task → commit.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../src/api/log.js';
import { gitHostModule } from '../src/githost/index.js';
import { Platform } from '../src/platform.js';
import { portalModule, portalOf } from '../src/portal/index.js';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Writes the org as catalog files of 1,000 entities each; returns their paths. */
function generate(dir: string, scale: number): { files: string[]; total: number; groups: number } {
  const groups = Math.round(1000 * scale);
  const users = Math.round(5000 * scale);
  const components = Math.round(50000 * scale);
  const apis = Math.round(20000 * scale);
  const resources = Math.round(24000 * scale);
  const systems = Math.max(1, Math.round(groups / 2));
  const entities: object[] = [];
  for (let i = 0; i < groups; i++) {
    entities.push({ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: `group-${i}`, description: `Team ${i}` }, spec: { type: 'team', profile: { displayName: `Team ${i}` }, parent: i === 0 ? undefined : `group-${Math.floor((i - 1) / 10)}`, children: [] } });
  }
  for (let i = 0; i < users; i++) {
    entities.push({ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: `user-${i}` }, spec: { profile: { displayName: `User ${i}`, email: `user-${i}@example.com` }, memberOf: [`group-${i % groups}`] } });
  }
  const types = ['service', 'website', 'library', 'worker', 'batch'];
  for (let i = 0; i < components; i++) {
    const owner = `group-${i % groups}`;
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: `svc-${i}`, title: `Service ${i}`, description: `Component number ${i}`, tags: ['generated', types[i % 5]!], annotations: { 'backstage.io/source-location': `url:http://git.example.com/svc-${i}` } },
      spec: { type: types[i % 5], lifecycle: i % 3 ? 'production' : 'experimental', owner, system: `system-${i % systems}`, providesApis: i < apis ? [`api-${i}`] : [], consumesApis: [`api-${(i * 7) % apis}`], dependsOn: [`resource:db-${i % resources}`] },
    });
  }
  for (let i = 0; i < apis; i++) {
    entities.push({ apiVersion: 'backstage.io/v1alpha1', kind: 'API', metadata: { name: `api-${i}`, description: `API ${i}` }, spec: { type: 'openapi', lifecycle: 'production', owner: `group-${i % groups}`, system: `system-${i % systems}`, definition: 'openapi: 3.0.0\ninfo: { title: generated, version: 1.0.0 }\npaths: {}\n' } });
  }
  for (let i = 0; i < resources - systems; i++) {
    entities.push({ apiVersion: 'backstage.io/v1alpha1', kind: 'Resource', metadata: { name: `db-${i}` }, spec: { type: 'database', owner: `group-${i % groups}`, system: `system-${i % systems}` } });
  }
  // systems count against the resource budget so the total stays at exactly 100,000 per scale
  for (let i = 0; i < systems; i++) entities.push({ apiVersion: 'backstage.io/v1alpha1', kind: 'System', metadata: { name: `system-${i}` }, spec: { owner: `group-${i % groups}` } });
  const files: string[] = [];
  for (let i = 0; i < entities.length; i += 1000) {
    const file = join(dir, `part-${String(i / 1000).padStart(4, '0')}.yaml`);
    writeFileSync(file, entities.slice(i, i + 1000).map((e) => stringify(e)).join('---\n'));
    files.push(file);
  }
  return { files, total: entities.length, groups };
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await f();
  return [performance.now() - t, v];
}

export async function run(args: string[]): Promise<Record<string, number | string>> {
  const scale = Number(args[0] ?? 1);
  const root = join(tmpdir(), `pave-bench-catalog-${process.pid}`);
  const catalogDir = join(root, 'catalog');
  mkdirSync(catalogDir, { recursive: true });
  const { files, total, groups } = generate(catalogDir, scale);
  const p = new Platform({ dataDir: join(root, 'data'), port: 0, log: createLogger('silent'), modules: [gitHostModule(), portalModule()] });
  await p.start();
  const portal = portalOf(p);
  const api = `${p.url}/api/catalog`;
  try {
    const started = performance.now();
    for (const f of files) {
      const res = await fetch(`${api}/locations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'file', target: f }) });
      if (res.status !== 201) throw new Error(`registering ${f}: HTTP ${res.status} ${await res.text()}`);
    }
    const expected = total + files.length;
    for (;;) {
      const ok = portal.index.size >= expected && portal.locationController?.idle();
      if (ok) break;
      if (performance.now() - started > 600_000) throw new Error(`ingest did not finish: ${portal.index.size}/${expected}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ingest = (performance.now() - started) / 1000;
    const relations = portal.index.relationCount();

    const get = async (path: string) => {
      const res = await fetch(`${api}${path}`);
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
      return res.json();
    };
    const byQuery: number[] = [];
    for (let i = 0; i < 200; i++) {
      const g = `group:default/group-${(i * 37) % groups}`;
      const [ms, body] = await timed(() => get(`/entities/by-query?filter=kind=component,relations.ownedBy=${encodeURIComponent(g)}&limit=20`));
      if (!(body as { items: unknown[] }).items.length) throw new Error(`no components owned by ${g}`);
      byQuery.push(ms);
    }
    const refs = Array.from({ length: 1000 }, (_, i) => `component:default/svc-${(i * 43) % Math.round(50000 * scale)}`);
    const byRefs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [ms] = await timed(async () => (await fetch(`${api}/entities/by-refs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entityRefs: refs }) })).json());
      byRefs.push(ms);
    }
    const facets: number[] = [];
    for (let i = 0; i < 5; i++) facets.push((await timed(() => get('/entity-facets?facet=spec.type&filter=kind=component')))[0]);
    const fulltext: number[] = [];
    for (let i = 0; i < 100; i++) fulltext.push((await timed(() => get(`/entities/by-query?fullTextFilterTerm=${encodeURIComponent(`service ${(i * 131) % 5000}`)}&limit=20`)))[0]);

    const taskToCommit = await measureTasks(p, root);
    return {
      entities: total,
      relations,
      ingest_s: round(ingest),
      by_query_p99_ms: round(percentile(byQuery, 99)),
      by_refs_1000_ms: round(percentile(byRefs, 50)),
      facets_ms: round(percentile(facets, 50)),
      fulltext_p99_ms: round(percentile(fulltext, 99)),
      task_to_commit_p50_ms: taskToCommit,
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
    };
  } finally {
    await p.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Submits template tasks that publish to the Git host; time from POST to the commit being on the host. */
async function measureTasks(p: Platform, root: string): Promise<number> {
  const dir = join(root, 'template');
  mkdirSync(join(dir, 'skeleton'), { recursive: true });
  writeFileSync(join(dir, 'skeleton', 'README.md'), '# ${{ values.name }}\n');
  writeFileSync(
    join(dir, 'template.yaml'),
    stringify({
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: { name: 'bench' },
      spec: {
        type: 'service',
        steps: [
          { id: 'fetch', action: 'fetch:template', input: { url: './skeleton', values: { name: '${{ parameters.name }}' } } },
          { id: 'publish', action: 'publish:pave', input: { repoUrl: 'pave?owner=bench&repo=${{ parameters.name }}' } },
        ],
      },
    }),
  );
  const portal = portalOf(p);
  await portal.locations.add('file', join(dir, 'template.yaml'));
  while (!portal.index.get('template:default/bench')) await new Promise((r) => setTimeout(r, 20));
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const name = `repo-${i}`;
    const t = performance.now();
    const res = await fetch(`${p.url}/api/scaffolder/v2/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ templateRef: 'template:default/bench', values: { name } }) });
    if (res.status !== 201) throw new Error(`task: HTTP ${res.status}`);
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const repo = await p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', name: `bench.${name}` }).catch(() => undefined);
      if (repo?.status?.refs?.['refs/heads/main']) break;
      const task = await p.client.get({ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', namespace: 'pave-system', name: id });
      if (task.status?.state === 'failed') throw new Error(`bench task failed: ${JSON.stringify(task.status.events?.at(-1))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    samples.push(performance.now() - t);
  }
  return round(percentile(samples, 50));
}
