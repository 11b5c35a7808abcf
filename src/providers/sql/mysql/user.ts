import { createHash } from 'node:crypto';
import type { ConnectionDetails, ExternalClient, ExternalObservation, ManagedResource, ProviderContext } from '../../../controlplane/provider.js';
import { externalName, generatePassword, mrLabel } from '../../managed-resource.js';
import { account, literal, MysqlError, mysqlErrno, splitUserHost, type MysqlServer } from './server.js';

interface UserRow {
  User: string;
  Host: string;
  max_questions: number | string;
  max_updates: number | string;
  max_connections: number | string;
  max_user_connections: number | string;
  plugin: string | null;
  authentication_string: string | null;
}

/** spec.forProvider.resourceOptions field → the mysql.user column and the WITH clause keyword. */
const RESOURCE_OPTIONS: [field: string, column: keyof UserRow, keyword: string][] = [
  ['maxQueriesPerHour', 'max_questions', 'MAX_QUERIES_PER_HOUR'],
  ['maxUpdatesPerHour', 'max_updates', 'MAX_UPDATES_PER_HOUR'],
  ['maxConnectionsPerHour', 'max_connections', 'MAX_CONNECTIONS_PER_HOUR'],
  ['maxUserConnections', 'max_user_connections', 'MAX_USER_CONNECTIONS'],
];

const NATIVE_PASSWORD = 'mysql_native_password';

/**
 * mysql.sql.crossplane.io User. The external name is `name@host` (host `%` when omitted), as
 * provider-sql reads it. The connection secret carries `username`, `password`, `endpoint` and
 * `port`. Resource options are compared with mysql.user; with passwordSecretRef and the native
 * password plugin, the stored hash is compared too, so a password changed out of band is put back.
 */
export class MysqlUserClient implements ExternalClient {
  constructor(
    private readonly server: MysqlServer,
    private readonly ctx: ProviderContext,
  ) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    return (await this.observeMany([mr]))[0]!;
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    if (!mrs.length) return []; // `IN ()` is not SQL
    const accounts = mrs.map((mr) => splitUserHost(externalName(mr)));
    const rows = await this.server.query<UserRow>(
      'SELECT User, Host, max_questions, max_updates, max_connections, max_user_connections, plugin, authentication_string FROM mysql.user WHERE (User, Host) IN (?)',
      [accounts.map((a) => [a.user, a.host])],
    );
    const byAccount = new Map(rows.map((r) => [`${r.User}@${r.Host.toLowerCase()}`, r]));
    return Promise.all(
      mrs.map(async (mr, i): Promise<ExternalObservation> => {
        const a = accounts[i]!;
        const row = byAccount.get(`${a.user}@${a.host.toLowerCase()}`);
        if (!row) return { resourceExists: false, resourceUpToDate: false };
        const drift = optionDrift(mr, row);
        const wanted = await this.desiredPassword(mr);
        if (wanted !== undefined && passwordDiffers(row, wanted)) drift.push('password differs from passwordSecretRef');
        return {
          resourceExists: true,
          resourceUpToDate: drift.length === 0,
          diff: drift.join('; ') || undefined,
          // No connection details: a generated password is known only at create.
          atProvider: { resourceOptionsAsClauses: RESOURCE_OPTIONS.map(([, column, keyword]) => `${keyword} ${Number(row[column])}`) },
        };
      }),
    );
  }

  async create(mr: ManagedResource): Promise<{ connectionDetails: ConnectionDetails }> {
    const a = splitUserHost(externalName(mr));
    const password = (await this.desiredPassword(mr)) ?? generatePassword();
    const identified = this.identifiedBy(mr, password);
    const options = optionClauses(mr);
    const withOptions = options.length ? ` WITH ${options.join(' ')}` : '';
    const replicate = mr.spec.forProvider?.replicate;
    try {
      await this.server.exec([`CREATE USER ${account(a)} ${identified}${withOptions}`], { replicate });
    } catch (err) {
      // Retried after a crash: the user exists; make it match and take the password returned here.
      if (mysqlErrno(err) !== MysqlError.CannotUser) throw err;
      await this.server.exec([`ALTER USER ${account(a)} ${identified}${withOptions}`], { replicate });
    }
    return { connectionDetails: this.details(a.user, password) };
  }

  async update(mr: ManagedResource): Promise<{ connectionDetails?: ConnectionDetails }> {
    const a = splitUserHost(externalName(mr));
    const password = await this.desiredPassword(mr);
    const options = optionClauses(mr);
    const clauses = `${password !== undefined ? ` ${this.identifiedBy(mr, password)}` : ''}${options.length ? ` WITH ${options.join(' ')}` : ''}`;
    if (clauses) await this.server.exec([`ALTER USER ${account(a)}${clauses}`], { replicate: mr.spec.forProvider?.replicate });
    return password !== undefined ? { connectionDetails: this.details(a.user, password) } : {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    await this.server.exec([`DROP USER IF EXISTS ${account(splitUserHost(externalName(mr)))}`], { replicate: mr.spec.forProvider?.replicate });
  }

  /** The IDENTIFIED clause: a password for the native plugin, or the named plugin with or without one. */
  private identifiedBy(mr: ManagedResource, password: string): string {
    const p = mr.spec.forProvider ?? {};
    const plugin: string = p.authPlugin || NATIVE_PASSWORD;
    if (p.usePassword === false) return `IDENTIFIED WITH ${plugin}`;
    if (plugin === NATIVE_PASSWORD) return `IDENTIFIED BY ${literal(password)}`;
    if (!/^([a-z]+_)+[a-z]+$/.test(plugin)) throw new Error(`${mrLabel(mr)}: spec.forProvider.authPlugin ${JSON.stringify(plugin)} is not a plugin name`);
    return `IDENTIFIED WITH ${plugin} BY ${literal(password)}`;
  }

  private async desiredPassword(mr: ManagedResource): Promise<string | undefined> {
    const ref = mr.spec.forProvider?.passwordSecretRef as { name: string; namespace: string; key: string } | undefined;
    return ref ? this.ctx.readSecretKey(ref) : undefined;
  }

  private details(username: string, password: string): ConnectionDetails {
    const { endpoint, port } = this.server.credentials;
    return { username, password, endpoint, port: String(port) };
  }
}

function optionClauses(mr: ManagedResource): string[] {
  const o = mr.spec.forProvider?.resourceOptions ?? {};
  return RESOURCE_OPTIONS.flatMap(([field, , keyword]) => (o[field] !== undefined ? [`${keyword} ${Number(o[field])}`] : []));
}

function optionDrift(mr: ManagedResource, row: UserRow): string[] {
  const o = mr.spec.forProvider?.resourceOptions ?? {};
  return RESOURCE_OPTIONS.flatMap(([field, column, keyword]) =>
    o[field] !== undefined && Number(o[field]) !== Number(row[column]) ? [`${keyword} is ${Number(row[column])}, want ${Number(o[field])}`] : [],
  );
}

/**
 * Whether the stored credential does not match `password`. Only the native plugin's hash
 * (`*` + hex SHA1(SHA1(password))) can be checked here; for other plugins nothing is reported.
 */
function passwordDiffers(row: UserRow, password: string): boolean {
  if (row.plugin !== NATIVE_PASSWORD || !row.authentication_string) return false;
  const inner = createHash('sha1').update(password, 'utf8').digest();
  const hash = '*' + createHash('sha1').update(inner).digest('hex').toUpperCase();
  return hash !== row.authentication_string.toUpperCase();
}
