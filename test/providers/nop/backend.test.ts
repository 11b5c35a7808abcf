import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ManagedResource } from '../../../src/controlplane/provider.js';
import { NopBackend, nopClient } from '../../../src/providers/nop/index.js';
import { tempDir } from '../../support/platform.js';

const mr = (name: string, forProvider: Record<string, unknown>): ManagedResource => ({ apiVersion: 'nop.crossplane.io/v1alpha1', kind: 'NopResource', metadata: { name, annotations: { 'crossplane.io/external-name': name } }, spec: { forProvider } });

describe('provider-nop (test provider)', () => {
  it('observes, creates, updates and deletes, and reports drift as not up to date', async () => {
    const backend = new NopBackend();
    const client = nopClient(backend);
    assert.equal((await client.observe(mr('a', { x: 1 }))).resourceExists, false);
    await client.create(mr('a', { x: 1 }));
    const obs = await client.observe(mr('a', { x: 1 }));
    assert.equal(obs.resourceExists && obs.resourceUpToDate, true);
    assert.equal(obs.connectionDetails?.endpoint, 'nop://a');
    backend.drift('a', { x: 2 });
    const drifted = await client.observe(mr('a', { x: 1 }));
    assert.equal(drifted.resourceUpToDate, false);
    assert.match(drifted.diff ?? '', /"x":2/);
    await client.update(mr('a', { x: 1 }));
    assert.equal((await client.observe(mr('a', { x: 1 }))).resourceUpToDate, true);
    await client.delete(mr('a', { x: 1 }));
    await client.delete(mr('a', { x: 1 }));
    assert.equal(backend.peek('a'), undefined);
  });

  it("reports the conditions conditionAfter has reached by the resource's age, and when the next one is due", async () => {
    const client = nopClient(new NopBackend());
    const forProvider = {
      conditionAfter: [
        { time: '0s', conditionType: 'Ready', conditionStatus: 'False' },
        { time: '1s', conditionType: 'Green', conditionStatus: 'True' },
        { time: '1m', conditionType: 'Ready', conditionStatus: 'True', conditionReason: 'Done' },
      ],
      connectionDetails: [{ name: 'password', value: 'verysecurepassword' }],
    };
    const young = { ...mr('c', forProvider), metadata: { ...mr('c', forProvider).metadata, creationTimestamp: new Date(Date.now() - 30_000).toISOString() } };
    await client.create(young);
    const obs = await client.observe(young);
    assert.deepEqual(obs.conditions, [
      { type: 'Green', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'Unavailable' },
    ]);
    assert.equal(obs.ready, false);
    assert.ok(obs.changesAfterMs! > 25_000 && obs.changesAfterMs! <= 30_000, `next change in ${obs.changesAfterMs} ms`);
    assert.deepEqual(obs.connectionDetails, { password: 'verysecurepassword' });
    const old = { ...young, metadata: { ...young.metadata, creationTimestamp: new Date(Date.now() - 120_000).toISOString() } };
    const later = await client.observe(old);
    assert.deepEqual(later.conditions?.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'True', reason: 'Done' });
    assert.equal(later.ready, true);
    assert.equal(later.changesAfterMs, undefined);
    // without conditionAfter: Ready as soon as it exists, as before
    await client.create(mr('a-plain', {}));
    const plain = await client.observe(mr('a-plain', {}));
    assert.equal(plain.resourceExists && plain.ready, undefined);
    assert.equal(plain.conditions, undefined);
  });

  it('observes many resources in one backend call', async () => {
    const backend = new NopBackend();
    const client = nopClient(backend);
    for (let i = 0; i < 100; i++) await client.create(mr(`r${i}`, { i }));
    const before = backend.calls;
    const all = await client.observeMany!(Array.from({ length: 100 }, (_, i) => mr(`r${i}`, { i })));
    assert.equal(backend.calls - before, 1);
    assert.ok(all.every((o) => o.resourceExists && o.resourceUpToDate));
  });

  it('counts creates per external name across processes through its state file', async () => {
    const dir = tempDir('pave-nop-');
    const statePath = join(dir, 'state.jsonl');
    try {
      const first = new NopBackend({ statePath });
      await first.create('db', { size: 1 });
      first.drift('db', { size: 2 });
      const second = new NopBackend({ statePath });
      assert.deepEqual(second.peek('db'), { size: 2 });
      assert.equal(second.createCount('db'), 1);
      await second.create('db', { size: 1 });
      assert.deepEqual(new NopBackend({ statePath }).duplicates(), ['db']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails writes at the configured rate without changing anything', async () => {
    const backend = new NopBackend({ failureRate: 1 });
    await assert.rejects(nopClient(backend).create(mr('x', {})), /injected failure of create x/);
    assert.equal(backend.createCount('x'), 0);
    const slow = new NopBackend({ latencyMs: 30 });
    const started = Date.now();
    await slow.get('x');
    assert.ok(Date.now() - started >= 25);
  });
});
