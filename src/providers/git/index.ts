import { registerProvider, registerProviderPackage } from '../../controlplane/index.js';
import type { Platform, PlatformModule } from '../../platform.js';
import { gitProvider } from './repository.js';

export { gitProvider } from './repository.js';

/** Serves provider-git's `Repository` managed resources (install after the Git host). */
export function gitProviderModule(): PlatformModule {
  return {
    name: 'provider-git',
    async install(p: Platform) {
      await registerProvider(p, gitProvider());
      registerProviderPackage(p, { name: 'provider-git', active: true, description: "repositories on Pave's Git host, git.pave.dev" });
    },
  };
}
