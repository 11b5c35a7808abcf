import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import type { ConnectionDetails, ExternalClient, ExternalObservation, ManagedResource, ProviderContext } from '../../../controlplane/provider.js';
import { externalName, generatePassword } from '../../managed-resource.js';
import { ident, literal, type PostgresServer } from './server.js';

interface RoleRow {
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
  rolpassword?: string | null;
}

/** spec.forProvider.privileges field → the pg_roles column and the CREATE ROLE keyword. */
const PRIVILEGES: [field: string, column: keyof RoleRow, keyword: string][] = [
  ['superUser', 'rolsuper', 'SUPERUSER'],
  ['inherit', 'rolinherit', 'INHERIT'],
  ['createRole', 'rolcreaterole', 'CREATEROLE'],
  ['createDb', 'rolcreatedb', 'CREATEDB'],
  ['login', 'rolcanlogin', 'LOGIN'],
  ['replication', 'rolreplication', 'REPLICATION'],
  ['bypassRls', 'rolbypassrls', 'BYPASSRLS'],
];

const COLUMNS = 'rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit';

/**
 * postgresql.sql.crossplane.io Role. Its connection secret carries `username`, `password`,
 * `endpoint` and `port` as provider-sql publishes them, plus `uri`, a ready-to-use URL to the
 * database named after the role (the starter platform names a claim's role and database alike).
 * With passwordSecretRef the password is checked against the server's SCRAM verifier when the
 * configured user may read it, so a password changed out of band is put back.
 */
export class RoleClient implements ExternalClient {
  constructor(
    private readonly server: PostgresServer,
    private readonly ctx: ProviderContext,
  ) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    return (await this.observeMany([mr]))[0]!;
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    const names = mrs.map(externalName);
    const rows = await this.selectRoles(names);
    const byName = new Map(rows.map((r) => [r.rolname, r]));
    return Promise.all(
      mrs.map(async (mr, i) => {
        const row = byName.get(names[i]!);
        if (!row) return { resourceExists: false, resourceUpToDate: false };
        const drift = privilegeDrift(mr, row);
        const wanted = await this.desiredPassword(mr);
        if (wanted !== undefined && typeof row.rolpassword === 'string' && !scramMatches(row.rolpassword, wanted)) drift.push('password differs from passwordSecretRef');
        return {
          resourceExists: true,
          resourceUpToDate: drift.length === 0,
          diff: drift.join('; ') || undefined,
          // No connection details: the password is known only at create and update, and
          // publishing the other keys alone would replace the secret that holds it.
          atProvider: { privilegesAsClauses: clauses(row).join(' ') },
        };
      }),
    );
  }

  async create(mr: ManagedResource): Promise<{ connectionDetails: ConnectionDetails }> {
    const name = externalName(mr);
    const password = (await this.desiredPassword(mr)) ?? generatePassword();
    const options = [...desiredClauses(mr), `PASSWORD ${literal(password)}`];
    try {
      await this.server.query(`CREATE ROLE ${ident(name)} WITH ${options.join(' ')}`);
    } catch (err) {
      // Retried after a crash: the role exists; make it match and take the password we return (42710 duplicate_object).
      if ((err as Error & { cause?: { code?: string } }).cause?.code !== '42710') throw err;
      await this.server.query(`ALTER ROLE ${ident(name)} WITH ${options.join(' ')}`);
    }
    return { connectionDetails: this.details(name, password) };
  }

  async update(mr: ManagedResource): Promise<{ connectionDetails?: ConnectionDetails }> {
    const name = externalName(mr);
    const password = await this.desiredPassword(mr);
    const options = [...desiredClauses(mr), ...(password !== undefined ? [`PASSWORD ${literal(password)}`] : [])];
    if (options.length) await this.server.query(`ALTER ROLE ${ident(name)} WITH ${options.join(' ')}`);
    return password !== undefined ? { connectionDetails: this.details(name, password) } : {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    // the database a role owns is usually deleted beside it; until that DROP ends, PostgreSQL refuses this one
    await this.server.queryRacingCatalog(`DROP ROLE IF EXISTS ${ident(externalName(mr))}`);
  }

  private async selectRoles(names: string[]): Promise<RoleRow[]> {
    if (this.server.canReadPasswords !== false) {
      try {
        const rows = await this.server.read<RoleRow>(`SELECT ${COLUMNS}, rolpassword FROM pg_authid WHERE rolname = ANY($1)`, [names]);
        this.server.canReadPasswords = true;
        return rows;
      } catch (err) {
        // 42501 insufficient_privilege: not a superuser; fall back to pg_roles, which hides passwords.
        if ((err as Error & { cause?: { code?: string } }).cause?.code !== '42501') throw err;
        this.server.canReadPasswords = false;
      }
    }
    return this.server.read<RoleRow>(`SELECT ${COLUMNS} FROM pg_roles WHERE rolname = ANY($1)`, [names]);
  }

  private async desiredPassword(mr: ManagedResource): Promise<string | undefined> {
    const ref = mr.spec.forProvider?.passwordSecretRef as { name: string; namespace: string; key: string } | undefined;
    return ref ? this.ctx.readSecretKey(ref) : undefined;
  }

  private details(username: string, password: string): ConnectionDetails {
    const { endpoint, port } = this.server.credentials;
    const uri = `postgresql://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${endpoint}:${port}/${encodeURIComponent(username)}`;
    return { username, password, endpoint, port: String(port), uri };
  }
}

function desiredClauses(mr: ManagedResource): string[] {
  const p = mr.spec.forProvider ?? {};
  const out: string[] = [];
  for (const [field, , keyword] of PRIVILEGES) {
    const v = p.privileges?.[field];
    if (v !== undefined) out.push(v ? keyword : `NO${keyword}`);
  }
  if (p.connectionLimit !== undefined) out.push(`CONNECTION LIMIT ${Number(p.connectionLimit)}`);
  return out;
}

function privilegeDrift(mr: ManagedResource, row: RoleRow): string[] {
  const p = mr.spec.forProvider ?? {};
  const drift: string[] = [];
  for (const [field, column, keyword] of PRIVILEGES) {
    const v = p.privileges?.[field];
    if (v !== undefined && v !== row[column]) drift.push(`${row[column] ? '' : 'NO'}${keyword}, want ${v ? '' : 'NO'}${keyword}`);
  }
  if (p.connectionLimit !== undefined && Number(p.connectionLimit) !== row.rolconnlimit) drift.push(`connection limit is ${row.rolconnlimit}, want ${p.connectionLimit}`);
  return drift;
}

function clauses(row: RoleRow): string[] {
  return [...PRIVILEGES.map(([, column, keyword]) => (row[column] ? keyword : `NO${keyword}`)), `CONNECTION LIMIT ${row.rolconnlimit}`];
}

/** True when `password` produces the stored SCRAM-SHA-256 verifier (RFC 5802 StoredKey). */
export function scramMatches(verifier: string, password: string): boolean {
  // PBKDF2 costs milliseconds; a poll over thousands of roles must not pay it every time.
  const memoKey = createHash('sha256').update(verifier).update('\0').update(password).digest('base64');
  const known = scramMemo.get(memoKey);
  if (known !== undefined) return known;
  const result = computeScramMatch(verifier, password);
  if (scramMemo.size > 10_000) scramMemo.delete(scramMemo.keys().next().value!);
  scramMemo.set(memoKey, result);
  return result;
}

const scramMemo = new Map<string, boolean>();

function computeScramMatch(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return true; // md5 or no password: nothing this provider can compare, so do not report drift
  const salted = pbkdf2Sync(password.normalize('NFKC'), Buffer.from(m[2]!, 'base64'), Number(m[1]), 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const expected = Buffer.from(m[3]!, 'base64');
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
}
