import type amqp from 'amqplib';
import type { Resource } from '../../api/types.js';
import type { ProviderContext } from '../../controlplane/provider.js';

type ChannelModel = Awaited<ReturnType<typeof amqp.connect>>;
export type Channel = Awaited<ReturnType<ChannelModel['createChannel']>>;

/**
 * One RabbitMQ broker over AMQP 0-9-1. A passive check of something absent closes the channel
 * (404 NOT_FOUND), so every operation runs on a fresh channel of one shared connection, which
 * is reopened after the broker goes away. Errors name the broker.
 */
export class RabbitServer {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  private connection?: Promise<ChannelModel>;
  /** Channel operations so far: tests read it to show what a poll costs. */
  operations = 0;

  constructor(readonly url: string) {
    const u = new URL(url);
    this.host = u.hostname || '127.0.0.1';
    this.port = Number(u.port || 5672);
    this.label = `RabbitMQ ${this.host}:${this.port}`;
  }

  /** Runs `fn` on a new channel; a 404 from the broker resolves to undefined instead of throwing. */
  async withChannel<T>(fn: (ch: Channel) => Promise<T>, opts: { notFound?: 'undefined' } = {}): Promise<T | undefined> {
    this.operations++;
    let ch: Channel | undefined;
    try {
      ch = await (await this.connect()).createChannel();
      ch.on('error', () => undefined); // channel-level errors also reject the pending call
      const result = await fn(ch);
      await ch.close().catch(() => undefined);
      return result;
    } catch (err) {
      if (opts.notFound && (err as { code?: number }).code === 404) return undefined;
      throw new Error(`${this.label}: ${(err as Error).message}`, { cause: err });
    }
  }

  private connect(): Promise<ChannelModel> {
    if (!this.connection) {
      // amqplib is loaded on first use, like every backend client
      const c = import('amqplib').then((m) => (m.default ?? m).connect(this.url, { timeout: 3000 }));
      this.connection = c;
      c.then(
        (conn) => {
          const forget = () => {
            if (this.connection === c) this.connection = undefined;
          };
          conn.on('close', forget);
          conn.on('error', forget);
        },
        () => {
          if (this.connection === c) this.connection = undefined;
        },
      );
    }
    return this.connection;
  }

  async close(): Promise<void> {
    const c = this.connection;
    this.connection = undefined;
    if (c) await (await c.catch(() => undefined))?.close().catch(() => undefined);
  }
}

export class RabbitServers {
  private servers = new Map<string, RabbitServer>();

  get(url: string): RabbitServer {
    let s = this.servers.get(url);
    if (!s) this.servers.set(url, (s = new RabbitServer(url)));
    return s;
  }

  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

/** Reads a rabbitmq.pave.dev ProviderConfig: `spec.credentials.secretRef` names a key holding an amqp:// URL. */
export async function rabbitUrl(pc: Resource | undefined, ctx: ProviderContext): Promise<string> {
  if (!pc) throw new Error('no ProviderConfig: set spec.providerConfigRef.name to a rabbitmq.pave.dev ProviderConfig');
  const ref = pc.spec?.credentials?.secretRef as { name?: string; namespace?: string; key?: string } | undefined;
  if (!ref?.name || !ref.namespace || !ref.key) throw new Error(`ProviderConfig ${pc.metadata.name}: spec.credentials.secretRef needs name, namespace and key`);
  const url = await ctx.readSecretKey({ name: ref.name, namespace: ref.namespace, key: ref.key });
  if (!/^amqps?:\/\//.test(url)) throw new Error(`ProviderConfig ${pc.metadata.name}: Secret ${ref.namespace}/${ref.name} key ${ref.key} is not an amqp:// URL`);
  return url;
}
