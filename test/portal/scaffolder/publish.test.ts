import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isApiError } from '../../../src/api/errors.js';
import { gitHostModule } from '../../../src/githost/index.js';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { writeTree } from '../catalog/fixtures.js';
import { dryRunTemplate, runTemplate } from './support.js';

const templates = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: publish }
spec:
  type: website
  steps:
    - id: fetch
      action: fetch:plain
      input: { url: ./site }
    - id: publish
      action: publish:pave
      input:
        repoUrl: pave?owner=acme&repo=\${{ parameters.repo }}
        description: The \${{ parameters.repo }} site
        gitCommitMessage: Create \${{ parameters.repo }}
  output:
    remoteUrl: \${{ steps.publish.output.remoteUrl }}
    commitHash: \${{ steps.publish.output.commitHash }}
    repoContentsUrl: \${{ steps.publish.output.repoContentsUrl }}
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: propose }
spec:
  type: website
  steps:
    - id: fetch
      action: fetch:plain:file
      input: { url: ./change/NEWS.md, targetPath: NEWS.md }
    - id: propose
      action: publish:pave:change-request
      input:
        repoUrl: pave?owner=acme&repo=\${{ parameters.repo }}
        branchName: \${{ parameters.branch }}
        title: Add the news page
        description: Requested from the portal
        targetPath: docs
  output:
    changeRequest: \${{ steps.propose.output.changeRequestName }}
    commitHash: \${{ steps.propose.output.commitHash }}
`;

describe('publish actions: a new repository by direct push, a change to an existing one by review', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;

  before(async () => {
    p = await startPlatform({ modules: [gitHostModule(), portalModule()] });
    dir = tempDir('pave-publish-');
    writeTree(dir, { 'templates.yaml': templates, 'site/index.html': '<h1>site</h1>\n', 'change/NEWS.md': '# News\n' });
    await portalOf(p).locations.add('file', join(dir, 'templates.yaml'));
    await eventually(() => portalOf(p).index.get('template:default/publish') && portalOf(p).index.get('template:default/propose'), 10_000, 'the templates in the catalog');
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const raw = async (repo: string, ref: string, path: string) => {
    const res = await fetch(`${p.url}/api/git/repos/acme/${repo}/raw/${ref}/${path}`);
    return res.status === 200 ? res.text() : undefined;
  };
  const repository = (name: string) => p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', name });

  it('publish:pave creates the repository and pushes the workspace to its default branch, once', async () => {
    const run = await runTemplate(p.url, 'template:default/publish', { repo: 'site' });
    assert.equal(run.last.status, 'completed', run.log);
    const repo = await repository('acme.site');
    assert.equal(repo.metadata.annotations?.['pave.dev/trace-id'], run.id);
    assert.equal(repo.spec.description, 'The site site');
    const output = run.last.output as { remoteUrl: string; commitHash: string; repoContentsUrl: string };
    assert.equal(output.remoteUrl, repo.status.url);
    assert.equal(output.commitHash, repo.status.refs['refs/heads/main'], 'the pushed commit is the tip of main');
    assert.equal(output.repoContentsUrl, `${p.url}/api/git/repos/acme/site/raw/main`);
    assert.equal(await raw('site', 'main', 'index.html'), '<h1>site</h1>\n');
    assert.match(run.log, /Created repository acme\/site on the Git host/);
    assert.match(run.log, /Pushed [0-9a-f]{7} to /);

    const again = await runTemplate(p.url, 'template:default/publish', { repo: 'site' });
    assert.equal(again.last.status, 'failed');
    assert.match(again.last.message, /repository acme\/site already has commits; use publish:pave:change-request to change it/);
    assert.equal((await repository('acme.site')).status.refs['refs/heads/main'], output.commitHash, 'main was not touched');

    const dry = await dryRunTemplate(p.url, 'publish', { repo: 'dry' });
    assert.equal(dry.status, 200);
    assert.match(dry.log, /Skipping step publish: publish:pave does not run in a dry run/);
    await assert.rejects(repository('acme.dry'), (e) => isApiError(e, 404), 'a dry run creates no repository');
  });

  it('publish:pave:change-request commits to a new branch and opens a ChangeRequest against main', async () => {
    const run = await runTemplate(p.url, 'template:default/propose', { repo: 'site', branch: 'add-news' }, { user: 'user:default/jane' });
    assert.equal(run.last.status, 'completed', run.log);
    const output = run.last.output as { changeRequest: string; commitHash: string };
    const cr = await p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'ChangeRequest', namespace: 'default', name: output.changeRequest });
    assert.deepEqual(
      { repository: cr.spec.repository, sourceBranch: cr.spec.sourceBranch, targetBranch: cr.spec.targetBranch, title: cr.spec.title, description: cr.spec.description, author: cr.spec.author },
      { repository: 'acme/site', sourceBranch: 'add-news', targetBranch: 'main', title: 'Add the news page', description: 'Requested from the portal', author: 'user:default/jane' },
    );
    assert.equal(cr.metadata.annotations?.['pave.dev/trace-id'], run.id);
    assert.match(run.log, new RegExp(`Opened change request ${output.changeRequest} on acme/site`));
    assert.equal(await raw('site', 'add-news', 'docs/NEWS.md'), '# News\n', 'the branch has the change under targetPath');
    assert.equal(await raw('site', 'add-news', 'index.html'), '<h1>site</h1>\n', 'on top of what main had');
    assert.equal(await raw('site', 'main', 'docs/NEWS.md'), undefined, 'main is unchanged until the request is merged');
    const reviewed = await eventually(async () => {
      const c = await p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'ChangeRequest', namespace: 'default', name: output.changeRequest });
      return c.status?.conditions?.some((x: { type: string; status: string }) => x.type === 'Mergeable' && x.status === 'True') && c;
    }, 10_000, 'the change request to be mergeable');
    assert.deepEqual(reviewed.status.files.map((f: { path: string }) => f.path), ['docs/NEWS.md']);
    assert.equal(reviewed.status.sourceCommit, output.commitHash);
  });

  it('publish:pave:change-request refuses a repository that does not exist, and creates none', async () => {
    const run = await runTemplate(p.url, 'template:default/propose', { repo: 'nowhere', branch: 'x' });
    assert.equal(run.last.status, 'failed');
    assert.match(run.last.message, /repository acme\/nowhere does not exist on the Git host; publish it first \(publish:pave\)/);
    await assert.rejects(repository('acme.nowhere'), (e) => isApiError(e, 404));
  });
});
