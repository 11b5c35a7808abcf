import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually } from '../support/platform.js';
import { startControlPlane } from './fixtures.js';

function nop(name: string, forProvider: Record<string, unknown>, extra: Record<string, any> = {}): Resource {
  const { metadata, spec, ...rest } = extra;
  return { apiVersion: NOP_API, kind: 'NopResource', metadata: { name, ...(metadata ?? {}) }, spec: { forProvider, ...(spec ?? {}) }, ...rest };
}

describe('the managed resource reconciler (over provider-nop)', () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  const ref = (name: string) => ({ apiVersion: NOP_API, kind: 'NopResource', name });
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => cp.p.close());

  it('creates the external resource once and reports Ready and Synced with Crossplane reasons', async () => {
    await cp.p.client.create(nop('mr-basic', { size: 1 }, { spec: { writeConnectionSecretToRef: { name: 'mr-basic-conn', namespace: 'default' } } }));
    const mr = await cp.waitReady(NOP_API, 'NopResource', 'mr-basic');
    assert.equal(cp.condition(mr, 'Ready')?.reason, 'Available');
    assert.equal(cp.condition(mr, 'Synced')?.reason, 'ReconcileSuccess');
    const a = mr.metadata.annotations!;
    assert.equal(a['crossplane.io/external-name'], 'mr-basic');
    assert.ok(a['crossplane.io/external-create-pending'] && a['crossplane.io/external-create-succeeded']! >= a['crossplane.io/external-create-pending']!);
    assert.ok(mr.metadata.finalizers?.includes('finalizer.managedresource.crossplane.io'));
    assert.equal(cp.backend.createCount('mr-basic'), 1);
    assert.deepEqual(mr.status.atProvider, { id: 'mr-basic', fields: { size: 1 } });
    const secret = await eventually(() => cp.get('v1', 'Secret', 'mr-basic-conn', 'default'));
    assert.equal(Buffer.from(secret.data.endpoint, 'base64').toString(), 'nop://mr-basic');
  });

  it('shows a connection secret it cannot write as Synced=False, and writes it once it can', async () => {
    await cp.p.client.create(nop('mr-no-ns', { size: 1 }, { spec: { writeConnectionSecretToRef: { name: 'mr-no-ns-conn', namespace: 'not-yet' } } }));
    const failed = await eventually(async () => {
      const mr = await cp.get(NOP_API, 'NopResource', 'mr-no-ns');
      return cp.condition(mr, 'Synced')?.status === 'False' ? mr : undefined;
    });
    assert.match(cp.condition(failed, 'Synced')!.message, /cannot publish connection details to Secret not-yet\/mr-no-ns-conn \(spec\.writeConnectionSecretToRef\): .*not-yet/);
    assert.equal(cp.condition(failed, 'Ready')?.reason, 'Creating');
    assert.equal(cp.backend.createCount('mr-no-ns'), 1);
    await cp.p.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'not-yet' } });
    await cp.waitReady(NOP_API, 'NopResource', 'mr-no-ns');
    assert.ok(await cp.get('v1', 'Secret', 'mr-no-ns-conn', 'not-yet'));
    assert.equal(cp.backend.createCount('mr-no-ns'), 1);
  });

  it("leaves a Secret it does not control as it is, and says so, as Crossplane's publisher does", async () => {
    await cp.p.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'team-creds', namespace: 'default' }, stringData: { password: 'theirs' } });
    await cp.p.client.create(nop('mr-theirs', { size: 1 }, { spec: { writeConnectionSecretToRef: { name: 'team-creds', namespace: 'default' } } }));
    const failed = await eventually(async () => {
      const mr = await cp.get(NOP_API, 'NopResource', 'mr-theirs');
      return cp.condition(mr, 'Synced')?.status === 'False' ? mr : undefined;
    });
    assert.match(cp.condition(failed, 'Synced')!.message, /cannot publish connection details to Secret default\/team-creds .*it exists, is of type Opaque and nothing controls it/);
    const secret = (await cp.get('v1', 'Secret', 'team-creds', 'default'))!;
    assert.deepEqual(Object.keys(secret.data), ['password']);
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 'theirs');
    assert.equal(secret.metadata.ownerReferences, undefined);

    // nor one that another managed resource controls
    await cp.p.client.create(nop('mr-second', { size: 2 }, { spec: { writeConnectionSecretToRef: { name: 'mr-basic-conn', namespace: 'default' } } }));
    const second = await eventually(async () => {
      const mr = await cp.get(NOP_API, 'NopResource', 'mr-second');
      return cp.condition(mr, 'Synced')?.status === 'False' ? mr : undefined;
    });
    assert.match(cp.condition(second, 'Synced')!.message, /it is controlled by NopResource mr-basic/);
    const basic = (await cp.get('v1', 'Secret', 'mr-basic-conn', 'default'))!;
    assert.equal(Buffer.from(basic.data.endpoint, 'base64').toString(), 'nop://mr-basic');
  });

  it("follows provider-nop's conditionAfter and connectionDetails, observing again when a condition falls due", async () => {
    const readiness: string[] = [];
    const watch = await cp.p.client.watch(NOP_API, 'NopResource', {}, (e) => {
      if (e.object.metadata.name !== 'mr-scheduled') return;
      const status = cp.condition(e.object, 'Ready')?.status;
      if (status && readiness.at(-1) !== status) readiness.push(status);
    });
    try {
      // polled once an hour: only the scheduled change can make it Ready within the test
      await cp.p.client.create(
        nop(
          'mr-scheduled',
          {
            conditionAfter: [
              { time: '0s', conditionType: 'Ready', conditionStatus: 'False' },
              { time: '2s', conditionType: 'Ready', conditionStatus: 'True' },
              { time: '2s', conditionType: 'Green', conditionStatus: 'True', conditionReason: 'Painted' },
            ],
            connectionDetails: [
              { name: 'username', value: 'fakeuser' },
              { name: 'endpoint', value: '127.0.0.1' },
            ],
          },
          { metadata: { annotations: { 'crossplane.io/poll-interval': '1h' } }, spec: { writeConnectionSecretToRef: { name: 'mr-scheduled-conn', namespace: 'default' } } },
        ),
      );
      const mr = await cp.waitReady(NOP_API, 'NopResource', 'mr-scheduled', undefined, 30_000);
      assert.deepEqual(readiness, ['False', 'True']);
      assert.equal(cp.condition(mr, 'Ready')?.reason, 'Available');
      assert.deepEqual({ status: cp.condition(mr, 'Green')?.status, reason: cp.condition(mr, 'Green')?.reason }, { status: 'True', reason: 'Painted' });
      const secret = await eventually(() => cp.get('v1', 'Secret', 'mr-scheduled-conn', 'default'));
      const details = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
      assert.deepEqual(details, { endpoint: '127.0.0.1', username: 'fakeuser' });
    } finally {
      watch.stop();
    }
    await assert.rejects(
      cp.p.client.create(nop('mr-bad-time', { conditionAfter: [{ time: 'soon', conditionType: 'Ready', conditionStatus: 'True' }] })),
      /spec\.forProvider\.conditionAfter\[0\]\.time/,
    );
  });

  it("serves ClusterNopResource, newer provider-nop's name for the cluster-scoped kind, apart from a NopResource of the same name", async () => {
    await cp.p.client.create(nop('twin', { fields: { side: 'namespaced-era' } }));
    await cp.p.client.create({ ...nop('twin', { fields: { side: 'cluster' } }), kind: 'ClusterNopResource' });
    await cp.waitReady(NOP_API, 'NopResource', 'twin');
    const cluster = await cp.waitReady(NOP_API, 'ClusterNopResource', 'twin');
    assert.deepEqual(cluster.status.atProvider.fields, { fields: { side: 'cluster' } });
    assert.deepEqual(cp.backend.peek('twin'), { fields: { side: 'namespaced-era' } });
    assert.deepEqual(cp.backend.peek('ClusterNopResource/twin'), { fields: { side: 'cluster' } });
    // gone again, external resource and all, so that the polling test below counts one kind
    await cp.p.client.delete({ apiVersion: NOP_API, kind: 'ClusterNopResource', name: 'twin' });
    await eventually(async () => !(await cp.get(NOP_API, 'ClusterNopResource', 'twin')) && !cp.backend.peek('ClusterNopResource/twin'), 10_000, 'the ClusterNopResource deleted');
    assert.deepEqual(cp.backend.peek('twin'), { fields: { side: 'namespaced-era' } });
  });

  it('applies initProvider at creation only', async () => {
    await cp.p.client.create(nop('mr-init', { size: 1 }, { spec: { initProvider: { zone: 'a', size: 5 }, managementPolicies: ['Observe', 'Create', 'Delete', 'LateInitialize'] } }));
    await cp.waitReady(NOP_API, 'NopResource', 'mr-init');
    assert.deepEqual(cp.backend.peek('mr-init'), { zone: 'a', size: 1 });
  });

  it('uses an external name that is already set', async () => {
    await cp.p.client.create(nop('mr-named', { a: 1 }, { metadata: { annotations: { 'crossplane.io/external-name': 'legacy-db-01' } } }));
    await cp.waitReady(NOP_API, 'NopResource', 'mr-named');
    assert.deepEqual(cp.backend.peek('legacy-db-01'), { a: 1 });
    assert.equal(cp.backend.peek('mr-named'), undefined);
  });

  it('corrects out-of-band drift within seconds (batched observe)', async () => {
    await cp.p.client.create(nop('mr-drift', { size: 2 }));
    await cp.waitReady(NOP_API, 'NopResource', 'mr-drift');
    const started = Date.now();
    cp.backend.drift('mr-drift', { size: 99 });
    await eventually(() => cp.backend.peek('mr-drift')?.size === 2, 5000, 'drift corrected');
    assert.ok(Date.now() - started < 5000);
  });

  it('leaves a paused resource alone and resumes when unpaused', async () => {
    await cp.p.client.create(nop('mr-paused', { size: 3 }));
    await cp.waitReady(NOP_API, 'NopResource', 'mr-paused');
    await cp.p.client.patch(ref('mr-paused'), 'merge', { metadata: { annotations: { 'crossplane.io/paused': 'true' } } });
    await eventually(async () => cp.condition(await cp.get(NOP_API, 'NopResource', 'mr-paused'), 'Synced')?.reason === 'ReconcilePaused', 5000, 'ReconcilePaused');
    cp.backend.drift('mr-paused', { size: 50 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(cp.backend.peek('mr-paused')?.size, 50, 'paused: drift is not corrected');
    await cp.p.client.patch(ref('mr-paused'), 'merge', { metadata: { annotations: { 'crossplane.io/paused': null } } });
    await eventually(() => cp.backend.peek('mr-paused')?.size === 3, 5000, 'drift corrected after unpause');
  });

  it('finishes a create interrupted by a crash without creating twice', async () => {
    // the crash came after the backend created it, before create-succeeded was recorded
    await cp.backend.create('mr-crash-after', { size: 4 });
    await cp.p.client.create(nop('mr-crash-after', { size: 4 }, { metadata: { finalizers: ['finalizer.managedresource.crossplane.io'], annotations: { 'crossplane.io/external-name': 'mr-crash-after', 'crossplane.io/external-create-pending': new Date().toISOString() } } }));
    const a = await cp.waitReady(NOP_API, 'NopResource', 'mr-crash-after');
    assert.ok(a.metadata.annotations?.['crossplane.io/external-create-succeeded']);
    assert.equal(cp.backend.createCount('mr-crash-after'), 1);
    // the crash came after pending was recorded, before the backend saw the create
    await cp.p.client.create(nop('mr-crash-before', { size: 5 }, { metadata: { finalizers: ['finalizer.managedresource.crossplane.io'], annotations: { 'crossplane.io/external-name': 'mr-crash-before', 'crossplane.io/external-create-pending': new Date().toISOString() } } }));
    await cp.waitReady(NOP_API, 'NopResource', 'mr-crash-before');
    assert.equal(cp.backend.createCount('mr-crash-before'), 1);
  });

  it('observes but never creates under managementPolicies [Observe]', async () => {
    await cp.p.client.create(nop('mr-observe', { size: 6 }, { spec: { managementPolicies: ['Observe'] } }));
    const mr = await eventually(async () => {
      const o = await cp.get(NOP_API, 'NopResource', 'mr-observe');
      return cp.condition(o, 'Synced')?.status === 'False' ? o : undefined;
    }, 5000, 'Synced=False');
    assert.match(cp.condition(mr, 'Synced')?.message ?? '', /external resource does not exist/);
    assert.equal(cp.backend.createCount('mr-observe'), 0);
  });

  it('reports backend failures as Synced=False with an Event, and recovers with backoff', async () => {
    cp.backend.failureRate = 1;
    try {
      await cp.p.client.create(nop('mr-flaky', { size: 7 }));
      const mr = await eventually(async () => {
        const o = await cp.get(NOP_API, 'NopResource', 'mr-flaky');
        return cp.condition(o, 'Synced')?.status === 'False' ? o : undefined;
      }, 5000, 'Synced=False');
      assert.equal(cp.condition(mr, 'Synced')?.reason, 'ReconcileError');
      assert.match(cp.condition(mr, 'Synced')?.message ?? '', /create failed: nop backend: injected failure/);
      await eventually(async () => (await cp.p.client.list('v1', 'Event', { namespace: 'default' })).items.some((e) => e.involvedObject?.name === 'mr-flaky' && e.reason === 'CannotCreateExternalResource'), 5000, 'a CannotCreateExternalResource Event');
    } finally {
      cp.backend.failureRate = 0;
    }
    await cp.waitReady(NOP_API, 'NopResource', 'mr-flaky', undefined, 10_000);
    assert.equal(cp.backend.createCount('mr-flaky'), 1);
  });

  it('names a missing ProviderConfig in Synced=False', async () => {
    await cp.p.client.create(nop('mr-nopc', { size: 8 }, { spec: { providerConfigRef: { name: 'staging' } } }));
    const mr = await eventually(async () => {
      const o = await cp.get(NOP_API, 'NopResource', 'mr-nopc');
      return cp.condition(o, 'Synced')?.status === 'False' ? o : undefined;
    }, 5000, 'Synced=False');
    assert.match(cp.condition(mr, 'Synced')?.message ?? '', /ProviderConfig "staging" not found/);
    await cp.p.client.create({ apiVersion: NOP_API, kind: 'ProviderConfig', metadata: { name: 'staging' }, spec: {} });
    const ready = await cp.waitReady(NOP_API, 'NopResource', 'mr-nopc', undefined, 10_000);
    const usages = (await cp.p.client.list(NOP_API, 'ProviderConfigUsage', { labelSelector: 'crossplane.io/provider-config=staging' })).items;
    assert.equal(usages.length, 1);
    assert.equal(usages[0]!.resourceRef.name, ready.metadata.name);
  });

  it('holds a ProviderConfig that is in use until its last managed resource is gone', async () => {
    const pcRef = { apiVersion: NOP_API, kind: 'ProviderConfig', name: 'staging' };
    await eventually(async () => (await cp.get(NOP_API, 'ProviderConfig', 'staging'))?.status?.users === 1, 5000, 'status.users 1');
    await cp.p.client.delete(pcRef);
    await new Promise((r) => setTimeout(r, 300));
    const held = await cp.get(NOP_API, 'ProviderConfig', 'staging');
    assert.ok(held?.metadata.deletionTimestamp, 'marked for deletion');
    assert.ok(held?.metadata.finalizers?.includes('in-use.crossplane.io'), 'held by the in-use finalizer');
    await cp.p.client.delete(ref('mr-nopc'));
    await eventually(async () => !(await cp.get(NOP_API, 'ProviderConfig', 'staging')), 10_000, 'ProviderConfig released');
  });

  it('deletes the external resource with the object (deletionPolicy Delete)', async () => {
    await cp.p.client.create(nop('mr-delete', { size: 9 }));
    await cp.waitReady(NOP_API, 'NopResource', 'mr-delete');
    await cp.p.client.delete(ref('mr-delete'));
    await eventually(async () => !(await cp.get(NOP_API, 'NopResource', 'mr-delete')), 5000, 'object gone');
    assert.equal(cp.backend.peek('mr-delete'), undefined);
  });

  it('polls many resources with one backend call per interval', async () => {
    for (let i = 0; i < 50; i++) await cp.p.client.create(nop(`mr-many-${i}`, { i }));
    await eventually(async () => (await cp.p.client.list(NOP_API, 'NopResource')).items.filter((o) => o.metadata.name!.startsWith('mr-many-') && cp.condition(o, 'Ready')?.status === 'True').length === 50, 10_000, '50 ready');
    await cp.p.manager.settle(200);
    const before = cp.backend.calls;
    await new Promise((r) => setTimeout(r, 3000));
    const perSecond = (cp.backend.calls - before) / 3;
    assert.ok(perSecond <= 2, `idle backend calls per second: ${perSecond}`);
    assert.ok(perSecond > 0, 'resources are still being observed');
  });
});
