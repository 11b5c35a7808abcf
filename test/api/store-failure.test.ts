import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { startPlatform } from '../support/platform.js';

test("when the store's database thread dies, writes fail with the reason, /livez says so and Pave reports it once", async () => {
  const p = await startPlatform();
  try {
    const fatal: Error[] = [];
    p.onFatal((e) => fatal.push(e));
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: '1' } });
    await p.client.create(cm('before'));
    assert.equal((await fetch(`${p.url}/livez`)).status, 200);

    // what a crash of the thread looks like from the API thread (the store keeps it private)
    await (p.store as unknown as { worker: Worker }).worker.terminate();

    await assert.rejects(p.client.create(cm('after')), /database thread exited/);
    const live = await fetch(`${p.url}/livez`);
    assert.equal(live.status, 503);
    assert.match(await live.text(), /database thread exited/);
    assert.equal((await fetch(`${p.url}/readyz`)).status, 503);
    const write = await fetch(`${p.url}/k8s/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cm('via-http')) });
    assert.equal(write.status, 503, "a write over HTTP is refused as Service Unavailable");
    assert.match(await write.text(), /database thread exited/, "and says why");
    assert.equal(fatal.length, 1);
    assert.match(fatal[0]!.message, /database thread exited/);
  } finally {
    await p.close();
  }
});

test('closing the store normally is not reported as a failure', async () => {
  const p = await startPlatform();
  const fatal: Error[] = [];
  p.onFatal((e) => fatal.push(e));
  await p.close();
  assert.deepEqual(fatal, []);
});

test("when the store's checkpoint thread dies, Pave reports it and still shuts down", async () => {
  const p = await startPlatform();
  const fatal: Error[] = [];
  p.onFatal((e) => fatal.push(e));
  await (p.store as unknown as { checkpointer: Worker }).checkpointer.terminate();
  await assert.rejects(p.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after', namespace: 'default' } }), /checkpoint thread exited/);
  assert.match(fatal[0]?.message ?? '', /checkpoint thread exited/);
  // a close that waited for the thread to end, after it had ended, would wait forever
  const closed = await Promise.race([p.close().then(() => true), new Promise((r) => setTimeout(r, 10_000, false))]);
  assert.ok(closed, 'the platform closed');
});
