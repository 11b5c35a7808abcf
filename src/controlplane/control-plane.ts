import { isApiError, isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { Platform } from '../platform.js';
import type { Controller } from '../runtime/controller.js';
import { ClaimReconciler } from './claim.js';
import { CompositeReconciler } from './composite.js';
import { crossplaneCrds } from './crds.js';
import { functionPackageController } from './function-packages.js';
import { FunctionRegistry } from './functions/registry.js';
import type { CompositionFunction } from './functions/types.js';
import { parseDuration } from '../api/duration.js';
import { ManagedReconciler } from './managed.js';
import { providerConfigController } from './provider-configs.js';
import { ProviderPackageCatalog, providerPackageController } from './provider-packages.js';
import { ConnectionCache } from './provider-connections.js';
import type { Provider } from './provider.js';
import { revisionController } from './revisions.js';
import { xrdController } from './xrd.js';
import { referenceableVersion, type Xrd } from './xrd-crds.js';

export const FIELD_MANAGER = 'apiextensions.crossplane.io';

/**
 * The control plane of one Platform: its function registry, provider connections and the
 * controllers it starts as XRDs and providers appear. Everything it knows is in the API, so a
 * restart rebuilds the same controllers from the stored XRDs.
 */
export class ControlPlane {
  readonly functions: FunctionRegistry;
  readonly connections: ConnectionCache;
  readonly managed = new Map<string, { reconciler: ManagedReconciler; controller: Controller }>();
  readonly composites = new Map<string, CompositeReconciler>();
  readonly claims = new Map<string, ClaimReconciler>();
  /** The provider packages that Provider objects (pkg.crossplane.io) may name. */
  readonly packages = new ProviderPackageCatalog((provider) => this.registerProvider(provider));
  private providerConfigs = new Set<string>();
  private crdsApplied?: Promise<void>;
  private installed = false;

  constructor(readonly platform: Platform) {
    this.functions = new FunctionRegistry((apiVersion, kind) => {
      const t = platform.registry.lookup(apiVersion, kind);
      const v = t?.versions.find((x) => `${t.group}/${x.name}` === apiVersion);
      return v?.schema;
    });
    this.connections = new ConnectionCache(platform.client, platform.log.child({ component: 'controlplane' }), platform.manager.informers);
  }

  /** Applies Crossplane's CRDs once. */
  ensureCrds(): Promise<void> {
    this.crdsApplied ??= (async () => {
      for (const crd of crossplaneCrds()) await this.platform.client.apply(crd, { fieldManager: FIELD_MANAGER, force: true });
    })();
    return this.crdsApplied;
  }

  /** Adds the XRD, composition revision, provider package and function package controllers. */
  async install(): Promise<void> {
    if (this.installed) return;
    this.installed = true;
    await this.ensureCrds();
    // Every Crossplane cluster has Crossplane's own namespace, and its users' YAML names it
    // (connection secrets, provider credentials, function credentials): here too
    await this.platform.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crossplane-system' } }).catch((e) => {
      if (!isApiError(e, 409)) throw e;
    });
    this.platform.manager.add(xrdController(this));
    this.platform.manager.add(revisionController());
    this.platform.manager.add(providerPackageController(this.packages));
    this.platform.manager.add(functionPackageController(this.functions));
  }

  /** Adds a composition function that pipeline steps can name. */
  registerFunction(fn: CompositionFunction): void {
    this.functions.register(fn);
  }

  async registerProvider(provider: Provider): Promise<void> {
    await this.ensureCrds();
    for (const crd of provider.crds) await this.platform.client.apply(crd, { fieldManager: `provider/${provider.name}`, force: true });
    const settings = this.platform.opts.settings ?? {};
    const pcController = providerConfigController(provider);
    if (pcController && !this.providerConfigs.has(provider.name)) {
      this.providerConfigs.add(provider.name);
      this.platform.manager.add(pcController);
    }
    for (const kind of provider.managed) {
      const key = `${kind.apiVersion}/${kind.kind}`;
      if (this.managed.has(key)) continue;
      const reconciler = new ManagedReconciler(provider, kind, this.connections, this.platform.log.child({ component: 'managed', kind: kind.kind }), {
        pollIntervalMs: parseDuration(settings['poll-interval']),
        batchPollIntervalMs: parseDuration(settings['batch-poll-interval']),
      });
      const controller = this.platform.manager.add(reconciler.spec());
      reconciler.startPolling(controller.informer, (k) => controller.queue.add(k), () => controller.queue.len());
      this.managed.set(key, { reconciler, controller });
    }
  }

  /** Starts the composite and claim controllers of an established XRD (once per kind). */
  startXrd(xrd: Xrd): void {
    const apiVersion = referenceableVersion(xrd);
    const key = `${apiVersion}/${xrd.spec.names.kind}`;
    if (!this.composites.has(key)) {
      const r = new CompositeReconciler(this, { apiVersion, kind: xrd.spec.names.kind }, xrd.metadata.name!);
      this.composites.set(key, r);
      r.attach(this.platform.manager.add(r.spec()));
    }
    if (xrd.spec.claimNames && !this.claims.has(`${apiVersion}/${xrd.spec.claimNames.kind}`)) {
      const c = new ClaimReconciler({ apiVersion, kind: xrd.spec.claimNames.kind }, { apiVersion, kind: xrd.spec.names.kind }, xrd.metadata.name!);
      this.claims.set(`${apiVersion}/${xrd.spec.claimNames.kind}`, c);
      this.platform.manager.add(c.spec());
    }
  }

  /** The XRD named `name`, from the shared cache. */
  xrd(name: string): Xrd | undefined {
    return this.platform.manager.informers.get('apiextensions.crossplane.io/v1', 'CompositeResourceDefinition').get(name) as Xrd | undefined;
  }

  /**
   * The Function object named `name`. A Function applied together with the composition that
   * names it may not have reached the shared cache yet, so a name no built-in answers to is
   * looked up in the store too, instead of failing the XR with "no function named".
   */
  async functionObject(name: string): Promise<Resource | undefined> {
    const cached = this.platform.manager.informers.get('pkg.crossplane.io/v1', 'Function').get(name);
    if (cached || this.functions.has(name)) return cached;
    return this.platform.client.get({ apiVersion: 'pkg.crossplane.io/v1', kind: 'Function', name }).catch((e) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  }

  async stop(): Promise<void> {
    for (const m of this.managed.values()) m.reconciler.stop();
    await this.connections.closeAll();
  }
}

const planes = new WeakMap<Platform, ControlPlane>();

export function controlPlaneOf(platform: Platform): ControlPlane {
  let cp = planes.get(platform);
  if (!cp) planes.set(platform, (cp = new ControlPlane(platform)));
  return cp;
}
