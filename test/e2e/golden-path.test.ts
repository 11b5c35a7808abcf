import { defaultModules } from '../../src/modules.js';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { startPlatform } from '../support/platform.js';
import { canConnect, dsnFromSecret, missingForGoldenPath, postgresAdminUrl } from './backends.js';
import { launchBrowser, pageError, screenshot, type Browser } from './browser.js';

/**
 * The golden path in a real browser on a fresh data directory: from "I need a database" to a
 * working connection string, without YAML. Every wait names what the user would be waiting for.
 */
let p: Awaited<ReturnType<typeof startPlatform>>;
let b: Browser;

before(async () => {
  // everything `pave up` starts on a fresh data directory: the local cloud and the starter platform
  p = await startPlatform({ modules: defaultModules(), settings: { 'local-cloud': 'true', 'starter-platform': 'true', 'dns-port': '0' } });
  const missing = await missingForGoldenPath(p.url);
  if (missing.length) throw new Error(`the golden path needs backends this server does not serve: ${missing.join('; ')}`);
  b = await launchBrowser();
});
after(async () => {
  await b?.close();
  await p?.close();
});

const url = (path: string) => `${p.url}${path}`;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${(await pageError(b.page)) ? `; the page shows: ${await pageError(b.page)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a developer gets a PostgreSQL database from the browser and it heals when dropped', async () => {
  const page = b.page;
  const name = `orders-db-${Date.now().toString(36)}`;
  await page.goto(url('/create'));
  // the starter's golden-path template, not the one generated from the XRD (that one asks for review)
  const choose = page.getByRole('link', { name: 'Choose PostgreSQL database', exact: true });
  // right after start the starter's catalog file may still be being read: look again, as a user would
  await waitFor('the PostgreSQL database template in the catalog', async () => (await choose.count()) > 0 || (await page.reload(), false), 20_000);
  await choose.click();

  // Fill every step: the name and the owner, leave the template's defaults for the rest.
  for (let step = 0; step < 5; step++) {
    // the template's own form (the header has a form of its own: the user switcher)
    await page.locator('.form-card form, [aria-labelledby=review-title]').first().waitFor();
    if (await page.getByRole('heading', { name: 'Review' }).count()) break;
    const nameInput = page.getByLabel(/^name/i).first();
    if (await nameInput.count()) await nameInput.fill(name);
    const owner = page.getByLabel(/^owner/i).first();
    if (await owner.count()) await owner.fill('group:default/platform-team');
    if (step === 0) await screenshot(page, 'create-form');
    await page.getByRole('button', { name: /^(Next|Review)$/ }).click();
    await page.waitForTimeout(300);
    const err = await page.locator('.error-detail').first();
    if (await err.count()) throw new Error(`the form refused the input: ${await err.innerText()}`);
  }
  await page.getByRole('heading', { name: 'Review' }).waitFor();
  await page.getByRole('button', { name: 'Create' }).click();

  await page.getByTestId('task-log').waitFor();
  const log = page.getByTestId('task-log');
  await waitFor('the task log to show the commit', async () => /commit/i.test(await log.innerText()), 60_000);
  await waitFor('the task log to show the sync', async () => /sync/i.test(await log.innerText()), 60_000);
  await waitFor('the task to complete', async () => (await page.getByTestId('task-status').innerText()) === 'completed', 120_000);
  await screenshot(page, 'task-log');

  const entityLink = page.getByTestId('task-links').getByRole('link', { name: new RegExp(name) }).first();
  if (await entityLink.count()) await entityLink.click();
  else await page.goto(url(`/catalog?q=${name}`)).then(() => page.getByRole('link', { name }).first().click());
  await page.getByRole('tab', { name: 'Infrastructure' }).click();
  await waitFor('the claim and its graph to be all green', async () => (await page.getByTestId('infra-summary').innerText()) === 'All resources are ready', 120_000);
  await screenshot(page, 'entity-golden-path');

  const keys = await page.locator('[data-testid^=secret-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('secret-'.length)));
  const data: Record<string, string> = {};
  for (const k of keys) {
    await page.getByRole('button', { name: `Reveal ${k}` }).click();
    data[k] = await page.getByTestId(`secret-${k}`).innerText();
  }
  const dsn = dsnFromSecret(data, name);
  await canConnect(dsn);

  // Out of band: the database disappears; the page must show it recreated, with no reload.
  const database = new URL(dsn).pathname.slice(1) || name;
  // the Database's node: its creation time is what changes when the control plane recreates it
  const created = page.getByTestId(/^node-Database-/).getByTestId('external-created');
  const before = await created.getAttribute('title');
  // where the database lives: the server the `local` ProviderConfig points at (the embedded one)
  const admin = new pg.Client({ connectionString: await postgresAdminUrl(p.client) });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await waitFor('the page to show the database recreated', async () => (await created.getAttribute('title')) !== before && (await page.getByTestId('infra-summary').innerText()) === 'All resources are ready', 120_000);
  await canConnect(dsn);

  await page.goto(url('/applications'));
  await page.getByTestId('applications-table').waitFor();
  await page.getByTestId('applications-table').getByRole('link').first().click();
  await page.getByRole('heading', { name: 'History' }).waitFor();
  await screenshot(page, 'application');
  assert.match(await page.locator('main').innerText(), /Sync/);
});

test('the template generated from the PostgresDatabase XRD proposes a change; only its merge provisions the database', async () => {
  const name = `reviewed-db-${Date.now().toString(36)}`;
  const api = async (path: string, init?: RequestInit) => {
    const res = await fetch(url(path), { ...init, headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const claimKey = `/k8s/apis/platform.pave.dev/v1alpha1/namespaces/default/postgresdatabases/${name}`;
  const { id } = await api('/api/scaffolder/v2/tasks', {
    method: 'POST',
    body: JSON.stringify({ templateRef: 'template:default/postgresdatabase-v1alpha1', values: { name, namespace: 'default', owner: 'group:default/platform-team', writeConnectionSecretToRef: { name } } }),
  });
  let task: any;
  await waitFor('the generated template\'s task to finish', async () => ['completed', 'failed'].includes((task = await api(`/api/scaffolder/v2/tasks/${id}`)).status), 60_000);
  const log = (await api(`/api/scaffolder/v2/tasks/${id}/events`)).map((e: any) => e.body?.message).join('\n');
  assert.equal(task.status, 'completed', `the task failed:\n${log}`);

  const changes = (await api('/api/git/repos/platform/deployments/changes')).items as any[];
  const cr = changes.find((c) => c.metadata.annotations?.['pave.dev/trace-id'] === id || c.metadata.annotations?.['pave.dev/task-id'] === id || JSON.stringify(c.spec).includes(name));
  assert.ok(cr, 'a change request on platform/deployments');
  assert.match(await (await fetch(url(`/api/git/repos/platform/deployments/changes/${cr.metadata.name}/diff?namespace=${cr.metadata.namespace}`))).text(), new RegExp(`claims/default/${name}\\.yaml`));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await fetch(url(claimKey))).status, 404, 'nothing is live before the merge');

  await api(`/api/git/repos/platform/deployments/changes/${cr.metadata.name}/approve`, { method: 'POST', body: JSON.stringify({ namespace: cr.metadata.namespace, user: 'user:default/reviewer' }) });
  await api(`/api/git/repos/platform/deployments/changes/${cr.metadata.name}/merge`, { method: 'POST', body: JSON.stringify({ namespace: cr.metadata.namespace }) });
  await waitFor('the merged claim to be Ready', async () => {
    const claim = await api(claimKey);
    return claim.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
  }, 120_000);
});
