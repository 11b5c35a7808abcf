import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { NOP_API, NopBackend, nopProviderModule } from '../../src/providers/nop/index.js';
import { eventually, startPlatform } from '../support/platform.js';

/**
 * crossplane-runtime's managed reconciler rules for managementPolicies, deletionPolicy, pausing
 * and failure messages, as a user sees them: conditions, Events and what happens in the backend.
 */
function nop(name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>): Resource {
  return { apiVersion: NOP_API, kind: 'NopResource', metadata: { name, ...(annotations ? { annotations } : {}) }, spec: { forProvider: { size: 1 }, ...spec } };
}

describe('managed resources: management policies, deletion and failures as crossplane-runtime reports them', () => {
  const backend = new NopBackend();
  let p: Awaited<ReturnType<typeof startPlatform>>;
  const get = (name: string) => p.client.get({ apiVersion: NOP_API, kind: 'NopResource', name }).catch(() => undefined);
  const cond = (o: Resource | undefined, type: string) => (o?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
  const ready = (name: string) => eventually(async () => cond(await get(name), 'Ready')?.status === 'True', 10_000, `${name} Ready`);
  const events = async (name: string) => (await p.client.list('v1', 'Event', { namespace: 'default' })).items.filter((e) => e.involvedObject?.name === name);

  before(async () => {
    const nopModule = nopProviderModule({ backend });
    // a backend that names what it creates: an interrupted create cannot be safely retried
    nopModule.provider.managed[0]!.externalNameAssignedByProvider = true;
    p = await startPlatform({ modules: [controlPlaneModule(), nopModule], listen: false });
  });
  after(async () => p.close());

  it('refuses a managementPolicies combination crossplane-runtime does not support, touching nothing', async () => {
    await p.client.create(nop('mp-create-only', { managementPolicies: ['Create'] }));
    const mr = await eventually(async () => {
      const o = await get('mp-create-only');
      return cond(o, 'Synced')?.status === 'False' ? o : undefined;
    }, 5000, 'Synced=False');
    assert.equal(cond(mr, 'Synced')?.reason, 'ReconcileError');
    assert.equal(cond(mr, 'Synced')?.message, '`spec.managementPolicies` is set to a value([Create]) which is not supported. Check docs for supported policies');
    await eventually(async () => (await events('mp-create-only')).some((e) => e.reason === 'CannotUseInvalidManagementPolicy'), 5000, 'a CannotUseInvalidManagementPolicy Event');
    assert.equal(backend.createCount('mp-create-only'), 0);
  });

  it('treats empty managementPolicies as paused', async () => {
    await p.client.create(nop('mp-empty', { managementPolicies: [] }));
    const mr = await eventually(async () => {
      const o = await get('mp-empty');
      return cond(o, 'Synced') ? o : undefined;
    }, 5000, 'a Synced condition');
    assert.equal(cond(mr, 'Synced')?.status, 'False');
    assert.equal(cond(mr, 'Synced')?.reason, 'ReconcilePaused');
    assert.equal(backend.createCount('mp-empty'), 0);
  });

  it('reports an observe-only resource whose external resource is missing as Synced=False', async () => {
    await p.client.create(nop('mp-observe-missing', { managementPolicies: ['Observe'] }));
    const mr = await eventually(async () => {
      const o = await get('mp-observe-missing');
      return cond(o, 'Synced')?.status === 'False' ? o : undefined;
    }, 5000, 'Synced=False');
    assert.equal(cond(mr, 'Synced')?.message, 'observe failed: external resource does not exist');
    assert.equal(backend.createCount('mp-observe-missing'), 0);
  });

  it('deletes the external resource when deletionPolicy Orphan meets an explicit managementPolicies list naming Delete', async () => {
    await p.client.create(nop('mp-orphan-explicit-delete', { deletionPolicy: 'Orphan', managementPolicies: ['Observe', 'Create', 'Update', 'Delete'] }));
    await ready('mp-orphan-explicit-delete');
    await p.client.delete({ apiVersion: NOP_API, kind: 'NopResource', name: 'mp-orphan-explicit-delete' });
    await eventually(async () => !(await get('mp-orphan-explicit-delete')), 5000, 'object gone');
    assert.equal(backend.peek('mp-orphan-explicit-delete'), undefined, 'the explicit Delete policy wins over the Orphan deletionPolicy');
  });

  it('orphans the external resource for deletionPolicy Orphan with the default managementPolicies, and for a list without Delete', async () => {
    await p.client.create(nop('mp-orphan-default', { deletionPolicy: 'Orphan' }));
    await p.client.create(nop('mp-delete-no-delete', { deletionPolicy: 'Delete', managementPolicies: ['Observe', 'Create', 'Update', 'LateInitialize'] }));
    await ready('mp-orphan-default');
    await ready('mp-delete-no-delete');
    for (const name of ['mp-orphan-default', 'mp-delete-no-delete']) await p.client.delete({ apiVersion: NOP_API, kind: 'NopResource', name });
    await eventually(async () => !(await get('mp-orphan-default')) && !(await get('mp-delete-no-delete')), 5000, 'objects gone');
    assert.deepEqual(backend.peek('mp-orphan-default'), { size: 1 });
    assert.deepEqual(backend.peek('mp-delete-no-delete'), { size: 1 });
  });

  it('wraps a failed create as crossplane-runtime does ("create failed: ...")', async () => {
    backend.failureRate = 1;
    try {
      await p.client.create(nop('mp-create-fails'));
      const mr = await eventually(async () => {
        const o = await get('mp-create-fails');
        return cond(o, 'Synced')?.status === 'False' ? o : undefined;
      }, 5000, 'Synced=False');
      assert.match(cond(mr, 'Synced')?.message ?? '', /^create failed: nop backend: injected failure/);
      assert.equal(cond(mr, 'Ready')?.reason, 'Creating');
    } finally {
      backend.failureRate = 0;
    }
  });

  it('waits for a human after an interrupted create whose outcome it cannot know, reporting Creating', async () => {
    await p.client.create({
      ...nop('mp-incomplete'),
      metadata: { name: 'mp-incomplete', finalizers: ['finalizer.managedresource.crossplane.io'], annotations: { 'crossplane.io/external-name': 'mp-incomplete', 'crossplane.io/external-create-pending': new Date().toISOString() } },
    });
    const mr = await eventually(async () => {
      const o = await get('mp-incomplete');
      return cond(o, 'Synced')?.status === 'False' ? o : undefined;
    }, 5000, 'Synced=False');
    assert.equal(cond(mr, 'Synced')?.message, 'cannot determine creation result - remove the crossplane.io/external-create-pending annotation if it is safe to proceed');
    assert.equal(cond(mr, 'Ready')?.status, 'False');
    assert.equal(cond(mr, 'Ready')?.reason, 'Creating');
    assert.equal(backend.createCount('mp-incomplete'), 0);
  });
});
