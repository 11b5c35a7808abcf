import type { Client } from '../api/client.js';
import { ApiError, isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { ControllerSpec } from '../runtime/controller.js';
import { cacheKey, type InformerFactory } from '../runtime/informer.js';
import { GIT_API_VERSION } from './crds.js';
import { setCondition, type GitHost } from './host.js';

export type ChangeState = 'Open' | 'Approved' | 'Merged' | 'Closed';

function splitRepository(cr: Resource): [string, string] {
  const [owner, repo] = String(cr.spec?.repository ?? '').split('/');
  return [owner ?? '', repo ?? ''];
}

/**
 * Keeps each open ChangeRequest's status.files and Mergeable condition current with its
 * branches: reconciled when the request changes and whenever its repository's refs move.
 */
export function changeRequestController(host: GitHost, informers: InformerFactory): ControllerSpec {
  const requests = informers.get(GIT_API_VERSION, 'ChangeRequest');
  return {
    name: 'githost-change-requests',
    for: { apiVersion: GIT_API_VERSION, kind: 'ChangeRequest' },
    watches: [
      {
        apiVersion: GIT_API_VERSION,
        kind: 'GitRepository',
        map: (repository) => {
          const full = `${repository.spec?.owner}/${repository.spec?.name}`;
          return requests.list().filter((cr) => cr.spec?.repository === full).map(cacheKey);
        },
      },
    ],
    workers: 2,
    async reconcile(key, ctx) {
      const [namespace, name] = key.split('/') as [string, string];
      let cr: Resource;
      try {
        cr = await ctx.client.get({ apiVersion: GIT_API_VERSION, kind: 'ChangeRequest', namespace, name });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const state: ChangeState = cr.status?.state ?? 'Open';
      if (state === 'Merged' || state === 'Closed') return;
      const [owner, repo] = splitRepository(cr);
      const status = { ...(cr.status ?? {}), state, approvals: cr.status?.approvals ?? [] };
      if (!host.repos.exists(owner, repo)) {
        status.conditions = setCondition(status.conditions, { type: 'Mergeable', status: 'False', reason: 'RepositoryNotFound', message: `spec.repository: ${cr.spec.repository} does not exist on the Git host` });
      } else {
        const source = await host.repos.resolve(owner, repo, `refs/heads/${cr.spec.sourceBranch}`);
        const target = await host.repos.resolve(owner, repo, `refs/heads/${cr.spec.targetBranch}`);
        if (!source || !target) {
          const missing = !source ? `spec.sourceBranch: branch "${cr.spec.sourceBranch}"` : `spec.targetBranch: branch "${cr.spec.targetBranch}"`;
          status.conditions = setCondition(status.conditions, { type: 'Mergeable', status: 'False', reason: 'BranchNotFound', message: `${missing} does not exist in ${owner}/${repo}` });
        } else {
          status.files = await host.repos.changedFiles(owner, repo, target, source);
          status.sourceCommit = source;
          status.targetCommit = target;
          status.conditions = setCondition(status.conditions, { type: 'Mergeable', status: 'True', reason: 'BranchesExist', message: `${status.files.length} file(s) changed` });
        }
      }
      if (JSON.stringify(status) !== JSON.stringify(cr.status)) await ctx.client.updateStatus({ ...cr, status });
    },
  };
}

/** Approve, merge and close: the review actions the REST API exposes. Each updates status. */
export class ChangeRequestActions {
  constructor(
    private readonly host: GitHost,
    private readonly client: Client,
  ) {}

  /** Finds the request named `name` on `owner/repo` (in `namespace` when given). */
  async find(owner: string, repo: string, name: string, namespace?: string): Promise<Resource> {
    const list = await this.client.list(GIT_API_VERSION, 'ChangeRequest', namespace ? { namespace } : {});
    const hit = list.items.find((cr) => cr.metadata.name === name && cr.spec?.repository === `${owner}/${repo}`);
    if (!hit) throw new ApiError(404, 'NotFound', `change request "${name}" not found on ${owner}/${repo}`, { name, kind: 'changerequests', group: 'git.pave.dev' });
    return hit;
  }

  async approve(cr: Resource, user: string): Promise<Resource> {
    const state: ChangeState = cr.status?.state ?? 'Open';
    if (state === 'Merged' || state === 'Closed') throw new ApiError(409, 'Conflict', `change request "${cr.metadata.name}" is ${state} and cannot be approved`);
    const approvals = [...(cr.status?.approvals ?? []).filter((a: { user: string }) => a.user !== user), { user, time: new Date().toISOString() }];
    return this.client.updateStatus({ ...cr, status: { ...(cr.status ?? {}), state: 'Approved', approvals } });
  }

  async close(cr: Resource): Promise<Resource> {
    if (cr.status?.state === 'Merged') throw new ApiError(409, 'Conflict', `change request "${cr.metadata.name}" is already merged`);
    return this.client.updateStatus({ ...cr, status: { ...(cr.status ?? {}), state: 'Closed' } });
  }

  /** Merges an approved request; an unapproved one is refused, so nothing lands without review. */
  async merge(cr: Resource, user: string): Promise<Resource> {
    const state: ChangeState = cr.status?.state ?? 'Open';
    if (state === 'Merged') return cr;
    if (state !== 'Approved') throw new ApiError(409, 'Conflict', `change request "${cr.metadata.name}" is ${state}: it needs an approval before it can be merged`);
    const [owner, repo] = splitRepository(cr);
    const message = `Merge change request ${cr.metadata.name}: ${cr.spec.title}\n\n${cr.spec.description ?? ''}`.trim();
    const commit = await this.host.withLock(owner, repo, () => this.host.repos.merge(owner, repo, cr.spec.targetBranch, cr.spec.sourceBranch, message, cr.spec.author ?? user));
    await this.host.publish(owner, repo);
    const fresh = await this.client.get({ apiVersion: GIT_API_VERSION, kind: 'ChangeRequest', namespace: cr.metadata.namespace, name: cr.metadata.name! });
    const status = { ...(fresh.status ?? {}), state: 'Merged', mergeCommit: commit, mergedBy: user, mergedAt: new Date().toISOString() };
    status.conditions = setCondition(status.conditions, { type: 'Merged', status: 'True', reason: 'Merged', message: `merged into ${cr.spec.targetBranch} as ${commit.slice(0, 12)}` });
    return this.client.updateStatus({ ...fresh, status });
  }
}
