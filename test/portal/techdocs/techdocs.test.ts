import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { writeTree } from '../catalog/fixtures.js';

describe('TechDocs', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;
  before(async () => {
    p = await startPlatform({ modules: [portalModule()] });
    dir = tempDir('pave-techdocs-');
    writeTree(dir, {
      'catalog-info.yaml': 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: docs-demo\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n',
      'mkdocs.yml': 'site_name: Docs Demo\nnav:\n  - Home: index.md\n  - Guide:\n      - Setup: guide/setup.md\n',
      'docs/index.md': '# Welcome\n\nSee [setup](guide/setup.md).\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))\n',
      'docs/guide/setup.md': '## Setup\n\nRun `npm start`.\n',
    });
    await portalOf(p).locations.add('file', join(dir, 'catalog-info.yaml'));
    await eventually(() => portalOf(p).index.get('component:default/docs-demo'), 10_000, 'the component');
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the docs/ Markdown of an entity with dir:. as sanitised HTML with its mkdocs nav', async () => {
    const res = await fetch(`${p.url}/api/techdocs/static/docs/default/component/docs-demo/index.html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /<h1>Welcome<\/h1>/);
    assert.match(html, /href="guide\/setup\.html"/, 'links between pages point at rendered pages');
    assert.ok(!html.includes('<script>'), 'raw HTML is escaped');
    assert.ok(!/href="javascript:/.test(html), 'javascript: links are dropped');
    assert.match(html, />Setup</);
    const setup = await (await fetch(`${p.url}/api/techdocs/static/docs/default/component/docs-demo/guide/setup.html`)).text();
    assert.match(setup, /<code>npm start<\/code>/);
    const meta = (await (await fetch(`${p.url}/api/techdocs/metadata/techdocs/default/component/docs-demo`)).json()) as { site_name: string; etag: string };
    assert.equal(meta.site_name, 'Docs Demo');

    // a change to the docs is a new revision: the cache does not serve the old page
    writeFileSync(join(dir, 'docs/guide/setup.md'), '## Setup\n\nRun `pave up`.\n');
    const changed = await (await fetch(`${p.url}/api/techdocs/static/docs/default/component/docs-demo/guide/setup.html`)).text();
    assert.match(changed, /<code>pave up<\/code>/);
    const missing = await fetch(`${p.url}/api/techdocs/static/docs/default/component/docs-demo/nope.html`);
    assert.equal(missing.status, 404);
    const escape = await fetch(`${p.url}/api/techdocs/static/docs/default/component/docs-demo/..%2F..%2Fcatalog-info.html`);
    assert.equal(escape.status, 404);
  });
});
