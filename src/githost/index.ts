import { join } from 'node:path';
import type { Platform, PlatformModule } from '../platform.js';
import { ChangeRequestActions, changeRequestController } from './change-requests.js';
import { gitHostCrds } from './crds.js';
import { GitHost } from './host.js';
import { repositoryController } from './repository-controller.js';
import { BareRepositories } from './repositories.js';
import { registerGitRestApi } from './rest.js';
import { registerSmartHttp } from './smart-http.js';

export { GIT_API_VERSION, repositoryObjectName } from './crds.js';
export { git, GitError } from './git.js';

/**
 * The built-in Git host: bare repositories in `<dataDir>/git`, smart HTTP at /git, the REST
 * API at /api/git, and the GitRepository and ChangeRequest resources that announce them.
 * Settings: `git-webhook-url` sends every push to one more URL.
 */
export function gitHostModule(): PlatformModule {
  return {
    name: 'githost',
    async install(p: Platform) {
      for (const crd of gitHostCrds()) await p.client.apply(crd, { fieldManager: 'pave-githost', force: true });
      const log = p.log.child({ component: 'githost' });
      const host = new GitHost(new BareRepositories(join(p.dataDir, 'git')), p.client, log, () => p.url, p.opts.settings?.['git-webhook-url']);
      const access = { token: p.adminToken, anonymous: p.anonymous };
      const actions = new ChangeRequestActions(host, p.client);
      p.manager.add(repositoryController(host));
      p.manager.add(changeRequestController(host, p.manager.informers));
      p.routes((app) => {
        registerSmartHttp(app, host, access, log);
        registerGitRestApi(app, host, p.client, actions, access);
      });
    },
  };
}
