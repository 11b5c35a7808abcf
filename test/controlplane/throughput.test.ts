import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually } from '../support/platform.js';
import { postgresClaim, postgresComposition, postgresXrd, startControlPlane, XR_API, yamlDocs } from './fixtures.js';

/**
 * The control plane does little work per claim (bench/controlplane.ts measures how little);
 * these tests hold the shortcuts that make it so to Crossplane's behaviour: a reconcile that
 * skips work must never skip a change.
 */
describe('the control plane does the least work per claim', () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  before(async () => {
    cp = await startControlPlane();
    await cp.apply(yamlDocs(postgresXrd));
    await cp.apply(yamlDocs(postgresComposition()));
    await eventually(() => cp.p.registry.lookup(XR_API, 'PostgreSQLInstance'), 10_000, 'the claim type served');
  });
  after(async () => cp.p.close());

  it('binds a claim in one write that also records the composition and revision its XR uses', async () => {
    await cp.p.client.create(postgresClaim('bind-db', 10));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'bind-db', 'default');
    const xr = (await cp.get(XR_API, 'XPostgreSQLInstance', claim.spec.resourceRef.name))!;
    assert.equal(claim.spec.compositionRef.name, xr.spec.compositionRef.name);
    assert.equal(claim.spec.compositionRevisionRef.name, xr.spec.compositionRevisionRef.name);
    // created at generation 1; the binding write is the only spec change the claim's controller made
    assert.equal(claim.metadata.generation, 2);
  });

  it('creates a claim, its XR, two managed resources and three secrets in about twenty writes, three per managed resource', async () => {
    const writes: string[] = [];
    const xrWrites: Resource[] = [];
    const stop = cp.p.store.watch({ fromRevision: cp.p.store.revision() }, (e) => {
      writes.push(`${e.type} ${e.resource}/${e.object.metadata.name}`);
      if (e.resource === 'xpostgresqlinstances') xrWrites.push(e.object);
    });
    try {
      await cp.p.client.create(postgresClaim('counted-db', 10));
      await cp.waitReady(XR_API, 'PostgreSQLInstance', 'counted-db', 'default');
      await cp.p.manager.settle(300);
    } finally {
      stop();
    }
    const listing = writes.join('\n');
    assert.equal(writes.filter((w) => w.startsWith('ADDED secrets/')).length, 3, listing);
    // each managed resource: created, then finalizer + external name + create-pending in one write, then
    // create-succeeded together with its status
    const perManaged = new Map<string, number>();
    for (const w of writes.filter((x) => x.includes(' nopresources/'))) perManaged.set(w.split(' ')[1]!, (perManaged.get(w.split(' ')[1]!) ?? 0) + 1);
    assert.deepEqual([...perManaged.values()], [3, 3], listing);
    // the XR's first write after its claim created it records its resources and its first status together
    const [, recorded] = xrWrites;
    assert.equal(recorded?.spec.resourceRefs?.length, 2, listing);
    assert.equal(cp.condition(recorded!, 'Ready')?.message, 'Unready resources: db, user', listing);
    // 20 here (one is the XRD's status); two more when the composed resources become ready in separate XR reconciles
    assert.ok(writes.length <= 22, `${writes.length} writes:\n${listing}`);
  });

  it('recreates a composed resource deleted out of band, though the XR had nothing left to do', async () => {
    await cp.p.client.create(postgresClaim('regrow-db', 10));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'regrow-db', 'default');
    await cp.p.manager.settle(200);
    const user = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${claim.spec.resourceRef.name}` })).items.find(
      (m) => m.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'user',
    )!;
    await cp.p.client.delete({ apiVersion: NOP_API, kind: 'NopResource', name: user.metadata.name! });
    const again = await eventually(async () => {
      const o = await cp.get(NOP_API, 'NopResource', user.metadata.name!);
      return o && o.metadata.uid !== user.metadata.uid && cp.condition(o, 'Ready')?.status === 'True' ? o : undefined;
    }, 15_000, 'the composed resource created again and Ready');
    assert.deepEqual(cp.backend.peek(again.metadata.name!), again.spec.forProvider);
  });

  it('creates the external resource again when it vanishes from the backend', async () => {
    await cp.p.client.create(postgresClaim('vanish-db', 10));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'vanish-db', 'default');
    await cp.p.manager.settle(200);
    const mrs = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${claim.spec.resourceRef.name}` })).items;
    const name = mrs[0]!.metadata.annotations!['crossplane.io/external-name']!;
    const before = cp.backend.createCount(name);
    await cp.backend.delete(name);
    await eventually(() => (cp.backend.peek(name) ? true : undefined), 15_000, `external resource ${name} created again`);
    assert.equal(cp.backend.createCount(name), before + 1);
  });

  it('follows a claim change made after everything settled through to the backend', async () => {
    await cp.p.client.create(postgresClaim('grow-db', 10));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'grow-db', 'default');
    await cp.p.manager.settle(200);
    await cp.p.client.patch({ apiVersion: XR_API, kind: 'PostgreSQLInstance', name: 'grow-db', namespace: 'default' }, 'merge', { spec: { parameters: { storageGB: 30 } } });
    const db = await eventually(async () => {
      const mrs = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${claim.spec.resourceRef.name}` })).items;
      const m = mrs.find((o: Resource) => o.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'db');
      return m && cp.backend.peek(m.metadata.name!)?.storageGB === 30 ? m : undefined;
    }, 15_000, 'storageGB 30 in the backend');
    assert.equal(db.spec.forProvider.size, '30720Mi');
  });
});
