import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { portalModule, portalOf } from '../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../support/platform.js';
import { exampleCatalog, writeTree } from './catalog/fixtures.js';

/** Runs the CLI asynchronously: the server it talks to lives in this process. */
async function pave(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/pave.js', ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('pave catalog and pave create', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;
  before(async () => {
    p = await startPlatform({ modules: [portalModule()] });
    dir = tempDir('pave-cli-catalog-');
    writeTree(dir, {
      ...exampleCatalog,
      'template.yaml': 'apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: hello\nspec:\n  type: demo\n  steps:\n    - id: say\n      action: debug:log\n      input:\n        message: "hello ${{ parameters.who }} x${{ parameters.times }}"\n',
      'strict.yaml': 'apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: strict\nspec:\n  type: demo\n  parameters:\n    - required: [name, owner]\n      properties:\n        name: { type: string, pattern: "^[a-z]+$" }\n        owner: { type: string }\n        size: { type: string, default: small }\n  steps:\n    - id: say\n      action: debug:log\n      input:\n        message: "${{ parameters.name }} is ${{ parameters.size }}"\n',
    });
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, queries and gets entities', async () => {
    const reg = await pave(['catalog', 'register', join(dir, 'all.yaml'), '--server', p.url]);
    assert.equal(reg.code, 0, reg.stderr);
    assert.match(reg.stdout, /registered \(id /);
    await eventually(() => portalOf(p).index.get('component:default/artist-lookup'), 10_000, 'ingestion');
    const q = await pave(['catalog', 'query', '--filter', 'kind=component', '--server', p.url]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /Component\s+default\s+artist-lookup\s+service\s+team-a/);
    const g = await pave(['catalog', 'get', 'api:spotify', '-o', 'json', '--server', p.url]);
    assert.equal(JSON.parse(g.stdout).metadata.name, 'spotify');
    const missing = await pave(['catalog', 'get', 'component:default/nope', '--server', p.url]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No entity named 'nope'/);
  });

  it('runs a template with --set and prints its log', async () => {
    await pave(['catalog', 'register', join(dir, 'template.yaml'), '--server', p.url]);
    await eventually(() => portalOf(p).index.get('template:default/hello'), 10_000, 'the template');
    const r = await pave(['create', 'hello', '--set', 'who=world', '--set', 'times=3', '--server', p.url]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\[say\] hello world x3/);
    assert.match(r.stdout, /Run completed with status: completed/);
  });

  it('refuses values the template\'s parameters do not allow, naming each field, and fills in defaults', async () => {
    await pave(['catalog', 'register', join(dir, 'strict.yaml'), '--server', p.url]);
    await eventually(() => portalOf(p).index.get('template:default/strict'), 10_000, 'the template');
    const bad = await pave(['create', 'strict', '--set', 'name=Not_Valid', '--server', p.url]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /name must match pattern/);
    assert.match(bad.stderr, /owner is required/);
    const ok = await pave(['create', 'strict', '--set', 'name=orders', '--set', 'owner=team-a', '--server', p.url]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /\[say\] orders is small/, 'the default the form shows');
  });
});
