import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api } from '../githost/support.js';
import { eventually } from '../support/platform.js';
import { application, configMap, getApp, newRepo, startDelivery, waitApp, type TestPlatform } from './support.js';

let p: TestPlatform;
before(async () => {
  p = await startDelivery();
});
after(async () => {
  await p.close();
});

const cm = (name: string, namespace = 'default') => p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });
const synced = (a: any) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy';

test('a pushed manifest is synced, a deleted one pruned, and a live edit healed', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'deploy');
  wc.write('apps/web/settings.yaml', configMap('web-settings', { color: 'blue' }));
  await wc.commitAndPush('web settings');
  await p.client.create(application('web', url, 'apps/web', { automated: { prune: true, selfHeal: true } }));

  const app = await waitApp(p, 'web', synced, 'Synced and Healthy');
  const live = await cm('web-settings');
  assert.equal(live.data.color, 'blue');
  assert.equal(live.metadata.annotations?.['argocd.argoproj.io/tracking-id'], 'web:/ConfigMap:default/web-settings');
  assert.equal(app.status.operationState.phase, 'Succeeded');
  assert.equal(app.status.history.length, 1);

  // a change in Git reaches the live object
  wc.write('apps/web/settings.yaml', configMap('web-settings', { color: 'green' }));
  const sha = await wc.commitAndPush('green');
  await waitApp(p, 'web', (a) => synced(a) && a.status.sync.revision === sha, 'synced to the new commit');
  assert.equal((await cm('web-settings')).data.color, 'green');

  // self-heal: an edit made directly to the live object is reverted
  await p.client.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'web-settings' }, 'merge', { data: { color: 'red' } });
  await eventually(async () => (await cm('web-settings')).data.color === 'green', 10_000, 'the live edit to be healed');

  // an object that carries a copy of another object's tracking id (a controller copied the
  // annotation, as Crossplane does from claim to XR) is not the app's: Argo CD leaves it alone
  const copied = { 'argocd.argoproj.io/tracking-id': 'web:/ConfigMap:default/web-settings' };
  await p.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-copy', namespace: 'default', annotations: copied }, data: { a: '1' } });

  // prune: removing the file removes the object
  wc.write('apps/web/other.yaml', configMap('web-other', { a: '1' }));
  wc.remove('apps/web/settings.yaml');
  await wc.commitAndPush('replace settings');
  await eventually(async () => {
    try {
      await cm('web-settings');
      return false;
    } catch {
      return true;
    }
  }, 10_000, 'web-settings to be pruned');
  assert.equal((await cm('web-other')).data.a, '1');
  await waitApp(p, 'web', synced, 'Synced after prune');
  assert.equal((await cm('web-copy')).data.a, '1', 'an object with a copied tracking id is not pruned');
});

test('malformed YAML gives a ComparisonError naming the file and line, applies nothing, and leaves other apps alone', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'mixed');
  wc.write('good/cm.yaml', configMap('good-cm', { ok: 'yes' }));
  wc.write('bad/a.yaml', configMap('bad-a', { x: '1' }));
  wc.write('bad/b.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad-b\ndata:\n  key: [unclosed\n');
  await wc.commitAndPush('one bad file');
  await p.client.create(application('good', url, 'good', { automated: { prune: true } }));
  await p.client.create(application('bad', url, 'bad', { automated: { prune: true } }));

  const bad = await waitApp(p, 'bad', (a) => a.status?.conditions?.some((c: any) => c.type === 'ComparisonError'), 'a ComparisonError');
  const message = bad.status.conditions.find((c: any) => c.type === 'ComparisonError').message;
  assert.match(message, /bad\/b\.yaml:\d+/);
  await waitApp(p, 'good', synced, 'the other app Synced');
  await assert.rejects(cm('bad-a'), /not found/);
});

test('an unmerged change request changes nothing live; merging it syncs', async () => {
  const { url, wc } = await newRepo(p, 'acme', 'gated');
  wc.write('env/cm.yaml', configMap('gated-cm', { size: 'small' }));
  await wc.commitAndPush('base');
  await p.client.create(application('gated', url, 'env', { automated: { prune: true } }));
  await waitApp(p, 'gated', synced, 'Synced');

  await wc.git('checkout', '-q', '-b', 'bigger');
  wc.write('env/cm.yaml', configMap('gated-cm', { size: 'large' }));
  await wc.commitAndPush('bigger', 'bigger');
  const created = await api(p.url, 'POST', '/api/git/repos/acme/gated/changes', p.adminToken, { name: 'bigger', sourceBranch: 'bigger', targetBranch: 'main', title: 'Bigger' });
  assert.equal(created.code, 201);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await cm('gated-cm')).data.size, 'small');

  await api(p.url, 'POST', '/api/git/repos/acme/gated/changes/bigger/approve', p.adminToken, { user: 'lead' });
  const merged = await api(p.url, 'POST', '/api/git/repos/acme/gated/changes/bigger/merge', p.adminToken);
  assert.equal(merged.code, 200, merged.text);
  await eventually(async () => (await cm('gated-cm')).data.size === 'large', 10_000, 'the merged change to be synced');
  await waitApp(p, 'gated', (a) => synced(a) && a.status.sync.revision === merged.json.status.mergeCommit && a.status.operationState.syncResult.revision === merged.json.status.mergeCommit, 'synced to the merge commit');
});

test('an external Git URL is resolved with ls-remote, fetched into the cache and synced; the refresh annotation picks up new commits', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { join } = await import('node:path');
  const { tempDir } = await import('../support/platform.js');
  const { WorkingCopy } = await import('../githost/support.js');
  const bare = join(tempDir(), 'external.git');
  await promisify(execFile)('git', ['init', '-q', '--bare', '--initial-branch=main', bare]);
  const wc = await WorkingCopy.clone(`file://${bare}`, join(tempDir(), 'external-wc'));
  wc.write('deploy/cm.yaml', configMap('external-cm', { from: 'outside' }));
  await wc.commitAndPush('external');
  await p.client.create(application('external', `file://${bare}`, 'deploy', { automated: { prune: true } }));
  await waitApp(p, 'external', synced, 'Synced from an external URL');
  assert.equal((await cm('external-cm')).data.from, 'outside');

  wc.write('deploy/cm.yaml', configMap('external-cm', { from: 'refreshed' }));
  const sha = await wc.commitAndPush('again');
  await p.client.patch({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name: 'external' }, 'merge', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
  await waitApp(p, 'external', (a) => synced(a) && a.status.sync.revision === sha, 'synced to the new commit after a refresh');
  assert.equal((await cm('external-cm')).data.from, 'refreshed');
  assert.equal((await getApp(p, 'external')).metadata.annotations?.['argocd.argoproj.io/refresh'], undefined);
});
