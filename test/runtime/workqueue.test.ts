import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkQueue } from '../../src/runtime/workqueue.js';

test('a key added many times while waiting is handed out once', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
  q.shutdown();
});

test('a key added while being processed is processed again afterwards, never concurrently', async () => {
  const q = new WorkQueue<string>();
  q.add('k');
  const first = await q.get();
  q.add('k');
  let second: string | undefined;
  void q.get().then((k) => (second = k));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, undefined, 'not handed out while the first worker holds it');
  q.done(first!);
  await new Promise((r) => setImmediate(r));
  assert.equal(second, 'k');
  q.shutdown();
});

test('failures back off exponentially per key, and forget resets the backoff', async () => {
  const q = new WorkQueue<string>({ baseDelayMs: 20, maxDelayMs: 1000, qps: 1000, burst: 1000 });
  const times: number[] = [];
  const start = Date.now();
  for (let i = 0; i < 3; i++) {
    q.addRateLimited('x');
    const k = await q.get();
    times.push(Date.now() - start);
    q.done(k!);
  }
  assert.equal(q.retries('x'), 3);
  assert.ok(times[2]! - times[1]! >= times[1]! - times[0]!, `delays grow: ${times.join(', ')}`);
  q.forget('x');
  assert.equal(q.retries('x'), 0);
  q.shutdown();
});

test('shutdown releases waiting workers', async () => {
  const q = new WorkQueue<string>();
  const waiting = q.get();
  q.shutdown();
  assert.equal(await waiting, undefined);
});
