import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { writeTree } from '../catalog/fixtures.js';
import { dryRunTemplate, runTemplate } from './support.js';

/** Bytes a text renderer would mangle: a NUL, a high byte and something that looks like an expression. */
const BINARY = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]), Buffer.from('${{ values.name }}')]);

const template = (name: string, steps: string, extra = '') => `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: ${name}
spec:
  type: service
${extra}  steps:
${steps}`;

const templates = [
  template(
    'plain',
    `    - id: tree
      action: fetch:plain
      input: { url: ./skel-plain, targetPath: copied }
    - id: file
      action: fetch:plain:file
      input: { url: ./skel-plain/sub/b.txt, targetPath: single/b.txt }
`,
  ),
  template(
    'skeleton',
    `    - id: a
      action: fetch:template
      input: { url: ./skel-tmpl, targetPath: a, values: { name: svc, version: 1 }, copyWithoutTemplating: ['static/**'] }
    - id: b
      action: fetch:template
      input: { url: ./skel-tmpl, targetPath: b, values: { name: svc, version: 1 }, copyWithoutRender: ['static/**'] }
    - id: c
      action: fetch:template
      input: { url: ./skel-njk, targetPath: c, values: { name: svc }, templateFileExtension: true }
    - id: again
      action: fetch:template
      input: { url: ./skel-tmpl, targetPath: a, values: { name: svc, version: 2 } }
    - id: replace
      action: fetch:template
      input: { url: ./skel-tmpl, targetPath: b, values: { name: svc, version: 2 }, replace: true }
`,
  ),
  template(
    'skeleton-conflict',
    `    - id: both
      action: fetch:template
      input: { url: ./skel-njk, values: {}, templateFileExtension: true, copyWithoutTemplating: ['*.sh'] }
`,
  ),
  template(
    'files',
    `    - id: tmp
      action: fs:delete
      input: { files: ['**/*.tmp', dir] }
    - id: move
      action: fs:rename
      input: { files: [{ from: a.txt, to: moved/a.txt }, { from: b.txt, to: keep.txt, overwrite: true }] }
`,
  ),
  template(
    'no-overwrite',
    `    - id: move
      action: fs:rename
      input: { files: [{ from: b.txt, to: keep.txt }] }
`,
  ),
  template(
    'manifests',
    `    - id: info
      action: catalog:write
      input:
        filePath: catalog/info.yaml
        entity: { apiVersion: backstage.io/v1alpha1, kind: Component, metadata: { name: '\${{ parameters.name }}' }, spec: { type: service, lifecycle: experimental, owner: team-a } }
    - id: claim
      action: terasky:claim-template
      input:
        apiVersion: platform.pave.dev/v1alpha1
        kind: Database
        clusters: [east, west]
        compositionRef: small-postgres
        excludeParams: [internalNote]
        labels: { tier: gold }
        parameters: { name: '\${{ parameters.name }}-db', namespace: team-a, owner: group:default/team-a, size: 5, notes: '', internalNote: hidden }
`,
  ),
  template(
    'nameless-claim',
    `    - id: claim
      action: pave:claim-template
      input: { apiVersion: platform.pave.dev/v1alpha1, kind: Database, parameters: { size: 5 } }
`,
  ),
  template(
    'register',
    `    - id: register
      action: catalog:register
      input: { catalogInfoUrl: '\${{ parameters.url }}', optional: '\${{ parameters.optional }}' }
  output:
    entityRef: \${{ steps.register.output.entityRef }}
`,
  ),
].join('---\n');

describe('scaffolder actions: what each one leaves in the workspace, the catalog or the log', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;
  let server: Server;
  let served: string;

  before(async () => {
    p = await startPlatform({ modules: [portalModule()] });
    dir = tempDir('pave-actions-');
    writeTree(dir, {
      'templates.yaml': templates,
      'skel-plain/a.txt': '${{ values.name }} is not rendered by fetch:plain',
      'skel-plain/sub/b.txt': 'b',
      'skel-tmpl/${{ values.name }}.md': '# ${{ values.name }} ${{ values.version }}',
      'skel-tmpl/static/${{ values.name }}.txt': '${{ values.name }} stays',
      'skel-njk/config.yaml.njk': 'name: ${{ values.name }}',
      'skel-njk/${{ values.name }}.sh': 'echo ${{ values.name }}',
    });
    writeFileSync(join(dir, 'skel-tmpl/logo.bin'), BINARY);
    writeFileSync(join(dir, 'skel-plain/run.sh'), '#!/bin/sh\necho ${{ values.name }}\n');
    chmodSync(join(dir, 'skel-plain/run.sh'), 0o755);
    writeFileSync(join(dir, 'skel-tmpl/gradlew'), '#!/bin/sh\n# ${{ values.name }}\n');
    chmodSync(join(dir, 'skel-tmpl/gradlew'), 0o755);
    server = createServer((req, res) => {
      if (req.url !== '/catalog-info.yaml') return void res.writeHead(404).end('not here');
      res.writeHead(200, { 'content-type': 'text/yaml' }).end('apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: registered-svc\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    served = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await portalOf(p).locations.add('file', join(dir, 'templates.yaml'));
    await eventually(() => portalOf(p).index.get('template:default/register') && portalOf(p).index.get('template:default/plain'), 10_000, 'the templates in the catalog');
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetch:plain copies a directory and fetch:plain:file one file, both unrendered', async () => {
    const run = await dryRunTemplate(p.url, 'plain', {});
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual(run.text, { 'copied/a.txt': '${{ values.name }} is not rendered by fetch:plain', 'copied/run.sh': '#!/bin/sh\necho ${{ values.name }}\n', 'copied/sub/b.txt': 'b', 'single/b.txt': 'b' });
    assert.deepEqual(run.executable, ['copied/run.sh'], 'an executable file stays executable');
  });

  it('fetch:template renders names and contents, honours copyWithoutTemplating, copyWithoutRender, templateFileExtension and replace, and copies binaries intact', async () => {
    const run = await dryRunTemplate(p.url, 'skeleton', {});
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(run.text['a/svc.md'], '# svc 1', 'an existing file is kept unless replace is set');
    assert.equal(run.text['a/static/svc.txt'], '${{ values.name }} stays', 'copyWithoutTemplating copies contents verbatim but renders the name');
    assert.ok(run.files['a/logo.bin']!.equals(BINARY), 'a binary file is copied byte for byte');
    assert.equal(run.text['a/gradlew'], '#!/bin/sh\n# svc\n');
    assert.ok(run.executable.includes('a/gradlew'), 'a rendered executable stays executable');
    assert.equal(run.text['b/svc.md'], '# svc 2', 'replace: true overwrites');
    assert.equal(run.text['b/static/${{ values.name }}.txt'], '${{ values.name }} stays', 'copyWithoutRender leaves the name alone too');
    assert.equal(run.text['c/config.yaml'], 'name: svc', 'a file with the extension is rendered and loses it');
    assert.equal(run.text['c/svc.sh'], 'echo ${{ values.name }}', 'other files keep their contents; their names are rendered');
    assert.match(run.log, /Keeping a\/svc\.md, which is already in the workspace \(set replace: true to overwrite it\)/);

    const conflict = await dryRunTemplate(p.url, 'skeleton-conflict', {});
    assert.equal(conflict.status, 400);
    assert.match(conflict.body.error.message, /templateFileExtension cannot be combined with copyWithoutTemplating/);
  });

  it('fs:delete removes globs and directories; fs:rename moves files and overwrites only when asked', async () => {
    const seed = { 'keep.txt': 'keep', 'old.tmp': 'x', 'nested/x.tmp': 'x', 'nested/y.txt': 'y', 'a.txt': 'a', 'b.txt': 'b', 'dir/z.txt': 'z' };
    const run = await dryRunTemplate(p.url, 'files', {}, seed);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual(run.text, { 'keep.txt': 'b', 'moved/a.txt': 'a', 'nested/y.txt': 'y' });

    const refused = await dryRunTemplate(p.url, 'no-overwrite', {}, seed);
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /files\[0\]\.to "keep\.txt" exists; set overwrite: true to replace it/);
  });

  it('catalog:write writes the entity with the trace id; the claim action writes one manifest per cluster', async () => {
    const run = await dryRunTemplate(p.url, 'manifests', { name: 'orders' });
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.match(run.text['catalog/info.yaml']!, /name: orders/);
    assert.match(run.text['catalog/info.yaml']!, /pave\.dev\/trace-id: dry-run-/);
    assert.deepEqual(Object.keys(run.text).filter((f) => f.endsWith('orders-db.yaml')).sort(), ['east/team-a/Database/orders-db.yaml', 'west/team-a/Database/orders-db.yaml']);
    const claim = run.text['east/team-a/Database/orders-db.yaml']!;
    assert.match(claim, /kind: Database/);
    assert.match(claim, /pave\.dev\/owner: group:default\/team-a/);
    assert.match(claim, /tier: gold/);
    assert.match(claim, /compositionRef:\n\s+name: small-postgres/);
    assert.match(claim, /size: 5/);
    assert.doesNotMatch(claim, /internalNote|hidden/, 'excluded parameters stay out');
    assert.doesNotMatch(claim, /notes/, 'empty parameters are removed');

    const nameless = await dryRunTemplate(p.url, 'nameless-claim', {});
    assert.equal(nameless.status, 400);
    assert.match(nameless.body.error.message, /parameters\.name is required: it becomes the claim's metadata\.name/);
  });

  it('catalog:register registers a catalog-info.yaml by URL once, skips an optional one that is missing, and fails on a required one', async () => {
    const url = `${served}/catalog-info.yaml`;
    const first = await runTemplate(p.url, 'template:default/register', { url });
    assert.equal(first.last.status, 'completed', first.log);
    assert.equal((first.last.output as { entityRef: string }).entityRef, 'component:default/registered-svc');
    assert.match(first.log, new RegExp(`Registered ${url} in the catalog`));
    await eventually(() => portalOf(p).index.get('component:default/registered-svc'), 10_000, 'the registered component');
    const again = await runTemplate(p.url, 'template:default/register', { url });
    assert.equal(again.last.status, 'completed', 'registering the same URL again is not an error');
    assert.equal(portalOf(p).locations.list().filter((l) => l.target === url).length, 1, 'and does not add a second location');

    const optional = await runTemplate(p.url, 'template:default/register', { url: `${served}/missing.yaml`, optional: true });
    assert.equal(optional.last.status, 'completed', optional.log);
    assert.match(optional.log, /Skipping optional registration of .*missing\.yaml/);
    const required = await runTemplate(p.url, 'template:default/register', { url: `${served}/missing.yaml` });
    assert.equal(required.last.status, 'failed');
    assert.match(required.last.message, /step "register" \(catalog:register\) failed: .*missing\.yaml/);

    const dry = await dryRunTemplate(p.url, 'register', { url });
    assert.equal(dry.status, 200);
    assert.match(dry.log, /Skipping step register: catalog:register does not run in a dry run/);
  });

  it('GET /v2/actions describes each action with its input schema', async () => {
    const actions = (await (await fetch(`${p.url}/api/scaffolder/v2/actions`)).json()) as { id: string; description: string; schema: { input?: { required?: string[]; properties?: Record<string, unknown> } } }[];
    const byId = new Map(actions.map((a) => [a.id, a]));
    for (const id of ['fetch:plain', 'fetch:plain:file', 'fetch:template', 'debug:log', 'fs:rename', 'fs:delete', 'catalog:write', 'catalog:register', 'pave:claim-template', 'terasky:claim-template', 'publish:pave', 'publish:pave:commit', 'publish:pave:change-request']) {
      assert.ok(byId.get(id)?.description, `${id} is listed with a description`);
    }
    assert.deepEqual(byId.get('fetch:template')!.schema.input!.required, ['url']);
    assert.ok(byId.get('fetch:template')!.schema.input!.properties!.replace);
    assert.deepEqual(byId.get('publish:pave:change-request')!.schema.input!.required, ['repoUrl', 'branchName', 'title']);
  });
});
