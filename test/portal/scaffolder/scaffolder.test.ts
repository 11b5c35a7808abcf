import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../src/api/log.js';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { writeTree } from '../catalog/fixtures.js';
import { postJson, readEventStream } from './support.js';

const SECRET = 'hunter2-very-secret';

const template = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: service
  title: A service with a database
spec:
  owner: team-a
  type: service
  parameters:
    - title: Service
      required: [name, owner]
      properties:
        name: { type: string }
        owner: { type: string }
        description: { type: string }
        dbPassword: { type: string, 'ui:field': Secret }
    - title: Options
      properties:
        withDocs: { type: boolean }
        extraFiles: { type: array, items: { type: string } }
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: \${{ parameters.name }}
          owner: \${{ parameters.owner }}
          description: \${{ parameters.description }}
    - id: docs
      if: \${{ parameters.withDocs }}
      action: debug:log
      input: { message: writing docs }
    - id: extras
      each: \${{ parameters.extraFiles }}
      action: fs:rename
      input:
        files:
          - from: \${{ each.value }}.txt
            to: renamed/\${{ each.value }}.txt
    - id: claim
      action: terasky:claim-template
      input:
        parameters:
          name: \${{ parameters.name }}-db
          namespace: team-a
          owner: \${{ parameters.owner }}
          size: small
        apiVersion: platform.pave.dev/v1alpha1
        kind: PostgreSQLInstance
    - id: secret
      action: debug:log
      input:
        message: "connecting with \${{ secrets.dbPassword }} for \${{ parameters.name | upper }}"
    - id: list
      action: debug:log
      input: { listWorkspace: true }
  output:
    links:
      - title: Repository
        url: http://example.com/\${{ parameters.name }}
    text:
      - title: Claim
        content: \${{ steps.claim.output.manifest }}
`;

const escaping = (input: string) => `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: escape-${input.split(':')[0]}
spec:
  type: service
  steps:
    - id: bad
      action: ${input.split(':')[0]!.replace(/_/g, ':')}
      input: ${input.slice(input.indexOf(':') + 1)}
`;

describe('scaffolder', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;
  const logLines: string[] = [];

  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => logLines.push(d.toString()));
    p = await startPlatform({ modules: [portalModule()], log: createLogger('debug', stream) });
    dir = tempDir('pave-scaffolder-');
    writeTree(dir, {
      'catalog.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: templates }
spec:
  targets: [./service/template.yaml, ./escapes.yaml]
`,
      'service/template.yaml': template,
      'service/skeleton/catalog-info.yaml': 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\n  description: ${{ values.description }}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: ${{ values.owner }}\n',
      'service/skeleton/${{ values.name }}.md': '# ${{ values.name }}\n',
      'service/skeleton/a.txt': 'a',
      'service/skeleton/b.txt': 'b',
      'escapes.yaml': [
        escaping('fetch_plain:{ url: ./service/skeleton, targetPath: ../../outside }'),
        escaping('fs_rename:{ files: [{ from: a.txt, to: /tmp/stolen.txt }] }'),
        escaping('fetch_plain_file:{ url: /etc/passwd, targetPath: passwd }'),
      ].join('---\n'),
      'linked/template.yaml': escaping('fetch_template:{ url: ./skeleton }').replace('escape-fetch_template', 'linked'),
    });
    mkdirSync(join(dir, 'linked/skeleton'));
    symlinkSync('/etc/passwd', join(dir, 'linked/skeleton/passwd'));
    await portalOf(p).locations.add('file', join(dir, 'catalog.yaml'));
    await portalOf(p).locations.add('file', join(dir, 'linked/template.yaml'));
    await eventually(() => portalOf(p).index.get('template:default/service') && portalOf(p).index.get('template:default/linked'), 10_000, 'templates in the catalog');
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (templateRef: string, values: Record<string, unknown>) => {
    const created = await postJson(`${p.url}/api/scaffolder/v2/tasks`, { templateRef, values });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const stream = await readEventStream(`${p.url}/api/scaffolder/v2/tasks/${created.body.id}/eventstream`);
    return { id: created.body.id as string, ...stream };
  };

  it('runs a template from POST /v2/tasks and streams its log as Server-Sent Events', async () => {
    const { id, contentType, frames } = await run('template:default/service', {
      name: 'payments',
      owner: 'team-a',
      description: 'pays ${{ secrets.dbPassword }}',
      dbPassword: SECRET,
      withDocs: false,
      extraFiles: ['a', 'b'],
    });
    assert.match(contentType ?? '', /text\/event-stream/);
    const last = frames.at(-1)!;
    assert.equal(last.event, 'completion', JSON.stringify(frames.map((f) => f.data.body.message)));
    assert.equal(last.data.body.status, 'completed', last.data.body.message);
    const messages = frames.map((f) => f.data.body.message);
    assert.ok(messages.includes('Beginning step Fetch skeleton'));
    assert.ok(messages.some((m) => /Skipping step docs/.test(m)), 'a false if skips the step');
    assert.ok(messages.some((m) => m === 'connecting with *** for PAYMENTS'), `secret masked in the log: ${messages.join(' | ')}`);
    const listing = messages.find((m) => m.startsWith('Workspace:'))!;
    for (const f of ['catalog-info.yaml', 'payments.md', 'renamed/a.txt', 'renamed/b.txt', 'local/team-a/PostgreSQLInstance/payments-db.yaml']) assert.ok(listing.includes(f), `${f} in ${listing}`);
    const output = last.data.body.output as { links: { url: string }[]; text: { content: string }[] };
    assert.equal(output.links[0]!.url, 'http://example.com/payments');
    assert.match(output.text[0]!.content, /pave\.dev\/owner: team-a/);
    assert.match(output.text[0]!.content, new RegExp(`pave.dev/trace-id: ${id}`));
    const task = (await (await fetch(`${p.url}/api/scaffolder/v2/tasks/${id}`)).json()) as { status: string; spec: { templateInfo: { entityRef: string } } };
    assert.equal(task.status, 'completed');
    assert.equal(task.spec.templateInfo.entityRef, 'template:default/service');
    const events = (await (await fetch(`${p.url}/api/scaffolder/v2/tasks/${id}/events`)).json()) as unknown[];
    assert.equal(events.length, frames.length, 'stored events match the stream');
    const stored = await p.client.get({ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', namespace: 'pave-system', name: id });
    assert.ok(!JSON.stringify(stored).includes(SECRET), 'the task record does not hold the secret');
    assert.ok(!JSON.stringify(task).includes(SECRET));
    assert.ok(!logLines.join('').includes(SECRET), 'the server log does not hold the secret');
  });

  it('never evaluates ${{ }} inside a user value', async () => {
    const res = await postJson(`${p.url}/api/scaffolder/v2/dry-run`, {
      template: (await (await fetch(`${p.url}/api/catalog/entities/by-name/template/default/service`)).json()),
      values: { name: 'x', owner: 'team-a', description: '${{ secrets.dbPassword }} {{ 7*7 }}', dbPassword: SECRET },
      directoryContents: [],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const info = res.body.directoryContents.find((f: { path: string }) => f.path === 'catalog-info.yaml');
    assert.match(Buffer.from(info.base64Content, 'base64').toString(), /description: \$\{\{ secrets\.dbPassword \}\} \{\{ 7\*7 \}\}/);
    assert.ok(!JSON.stringify(res.body).includes(SECRET));
    const { id, frames } = await run('template:default/service', { name: 'inject', owner: 'team-a', description: '${{ secrets.dbPassword }} ${{ 7*7 }}', dbPassword: SECRET });
    assert.equal(frames.at(-1)!.data.body.status, 'completed');
    const stored = await p.client.get({ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', namespace: 'pave-system', name: id });
    assert.equal(stored.spec.parameters.description, '${{ secrets.dbPassword }} ${{ 7*7 }}');
    assert.ok(!JSON.stringify(frames).includes(SECRET));
    assert.ok(!frames.some((f) => f.data.body.message.includes('49')), 'the expression in the value was not evaluated');
  });

  it('dry-runs a template against given files and returns the rendered workspace', async () => {
    const res = await postJson(`${p.url}/api/scaffolder/v2/dry-run`, {
      template: { apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: 'dry' }, spec: { type: 'x', steps: [{ id: 'w', action: 'catalog:write', input: { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: '${{ parameters.name }}' }, spec: { note: '${{ parameters.note }}' } } } }, { id: 'd', action: 'fs:delete', input: { files: ['old.txt'] } }] } },
      values: { name: 'dry-svc', note: '${{ 1+1 }}' },
      directoryContents: [{ path: 'old.txt', base64Content: Buffer.from('x').toString('base64') }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const files = Object.fromEntries(res.body.directoryContents.map((f: { path: string; base64Content: string }) => [f.path, Buffer.from(f.base64Content, 'base64').toString()]));
    assert.deepEqual(Object.keys(files), ['catalog-info.yaml']);
    assert.match(files['catalog-info.yaml'], /name: dry-svc/);
    assert.match(files['catalog-info.yaml'], /note: \$\{\{ 1\+1 \}\}/);
  });

  it('keeps fetch and fs actions inside the task workspace', async () => {
    for (const [name, why] of [['escape-fetch_plain', /outside the task workspace/], ['escape-fs_rename', /absolute/], ['linked', /symlink/]] as const) {
      const { frames } = await run(`template:default/${name}`, {});
      const last = frames.at(-1)!;
      assert.equal(last.data.body.status, 'failed', `${name} must fail`);
      assert.match(last.data.body.message, why, `${name}: ${last.data.body.message}`);
    }
    const { frames } = await run('template:default/escape-fetch_plain_file', {});
    assert.equal(frames.at(-1)!.data.body.status, 'failed');
    assert.match(frames.at(-1)!.data.body.message, /absolute path/);
  });

  it('refuses a task whose values break the template\'s parameter schema, naming each field, and starts nothing', async () => {
    const before = (await p.client.list('scaffolder.pave.dev/v1alpha1', 'ScaffolderTask')).items.length;
    const res = await postJson(`${p.url}/api/scaffolder/v2/tasks`, { templateRef: 'template:default/service', values: { name: 42, withDocs: 'yes', dbPassword: SECRET } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    const message = JSON.stringify(res.body);
    for (const field of ['name must be string', 'owner is required', 'withDocs must be boolean']) assert.ok(message.includes(field), `${field} in ${message}`);
    assert.ok(!message.includes(SECRET), 'the error does not echo a secret value');
    assert.equal((await p.client.list('scaffolder.pave.dev/v1alpha1', 'ScaffolderTask')).items.length, before);
  });

  it('lists actions and serves a template parameter schema', async () => {
    const actions = (await (await fetch(`${p.url}/api/scaffolder/v2/actions`)).json()) as { id: string }[];
    for (const id of ['fetch:template', 'fetch:plain', 'fetch:plain:file', 'publish:pave', 'publish:pave:change-request', 'catalog:register', 'catalog:write', 'debug:log', 'fs:rename', 'fs:delete', 'pave:claim-template', 'terasky:claim-template']) {
      assert.ok(actions.some((a) => a.id === id), id);
    }
    const schema = (await (await fetch(`${p.url}/api/scaffolder/v2/templates/default/template/service/parameter-schema`)).json()) as { title: string; steps: { title: string }[] };
    assert.equal(schema.title, 'A service with a database');
    assert.deepEqual(schema.steps.map((s: { title: string }) => s.title), ['Service', 'Options']);
  });
});
