import { defaultModules } from '../../src/modules.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startPlatform } from '../support/platform.js';
import { launchBrowser, screenshot, type Browser } from './browser.js';
import { brokenTemplate, completeInfrastructure, GROUP, seedCatalog, seedInfrastructure } from './fixtures.js';

/**
 * The portal in a real browser on a fresh data directory: what a developer sees in the catalog,
 * on an entity page and in the create form. Screenshots go to test/e2e/screenshots/.
 */
let p: Awaited<ReturnType<typeof startPlatform>>;
let b: Browser;

before(async () => {
  const built = fileURLToPath(new URL('../../web/index.html', import.meta.url));
  if (!existsSync(built)) throw new Error('the web UI is not built (dist/web/index.html is missing): run `npm run build`');
  p = await startPlatform({ modules: defaultModules(), settings: { 'local-cloud': 'false', 'starter-platform': 'false', 'dns-port': '0' } });
  await seedCatalog(p.client);
  await seedInfrastructure(p.client);
  b = await launchBrowser();
  await b.page.addInitScript("localStorage.setItem('pave.user', 'user:default/alice')");
});
after(async () => {
  await b?.close();
  await p?.close();
});

const url = (path: string) => `${p.url}${path}`;

test('the catalog filters, searches and pages on the server', async () => {
  const page = b.page;
  await page.goto(url('/'));
  await page.getByTestId('catalog-table').waitFor();
  assert.equal(new URL(page.url()).pathname, '/catalog');
  await page.getByText(/^6\d entities$/).waitFor();
  assert.equal(await page.locator('tbody tr').count(), 25, 'one page of 25 rows');
  await screenshot(page, 'catalog');

  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('link', { name: 'svc-023' }).waitFor();

  await page.getByLabel('Kind').selectOption('Component');
  await page.getByLabel('Type').selectOption('website');
  await page.getByText('20 entities').waitFor();
  assert.ok(page.url().includes('type=website'), 'filters live in the URL so the view can be shared');

  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Search the catalog').fill('keeps them in postgres');
  await page.getByText('1 entities').waitFor();
  assert.equal(await page.locator('tbody tr').first().getByRole('link').innerText(), 'Orders');

  await page.getByLabel('Search the catalog').fill('');
  await page.getByLabel('Owned by me / my groups').check();
  // alice is a member of team-a, which owns Orders and the payments system.
  await page.getByText('2 entities').waitFor();
});

test('an entity page shows its infrastructure and follows status changes live', async () => {
  const page = b.page;
  await page.goto(url('/catalog/default/component/orders'));
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
  await page.getByRole('tab', { name: 'Infrastructure', selected: true }).waitFor();
  await page.getByTestId('infra-graph').waitFor();
  await page.getByTestId('node-BucketObject-orders-store-x1-logs').getByText('Ready: False (Creating)').waitFor();
  await page.getByText('3 of 6 ready').waitFor();
  // a composed XR shows what it composes in turn, one column further right
  await page.getByTestId('node-XBucket-orders-store-x1-replica').getByText('XBucket (nested composite)').waitFor();
  await page.getByTestId('node-BucketObject-orders-store-x1-replica-data').getByText('Ready: True (Available)').waitFor();
  // the table lists each composite's resources right under it
  const rows = await page.getByRole('table', { name: 'Resources' }).locator('tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(
    rows.map((r) => r.split('\n')[0]),
    ['Bucket orders-store', 'XBucket orders-store-x1', 'BucketObject orders-store-x1-data', 'BucketObject orders-store-x1-logs', 'XBucket orders-store-x1-replica', 'BucketObject orders-store-x1-replica-data'],
  );
  // why the composite is not ready, under its row, as pave trace prints it
  assert.equal(await page.getByTestId('resource-composite').getByTestId('condition-message').innerText(), 'Unready resources: logs');

  await completeInfrastructure(p.client);
  await page.getByText('All resources are ready').waitFor({ timeout: 5000 });
  assert.equal(await page.getByTestId('condition-message').count(), 0, 'nothing to explain once all are ready');
  await page.getByTestId('node-BucketObject-orders-store-x1-logs').getByText('Ready: True (Available)').waitFor();
  // the claim's node shows both of its conditions, as its row in the table does
  await page.getByTestId('node-Bucket-orders-store').getByText('Synced: True (ReconcileSuccess)').waitFor();

  assert.equal(await page.getByTestId('secret-endpoint').innerText(), '••••••••', 'secret values are hidden until asked for');
  await page.getByRole('button', { name: 'Reveal endpoint' }).click();
  assert.equal(await page.getByTestId('secret-endpoint').innerText(), 'https://buckets.example.com/orders');
  await screenshot(page, 'entity-infrastructure');

  await page.getByRole('button', { name: 'YAML and events of BucketObject orders-store-x1-logs' }).click();
  const drawer = page.getByRole('dialog', { name: 'BucketObject orders-store-x1-logs' });
  await drawer.getByText('CreatedExternalResource').waitFor();
  assert.match(await drawer.getByLabel('YAML of BucketObject orders-store-x1-logs').innerText(), /name: orders-store-x1-logs/);
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'detached' });

  await page.getByRole('tab', { name: 'Infrastructure' }).focus();
  await page.keyboard.press('ArrowLeft');
  await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
  const about = page.locator('.card', { has: page.getByRole('heading', { name: 'About' }) });
  await about.getByText('Takes orders and keeps them in PostgreSQL').waitFor();
  await about.getByRole('link', { name: 'team-a' }).waitFor();
  await about.getByRole('link', { name: 'payments' }).waitFor();
  await screenshot(page, 'entity-overview');
});

test("a claim that names a Secret it does not control is not shown that Secret's keys", async () => {
  const page = b.page;
  const ref = { apiVersion: `${GROUP}/v1alpha1`, kind: 'Bucket', namespace: 'default', name: 'orders-store' };
  await p.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'team-a-admin', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } });
  const pointTo = async (name: string) => {
    const claim = await p.client.get(ref);
    await p.client.update({ ...claim, spec: { ...claim.spec, writeConnectionSecretToRef: { name } } });
  };
  await pointTo('team-a-admin');
  try {
    await page.goto(url('/catalog/default/component/orders?tab=infrastructure'));
    await page.getByText("Secret default/team-a-admin is not this Bucket's").waitFor();
    await page.getByText('Nothing controls it.').waitFor();
    assert.equal(await page.getByTestId('secret-password').count(), 0, 'no key of the team Secret is listed');
  } finally {
    await pointTo('orders-store-conn');
  }
  await page.reload();
  await page.getByTestId('secret-endpoint').waitFor();
});

test('pages fit a 1024 px laptop screen without sideways scrolling', async () => {
  const page = b.page;
  await page.setViewportSize({ width: 1024, height: 700 });
  try {
    for (const path of ['/catalog', '/catalog/default/component/orders?tab=infrastructure', '/create', '/applications', '/changes']) {
      await page.goto(url(path));
      await page.locator('h1').first().waitFor();
      await page.waitForTimeout(300);
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      assert.ok(overflow <= 0, `${path} is ${overflow} px wider than the window`);
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('every form control on the catalog page has a label', async () => {
  const page = b.page;
  await page.goto(url('/catalog'));
  await page.getByTestId('catalog-table').waitFor();
  // Runs in the page: every control must have a name a screen reader can announce.
  const unlabelled = (await page.evaluate(`[...document.querySelectorAll('input, select, button, textarea')]
    .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim())))
    .map((e) => e.outerHTML.slice(0, 80))`)) as string[];
  assert.deepEqual(unlabelled, []);
});

test('a broken request is stopped in the form, next to the field, before anything is created', async () => {
  await p.client.apply(brokenTemplate, { fieldManager: 'e2e', force: true });
  const res = await fetch(url('/api/scaffolder/v2/templates/default/template/e2e-bucket/parameter-schema'));
  const text = await res.text();
  assert.ok(!(res.status === 404 && text.includes('could not find the requested resource: GET')), 'the scaffolder backend is not installed: GET /api/scaffolder/v2/templates/:namespace/:kind/:name/parameter-schema is not served');
  assert.equal(res.status, 200, `the scaffolder did not serve the template's parameter schema: HTTP ${res.status} ${text}`);

  const page = b.page;
  await page.goto(url('/create'));
  await page.getByRole('link', { name: 'Choose Storage bucket' }).click();
  await page.getByLabel(/^Name/).fill('Bad_Name!');
  await page.getByLabel(/^Owner/).fill('group:default/nobody');
  await page.getByRole('button', { name: 'Review' }).click();
  const nameField = page.locator('.form-group', { has: page.getByLabel(/^Name/) });
  await nameField.getByText(/does not have the required format/).waitFor();
  await screenshot(page, 'create-form-errors');

  await page.getByLabel(/^Name/).fill('orders-files');
  await page.getByRole('button', { name: 'Review' }).click();
  const ownerField = page.locator('.form-group', { has: page.getByLabel(/^Owner/) });
  await ownerField.getByText('there is no group named "nobody" in namespace "default" in the catalog').waitFor();

  await page.getByLabel(/^Owner/).fill('team-a');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('heading', { name: 'Review' }).waitFor();
  const review = await page.getByTestId('review').innerText();
  assert.match(review, /orders-files/);
  assert.match(review, /group:default\/team-a/);
  await screenshot(page, 'create-review');
  const tasks = (await (await fetch(url('/api/scaffolder/v2/tasks'))).json()) as { tasks?: unknown[] };
  assert.equal(tasks.tasks?.length ?? 0, 0, 'nothing is submitted before Create');
});
