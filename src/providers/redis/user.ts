import { createHash } from 'node:crypto';
import type { ConnectionDetails, ExternalClient, ExternalObservation, ManagedResource, ProviderContext } from '../../controlplane/provider.js';
import { externalName, generatePassword, mrLabel } from '../managed-resource.js';
import type { RedisServer } from './server.js';

/** What `ACL LIST` says about one user. */
interface AclUser {
  name: string;
  enabled: boolean;
  passwordHashes: string[];
  keys: string[];
  channels: string[];
}

/** The commands a user may run when the resource does not say: everything but the server-wide dangerous ones. */
export const DEFAULT_COMMANDS = ['+@all', '-@dangerous'];

/**
 * redis.pave.dev User: a Redis ACL user confined to the keys (and Pub/Sub channels) under a
 * prefix. One `ACL LIST` observes every user of a server, so a poll over thousands of users
 * costs the server one command. Drift the client repairs: the user deleted, disabled, or given
 * other key or channel patterns, or (with passwordSecretRef) another password.
 */
export class RedisUserClient implements ExternalClient {
  constructor(
    private readonly server: RedisServer,
    private readonly ctx: ProviderContext,
  ) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    return (await this.observeMany([mr]))[0]!;
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    const lines = (await this.server.call('ACL', 'LIST')) as string[];
    const users = new Map(lines.map(parseAclLine).map((u) => [u.name, u]));
    return Promise.all(
      mrs.map(async (mr) => {
        const u = users.get(externalName(mr));
        if (!u) return { resourceExists: false, resourceUpToDate: false };
        const want = desired(mr);
        const drift: string[] = [];
        if (u.enabled !== want.enabled) drift.push(`user is ${u.enabled ? 'on' : 'off'}`);
        if (!sameSet(u.keys, want.keys)) drift.push(`keys are ${u.keys.join(' ') || 'none'}, want ${want.keys.join(' ')}`);
        if (!sameSet(u.channels, want.channels)) drift.push(`channels are ${u.channels.join(' ') || 'none'}, want ${want.channels.join(' ')}`);
        const password = await this.desiredPassword(mr);
        if (password !== undefined && !u.passwordHashes.includes(sha256(password))) drift.push('password differs from passwordSecretRef');
        return {
          resourceExists: true,
          resourceUpToDate: drift.length === 0,
          diff: drift.join('; ') || undefined,
          // No connection details: the password is known only at create and update, and
          // publishing the other keys alone would replace the secret that holds it.
          atProvider: { enabled: u.enabled, keys: u.keys, channels: u.channels },
        };
      }),
    );
  }

  async create(mr: ManagedResource): Promise<{ connectionDetails: ConnectionDetails }> {
    const password = (await this.desiredPassword(mr)) ?? generatePassword();
    // `reset` makes the user exactly what the resource says, so a retry after a crash converges.
    await this.server.call('ACL', 'SETUSER', externalName(mr), 'reset', ...rules(mr), `>${password}`);
    return { connectionDetails: this.details(mr, password) };
  }

  async update(mr: ManagedResource): Promise<{ connectionDetails?: ConnectionDetails }> {
    const password = await this.desiredPassword(mr);
    // Without a password of its own the user keeps the generated one its connection secret holds.
    const pass = password !== undefined ? ['resetpass', `>${password}`] : [];
    await this.server.call('ACL', 'SETUSER', externalName(mr), 'resetkeys', 'resetchannels', '-@all', ...rules(mr), ...pass);
    return password !== undefined ? { connectionDetails: this.details(mr, password) } : {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    await this.server.call('ACL', 'DELUSER', externalName(mr));
  }

  private async desiredPassword(mr: ManagedResource): Promise<string | undefined> {
    const ref = mr.spec.forProvider?.passwordSecretRef as { name: string; namespace: string; key: string } | undefined;
    return ref ? this.ctx.readSecretKey(ref) : undefined;
  }

  private details(mr: ManagedResource, password: string): ConnectionDetails {
    const username = externalName(mr);
    const url = `redis://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${this.server.host}:${this.server.port}`;
    return { username, password, endpoint: this.server.host, port: String(this.server.port), keyPrefix: desired(mr).prefix, url };
  }
}

function desired(mr: ManagedResource): { prefix: string; enabled: boolean; keys: string[]; channels: string[]; commands: string[] } {
  const p = mr.spec.forProvider ?? {};
  const prefix: string = p.keyPrefix ?? `${mr.metadata.name}:`;
  if (/[\s*?[\]]/.test(prefix)) throw new Error(`${mrLabel(mr)}: spec.forProvider.keyPrefix "${prefix}" must not contain spaces or glob characters`);
  return {
    prefix,
    enabled: p.enabled ?? true,
    keys: [`~${prefix}*`],
    channels: p.channels === false ? [] : [`&${prefix}*`],
    commands: p.commands?.length ? p.commands : DEFAULT_COMMANDS,
  };
}

function rules(mr: ManagedResource): string[] {
  const d = desired(mr);
  for (const c of d.commands) if (!/^[+-]@?[a-z|_-]+$/i.test(c)) throw new Error(`${mrLabel(mr)}: spec.forProvider.commands: "${c}" is not a command rule (+command, -command, +@category or -@category)`);
  return [d.enabled ? 'on' : 'off', ...d.keys, ...d.channels, ...d.commands];
}

/** Parses one line of `ACL LIST`: `user NAME on|off [#hash|nopass] ~pattern &pattern +@cat ...`. */
export function parseAclLine(line: string): AclUser {
  const tokens = line.split(' ');
  const u: AclUser = { name: tokens[1] ?? '', enabled: false, passwordHashes: [], keys: [], channels: [] };
  for (const t of tokens.slice(2)) {
    if (t === 'on') u.enabled = true;
    else if (t.startsWith('#')) u.passwordHashes.push(t.slice(1));
    else if (t.startsWith('~') || t.startsWith('%')) u.keys.push(t);
    else if (t === 'allkeys') u.keys.push('~*');
    else if (t.startsWith('&')) u.channels.push(t);
    else if (t === 'allchannels') u.channels.push('&*');
  }
  return u;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
