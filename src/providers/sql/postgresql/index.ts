import type { ManagedKind } from '../../../controlplane/provider.js';
import { POSTGRESQL_GROUP } from './crds.js';
import { DatabaseClient } from './database.js';
import { GrantClient } from './grant.js';
import { RoleClient } from './role.js';
import { postgresCredentials, type PostgresServers } from './server.js';

const API_VERSION = `${POSTGRESQL_GROUP}/v1alpha1`;

/** The managed kinds of postgresql.sql.crossplane.io, sharing one pool per server. */
export function postgresqlKinds(servers: PostgresServers): ManagedKind[] {
  return [
    { apiVersion: API_VERSION, kind: 'Database', connect: async (pc, ctx) => new DatabaseClient(servers.get(await postgresCredentials(pc, ctx))) },
    { apiVersion: API_VERSION, kind: 'Role', connect: async (pc, ctx) => new RoleClient(servers.get(await postgresCredentials(pc, ctx)), ctx) },
    { apiVersion: API_VERSION, kind: 'Grant', connect: async (pc, ctx) => new GrantClient(servers.get(await postgresCredentials(pc, ctx)), ctx) },
  ];
}
