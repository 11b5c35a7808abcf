import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HttpClient } from '../../src/api/http-client.js';
import type { Resource } from '../../src/api/types.js';
import { gitHostModule } from '../../src/githost/index.js';
import { gitOpsModule } from '../../src/gitops/index.js';
import { eventually, startPlatform, tempDir } from '../support/platform.js';
import { freePort, startPaveProcess, stopProcess } from '../support/process.js';
import { application, configMap, getApp, newRepo, waitApp, type TestPlatform } from './support.js';

/** The remote is a second Pave in its own process: the API and controllers, no local cloud. */
const LEAN = ['--no-local-cloud', '--no-starter-platform', '--dns-port', '0'];
const WAIT = 60_000;

const gitops = gitOpsModule();
let p: TestPlatform;
let remote: Awaited<ReturnType<typeof startPaveProcess>>;
let remoteDir: string;
let remoteServer: string;
let remoteToken: string;
let remoteApi: HttpClient;

before(async () => {
  p = await startPlatform({ modules: [gitHostModule(), gitops] });
  remoteDir = tempDir('pave-remote-');
  remote = await startPaveProcess(remoteDir, await freePort(), LEAN);
  // `pave up` writes a kubeconfig with the admin token into its data directory
  remoteToken = /^\s*token:\s*(\S+)\s*$/m.exec(readFileSync(join(remoteDir, 'kubeconfig'), 'utf8'))![1]!;
  remoteServer = `${remote.url}/k8s`;
  remoteApi = new HttpClient({ server: remoteServer, token: remoteToken });
  await p.client.create(clusterSecret('edge-cluster', 'edge', remoteToken));
});
after(async () => {
  await p?.close();
  await remoteApi?.close();
  if (remote) await stopProcess(remote.child);
  if (remoteDir) rmSync(remoteDir, { recursive: true, force: true });
});

function clusterSecret(name: string, cluster: string, token: string): Resource {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'argocd', labels: { 'argocd.argoproj.io/secret-type': 'cluster' } },
    type: 'Opaque',
    stringData: { name: cluster, server: remoteServer, config: JSON.stringify({ bearerToken: token, tlsClientConfig: { insecure: false } }) },
  };
}

function remoteApp(name: string, url: string, path: string, destination: Record<string, string>, extra: { project?: string; finalizer?: boolean } = {}) {
  const app = application(name, url, path, { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'], project: extra.project });
  return { ...app, metadata: { ...app.metadata, ...(extra.finalizer ? { finalizers: ['resources-finalizer.argocd.argoproj.io'] } : {}) }, spec: { ...app.spec, destination } };
}

const remoteCm = (namespace: string, name: string) => remoteApi.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });
const gone = async (read: () => Promise<unknown>) => {
  try {
    await read();
    return false;
  } catch (e) {
    return /not found/i.test((e as Error).message);
  }
};
const synced = (a: any) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy';
const message = (a: any, type: string): string | undefined => a.status?.conditions?.find((c: any) => c.type === type)?.message;
const condition = (type: string) => (a: any) => message(a, type) !== undefined;

test('an Application whose destination names a remote cluster syncs there, heals edits, prunes, and deletes in cascade', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'edge-deploy');
  wc.write('web/base.yaml', configMap('edge-base', { tier: 'base' }, { 'argocd.argoproj.io/sync-wave': '-1' }));
  wc.write('web/settings.yaml', configMap('edge-settings', { color: 'blue' }));
  await wc.commitAndPush('edge web');
  await p.client.create(remoteApp('edge-web', url, 'web', { name: 'edge', namespace: 'shop' }, { finalizer: true }));

  const app = await waitApp(p, 'edge-web', synced, 'Synced and Healthy on the remote', WAIT);
  assert.equal(app.status.operationState.phase, 'Succeeded');
  assert.deepEqual(app.status.sync.comparedTo.destination, { name: 'edge', namespace: 'shop' });
  // the objects are on the remote, in the namespace the sync created there, and not in Pave itself
  assert.equal((await remoteApi.get({ apiVersion: 'v1', kind: 'Namespace', name: 'shop' })).metadata.name, 'shop');
  const live = await remoteCm('shop', 'edge-settings');
  assert.equal(live.data.color, 'blue');
  assert.equal(live.metadata.annotations?.['argocd.argoproj.io/tracking-id'], 'edge-web:/ConfigMap:shop/edge-settings');
  assert.equal((await remoteCm('shop', 'edge-base')).data.tier, 'base');
  assert.ok(await gone(() => p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'edge-settings' })));
  assert.deepEqual(gitops.clusters()?.connected(), [{ name: 'edge', server: remoteServer }]);

  // self-heal: an edit made on the remote is reverted
  await remoteApi.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'edge-settings' }, 'merge', { data: { color: 'red' } });
  await eventually(async () => (await remoteCm('shop', 'edge-settings')).data.color === 'blue', WAIT, 'the remote edit to be healed');

  // prune: removing the file removes the object from the remote
  wc.remove('web/settings.yaml');
  const sha = await wc.commitAndPush('drop settings');
  await eventually(() => gone(() => remoteCm('shop', 'edge-settings')), WAIT, 'edge-settings to be pruned on the remote');
  await waitApp(p, 'edge-web', (a) => synced(a) && a.status.sync.revision === sha, 'Synced after the prune', WAIT);
  assert.equal((await remoteCm('shop', 'edge-base')).data.tier, 'base');

  // deleting the Application with the resources finalizer deletes what it put on the remote
  await p.client.delete({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name: 'edge-web' });
  await eventually(() => gone(() => remoteCm('shop', 'edge-base')), WAIT, 'edge-base to be deleted on the remote');
  await eventually(() => gone(() => getApp(p, 'edge-web')), WAIT, 'the Application to be gone');
  // with no Application left on it, Pave stops watching the remote
  await eventually(() => gitops.clusters()?.connected().length === 0, WAIT, 'the remote watches to stop');
});

test('a destination given by server URL resolves to the same cluster, and its AppProject can permit it by name', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'edge-by-server');
  wc.write('cfg/cm.yaml', configMap('by-server', { via: 'server' }));
  await wc.commitAndPush('by server');
  await p.client.create({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'edge-only', namespace: 'argocd' }, spec: { sourceRepos: ['*'], destinations: [{ name: 'edge', namespace: 'shop-*' }] } });
  await p.client.create(remoteApp('by-server', url, 'cfg', { server: remoteServer, namespace: 'shop-two' }, { project: 'edge-only' }));
  await p.client.create(remoteApp('not-permitted', url, 'cfg', { server: remoteServer, namespace: 'elsewhere' }, { project: 'edge-only' }));

  await waitApp(p, 'by-server', synced, 'Synced and Healthy on the remote', WAIT);
  assert.equal((await remoteCm('shop-two', 'by-server')).data.via, 'server');
  const refused = await waitApp(p, 'not-permitted', condition('InvalidSpecError'), 'InvalidSpecError', WAIT);
  assert.match(message(refused, 'InvalidSpecError')!, /spec\.destination: server .* \(cluster edge\) namespace elsewhere is not permitted in project "edge-only"/);
  assert.ok(await gone(() => remoteCm('elsewhere', 'by-server')));

  await p.client.delete({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name: 'by-server' });
  await p.client.delete({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name: 'not-permitted' });
});

test('an unknown cluster is an InvalidSpecError naming it, until a cluster Secret declares it; credentials stay out of the status', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'late');
  wc.write('cfg/cm.yaml', configMap('late-cm', { arrived: 'yes' }));
  await wc.commitAndPush('late');
  await p.client.create(remoteApp('late-web', url, 'cfg', { name: 'late', namespace: 'late' }));
  await p.client.create(remoteApp('nowhere', url, 'cfg', { server: 'https://nowhere.example:6443', namespace: 'default' }));

  const byName = await waitApp(p, 'late-web', condition('InvalidSpecError'), 'InvalidSpecError', WAIT);
  assert.match(message(byName, 'InvalidSpecError')!, /spec\.destination: no cluster with name "late" is configured/);
  assert.equal(byName.status.sync.status, 'Unknown');
  const byServer = await waitApp(p, 'nowhere', condition('InvalidSpecError'), 'InvalidSpecError', WAIT);
  assert.match(message(byServer, 'InvalidSpecError')!, /spec\.destination: no cluster with server https:\/\/nowhere\.example:6443 is configured/);

  // declared with a token the remote refuses: the Application says so, without the token
  const wrong = 'not-the-remote-token-4711';
  await p.client.create(clusterSecret('late-cluster', 'late', wrong));
  const refused = await waitApp(p, 'late-web', condition('ComparisonError'), 'ComparisonError', WAIT);
  assert.match(message(refused, 'ComparisonError')!, /cluster late .*bearer token is not valid/);
  assert.doesNotMatch(JSON.stringify(refused.status), new RegExp(wrong));

  // the corrected Secret is picked up
  await p.client.update({ ...(await p.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'argocd', name: 'late-cluster' })), stringData: clusterSecret('late-cluster', 'late', remoteToken).stringData });
  await waitApp(p, 'late-web', (a) => synced(a) && !a.status.conditions, 'Synced and Healthy once the Secret is right', WAIT);
  assert.equal((await remoteCm('late', 'late-cm')).data.arrived, 'yes');

  // and so is its deletion
  await p.client.delete({ apiVersion: 'v1', kind: 'Secret', namespace: 'argocd', name: 'late-cluster' });
  await waitApp(p, 'late-web', condition('InvalidSpecError'), 'InvalidSpecError after the Secret is deleted', WAIT);
});
