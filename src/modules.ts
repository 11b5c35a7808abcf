import type { PlatformModule } from './platform.js';

/**
 * The feature modules `pave up` installs, in start order. Each module lives in its own
 * directory and is wired here with one line.
 */
export function defaultModules(): PlatformModule[] {
  return [];
}
