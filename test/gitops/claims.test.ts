import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { gitHostModule } from '../../src/githost/index.js';
import { gitOpsModule } from '../../src/gitops/index.js';
import { nopProviderModule } from '../../src/providers/nop/index.js';
import { postgresClaim, postgresComposition, postgresXrd, XR_API, yamlDocs } from '../controlplane/fixtures.js';
import { eventually, startPlatform } from '../support/platform.js';
import { application, newRepo, waitApp, type TestPlatform } from './support.js';

let p: TestPlatform;
before(async () => {
  p = await startPlatform({ modules: [gitHostModule(), gitOpsModule(), controlPlaneModule(), nopProviderModule()] });
});
after(async () => {
  await p.close();
});

const wave = (text: string, n: number) =>
  yamlDocs(text)
    .map((o) => stringify({ ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), 'argocd.argoproj.io/sync-wave': String(n) } } }))
    .join('---\n');
const claim = () => p.client.get({ apiVersion: XR_API, kind: 'PostgreSQLInstance', namespace: 'default', name: 'orders-db' });

test('XRD, composition and claim pushed together sync in waves; the claim composes, is healed and pruned', async () => {
  const { url, wc } = await newRepo(p, 'platform', 'infra');
  wc.write('platform/00-namespace.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: crossplane-system\n');
  wc.write('platform/xrd.yaml', wave(postgresXrd, 0));
  wc.write('platform/composition.yaml', wave(postgresComposition(), 1));
  wc.write('platform/claims/orders-db.yaml', stringify({ ...postgresClaim('orders-db', 20), metadata: { name: 'orders-db', annotations: { 'argocd.argoproj.io/sync-wave': '2' } } }));
  await wc.commitAndPush('database for orders');
  await p.client.create({ ...application('platform', url, 'platform', { automated: { prune: true, selfHeal: true } }), spec: { ...application('platform', url, 'platform').spec, source: { repoURL: url, targetRevision: 'HEAD', path: 'platform', directory: { recurse: true } }, syncPolicy: { automated: { prune: true, selfHeal: true } } } });

  const app = await waitApp(p, 'platform', (a) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy', 'Synced and Healthy', 30_000).catch(async (e) => {
    const a = await p.client.get({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name: 'platform' });
    throw new Error(`${e.message}: ${JSON.stringify({ sync: a.status?.sync?.status, health: a.status?.health, op: a.status?.operationState?.message, resources: a.status?.resources?.map((r: any) => [r.kind, r.name, r.status, r.health]) })}`);
  });
  const c = await claim();
  assert.equal(c.status.conditions.find((x: { type: string }) => x.type === 'Ready').status, 'True');
  const xr = await p.client.get({ apiVersion: XR_API, kind: 'XPostgreSQLInstance', name: c.spec.resourceRef.name });
  assert.ok(xr.spec.resourceRefs.length >= 1, 'the XR composed managed resources');
  const order = app.status.operationState.syncResult.resources.map((r: { kind: string }) => r.kind);
  assert.ok(order.indexOf('CompositeResourceDefinition') < order.indexOf('Composition') && order.indexOf('Composition') < order.indexOf('PostgreSQLInstance'), `sync order was ${order.join(', ')}`);

  // self-heal: a live edit of the claim is reverted to what Git says
  await p.client.patch({ apiVersion: XR_API, kind: 'PostgreSQLInstance', namespace: 'default', name: 'orders-db' }, 'merge', { spec: { parameters: { storageGB: 99 } } });
  await eventually(async () => (await claim()).spec.parameters.storageGB === 20, 15_000, 'the claim to be healed');

  // prune: deleting the file deletes the claim
  wc.remove('platform/claims/orders-db.yaml');
  await wc.commitAndPush('drop the database');
  await eventually(async () => {
    try {
      await claim();
      return false;
    } catch {
      return true;
    }
  }, 30_000, 'the claim to be pruned');
});
