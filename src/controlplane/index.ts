/**
 * The control plane's public entry: Crossplane's XRDs, compositions, claims and managed
 * resources. Other modules use only what this file exports.
 */
import type { Platform, PlatformModule } from '../platform.js';
import { controlPlaneOf } from './control-plane.js';
import type { CompositionFunction } from './functions/types.js';
import type { Provider } from './provider.js';
import type { ProviderPackage } from './provider-packages.js';

export type * from './provider.js';
export type * from './functions/types.js';
export type { ProviderPackage } from './provider-packages.js';
export { compose, type CompositionSpec, type ComposeResult } from './composition/composer.js';
export { CREATE_FAILED, CREATE_PENDING, CREATE_SUCCEEDED, EXTERNAL_NAME, PAUSED, POLL_INTERVAL } from './managed-annotations.js';

/**
 * Serves a provider: applies its CRDs and starts one managed reconciler per ManagedKind.
 * Call it from the provider's PlatformModule `install`; it may run before or after the control
 * plane module's own install.
 */
export async function registerProvider(platform: Platform, provider: Provider): Promise<void> {
  await controlPlaneOf(platform).registerProvider(provider);
}

/**
 * Offers a built-in provider under a package name, so that a Crossplane `Provider` object
 * (pkg.crossplane.io/v1) whose spec.package names it is reported Installed and Healthy; with
 * `active: false` its provider is registered only when the first such object appears (again at
 * every start while one is stored). Call it from a module's `install`, before or after the
 * control plane module's own.
 */
export function registerProviderPackage(platform: Platform, pkg: ProviderPackage): void {
  controlPlaneOf(platform).packages.register(pkg);
}

/** Adds a composition function written in TypeScript; pipeline steps name it by `fn.name`. */
export function registerFunction(platform: Platform, fn: CompositionFunction): void {
  controlPlaneOf(platform).registerFunction(fn);
}

export function controlPlaneModule(): PlatformModule {
  return {
    name: 'controlplane',
    async install(p) {
      await controlPlaneOf(p).install();
    },
    async stop(p) {
      await controlPlaneOf(p).stop();
    },
  };
}
