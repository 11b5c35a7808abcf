import type { Redis } from 'ioredis';
import type { Resource } from '../../api/types.js';
import type { ProviderContext } from '../../controlplane/provider.js';

/**
 * One Redis server, reached with the URL a ProviderConfig's secret holds. Commands fail fast
 * while the server is down (one retry, no unbounded offline queue) and their errors name it.
 */
export class RedisServer {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  private redis?: Promise<Redis>;
  /** Commands sent so far: tests and benchmarks read it to show what a poll costs. */
  commands = 0;

  constructor(readonly url: string) {
    const u = new URL(url);
    this.host = u.hostname || '127.0.0.1';
    this.port = Number(u.port || 6379);
    this.label = `Redis ${this.host}:${this.port}`;
  }

  /** The ioredis client, created (and the package loaded) on first use. */
  private client(): Promise<Redis> {
    this.redis ??= import('ioredis').then(({ Redis }) => {
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: (n) => Math.min(n * 200, 2000) });
      // Reconnection is ioredis' job; an 'error' event without a listener would crash the process.
      r.on('error', () => undefined);
      return r;
    });
    return this.redis;
  }

  async call(command: string, ...args: (string | number)[]): Promise<unknown> {
    this.commands++;
    try {
      const redis = await this.client();
      if (redis.status === 'wait') await redis.connect();
      return await redis.call(command, ...args);
    } catch (err) {
      throw new Error(`${this.label}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    (await this.redis)?.disconnect();
  }
}

/** Redis servers by URL, shared by every managed resource of a ProviderConfig. */
export class RedisServers {
  private servers = new Map<string, RedisServer>();

  get(url: string): RedisServer {
    let s = this.servers.get(url);
    if (!s) this.servers.set(url, (s = new RedisServer(url)));
    return s;
  }

  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

/**
 * Reads a redis.pave.dev ProviderConfig: `spec.credentials.secretRef` names a Secret key whose
 * value is the server's URL (`redis://[user:password@]host:port`), an admin allowed to run ACL.
 */
export async function redisUrl(pc: Resource | undefined, ctx: ProviderContext): Promise<string> {
  if (!pc) throw new Error('no ProviderConfig: set spec.providerConfigRef.name to a redis.pave.dev ProviderConfig');
  const ref = pc.spec?.credentials?.secretRef as { name?: string; namespace?: string; key?: string } | undefined;
  if (!ref?.name || !ref.namespace || !ref.key) throw new Error(`ProviderConfig ${pc.metadata.name}: spec.credentials.secretRef needs name, namespace and key`);
  const url = await ctx.readSecretKey({ name: ref.name, namespace: ref.namespace, key: ref.key });
  if (!/^rediss?:\/\//.test(url)) throw new Error(`ProviderConfig ${pc.metadata.name}: Secret ${ref.namespace}/${ref.name} key ${ref.key} is not a redis:// URL`);
  return url;
}
