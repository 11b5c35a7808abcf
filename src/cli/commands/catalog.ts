import type { Command } from 'commander';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { ApiError } from '../../api/errors.js';
import type { HttpClient } from '../../api/http-client.js';
import { connect } from '../connection.js';
import { common, fail, formatTable } from '../output.js';

interface Entity {
  kind: string;
  metadata: { name: string; namespace?: string; title?: string };
  spec?: { type?: string; owner?: string; lifecycle?: string };
}

/** The portal's REST APIs sit beside /k8s on the same server. */
async function portal<T>(client: HttpClient, method: string, path: string, body?: unknown): Promise<T> {
  return client.call<T>(method, `/..${path}`, body);
}

function ref(s: string): { kind: string; namespace: string; name: string } {
  const m = /^(?:([^:/]+):)?(?:([^/]+)\/)?(.+)$/.exec(s);
  if (!m?.[1]) throw new ApiError(400, 'BadRequest', `"${s}" is not an entity ref: use kind:[namespace/]name`);
  return { kind: m[1], namespace: m[2] ?? 'default', name: m[3]! };
}

function table(items: Entity[]): string {
  return formatTable([['KIND', 'NAMESPACE', 'NAME', 'TYPE', 'OWNER'], ...items.map((e) => [e.kind, e.metadata.namespace ?? 'default', e.metadata.name, e.spec?.type ?? '', e.spec?.owner ?? ''])]);
}

/** pave catalog get|query|register and pave create: the portal from the terminal. */
export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description('the software catalog');

  common(catalog.command('get'))
    .description('show one entity by ref (kind:[namespace/]name)')
    .argument('<ref>')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .action(async (r: string, o: { output: string; server?: string; dataDir: string }) => {
      const client = connect(o);
      try {
        const { kind, namespace, name } = ref(r);
        const e = await portal<Entity>(client, 'GET', `/api/catalog/entities/by-name/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);
        process.stdout.write(o.output === 'json' ? JSON.stringify(e, null, 2) + '\n' : stringify(e));
      } catch (e) {
        fail(e);
      } finally {
        await client.close();
      }
    });

  common(catalog.command('query'))
    .description('list entities matching filters (key=value, as in Backstage), optionally a search term')
    .option('-f, --filter <filter...>', 'e.g. kind=component,spec.type=service (several: any may match)')
    .option('-t, --text <term>', 'full-text search over names and titles')
    .option('--limit <n>', 'how many', (v) => Number(v), 50)
    .option('-o, --output <format>', 'table, yaml or json', 'table')
    .action(async (o: { filter?: string[]; text?: string; limit: number; output: string; server?: string; dataDir: string }) => {
      const client = connect(o);
      try {
        const q = new URLSearchParams();
        for (const f of o.filter ?? []) q.append('filter', f);
        if (o.text) q.set('fullTextFilterTerm', o.text);
        q.set('limit', String(o.limit));
        q.append('orderField', 'metadata.name,asc');
        const res = await portal<{ items: Entity[]; totalItems: number }>(client, 'GET', `/api/catalog/entities/by-query?${q}`);
        if (o.output === 'json') process.stdout.write(JSON.stringify(res.items, null, 2) + '\n');
        else if (o.output === 'yaml') process.stdout.write(stringify(res.items));
        else if (!res.items.length) process.stderr.write('No entities found.\n');
        else process.stdout.write(table(res.items) + (res.totalItems > res.items.length ? `(${res.items.length} of ${res.totalItems})\n` : ''));
      } catch (e) {
        fail(e);
      } finally {
        await client.close();
      }
    });

  common(catalog.command('register'))
    .description('register a catalog file (a local path or a URL) as a location')
    .argument('<target>')
    .option('--dry-run', 'show what would be ingested without registering')
    .action(async (target: string, o: { dryRun?: boolean; server?: string; dataDir: string }) => {
      const client = connect(o);
      try {
        const isUrl = /^https?:\/\//.test(target);
        const body = { type: isUrl ? 'url' : 'file', target: isUrl ? target : resolve(target) };
        const res = await portal<{ location: { id: string; type: string; target: string }; entities: Entity[] }>(client, 'POST', `/api/catalog/locations${o.dryRun ? '?dryRun=true' : ''}`, body);
        process.stdout.write(`location ${res.location.type}:${res.location.target} ${o.dryRun ? 'would be registered' : `registered (id ${res.location.id})`}\n`);
        if (res.entities.length) process.stdout.write(table(res.entities));
      } catch (e) {
        fail(e);
      } finally {
        await client.close();
      }
    });

  common(program.command('create'))
    .description('run a software template with parameters, following its log')
    .argument('<template>', 'template name or ref (template:[namespace/]name)')
    .option('--set <key=value...>', 'a parameter (repeatable); values that parse as JSON are used as such')
    .action(async (template: string, o: { set?: string[]; server?: string; dataDir: string }) => {
      const client = connect(o);
      try {
        const values: Record<string, unknown> = {};
        for (const kv of o.set ?? []) {
          const eq = kv.indexOf('=');
          if (eq <= 0) throw new ApiError(400, 'BadRequest', `--set ${kv}: use key=value`);
          const raw = kv.slice(eq + 1);
          let v: unknown = raw;
          try {
            v = JSON.parse(raw);
          } catch {
            // a plain string
          }
          values[kv.slice(0, eq)] = v;
        }
        const templateRef = template.includes(':') ? template : `template:default/${template}`;
        const { id } = await portal<{ id: string }>(client, 'POST', '/api/scaffolder/v2/tasks', { templateRef, values });
        process.stdout.write(`task ${id}\n`);
        let after = -1;
        for (;;) {
          const events = await portal<{ id: number; type: string; body: { message: string; stepId?: string; status?: string; output?: { links?: { title?: string; url?: string; entityRef?: string }[] } } }[]>(client, 'GET', `/api/scaffolder/v2/tasks/${id}/events${after >= 0 ? `?after=${after}` : ''}`);
          for (const e of events) {
            after = e.id;
            process.stdout.write(`${e.body.stepId ? `[${e.body.stepId}] ` : ''}${e.body.message}\n`);
            if (e.type === 'completion' || e.type === 'cancelled') {
              for (const l of e.body.output?.links ?? []) process.stdout.write(`  ${l.title ?? 'link'}: ${l.url ?? l.entityRef}\n`);
              if (e.body.status !== 'completed') process.exitCode = 1;
              return;
            }
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      } catch (e) {
        fail(e);
      } finally {
        await client.close();
      }
    });
}
