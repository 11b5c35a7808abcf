import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { portalModule } from '../../../src/portal/index.js';
import { eventually, startPlatform, tempDir } from '../../support/platform.js';

const task = (name: string) => ({
  apiVersion: 'scaffolder.pave.dev/v1alpha1',
  kind: 'ScaffolderTask',
  metadata: { name, namespace: 'pave-system' },
  spec: { apiVersion: 'scaffolder.backstage.io/v1beta3', parameters: { who: 'restart' }, steps: [{ id: 'say', action: 'debug:log', input: { message: 'hello ${{ parameters.who }}' } }] },
});

describe('scaffolder tasks across a restart', () => {
  it('runs tasks left open and reports tasks interrupted mid-run', async () => {
    const dataDir = tempDir('pave-restart-');
    try {
      (await startPlatform({ dataDir, modules: [portalModule()] }).then(async (p) => p.close()));
      // the server is down for the portal: tasks are stored but no runner is there to take them
      const idle = await startPlatform({ dataDir, modules: [] });
      await idle.client.create(task('waiting'));
      await idle.client.create(task('interrupted'));
      await idle.client.patch({ apiVersion: 'scaffolder.pave.dev/v1alpha1', kind: 'ScaffolderTask', namespace: 'pave-system', name: 'interrupted' }, 'merge', { status: { state: 'processing', events: [{ id: 0, taskId: 'interrupted', type: 'log', body: { message: 'Beginning step say', stepId: 'say', status: 'processing' }, createdAt: new Date().toISOString() }] } }, { subresource: 'status' });
      await idle.close();

      const p = await startPlatform({ dataDir, modules: [portalModule()] });
      try {
        const get = async (id: string) => (await (await fetch(`${p.url}/api/scaffolder/v2/tasks/${id}`)).json()) as { status: string };
        await eventually(async () => (await get('waiting')).status === 'completed', 10_000, 'the waiting task to run');
        const events = (await (await fetch(`${p.url}/api/scaffolder/v2/tasks/waiting/events`)).json()) as { body: { message: string } }[];
        assert.ok(events.some((e) => e.body.message === 'hello restart'));
        await eventually(async () => (await get('interrupted')).status === 'failed', 10_000, 'the interrupted task to be failed');
        const interrupted = (await (await fetch(`${p.url}/api/scaffolder/v2/tasks/interrupted/events`)).json()) as { type: string; body: { message: string } }[];
        assert.ok(interrupted.some((e) => e.type === 'recovered'), 'a recovered event says what happened');
        assert.equal(interrupted.at(-1)!.type, 'completion');
        const list = (await (await fetch(`${p.url}/api/scaffolder/v2/tasks`)).json()) as { totalTasks: number };
        assert.equal(list.totalTasks, 2);
      } finally {
        await p.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
