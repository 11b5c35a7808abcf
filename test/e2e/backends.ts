import pg from 'pg';

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

export const POSTGRES_ADMIN = process.env.PAVE_TEST_POSTGRES ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Fails with a message naming PostgreSQL when it is not running where the tests expect it. */
export async function requirePostgres(): Promise<void> {
  const c = new pg.Client({ connectionString: POSTGRES_ADMIN, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
  } catch (e) {
    throw new Error(`PostgreSQL is not reachable at ${POSTGRES_ADMIN.replace(/\/\/[^@]*@/, '//')}: ${(e as Error).message}`);
  } finally {
    await c.end().catch(() => {});
  }
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
