import pg from 'pg';
import type { Resource } from '../../../api/types.js';
import type { ProviderContext } from '../../../controlplane/provider.js';
import { BackendBreaker } from '../backend-breaker.js';

/** Where a ProviderConfig points: the keys of a provider-sql PostgreSQL connection secret. */
export interface PostgresCredentials {
  endpoint: string;
  port: number;
  username: string;
  password: string;
  database: string;
  sslmode?: string;
}

/**
 * One PostgreSQL server as the provider sees it: small connection pools, and queries whose
 * errors name the server, so a Synced=False condition says which backend failed. While the
 * server is unreachable, queries fail fast (see BackendBreaker) instead of each opening a
 * connection that is refused.
 */
export class PostgresServer {
  readonly label: string;
  private readonly pool: pg.Pool;
  private readonly readPool: pg.Pool;
  /** Null until known; false when the configured user may not read pg_authid (not a superuser). */
  canReadPasswords: boolean | null = null;
  /** Statements sent so far: benchmarks and tests read it to show what a poll costs the server. */
  queries = 0;
  readonly breaker = new BackendBreaker();

  constructor(readonly credentials: PostgresCredentials) {
    this.label = `PostgreSQL ${credentials.endpoint}:${credentials.port}`;
    this.pool = this.newPool(8);
    this.readPool = this.newPool(2);
  }

  /** A statement that changes the server (CREATE, ALTER, DROP, GRANT) or reads on the way to one. */
  async query<R extends pg.QueryResultRow = any>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.run(this.pool, sql, params);
  }

  /**
   * A catalog read for observe and poll, on connections of its own: a CREATE DATABASE takes a
   * tenth of a second or more, and a poll queued behind a burst of them would see drift late.
   */
  async read<R extends pg.QueryResultRow = any>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.run(this.readPool, sql, params);
  }

  private run<R extends pg.QueryResultRow>(pool: pg.Pool, sql: string, params: unknown[]): Promise<R[]> {
    return this.breaker.run(async () => {
      const turn = this.turns.get(pool)!;
      await turn.take();
      this.queries++;
      try {
        return (await pool.query<R>(sql, params)).rows;
      } catch (err) {
        throw new Error(`${this.label}: ${describeError(err)}`, { cause: err });
      } finally {
        turn.give();
      }
    }, isConnectionError);
  }

  /**
   * Each pool's statements take turns here, at most as many at once as the pool has
   * connections. pg's pool counts the time a statement waits for a free connection against
   * connectionTimeoutMillis: a hundred CREATE DATABASEs queued there failed as "timeout exceeded
   * when trying to connect", and the breaker took a busy server for an unreachable one.
   */
  private readonly turns = new Map<pg.Pool, Turns>();

  private newPool(max: number): pg.Pool {
    const c = this.credentials;
    const pool = new pg.Pool({
      host: c.endpoint,
      port: c.port,
      user: c.username,
      password: c.password,
      database: c.database,
      ssl: c.sslmode && c.sslmode !== 'disable' ? { rejectUnauthorized: c.sslmode === 'verify-full' || c.sslmode === 'verify-ca' } : undefined,
      max,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      application_name: 'pave-provider-sql',
    });
    // An idle client losing its server (a restart) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    this.turns.set(pool, new Turns(max));
    return pool;
  }

  /**
   * Runs a statement that names other objects (an owner role, a granted database) which are
   * often composed beside this one and created at the same moment: while they are missing
   * (42704 undefined_object, 3D000 invalid_catalog_name) it retries for up to `waitMs`
   * before failing, instead of falling into the reconciler's backoff for a second or more.
   */
  async queryAwaitingDependencies(sql: string, waitMs = 2000): Promise<void> {
    await this.queryRetrying(sql, (code) => code === '42704' || code === '3D000', waitMs);
  }

  /**
   * Runs a statement that changes a catalog row other statements may be changing at the same
   * moment: a database dropped while a grant on it is revoked, a role dropped while the database
   * it owns is still being dropped. PostgreSQL fails the loser of such a race ("tuple
   * concurrently updated", "cache lookup failed for database" when the database went between
   * finding it by name and changing it, or 2BP01 while the owned database is not gone yet); it
   * is retried for up to `waitMs` so that deleting a claim's resources together converges in
   * one pass.
   */
  async queryRacingCatalog(sql: string, waitMs = 3000): Promise<void> {
    await this.queryRetrying(sql, (code, message) => code === '2BP01' || (code === 'XX000' && /tuple concurrently (updated|deleted)|cache lookup failed/.test(message)), waitMs);
  }

  private async queryRetrying(sql: string, retryable: (code: string, message: string) => boolean, waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await this.query(sql);
        return;
      } catch (err) {
        const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
        if (!retryable(cause?.code ?? '', cause?.message ?? '') || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end().catch(() => undefined), this.readPool.end().catch(() => undefined)]);
  }
}

/**
 * Errors that say the server cannot be reached (or is going away), as opposed to a failed
 * statement: socket errors, 57P01-57P03 (shutdown, crash, not accepting connections yet) and
 * the pool's own connection timeouts, which carry no code.
 */
function isConnectionError(err: unknown): boolean {
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03'].includes(code)) return true;
  return !code && /Connection terminated|timeout exceeded when trying to connect/i.test(cause?.message ?? '');
}

function describeError(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: { message: string }[] };
  if (e?.errors?.length) return e.errors.map((x) => x.message).join('; ');
  return e?.message || e?.code || String(err);
}

/**
 * PostgreSQL servers by credentials, shared by every managed kind of the provider so that
 * thousands of managed resources on one ProviderConfig share one pool.
 */
export class PostgresServers {
  private servers = new Map<string, PostgresServer>();

  get(c: PostgresCredentials): PostgresServer {
    const key = JSON.stringify(c);
    let s = this.servers.get(key);
    if (!s) {
      s = new PostgresServer(c);
      this.servers.set(key, s);
    }
    return s;
  }

  /** The servers connected so far. */
  list(): PostgresServer[] {
    return [...this.servers.values()];
  }

  /** Statements sent to every server so far. */
  queries(): number {
    let n = 0;
    for (const s of this.servers.values()) n += s.queries;
    return n;
  }

  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

/**
 * Reads a provider-sql ProviderConfig: `spec.credentials.connectionSecretRef` names a Secret
 * with `endpoint`, `port`, `username` and `password`; `spec.defaultDatabase` is the database
 * to connect to (default `postgres`).
 */
export async function postgresCredentials(pc: Resource | undefined, ctx: ProviderContext): Promise<PostgresCredentials> {
  if (!pc) throw new Error('no ProviderConfig: set spec.providerConfigRef.name to a postgresql.sql.crossplane.io ProviderConfig');
  const ref = pc.spec?.credentials?.connectionSecretRef as { name?: string; namespace?: string } | undefined;
  if (!ref?.name || !ref.namespace) throw new Error(`ProviderConfig ${pc.metadata.name}: spec.credentials.connectionSecretRef needs name and namespace`);
  const key = (k: string) => ctx.readSecretKey({ name: ref.name!, namespace: ref.namespace!, key: k });
  const optional = (k: string) => key(k).catch(() => '');
  const [endpoint, port, username, password] = await Promise.all([key('endpoint'), optional('port'), key('username'), optional('password')]);
  return { endpoint, port: Number(port || 5432), username, password, database: pc.spec?.defaultDatabase || 'postgres', sslmode: pc.spec?.sslmode };
}

/** Quotes an identifier for SQL (PostgreSQL's quote_ident). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for SQL statements that take no parameters (ALTER ROLE ... PASSWORD). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** At most `free` holders at once; the others wait in arrival order. */
class Turns {
  private waiting: (() => void)[] = [];

  constructor(private free: number) {}

  take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
