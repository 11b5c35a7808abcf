import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { controlPlaneModule } from '../../../src/controlplane/index.js';
import { gitHostModule } from '../../../src/githost/index.js';
import { gitProviderModule } from '../../../src/providers/git/index.js';
import { eventually, startPlatform } from '../../support/platform.js';
import { git } from '../../githost/support.js';

let p: Awaited<ReturnType<typeof startPlatform>>;
before(async () => {
  p = await startPlatform({ modules: [gitHostModule(), controlPlaneModule(), gitProviderModule()] });
});
after(async () => {
  await p.close();
});

test('a Repository managed resource creates a repository on the built-in host, and deleting it removes it', async () => {
  await p.client.create({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'Repository', metadata: { name: 'payments-api' }, spec: { forProvider: { owner: 'payments', description: 'the payments API' } } });
  const mr = await eventually(async () => {
    const o = await p.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'Repository', name: 'payments-api' });
    const ready = o.status?.conditions?.find((c: { type: string }) => c.type === 'Ready');
    return ready?.status === 'True' && o.status?.atProvider?.url ? o : undefined;
  }, 15_000, 'the Repository to be Ready');
  assert.equal(mr.status.atProvider.url, `${p.url}/git/payments/payments-api.git`);
  assert.equal(mr.metadata.annotations?.['crossplane.io/external-name'], 'payments/payments-api');
  await git(['ls-remote', mr.status.atProvider.url]);

  await p.client.delete({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'Repository', name: 'payments-api' });
  await eventually(async () => {
    try {
      await git(['ls-remote', mr.status.atProvider.url]);
      return false;
    } catch {
      return true;
    }
  }, 15_000, 'the repository to be removed from the host');
});
