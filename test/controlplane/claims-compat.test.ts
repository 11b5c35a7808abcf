import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually } from '../support/platform.js';
import { startControlPlane, yamlDocs } from './fixtures.js';

/**
 * What Crossplane users see of XRDs, claims and XRs beyond the seed example: the generated CRDs,
 * the claim's Ready condition while its XR is not ready, what flows claim → XR, the pause
 * annotation, the readiness message and composition compatibility.
 */
const API = 'compat.example.org/v1beta1';
const CRD = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' };

const xrd = `
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata:
  name: xcaches.compat.example.org
spec:
  group: compat.example.org
  names:
    kind: XCache
    plural: xcaches
    categories: [cache]
  claimNames:
    kind: Cache
    plural: caches
  versions:
  - name: v1alpha1
    served: true
    referenceable: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
  - name: v1beta1
    served: true
    referenceable: true
    additionalPrinterColumns:
    - name: SIZE
      type: integer
      jsonPath: .spec.size
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              parts: {type: integer}
          status:
            type: object
            properties:
              size: {type: integer}
`;

/** A composition of `count` nop resources; `neverReady` gives each a readiness check that cannot pass. */
function composition(name: string, count: number, opts: { neverReady?: boolean; apiVersion?: string; labels?: Record<string, string> } = {}): string {
  const resources = Array.from({ length: count }, (_, i) => `
  - name: part-${String.fromCharCode(97 + i)}
    base:
      apiVersion: ${NOP_API}
      kind: NopResource
      spec:
        forProvider:
          part: ${i}
    patches:
    - fromFieldPath: spec.size
      toFieldPath: spec.forProvider.size${i === 0 ? `
    - type: ToCompositeFieldPath
      fromFieldPath: spec.forProvider.size
      toFieldPath: status.size` : ''}${opts.neverReady ? `
    readinessChecks:
    - type: MatchString
      fieldPath: status.atProvider.id
      matchString: never` : ''}`).join('');
  return `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: ${name}
  labels: ${JSON.stringify(opts.labels ?? {})}
spec:
  compositeTypeRef:
    apiVersion: ${opts.apiVersion ?? API}
    kind: XCache
  resources:${resources}
`;
}

function claim(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Resource {
  return { apiVersion: API, kind: 'Cache', metadata: { name, namespace: 'default', ...metadata }, spec: { size: 1, ...spec } };
}

describe('XRDs, claims and XRs as Crossplane shows them', () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  const getClaim = (name: string) => cp.get(API, 'Cache', name, 'default');
  const xrOf = async (claimName: string) => {
    const c = await eventually(async () => (await getClaim(claimName))?.spec?.resourceRef?.name && getClaim(claimName), 10_000, `${claimName} bound`);
    return eventually(() => cp.get(API, 'XCache', c.spec.resourceRef.name), 10_000, `XR of ${claimName}`);
  };
  const composedOf = async (xrName: string) => (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;

  before(async () => {
    cp = await startControlPlane();
    await cp.apply(yamlDocs(xrd));
    await eventually(async () => cp.condition(await cp.get('apiextensions.crossplane.io/v1', 'CompositeResourceDefinition', 'xcaches.compat.example.org'), 'Offered')?.status === 'True', 10_000, 'Offered');
    await cp.apply(yamlDocs(composition('one-part', 1, { labels: { parts: 'one' } })));
    await cp.apply(yamlDocs(composition('three-unready', 3, { neverReady: true, labels: { parts: 'three' } })));
    await cp.apply(yamlDocs(composition('four-unready', 4, { neverReady: true, labels: { parts: 'four' } })));
    await cp.apply(yamlDocs(composition('old-version', 1, { apiVersion: 'compat.example.org/v1alpha1' })));
  });
  after(async () => cp.p.close());

  it('generates CRDs with the XRD columns first, Crossplane categories and defaulted policies', async () => {
    const xrCrd = (await cp.get(CRD.apiVersion, CRD.kind, 'xcaches.compat.example.org'))!;
    const claimCrd = (await cp.get(CRD.apiVersion, CRD.kind, 'caches.compat.example.org'))!;
    const v1beta1 = (c: Resource) => c.spec.versions.find((v: { name: string }) => v.name === 'v1beta1');
    assert.deepEqual(v1beta1(xrCrd).additionalPrinterColumns.map((c: { name: string }) => c.name), ['SIZE', 'SYNCED', 'READY', 'COMPOSITION', 'AGE']);
    assert.deepEqual(v1beta1(claimCrd).additionalPrinterColumns.map((c: { name: string }) => c.name), ['SIZE', 'SYNCED', 'READY', 'CONNECTION-SECRET', 'AGE']);
    assert.deepEqual(xrCrd.spec.names.categories, ['cache', 'composite']);
    assert.deepEqual(claimCrd.spec.names.categories, ['claim']);

    await cp.p.client.create(claim('defaults', { compositionRef: { name: 'one-part' } }));
    const c = (await getClaim('defaults'))!;
    assert.equal(c.spec.compositionUpdatePolicy, 'Automatic');
    assert.equal(c.spec.compositeDeletePolicy, 'Background');
    const xr = await xrOf('defaults');
    assert.equal(xr.spec.compositionUpdatePolicy, 'Automatic');
  });

  it('rejects claim names that equal the composite names, naming the field', async () => {
    const bad = yamlDocs(xrd.replace('xcaches.compat.example.org', 'xbads.compat.example.org').replace('kind: XCache', 'kind: XBad').replace('plural: xcaches', 'plural: xbads').replace('kind: Cache\n    plural: caches', 'kind: Bad\n    plural: bads\n    singular: same'))[0]!;
    bad.spec.names.singular = 'same';
    await cp.apply([bad]);
    const got = await eventually(async () => {
      const o = await cp.get('apiextensions.crossplane.io/v1', 'CompositeResourceDefinition', 'xbads.compat.example.org');
      return cp.condition(o, 'Established')?.status === 'False' ? o : undefined;
    }, 10_000, 'Established=False');
    assert.match(cp.condition(got, 'Established')?.message ?? '', /spec\.claimNames\.singular: "same" conflicts with the composite resource name/);
  });

  it('shows a claim whose XR is not ready as Waiting, and lists unready resources as Crossplane does', async () => {
    await cp.p.client.create(claim('waits-three', { compositionSelector: { matchLabels: { parts: 'three' } } }));
    await cp.p.client.create(claim('waits-four', { compositionSelector: { matchLabels: { parts: 'four' } } }));
    const xrReady = (name: string) =>
      eventually(async () => {
        const xr = await xrOf(name);
        return cp.condition(xr, 'Ready')?.message?.startsWith('Unready resources') ? cp.condition(xr, 'Ready') : undefined;
      }, 10_000, `${name} XR Ready condition`);
    assert.equal((await xrReady('waits-three')).message, 'Unready resources: part-a, part-b, and part-c');
    assert.equal((await xrReady('waits-four')).message, 'Unready resources: part-a, part-b, part-c, and 1 more');
    const c = await eventually(async () => {
      const o = await getClaim('waits-three');
      return cp.condition(o, 'Ready') ? o : undefined;
    }, 10_000, 'claim Ready condition');
    assert.equal(cp.condition(c, 'Ready')?.status, 'False');
    assert.equal(cp.condition(c, 'Ready')?.reason, 'Waiting');
    assert.equal(cp.condition(c, 'Ready')?.message, 'Claim is waiting for composite resource to become Ready');
  });

  it('propagates the claim annotations and labels to the XR, except Kubernetes-reserved ones', async () => {
    await cp.p.client.create(
      claim('annotated', { compositionRef: { name: 'one-part' } }, {
        annotations: { 'team.example.org/cost-center': 'cc-42', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'argocd.argoproj.io/tracking-id': 'orders:compat.example.org/Cache:default/annotated' },
        labels: { tier: 'gold', 'app.kubernetes.io/name': 'cache' },
      }),
    );
    const xr = await xrOf('annotated');
    assert.equal(xr.metadata.annotations?.['team.example.org/cost-center'], 'cc-42');
    assert.equal(xr.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
    assert.equal(xr.metadata.annotations?.['argocd.argoproj.io/tracking-id'], undefined, 'the XR is not mistaken for a Git-tracked object');
    assert.equal(xr.metadata.labels?.tier, 'gold');
    assert.equal(xr.metadata.labels?.['app.kubernetes.io/name'], undefined);
    await cp.p.client.patch({ apiVersion: API, kind: 'Cache', name: 'annotated', namespace: 'default' }, 'merge', { metadata: { annotations: { 'team.example.org/cost-center': 'cc-43' } } });
    await eventually(async () => (await cp.get(API, 'XCache', xr.metadata.name!))?.metadata.annotations?.['team.example.org/cost-center'] === 'cc-43', 10_000, 'updated annotation on the XR');
  });

  it('leaves a paused claim and a paused XR alone, and keeps a paused claim that is deleted', async () => {
    await cp.p.client.create(claim('paused', { compositionRef: { name: 'one-part' }, size: 2 }));
    const xr = await xrOf('paused');
    await cp.waitReady(API, 'Cache', 'paused', 'default');
    await cp.p.client.patch({ apiVersion: API, kind: 'XCache', name: xr.metadata.name! }, 'merge', { metadata: { annotations: { 'crossplane.io/paused': 'true' } } });
    const pausedXr = await eventually(async () => {
      const o = await cp.get(API, 'XCache', xr.metadata.name!);
      return cp.condition(o, 'Synced')?.reason === 'ReconcilePaused' ? o : undefined;
    }, 5000, 'XR ReconcilePaused');
    assert.equal(cp.condition(pausedXr, 'Synced')?.status, 'False');
    await cp.p.client.patch({ apiVersion: API, kind: 'Cache', name: 'paused', namespace: 'default' }, 'merge', { spec: { size: 3 } });
    await eventually(async () => (await cp.get(API, 'XCache', xr.metadata.name!))?.spec.size === 3, 5000, 'the claim still syncs the XR');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await composedOf(xr.metadata.name!))[0]!.spec.forProvider.size, 2, 'a paused XR does not recompose');

    await cp.p.client.patch({ apiVersion: API, kind: 'Cache', name: 'paused', namespace: 'default' }, 'merge', { metadata: { annotations: { 'crossplane.io/paused': 'true' } } });
    const pausedClaim = await eventually(async () => {
      const o = await getClaim('paused');
      return cp.condition(o, 'Synced')?.reason === 'ReconcilePaused' ? o : undefined;
    }, 5000, 'claim ReconcilePaused');
    assert.equal(cp.condition(pausedClaim, 'Synced')?.message, 'Reconciliation (including deletion) is paused via the pause annotation');
    await cp.p.client.delete({ apiVersion: API, kind: 'Cache', name: 'paused', namespace: 'default' });
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((await getClaim('paused'))?.metadata.deletionTimestamp, 'the paused claim waits');
    assert.ok(await cp.get(API, 'XCache', xr.metadata.name!), 'and so does its XR');

    await cp.p.client.patch({ apiVersion: API, kind: 'Cache', name: 'paused', namespace: 'default' }, 'merge', { metadata: { annotations: { 'crossplane.io/paused': null } } });
    await eventually(async () => !(await getClaim('paused')), 10_000, 'claim gone once unpaused');
  });

  it('refuses a composition written for a version that is not the referenceable one', async () => {
    await cp.p.client.create(claim('old-ref', { compositionRef: { name: 'old-version' } }));
    const xr = await eventually(async () => {
      const o = await xrOf('old-ref');
      return cp.condition(o, 'Synced')?.status === 'False' ? o : undefined;
    }, 10_000, 'XR Synced=False');
    assert.match(cp.condition(xr, 'Synced')?.message ?? '', /^cannot configure composite resource: referenced composition is not compatible with this composite resource/);
    assert.equal((await composedOf(xr.metadata.name!)).length, 0);
  });
});
