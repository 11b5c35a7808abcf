import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { portalModule, portalOf } from '../../src/portal/index.js';
import { webUiModule } from '../../src/webui/index.js';
import { writeTree } from '../portal/catalog/fixtures.js';
import { eventually, fromNetwork, startPlatform, tempDir } from '../support/platform.js';
import { launchBrowser, screenshot, type Browser } from './browser.js';
import { brokenTemplate, seedCatalog } from './fixtures.js';

/**
 * The web UI on a server that listens on a network address and so refuses requests without
 * the token: the person is asked for it once, a wrong one is refused with the server's reason,
 * and the right one is kept by the browser.
 */
let p: Awaited<ReturnType<typeof startPlatform>>;
let b: Browser;
/** The server listens on 0.0.0.0; the browser reaches it as from another machine. */
let base: string;
let docs: string;

before(async () => {
  const built = fileURLToPath(new URL('../../web/index.html', import.meta.url));
  if (!existsSync(built)) throw new Error('the web UI is not built (dist/web/index.html is missing): run `npm run build`');
  p = await startPlatform({ host: '0.0.0.0', modules: [portalModule(), webUiModule()] });
  base = fromNetwork(p.url);
  await seedCatalog(p.client, 3);
  docs = tempDir('pave-e2e-docs-');
  writeTree(docs, {
    'catalog-info.yaml': 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: docs-demo\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n',
    'mkdocs.yml': 'site_name: Docs Demo\nnav:\n  - Home: index.md\n  - Setup: guide/setup.md\n',
    'docs/index.md': '# Welcome\n\nSee [the setup](guide/setup.md).\n',
    'docs/guide/setup.md': '# Setup\n\nRun `pave up`.\n',
  });
  await portalOf(p).locations.add('file', join(docs, 'catalog-info.yaml'));
  await eventually(() => portalOf(p).index.get('component:default/docs-demo'), 10_000, 'the docs component');
  b = await launchBrowser();
});
after(async () => {
  await b?.close();
  await p?.close();
  if (docs) rmSync(docs, { recursive: true, force: true });
});

test('the catalog asks for the token, refuses a wrong one and opens with the right one', async () => {
  const page = b.page;
  await page.goto(`${base}/catalog`);
  const dialog = page.getByRole('dialog', { name: 'Sign in to Pave' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /\.pave\/token/, 'the form says where the token is');
  await screenshot(page, 'sign-in');

  await dialog.getByLabel('Pave token').fill('not-the-token');
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await dialog.getByRole('alert').getByText('the bearer token is not valid for this Pave server').waitFor();
  assert.equal(await page.evaluate("localStorage.getItem('pave.token')"), null, 'a refused token is not kept');

  await dialog.getByLabel('Pave token').fill(p.adminToken);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('catalog-table').getByRole('link', { name: 'Orders' }).waitFor();
  await dialog.waitFor({ state: 'detached' });

  // the browser keeps the token: the next visit goes straight to the page
  await page.reload();
  await page.getByTestId('catalog-table').getByRole('link', { name: 'Orders' }).waitFor();
  assert.equal(await dialog.count(), 0);
});

test('with the token kept, task logs stream and TechDocs pages open and link to each other', async () => {
  const page = b.page;
  await p.client.apply(brokenTemplate, { fieldManager: 'e2e', force: true });
  const created = await fetch(`${base}/api/scaffolder/v2/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ templateRef: 'template:default/e2e-bucket', values: { name: 'orders-files', owner: 'group:default/team-a' } }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = (await created.json()) as { id: string };
  // the log is a stream, read with fetch because EventSource cannot send the token
  await page.goto(`${base}/create/tasks/${id}`);
  await page.getByTestId('task-log').getByText('bucket orders-files').waitFor();
  await page.getByTestId('task-status').getByText('completed').waitFor();

  // the docs frame cannot send the token either: its pages come through the app
  await page.goto(`${base}/catalog/default/component/docs-demo?tab=docs`);
  const frame = page.frameLocator('iframe.docs');
  await frame.getByRole('heading', { name: 'Welcome' }).waitFor();
  await frame.getByRole('link', { name: 'the setup' }).click();
  await frame.getByRole('heading', { name: 'Setup' }).waitFor();
  await frame.getByRole('link', { name: 'Home' }).click();
  await frame.getByRole('heading', { name: 'Welcome' }).waitFor();
  assert.equal(await page.getByRole('dialog', { name: 'Sign in to Pave' }).count(), 0, 'no second sign-in');
});
