import { join } from 'node:path';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { isApiError, ApiError } from '../../api/errors.js';
import type { Resource } from '../../api/types.js';
import { parseDuration } from '../../api/duration.js';
import { connect } from '../connection.js';
import { applyOrder, readManifests } from '../manifests.js';
import { common, fail, formatTable, message, resolveType } from '../output.js';

/** up, apply, get, delete: the commands that work on any type. */
export function registerCoreCommands(program: Command): void {
program
  .command('up')
  .description('start Pave: the API, the controllers and the web UI, on one port')
  .option('--port <port>', 'HTTP port', (v) => Number(v), 7007)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--data-dir <dir>', 'where Pave keeps its database, keys and kubeconfig', '.pave')
  .option('--postgres <url>', 'PostgreSQL for the `local` ProviderConfig (default: an embedded one in the data directory)')
  .option('--redis <url>', 'Redis server for cache users (redis://user:password@host:6379)')
  .option('--rabbitmq <url>', 'RabbitMQ broker for queues (amqp://user:password@host:5672)')
  .option('--nats <url>', 'NATS server with JetStream for streams (nats://host:4222)')
  .option('--dns-port <port>', 'port of the built-in DNS server, UDP and TCP', '5353')
  .option('--no-local-cloud', 'do not start the embedded PostgreSQL')
  .option('--no-starter-platform', 'do not load the starter platform on first start')
  .option('--event-ttl <duration>', 'how long Events are kept after they last happened (500ms, 30s, 10m, 1h30m)', '1h')
  .option('--allow-anonymous', 'serve requests without a token as the admin from other machines too (by default only this machine may omit it)')
  .action(async (o: { eventTtl: string; port: number; host: string; dataDir: string; postgres?: string; redis?: string; rabbitmq?: string; nats?: string; dnsPort: string; localCloud: boolean; starterPlatform: boolean; allowAnonymous?: boolean }) => {
    const { Platform } = await import('../../platform.js');
    const { isLoopbackHost } = await import('../../api/http/auth.js');
    const started = Date.now();
    const providerSettings = { postgres: o.postgres, redis: o.redis, rabbitmq: o.rabbitmq, nats: o.nats, 'dns-port': o.dnsPort, 'local-cloud': String(o.localCloud), 'starter-platform': String(o.starterPlatform) };
    const eventTtlMs = parseDuration(o.eventTtl);
    if (eventTtlMs === undefined) {
      process.stderr.write(`--event-ttl: "${o.eventTtl}" is not a duration (examples: 30s, 10m, 1h30m)\n`);
      process.exit(2);
    }
    // without the flag, only requests from this machine may omit the token
    const p = new Platform({ dataDir: o.dataDir, port: o.port, host: o.host, eventTtlMs, allowAnonymous: o.allowAnonymous || undefined, settings: { ...providerSettings } });
    const onNetwork = !isLoopbackHost(o.host);
    if (onNetwork && p.anonymous === 'anywhere') {
      process.stderr.write(`warning: --allow-anonymous on ${o.host}: anyone who can reach this address acts as the admin, without a token\n`);
    }
    await p.start();
    process.stdout.write(`Pave is up at ${p.url} (${Date.now() - started} ms)\n  kubectl: export KUBECONFIG=${p.kubeconfigPath()}\n`);
    if (onNetwork && p.anonymous !== 'anywhere') {
      process.stdout.write(`  requests from other machines need the token in ${join(p.dataDir, 'token')} (the web UI asks for it)\n`);
    }
    let stopping = false;
    const stop = async (sig: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`${sig}: stopping\n`);
      await p.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    // with its store gone Pave can only answer errors: better to end, so a supervisor restarts it
    p.onFatal((e) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`Pave cannot go on: ${e.message}\n`);
      setTimeout(() => process.exit(1), 5000).unref();
      void p.stop().catch(() => undefined).finally(() => process.exit(1));
    });
  });

common(program.command('apply'))
  .description('create or update objects from YAML or JSON files, directories or stdin (-)')
  .requiredOption('-f, --filename <path...>', 'files, directories or - for stdin')
  .option('--field-manager <name>', 'the field manager for server-side apply', 'pave-cli')
  .option('--dry-run', 'validate on the server without storing anything')
  .action(async (o: { filename: string[]; server?: string; dataDir: string; fieldManager: string; dryRun?: boolean }) => {
    const client = connect(o);
    let failed = 0;
    for (const m of applyOrder(readManifests(o.filename))) {
      const obj = m.object;
      const label = `${obj.kind.toLowerCase()}/${obj.metadata?.name ?? '(unnamed)'}`;
      try {
        let before: Resource | undefined;
        try {
          before = await client.get({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata?.namespace, name: obj.metadata.name! });
        } catch (e) {
          if (!isApiError(e, 404)) throw e;
        }
        const after = await client.apply(obj, { fieldManager: o.fieldManager, force: true, dryRun: o.dryRun });
        const verb = !before ? 'created' : before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured';
        process.stdout.write(`${label} ${verb}${o.dryRun ? ' (dry run)' : ''}\n`);
        if (obj.kind === 'CustomResourceDefinition') client.invalidate();
      } catch (e) {
        failed++;
        process.stderr.write(`error: ${m.source}: ${label}: ${message(e)}\n`);
      }
    }
    await client.close();
    if (failed) process.exitCode = 1;
  });

common(program.command('get'))
  .description('show objects of a type, or one object')
  .argument('<type>', 'a type: plural, singular, kind or short name, optionally .group')
  .argument('[name]', 'an object name')
  .option('-n, --namespace <ns>', 'namespace', 'default')
  .option('-A, --all-namespaces', 'objects in every namespace')
  .option('-l, --selector <selector>', 'label selector')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json', 'wide', 'name']))
  .action(async (typeName: string, name: string | undefined, o: { namespace: string; allNamespaces?: boolean; selector?: string; output?: string; server?: string; dataDir: string }) => {
    const client = connect(o);
    try {
      const t = await resolveType(client, typeName);
      const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
      const ns = t.namespaced && !o.allNamespaces ? o.namespace : undefined;
      if (o.output === 'yaml' || o.output === 'json' || o.output === 'name') {
        const items = name ? [await client.get({ apiVersion, kind: t.kind, namespace: ns, name })] : (await client.list(apiVersion, t.kind, { namespace: ns, labelSelector: o.selector })).items;
        if (o.output === 'name') for (const i of items) process.stdout.write(`${t.plural}/${i.metadata.name}\n`);
        else {
          const value = name ? items[0] : { apiVersion: 'v1', kind: 'List', items };
          process.stdout.write(o.output === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringify(value));
        }
      } else {
        const path = (await client.path(apiVersion, t.kind, ns, name)) + (o.selector ? `?labelSelector=${encodeURIComponent(o.selector)}` : '');
        const table = await client.call<{ columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: Resource }[] }>('GET', path, undefined, undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io');
        const cols = table.columnDefinitions.map((c, i) => ({ ...c, i })).filter((c) => o.output === 'wide' || c.priority === 0);
        const header = [...(o.allNamespaces && t.namespaced ? ['NAMESPACE'] : []), ...cols.map((c) => c.name.toUpperCase())];
        const rows = table.rows.map((r) => [...(o.allNamespaces && t.namespaced ? [r.object?.metadata?.namespace ?? ''] : []), ...cols.map((c) => String(r.cells[c.i] ?? ''))]);
        if (!rows.length) process.stderr.write(`No ${t.plural} found${ns ? ` in namespace ${ns}` : ''}.\n`);
        else process.stdout.write(formatTable([header, ...rows]));
      }
    } catch (e) {
      fail(e);
    } finally {
      await client.close();
    }
  });

common(program.command('delete'))
  .description('delete objects by type and name, or those in files')
  .argument('[type]', 'a type')
  .argument('[names...]', 'object names')
  .option('-n, --namespace <ns>', 'namespace', 'default')
  .option('-f, --filename <path...>', 'delete the objects described in these files')
  .addOption(new Option('--cascade <mode>', 'how dependents are handled').choices(['background', 'foreground', 'orphan']).default('background'))
  .action(async (typeName: string | undefined, names: string[], o: { namespace: string; filename?: string[]; cascade: string; server?: string; dataDir: string }) => {
    const client = connect(o);
    const propagationPolicy = (o.cascade[0]!.toUpperCase() + o.cascade.slice(1)) as 'Background';
    const refs: { apiVersion: string; kind: string; namespace?: string; name: string; label: string }[] = [];
    let failed = 0;
    try {
      if (o.filename) {
        for (const m of readManifests(o.filename).reverse()) refs.push({ apiVersion: m.object.apiVersion, kind: m.object.kind, namespace: m.object.metadata?.namespace ?? o.namespace, name: m.object.metadata.name!, label: `${m.object.kind.toLowerCase()}/${m.object.metadata.name}` });
      } else {
        if (!typeName || !names.length) throw new ApiError(400, 'BadRequest', 'give a type and at least one name, or -f FILE');
        const t = await resolveType(client, typeName);
        for (const n of names) refs.push({ apiVersion: t.group ? `${t.group}/${t.version}` : t.version, kind: t.kind, namespace: t.namespaced ? o.namespace : undefined, name: n, label: `${t.singular} "${n}"` });
      }
      for (const r of refs) {
        try {
          await client.delete(r, { propagationPolicy });
          process.stdout.write(`${r.label} deleted\n`);
        } catch (e) {
          failed++;
          process.stderr.write(`error: ${r.label}: ${message(e)}\n`);
        }
      }
    } catch (e) {
      fail(e);
    } finally {
      await client.close();
    }
    if (failed) process.exitCode = 1;
  });

}
