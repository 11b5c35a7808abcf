import type { ExternalClient, ExternalObservation, ManagedResource } from '../../../controlplane/provider.js';
import { externalName } from '../../managed-resource.js';
import { ident, type MysqlServer } from './server.js';

interface SchemaRow {
  SCHEMA_NAME: string;
  DEFAULT_CHARACTER_SET_NAME: string;
  DEFAULT_COLLATION_NAME: string;
}

/**
 * mysql.sql.crossplane.io Database: one schema. It has nothing to update (provider-sql's only
 * parameter, `replicate`, says whether its statements reach replicas), so observing is only
 * whether it exists; observeMany answers that for a whole batch with one information_schema query.
 */
export class MysqlDatabaseClient implements ExternalClient {
  constructor(private readonly server: MysqlServer) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    return (await this.observeMany([mr]))[0]!;
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    if (!mrs.length) return []; // `IN ()` is not SQL
    const names = mrs.map(externalName);
    const rows = await this.server.query<SchemaRow>(
      'SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)',
      [names],
    );
    const byName = new Map(rows.map((r) => [r.SCHEMA_NAME, r]));
    return names.map((name): ExternalObservation => {
      const row = byName.get(name);
      if (!row) return { resourceExists: false, resourceUpToDate: false };
      return { resourceExists: true, resourceUpToDate: true, atProvider: { characterSet: row.DEFAULT_CHARACTER_SET_NAME, collation: row.DEFAULT_COLLATION_NAME } };
    });
  }

  async create(mr: ManagedResource): Promise<{}> {
    // IF NOT EXISTS: a create retried after a crash finds the database there and succeeds.
    await this.server.exec([`CREATE DATABASE IF NOT EXISTS ${ident(externalName(mr))}`], { replicate: mr.spec.forProvider?.replicate });
    return {};
  }

  async update(): Promise<{}> {
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    await this.server.exec([`DROP DATABASE IF EXISTS ${ident(externalName(mr))}`], { replicate: mr.spec.forProvider?.replicate });
  }
}
