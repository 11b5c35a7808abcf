/**
 * Pave's providers and the services they need, as one platform module: provider-sql
 * (PostgreSQL, MySQL/MariaDB), Redis, RabbitMQ, NATS and DNS records; the built-in DNS server; and, when
 * `pave up` asks for it, the local cloud (embedded PostgreSQL plus `local` ProviderConfigs for
 * the servers given on the command line) and the starter platform. Each is offered under a
 * package name that Crossplane `Provider` objects may name; so is provider-nop, a test
 * provider that is started only when a Provider object names it.
 *
 * Settings (from `pave up` flags): `dns-port` (default 5353, 0 for any free port), `dns-host`,
 * `postgres`, `redis`, `rabbitmq`, `nats` (server URLs), `local-cloud` ('true' starts the
 * embedded PostgreSQL when no `postgres` URL is given), `starter-platform` ('true' for the
 * starter platform shipped in examples/platform, or a directory of the same layout; loaded on
 * the first start).
 */
import { join } from 'node:path';
import { registerProvider, registerProviderPackage } from '../controlplane/index.js';
import { DnsServer } from '../dns/server.js';
import type { Platform, PlatformModule } from '../platform.js';
import { dnsProvider } from './dns/index.js';
import { applyLocalProviderConfigs, LocalPostgres } from './local-cloud.js';
import { natsProvider } from './nats/index.js';
import { NopBackend, nopProvider } from './nop/index.js';
import { rabbitmqProvider } from './rabbitmq/index.js';
import { redisProvider } from './redis/index.js';
import { sqlProviders } from './sql/index.js';
import type { PostgresServers } from './sql/postgresql/server.js';
import { loadStarterPlatform, STARTER_PLATFORM_DIR } from './starter.js';

/** What the providers module started, for tests and benchmarks that reach past the API. */
export interface ProvidersRuntime {
  dns: DnsServer;
  localPostgres?: LocalPostgres;
  /** Settles once the local cloud is up and its ProviderConfigs are applied (or failed to). */
  backendsReady: Promise<void>;
  /** The PostgreSQL servers provider-sql talks to (their statement counters). */
  postgres: PostgresServers;
}

const runtimes = new WeakMap<Platform, ProvidersRuntime>();

/** The DNS server and local PostgreSQL of a platform running the providers module. */
export function providersRuntime(p: Platform): ProvidersRuntime | undefined {
  return runtimes.get(p);
}

export function providersModule(): PlatformModule {
  const sql = sqlProviders();
  const others = [redisProvider(), rabbitmqProvider(), natsProvider()];
  let dns: DnsServer | undefined;
  let localPostgres: LocalPostgres | undefined;
  let backends: Promise<void> = Promise.resolve();
  return {
    name: 'providers',
    async install(p) {
      const s = p.opts.settings ?? {};
      dns = new DnsServer({ port: s['dns-port'] !== undefined ? Number(s['dns-port']) : 5353, host: s['dns-host'], log: p.log.child({ component: 'dns' }) });
      runtimes.set(p, { dns, postgres: sql.postgres, backendsReady: Promise.resolve() });
      for (const provider of [...sql.providers, ...others, dnsProvider(dns.zone)]) await registerProvider(p, provider);
      registerProviderPackage(p, { name: 'provider-sql', active: true, description: 'PostgreSQL and MySQL, postgresql.sql.crossplane.io and mysql.sql.crossplane.io' });
      registerProviderPackage(p, { name: 'provider-redis', active: true, description: 'Redis ACL users, redis.pave.dev' });
      registerProviderPackage(p, { name: 'provider-rabbitmq', active: true, description: 'RabbitMQ, rabbitmq.pave.dev' });
      registerProviderPackage(p, { name: 'provider-nats', active: true, description: 'NATS JetStream, nats.pave.dev' });
      registerProviderPackage(p, { name: 'provider-dns', active: true, description: "records on Pave's DNS server, dns.pave.dev" });
      // the imaginary external resources of the test provider outlive a restart, as real ones would
      registerProviderPackage(p, {
        name: 'provider-nop',
        active: false,
        description: 'test provider, nop.crossplane.io',
        provider: () => nopProvider({ backend: new NopBackend({ statePath: join(p.dataDir, 'provider-nop.jsonl') }) }),
      });
    },
    async start(p) {
      const s = p.opts.settings ?? {};
      try {
        await dns!.start();
      } catch (err) {
        // Another process may hold the port (mDNS uses 5353 too): the rest of Pave still works.
        p.log.warn({ err: (err as Error).message, port: s['dns-port'] ?? 5353 }, 'built-in DNS server could not listen; Records are kept but not answered');
      }
      // The API is ready before the embedded PostgreSQL is: it starts in the background, and
      // claims made meanwhile wait for the `local` ProviderConfig like any missing config.
      backends = (async () => {
        let postgres = s.postgres ? parseUrl(s.postgres, '--postgres') : undefined;
        if (!postgres && s['local-cloud'] === 'true') {
          localPostgres = new LocalPostgres(p.dataDir, p.log.child({ component: 'local-postgres' }));
          await localPostgres.start();
          runtimes.get(p)!.localPostgres = localPostgres;
          postgres = new URL(`postgresql://postgres:${encodeURIComponent(localPostgres.password)}@127.0.0.1:${localPostgres.port}/postgres`);
        }
        const configured = await applyLocalProviderConfigs(p, { postgres, redis: s.redis, rabbitmq: s.rabbitmq, nats: s.nats });
        if (configured.length) p.log.info({ backends: configured }, 'local ProviderConfigs applied');
      })();
      backends.catch((err) => p.log.error({ err: (err as Error).message }, 'the local cloud did not start; claims that need it will wait'));
      runtimes.get(p)!.backendsReady = backends.catch(() => undefined);
      const starter = s['starter-platform'];
      if (starter && starter !== 'false') await loadStarterPlatform(p, starter === 'true' ? STARTER_PLATFORM_DIR : starter);
    },
    async stop() {
      await backends.catch(() => undefined);
      await dns?.stop();
      await Promise.all([sql.close(), ...others.map((o) => o.close())]);
      await localPostgres?.stop();
    },
  };
}

function parseUrl(value: string, flag: string): URL {
  try {
    return new URL(value);
  } catch {
    // the value is not echoed: it may hold a password
    throw new Error(`${flag} is not a URL (like postgresql://user:password@host:5432/postgres)`);
  }
}
