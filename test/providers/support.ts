import { connect as netConnect } from 'node:net';
import type { Client } from '../../src/api/client.js';
import { createLogger } from '../../src/api/log.js';
import type { ManagedResource, ProviderContext } from '../../src/controlplane/provider.js';

/**
 * Fails with a message naming the service when nothing listens on its port: tests that need a
 * real backend must not pass by skipping it.
 */
export async function requireService(name: string, port: number, host = '127.0.0.1'): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    const s = netConnect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
  if (!ok) throw new Error(`${name} is not reachable at ${host}:${port}; these tests need a real ${name} server`);
}

/** A ProviderContext over a client, reading Secrets as the managed reconciler does. */
export function providerContext(client: Client): ProviderContext {
  return {
    client,
    log: createLogger('silent'),
    async readSecretKey(ref) {
      const s = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ref.namespace, name: ref.name });
      const v = (s as { data?: Record<string, string> }).data?.[ref.key];
      if (v === undefined) throw new Error(`Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`);
      return Buffer.from(v, 'base64').toString('utf8');
    },
  };
}

/** A managed resource object as a user would write it. */
export function managed(apiVersion: string, kind: string, name: string, forProvider: Record<string, unknown>, extra: Record<string, unknown> = {}): ManagedResource {
  return { apiVersion, kind, metadata: { name, annotations: { 'crossplane.io/external-name': name } }, spec: { forProvider, providerConfigRef: { name: 'default' }, ...extra } };
}

/** A unique, lower-case name for objects a test creates on a shared server; `-` prefixes give DNS-safe names. */
export function uniqueName(prefix: string): string {
  return `${prefix}${prefix.includes('-') ? '-' : '_'}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export function secret(name: string, namespace: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
}
