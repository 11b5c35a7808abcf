import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/api/log.js';
import type { Resource } from '../../src/api/types.js';
import { LocalLiveState, RemoteLiveState, trackingId, TRACKING_ID, type LiveState } from '../../src/gitops/live-state.js';
import { eventually, startPlatform, widgetCrd } from '../support/platform.js';

/**
 * One conformance suite for both live states, run against the same Pave: in process for the
 * local one, over HTTP with the admin token for the remote one.
 */
let p: Awaited<ReturnType<typeof startPlatform>>;
before(async () => {
  p = await startPlatform();
});
after(async () => {
  await p.close();
});

const log = createLogger('silent');
const tracked = (instance: string, name: string, namespace = 'default'): Resource => {
  const o: Resource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { a: '1' } };
  o.metadata.annotations = { [TRACKING_ID]: trackingId(instance, o) };
  return o;
};

const kinds: { name: string; make(onChange: (i: string) => void): LiveState & { close?(): Promise<void> } }[] = [
  { name: 'LocalLiveState', make: (onChange) => new LocalLiveState(p.client, p.manager.informers, onChange) },
  { name: 'RemoteLiveState', make: (onChange) => new RemoteLiveState({ name: 'self', server: `${p.url}/k8s`, bearerToken: p.adminToken, namespaces: [], clusterResources: false }, log, onChange) },
];

for (const kind of kinds) {
  describe(`${kind.name} conformance`, () => {
    const changed: string[] = [];
    let live: ReturnType<typeof kind.make>;
    const prefix = kind.name.toLowerCase();
    before(() => {
      live = kind.make((i) => changed.push(i));
    });
    after(async () => {
      await live.close?.();
    });

    test('knows served types, and finds a CRD stored after a first miss', async () => {
      assert.equal((await live.typeOf('v1', 'ConfigMap'))?.namespaced, true);
      assert.equal((await live.typeOf('v1', 'Namespace'))?.namespaced, false);
      const group = `${prefix}.example.com`;
      assert.equal(await live.typeOf(`${group}/v1`, 'Widget'), undefined);
      assert.equal(await live.watch(`${group}/v1`, 'Widget'), false);
      await p.client.create({ ...widgetCrd, metadata: { name: `widgets.${group}` }, spec: { ...widgetCrd.spec, group } });
      await eventually(async () => (await live.typeOf(`${group}/v1`, 'Widget'))?.kind === 'Widget', 10_000, 'the new CRD to be served');
    });

    test('reads objects through its cache and lists those an app instance tracks', async () => {
      const app = `${prefix}-app`;
      const one = tracked(app, `${prefix}-one`);
      assert.equal(await live.get(one), undefined);
      await p.client.create(one);
      await p.client.create(tracked(`${prefix}-other`, `${prefix}-two`));
      await p.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-untracked`, namespace: 'default' } });
      const seen = await eventually(() => live.get(one), 10_000, 'the object in the cache');
      assert.equal(seen.data?.a, '1');
      assert.equal(live.cached(one)?.metadata.name, one.metadata.name);
      await eventually(() => changed.includes(app), 10_000, 'a change reported for the tracking instance');
      assert.deepEqual(live.tracked(app).map((o) => o.metadata.name), [one.metadata.name]);
      assert.equal(live.unmanaged(one), undefined);
    });

    test('writes through its client and sees the change', async () => {
      const one = tracked(`${prefix}-app`, `${prefix}-one`);
      await live.client.apply({ ...one, data: { a: '2' } }, { fieldManager: 'test', force: true });
      await eventually(() => live.cached(one)?.data?.a === '2', 10_000, 'the applied change in the cache');
      await live.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: one.metadata.name! });
      await eventually(() => !live.cached(one) && !live.tracked(`${prefix}-app`).length, 10_000, 'the deletion in the cache');
    });
  });
}

test('a remote limited to namespaces watches and manages only those', async () => {
  await p.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  await p.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
  await p.client.create(tracked('scoped', 'in-a', 'team-a'));
  await p.client.create(tracked('scoped', 'in-b', 'team-b'));
  const live = new RemoteLiveState({ name: 'scoped', server: `${p.url}/k8s`, bearerToken: p.adminToken, namespaces: ['team-a'], clusterResources: false }, log, () => undefined);
  try {
    assert.equal((await live.get(tracked('scoped', 'in-a', 'team-a')))?.metadata.name, 'in-a');
    assert.equal(await live.get(tracked('scoped', 'in-b', 'team-b')), undefined);
    assert.deepEqual(live.tracked('scoped').map((o) => o.metadata.name), ['in-a']);
    assert.match(live.unmanaged(tracked('scoped', 'x', 'team-b')) ?? '', /namespace team-b is not managed on cluster scoped/);
    assert.equal(await live.watch('v1', 'Namespace'), false);
    assert.match(live.unmanaged({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-c' } }) ?? '', /cluster-scoped resources are not managed/);
  } finally {
    await live.close();
  }
});

test('a remote that refuses the token says so instead of waiting', async () => {
  const live = new RemoteLiveState({ name: 'wrong', server: `${p.url}/k8s`, bearerToken: 'not-the-token', namespaces: [], clusterResources: false }, log, () => undefined);
  try {
    await assert.rejects(live.get(tracked('x', 'y')), /bearer token is not valid/);
  } finally {
    await live.close();
  }
});
