import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { eventually, startPlatform } from '../support/platform.js';

let p: Awaited<ReturnType<typeof startPlatform>>;
before(async () => (p = await startPlatform()));
after(async () => p.close());

const configMap = (name: string, owner?: Resource): Resource => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid! }] } : {}) },
});
const exists = (name: string) => p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name }).then(() => true, () => false);

test('dependents created while their owner lives go with it; one naming an owner already gone is collected', async () => {
  const owner = await p.client.create(configMap('owner'));
  await p.client.create(configMap('dep-1', owner));
  await p.client.create(configMap('dep-2', owner));
  // the collector has seen the owner alive; that must not outlive the owner
  await new Promise((r) => setTimeout(r, 200));
  assert.ok((await exists('dep-1')) && (await exists('dep-2')), 'dependents of a live owner stay');
  await p.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'owner' });
  await eventually(async () => !(await exists('dep-1')) && !(await exists('dep-2')), 10_000, 'dependents deleted with their owner');
  await p.client.create(configMap('dep-3', owner));
  await eventually(async () => !(await exists('dep-3')), 10_000, 'a dependent of a deleted owner collected');
});
