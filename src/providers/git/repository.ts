import type { Client } from '../../api/client.js';
import { isApiError, isNotFound } from '../../api/errors.js';
import type { Resource } from '../../api/types.js';
import type { ExternalClient, ExternalObservation, ManagedResource, Provider } from '../../controlplane/index.js';
import { managedCrd, obj, str } from '../managed-crd.js';

export const GROUP = 'git.pave.dev';
export const API_VERSION = `${GROUP}/v1alpha1`;
const HOST_API_VERSION = 'git.pave.dev/v1alpha1';

/** The external name of a repository: `<owner>/<name>`. */
function externalName(mr: ManagedResource): { owner: string; name: string } {
  const ext = mr.metadata.annotations?.['crossplane.io/external-name'];
  const fp = mr.spec.forProvider;
  if (ext && ext.includes('/') && ext !== mr.metadata.name) {
    const [owner, name] = ext.split('/') as [string, string];
    return { owner, name };
  }
  return { owner: fp.owner, name: fp.name ?? mr.metadata.name! };
}

function hostObjectName(owner: string, name: string): string {
  return `${owner}.${name}`.toLowerCase();
}

/**
 * Repositories on the built-in Git host, driven through its GitRepository resources: the host
 * creates the bare repository when the object appears and removes it when the object goes.
 */
export class RepositoryClient implements ExternalClient {
  constructor(private readonly client: Client) {}

  private async host(mr: ManagedResource): Promise<Resource | undefined> {
    const { owner, name } = externalName(mr);
    try {
      return await this.client.get({ apiVersion: HOST_API_VERSION, kind: 'GitRepository', name: hostObjectName(owner, name) });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    const repo = await this.host(mr);
    if (!repo || repo.metadata.deletionTimestamp) return { resourceExists: false, resourceUpToDate: false };
    const fp = mr.spec.forProvider;
    const drift: string[] = [];
    if ((fp.description ?? '') !== (repo.spec.description ?? '')) drift.push('description');
    if ((fp.defaultBranch ?? 'main') !== (repo.spec.defaultBranch ?? 'main')) drift.push('defaultBranch');
    const ready = repo.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    return {
      resourceExists: true,
      resourceUpToDate: drift.length === 0,
      ...(drift.length ? { diff: `differs: ${drift.join(', ')}` } : {}),
      atProvider: { url: repo.status?.url, defaultBranch: repo.status?.defaultBranch, ready: !!ready, head: repo.status?.refs?.[`refs/heads/${repo.status?.defaultBranch ?? 'main'}`] },
      ...(repo.status?.url ? { connectionDetails: { url: repo.status.url } } : {}),
    };
  }

  async create(mr: ManagedResource) {
    const { owner, name } = externalName(mr);
    const fp = mr.spec.forProvider;
    try {
      await this.client.create({
        apiVersion: HOST_API_VERSION,
        kind: 'GitRepository',
        metadata: { name: hostObjectName(owner, name), labels: { 'pave.dev/managed-by': 'provider-git' } },
        spec: { owner, name, defaultBranch: fp.defaultBranch ?? 'main', ...(fp.description ? { description: fp.description } : {}) },
      });
    } catch (e) {
      // a retry after a crash finds the repository it created before
      if (!isApiError(e, 409)) throw e;
    }
    return { externalName: `${owner}/${name}` };
  }

  async update(mr: ManagedResource) {
    const { owner, name } = externalName(mr);
    const fp = mr.spec.forProvider;
    await this.client.patch({ apiVersion: HOST_API_VERSION, kind: 'GitRepository', name: hostObjectName(owner, name) }, 'merge', { spec: { description: fp.description ?? null, defaultBranch: fp.defaultBranch ?? 'main' } });
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    const { owner, name } = externalName(mr);
    try {
      await this.client.delete({ apiVersion: HOST_API_VERSION, kind: 'GitRepository', name: hostObjectName(owner, name) });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** provider-git: `Repository` managed resources on the built-in Git host. */
export function gitProvider(): Provider {
  return {
    name: 'provider-git',
    crds: [
      managedCrd({
        group: GROUP,
        kind: 'Repository',
        plural: 'repositories',
        forProvider: obj({ owner: str, name: str, description: str, defaultBranch: str }),
        required: ['owner'],
        atProvider: obj({ url: str, defaultBranch: str, head: str, ready: { type: 'boolean' } }),
        columns: [{ name: 'URL', type: 'string', jsonPath: '.status.atProvider.url' }],
        categories: ['crossplane', 'managed', 'git'],
      }),
    ],
    managed: [{ apiVersion: API_VERSION, kind: 'Repository', connect: async (_pc, ctx) => new RepositoryClient(ctx.client) }],
  };
}
