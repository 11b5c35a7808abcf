import type { Provider } from '../../controlplane/provider.js';
import { mysqlCrds, MYSQL_GROUP } from './mysql/crds.js';
import { mysqlKinds } from './mysql/index.js';
import { MysqlServers } from './mysql/server.js';
import { postgresqlCrds, POSTGRESQL_GROUP } from './postgresql/crds.js';
import { postgresqlKinds } from './postgresql/index.js';
import { PostgresServers } from './postgresql/server.js';

/**
 * provider-sql, API-compatible with crossplane-contrib/provider-sql: PostgreSQL Database, Role
 * and Grant (postgresql.sql.crossplane.io/v1alpha1) and MySQL/MariaDB Database, User and Grant
 * (mysql.sql.crossplane.io/v1alpha1), each sharing one pool per server.
 */
export function sqlProviders(): { providers: Provider[]; postgres: PostgresServers; mysql: MysqlServers; close(): Promise<void> } {
  const pg = new PostgresServers();
  const mysql = new MysqlServers();
  return {
    postgres: pg,
    mysql,
    providers: [
      { name: 'provider-sql-postgresql', crds: postgresqlCrds(), managed: postgresqlKinds(pg), providerConfig: { apiVersion: `${POSTGRESQL_GROUP}/v1alpha1`, kind: 'ProviderConfig' } },
      { name: 'provider-sql-mysql', crds: mysqlCrds(), managed: mysqlKinds(mysql), providerConfig: { apiVersion: `${MYSQL_GROUP}/v1alpha1`, kind: 'ProviderConfig' } },
    ],
    close: () => Promise.all([pg.closeAll(), mysql.closeAll()]).then(() => undefined),
  };
}
