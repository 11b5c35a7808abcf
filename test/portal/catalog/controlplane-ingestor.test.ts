import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../../src/api/types.js';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform } from '../../support/platform.js';

const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
function crd(group: string, kind: string, plural: string, scope: 'Namespaced' | 'Cluster'): Resource {
  return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural}.${group}` }, spec: { group, scope, names: { kind, plural }, versions: [{ name: group === 'argoproj.io' ? 'v1alpha1' : group === 'apiextensions.crossplane.io' ? 'v1' : 'v1alpha1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: preserve } }] } };
}

const xrd = {
  apiVersion: 'apiextensions.crossplane.io/v1',
  kind: 'CompositeResourceDefinition',
  metadata: { name: 'xpostgresqlinstances.platform.pave.dev', annotations: { 'pave.dev/owner': 'group:default/platform' } },
  spec: {
    group: 'platform.pave.dev',
    names: { kind: 'XPostgreSQLInstance', plural: 'xpostgresqlinstances' },
    claimNames: { kind: 'PostgreSQLInstance', plural: 'postgresqlinstances' },
    versions: [{
      name: 'v1alpha1', served: true, referenceable: true,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', required: ['storageGB'], properties: {
        storageGB: { type: 'integer', minimum: 1, 'x-ui-order': 2 },
        version: { type: 'string', enum: ['15', '16'], default: '16', 'x-ui-order': 1 },
        internalId: { type: 'string', 'x-ui-hidden': true },
        tuning: { type: 'object', 'x-ui-advanced': true, properties: { maxConnections: { type: 'integer' } } },
      } } } } },
    }],
  },
};

describe('control-plane ingestor', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  before(async () => {
    p = await startPlatform({ modules: [portalModule()] });
    for (const c of [crd('apiextensions.crossplane.io', 'CompositeResourceDefinition', 'compositeresourcedefinitions', 'Cluster'), crd('apiextensions.crossplane.io', 'Composition', 'compositions', 'Cluster'), crd('platform.pave.dev', 'XPostgreSQLInstance', 'xpostgresqlinstances', 'Cluster'), crd('platform.pave.dev', 'PostgreSQLInstance', 'postgresqlinstances', 'Namespaced'), crd('argoproj.io', 'Application', 'applications', 'Namespaced')]) {
      await p.client.create(c);
    }
    await p.client.create({ apiVersion: 'apiextensions.crossplane.io/v1', kind: 'Composition', metadata: { name: 'postgres-local' }, spec: { compositeTypeRef: { apiVersion: 'platform.pave.dev/v1alpha1', kind: 'XPostgreSQLInstance' } } });
    await p.client.create(xrd);
  });
  after(async () => p.close());

  it('generates a template per served XRD version from its schema', async () => {
    const index = portalOf(p).index;
    const rec = await eventually(() => {
      const r = index.get('template:default/postgresqlinstance-v1alpha1');
      return r && JSON.stringify(r.entity).includes('postgres-local') ? r : undefined;
    }, 10_000, 'the generated template');
    const t = rec.entity;
    assert.equal(t.apiVersion, 'scaffolder.backstage.io/v1beta3');
    assert.equal(t.spec!.owner, 'group:default/platform');
    const steps = t.spec!.parameters as { title: string; properties: Record<string, unknown>; required?: string[] }[];
    assert.deepEqual(steps.map((s) => s.title), ['Resource metadata', 'PostgreSQLInstance parameters', 'Advanced', 'Composition', 'Publish']);
    assert.deepEqual(Object.keys(steps[1]!.properties), ['version', 'storageGB'], 'x-ui-order sorts, x-ui-hidden hides');
    assert.deepEqual(steps[1]!.required, ['storageGB']);
    assert.deepEqual(Object.keys(steps[2]!.properties), ['tuning']);
    assert.deepEqual((steps[3]!.properties.compositionRef as { enum: string[] }).enum, ['postgres-local']);
    assert.deepEqual((t.spec!.steps as { action: string }[]).map((s) => s.action), ['pave:claim-template', 'publish:pave:change-request']);
    assert.ok(rec.relationError === undefined);
  });

  it('turns claims, composites and Applications into entities with owners and dependencies', async () => {
    await p.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await p.client.create({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'orders', namespace: 'default', annotations: { 'pave.dev/owner': 'group:default/team-a' } }, spec: { project: 'default' } });
    await p.client.create({ apiVersion: 'platform.pave.dev/v1alpha1', kind: 'XPostgreSQLInstance', metadata: { name: 'orders-db-x7k2p', annotations: { 'pave.dev/owner': 'group:default/team-a' } }, spec: { storageGB: 5 } });
    await p.client.create({
      apiVersion: 'platform.pave.dev/v1alpha1',
      kind: 'PostgreSQLInstance',
      metadata: { name: 'orders-db', namespace: 'team-a', annotations: { 'terasky.backstage.io/owner': 'group:default/team-a', 'argocd.argoproj.io/tracking-id': 'orders:platform.pave.dev/PostgreSQLInstance:team-a/orders-db', 'pave.dev/trace-id': 'trace-123' } },
      spec: { storageGB: 5, resourceRef: { apiVersion: 'platform.pave.dev/v1alpha1', kind: 'XPostgreSQLInstance', name: 'orders-db-x7k2p' } },
    });
    const index = portalOf(p).index;
    const claim = await eventually(() => index.get('component:team-a/orders-db'), 10_000, 'the claim entity');
    assert.equal(claim.entity.spec!.owner, 'group:default/team-a');
    assert.equal(claim.entity.metadata.annotations!['backstage.io/kubernetes-label-selector'], 'crossplane.io/claim-name=orders-db,crossplane.io/claim-namespace=team-a');
    assert.equal(claim.entity.metadata.annotations!['argocd/app-name'], 'orders');
    assert.equal(claim.entity.metadata.annotations!['pave.dev/trace-id'], 'trace-123');
    await eventually(() => index.get('component:default/orders') && index.get('resource:default/orders-db-x7k2p'), 10_000, 'app and composite entities');
    const rels = (ref: string) => index.served(index.get(ref)!).relations!.map((r) => `${r.type} ${r.targetRef}`);
    assert.ok(rels('component:default/orders').includes('dependsOn component:team-a/orders-db'), 'the application component depends on its claim');
    assert.ok(rels('component:team-a/orders-db').includes('dependsOn resource:default/orders-db-x7k2p'));
    assert.ok(index.served(index.get('component:team-a/orders-db')!).relations!.some((r) => r.type === 'ownedBy' && r.targetRef === 'group:default/team-a'));

    await p.client.delete({ apiVersion: 'platform.pave.dev/v1alpha1', kind: 'PostgreSQLInstance', namespace: 'team-a', name: 'orders-db' });
    await eventually(() => !index.get('component:team-a/orders-db'), 10_000, 'the claim entity to go with its claim');
  });
});
