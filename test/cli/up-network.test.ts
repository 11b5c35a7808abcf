import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fromNetwork, tempDir } from '../support/platform.js';
import { freePort, requireCommand, runPave, startPaveProcess, stopProcess } from '../support/process.js';
import { spawnSync } from 'node:child_process';

/**
 * `pave up --host 0.0.0.0`: reachable from the network, so a request from another machine
 * without the token is refused, while the CLI and kubectl on this machine work as on loopback.
 */
let server: Awaited<ReturnType<typeof startPaveProcess>>;
let dataDir: string;
const QUICK = ['--dns-port', '0', '--no-local-cloud', '--no-starter-platform'];

before(async () => {
  dataDir = tempDir('pave-up-network-');
  server = await startPaveProcess(dataDir, await freePort(), ['--host', '0.0.0.0', ...QUICK]);
});
after(async () => {
  await stopProcess(server.child);
  rmSync(dataDir, { recursive: true, force: true });
});

test('pave up on 0.0.0.0 says that requests from other machines need the token, and where it is', () => {
  assert.match(server.output(), /Pave is up at http:\/\/0\.0\.0\.0:\d+/);
  assert.match(server.output(), /requests from other machines need the token in .*pave-up-network-.*\/token/);
  assert.doesNotMatch(server.output(), /warning/);
});

test('a request from another machine without the token is refused with 401, one with it is served', async () => {
  const remote = fromNetwork(server.url);
  const refused = await fetch(`${remote}/k8s/api/v1/namespaces`);
  assert.equal(refused.status, 401);
  assert.match(((await refused.json()) as { message: string }).message, /\.pave\/token/);
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  const served = await fetch(`${remote}/k8s/api/v1/namespaces`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(served.status, 200);
});

test('the CLI finds the server and the token in the kubeconfig', () => {
  const applied = runPave(['apply', '-f', '-', '--data-dir', dataDir], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-the-network' }, data: { a: 'b' } }));
  assert.equal(applied.code, 0, applied.err);
  const got = runPave(['get', 'configmaps', '--data-dir', dataDir]);
  assert.equal(got.code, 0, got.err);
  assert.match(got.out, /over-the-network/);
});

test('kubectl on this machine works with the kubeconfig, though it sends no token over plain HTTP', () => {
  requireCommand('kubectl', 'this test runs kubectl against the server');
  const r = spawnSync('kubectl', ['--kubeconfig', join(dataDir, 'kubeconfig'), '--cache-dir', join(dataDir, 'kube-cache'), 'get', 'namespaces', '-o', 'name'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /namespace\/default/);
});

test('--allow-anonymous opts back in on a network address, with a warning', async () => {
  const dir = tempDir('pave-up-anonymous-');
  const open = await startPaveProcess(dir, await freePort(), ['--host', '0.0.0.0', '--allow-anonymous', ...QUICK]);
  try {
    assert.match(open.output(), /warning: --allow-anonymous on 0\.0\.0\.0: anyone who can reach this address acts as the admin/);
    assert.equal((await fetch(`${fromNetwork(open.url)}/k8s/api/v1/namespaces`)).status, 200);
  } finally {
    await stopProcess(open.child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--allow-anonymous takes no value', () => {
  const dir = tempDir('pave-up-bad-');
  const r = runPave(['up', '--allow-anonymous', 'false', '--data-dir', dir]);
  rmSync(dir, { recursive: true, force: true });
  assert.notEqual(r.code, 0);
  assert.match(r.err, /too many arguments/);
});
