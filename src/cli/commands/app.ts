import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ApiError } from '../../api/errors.js';
import type { HttpClient } from '../../api/http-client.js';
import type { Resource } from '../../api/types.js';
import { connect } from '../connection.js';
import { common, formatTable } from '../output.js';

const API = 'argoproj.io/v1alpha1';

type Opts = { server?: string; dataDir: string; namespace: string };

function ref(o: Opts, name: string) {
  return { apiVersion: API, kind: 'Application', namespace: o.namespace, name };
}

function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 12) : '';
}

function resourceName(r: { group?: string; kind: string; namespace?: string; name: string }): string {
  return `${r.group ? `${r.group}/` : ''}${r.kind}${r.namespace ? ` ${r.namespace}/` : ' '}${r.name}`;
}

/** Prints the sync's progress until its operation finishes; returns its final phase. */
async function follow(client: HttpClient, o: Opts, name: string, startedAfter: string): Promise<string> {
  const printed = new Set<string>();
  let lastMessage = '';
  for (;;) {
    const app = await client.get(ref(o, name));
    const op = app.status?.operationState;
    const current = op && op.startedAt >= startedAfter && !app.operation;
    if (op && (current || op.startedAt >= startedAfter)) {
      for (const r of op.syncResult?.resources ?? []) {
        const line = `${r.syncPhase ?? 'Sync'}  ${resourceName(r)}  ${r.status}${r.hookPhase ? ` (${r.hookPhase})` : ''}  ${r.message ?? ''}`;
        if (!printed.has(line)) {
          printed.add(line);
          process.stdout.write(`${line}\n`);
        }
      }
      if (op.message && op.message !== lastMessage) {
        lastMessage = op.message;
        process.stdout.write(`  … ${op.message}\n`);
      }
      if (current && op.phase !== 'Running') return op.phase;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** `pave app list|get|diff|sync|rollback|history`: Applications as `argocd app` shows them. */
export function registerAppCommands(program: Command): void {
  const app = program.command('app').description('GitOps Applications: status, diff, sync, history and rollback');
  const withNs = (c: Command) => common(c).option('-n, --namespace <ns>', 'the Applications namespace', 'argocd');

  withNs(app.command('list'))
    .description('list Applications with their sync and health status')
    .action(async (o: Opts) => {
      const client = connect(o);
      const list = await client.list(API, 'Application', { namespace: o.namespace });
      const rows = [['NAME', 'SYNC', 'HEALTH', 'REVISION', 'PROJECT', 'PATH']];
      for (const a of list.items) rows.push([a.metadata.name!, a.status?.sync?.status ?? 'Unknown', a.status?.health?.status ?? 'Unknown', short(a.status?.sync?.revision), a.spec?.project ?? 'default', a.spec?.source?.path ?? '']);
      process.stdout.write(formatTable(rows));
    });

  withNs(app.command('get <name>'))
    .description("show an Application's source, status, conditions and resources")
    .action(async (name: string, o: Opts) => {
      const a = await connect(o).get(ref(o, name));
      const s = a.status ?? {};
      const src = a.spec?.source ?? {};
      const lines = [
        `Name:        ${o.namespace}/${name}`,
        `Project:     ${a.spec?.project ?? 'default'}`,
        `Source:      ${src.repoURL} ${src.path ?? ''} @ ${src.targetRevision ?? 'HEAD'}`,
        `Destination: ${a.spec?.destination?.server ?? a.spec?.destination?.name} ${a.spec?.destination?.namespace ?? ''}`,
        `Sync:        ${s.sync?.status ?? 'Unknown'} to ${short(s.sync?.revision)}`,
        `Health:      ${s.health?.status ?? 'Unknown'}`,
        `Auto-sync:   ${a.spec?.syncPolicy?.automated ? `on (prune ${!!a.spec.syncPolicy.automated.prune}, self-heal ${!!a.spec.syncPolicy.automated.selfHeal})` : 'off'}`,
      ];
      if (s.operationState) lines.push(`Operation:   ${s.operationState.phase}: ${s.operationState.message ?? ''}`);
      for (const c of s.conditions ?? []) lines.push(`Condition:   ${c.type}: ${c.message}`);
      process.stdout.write(lines.join('\n') + '\n\n');
      const rows = [['KIND', 'NAMESPACE', 'NAME', 'STATUS', 'HEALTH']];
      for (const r of s.resources ?? []) rows.push([`${r.group ? `${r.group}/` : ''}${r.kind}`, r.namespace ?? '', r.name, r.requiresPruning ? 'OutOfSync (prune)' : r.status, r.health?.status ?? '']);
      process.stdout.write(formatTable(rows));
    });

  withNs(app.command('diff <name>'))
    .description('show how live objects differ from Git; exits 1 when they differ')
    .action(async (name: string, o: Opts) => {
      const a = await connect(o).get(ref(o, name));
      let differs = false;
      for (const r of a.status?.resources ?? []) {
        if (r.status === 'Synced') continue;
        differs = true;
        process.stdout.write(`===== ${resourceName(r)} ======\n`);
        if (r.requiresPruning) process.stdout.write('- (live only: would be pruned)\n');
        for (const c of r.diff ?? []) process.stdout.write(`  ${c.path || '(object)'}\n- ${stringify(c.live).trimEnd()}\n+ ${stringify(c.desired).trimEnd()}\n`);
      }
      if (differs) process.exitCode = 1;
    });

  withNs(app.command('sync <name>'))
    .description('sync an Application now and follow its progress')
    .option('--revision <rev>', 'sync to this revision instead of the target revision')
    .option('--prune', 'delete live objects that are no longer in Git')
    .option('--dry-run', 'show what would be applied without applying')
    .option('--async', 'start the sync and return without waiting')
    .action(async (name: string, o: Opts & { revision?: string; prune?: boolean; dryRun?: boolean; async?: boolean }) => {
      const client = connect(o);
      const started = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      await client.patch(ref(o, name), 'merge', { operation: { sync: { ...(o.revision ? { revision: o.revision } : {}), prune: !!o.prune, ...(o.dryRun ? { dryRun: true } : {}) }, initiatedBy: { username: process.env.USER ?? 'pave-cli' } } });
      if (o.async) return;
      const phase = await follow(client, o, name, started);
      process.stdout.write(`sync ${phase}\n`);
      if (phase !== 'Succeeded') process.exitCode = 1;
    });

  withNs(app.command('history <name>'))
    .description("list an Application's deployment history")
    .action(async (name: string, o: Opts) => {
      const a = await connect(o).get(ref(o, name));
      const rows = [['ID', 'DATE', 'REVISION', 'INITIATED BY']];
      for (const h of a.status?.history ?? []) rows.push([String(h.id), h.deployedAt, short(h.revision), h.initiatedBy?.username ?? (h.initiatedBy?.automated ? 'automated' : '')]);
      process.stdout.write(formatTable(rows));
    });

  withNs(app.command('rollback <name> [id]'))
    .description('sync to the revision of a history entry (default: the one before the current)')
    .action(async (name: string, id: string | undefined, o: Opts) => {
      const client = connect(o);
      const a: Resource = await client.get(ref(o, name));
      if (a.spec?.syncPolicy?.automated) throw new ApiError(409, 'Conflict', `Application ${name} has automated sync enabled; rollback would be undone by it (turn off spec.syncPolicy.automated first)`);
      const history: { id: number; revision: string }[] = a.status?.history ?? [];
      const entry = id !== undefined ? history.find((h) => String(h.id) === id) : history[history.length - 2];
      if (!entry) throw new ApiError(404, 'NotFound', id !== undefined ? `history entry ${id} not found for Application ${name}` : `Application ${name} has no earlier deployment to roll back to`);
      const started = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      await client.patch(ref(o, name), 'merge', { operation: { sync: { revision: entry.revision, prune: true }, initiatedBy: { username: process.env.USER ?? 'pave-cli' } } });
      const phase = await follow(client, o, name, started);
      process.stdout.write(`rollback to ${short(entry.revision)} (history ${entry.id}) ${phase}\n`);
      if (phase !== 'Succeeded') process.exitCode = 1;
    });
}
