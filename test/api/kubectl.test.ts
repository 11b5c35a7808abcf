import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { eventually, startPlatform, tempDir, widget, widgetCrd } from '../support/platform.js';
import { requireCommand } from '../support/process.js';

let p: Awaited<ReturnType<typeof startPlatform>>;
let dir: string;

// kubectl runs asynchronously: the server it talks to lives in this test's own event loop
function kubectl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn('kubectl', ['--kubeconfig', p.kubeconfigPath(), '--cache-dir', join(dir, 'cache'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.err}`);
  return r.out;
}

before(async () => {
  requireCommand('kubectl', 'the kubectl compatibility tests need it');
  p = await startPlatform();
  // a small controller for `kubectl wait`: widgets annotated ready=yes get a Ready condition
  p.manager.add({
    name: 'ready-on-annotation',
    for: { apiVersion: 'example.com/v1', kind: 'Widget' },
    async reconcile(key, ctx) {
      const [namespace, name] = key.split('/') as [string, string];
      const w = await ctx.client.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace, name }).catch(() => undefined);
      if (!w || w.metadata.annotations?.ready !== 'yes' || w.status?.conditions) return;
      await ctx.client.updateStatus({ ...w, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Available' }] } });
    },
  });
  dir = tempDir('pave-kubectl-');
  writeFileSync(join(dir, 'crd.yaml'), stringify(widgetCrd));
  writeFileSync(join(dir, 'w1.yaml'), stringify(widget('w1', 3, { app: 'demo' })));
});
after(async () => p.close());

test('kubectl apply -f a CRD and then objects of it; get; apply again is unchanged', async () => {
  assert.match(await ok('apply', '-f', join(dir, 'crd.yaml')), /customresourcedefinition.apiextensions.k8s.io\/widgets.example.com created/);
  assert.match(await ok('apply', '-f', join(dir, 'w1.yaml')), /widget.example.com\/w1 created/);
  const table = await ok('get', 'widgets');
  assert.match(table, /^NAME\s+READY\s+AGE/m);
  assert.match(table, /^w1\s/m);
  const obj = JSON.parse(await ok('get', 'wd', 'w1', '-o', 'json'));
  assert.equal(obj.spec.size, 3);
  assert.equal(obj.spec.color, 'blue', 'schema default applied');
  assert.match(await ok('apply', '-f', join(dir, 'w1.yaml')), /widget.example.com\/w1 unchanged/);
});

test('kubectl patch --type merge, and an invalid object is refused with the field path', async () => {
  assert.match(await ok('patch', 'widget', 'w1', '--type', 'merge', '-p', '{"spec":{"size":5}}'), /patched/);
  assert.equal(JSON.parse(await ok('get', 'widget', 'w1', '-o', 'json')).spec.size, 5);
  const bad = await kubectl('patch', 'widget', 'w1', '--type', 'merge', '-p', '{"spec":{"size":"huge"}}');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /spec\.size/);
});

test('kubectl get -w streams changes and kubectl wait sees a condition a controller sets', async () => {
  const watch = spawn('kubectl', ['--kubeconfig', p.kubeconfigPath(), '--cache-dir', join(dir, 'cache'), 'get', 'widgets', '-w', '-o', 'name'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let streamed = '';
  watch.stdout.on('data', (d) => (streamed += d));
  const wait = spawn('kubectl', ['--kubeconfig', p.kubeconfigPath(), '--cache-dir', join(dir, 'cache'), 'wait', '--for=condition=Ready', 'widget/w1', '--timeout=20s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let waitOut = '';
  wait.stdout.on('data', (d) => (waitOut += d));
  const waited = new Promise<number>((r) => wait.on('exit', (c) => r(c ?? -1)));
  await eventually(() => streamed.includes('widget.example.com/w1'), 10_000, 'kubectl get -w to list w1');
  await ok('annotate', 'widget', 'w1', 'ready=yes');
  await p.client.create(widget('w2', 1));
  assert.equal(await waited, 0, 'kubectl wait succeeded');
  assert.match(waitOut, /condition met/);
  await eventually(() => streamed.includes('widget.example.com/w2'), 10_000, 'the watch to show w2');
  watch.kill();
});

test('kubectl create namespace makes an Active namespace', async () => {
  assert.match(await ok('create', 'namespace', 'team-a'), /namespace\/team-a created/);
  assert.match(await ok('get', 'namespace', 'team-a'), /^team-a\s+Active\s/m);
});

test('kubectl delete removes the object', async () => {
  assert.match(await ok('delete', 'widget', 'w1'), /deleted/);
  const r = await kubectl('get', 'widget', 'w1');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /not found/);
});
