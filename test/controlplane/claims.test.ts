import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { xrNameSuffix } from '../../src/controlplane/claim.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually } from '../support/platform.js';
import { postgresClaim, postgresComposition, postgresXrd, startControlPlane, XR_API, yamlDocs } from './fixtures.js';

describe('claims, composites and composed resources (seed example)', () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  before(async () => {
    cp = await startControlPlane();
    await cp.apply(yamlDocs(postgresXrd));
    await cp.apply(yamlDocs(postgresComposition()));
  });
  after(async () => cp.p.close());

  it('serves the claim and composite types with Established and Offered', async () => {
    const xrd = await eventually(async () => {
      const o = await cp.get('apiextensions.crossplane.io/v1', 'CompositeResourceDefinition', 'xpostgresqlinstances.database.example.org');
      return cp.condition(o, 'Offered')?.status === 'True' ? o : undefined;
    });
    assert.equal(cp.condition(xrd, 'Established')?.reason, 'WatchingCompositeResource');
    const types = await cp.p.client.types();
    const claim = types.find((t) => t.kind === 'PostgreSQLInstance');
    const xr = types.find((t) => t.kind === 'XPostgreSQLInstance');
    assert.equal(claim?.namespaced, true);
    assert.equal(xr?.namespaced, false);
  });

  it('rejects a claim that misses a required parameter, naming the field', async () => {
    await assert.rejects(
      cp.p.client.create({ apiVersion: XR_API, kind: 'PostgreSQLInstance', metadata: { name: 'bad', namespace: 'default' }, spec: { parameters: {} } }),
      (e: Error) => /storageGB/.test(e.message),
    );
  });

  it('turns a claim into an XR and two ready managed resources with a connection secret', async () => {
    await cp.p.client.create(postgresClaim('orders-db', 20));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'orders-db', 'default');
    const xrName = claim.spec.resourceRef.name as string;
    assert.match(xrName, /^orders-db-[0-9a-f]{5}$/);
    assert.equal(claim.spec.compositionRef.name, 'xpostgresqlinstances.nop.database.example.org');
    const xr = (await cp.get(XR_API, 'XPostgreSQLInstance', xrName))!;
    assert.equal(xr.metadata.labels?.['crossplane.io/claim-name'], 'orders-db');
    assert.equal(xr.metadata.labels?.['crossplane.io/claim-namespace'], 'default');
    assert.deepEqual(xr.spec.claimRef, { apiVersion: XR_API, kind: 'PostgreSQLInstance', namespace: 'default', name: 'orders-db' });
    assert.equal(xr.spec.resourceRefs.length, 2);
    assert.ok(xr.spec.compositionRevisionRef.name.startsWith('xpostgresqlinstances.nop.database.example.org-'));

    const mrs = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;
    assert.equal(mrs.length, 2);
    const db = mrs.find((m) => m.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'db')!;
    const user = mrs.find((m) => m.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'user')!;
    assert.match(db.metadata.name!, new RegExp(`^${xrName}-[0-9a-f]{5}$`));
    assert.deepEqual(db.spec.forProvider, { engine: 'postgres', version: '16', storageGB: 20, size: '20480Mi', team: 'default' });
    assert.equal(user.spec.forProvider.login, 'default-orders-db');
    assert.equal(db.metadata.ownerReferences?.[0]?.uid, xr.metadata.uid);
    assert.equal(db.metadata.labels?.['crossplane.io/claim-name'], 'orders-db');
    // the external resources exist in the backend
    assert.deepEqual(cp.backend.peek(db.metadata.name!), db.spec.forProvider);
    // status patched back from the composed resource
    assert.equal(claim.status.address, db.metadata.name);

    const secret = await eventually(() => cp.get('v1', 'Secret', 'orders-db-conn', 'default'));
    const keys = Object.keys(secret.data).sort();
    assert.deepEqual(keys, ['endpoint', 'password', 'port', 'username']);
    assert.equal(Buffer.from(secret.data.port, 'base64').toString(), '5432');
    assert.equal(Buffer.from(secret.data.endpoint, 'base64').toString(), `nop://${db.metadata.name}`);
  });

  it('flows a claim change through the XR to the managed resource and the backend', async () => {
    await cp.p.client.create(postgresClaim('billing-db', 10));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'billing-db', 'default');
    await cp.p.client.patch({ apiVersion: XR_API, kind: 'PostgreSQLInstance', name: 'billing-db', namespace: 'default' }, 'merge', { spec: { parameters: { storageGB: 40 } } });
    const xrName = claim.spec.resourceRef.name;
    await eventually(async () => {
      const mrs = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;
      const db = mrs.find((m) => m.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'db');
      return db && cp.backend.peek(db.metadata.name!)?.storageGB === 40;
    }, 10_000, 'storageGB 40 in the backend');
  });

  it('with compositeDeletePolicy Foreground, keeps the claim until its XR and composed resources are gone', async () => {
    await cp.p.client.create(postgresClaim('fg-db', 5, { compositeDeletePolicy: 'Foreground' }));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'fg-db', 'default');
    const xrName = claim.spec.resourceRef.name;
    const mrs = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;
    await cp.p.client.delete({ apiVersion: XR_API, kind: 'PostgreSQLInstance', name: 'fg-db', namespace: 'default' });
    await eventually(async () => !(await cp.get(XR_API, 'PostgreSQLInstance', 'fg-db', 'default')), 15_000, 'claim gone');
    assert.equal(await cp.get(XR_API, 'XPostgreSQLInstance', xrName), undefined, 'the XR was gone before the claim');
    for (const m of mrs) assert.equal(cp.backend.peek(m.metadata.name!), undefined, 'external resources were deleted first');
  });

  it('deletes the XR and composed resources with the claim, but keeps external resources of Orphan ones', async () => {
    await cp.p.client.create(postgresClaim('temp-db', 5));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'temp-db', 'default');
    const xrName = claim.spec.resourceRef.name;
    const mrs = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;
    const db = mrs.find((m) => m.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'db')!;
    const user = mrs.find((m) => m.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'user')!;
    await cp.p.client.patch({ apiVersion: NOP_API, kind: 'NopResource', name: db.metadata.name! }, 'merge', { spec: { deletionPolicy: 'Orphan' } });
    await cp.p.client.delete({ apiVersion: XR_API, kind: 'PostgreSQLInstance', name: 'temp-db', namespace: 'default' });
    await eventually(async () => !(await cp.get(XR_API, 'PostgreSQLInstance', 'temp-db', 'default')), 10_000, 'claim gone');
    await eventually(async () => !(await cp.get(XR_API, 'XPostgreSQLInstance', xrName)), 10_000, 'XR gone');
    await eventually(async () => !(await cp.get(NOP_API, 'NopResource', db.metadata.name!)) && !(await cp.get(NOP_API, 'NopResource', user.metadata.name!)), 10_000, 'managed resources gone');
    assert.ok(cp.backend.peek(db.metadata.name!), 'the Orphan resource stays in the backend');
    assert.equal(cp.backend.peek(user.metadata.name!), undefined, 'the Delete resource is deleted in the backend');
  });
  it('gives claims of the same name in two namespaces their own XRs, even when the random part of the name repeats', async () => {
    await cp.p.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
    const suffixes = ['aaaaa', 'aaaaa', 'bbbbb'];
    const real = xrNameSuffix.next;
    xrNameSuffix.next = () => suffixes.shift() ?? real();
    try {
      await cp.p.client.create(postgresClaim('shared-db', 5));
      const first = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'shared-db', 'default');
      assert.equal(first.spec.resourceRef.name, 'shared-db-aaaaa');
      await cp.p.client.create({ ...postgresClaim('shared-db', 6), metadata: { name: 'shared-db', namespace: 'team-b' } });
      const second = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'shared-db', 'team-b');
      assert.equal(second.spec.resourceRef.name, 'shared-db-bbbbb');
    } finally {
      xrNameSuffix.next = real;
    }
    const xr = async (name: string) => (await cp.get(XR_API, 'XPostgreSQLInstance', name))!;
    assert.deepEqual([(await xr('shared-db-aaaaa')).spec.claimRef.namespace, (await xr('shared-db-aaaaa')).spec.parameters.storageGB], ['default', 5]);
    assert.deepEqual([(await xr('shared-db-bbbbb')).spec.claimRef.namespace, (await xr('shared-db-bbbbb')).spec.parameters.storageGB], ['team-b', 6]);
  });
  it("does not overwrite a Secret in the claim's namespace that is not its own: a team's own, or another claim's", async () => {
    await cp.p.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-creds', namespace: 'default' }, stringData: { username: 'kept' } });
    await cp.p.client.create({ ...postgresClaim('grabby-db', 5), spec: { parameters: { storageGB: 5 }, writeConnectionSecretToRef: { name: 'app-creds' } } });
    const refused = await eventually(async () => {
      const c = await cp.get(XR_API, 'PostgreSQLInstance', 'grabby-db', 'default');
      return /app-creds/.test(cp.condition(c, 'Synced')?.message ?? '') ? c : undefined;
    });
    assert.match(cp.condition(refused, 'Synced')!.message, /cannot propagate connection details \(spec\.writeConnectionSecretToRef\): refusing to write connection details to Secret default\/app-creds: it exists, is of type Opaque and nothing controls it/);
    const theirs = (await cp.get('v1', 'Secret', 'app-creds', 'default'))!;
    assert.deepEqual(Object.keys(theirs.data), ['username']);
    assert.equal(Buffer.from(theirs.data.username, 'base64').toString(), 'kept');

    // a second claim naming the first one's connection secret
    const first = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'orders-db', 'default');
    const before = (await cp.get('v1', 'Secret', 'orders-db-conn', 'default'))!;
    await cp.p.client.create({ ...postgresClaim('copycat-db', 7), spec: { parameters: { storageGB: 7 }, writeConnectionSecretToRef: { name: 'orders-db-conn' } } });
    const copycat = await eventually(async () => {
      const c = await cp.get(XR_API, 'PostgreSQLInstance', 'copycat-db', 'default');
      return /orders-db-conn/.test(cp.condition(c, 'Synced')?.message ?? '') ? c : undefined;
    });
    assert.match(cp.condition(copycat, 'Synced')!.message, /it is controlled by PostgreSQLInstance orders-db/);
    const after = (await cp.get('v1', 'Secret', 'orders-db-conn', 'default'))!;
    assert.deepEqual(after.data, before.data);
    assert.equal(after.metadata.ownerReferences?.[0]?.uid, first.metadata.uid);
  });
  it('names the XR and composed resources of a claim with a long name within 63 characters, as generateName does', async () => {
    const long = `orders-${'x'.repeat(55)}`; // 62 characters
    await cp.p.client.create(postgresClaim(long, 4));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', long, 'default');
    const xrName: string = claim.spec.resourceRef.name;
    // the generateName rule: "<claim>-" cut to 58 characters, then five more
    assert.match(xrName, new RegExp(`^${long.slice(0, 58)}[0-9a-f]{5}$`));
    const mrs = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;
    assert.equal(mrs.length, 2);
    for (const m of mrs) assert.match(m.metadata.name!, new RegExp(`^${xrName.slice(0, 58)}[0-9a-f]{5}$`));
  });
});
