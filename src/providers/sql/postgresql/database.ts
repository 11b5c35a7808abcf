import type { ExternalClient, ExternalObservation, ManagedResource } from '../../../controlplane/provider.js';
import { externalName } from '../../managed-resource.js';
import { ident, literal, type PostgresServer } from './server.js';

interface DatabaseRow {
  datname: string;
  owner: string;
  encoding: string;
  datcollate: string;
  datctype: string;
  datallowconn: boolean;
  datconnlimit: number;
  datistemplate: boolean;
  tablespace: string;
}

const SELECT_DATABASES = `
  SELECT d.datname, pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding,
         d.datcollate, d.datctype, d.datallowconn, d.datconnlimit, d.datistemplate, t.spcname AS tablespace
    FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
   WHERE d.datname = ANY($1)`;

/**
 * postgresql.sql.crossplane.io Database: one PostgreSQL database. observeMany reads every
 * database of a batch with one catalog query, which is what keeps drift detection at thousands
 * of databases to a query or two a second.
 */
export class DatabaseClient implements ExternalClient {
  constructor(private readonly server: PostgresServer) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    return (await this.observeMany([mr]))[0]!;
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    const names = mrs.map(externalName);
    const rows = await this.server.read<DatabaseRow>(SELECT_DATABASES, [names]);
    const byName = new Map(rows.map((r) => [r.datname, r]));
    return mrs.map((mr, i) => {
      const row = byName.get(names[i]!);
      return row ? observation(mr, row) : { resourceExists: false, resourceUpToDate: false };
    });
  }

  async create(mr: ManagedResource): Promise<{}> {
    const p = mr.spec.forProvider ?? {};
    const options: string[] = [];
    if (p.owner) options.push(`OWNER ${ident(p.owner)}`);
    if (p.template) options.push(`TEMPLATE ${ident(p.template)}`);
    if (p.encoding) options.push(`ENCODING ${literal(p.encoding)}`);
    if (p.lcCollate) options.push(`LC_COLLATE ${literal(p.lcCollate)}`);
    if (p.lcCType) options.push(`LC_CTYPE ${literal(p.lcCType)}`);
    if (p.tablespace) options.push(`TABLESPACE ${ident(p.tablespace)}`);
    if (p.allowConnections !== undefined) options.push(`ALLOW_CONNECTIONS ${p.allowConnections}`);
    if (p.connectionLimit !== undefined) options.push(`CONNECTION LIMIT ${Number(p.connectionLimit)}`);
    if (p.isTemplate !== undefined) options.push(`IS_TEMPLATE ${p.isTemplate}`);
    const name = externalName(mr);
    const create = `CREATE DATABASE ${ident(name)}${options.length ? ` WITH ${options.join(' ')}` : ''}`;
    try {
      await this.server.queryAwaitingDependencies(create);
    } catch (err) {
      // A retry after a crash finds the database already there: that is success (42P04 duplicate_database),
      // unless it is the invalid husk of an interrupted DROP, which can only be dropped.
      if ((err as Error & { cause?: { code?: string } }).cause?.code !== '42P04') throw err;
      const [row] = await this.server.query<{ datconnlimit: number }>('SELECT datconnlimit FROM pg_database WHERE datname = $1', [name]);
      if (row?.datconnlimit !== INVALID_DATABASE) return {};
      await this.server.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      await this.server.queryAwaitingDependencies(create);
    }
    return {};
  }

  async update(mr: ManagedResource): Promise<{}> {
    const p = mr.spec.forProvider ?? {};
    const name = ident(externalName(mr));
    const settings: string[] = [];
    if (p.allowConnections !== undefined) settings.push(`ALLOW_CONNECTIONS ${p.allowConnections}`);
    if (p.connectionLimit !== undefined) settings.push(`CONNECTION LIMIT ${Number(p.connectionLimit)}`);
    if (p.isTemplate !== undefined) settings.push(`IS_TEMPLATE ${p.isTemplate}`);
    if (settings.length) await this.server.query(`ALTER DATABASE ${name} WITH ${settings.join(' ')}`);
    if (p.owner) await this.server.query(`ALTER DATABASE ${name} OWNER TO ${ident(p.owner)}`);
    if (p.tablespace) await this.server.query(`ALTER DATABASE ${name} SET TABLESPACE ${ident(p.tablespace)}`);
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    // FORCE ends open sessions: a managed database being deleted must not wait on its clients.
    await this.server.queryRacingCatalog(`DROP DATABASE IF EXISTS ${ident(externalName(mr))} WITH (FORCE)`);
  }
}

/**
 * pg_database.datconnlimit of a database that a DROP is removing or left half-dropped: it
 * cannot be connected to or altered, only dropped, so it counts as not existing.
 */
const INVALID_DATABASE = -2;

function observation(mr: ManagedResource, row: DatabaseRow): ExternalObservation {
  if (row.datconnlimit === INVALID_DATABASE) {
    // To create, such a husk is as good as absent (create drops it first). To delete, it is still
    // there: a DROP that lost a race left it behind, and letting the object go now would leak it.
    if (mr.metadata.deletionTimestamp) return { resourceExists: true, resourceUpToDate: true, diff: 'a DROP of the database did not finish' };
    return { resourceExists: false, resourceUpToDate: false, diff: 'the database is being dropped' };
  }
  const p = mr.spec.forProvider ?? {};
  const drift: string[] = [];
  if (p.owner && p.owner !== row.owner) drift.push(`owner is ${row.owner}, want ${p.owner}`);
  if (p.allowConnections !== undefined && p.allowConnections !== row.datallowconn) drift.push(`allowConnections is ${row.datallowconn}`);
  if (p.connectionLimit !== undefined && Number(p.connectionLimit) !== row.datconnlimit) drift.push(`connectionLimit is ${row.datconnlimit}, want ${p.connectionLimit}`);
  if (p.isTemplate !== undefined && p.isTemplate !== row.datistemplate) drift.push(`isTemplate is ${row.datistemplate}`);
  if (p.tablespace && p.tablespace !== row.tablespace) drift.push(`tablespace is ${row.tablespace}, want ${p.tablespace}`);
  return {
    resourceExists: true,
    resourceUpToDate: drift.length === 0,
    diff: drift.join('; ') || undefined,
    atProvider: { owner: row.owner, encoding: row.encoding, lcCollate: row.datcollate, lcCType: row.datctype, allowConnections: row.datallowconn, connectionLimit: row.datconnlimit, isTemplate: row.datistemplate, tablespace: row.tablespace },
    lateInitialized: {
      ...(p.owner ? {} : { owner: row.owner }),
      ...(p.encoding ? {} : { encoding: row.encoding }),
      ...(p.lcCollate ? {} : { lcCollate: row.datcollate }),
      ...(p.lcCType ? {} : { lcCType: row.datctype }),
      ...(p.allowConnections !== undefined ? {} : { allowConnections: row.datallowconn }),
      ...(p.connectionLimit !== undefined ? {} : { connectionLimit: row.datconnlimit }),
      ...(p.isTemplate !== undefined ? {} : { isTemplate: row.datistemplate }),
      ...(p.tablespace ? {} : { tablespace: row.tablespace }),
    },
  };
}
