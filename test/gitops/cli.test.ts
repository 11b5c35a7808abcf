import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { application, configMap, getApp, newRepo, startDelivery, waitApp, type TestPlatform } from './support.js';

let p: TestPlatform;
before(async () => {
  p = await startDelivery();
});
after(async () => {
  await p.close();
});

/** Runs the real `pave` binary against the test server (asynchronously: the server is in this process). */
async function pave(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['bin/pave.js', ...args, '--server', p.url, '--data-dir', p.dataDir]);
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

test('pave app: list, diff, sync with progress, history and rollback', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'manual');
  wc.write('cfg/cm.yaml', configMap('manual-cm', { version: 'one' }));
  const first = await wc.commitAndPush('one');
  await p.client.create(application('manual', url, 'cfg'));
  await waitApp(p, 'manual', (a) => a.status?.sync?.status === 'OutOfSync', 'OutOfSync (no automated sync)');

  const list = await pave('app', 'list');
  assert.match(list.out, /manual\s+OutOfSync\s+Missing/);
  const d = await pave('app', 'diff', 'manual');
  assert.equal(d.code, 1);
  assert.match(d.out, /ConfigMap default\/manual-cm/);

  const sync = await pave('app', 'sync', 'manual');
  assert.equal(sync.code, 0, sync.err);
  assert.match(sync.out, /ConfigMap default\/manual-cm\s+Synced/);
  assert.match(sync.out, /sync Succeeded/);

  wc.write('cfg/cm.yaml', configMap('manual-cm', { version: 'two' }));
  await wc.commitAndPush('two');
  await waitApp(p, 'manual', (a) => a.status?.sync?.status === 'OutOfSync', 'OutOfSync after the push');
  assert.equal((await pave('app', 'sync', 'manual')).code, 0);
  const history = await pave('app', 'history', 'manual');
  assert.match(history.out, new RegExp(`0\\s+\\S+\\s+${first.slice(0, 12)}`));

  const rollback = await pave('app', 'rollback', 'manual', '0');
  assert.equal(rollback.code, 0, rollback.err);
  assert.match(rollback.out, /rollback to .* Succeeded/);
  const live = await p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'manual-cm' });
  assert.equal(live.data.version, 'one');
  const app = await getApp(p, 'manual');
  assert.equal(app.status.history.length, 3);
  assert.equal(app.operation, undefined);
});
