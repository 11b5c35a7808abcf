import { existsSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { render, validate } from '../../controlplane/offline.js';
import { traceRows, traceTree } from '../../controlplane/trace.js';
import { connect } from '../connection.js';
import { readManifests } from '../manifests.js';
import { common, formatTable, resolveType } from '../output.js';

/** render, trace, validate: the control plane's commands. */
export function registerControlPlaneCommands(program: Command): void {
  program
    .command('render')
    .description('render a composite resource with a composition offline: no server, no cluster, no containers')
    .argument('<xr>', 'file holding the composite resource (XR)')
    .argument('<composition>', 'file holding the Composition')
    .argument('[functions]', 'file holding the Function objects the pipeline names')
    .option('--observed <dir>', 'composed resources as they exist now (files or a directory)')
    .option('--definitions <paths...>', 'XRDs and CRDs, so that patches are checked against schemas')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(async (xrFile: string, compFile: string, fnFile: string | undefined, o: { observed?: string; definitions?: string[]; output: string }) => {
      const one = (file: string, what: string) => {
        const objs = readManifests([file]).map((m) => m.object);
        if (objs.length !== 1) throw new Error(`${file}: expected exactly one ${what}, found ${objs.length} objects`);
        return objs[0]!;
      };
      const composition = one(compFile, 'Composition');
      if (composition.kind !== 'Composition') throw new Error(`${compFile}: expected a Composition, found ${composition.kind}`);
      const functions = fnFile ? readManifests([fnFile]).map((m) => m.object) : [];
      const observed = o.observed ? readManifests([o.observed]).map((m) => m.object) : [];
      const definitions = o.definitions ? readManifests(o.definitions).map((m) => m.object) : [];
      // module paths resolve as they do for `pave up`: from the directory Pave runs in
      const out = await render({ composite: one(xrFile, 'composite resource'), composition, functions, observed, definitions, baseDir: process.cwd() });
      for (const e of out.events) process.stderr.write(`${e.type} ${e.reason}: ${e.message}\n`);
      if (o.output === 'json') process.stdout.write(JSON.stringify(out.objects, null, 2) + '\n');
      else process.stdout.write(out.objects.map((x) => stringify(x)).join('---\n'));
      if (out.fatal) {
        process.stderr.write(`error: ${out.fatal}\n`);
        process.exitCode = 1;
      }
    });

  common(program.command('trace'))
    .description('show a claim or composite resource, its composite and composed resources, with Synced, Ready and why')
    .argument('<resource>', 'KIND/NAME, e.g. postgresqlinstance/orders-db')
    .option('-n, --namespace <ns>', 'namespace of a claim', 'default')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (what: string, o: { namespace: string; output: string; server?: string; dataDir: string }) => {
      const [typeName, name] = what.split('/');
      if (!typeName || !name) throw new Error(`expected KIND/NAME, got "${what}"`);
      const client = connect(o);
      const t = await resolveType(client, typeName);
      const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
      const obj = await client.get({ apiVersion, kind: t.kind, name, namespace: t.namespaced ? o.namespace : undefined });
      const tree = await traceTree(client, obj);
      if (o.output === 'json') process.stdout.write(JSON.stringify(tree, null, 2) + '\n');
      else process.stdout.write(formatTable(traceRows(tree)));
    });

  program
    .command('validate')
    .description('check objects against the schemas of the XRDs and CRDs among them (and Crossplane\'s own), offline')
    .argument('<paths...>', 'files or directories of YAML or JSON')
    .action((paths: string[]) => {
      for (const p of paths) if (!existsSync(p) || !(statSync(p).isFile() || statSync(p).isDirectory())) throw new Error(`${p}: no such file or directory`);
      const manifests = readManifests(paths);
      const source = new Map(manifests.map((m) => [m.object, m.source]));
      const result = validate(manifests.map((m) => m.object));
      for (const bad of result.invalid) {
        const src = manifests.find((m) => `${m.object.kind} ${m.object.metadata?.namespace ? `${m.object.metadata.namespace}/` : ''}${m.object.metadata?.name ?? '(unnamed)'}` === bad.object);
        for (const problem of bad.problems) process.stdout.write(`${src ? `${source.get(src.object)}: ` : ''}${bad.object}: ${problem}\n`);
      }
      for (const s of result.skipped) process.stdout.write(`skipped ${s}: no schema for its kind in these files\n`);
      process.stdout.write(`${result.valid} valid, ${result.invalid.length} invalid, ${result.skipped.length} skipped\n`);
      if (result.invalid.length) process.exitCode = 1;
    });
}
