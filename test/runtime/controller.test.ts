import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isNotFound } from '../../src/api/errors.js';
import type { Resource } from '../../src/api/types.js';
import { eventually, startPlatform, widget, widgetCrd } from '../support/platform.js';

let p: Awaited<ReturnType<typeof startPlatform>>;

before(async () => {
  p = await startPlatform();
  await p.client.create(widgetCrd);
});
after(async () => p.close());

test('a controller reconciles its type and the types it owns, and records events', async () => {
  const reconciled: string[] = [];
  p.manager.add({
    name: 'widget-test-controller',
    for: { apiVersion: 'example.com/v1', kind: 'Widget' },
    owns: [{ apiVersion: 'v1', kind: 'ConfigMap' }],
    async reconcile(key, ctx) {
      reconciled.push(key);
      const [namespace, name] = key.split('/') as [string, string];
      let w: Resource;
      try {
        w = await ctx.client.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace, name });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const owner = [{ apiVersion: w.apiVersion, kind: w.kind, name, uid: w.metadata.uid!, controller: true }];
      await ctx.client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config`, namespace, ownerReferences: owner }, data: { size: String(w.spec.size) } }, { fieldManager: 'widget-test-controller', force: true });
      if (w.status?.conditions?.[0]?.status !== 'True') {
        await ctx.client.updateStatus({ ...w, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Available' }] } });
        ctx.recorder.event(w, 'Normal', 'Configured', `wrote ${name}-config`);
      }
    },
  });
  await p.client.create(widget('c1', 4));
  const cfg = await eventually(() => p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c1-config' }).catch(() => undefined));
  assert.equal(cfg.data.size, '4');
  await eventually(async () => (await p.client.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: 'c1' })).status?.conditions?.[0]?.status === 'True');
  const events = await eventually(async () => (await p.client.list('v1', 'Event', { namespace: 'default' })).items.filter((e) => e.reason === 'Configured'));
  assert.equal(events[0]!.involvedObject.name, 'c1');

  // deleting the owned object is noticed through `owns` and repaired
  await p.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c1-config' });
  await eventually(() => p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c1-config' }).catch(() => undefined), 5000, 'the owned ConfigMap to be recreated');

  // deleting the owner garbage-collects the owned ConfigMap
  await p.client.delete({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: 'c1' });
  await eventually(() => p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c1-config' }).then(() => false, isNotFound), 5000, 'garbage collection');
  assert.ok(reconciled.every((k) => k === 'default/c1'), `only the widget key is queued: ${[...new Set(reconciled)].join(', ')}`);
});

test('an informer caches objects and indexes them by any function', async () => {
  const inf = p.manager.informers.get('v1', 'ConfigMap');
  await inf.waitForSync();
  for (let i = 0; i < 5; i++) await p.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `inf-${i}`, namespace: 'default' } });
  await eventually(() => inf.get('default/inf-4'));
  assert.ok(inf.byIndex('missing', 'x').length === 0);
  inf.addIndexer('by-prefix', (o) => [o.metadata.name!.split('-')[0]!]);
  assert.equal(inf.byIndex('by-prefix', 'inf').length, 5);
});
