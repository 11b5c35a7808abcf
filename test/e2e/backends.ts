import pg from 'pg';
import type { Client } from '../../src/api/client.js';

/**
 * What the golden path needs besides the web UI, each checked through the API a user would
 * hit, so a failing run says which backend is missing instead of timing out in the browser.
 */
export async function missingForGoldenPath(baseUrl: string): Promise<string[]> {
  const missing: string[] = [];
  const served = async (path: string) => {
    const res = await fetch(`${baseUrl}${path}`);
    const text = await res.text();
    return !(res.status === 404 && /could not find the requested resource|is not served/.test(text));
  };
  if (!(await served('/api/catalog/entities/by-query?limit=1'))) missing.push('the catalog (GET /api/catalog/entities/by-query)');
  if (!(await served('/api/scaffolder/v2/tasks'))) missing.push('the scaffolder (GET /api/scaffolder/v2/tasks)');
  if (!(await served('/k8s/apis/argoproj.io/v1alpha1'))) missing.push('GitOps delivery (argoproj.io/v1alpha1 Applications)');
  if (!(await served('/k8s/apis/apiextensions.crossplane.io/v1'))) missing.push('the control plane (apiextensions.crossplane.io/v1 XRDs)');
  if (!(await served('/k8s/apis/postgresql.sql.crossplane.io/v1alpha1'))) missing.push('the SQL provider (postgresql.sql.crossplane.io Databases)');
  if (!(await served('/k8s/apis/git.pave.dev/v1alpha1'))) missing.push('the Git host (git.pave.dev/v1alpha1)');
  return missing;
}

/** A connection string from a connection secret: its own DSN/URI if it has one, else built from provider-sql's keys. */
export function dsnFromSecret(data: Record<string, string>, database?: string): string {
  const direct = data.dsn ?? data.uri ?? data.url ?? data.DATABASE_URL ?? data.connectionString;
  if (direct) return direct;
  const user = encodeURIComponent(data.username ?? data.user ?? 'postgres');
  const password = data.password ? `:${encodeURIComponent(data.password)}` : '';
  const host = data.endpoint ?? data.host ?? '127.0.0.1';
  return `postgresql://${user}${password}@${host}:${data.port ?? '5432'}/${encodeURIComponent(data.database ?? database ?? 'postgres')}`;
}

export async function canConnect(dsn: string): Promise<void> {
  const c = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * The superuser URL of the PostgreSQL server a provider-sql ProviderConfig points at, read the
 * way a user would: the ProviderConfig names a Secret holding endpoint, port, username and
 * password. With the local cloud that is the embedded server `pave up` started.
 */
export async function postgresAdminUrl(client: Client, providerConfig = 'local'): Promise<string> {
  const cfg = await client.get({ apiVersion: 'postgresql.sql.crossplane.io/v1alpha1', kind: 'ProviderConfig', name: providerConfig });
  const ref = cfg.spec?.credentials?.connectionSecretRef;
  if (!ref?.name) throw new Error(`ProviderConfig ${providerConfig} names no connection secret (spec.credentials.connectionSecretRef)`);
  const secret = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ref.namespace ?? 'crossplane-system', name: ref.name });
  const d = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
  return `postgresql://${encodeURIComponent(d('username') || 'postgres')}:${encodeURIComponent(d('password'))}@${d('endpoint') || '127.0.0.1'}:${d('port') || '5432'}/${encodeURIComponent(cfg.spec?.defaultDatabase ?? 'postgres')}`;
}
