import { createHash } from 'node:crypto';
import { jsonClone } from '../api/clone.js';
import { jsonEqual } from '../api/equality.js';
import type { Condition, Resource } from '../api/types.js';
import type { ControllerContext, ControllerSpec } from '../runtime/controller.js';
import { setConditions } from './conditions.js';
import type { Provider } from './provider.js';

export const PKG_API = 'pkg.crossplane.io/v1';

/** Crossplane's package conditions and reasons, so that tools which read them keep working. */
export const PackageReason = {
  Active: 'ActivePackageRevision',
  Inactive: 'InactivePackageRevision',
  Healthy: 'HealthyPackageRevision',
  Unhealthy: 'UnhealthyPackageRevision',
} as const;

/**
 * A provider package Pave has built in. Crossplane would pull the package's image and run it;
 * Pave's providers run in-process, so a package is just the name under which one is offered.
 */
export interface ProviderPackage {
  /**
   * The package's repository name, as users write it in a Provider's spec.package (the last
   * path segment, without registry, tag or digest): `provider-sql`.
   */
  name: string;
  /** What it serves, for the Provider's status and the list of built-in packages. */
  description: string;
  /**
   * True: served whether or not a Provider object names it (its module registers the provider
   * itself). False: `provider` is registered when the first Provider object names the package.
   */
  active: boolean;
  /** What to register on activation; a function is called once, on the first activation. */
  provider?: Provider | (() => Provider);
}

interface Entry {
  pkg: ProviderPackage;
  resolved?: Provider;
  activation?: Promise<void>;
}

/**
 * The repository name of a package reference: `xpkg.upbound.io/crossplane-contrib/provider-nop:v0.4.0`,
 * `registry:5000/org/provider-nop@sha256:…` and `provider-nop` all name `provider-nop`. A colon
 * before the last slash is a registry's port, not a tag.
 */
export function packageName(ref: string): string {
  const withoutDigest = ref.trim().split('@')[0]!;
  const repo = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const tag = repo.indexOf(':');
  return tag >= 0 ? repo.slice(0, tag) : repo;
}

/**
 * The name Crossplane would give the package's ProviderRevision: the Provider's name and a hash,
 * here of the package reference (Crossplane hashes the image digest, which Pave never fetches).
 * It changes exactly when spec.package does, and fits in 63 characters.
 */
export function revisionName(providerName: string, ref: string): string {
  return `${providerName.slice(0, 50)}-${createHash('sha256').update(ref).digest('hex').slice(0, 12)}`;
}

/** The built-in provider packages of one control plane, by repository name. */
export class ProviderPackageCatalog {
  private entries = new Map<string, Entry>();

  /** @param registerProvider serves a provider; the control plane's registerProvider */
  constructor(private readonly registerProvider: (p: Provider) => Promise<void>) {}

  /** Adds (or replaces) a package. One that is not always active must say what to register. */
  register(pkg: ProviderPackage): void {
    if (!pkg.active && !pkg.provider) throw new Error(`provider package ${pkg.name} is activated on demand but names no provider to register`);
    this.entries.set(pkg.name, { pkg });
  }

  get(name: string): ProviderPackage | undefined {
    return this.entries.get(name)?.pkg;
  }

  /** `provider-nop (test provider), provider-sql (…)`, sorted by name: what a user may write instead. */
  describe(): string {
    const names = [...this.entries.keys()].sort();
    return names.length ? names.map((n) => `${n} (${this.entries.get(n)!.pkg.description})`).join(', ') : 'none';
  }

  /**
   * Registers the package's provider unless it is always active or already registered. Callers
   * may race (two Provider objects naming one package): they share one registration. A failed
   * one is tried again by the next call, with the same provider object.
   */
  async activate(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || entry.pkg.active) return;
    const activation = (entry.activation ??= (async () => {
      const p = entry.pkg.provider!;
      entry.resolved ??= typeof p === 'function' ? p() : p;
      await this.registerProvider(entry.resolved);
    })());
    try {
      await activation;
    } catch (e) {
      if (entry.activation === activation) entry.activation = undefined;
      throw e;
    }
  }
}

/**
 * Reconciles Crossplane Provider objects against the catalog: a built-in package is activated
 * if it needs to be and reported Installed and Healthy; any other is reported Installed=False
 * and Healthy=False, with the packages Pave has, and a Warning Event. The object itself is
 * always kept as written. A stored Provider is reconciled again at start, which activates its
 * package again after a restart. Deleting a Provider unregisters nothing: managed resources of
 * its kinds may still exist and need their provider to be deleted.
 */
export function providerPackageController(packages: ProviderPackageCatalog): ControllerSpec {
  return {
    name: 'provider-packages',
    for: { apiVersion: PKG_API, kind: 'Provider' },
    generationChangedOnly: true,
    async reconcile(key, ctx) {
      const cached = ctx.informers.get(PKG_API, 'Provider').get(key);
      if (!cached || cached.metadata.deletionTimestamp) return;
      const ref: string = typeof cached.spec?.package === 'string' ? cached.spec.package : '';
      const pkg = packages.get(packageName(ref));
      if (!pkg) {
        const message = `Pave has no built-in provider for package "${ref}"; built in: ${packages.describe()}`;
        ctx.recorder.event(cached, 'Warning', 'InstallPackageRevision', message);
        await writePackageStatus(ctx, cached, unhealthyPackage(`package "${ref}" is not one of Pave's built-in providers`, message));
        return;
      }
      try {
        await packages.activate(pkg.name);
      } catch (e) {
        const message = `cannot start Pave's built-in ${pkg.name} for package "${ref}": ${(e as Error).message}`;
        ctx.recorder.event(cached, 'Warning', 'InstallPackageRevision', message);
        await writePackageStatus(ctx, cached, unhealthyPackage(message, message));
        throw e;
      }
      await writePackageStatus(ctx, cached, activePackage(key, ref, true, `served by Pave's built-in ${pkg.name} (${pkg.description})`));
    },
  };
}

/** What a package controller reports on a Provider or Function. */
export interface PackageStatus {
  conditions: Condition[];
  currentRevision?: string;
  currentIdentifier?: string;
}

/**
 * A package whose object Pave accepts: Installed=True, with the revision of `ref` on the object
 * named `name`, and Healthy as given (whether what serves it works).
 */
export function activePackage(name: string, ref: string, healthy: boolean, message: string): PackageStatus {
  return {
    conditions: [
      { type: 'Installed', status: 'True', reason: PackageReason.Active },
      healthy ? { type: 'Healthy', status: 'True', reason: PackageReason.Healthy, message } : { type: 'Healthy', status: 'False', reason: PackageReason.Unhealthy, message },
    ],
    currentRevision: revisionName(name, ref),
    currentIdentifier: ref,
  };
}

/** A package Pave cannot serve: not installed, so not healthy either. */
export function unhealthyPackage(installed: string, healthy: string): PackageStatus {
  return {
    conditions: [
      { type: 'Installed', status: 'False', reason: PackageReason.Inactive, message: installed },
      { type: 'Healthy', status: 'False', reason: PackageReason.Unhealthy, message: healthy },
    ],
  };
}

/** Writes the status only when it changed; a package that is not installed has no current revision. */
export async function writePackageStatus(ctx: ControllerContext, pkg: Resource, next: PackageStatus): Promise<void> {
  const status = jsonClone(pkg.status ?? {});
  setConditions(status, ...next.conditions);
  for (const field of ['currentRevision', 'currentIdentifier'] as const) {
    if (next[field] === undefined) delete status[field];
    else status[field] = next[field];
  }
  if (!jsonEqual(status, pkg.status ?? {})) await ctx.client.updateStatus({ ...pkg, status });
}
