import { isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { ControllerSpec } from '../runtime/controller.js';
import { GIT_API_VERSION } from './crds.js';
import { setCondition, type GitHost } from './host.js';

export const REPOSITORY_FINALIZER = 'git.pave.dev/repository';

/**
 * Makes each GitRepository object true on disk: creates the bare repository (idempotently),
 * publishes its URL and refs, and removes the repository when the object is deleted.
 */
export function repositoryController(host: GitHost): ControllerSpec {
  return {
    name: 'githost-repositories',
    for: { apiVersion: GIT_API_VERSION, kind: 'GitRepository' },
    generationChangedOnly: true,
    workers: 2,
    async reconcile(name, ctx) {
      let obj: Resource;
      try {
        obj = await ctx.client.get({ apiVersion: GIT_API_VERSION, kind: 'GitRepository', name });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const { owner, name: repo } = obj.spec as { owner: string; name: string };
      const finalizers = obj.metadata.finalizers ?? [];
      if (obj.metadata.deletionTimestamp) {
        if (!finalizers.includes(REPOSITORY_FINALIZER)) return;
        host.repos.remove(owner, repo);
        ctx.log.info({ repository: `${owner}/${repo}` }, 'repository removed');
        await ctx.client.update({ ...obj, metadata: { ...obj.metadata, finalizers: finalizers.filter((f) => f !== REPOSITORY_FINALIZER) } });
        return;
      }
      if (!finalizers.includes(REPOSITORY_FINALIZER)) {
        obj = await ctx.client.update({ ...obj, metadata: { ...obj.metadata, finalizers: [...finalizers, REPOSITORY_FINALIZER] } });
      }
      try {
        await host.withLock(owner, repo, () => host.repos.ensure(owner, repo, obj.spec.defaultBranch ?? 'main', obj.spec.description));
      } catch (e) {
        const conditions = setCondition(obj.status?.conditions, { type: 'Ready', status: 'False', reason: 'CreateFailed', message: `GitRepository ${name}: ${(e as Error).message}` });
        await ctx.client.updateStatus({ ...obj, status: { ...(obj.status ?? {}), conditions } });
        throw e;
      }
      await host.publish(owner, repo);
    },
  };
}
