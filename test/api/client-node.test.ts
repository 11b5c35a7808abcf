import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { eventually, startPlatform, widget, widgetCrd } from '../support/platform.js';

let p: Awaited<ReturnType<typeof startPlatform>>;
let kc: k8s.KubeConfig;

before(async () => {
  p = await startPlatform();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(p.kubeconfigPath());
});
after(async () => p.close());

test('@kubernetes/client-node: CRUD on core types and custom resources', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'settings' }, data: { mode: 'fast' } } });
  const cm = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'default' });
  assert.equal(cm.data?.mode, 'fast');
  // client-node's typed models rename `default` to `_default`, so the CRD goes in as plain JSON
  await p.client.create(widgetCrd);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const crd = await ext.readCustomResourceDefinition({ name: 'widgets.example.com' });
  assert.equal(crd.status?.conditions?.find((c) => c.type === 'Established')?.status, 'True');
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await custom.createNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', body: widget('w1', 2) });
  const got = (await custom.getNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1' })) as { spec: { size: number; color: string } };
  assert.deepEqual(got.spec, { size: 2, color: 'blue' }, 'schema default applied');
  const list = (await custom.listNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets' })) as { items: unknown[] };
  assert.equal(list.items.length, 1);
  await custom.deleteNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1' });
  await assert.rejects(custom.getNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1' }), (e: { code?: number }) => e.code === 404);
});

test('@kubernetes/client-node: watch streams added, modified and deleted events', async () => {
  const seen: string[] = [];
  const watch = new k8s.Watch(kc);
  const req = await watch.watch('/api/v1/namespaces/default/configmaps', {}, (type, obj: k8s.V1ConfigMap) => seen.push(`${type} ${obj.metadata?.name}`), () => undefined);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' }, data: { a: '1' } } });
  await core.patchNamespacedConfigMap({ name: 'watched', namespace: 'default', body: { data: { a: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
  await eventually(() => seen.includes('DELETED watched'), 5000, 'the DELETED event');
  req.abort();
  assert.deepEqual(
    seen.filter((s) => s.endsWith(' watched')),
    ['ADDED watched', 'MODIFIED watched', 'DELETED watched'],
  );
});
