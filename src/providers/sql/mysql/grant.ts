import type { ExternalClient, ExternalObservation, ManagedResource, ProviderContext } from '../../../controlplane/provider.js';
import { mrLabel } from '../../managed-resource.js';
import { resolveReference } from '../references.js';
import { account, ident, MysqlError, mysqlErrno, splitUserHost, type MysqlServer } from './server.js';

const GROUP = 'mysql.sql.crossplane.io/v1alpha1';

/** What a Grant asks for once its references are resolved: privileges ON database.table TO user@host. */
interface ResolvedGrant {
  user: string;
  host: string;
  /** Undefined for a global grant (`*.*`). */
  database?: string;
  /** `*` for every table of the database. */
  table: string;
  /** Upper-case privilege names; `ALL` stands for every privilege of the level. */
  privileges: string[];
  level: 'global' | 'database' | 'table';
}

/** What the server holds for one grant's user at its level. */
interface Held {
  privileges: Set<string>;
  /** Every privilege of the level except GRANT OPTION: what ALL grants. */
  all: string[];
}

/**
 * mysql.sql.crossplane.io Grant: privileges on `*.*`, on `database.*` or on `database.table`
 * for a user. The grant exists when the user holds any privilege at that level, and is up to
 * date when it holds exactly the requested ones (ALL meaning every privilege of the level).
 * observeMany reads the privilege tables (mysql.user, mysql.db, mysql.tables_priv) with one
 * query per level present in the batch, rather than SHOW GRANTS per user.
 */
export class MysqlGrantClient implements ExternalClient {
  /** The privileges of mysql.tables_priv's Table_priv set, read once: ALL at table level. */
  private tablePrivileges?: Promise<string[]>;

  constructor(
    private readonly server: MysqlServer,
    private readonly ctx: ProviderContext,
  ) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    return (await this.observeMany([mr]))[0]!;
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    if (!mrs.length) return []; // `IN ()` is not SQL
    const grants = await Promise.all(mrs.map((mr) => this.resolve(mr)));
    const held = await this.readPrivileges(grants);
    return grants.map((g): ExternalObservation => {
      const h = held.get(grantKey(g));
      const lateInitialized = { user: g.host === '%' ? g.user : `${g.user}@${g.host}`, database: g.database };
      if (!h || h.privileges.size === 0) return { resourceExists: false, resourceUpToDate: false, lateInitialized };
      const want = new Set(g.privileges.flatMap((p) => (p === 'ALL' ? h.all : [p])));
      const have = h.privileges;
      const upToDate = have.size === want.size && [...want].every((p) => have.has(p));
      const on = `${g.database ?? '*'}.${g.table}`;
      return {
        resourceExists: true,
        resourceUpToDate: upToDate,
        diff: upToDate ? undefined : `${g.user}@${g.host} holds ${[...have].sort().join(', ')} on ${on}, want ${[...want].sort().join(', ')}`,
        atProvider: { privileges: [...have].sort() },
        lateInitialized,
      };
    });
  }

  async create(mr: ManagedResource): Promise<{}> {
    const g = await this.resolve(mr);
    // GRANT adds to what is held, so a retry after a crash converges. The user (and, for a
    // table grant, the table) is often created at the same moment: wait for it briefly.
    await this.server.execAwaitingDependencies([grantStatement(g)], { replicate: replicate(mr), waitFor: [MysqlError.NoSuchUser, MysqlError.NoSuchTable] });
    return {};
  }

  async update(mr: ManagedResource): Promise<{}> {
    const g = await this.resolve(mr);
    // A grant cannot be edited in place, and GRANT implicitly commits, so revoke-then-grant
    // leaves a short window without access (as provider-sql does).
    await this.server.exec([`REVOKE ALL PRIVILEGES ON ${on(g)} FROM ${account(g)}`, grantStatement(g)], { replicate: replicate(mr) });
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    const g = await this.resolve(mr);
    try {
      await this.server.exec([`REVOKE ${g.privileges.map(privilegeSql).join(', ')} ON ${on(g)} FROM ${account(g)}`], { replicate: replicate(mr) });
    } catch (err) {
      // The user is gone (and its grants with it), or the grant already is.
      const n = mysqlErrno(err);
      if (n !== MysqlError.NoSuchGrant && n !== MysqlError.NoSuchTableGrant && n !== MysqlError.NoSuchUser && n !== MysqlError.CannotUser) throw err;
    }
  }

  /** Reads what every grant's user holds at the grant's level: one query per level. */
  private async readPrivileges(grants: ResolvedGrant[]): Promise<Map<string, Held>> {
    const out = new Map<string, Held>();
    const at = (level: ResolvedGrant['level']) => grants.filter((g) => g.level === level);
    const global = at('global');
    const database = at('database');
    const table = at('table');
    if (global.length) {
      const rows = await this.server.query('SELECT * FROM mysql.user WHERE (User, Host) IN (?)', [global.map((g) => [g.user, g.host])]);
      for (const r of rows) out.set(grantKey({ user: r.User, host: r.Host, table: '*' }), heldFromColumns(r));
    }
    if (database.length) {
      const rows = await this.server.query('SELECT * FROM mysql.db WHERE (User, Host, Db) IN (?)', [database.map((g) => [g.user, g.host, g.database])]);
      for (const r of rows) out.set(grantKey({ user: r.User, host: r.Host, database: r.Db, table: '*' }), heldFromColumns(r));
    }
    if (table.length) {
      const rows = await this.server.query('SELECT User, Host, Db, Table_name, Table_priv FROM mysql.tables_priv WHERE (User, Host, Db, Table_name) IN (?)', [table.map((g) => [g.user, g.host, g.database, g.table])]);
      const all = rows.length ? await this.tableLevelPrivileges() : [];
      for (const r of rows) {
        const privileges = new Set(String(r.Table_priv ?? '').split(',').filter(Boolean).map(tablePrivilegeName));
        out.set(grantKey({ user: r.User, host: r.Host, database: r.Db, table: r.Table_name }), { privileges, all });
      }
    }
    return out;
  }

  private tableLevelPrivileges(): Promise<string[]> {
    this.tablePrivileges ??= this.server.query<{ Type: string }>("SHOW COLUMNS FROM mysql.tables_priv LIKE 'Table_priv'").then(
      ([col]) => [...(col?.Type ?? '').matchAll(/'([^']+)'/g)].map((m) => tablePrivilegeName(m[1]!)).filter((p) => p !== 'GRANT OPTION'),
      (err) => {
        this.tablePrivileges = undefined;
        throw err;
      },
    );
    return this.tablePrivileges;
  }

  private async resolve(mr: ManagedResource): Promise<ResolvedGrant> {
    const p = mr.spec.forProvider ?? {};
    const user = await resolveReference(mr, 'user', { apiVersion: GROUP, kind: 'User' }, this.ctx);
    if (!user) throw new Error(`${mrLabel(mr)}: spec.forProvider.user (or userRef, userSelector) is required`);
    const database = await resolveReference(mr, 'database', { apiVersion: GROUP, kind: 'Database' }, this.ctx);
    const table: string = p.table && p.table !== '*' ? p.table : '*';
    if (table !== '*' && (!database || database === '*')) throw new Error(`${mrLabel(mr)}: spec.forProvider.table needs spec.forProvider.database`);
    const privileges = normalisePrivileges(p.privileges ?? []);
    if (!privileges.length) throw new Error(`${mrLabel(mr)}: spec.forProvider.privileges must list at least one privilege`);
    const bad = privileges.find((x) => !/^[A-Z][A-Z_ ]*$/.test(x));
    if (bad) throw new Error(`${mrLabel(mr)}: spec.forProvider.privileges: ${JSON.stringify(bad)} is not a privilege name`);
    const db = database && database !== '*' ? database : undefined;
    return { ...splitUserHost(user), database: db, table, privileges, level: !db ? 'global' : table === '*' ? 'database' : 'table' };
  }
}

function replicate(mr: ManagedResource): boolean | undefined {
  const p = mr.spec.forProvider ?? {};
  return p.binlog ?? p.replicate;
}

function grantKey(g: { user: string; host: string; database?: string; table: string }): string {
  return JSON.stringify([g.user, g.host.toLowerCase(), g.database ?? '*', g.table]);
}

function on(g: ResolvedGrant): string {
  return g.level === 'global' ? '*.*' : `${ident(g.database!)}.${g.table === '*' ? '*' : ident(g.table)}`;
}

function grantStatement(g: ResolvedGrant): string {
  return `GRANT ${g.privileges.map(privilegeSql).join(', ')} ON ${on(g)} TO ${account(g)}`;
}

function privilegeSql(p: string): string {
  return p === 'ALL' ? 'ALL PRIVILEGES' : p;
}

function normalisePrivileges(list: string[]): string[] {
  const out = new Set<string>();
  for (const raw of list) {
    const p = raw.toUpperCase().trim().replace(/\s+/g, ' ');
    out.add(p === 'ALL PRIVILEGES' ? 'ALL' : p);
  }
  return [...out].sort();
}

/** Privilege columns of mysql.user and mysql.db whose names do not read as the privilege. */
const COLUMN_NAMES: Record<string, string> = {
  Grant_priv: 'GRANT OPTION',
  Create_tmp_table_priv: 'CREATE TEMPORARY TABLES',
  Show_db_priv: 'SHOW DATABASES',
  Repl_slave_priv: 'REPLICATION SLAVE',
  Repl_client_priv: 'REPLICATION CLIENT',
};

/** Reads the `*_priv` columns of a mysql.user or mysql.db row: `Lock_tables_priv: 'Y'` holds LOCK TABLES. */
function heldFromColumns(row: Record<string, unknown>): Held {
  const privileges = new Set<string>();
  const all: string[] = [];
  for (const [column, value] of Object.entries(row)) {
    if (!column.endsWith('_priv')) continue;
    const name = COLUMN_NAMES[column] ?? column.slice(0, -'_priv'.length).replace(/_/g, ' ').toUpperCase();
    if (name !== 'GRANT OPTION') all.push(name);
    if (value === 'Y') privileges.add(name);
  }
  return { privileges, all };
}

/** A member of mysql.tables_priv's Table_priv set as GRANT names it. */
function tablePrivilegeName(member: string): string {
  if (member === 'Grant') return 'GRANT OPTION';
  if (member === 'Delete versioning rows') return 'DELETE HISTORY';
  return member.toUpperCase();
}
