import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerFunction } from '../../src/controlplane/index.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually } from '../support/platform.js';
import { postgresClaim, postgresComposition, postgresXrd, startControlPlane, XR_API, yamlDocs } from './fixtures.js';

const pipelineXrd = `
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata:
  name: xbuckets.storage.example.org
spec:
  group: storage.example.org
  names: {kind: XBucket, plural: xbuckets}
  claimNames: {kind: Bucket, plural: buckets}
  versions:
  - name: v1alpha1
    served: true
    referenceable: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              region: {type: string}
              tier: {type: string}
`;

const pipelineComposition = `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: xbuckets-pipeline
spec:
  compositeTypeRef:
    apiVersion: storage.example.org/v1alpha1
    kind: XBucket
  mode: Pipeline
  pipeline:
  - step: patch-and-transform
    functionRef:
      name: function-patch-and-transform
    input:
      apiVersion: pt.fn.crossplane.io/v1beta1
      kind: Resources
      resources:
      - name: bucket
        base:
          apiVersion: nop.crossplane.io/v1alpha1
          kind: NopResource
          spec:
            forProvider:
              kind: bucket
        patches:
        - type: FromCompositeFieldPath
          fromFieldPath: spec.region
          toFieldPath: spec.forProvider.region
          transforms:
          - type: map
            map:
              eu: europe-west1
              us: us-central1
        - type: FromCompositeFieldPath
          fromFieldPath: spec.tier
          toFieldPath: spec.forProvider.storageClass
          transforms:
          - type: match
            match:
              patterns:
              - type: literal
                literal: hot
                result: STANDARD
              - type: regexp
                regexp: '^cold.*'
                result: ARCHIVE
              fallbackValue: NEARLINE
  - step: automatically-detect-ready-composed-resources
    functionRef:
      name: function-auto-ready
`;

describe('compositions: pipeline mode, selection, revisions and bad input', () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  before(async () => {
    cp = await startControlPlane();
    await cp.apply(yamlDocs(pipelineXrd));
    await cp.apply(yamlDocs(pipelineComposition));
    await cp.apply(yamlDocs(postgresXrd));
  });
  after(async () => cp.p.close());

  const composedOf = async (xrName: string) => (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;

  it('renders a Pipeline composition with function-patch-and-transform and function-auto-ready', async () => {
    await eventually(() => cp.p.registry.lookup('storage.example.org/v1alpha1', 'Bucket'));
    await cp.p.client.create({ apiVersion: 'storage.example.org/v1alpha1', kind: 'Bucket', metadata: { name: 'logs', namespace: 'default' }, spec: { region: 'eu', tier: 'cold-ish' } });
    const claim = await cp.waitReady('storage.example.org/v1alpha1', 'Bucket', 'logs', 'default');
    const [bucket] = await composedOf(claim.spec.resourceRef.name);
    assert.deepEqual(bucket!.spec.forProvider, { kind: 'bucket', region: 'europe-west1', storageClass: 'ARCHIVE' });
  });

  it('shows function warnings as Events and function conditions on the XR and, when targeted, the claim', async () => {
    registerFunction(cp.p, {
      name: 'function-quota-check',
      run: (req) => ({
        desired: req.desired,
        context: req.context,
        results: [{ severity: 'SEVERITY_WARNING', message: 'bucket quota 90% used', reason: 'QuotaNearlyFull' }],
        conditions: [{ type: 'QuotaOK', status: 'STATUS_CONDITION_FALSE', reason: 'NearlyFull', message: '90% used', target: 'TARGET_COMPOSITE_AND_CLAIM' }],
      }),
    });
    const comp = yamlDocs(pipelineComposition.replace('name: xbuckets-pipeline', 'name: xbuckets-quota'))[0]!;
    comp.spec.pipeline.push({ step: 'quota', functionRef: { name: 'function-quota-check' } });
    await cp.apply([comp]);
    await cp.p.client.create({ apiVersion: 'storage.example.org/v1alpha1', kind: 'Bucket', metadata: { name: 'quota', namespace: 'default' }, spec: { region: 'us', compositionRef: { name: 'xbuckets-quota' } } });
    const claim = await eventually(async () => {
      const o = await cp.get('storage.example.org/v1alpha1', 'Bucket', 'quota', 'default');
      return cp.condition(o, 'QuotaOK') ? o : undefined;
    }, 10_000, 'QuotaOK on the claim');
    assert.equal(cp.condition(claim, 'QuotaOK')?.reason, 'NearlyFull');
    const xr = await cp.get('storage.example.org/v1alpha1', 'XBucket', claim.spec.resourceRef.name);
    assert.equal(cp.condition(xr, 'QuotaOK')?.status, 'False');
    await eventually(async () => (await cp.p.client.list('v1', 'Event', { namespace: 'default' })).items.some((e) => e.involvedObject?.uid === xr!.metadata.uid && e.type === 'Warning' && e.reason === 'QuotaNearlyFull' && /step "quota": bucket quota/.test(e.message)), 5000, 'the warning as an Event');
  });

  it('selects compositions by label: production and dev claims get different compositions', async () => {
    await cp.apply(yamlDocs(postgresComposition('pg-production', { environment: 'production' }, '\n          tier: production')));
    await cp.apply(yamlDocs(postgresComposition('pg-dev', { environment: 'dev' }, '\n          tier: dev')));
    await eventually(() => cp.p.registry.lookup(XR_API, 'PostgreSQLInstance'));
    await cp.p.client.create(postgresClaim('prod-db', 10, { compositionSelector: { matchLabels: { environment: 'production' } } }));
    await cp.p.client.create(postgresClaim('dev-db', 10, { compositionSelector: { matchLabels: { environment: 'dev' } } }));
    const prod = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'prod-db', 'default');
    const dev = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'dev-db', 'default');
    assert.equal(prod.spec.compositionRef.name, 'pg-production');
    assert.equal(dev.spec.compositionRef.name, 'pg-dev');
    const prodDb = (await composedOf(prod.spec.resourceRef.name)).find((m) => m.spec.forProvider.engine);
    assert.equal(prodDb!.spec.forProvider.tier, 'production');
  });

  it('rolls a composition change to Automatic XRs and holds Manual ones until their revision ref changes', async () => {
    await cp.p.client.create(postgresClaim('auto-db', 10, { compositionRef: { name: 'pg-dev' } }));
    await cp.p.client.create(postgresClaim('manual-db', 10, { compositionRef: { name: 'pg-dev' }, compositionUpdatePolicy: 'Manual' }));
    const auto = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'auto-db', 'default');
    const manual = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'manual-db', 'default');
    const firstRevision = manual.spec.compositionRevisionRef.name;
    await cp.apply(yamlDocs(postgresComposition('pg-dev', { environment: 'dev' }, '\n          tier: dev-v2')));
    const tierOf = async (claimName: string) => {
      const c = await cp.get(XR_API, 'PostgreSQLInstance', claimName, 'default');
      return (await composedOf(c!.spec.resourceRef.name)).find((m) => m.spec.forProvider.engine)?.spec.forProvider.tier;
    };
    await eventually(async () => (await tierOf('auto-db')) === 'dev-v2', 10_000, 'the Automatic XR to get the new revision');
    assert.equal(await tierOf('manual-db'), 'dev', 'the Manual XR keeps its revision');
    const revisions = (await cp.p.client.list('apiextensions.crossplane.io/v1', 'CompositionRevision', { labelSelector: 'crossplane.io/composition-name=pg-dev' })).items;
    assert.equal(revisions.length, 2);
    const newest = revisions.sort((a, b) => b.spec.revision - a.spec.revision)[0]!;
    assert.notEqual(newest.metadata.name, firstRevision);
    await cp.p.client.patch({ apiVersion: XR_API, kind: 'PostgreSQLInstance', name: 'manual-db', namespace: 'default' }, 'merge', { spec: { compositionRevisionRef: { name: newest.metadata.name } } });
    await eventually(async () => (await tierOf('manual-db')) === 'dev-v2', 10_000, 'the Manual XR to move when its revision ref changes');
    void auto;
  });

  it('deletes a composed resource that drops out of the desired state', async () => {
    await cp.apply(yamlDocs(postgresComposition('pg-shrink', { environment: 'shrink' })));
    await cp.p.client.create(postgresClaim('shrink-db', 10, { compositionRef: { name: 'pg-shrink' } }));
    const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'shrink-db', 'default');
    const before = await composedOf(claim.spec.resourceRef.name);
    assert.equal(before.length, 2);
    const user = before.find((m) => m.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'user')!;
    const smaller = yamlDocs(postgresComposition('pg-shrink', { environment: 'shrink' }))[0]!;
    smaller.spec.resources = smaller.spec.resources.filter((r: { name: string }) => r.name !== 'user');
    await cp.apply([smaller]);
    await eventually(async () => (await composedOf(claim.spec.resourceRef.name)).length === 1, 10_000, 'the dropped resource to be deleted');
    await eventually(() => cp.backend.peek(user.metadata.name!) === undefined, 10_000, 'its external resource to be deleted');
    const xr = await eventually(async () => {
      const o = await cp.get(XR_API, 'XPostgreSQLInstance', claim.spec.resourceRef.name);
      return o?.spec.resourceRefs.length === 1 ? o : undefined;
    }, 5000, 'resourceRefs without it');
    assert.equal(cp.condition(xr, 'Ready')?.status, 'True');
  });

  it('reports bad input on the XR with the patch index or step name, and keeps other XRs reconciling', async () => {
    const badPatch = yamlDocs(postgresComposition('pg-bad-path', { environment: 'bad-path' }))[0]!;
    badPatch.spec.resources[0].patches.push({ fromFieldPath: 'spec.parameters.storageGB', toFieldPath: 'spec.nonexistent.size' });
    const badTransform = yamlDocs(postgresComposition('pg-bad-transform', { environment: 'bad-transform' }))[0]!;
    badTransform.spec.resources[1].patches.push({ fromFieldPath: 'spec.parameters.storageGB', toFieldPath: 'spec.forProvider.x', transforms: [{ type: 'map', map: { small: '10' } }] });
    const throwing = yamlDocs(pipelineComposition.replace('name: xbuckets-pipeline', 'name: xbuckets-throws\n  labels: {variant: throws}'))[0]!;
    throwing.spec.pipeline.splice(1, 0, { step: 'explode', functionRef: { name: 'function-explode' } });
    registerFunction(cp.p, { name: 'function-explode', run: () => { throw new Error('boom: cannot reach the inventory service'); } });
    await cp.apply([badPatch, badTransform, throwing]);

    await cp.p.client.create(postgresClaim('bad-path', 10, { compositionRef: { name: 'pg-bad-path' } }));
    await cp.p.client.create(postgresClaim('bad-transform', 10, { compositionRef: { name: 'pg-bad-transform' } }));
    await cp.p.client.create({ apiVersion: 'storage.example.org/v1alpha1', kind: 'Bucket', metadata: { name: 'throws', namespace: 'default' }, spec: { region: 'us', compositionRef: { name: 'xbuckets-throws' } } });
    await cp.p.client.create(postgresClaim('good-db', 10, { compositionRef: { name: 'pg-dev' } }));
    await cp.p.client.create(postgresClaim('no-comp', 10, { compositionRef: { name: 'pg-does-not-exist' } }));

    const syncedFalse = async (api: string, kind: string, name: string) =>
      eventually(async () => {
        const claim = await cp.get(api, kind, name, 'default');
        const xrName = claim?.spec?.resourceRef?.name;
        const xr = xrName ? await cp.get(api, kind === 'Bucket' ? 'XBucket' : 'XPostgreSQLInstance', xrName) : undefined;
        const c = cp.condition(xr, 'Synced');
        return c?.status === 'False' ? { xr: xr!, message: c.message as string, claim: claim! } : undefined;
      }, 10_000, `${name} Synced=False`);

    const a = await syncedFalse(XR_API, 'PostgreSQLInstance', 'bad-path');
    assert.match(a.message, /resource "db": patch 5 .*spec\.nonexistent\.size/);
    const b = await syncedFalse(XR_API, 'PostgreSQLInstance', 'bad-transform');
    assert.match(b.message, /resource "user": patch 1 .*transform 0 \(map\).*must be a string/);
    const missing = await syncedFalse(XR_API, 'PostgreSQLInstance', 'no-comp');
    assert.match(missing.message, /Composition "pg-does-not-exist" not found \(spec.compositionRef\)/);
    const c = await syncedFalse('storage.example.org/v1alpha1', 'Bucket', 'throws');
    assert.match(c.message, /pipeline step "explode".*boom/);
    // the claim shows why, too
    assert.match(cp.condition(a.claim, 'Synced')?.message ?? cp.condition(await cp.get(XR_API, 'PostgreSQLInstance', 'bad-path', 'default'), 'Synced')?.message ?? '', /patch 5/);

    for (const x of [a.xr, b.xr, c.xr]) {
      const events = await eventually(async () => {
        const list = (await cp.p.client.list('v1', 'Event', { namespace: 'default' })).items.filter((e) => e.involvedObject?.uid === x.metadata.uid && e.type === 'Warning');
        return list.length ? list : undefined;
      }, 5000, `a Warning Event on ${x.metadata.name}`);
      assert.ok(events.some((e) => /patch \d|step "explode"/.test(e.message)));
    }
    await cp.waitReady(XR_API, 'PostgreSQLInstance', 'good-db', 'default');
  });
});
