import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventExpiry } from '../../src/api/event-expiry.js';
import { createLogger } from '../../src/api/log.js';
import { startPlatform, tempDir } from '../support/platform.js';

const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const event = (name: string, last: string) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name, namespace: 'default' },
  involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: 'app', namespace: 'default' },
  reason: 'Tested',
  message: name,
  type: 'Normal',
  count: 1,
  firstTimestamp: last,
  lastTimestamp: last,
});
const names = async (p: { client: { list(a: string, k: string, o: object): Promise<{ items: { metadata: { name?: string } }[] }> } }) =>
  (await p.client.list('v1', 'Event', { namespace: 'default' })).items.map((e) => e.metadata.name).sort();

test('events that last happened longer ago than the TTL are deleted; recent and repeated ones stay', async () => {
  const p = await startPlatform();
  const expiry = new EventExpiry(p.service, createLogger('silent'), HOUR);
  try {
    await expiry.start();
    await p.client.create(event('old', ago(2 * HOUR)));
    await p.client.create(event('fresh', ago(60_000)));
    const repeated = await p.client.create(event('repeated', ago(2 * HOUR)));
    // it happened again just now: the recorder moves lastTimestamp on and bumps the count
    await p.client.update({ ...repeated, count: 2, lastTimestamp: new Date().toISOString() });
    await expiry.sweep();
    assert.deepEqual(await names(p), ['fresh', 'repeated']);
  } finally {
    await expiry.stop();
    await p.close();
  }
});

test('events stored before a restart expire after it, by the TTL the platform is given', async () => {
  const dataDir = tempDir('pave-events-');
  const first = await startPlatform({ dataDir });
  await first.client.create(event('before-restart', ago(10 * 60_000)));
  await first.client.create(event('just-now', ago(1000)));
  await first.close();
  const second = await startPlatform({ dataDir, eventTtlMs: 5 * 60_000 });
  try {
    assert.deepEqual(await names(second), ['just-now'], 'ten minutes old is past a five-minute TTL');
  } finally {
    await second.close();
  }
});
