import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gitHostModule } from '../../src/githost/index.js';
import { eventually, startPlatform, tempDir } from '../support/platform.js';
import { api, authedUrl, git, WorkingCopy } from './support.js';

let p: Awaited<ReturnType<typeof startPlatform>>;

before(async () => {
  p = await startPlatform({ modules: [gitHostModule()] });
});
after(async () => {
  await p.close();
});

const repoObj = (name: string) => p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', name });

test('a repository created through the REST API can be cloned and pushed with plain git', async () => {
  const created = await api(p.url, 'POST', '/api/git/repos', p.adminToken, { owner: 'acme', name: 'infra', description: 'platform manifests' });
  assert.equal(created.code, 201, created.text);
  assert.equal(created.json.url, `${p.url}/git/acme/infra.git`);

  const wc = await WorkingCopy.clone(authedUrl(created.json.url, p.adminToken), join(tempDir(), 'infra'));
  wc.write('apps/web/config.yaml', 'kind: ConfigMap\n').write('README.md', '# infra\n');
  const sha = await wc.commitAndPush('first');

  const obj = await eventually(async () => {
    const o = await repoObj('acme.infra');
    return o.status?.refs?.['refs/heads/main'] === sha ? o : undefined;
  }, 10_000, 'status.refs to show the push');
  assert.equal(obj.status.lastPush.ref, 'refs/heads/main');
  assert.equal(obj.status.lastPush.after, sha);
  assert.deepEqual([...obj.status.lastPush.changedPaths].sort(), ['README.md', 'apps/web/config.yaml']);
  assert.equal(obj.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');

  const raw = await api(p.url, 'GET', '/api/git/repos/acme/infra/raw/main/apps/web/config.yaml');
  assert.equal(raw.code, 200);
  assert.equal(raw.text, 'kind: ConfigMap\n');
  assert.equal((await api(p.url, 'GET', '/api/git/repos/acme/infra/raw/main/nope.yaml')).code, 404);
  const tree = await api(p.url, 'GET', '/api/git/repos/acme/infra/tree/main/apps');
  assert.deepEqual(tree.json.entries, [{ name: 'web', path: 'apps/web', type: 'tree' }]);

  // a second push reports only what it changed
  wc.write('apps/web/config.yaml', 'kind: ConfigMap\nmetadata: {}\n');
  const sha2 = await wc.commitAndPush('second');
  const o2 = await eventually(async () => {
    const o = await repoObj('acme.infra');
    return o.status?.lastPush?.after === sha2 ? o : undefined;
  });
  assert.equal(o2.status.lastPush.before, sha);
  assert.deepEqual(o2.status.lastPush.changedPaths, ['apps/web/config.yaml']);
});

test('pushing without the token is refused and changes nothing', async () => {
  await api(p.url, 'POST', '/api/git/repos', p.adminToken, { owner: 'acme', name: 'locked' });
  const wc = await WorkingCopy.clone(authedUrl(`${p.url}/git/acme/locked.git`, p.adminToken), join(tempDir(), 'locked'));
  await wc.git('remote', 'set-url', 'origin', `${p.url}/git/acme/locked.git`);
  wc.write('a.txt', 'a');
  await wc.git('add', '-A');
  await wc.git('commit', '-q', '-m', 'x');
  await assert.rejects(wc.git('push', '-q', 'origin', 'HEAD:refs/heads/main'), /401|Authentication|could not read Username/i);
  const o = await repoObj('acme.locked');
  assert.equal(o.status?.refs?.['refs/heads/main'], undefined);
});

test('creating a GitRepository object creates the bare repository', async () => {
  await p.client.create({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', metadata: { name: 'team.svc' }, spec: { owner: 'team', name: 'svc', defaultBranch: 'trunk' } });
  const o = await eventually(async () => {
    const x = await repoObj('team.svc');
    return x.status?.url ? x : undefined;
  });
  assert.equal(o.status.defaultBranch, 'trunk');
  // an empty repository answers ls-remote with nothing, and a missing one fails
  assert.equal(await git(['ls-remote', o.status.url]), '');
  await assert.rejects(git(['ls-remote', `${p.url}/git/team/missing.git`]));
});

test('a change request shows its files, needs an approval, and its merge moves the target branch', async () => {
  await api(p.url, 'POST', '/api/git/repos', p.adminToken, { owner: 'acme', name: 'review' });
  const wc = await WorkingCopy.clone(authedUrl(`${p.url}/git/acme/review.git`, p.adminToken), join(tempDir(), 'review'));
  wc.write('base.yaml', 'a: 1\n');
  const base = await wc.commitAndPush('base');
  await wc.git('checkout', '-q', '-b', 'feature');
  wc.write('db.yaml', 'kind: PostgreSQLInstance\n');
  await wc.commitAndPush('add db', 'feature');

  const created = await api(p.url, 'POST', '/api/git/repos/acme/review/changes', p.adminToken, { name: 'add-db', sourceBranch: 'feature', targetBranch: 'main', title: 'Add a database' });
  assert.equal(created.code, 201, created.text);
  const cr = await eventually(async () => {
    const r = await api(p.url, 'GET', '/api/git/repos/acme/review/changes/add-db');
    return r.json?.status?.files ? r.json : undefined;
  });
  assert.equal(cr.status.state, 'Open');
  assert.deepEqual(cr.status.files, [{ path: 'db.yaml', status: 'added' }]);

  const early = await api(p.url, 'POST', '/api/git/repos/acme/review/changes/add-db/merge', p.adminToken);
  assert.equal(early.code, 409);
  assert.match(early.json.message, /needs an approval/);
  assert.equal((await repoObj('acme.review')).status.refs['refs/heads/main'], base);

  const approved = await api(p.url, 'POST', '/api/git/repos/acme/review/changes/add-db/approve', p.adminToken, { user: 'alice' });
  assert.equal(approved.json.status.state, 'Approved');
  assert.equal(approved.json.status.approvals[0].user, 'alice');
  const merged = await api(p.url, 'POST', '/api/git/repos/acme/review/changes/add-db/merge', p.adminToken);
  assert.equal(merged.code, 200, merged.text);
  assert.equal(merged.json.status.state, 'Merged');
  const repo = await repoObj('acme.review');
  assert.equal(repo.status.refs['refs/heads/main'], merged.json.status.mergeCommit);
  assert.deepEqual(repo.status.lastPush.changedPaths, ['db.yaml']);
  const raw = await api(p.url, 'GET', '/api/git/repos/acme/review/raw/main/db.yaml');
  assert.equal(raw.text, 'kind: PostgreSQLInstance\n');
});
