import type { Provider } from '../../controlplane/provider.js';
import { postgresqlCrds, POSTGRESQL_GROUP } from './postgresql/crds.js';
import { postgresqlKinds } from './postgresql/index.js';
import { PostgresServers } from './postgresql/server.js';

/**
 * provider-sql, API-compatible with crossplane-contrib/provider-sql: PostgreSQL Database, Role
 * and Grant (postgresql.sql.crossplane.io/v1alpha1), all sharing one pool per server.
 */
export function sqlProviders(): { providers: Provider[]; postgres: PostgresServers; close(): Promise<void> } {
  const pg = new PostgresServers();
  return {
    postgres: pg,
    providers: [{ name: 'provider-sql-postgresql', crds: postgresqlCrds(), managed: postgresqlKinds(pg), providerConfig: { apiVersion: `${POSTGRESQL_GROUP}/v1alpha1`, kind: 'ProviderConfig' } }],
    close: () => pg.closeAll(),
  };
}
