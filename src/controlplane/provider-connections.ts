import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import { ApiError, isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { InformerFactory } from '../runtime/informer.js';
import type { ExternalClient, ManagedKind, Provider, ProviderContext } from './provider.js';

/**
 * Connected ExternalClients, one per managed kind and ProviderConfig version: a changed
 * ProviderConfig (new resourceVersion) gets a new connection and the old one is released.
 */
export class ConnectionCache {
  private clients = new Map<string, { rv: string; client: Promise<ExternalClient> }>();
  private batched = new Map<string, boolean>();

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
    /** Shared caches: ProviderConfigs are read from memory once their informer has synced. */
    private readonly informers?: InformerFactory,
  ) {}

  /** Whether the kind's client offers observeMany (known after its first connection). */
  peekBatched(kind: ManagedKind): boolean {
    return this.batched.get(`${kind.apiVersion}/${kind.kind}`) === true;
  }

  async connect(provider: Provider, kind: ManagedKind, configName: string | undefined): Promise<ExternalClient> {
    let pc: Resource | undefined;
    const name = configName ?? 'default';
    if (provider.providerConfig) {
      const informer = this.informers?.get(provider.providerConfig.apiVersion, provider.providerConfig.kind);
      const cached = informer?.hasSynced();
      pc = cached ? informer!.get(name) : undefined;
      if (cached && !pc && configName) throw new ApiError(404, 'NotFound', `${provider.providerConfig.kind} "${name}" not found (spec.providerConfigRef.name)`);
      if (!pc && !cached) {
        try {
          pc = await this.client.get({ apiVersion: provider.providerConfig.apiVersion, kind: provider.providerConfig.kind, name });
        } catch (e) {
          if (!isNotFound(e)) throw e;
          if (configName) throw new ApiError(404, 'NotFound', `${provider.providerConfig.kind} "${name}" not found (spec.providerConfigRef.name)`);
        }
      }
    }
    const key = `${kind.apiVersion}/${kind.kind}/${name}`;
    const rv = pc?.metadata.resourceVersion ?? '';
    const hit = this.clients.get(key);
    if (hit && hit.rv === rv) return hit.client;
    if (hit) void hit.client.then((c) => c.disconnect?.()).catch(() => undefined);
    const ctx: ProviderContext = { client: this.client, log: this.log.child({ provider: provider.name, kind: kind.kind }), readSecretKey: (ref) => this.readSecretKey(ref) };
    const client = kind.connect(pc, ctx);
    this.clients.set(key, { rv, client });
    client.then(
      (c) => this.batched.set(`${kind.apiVersion}/${kind.kind}`, typeof c.observeMany === 'function'),
      () => this.clients.delete(key),
    );
    return client;
  }

  /** Whether the named ProviderConfig exists (from the shared cache once it has synced). */
  async configExists(provider: Provider, name: string): Promise<boolean> {
    const pc = provider.providerConfig;
    if (!pc) return false;
    const informer = this.informers?.get(pc.apiVersion, pc.kind);
    if (informer?.hasSynced()) return informer.get(name) !== undefined;
    return this.client.get({ apiVersion: pc.apiVersion, kind: pc.kind, name }).then(
      () => true,
      () => false,
    );
  }

  async readSecretKey(ref: { name: string; namespace: string; key: string }): Promise<string> {
    let secret: Resource;
    try {
      secret = await this.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ref.namespace, name: ref.name });
    } catch (e) {
      if (isNotFound(e)) throw new ApiError(404, 'NotFound', `Secret ${ref.namespace}/${ref.name} not found`);
      throw e;
    }
    const v = secret.data?.[ref.key];
    if (v === undefined) throw new ApiError(404, 'NotFound', `Secret ${ref.namespace}/${ref.name} has no key "${ref.key}"`);
    return Buffer.from(v, 'base64').toString('utf8');
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.client.then((x) => x.disconnect?.()).catch(() => undefined)));
  }
}
