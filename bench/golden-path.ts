/**
 * `npm run bench -- golden-path [--runs N] [--entities N]`: the golden path's figures.
 * - submit_to_ready_*: a PostgreSQL template task submitted through the scaffolder API until its
 *   claim is Ready with a real database (needs every backend and PostgreSQL on 127.0.0.1:5432);
 * - first_page_load_ms: a cold chromium load of / until the catalog table is rendered;
 * - catalog_100k_page_ms: the catalog page with 100,000 entities, a filter applied, rendered;
 * - web_bundle_kb_gzip: every JS and CSS file of the built web app, gzipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Resource } from '../src/api/types.js';
import { launchBrowser } from '../test/e2e/browser.js';
import { missingForGoldenPath } from '../test/e2e/backends.js';
import { startPlatform } from '../test/support/platform.js';
import { defaultModules } from '../src/modules.js';
import { portalModule } from '../src/portal/index.js';
import { webUiModule } from '../src/webui/index.js';

type Figures = Record<string, number | string>;

export async function run(args: string[]): Promise<Figures> {
  const opt = (name: string, d: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const figures: Figures = { web_bundle_kb_gzip: bundleKbGzip() };
  Object.assign(figures, await pageLoads(opt('entities', 100_000)));
  Object.assign(figures, await submitToReady(opt('runs', 20)));
  return figures;
}

function bundleKbGzip(): number {
  const dir = fileURLToPath(new URL('../web/assets/', import.meta.url));
  let bytes = 0;
  for (const f of readdirSync(dir)) if (/\.(js|css)$/.test(f)) bytes += gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  return Math.round(bytes / 1024);
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
}

async function pageLoads(entities: number): Promise<Figures> {
  // the catalog and the web UI are all a page load needs
  const p = await startPlatform({ modules: [portalModule(), webUiModule()] });
  try {
    const create = (i: number): Resource => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: `svc-${i}`, namespace: 'default', ...({ description: `Service number ${i}` } as object) },
      spec: { type: i % 10 ? 'service' : 'website', lifecycle: 'production', owner: `team-${i % 50}` },
    });
    const cold = async (path: string, samples: number) => {
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const b = await launchBrowser();
        try {
          const t0 = Date.now();
          await b.page.goto(`${p.url}${path}`);
          await b.page.locator('[data-testid=catalog-table] tbody tr').first().waitFor({ timeout: 30_000 });
          times.push(Date.now() - t0);
        } finally {
          await b.close();
        }
      }
      return percentile(times, 0.5);
    };
    for (let i = 0; i < 50; i++) await p.client.create(create(i));
    const first = await cold('/', 5);
    const t0 = Date.now();
    for (let i = 50; i < entities; i += 200) await Promise.all(Array.from({ length: Math.min(200, entities - i) }, (_, j) => p.client.create(create(i + j))));
    const seedMs = Date.now() - t0;
    // The catalog indexes through informers: wait until the API counts every entity.
    for (;;) {
      const r = (await (await fetch(`${p.url}/api/catalog/entities/by-query?limit=1&filter=kind=component`)).json()) as { totalItems: number };
      if (r.totalItems >= entities) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const big = await cold('/catalog?kind=Component&type=website&lifecycle=production', 3);
    return { first_page_load_ms: first, catalog_100k_page_ms: big, catalog_entities: entities, catalog_seed_ms: seedMs };
  } finally {
    await p.close();
  }
}

async function submitToReady(runs: number): Promise<Figures> {
  const p = await startPlatform({ modules: defaultModules(), settings: { 'local-cloud': 'true', 'starter-platform': 'true', 'dns-port': '0' } });
  try {
    const missing = await missingForGoldenPath(p.url);
    if (missing.length) return { submit_to_ready_error: `not measured; missing backends: ${missing.join('; ')}` };
    // the starter's golden-path template (the one generated from the XRD opens a change request
    // instead); the starter's catalog file is still being read when the server starts
    let template: Resource | undefined;
    const deadline = Date.now() + 30_000;
    while (!template && Date.now() < deadline) {
      const res = await fetch(`${p.url}/api/catalog/entities/by-name/template/default/postgres-database`);
      if (res.ok) template = (await res.json()) as Resource;
      else await new Promise((r) => setTimeout(r, 100));
    }
    if (!template) return { submit_to_ready_error: 'no PostgreSQL template in the catalog' };
    const ns = template.metadata.namespace ?? 'default';
    const schema = (await (await fetch(`${p.url}/api/scaffolder/v2/templates/${ns}/template/${template.metadata.name}/parameter-schema`)).json()) as { steps: { schema: { properties?: Record<string, { default?: unknown }> } }[] };
    const groups = (await (await fetch(`${p.url}/api/catalog/entities/by-query?filter=kind=group&limit=1`)).json()) as { items: Resource[] };
    const owner = groups.items[0] ? `group:${groups.items[0].metadata.namespace ?? 'default'}/${groups.items[0].metadata.name}` : 'group:default/platform-team';
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const name = `bench-db-${Date.now().toString(36)}-${i}`;
      const values: Record<string, unknown> = {};
      for (const step of schema.steps) for (const [k, prop] of Object.entries(step.schema.properties ?? {})) values[k] = /name/i.test(k) ? name : /owner/i.test(k) ? owner : prop.default;
      const t0 = Date.now();
      const res = await fetch(`${p.url}/api/scaffolder/v2/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ templateRef: `template:${ns}/${template.metadata.name}`, values }) });
      if (!res.ok) return { submit_to_ready_error: `the scaffolder refused the task: HTTP ${res.status} ${await res.text()}` };
      const { id } = (await res.json()) as { id: string };
      await claimReady(p.url, name, 60_000, id);
      times.push(Date.now() - t0);
    }
    return { submit_to_ready_p50_ms: percentile(times, 0.5), submit_to_ready_p99_ms: percentile(times, 0.99), submit_to_ready_runs: runs };
  } finally {
    await p.close();
  }
}

/** Waits until a claim named `name` (of any claim kind an XRD offers) has Ready=True. */
async function claimReady(base: string, name: string, timeoutMs: number, taskId: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const xrds = (await (await fetch(`${base}/k8s/apis/apiextensions.crossplane.io/v1/compositeresourcedefinitions`)).json()) as { items: Resource[] };
  const claimPaths = xrds.items.filter((x) => x.spec?.claimNames).map((x) => `/k8s/apis/${x.spec.group}/${(x.spec.versions.find((v: { referenceable?: boolean }) => v.referenceable) ?? x.spec.versions[0]).name}/${x.spec.claimNames.plural}`);
  let seen: Resource | undefined;
  while (Date.now() < deadline) {
    for (const path of claimPaths) {
      const list = (await (await fetch(`${base}${path}?fieldSelector=metadata.name=${name}`)).json()) as { items?: Resource[] };
      const claim = list.items?.[0];
      seen = claim ?? seen;
      if (claim?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // say where the request stopped: the task, or the claim's conditions
  const task = (await (await fetch(`${base}/api/scaffolder/v2/tasks/${taskId}`)).json()) as { status?: string };
  const events = (await (await fetch(`${base}/api/scaffolder/v2/tasks/${taskId}/events`)).json()) as { body?: { message?: string } }[];
  const log = events.map((e) => e.body?.message).filter(Boolean).slice(-5).join(' | ');
  const where = seen ? `its conditions: ${JSON.stringify(seen.status?.conditions ?? [])}` : 'the claim does not exist';
  throw new Error(`claim ${name} was not Ready within ${timeoutMs} ms; task ${taskId} is ${task.status} (${log}); ${where}`);
}
