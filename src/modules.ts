import { gitHostModule } from './githost/index.js';
import { gitOpsModule } from './gitops/index.js';
import { controlPlaneModule } from './controlplane/index.js';
import type { PlatformModule } from './platform.js';
import { gitProviderModule } from './providers/git/index.js';
import { providersModule } from './providers/index.js';
import { webUiModule } from './webui/index.js';
import { portalModule } from './portal/index.js';

/**
 * The feature modules `pave up` installs, in start order. Each module lives in its own
 * directory and is wired here with one line.
 */
export function defaultModules(): PlatformModule[] {
  return [
    gitHostModule(),
    gitOpsModule(),
    controlPlaneModule(),
    providersModule(),
    gitProviderModule(),
    portalModule(),
    webUiModule(),
  ];
}
