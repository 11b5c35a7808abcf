import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gitHostModule } from '../../../src/githost/index.js';
import { gitOpsModule } from '../../../src/gitops/index.js';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir, widgetCrd } from '../../support/platform.js';
import { writeTree } from '../catalog/fixtures.js';
import { postJson, readEventStream } from './support.js';

/** A template shaped like the starter's database template, requesting a Widget through Git. */
const template = (name: string, application: string) => `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: ${name}
spec:
  type: resource
  parameters:
    - required: [name, owner]
      properties:
        name: { type: string }
        owner: { type: string }
        size: { type: integer, default: 1 }
  steps:
    - id: claim
      action: pave:claim-template
      input:
        apiVersion: example.com/v1
        kind: Widget
        filePath: widgets/default/\${{ parameters.name }}.yaml
        parameters: { name: '\${{ parameters.name }}', owner: '\${{ parameters.owner }}', size: '\${{ parameters.size }}' }
    - id: publish
      action: publish:pave:commit
      input:
        repoUrl: pave?owner=platform&repo=requests
        gitCommitMessage: Add widget \${{ parameters.name }}
    - id: sync
      action: pave:gitops:wait-for-sync
      input:
        application: ${application}
        revision: \${{ steps.publish.output.commitHash }}
        timeoutSeconds: 20
  output:
    commit: \${{ steps.publish.output.commitHash }}
`;

describe('delivery actions: commit a request to Git and wait for GitOps', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;

  before(async () => {
    p = await startPlatform({ modules: [gitHostModule(), gitOpsModule(), portalModule()] });
    await p.client.apply(widgetCrd, { fieldManager: 'test', force: true });
    await p.client.create({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', metadata: { name: 'platform.requests' }, spec: { owner: 'platform', name: 'requests' } });
    const repo = await eventually(async () => (await p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', name: 'platform.requests' })).status?.url as string | undefined, 10_000, 'the repository');
    await p.client.create({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'requests', namespace: 'argocd' },
      spec: { project: 'default', source: { repoURL: repo, targetRevision: 'HEAD', path: 'widgets', directory: { recurse: true } }, destination: { server: 'https://kubernetes.default.svc', namespace: 'default' }, syncPolicy: { automated: { prune: true, selfHeal: true } } },
    });
    dir = tempDir('pave-delivery-');
    writeTree(dir, { 'widget.yaml': template('widget', 'requests'), 'orphan.yaml': template('orphan', 'nobody-syncs-this') });
    await portalOf(p).locations.add('file', join(dir, 'widget.yaml'));
    await portalOf(p).locations.add('file', join(dir, 'orphan.yaml'));
    await eventually(() => portalOf(p).index.get('template:default/widget') && portalOf(p).index.get('template:default/orphan'), 10_000, 'the templates in the catalog');
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (template: string, values: Record<string, unknown>) => {
    const created = await postJson(`${p.url}/api/scaffolder/v2/tasks`, { templateRef: `template:default/${template}`, values });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { frames } = await readEventStream(`${p.url}/api/scaffolder/v2/tasks/${created.body.id}/eventstream`, 30_000);
    const last = frames.at(-1)!.data.body;
    return { id: created.body.id as string, last, log: frames.map((f) => f.data.body.message).join('\n') };
  };
  const widget = (name: string) => p.client.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name }).catch(() => undefined);

  it('commits the manifest straight onto main, and the task ends once GitOps has applied it', async () => {
    const { id, last, log } = await run('widget', { name: 'first', owner: 'group:default/team-a', size: 3 });
    assert.equal(last.status, 'completed', log);
    assert.match(log, /Committed [0-9a-f]{7} to platform\/requests \(main\)/);
    assert.match(log, /Application argocd\/requests synced [0-9a-f]{7}/);
    // the object exists when the task says so, not some time later
    const w = await widget('first');
    assert.equal(w?.spec.size, 3);
    assert.equal(w?.metadata.annotations?.['pave.dev/trace-id'], id);
    const repo = await p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', name: 'platform.requests' });
    assert.equal((last.output as { commit: string }).commit, repo.status.refs['refs/heads/main'], 'the commit is the tip of main: no branch, no review');
    const file = await fetch(`${p.url}/api/git/repos/platform/requests/raw/main/widgets/default/first.yaml`);
    assert.equal(file.status, 200);
    assert.match(await file.text(), /pave\.dev\/owner: group:default\/team-a/);
  });

  it('tasks committing to the same branch at once all land, each waiting for its own commit', async () => {
    const names = ['w-a', 'w-b', 'w-c', 'w-d'];
    const results = await Promise.all(names.map((name) => run('widget', { name, owner: 'group:default/team-a', size: 2 })));
    for (const r of results) assert.equal(r.last.status, 'completed', r.log);
    for (const name of names) assert.ok(await widget(name), `widget ${name} was synced`);
    const tree = (await (await fetch(`${p.url}/api/git/repos/platform/requests/tree/main/widgets/default`)).json()) as { entries: { name: string }[] };
    assert.deepEqual(tree.entries.map((e) => e.name).filter((n) => n.startsWith('w-')).sort(), names.map((n) => `${n}.yaml`));
  });

  it('says which Application is missing instead of waiting forever', async () => {
    const { last, log } = await run('orphan', { name: 'lost', owner: 'group:default/team-a' });
    assert.equal(last.status, 'failed');
    assert.match(log, /Application argocd\/nobody-syncs-this does not exist/);
  });
});
