import mysql from 'mysql2/promise';
import type { Resource } from '../../../api/types.js';
import type { ProviderContext } from '../../../controlplane/provider.js';
import { BackendBreaker } from '../backend-breaker.js';

/** Where a ProviderConfig points: the keys of a provider-sql MySQL connection secret. */
export interface MysqlCredentials {
  endpoint: string;
  port: number;
  username: string;
  password: string;
  /** provider-sql's spec.tls: 'true', 'skip-verify' or 'preferred' (the default). */
  tls?: string;
}

/** MySQL and MariaDB error numbers the provider acts on. */
export const MysqlError = {
  /** ER_CANNOT_USER: CREATE USER for one that exists, DROP USER for one that does not. */
  CannotUser: 1396,
  /** ER_PASSWORD_NO_MATCH: GRANT to a user that does not exist (NO_AUTO_CREATE_USER). */
  NoSuchUser: 1133,
  /** ER_NONEXISTING_GRANT: REVOKE of a grant that is not there. */
  NoSuchGrant: 1141,
  /** ER_NONEXISTING_TABLE_GRANT */
  NoSuchTableGrant: 1147,
  /** ER_NO_SUCH_TABLE: a table-level grant on a table not created yet. */
  NoSuchTable: 1146,
} as const;

/** The MySQL error number behind a provider error, if the server sent one. */
export function mysqlErrno(err: unknown): number | undefined {
  const n = (err as Error & { cause?: { errno?: number } }).cause?.errno;
  return n !== undefined && n > 0 ? n : undefined;
}

/**
 * One MySQL or MariaDB server as the provider sees it: a small connection pool, and statements
 * whose errors name the server, so a Synced=False condition says which backend failed. While
 * the server is unreachable, statements fail fast (see BackendBreaker) instead of each opening
 * a connection that is refused.
 */
export class MysqlServer {
  readonly label: string;
  private readonly pool: mysql.Pool;
  readonly breaker: BackendBreaker;
  /** Statements sent so far: benchmarks and tests read it to show what a poll costs the server. */
  queries = 0;

  constructor(readonly credentials: MysqlCredentials) {
    this.label = `MySQL ${credentials.endpoint}:${credentials.port}`;
    this.breaker = new BackendBreaker();
    this.pool = mysql.createPool({
      host: credentials.endpoint,
      port: credentials.port,
      user: credentials.username,
      password: credentials.password,
      // go-sql-driver's `preferred` (TLS when the server offers it) has no mysql2 equivalent: it connects in plain text.
      ssl: credentials.tls === 'true' ? { rejectUnauthorized: true } : credentials.tls === 'skip-verify' ? { rejectUnauthorized: false } : undefined,
      connectionLimit: 8,
      maxIdle: 2,
      idleTimeout: 30_000,
      connectTimeout: 3000,
      enableKeepAlive: true,
    });
    // An idle connection losing its server (a restart) must not crash the process; the next statement reconnects.
    this.pool.on('connection', (c) => c.on('error', () => undefined));
  }

  /** Runs one statement; `?` placeholders are expanded client-side (arrays become lists). */
  async query<R = Record<string, any>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.breaker.run(async () => {
      this.queries++;
      try {
        const [rows] = await this.pool.query(sql, params);
        return rows as R[];
      } catch (err) {
        throw this.wrap(err);
      }
    }, isConnectionError);
  }

  /**
   * Runs statements on one session. `replicate: false` is provider-sql's binlog switch: the
   * statements are kept out of the binary log (SET sql_log_bin = 0), so replicas do not repeat them.
   */
  async exec(statements: string[], opts: { replicate?: boolean } = {}): Promise<void> {
    await this.breaker.run(async () => {
      let conn: mysql.PoolConnection;
      try {
        conn = await this.pool.getConnection();
      } catch (err) {
        throw this.wrap(err);
      }
      try {
        if (opts.replicate === false) await conn.query('SET sql_log_bin = 0');
        for (const sql of statements) {
          this.queries++;
          await conn.query(sql);
        }
        if (opts.replicate === false) await conn.query('SET sql_log_bin = 1');
        conn.release();
      } catch (err) {
        // a session that may still have sql_log_bin = 0 must not go back to the pool
        if (opts.replicate === false) conn.destroy();
        else conn.release();
        throw this.wrap(err);
      }
    }, isConnectionError);
  }

  /**
   * Runs statements that name objects often composed beside this one and created at the same
   * moment (the user a Grant is for): while `waitFor` errors persist it retries for up to
   * `waitMs`, instead of falling into the reconciler's backoff for a second or more.
   */
  async execAwaitingDependencies(statements: string[], opts: { replicate?: boolean; waitFor: number[]; waitMs?: number }): Promise<void> {
    const deadline = Date.now() + (opts.waitMs ?? 2000);
    for (;;) {
      try {
        return await this.exec(statements, opts);
      } catch (err) {
        const n = mysqlErrno(err);
        if (n === undefined || !opts.waitFor.includes(n) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private wrap(err: unknown): Error {
    const e = err as { message?: string; code?: string; errors?: { message: string }[] };
    const text = e?.errors?.length ? e.errors.map((x) => x.message).join('; ') : e?.message || e?.code || String(err);
    return new Error(`${this.label}: ${text}`, { cause: err });
  }
}

/** Errors that say the server cannot be reached at all, as opposed to a failed statement. */
function isConnectionError(err: unknown): boolean {
  const code = (err as Error & { cause?: { code?: string; fatal?: boolean } }).cause?.code;
  return code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'PROTOCOL_CONNECTION_LOST';
}

/**
 * MySQL servers by credentials, shared by every managed kind of the provider so that thousands
 * of managed resources on one ProviderConfig share one pool.
 */
export class MysqlServers {
  private servers = new Map<string, MysqlServer>();

  get(c: MysqlCredentials): MysqlServer {
    const key = JSON.stringify(c);
    let s = this.servers.get(key);
    if (!s) {
      s = new MysqlServer(c);
      this.servers.set(key, s);
    }
    return s;
  }

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
 * Reads a provider-sql mysql ProviderConfig: `spec.credentials.connectionSecretRef` names a
 * Secret with `endpoint`, `port` (default 3306), `username` and `password`; `spec.tls` as
 * provider-sql documents it.
 */
export async function mysqlCredentials(pc: Resource | undefined, ctx: ProviderContext): Promise<MysqlCredentials> {
  if (!pc) throw new Error('no ProviderConfig: set spec.providerConfigRef.name to a mysql.sql.crossplane.io ProviderConfig');
  const ref = pc.spec?.credentials?.connectionSecretRef as { name?: string; namespace?: string } | undefined;
  if (!ref?.name || !ref.namespace) throw new Error(`ProviderConfig ${pc.metadata.name}: spec.credentials.connectionSecretRef needs name and namespace`);
  const key = (k: string) => ctx.readSecretKey({ name: ref.name!, namespace: ref.namespace!, key: k });
  const optional = (k: string) => key(k).catch(() => '');
  const [endpoint, port, username, password] = await Promise.all([key('endpoint'), optional('port'), key('username'), optional('password')]);
  return { endpoint, port: Number(port || 3306), username, password, tls: pc.spec?.tls };
}

/** Quotes an identifier (a database or table name) with backticks. */
export function ident(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/**
 * Quotes a string literal: user names, hosts and passwords in account statements. Backslashes
 * are doubled for the default SQL mode (without NO_BACKSLASH_ESCAPES), where they escape.
 */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** provider-sql's external name of a User: `name@host`, the host defaulting to `%`. */
export function splitUserHost(externalName: string): { user: string; host: string } {
  const at = externalName.indexOf('@');
  return at < 0 ? { user: externalName, host: '%' } : { user: externalName.slice(0, at), host: externalName.slice(at + 1) };
}

/** `'user'@'host'` as account statements write it. */
export function account(u: { user: string; host: string }): string {
  return `${literal(u.user)}@${literal(u.host)}`;
}
