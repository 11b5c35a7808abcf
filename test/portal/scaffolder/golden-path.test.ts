import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogClient } from '@backstage/catalog-client';
import { gitHostModule } from '../../../src/githost/index.js';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { writeTree } from '../catalog/fixtures.js';
import { postJson, readEventStream } from './support.js';
import { git } from '../../githost/support.js';

const template = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: golden-path
  title: Service with a database
spec:
  owner: group:platform
  type: service
  parameters:
    - title: Service
      required: [name, owner]
      properties:
        name: { type: string }
        owner: { type: string }
    - title: Repository
      properties:
        repoUrl: { type: string, 'ui:field': RepoUrlPicker }
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values: { name: '\${{ parameters.name }}', owner: '\${{ parameters.owner }}' }
    - id: claim
      name: Write claim
      action: pave:claim-template
      input:
        parameters: { name: '\${{ parameters.name }}-db', namespace: default, owner: '\${{ parameters.owner }}', storageGB: 5 }
        apiVersion: platform.pave.dev/v1alpha1
        kind: PostgreSQLInstance
        filePath: deploy/claim.yaml
    - id: publish
      name: Publish
      action: publish:pave
      input:
        repoUrl: \${{ parameters.repoUrl }}
        description: \${{ parameters.name }} service
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: \${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: /catalog-info.yaml
  output:
    links:
      - title: Repository
        url: \${{ steps.publish.output.remoteUrl }}
      - title: Open in catalog
        entityRef: \${{ steps.register.output.entityRef }}
`;

describe('golden path: template → Git host → catalog', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;

  before(async () => {
    p = await startPlatform({ modules: [gitHostModule(), portalModule()] });
    dir = tempDir('pave-golden-');
    writeTree(dir, {
      'template.yaml': template,
      'skeleton/catalog-info.yaml': 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: experimental\n  owner: ${{ values.owner }}\n',
      'skeleton/README.md': '# ${{ values.name }}\n',
    });
    await portalOf(p).locations.add('file', join(dir, 'template.yaml'));
    await eventually(() => portalOf(p).index.get('template:default/golden-path'), 10_000, 'the template in the catalog');
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the rendered skeleton and claim to a new repository and registers the component', async () => {
    const created = await postJson(`${p.url}/api/scaffolder/v2/tasks`, { templateRef: 'template:default/golden-path', values: { name: 'orders', owner: 'team-a', repoUrl: 'pave?owner=acme&repo=orders' } });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    const { frames } = await readEventStream(`${p.url}/api/scaffolder/v2/tasks/${id}/eventstream`, 30_000);
    const last = frames.at(-1)!;
    assert.equal(last.data.body.status, 'completed', frames.map((f) => f.data.body.message).join('\n'));
    const output = last.data.body.output as { links: { url?: string; entityRef?: string }[] };
    assert.equal(output.links[1]!.entityRef, 'component:default/orders');

    const repo = await p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', name: 'acme.orders' });
    assert.equal(repo.metadata.annotations?.['pave.dev/trace-id'], id, 'the repository carries the task trace id');
    assert.equal(output.links[0]!.url, repo.status.url);
    const claim = await (await fetch(`${p.url}/api/git/repos/acme/orders/raw/main/deploy/claim.yaml`)).text();
    assert.match(claim, /kind: PostgreSQLInstance/);
    assert.match(claim, /pave\.dev\/owner: team-a/);
    assert.match(claim, new RegExp(`pave\\.dev/trace-id: ${id}`));
    assert.match(claim, /storageGB: 5/);

    const catalog = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${p.url}/api/catalog` }, fetchApi: { fetch } });
    const component = await eventually(() => catalog.getEntityByRef('component:default/orders'), 10_000, 'the component in the catalog');
    assert.equal(component.spec?.owner, 'team-a');
    assert.equal(component.metadata.annotations?.['backstage.io/managed-by-location'], `url:${p.url}/api/git/repos/acme/orders/raw/main/catalog-info.yaml`);
    const location = await catalog.getLocationByEntity('component:default/orders');
    assert.ok(location);
    const locEntity = portalOf(p).index.getByUid(location.id)!;
    assert.equal(locEntity.entity.metadata.annotations?.['pave.dev/trace-id'], id, 'the registered location carries the task trace id');
    assert.ok(!Object.keys(locEntity.entity.metadata.annotations ?? {}).some((k) => k.startsWith('catalog.pave.dev/')), 'bookkeeping annotations are not served');

    // a push that changes catalog-info.yaml refreshes the entity without waiting for a timer
    const work = tempDir('pave-clone-');
    await git(['clone', '-q', repo.status.url, work], { token: p.adminToken });
    const file = join(work, 'catalog-info.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('lifecycle: experimental', 'lifecycle: production'));
    await git(['commit', '-qam', 'promote'], { cwd: work });
    await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work, token: p.adminToken });
    await eventually(async () => (await catalog.getEntityByRef('component:default/orders'))?.spec?.lifecycle === 'production', 5_000, 'the push to refresh the entity');
    rmSync(work, { recursive: true, force: true });
  });
});
