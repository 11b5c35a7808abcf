import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { tempDir, widgetCrd } from '../support/platform.js';
import { freePort, paveBin, startPaveProcess, stopProcess } from '../support/process.js';

let server: Awaited<ReturnType<typeof startPaveProcess>>;
let dataDir: string;
let work: string;

function pave(args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [paveBin, ...args, '--data-dir', dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
    c.stdin.end(input ?? '');
  });
}

before(async () => {
  dataDir = tempDir('pave-cli-');
  work = tempDir('pave-cli-files-');
  server = await startPaveProcess(dataDir, await freePort(), ['--dns-port', '0']);
  writeFileSync(join(work, 'crd.yaml'), stringify(widgetCrd));
  writeFileSync(
    join(work, 'objects.yaml'),
    [
      stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }),
      stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'team-a' }, spec: { size: 2 } }),
      stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team-a' }, data: { mode: 'fast' } }),
    ].join('---\n'),
  );
});
after(async () => stopProcess(server.child));

test('pave up prints its URL and writes a kubeconfig', () => {
  assert.match(server.output(), /Pave is up at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(server.output(), /KUBECONFIG=.*kubeconfig/);
});

test('pave apply -f a directory applies namespaces and CRDs first, and reports what changed', async () => {
  const r = await pave(['apply', '-f', work]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.deepEqual(lines, ['namespace/team-a created', 'customresourcedefinition/widgets.example.com created', 'widget/w1 created', 'configmap/settings created']);
  const again = await pave(['apply', '-f', join(work, 'objects.yaml')]);
  assert.match(again.out, /widget\/w1 unchanged/);
});

test('pave apply -f - reads stdin, and a bad object is an error naming file, object and field', async () => {
  const ok = await pave(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-stdin' }, data: { a: 'b' } }));
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /configmap\/from-stdin created/);
  const bad = await pave(['apply', '-f', '-'], stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'bad', namespace: 'team-a' }, spec: { size: 'big' } }));
  assert.equal(bad.code, 1);
  assert.match(bad.err, /<stdin>: widget\/bad: .*spec\.size/);
  const yaml = await pave(['apply', '-f', '-'], 'kind: ConfigMap\nmetadata: [unclosed\n');
  assert.notEqual(yaml.code, 0);
  assert.match(yaml.err, /<stdin>:\d+:\d+: invalid YAML/);
});

test('pave get prints tables, yaml and json; unknown types are a clear error', async () => {
  const table = await pave(['get', 'widgets', '-n', 'team-a']);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^NAME\s+READY\s+AGE\nw1\s+/m);
  const yaml = await pave(['get', 'wd', 'w1', '-n', 'team-a', '-o', 'yaml']);
  assert.match(yaml.out, /kind: Widget/);
  assert.match(yaml.out, /size: 2/);
  const json = JSON.parse((await pave(['get', 'configmap', 'settings', '-n', 'team-a', '-o', 'json'])).out);
  assert.equal(json.data.mode, 'fast');
  const all = await pave(['get', 'configmaps', '-A']);
  assert.match(all.out, /^NAMESPACE\s+NAME/m);
  assert.match(all.out, /team-a\s+settings/);
  const unknown = await pave(['get', 'gizmos']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /doesn't have a resource type "gizmos"/);
});

test('pave delete removes by name and by file', async () => {
  const r = await pave(['delete', 'configmap', 'settings', '-n', 'team-a']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /configmap "settings" deleted/);
  const missing = await pave(['get', 'configmap', 'settings', '-n', 'team-a']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /not found/);
  const byFile = await pave(['delete', '-f', join(work, 'objects.yaml')]);
  assert.match(byFile.out, /widget\/w1 deleted/);
});

test("a data directory's token goes only to its own server, not to one named with --server", async () => {
  // another server, which records what it is sent and serves nothing
  const seen: (string | undefined)[] = [];
  const other = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  try {
    const own = readFileSync(join(dataDir, 'token'), 'utf8').trim();
    await pave(['get', 'configmaps', '-n', 'team-a', '--server', otherUrl]);
    assert.ok(seen.length > 0, 'the named server was asked');
    assert.ok(!seen.some((h) => h?.includes(own)), 'the data directory token was not sent to it');
    // its own server, named explicitly, still gets it
    const mine = await pave(['get', 'configmaps', '-n', 'team-a', '--server', server.url]);
    assert.equal(mine.code, 0, mine.err);
  } finally {
    other.close();
  }
});
