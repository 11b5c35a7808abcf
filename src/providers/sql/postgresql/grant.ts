import type { ExternalClient, ExternalObservation, ManagedResource, ProviderContext } from '../../../controlplane/provider.js';
import { mrLabel } from '../../managed-resource.js';
import { resolveReference } from '../references.js';
import { ident, type PostgresServer } from './server.js';

const GROUP = 'postgresql.sql.crossplane.io/v1alpha1';

/** Database privileges as aclexplode names them; ALL expands to every one. */
const DATABASE_PRIVILEGES = ['CONNECT', 'CREATE', 'TEMPORARY'];

/** What a Grant asks for once its references are resolved. */
interface ResolvedGrant {
  role: string;
  database?: string;
  memberOf?: string;
  privileges: string[];
  withOption?: 'GRANT' | 'ADMIN';
}

/**
 * postgresql.sql.crossplane.io Grant, in its two forms: privileges on a database for a role
 * (`role` + `database` + `privileges`), or membership of a role in another (`role` + `memberOf`).
 * A grant has no name of its own in PostgreSQL; it exists when the role holds any privilege on
 * the database (or the membership), and is up to date when it holds exactly the requested ones.
 */
export class GrantClient implements ExternalClient {
  constructor(
    private readonly server: PostgresServer,
    private readonly ctx: ProviderContext,
  ) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    return (await this.observeMany([mr]))[0]!;
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    const grants = await Promise.all(mrs.map((mr) => this.resolve(mr)));
    const databases = [...new Set(grants.flatMap((g) => (g.database ? [g.database] : [])))];
    const groups = [...new Set(grants.flatMap((g) => (g.memberOf ? [g.memberOf] : [])))];
    const acl = databases.length
      ? await this.server.read<{ datname: string; rolname: string; privilege_type: string; is_grantable: boolean }>(
          `SELECT d.datname, r.rolname, a.privilege_type, a.is_grantable
             FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a JOIN pg_roles r ON r.oid = a.grantee
            WHERE d.datname = ANY($1)`,
          [databases],
        )
      : [];
    const members = groups.length
      ? await this.server.read<{ grp: string; member: string; admin_option: boolean }>(
          `SELECT g.rolname AS grp, m.rolname AS member, am.admin_option
             FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
            WHERE g.rolname = ANY($1)`,
          [groups],
        )
      : [];
    return grants.map((g): ExternalObservation => {
      // Resolved references are late-initialised into spec.forProvider, as Crossplane persists
      // them, so deleting the grant never depends on the referenced objects still existing.
      const lateInitialized = { role: g.role, database: g.database, memberOf: g.memberOf };
      if (g.memberOf) {
        const row = members.find((r) => r.grp === g.memberOf && r.member === g.role);
        if (!row) return { resourceExists: false, resourceUpToDate: false };
        const upToDate = row.admin_option === (g.withOption === 'ADMIN');
        return { resourceExists: true, resourceUpToDate: upToDate, diff: upToDate ? undefined : 'admin option differs', atProvider: { memberOf: g.memberOf, adminOption: row.admin_option }, lateInitialized };
      }
      const held = acl.filter((r) => r.datname === g.database && r.rolname === g.role);
      if (!held.length) return { resourceExists: false, resourceUpToDate: false };
      const have = new Set(held.map((r) => r.privilege_type));
      const want = new Set(g.privileges);
      const grantable = held.every((r) => r.is_grantable === (g.withOption === 'GRANT'));
      const upToDate = have.size === want.size && [...want].every((p) => have.has(p)) && grantable;
      return {
        resourceExists: true,
        resourceUpToDate: upToDate,
        diff: upToDate ? undefined : `role ${g.role} holds ${[...have].sort().join(', ')} on ${g.database}, want ${[...want].sort().join(', ')}`,
        atProvider: { privileges: [...have].sort() },
        lateInitialized,
      };
    });
  }

  async create(mr: ManagedResource): Promise<{}> {
    const g = await this.resolve(mr);
    if (g.memberOf) {
      await this.server.queryAwaitingDependencies(`GRANT ${ident(g.memberOf)} TO ${ident(g.role)}${g.withOption === 'ADMIN' ? ' WITH ADMIN OPTION' : ''}`);
    } else {
      // GRANT is idempotent, so a retry after a crash converges.
      await this.server.queryAwaitingDependencies(`GRANT ${g.privileges.join(', ')} ON DATABASE ${ident(g.database!)} TO ${ident(g.role)}${g.withOption === 'GRANT' ? ' WITH GRANT OPTION' : ''}`);
    }
    return {};
  }

  async update(mr: ManagedResource): Promise<{}> {
    const g = await this.resolve(mr);
    if (g.memberOf) {
      await this.server.query(`REVOKE ${ident(g.memberOf)} FROM ${ident(g.role)}`);
    } else {
      await this.server.query(`REVOKE ALL ON DATABASE ${ident(g.database!)} FROM ${ident(g.role)}`);
    }
    await this.create(mr);
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    const g = await this.resolve(mr);
    try {
      if (g.memberOf) await this.server.query(`REVOKE ${ident(g.memberOf)} FROM ${ident(g.role)}`);
      else await this.server.queryRacingCatalog(`REVOKE ${g.privileges.join(', ')} ON DATABASE ${ident(g.database!)} FROM ${ident(g.role)}`);
    } catch (err) {
      // The role or database is already gone (42704 undefined_object, 3D000 invalid_catalog_name): so is the grant.
      const code = (err as Error & { cause?: { code?: string } }).cause?.code;
      if (code !== '42704' && code !== '3D000') throw err;
    }
  }

  private async resolve(mr: ManagedResource): Promise<ResolvedGrant> {
    const p = mr.spec.forProvider ?? {};
    const role = await resolveReference(mr, 'role', { apiVersion: GROUP, kind: 'Role' }, this.ctx);
    if (!role) throw new Error(`${mrLabel(mr)}: spec.forProvider.role (or roleRef, roleSelector) is required`);
    const memberOf = await resolveReference(mr, 'memberOf', { apiVersion: GROUP, kind: 'Role' }, this.ctx);
    const database = await resolveReference(mr, 'database', { apiVersion: GROUP, kind: 'Database' }, this.ctx);
    if (!memberOf && !database) throw new Error(`${mrLabel(mr)}: spec.forProvider needs database (with privileges) or memberOf`);
    const privileges = normalisePrivileges(p.privileges ?? []);
    if (!memberOf && !privileges.length) throw new Error(`${mrLabel(mr)}: spec.forProvider.privileges must list at least one privilege for a database grant`);
    const unknown = privileges.filter((x) => !DATABASE_PRIVILEGES.includes(x));
    if (!memberOf && unknown.length) throw new Error(`${mrLabel(mr)}: spec.forProvider.privileges: ${unknown.join(', ')} is not a database privilege (use ${[...DATABASE_PRIVILEGES, 'ALL'].join(', ')})`);
    return { role, database, memberOf, privileges, withOption: p.withOption };
  }
}

function normalisePrivileges(list: string[]): string[] {
  const out = new Set<string>();
  for (const raw of list) {
    const p = raw.toUpperCase().trim();
    if (p === 'ALL' || p === 'ALL PRIVILEGES') DATABASE_PRIVILEGES.forEach((x) => out.add(x));
    else out.add(p === 'TEMP' ? 'TEMPORARY' : p);
  }
  return [...out].sort();
}
