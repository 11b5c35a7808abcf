import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isApiError } from '../../../src/api/errors.js';
import type { Resource } from '../../../src/api/types.js';
import { createLogger } from '../../../src/api/log.js';
import { portalModule, portalOf } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';
import { writeTree } from '../catalog/fixtures.js';
import { postJson, readEventStream, runTemplate } from './support.js';

const SECRET = 'pw-very-secret-1';
const TOKEN = 'tok-abc-123';

const templates = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: waits }
spec:
  type: service
  steps:
    - id: wait
      action: pave:catalog:wait-for-entity
      input: { entityRef: component:default/never-appears, timeoutSeconds: 600 }
    - id: next
      action: debug:log
      input: { message: the step after the wait ran }
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: retried }
spec:
  type: service
  parameters:
    - properties:
        token: { type: string, 'ui:field': Secret }
  steps:
    - id: needs-secret
      action: fetch:plain
      input: { url: "\${{ './skel' if secrets.token else './no-secret-given' }}", targetPath: skel }
    - id: later
      action: fetch:plain
      input: { url: ./later, targetPath: later }
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: leaky }
spec:
  type: service
  parameters:
    - properties:
        password: { type: string, 'ui:widget': password }
  steps:
    - id: move
      action: fs:rename
      input: { files: [{ from: "\${{ secrets.password }}.txt", to: x.txt }] }
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: escape-input }
spec:
  type: service
  steps:
    - id: probe
      action: debug:log
      input: { message: "\${{ ''.constructor.constructor('return process')().pid }}" }
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: escape-if }
spec:
  type: service
  steps:
    - id: probe
      if: "\${{ range.constructor('return process')().exit(1) }}"
      action: debug:log
      input: { message: unreachable }
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: escape-output }
spec:
  type: service
  steps: []
  output:
    pid: "\${{ this.process.pid }}"
`;

type Event = { id: number; type: string; body: { message: string; status?: string } };

describe('scaffolder task lifecycle: cancel, retry, events, and what a failure may not reveal', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let dir: string;
  const logLines: string[] = [];

  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => logLines.push(d.toString()));
    p = await startPlatform({ modules: [portalModule()], log: createLogger('debug', stream) });
    dir = tempDir('pave-lifecycle-');
    writeTree(dir, { 'templates.yaml': templates, 'skel/x.txt': 'x' });
    await portalOf(p).locations.add('file', join(dir, 'templates.yaml'));
    await eventually(() => ['waits', 'retried', 'leaky', 'escape-input', 'escape-if', 'escape-output'].every((n) => portalOf(p).index.get(`template:default/${n}`)), 10_000, 'the templates in the catalog');
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const events = async (id: string, after?: number) => (await (await fetch(`${p.url}/api/scaffolder/v2/tasks/${id}/events${after === undefined ? '' : `?after=${after}`}`)).json()) as Event[];
  const status = async (id: string) => ((await (await fetch(`${p.url}/api/scaffolder/v2/tasks/${id}`)).json()) as { status: string }).status;
  const taskRecord = (id: string) => p.client.get({ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', namespace: 'pave-system', name: id });
  const secretGone = (id: string) =>
    eventually(async () => {
      try {
        await p.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'pave-system', name: `task-${id}` });
        return false;
      } catch (e) {
        return isApiError(e, 404);
      }
    }, 10_000, `the secrets of task ${id} to be deleted`);

  it('POST /cancel stops a running task mid-step; the steps after it never run', async () => {
    const created = await postJson(`${p.url}/api/scaffolder/v2/tasks`, { templateRef: 'template:default/waits', values: {} });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    await eventually(async () => (await events(id)).some((e) => e.body.message === 'Beginning step wait'), 10_000, 'the wait step to begin');

    const early = await postJson(`${p.url}/api/scaffolder/v2/tasks/${id}/retry`, {});
    assert.equal(early.status, 409, 'a running task cannot be retried');
    assert.match(early.body.error.message, /only finished tasks can be retried/);

    const cancel = await postJson(`${p.url}/api/scaffolder/v2/tasks/${id}/cancel`, {});
    assert.equal(cancel.status, 200);
    assert.deepEqual(cancel.body, { status: 'cancelled' });
    const { frames } = await readEventStream(`${p.url}/api/scaffolder/v2/tasks/${id}/eventstream`);
    assert.equal(frames.at(-1)!.event, 'cancelled');
    assert.ok(!frames.some((f) => f.data.body.message === 'Beginning step next'), 'the next step did not start');
    await eventually(async () => (await status(id)) === 'cancelled', 10_000, 'the task to be stored as cancelled');
    const again = await postJson(`${p.url}/api/scaffolder/v2/tasks/${id}/cancel`, {});
    assert.deepEqual(again.body, { status: 'cancelled' }, 'cancelling a finished task changes nothing');
    const missing = await postJson(`${p.url}/api/scaffolder/v2/tasks/no-such-task/cancel`, {});
    assert.equal(missing.status, 404);
  });

  it('POST /retry runs a failed task again as the same task, with the secrets it is given again', async () => {
    const first = await runTemplate(p.url, 'template:default/retried', { token: TOKEN });
    assert.equal(first.last.status, 'failed');
    assert.match(first.last.message, /step "later" \(fetch:plain\) failed: skeleton "\.\/later" does not exist/);
    await secretGone(first.id);
    mkdirSync(join(dir, 'later'));
    writeFileSync(join(dir, 'later/y.txt'), 'y');

    // retried without secrets: they were deleted when the task finished
    const before = (await events(first.id)).at(-1)!.id;
    const bare = await postJson(`${p.url}/api/scaffolder/v2/tasks/${first.id}/retry`, {});
    assert.equal(bare.status, 201);
    assert.deepEqual(bare.body, { id: first.id });
    const second = await readEventStream(`${p.url}/api/scaffolder/v2/tasks/${first.id}/eventstream?after=${before}`);
    assert.equal(second.frames[0]!.event, 'recovered', 'a retry begins with a recovered event');
    assert.equal(second.frames.at(-1)!.data.body.status, 'failed');
    assert.match(second.frames.at(-1)!.data.body.message, /no-secret-given/);

    const mid = (await events(first.id)).at(-1)!.id;
    const withSecrets = await postJson(`${p.url}/api/scaffolder/v2/tasks/${first.id}/retry`, { secrets: { token: TOKEN } });
    assert.equal(withSecrets.status, 201);
    const third = await readEventStream(`${p.url}/api/scaffolder/v2/tasks/${first.id}/eventstream?after=${mid}`);
    assert.equal(third.frames.at(-1)!.data.body.status, 'completed', third.frames.map((f) => f.data.body.message).join('\n'));
    assert.equal(await status(first.id), 'completed');

    const later = await events(first.id, mid);
    assert.ok(later.length && later.every((e) => e.id > mid), 'GET /events?after=N returns only the events after N');
    assert.deepEqual(later.map((e) => e.id), [...later.keys()].map((i) => mid + 1 + i), 'event ids keep counting across retries');
    await secretGone(first.id);
    assert.ok(!JSON.stringify(await taskRecord(first.id)).includes(TOKEN), 'the task record never holds the secret');
    const bad = await postJson(`${p.url}/api/scaffolder/v2/tasks/${first.id}/retry`, { secrets: { token: 7 } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /secrets\.token must be a string/);
  });

  it('a task created with secrets does not start until they are stored beside it', async () => {
    // a task as its creator leaves it between storing the task and storing its secrets
    const done = await runTemplate(p.url, 'template:default/retried', { token: TOKEN });
    const spec = (await taskRecord(done.id)).spec;
    const waiting = await p.client.create<Resource>({ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', metadata: { name: 'awaits-secrets', namespace: 'pave-system', annotations: { 'scaffolder.pave.dev/awaiting-secrets': 'true' } }, spec });
    // the runner has seen it (a task without the annotation starts within milliseconds) and left it open
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await status('awaits-secrets'), 'open');
    await p.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'task-awaits-secrets', namespace: 'pave-system', ownerReferences: [{ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', name: 'awaits-secrets', uid: waiting.metadata.uid! }] },
      data: { token: Buffer.from(TOKEN).toString('base64') },
    });
    await p.client.patch({ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', namespace: 'pave-system', name: 'awaits-secrets' }, 'merge', { metadata: { annotations: { 'scaffolder.pave.dev/awaiting-secrets': null } } });
    const run = await readEventStream(`${p.url}/api/scaffolder/v2/tasks/awaits-secrets/eventstream`);
    // it ran with the secret: past the step that needs it
    assert.ok(run.frames.some((f) => f.data.body.message === 'Beginning step later'), run.frames.map((f) => f.data.body.message).join('\n'));
  });

  it('a secret in an error message is masked in the event log, the task record, the server log and a dry run', async () => {
    const run = await runTemplate(p.url, 'template:default/leaky', { password: SECRET });
    assert.equal(run.last.status, 'failed');
    assert.match(run.last.message, /files\[0\]\.from "\*\*\*\.txt" does not exist/);
    assert.ok(!JSON.stringify(run.frames).includes(SECRET), 'not in the events');
    await secretGone(run.id);
    assert.ok(!JSON.stringify(await taskRecord(run.id)).includes(SECRET), 'not in the task record');
    assert.ok(logLines.join('').includes(run.id), 'the server logged the failure');
    assert.ok(!logLines.join('').includes(SECRET), 'not in the server log');

    const template = await (await fetch(`${p.url}/api/catalog/entities/by-name/template/default/leaky`)).json();
    const dry = await postJson(`${p.url}/api/scaffolder/v2/dry-run`, { template, values: { password: SECRET }, directoryContents: [] });
    assert.equal(dry.status, 400);
    assert.match(dry.body.error.message, /"\*\*\*\.txt" does not exist/);
    assert.ok(!JSON.stringify(dry.body).includes(SECRET));
  });

  it('a template that reaches for Node fails its task with an error naming the step and the expression', async () => {
    const input = await runTemplate(p.url, 'template:default/escape-input', {});
    assert.equal(input.last.status, 'failed');
    assert.match(input.last.message, /step "probe": its input cannot be rendered: "constructor" cannot be read in a template in "\$\{\{ ''\.constructor/);
    const cond = await runTemplate(p.url, 'template:default/escape-if', {});
    assert.equal(cond.last.status, 'failed');
    assert.match(cond.last.message, /step "probe": its if cannot be rendered: "range" is not available in templates/);
    const output = await runTemplate(p.url, 'template:default/escape-output', {});
    assert.equal(output.last.status, 'failed');
    assert.match(output.last.message, /the template's output cannot be rendered: "this" is not available in templates/);
  });
});
