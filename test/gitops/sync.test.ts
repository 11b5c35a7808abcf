import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, widgetCrd } from '../support/platform.js';
import { application, configMap, getApp, newRepo, startDelivery, waitApp, type TestPlatform } from './support.js';

let p: TestPlatform;
// widgets have no built-in health: teams describe it in Lua, in argocd-cm, as they do for Argo CD
const widgetHealth = `
hs = { status = "Progressing", message = "waiting for Ready" }
if obj.status ~= nil and obj.status.conditions ~= nil then
  for i, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" and c.status == "True" then
      hs.status = "Healthy"
      hs.message = c.reason
    end
  end
end
return hs`;

before(async () => {
  p = await startDelivery();
  await p.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' }, data: { 'resource.customizations.health.example.com_Widget': widgetHealth } });
});
after(async () => {
  await p.close();
});

const exists = async (apiVersion: string, kind: string, name: string, namespace?: string) => {
  try {
    return await p.client.get({ apiVersion, kind, namespace, name });
  } catch {
    return undefined;
  }
};
const markReady = async (name: string) => {
  const w = await p.client.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name });
  await p.client.updateStatus({ ...w, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Available' }] } });
};
const widgetYaml = (name: string, wave: number) => `apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: ${name}\n  annotations:\n    argocd.argoproj.io/sync-wave: "${wave}"\nspec:\n  size: 2\n`;
const crdYaml = (wave: number) => JSON.stringify({ ...widgetCrd, metadata: { ...widgetCrd.metadata, annotations: { 'argocd.argoproj.io/sync-wave': String(wave) } } });

test('waves apply in order, each after the previous is healthy, with PreSync and PostSync hooks around them', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'waves');
  wc.write('app/crd.json', crdYaml(-1));
  wc.write('app/widget.yaml', widgetYaml('first', 0));
  wc.write('app/after.yaml', configMap('after-widget', { wave: '1' }, { 'argocd.argoproj.io/sync-wave': '1' }));
  wc.write('app/pre.yaml', configMap('pre-hook', { hook: 'pre' }, { 'argocd.argoproj.io/hook': 'PreSync' }));
  wc.write('app/post.yaml', configMap('post-hook', { hook: 'post' }, { 'argocd.argoproj.io/hook': 'PostSync' }));
  await wc.commitAndPush('waves');
  await p.client.create(application('waves', url, 'app', { automated: { prune: true } }));

  // the CRD (wave -1) is served, then the widget (wave 0) exists but is not healthy: wave 1 waits
  await eventually(() => exists('example.com/v1', 'Widget', 'first', 'default'), 10_000, 'the wave-0 widget');
  assert.ok(await exists('v1', 'ConfigMap', 'pre-hook', 'default'), 'the PreSync hook ran first');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(await exists('v1', 'ConfigMap', 'after-widget', 'default'), undefined, 'wave 1 must wait for wave 0 to be healthy');
  assert.equal(await exists('v1', 'ConfigMap', 'post-hook', 'default'), undefined);
  const running = await getApp(p, 'waves');
  assert.equal(running.status.operationState.phase, 'Running');
  assert.match(running.status.operationState.message, /Widget\/first/);

  await markReady('first');
  await eventually(() => exists('v1', 'ConfigMap', 'after-widget', 'default'), 10_000, 'wave 1 after the widget is healthy');
  await eventually(() => exists('v1', 'ConfigMap', 'post-hook', 'default'), 10_000, 'the PostSync hook');
  const done = await waitApp(p, 'waves', (a) => a.status?.operationState?.phase === 'Succeeded' && a.status?.sync?.status === 'Synced', 'Succeeded and Synced');
  const hooks = done.status.operationState.syncResult.resources.filter((r: any) => r.hookType);
  assert.deepEqual(hooks.map((h: any) => `${h.hookType}:${h.name}:${h.hookPhase}`).sort(), ['PostSync:post-hook:Succeeded', 'PreSync:pre-hook:Succeeded']);
  // hooks are not part of the application's resources
  assert.ok(!done.status.resources.some((r: any) => r.name.endsWith('-hook')));
});

test('app-of-apps: a root Application creates its children, and pave.dev/depends-on holds one back until the other is healthy', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'bootstrap');
  const child = (name: string, path: string, annotations: Record<string, string> = {}) =>
    JSON.stringify({ ...application(name, url, path, { automated: { prune: true, selfHeal: true } }), metadata: { name, namespace: 'argocd', annotations } });
  wc.write('root/base.json', child('base', 'base', { 'argocd.argoproj.io/sync-wave': '0' }));
  wc.write('root/apps.json', child('apps', 'apps', { 'argocd.argoproj.io/sync-wave': '1', 'pave.dev/depends-on': 'base' }));
  wc.write('base/widget.yaml', widgetYaml('base-widget', 0));
  wc.write('apps/cm.yaml', configMap('apps-cm', { ready: 'yes' }));
  await wc.commitAndPush('bootstrap');
  await p.client.create(application('root', url, 'root', { automated: { prune: true } }));

  await waitApp(p, 'base', (a) => a.status?.health?.status === 'Progressing', 'base Progressing').catch(async (e) => {
    throw new Error(`${e.message}; root: ${JSON.stringify((await getApp(p, 'root')).status)}`);
  });
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(await exists('v1', 'ConfigMap', 'apps-cm', 'default'), undefined, 'apps waits for base');
  await markReady('base-widget');
  await waitApp(p, 'apps', (a) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy', 'apps Synced');
  assert.ok(await exists('v1', 'ConfigMap', 'apps-cm', 'default'));
  await waitApp(p, 'root', (a) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy', 'root Synced and Healthy');
});

test('an AppProject limits source repositories and resource kinds', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'limited');
  wc.write('cm/cm.yaml', configMap('limited-cm', { a: '1' }));
  await wc.commitAndPush('cm');
  await p.client.create({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'elsewhere', namespace: 'argocd' }, spec: { sourceRepos: ['https://github.com/acme/*'], destinations: [{ server: '*', namespace: '*' }] } });
  await p.client.create({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'no-configmaps', namespace: 'argocd' }, spec: { sourceRepos: ['*'], destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'default' }], namespaceResourceBlacklist: [{ group: '', kind: 'ConfigMap' }] } });
  await p.client.create(application('wrong-repo', url, 'cm', { automated: {}, project: 'elsewhere' }));
  await p.client.create(application('wrong-kind', url, 'cm', { automated: {}, project: 'no-configmaps' }));
  const a = await waitApp(p, 'wrong-repo', (x) => x.status?.conditions?.some((c: any) => c.type === 'InvalidSpecError'), 'InvalidSpecError');
  assert.match(a.status.conditions[0].message, /spec\.source\.repoURL.*not permitted in project "elsewhere"/);
  const b = await waitApp(p, 'wrong-kind', (x) => x.status?.conditions?.some((c: any) => c.type === 'SyncError'), 'SyncError');
  assert.match(b.status.conditions[0].message, /ConfigMap "limited-cm" is not permitted in project "no-configmaps"/);
  assert.equal(await exists('v1', 'ConfigMap', 'limited-cm', 'default'), undefined);
});

test('an ApplicationSet generates Applications from a list and from Git directories', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'fleet');
  wc.write('services/billing/cm.yaml', configMap('billing', { team: 'billing' }));
  wc.write('services/search/cm.yaml', configMap('search', { team: 'search' }));
  await wc.commitAndPush('services');
  await p.client.create({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'services', namespace: 'argocd' },
    spec: {
      generators: [{ matrix: { generators: [{ git: { repoURL: url, revision: 'HEAD', directories: [{ path: 'services/*' }] } }, { list: { elements: [{ env: 'prod' }] } }] } }],
      template: {
        metadata: { name: '{{path.basename}}-{{env}}' },
        spec: { project: 'default', source: { repoURL: url, targetRevision: 'HEAD', path: '{{path}}' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'default' }, syncPolicy: { automated: { prune: true } } },
      },
    },
  });
  await waitApp(p, 'billing-prod', (a) => a.status?.sync?.status === 'Synced', 'billing-prod Synced');
  await waitApp(p, 'search-prod', (a) => a.status?.sync?.status === 'Synced', 'search-prod Synced');
  assert.equal((await p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'search' })).data.team, 'search');
});
