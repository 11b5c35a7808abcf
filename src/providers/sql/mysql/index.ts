import type { ManagedKind } from '../../../controlplane/provider.js';
import { MYSQL_GROUP } from './crds.js';
import { MysqlDatabaseClient } from './database.js';
import { MysqlGrantClient } from './grant.js';
import { mysqlCredentials, type MysqlServers } from './server.js';
import { MysqlUserClient } from './user.js';

const API_VERSION = `${MYSQL_GROUP}/v1alpha1`;

/** The managed kinds of mysql.sql.crossplane.io, sharing one pool per server. */
export function mysqlKinds(servers: MysqlServers): ManagedKind[] {
  return [
    { apiVersion: API_VERSION, kind: 'Database', connect: async (pc, ctx) => new MysqlDatabaseClient(servers.get(await mysqlCredentials(pc, ctx))) },
    { apiVersion: API_VERSION, kind: 'User', connect: async (pc, ctx) => new MysqlUserClient(servers.get(await mysqlCredentials(pc, ctx)), ctx) },
    { apiVersion: API_VERSION, kind: 'Grant', connect: async (pc, ctx) => new MysqlGrantClient(servers.get(await mysqlCredentials(pc, ctx)), ctx) },
  ];
}
