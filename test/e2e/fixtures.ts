import type { Client } from '../../src/api/client.js';
import type { Resource } from '../../src/api/types.js';

/**
 * Catalog entities and a claim → composite → managed resource chain for the portal's browser
 * tests. The infrastructure types live in a test-only API group so that no controller of the
 * platform reconciles them: the test itself plays the control plane and changes their status,
 * which is exactly what the page must follow live.
 */
export const GROUP = 'e2e.pave.dev';

function crd(kind: string, plural: string, scope: 'Namespaced' | 'Cluster'): Resource {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope,
      names: { kind, plural, singular: kind.toLowerCase() },
      versions: [{ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
}

const entity = (kind: string, name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default', ...metadata },
  spec,
});

export function readyCondition(status: 'True' | 'False', reason: string, message?: string) {
  return { type: 'Ready', status, reason, ...(message ? { message } : {}), lastTransitionTime: new Date().toISOString() };
}

export function syncedCondition() {
  return { type: 'Synced', status: 'True', reason: 'ReconcileSuccess', lastTransitionTime: new Date().toISOString() };
}

export async function seedCatalog(client: Client, fillers = 60): Promise<void> {
  await client.apply(entity('Group', 'team-a', { type: 'team', children: [] }, { description: 'The payments team' }), { fieldManager: 'e2e', force: true });
  await client.apply(entity('Group', 'team-b', { type: 'team', children: [] }), { fieldManager: 'e2e', force: true });
  await client.apply(entity('User', 'alice', { memberOf: ['team-a'], profile: { displayName: 'Alice' } }), { fieldManager: 'e2e', force: true });
  await client.apply(entity('System', 'payments', { owner: 'team-a' }, { description: 'Taking money' }), { fieldManager: 'e2e', force: true });
  await client.apply(
    entity('Component', 'orders', { type: 'service', lifecycle: 'production', owner: 'team-a', system: 'payments' }, {
      title: 'Orders',
      description: 'Takes orders and keeps them in PostgreSQL',
      tags: ['payments', 'postgres'],
      links: [{ url: 'https://example.com/orders/runbook', title: 'Runbook' }],
      annotations: {
        'terasky.backstage.io/claim-kind': 'Bucket',
        'terasky.backstage.io/claim-group': GROUP,
        'terasky.backstage.io/claim-version': 'v1alpha1',
        'terasky.backstage.io/claim-name': 'orders-store',
        'backstage.io/kubernetes-namespace': 'default',
      },
    }),
    { fieldManager: 'e2e', force: true },
  );
  for (let i = 0; i < fillers; i++) {
    const n = String(i).padStart(3, '0');
    await client.apply(entity('Component', `svc-${n}`, { type: i % 3 ? 'service' : 'website', lifecycle: i % 2 ? 'production' : 'experimental', owner: 'team-b' }, { description: `Filler service ${n}` }), { fieldManager: 'e2e', force: true });
  }
}

/** The chain: claim orders-store → XBucket orders-store-x1 → two BucketObjects; the second not ready yet. */
export async function seedInfrastructure(client: Client): Promise<{ pending: Resource }> {
  for (const c of [crd('Bucket', 'buckets', 'Namespaced'), crd('XBucket', 'xbuckets', 'Cluster'), crd('BucketObject', 'bucketobjects', 'Cluster')]) await client.apply(c, { fieldManager: 'e2e', force: true });
  const av = `${GROUP}/v1alpha1`;
  // as Crossplane labels a claim's composite and everything below it
  const labels = { 'crossplane.io/claim-name': 'orders-store', 'crossplane.io/claim-namespace': 'default' };
  const write = async (obj: Resource, status: Record<string, unknown>) => {
    const created = await client.create(obj);
    return client.updateStatus({ ...created, status });
  };
  await write({ apiVersion: av, kind: 'BucketObject', metadata: { name: 'orders-store-x1-data', labels, annotations: { 'crossplane.io/external-name': 'orders-data', 'crossplane.io/external-create-succeeded': new Date().toISOString() } }, spec: { forProvider: { size: 10 } } }, { conditions: [syncedCondition(), readyCondition('True', 'Available')] });
  const pending = await write({ apiVersion: av, kind: 'BucketObject', metadata: { name: 'orders-store-x1-logs', labels }, spec: { forProvider: { size: 1 } } }, { conditions: [syncedCondition(), readyCondition('False', 'Creating')] });
  // a nested composite, as a composition that composes another XR makes: ready already
  await write({ apiVersion: av, kind: 'BucketObject', metadata: { name: 'orders-store-x1-replica-data', labels }, spec: { forProvider: { size: 10 } } }, { conditions: [syncedCondition(), readyCondition('True', 'Available')] });
  await write(
    { apiVersion: av, kind: 'XBucket', metadata: { name: 'orders-store-x1-replica', labels }, spec: { resourceRefs: [{ apiVersion: av, kind: 'BucketObject', name: 'orders-store-x1-replica-data' }] } },
    { conditions: [syncedCondition(), readyCondition('True', 'Available')] },
  );
  await write(
    {
      apiVersion: av,
      kind: 'XBucket',
      metadata: { name: 'orders-store-x1', labels },
      spec: {
        resourceRefs: [
          { apiVersion: av, kind: 'BucketObject', name: 'orders-store-x1-data' },
          { apiVersion: av, kind: 'BucketObject', name: 'orders-store-x1-logs' },
          { apiVersion: av, kind: 'XBucket', name: 'orders-store-x1-replica' },
        ],
      },
    },
    { conditions: [syncedCondition(), readyCondition('False', 'Creating', 'Unready resources: logs')] },
  );
  const claim = await write(
    { apiVersion: av, kind: 'Bucket', metadata: { name: 'orders-store', namespace: 'default' }, spec: { resourceRef: { apiVersion: av, kind: 'XBucket', name: 'orders-store-x1' }, writeConnectionSecretToRef: { name: 'orders-store-conn' } } },
    { conditions: [syncedCondition(), readyCondition('False', 'Creating')] },
  );
  await client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    // the claim's own connection secret, as its publisher leaves it: controlled by the claim
    metadata: { name: 'orders-store-conn', namespace: 'default', ownerReferences: [{ apiVersion: av, kind: 'Bucket', name: 'orders-store', uid: claim.metadata.uid!, controller: true }] },
    type: 'connection.crossplane.io/v1alpha1',
    data: { endpoint: Buffer.from('https://buckets.example.com/orders').toString('base64') },
  });
  await client.create({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'orders-store-x1-logs.e2e', namespace: 'default' },
    involvedObject: { apiVersion: av, kind: 'BucketObject', name: 'orders-store-x1-logs' },
    type: 'Normal',
    reason: 'CreatedExternalResource',
    message: 'Successfully requested creation of external resource',
    count: 1,
    lastTimestamp: new Date().toISOString(),
  });
  return { pending };
}

/** Marks every object of the chain Ready, as the control plane would once the logs bucket exists. */
export async function completeInfrastructure(client: Client): Promise<void> {
  const av = `${GROUP}/v1alpha1`;
  for (const ref of [
    { kind: 'BucketObject', name: 'orders-store-x1-logs' },
    { kind: 'XBucket', name: 'orders-store-x1' },
    { kind: 'Bucket', name: 'orders-store', namespace: 'default' },
  ]) {
    const obj = await client.get({ apiVersion: av, ...ref });
    await client.updateStatus({ ...obj, status: { ...obj.status, conditions: [syncedCondition(), readyCondition('True', 'Available')] } });
  }
}

export const brokenTemplate: Resource = {
  apiVersion: 'scaffolder.backstage.io/v1beta3',
  kind: 'Template',
  metadata: { name: 'e2e-bucket', namespace: 'default', title: 'Storage bucket', description: 'A bucket for your service', tags: ['storage'] } as Resource['metadata'],
  spec: {
    type: 'resource',
    owner: 'team-a',
    parameters: [
      {
        title: 'Bucket',
        required: ['name', 'owner'],
        properties: {
          name: { title: 'Name', type: 'string', pattern: '^[a-z][a-z0-9-]{2,30}$', 'ui:help': 'lowercase letters, digits and dashes' },
          owner: { title: 'Owner', type: 'string', 'ui:field': 'OwnerPicker', 'ui:options': { catalogFilter: { kind: ['Group', 'User'] } } },
        },
      },
    ],
    steps: [{ id: 'log', name: 'Say hello', action: 'debug:log', input: { message: 'bucket ${{ parameters.name }}' } }],
  },
};
