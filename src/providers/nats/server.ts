import type { JetStreamManager, NatsConnection } from 'nats';
import type { Resource } from '../../api/types.js';
import type { ProviderContext } from '../../controlplane/provider.js';

/**
 * One NATS server with JetStream. The connection reconnects by itself; requests made while it
 * is down fail after a short timeout, naming the server.
 */
export class NatsServer {
  readonly label: string;
  private conn?: Promise<{ nc: NatsConnection; jsm: JetStreamManager }>;
  /** JetStream API requests so far: tests read it to show what a poll costs. */
  requests = 0;

  constructor(readonly url: string) {
    const u = new URL(url);
    this.label = `NATS ${u.hostname}:${u.port || 4222}`;
  }

  /** Runs `fn` with the JetStream manager; "not found" API errors resolve to undefined. */
  async jetstream<T>(fn: (jsm: JetStreamManager) => Promise<T>, opts: { notFound?: 'undefined' } = {}): Promise<T | undefined> {
    this.requests++;
    try {
      const { jsm } = await this.connect();
      return await fn(jsm);
    } catch (err) {
      if (opts.notFound && isNotFound(err)) return undefined;
      throw new Error(`${this.label}: ${(err as Error).message}`, { cause: err });
    }
  }

  private connect(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
    if (!this.conn) {
      const u = new URL(this.url);
      const c = (async () => {
        // loaded on first use: `pave up` should not pay for clients of servers it may never talk to
        const { connect } = await import('nats');
        const nc = await connect({
          servers: `${u.hostname}:${u.port || 4222}`,
          user: u.username ? decodeURIComponent(u.username) : undefined,
          pass: u.password ? decodeURIComponent(u.password) : undefined,
          timeout: 3000,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
        });
        void nc.closed().then(() => {
          if (this.conn === c) this.conn = undefined;
        });
        return { nc, jsm: await nc.jetstreamManager({ timeout: 3000 }) };
      })();
      this.conn = c;
      c.catch(() => {
        if (this.conn === c) this.conn = undefined;
      });
    }
    return this.conn;
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    const conn = await c?.catch(() => undefined);
    await conn?.nc.close().catch(() => undefined);
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { code?: number }; message?: string };
  return e?.api_error?.code === 404 || e?.code === '404' || /not found/i.test(e?.message ?? '');
}

export class NatsServers {
  private servers = new Map<string, NatsServer>();

  get(url: string): NatsServer {
    let s = this.servers.get(url);
    if (!s) this.servers.set(url, (s = new NatsServer(url)));
    return s;
  }

  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

/** Reads a nats.pave.dev ProviderConfig: `spec.credentials.secretRef` names a key holding a nats:// URL. */
export async function natsUrl(pc: Resource | undefined, ctx: ProviderContext): Promise<string> {
  if (!pc) throw new Error('no ProviderConfig: set spec.providerConfigRef.name to a nats.pave.dev ProviderConfig');
  const ref = pc.spec?.credentials?.secretRef as { name?: string; namespace?: string; key?: string } | undefined;
  if (!ref?.name || !ref.namespace || !ref.key) throw new Error(`ProviderConfig ${pc.metadata.name}: spec.credentials.secretRef needs name, namespace and key`);
  const url = await ctx.readSecretKey({ name: ref.name, namespace: ref.namespace, key: ref.key });
  if (!/^nats:\/\//.test(url)) throw new Error(`ProviderConfig ${pc.metadata.name}: Secret ${ref.namespace}/${ref.name} key ${ref.key} is not a nats:// URL`);
  return url;
}

/** Parses a duration like `90s`, `15m`, `24h` or `7d` into nanoseconds, as JetStream configures ages. */
export function durationNanos(value: string, field: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`${field}: "${value}" is not a duration (like 90s, 15m, 24h, 7d)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return ms * 1_000_000;
}
