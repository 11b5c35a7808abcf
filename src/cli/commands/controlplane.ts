import { existsSync, readFileSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parse, stringify } from 'yaml';
import { parseDuration } from '../../api/duration.js';
import { render, renderDocuments, validate } from '../../controlplane/offline.js';
import { traceDot, traceRows, traceTree } from '../../controlplane/trace.js';
import type { TypeInfo } from '../../api/client.js';
import type { HttpClient } from '../../api/http-client.js';
import { connect } from '../connection.js';
import { readManifests } from '../manifests.js';
import { common, formatTable, resolveType } from '../output.js';

interface RenderFlags {
  observedResources?: string;
  observed?: string;
  includeFullXr?: boolean;
  includeFunctionResults?: boolean;
  xrd?: string;
  definitions?: string[];
  extraResources?: string;
  functionCredentials?: string;
  contextValues?: string[];
  contextFiles?: string[];
  includeContext?: boolean;
  timeout: string;
  output: string;
}

/** Collects a repeated option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `KEY=VALUE` pairs of --context-values (VALUE is JSON, or else a string) and --context-files (VALUE names a JSON or YAML file). */
function renderContext(values: string[] = [], files: string[] = []): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  const split = (flag: string, pair: string): [string, string] => {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`${flag} ${pair}: expected KEY=VALUE`);
    return [pair.slice(0, i), pair.slice(i + 1)];
  };
  for (const pair of values) {
    const [k, v] = split('--context-values', pair);
    try {
      context[k] = JSON.parse(v);
    } catch {
      context[k] = v;
    }
  }
  for (const pair of files) {
    const [k, file] = split('--context-files', pair);
    context[k] = parse(readFileSync(file, 'utf8'));
  }
  return context;
}

/** render, trace, validate: the control plane's commands. */
export function registerControlPlaneCommands(program: Command): void {
  program
    .command('render')
    .description('render a composite resource with a composition offline: no server, no cluster, no containers')
    .argument('<xr>', 'file holding the composite resource (XR)')
    .argument('<composition>', 'file holding the Composition')
    .argument('[functions]', 'file or directory holding the Function objects the pipeline names')
    .option('-o, --observed-resources <path>', 'composed resources as they exist now: a file or a directory')
    .addOption(new Option('--observed <path>', 'the same as --observed-resources').hideHelp())
    .option('-x, --include-full-xr', "print the XR's spec and metadata too, not only its name and status")
    .option('-r, --include-function-results', 'print the results of the pipeline steps as objects of kind Result')
    .option('--xrd <path>', "the XRD of the XR, whose schema's defaults the XR gets")
    .option('--definitions <paths...>', 'XRDs and CRDs: the XR gets its defaults, and patches are checked against schemas')
    .option('-e, --extra-resources <path>', 'objects a function may ask for in its requirements: a file or a directory')
    .option('--function-credentials <path>', "Secrets that pipeline steps' credentials name: a file or a directory")
    .option('--context-values <key=json>', 'context the first step starts with; repeat for more keys, e.g. apiextensions.crossplane.io/environment=\'{"region":"eu"}\'', collect, [])
    .option('--context-files <key=file>', 'context the first step starts with, the value read from a JSON or YAML file; repeat for more keys', collect, [])
    .option('-c, --include-context', 'print the context the pipeline ended with, as an object of kind Context')
    .option('--timeout <duration>', 'how long the pipeline may run (30s, 1m)', '1m')
    .addOption(new Option('--output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .addHelpText(
      'after',
      `
Output is what crossplane render prints: each document after a "---", the XR first (only its
name and status unless --include-full-xr), then the composed resources sorted by their
composition resource name. Composed resources carry the names Pave will give them.
A fatal result prints nothing on standard output, the error on standard error, and exits 1.

Examples:
  pave render xr.yaml composition.yaml functions.yaml
  pave render xr.yaml composition.yaml functions.yaml --observed-resources=observed/
  pave render xr.yaml composition.yaml functions.yaml -x | pave validate schemas/ -`,
    )
    .action(async (xrFile: string, compFile: string, fnFile: string | undefined, o: RenderFlags) => {
      const one = (file: string, what: string) => {
        const objs = readManifests([file]).map((m) => m.object);
        if (objs.length !== 1) throw new Error(`${file}: expected exactly one ${what}, found ${objs.length} objects`);
        return objs[0]!;
      };
      const observedPath = o.observedResources ?? o.observed;
      // -o is --observed-resources, as in crossplane render: a Pave habit of "-o json" lands here
      if (observedPath && !existsSync(observedPath)) {
        throw new Error(`--observed-resources ${observedPath}: no such file or directory${['yaml', 'json'].includes(observedPath) ? ` (-o is --observed-resources, as in crossplane render; for ${observedPath} output use --output ${observedPath})` : ''}`);
      }
      const timeoutMs = parseDuration(o.timeout);
      if (timeoutMs === undefined) throw new Error(`--timeout: "${o.timeout}" is not a duration (examples: 30s, 1m, 1m30s)`);
      const composite = one(xrFile, 'composite resource');
      const composition = one(compFile, 'Composition');
      if (composition.kind !== 'Composition') throw new Error(`${compFile}: expected a Composition, found ${composition.kind}`);
      const ref = composition.spec?.compositeTypeRef ?? {};
      if (ref.kind !== composite.kind || ref.apiVersion !== composite.apiVersion) {
        throw new Error(`Composition ${composition.metadata.name}: spec.compositeTypeRef is ${ref.apiVersion}/${ref.kind}, but the XR in ${xrFile} is ${composite.apiVersion}/${composite.kind}`);
      }
      const functions = fnFile ? readManifests([fnFile]).map((m) => m.object) : [];
      const observed = observedPath ? readManifests([observedPath]).map((m) => m.object) : [];
      const definitions = readManifests([...(o.xrd ? [o.xrd] : []), ...(o.definitions ?? [])]).map((m) => m.object);
      // module paths resolve as they do for `pave up`: from the directory Pave runs in
      const extraResources = o.extraResources ? readManifests([o.extraResources]).map((m) => m.object) : [];
      const credentials = o.functionCredentials ? readManifests([o.functionCredentials]).map((m) => m.object) : [];
      const context = renderContext(o.contextValues, o.contextFiles);
      const rendering = render({ composite, composition, functions, observed, definitions, baseDir: process.cwd(), extraResources, credentials, context });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the pipeline did not finish within --timeout ${o.timeout}`)), timeoutMs);
      });
      const out = await Promise.race([rendering, timedOut]).finally(() => clearTimeout(timer));
      for (const e of out.events) process.stderr.write(`${e.type} ${e.reason}: ${e.message}\n`);
      if (out.fatal) {
        process.stderr.write(`error: ${out.fatal}\n`);
        process.exitCode = 1;
        return;
      }
      const docs = renderDocuments(out, { includeFullXr: o.includeFullXr, includeFunctionResults: o.includeFunctionResults, includeContext: o.includeContext });
      if (o.output === 'json') process.stdout.write(JSON.stringify(docs, null, 2) + '\n');
      // sorted keys, as Crossplane's serializer writes them, so the two outputs diff cleanly
      else process.stdout.write(docs.map((x) => `---\n${stringify(x, { sortMapEntries: true })}`).join(''));
    });

  common(program.command('trace'))
    .description('show a claim, composite or managed resource with what it composes, Synced, Ready and why, as crossplane beta trace does')
    .argument('<resource>', 'TYPE[.VERSION][.GROUP] followed by NAME, or TYPE[.VERSION][.GROUP]/NAME, e.g. postgresqlinstance/orders-db')
    .argument('[name]', 'the name, unless given in <resource>')
    .option('-n, --namespace <ns>', 'namespace of a namespaced resource such as a claim', 'default')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['default', 'wide', 'json', 'yaml', 'table', 'dot']).default('default'))
    .option('-s, --show-connection-secrets', 'show the Secrets claims and composite resources write their connection details to (not their values)')
    .addHelpText(
      'after',
      `
The default output shortens condition messages to their last 64 characters; -o wide shows them
whole and adds the RESOURCE column (the composition resource name). -o json and -o yaml print the
tree as {object, children, error}, as crossplane beta trace -o json does. -o dot prints a Graphviz
graph: pave trace ... -o dot | dot -Tsvg > trace.svg

Examples:
  pave trace postgresqlinstance orders-db -n team-a
  pave trace postgresqlinstance.database.example.org/orders-db -n team-a -o wide
  pave trace xpostgresqlinstance orders-db-7xk2p -s`,
    )
    .action(async (what: string, nameArg: string | undefined, o: { namespace: string; output: string; showConnectionSecrets?: boolean; server?: string; dataDir: string }) => {
      const parts = what.split('/');
      if (parts.length > 2 || !parts[0] || (parts.length === 2 && !parts[1])) throw new Error(`"${what}": give TYPE[.VERSION][.GROUP] NAME or TYPE[.VERSION][.GROUP]/NAME`);
      if (parts.length === 2 && nameArg) throw new Error(`"${what}" ${nameArg}: the name is given twice; give TYPE NAME or TYPE/NAME`);
      const name = parts[1] ?? nameArg;
      if (!name) throw new Error(`"${what}": which one? give its name: pave trace ${what} NAME`);
      const client = connect(o);
      const t = await resolveTraceType(client, parts[0]);
      const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
      const obj = await client.get({ apiVersion, kind: t.kind, name, namespace: t.namespaced ? o.namespace : undefined });
      const tree = await traceTree(client, obj, { connectionSecrets: o.showConnectionSecrets });
      if (o.output === 'json') process.stdout.write(JSON.stringify(tree, null, 2) + '\n');
      else if (o.output === 'yaml') process.stdout.write(stringify(tree));
      else if (o.output === 'dot') process.stdout.write(traceDot(tree));
      else process.stdout.write(formatTable(traceRows(tree, o.output === 'wide')));
    });

  program
    .command('validate')
    .description('check resources against the schemas of XRDs and CRDs (and Crossplane\'s own), offline, as crossplane beta validate does')
    .argument('<extensions>', 'XRDs and CRDs: a file, a directory or - for standard input')
    .argument('[resources...]', 'the resources to check: files, directories or - (default: the objects in <extensions> themselves)')
    .option('--skip-success-results', 'do not print a line for each valid resource')
    .option('--error-on-missing-schemas', 'exit 1 when a resource has no schema among the extensions')
    .addOption(new Option('--cache-dir <dir>', "accepted for crossplane beta validate's scripts; Pave downloads no packages").hideHelp())
    .addOption(new Option('--clean-cache', "accepted for crossplane beta validate's scripts; Pave downloads no packages").hideHelp())
    .addHelpText(
      'after',
      `
Each resource gets a line: "[✓] ... validated successfully", "[x] schema validation error ...
: field: problem", or "[!] could not find CRD/XRD for: ..."; then "Total N resources: M missing
schemas, S success cases, F failure cases". Exits 1 if a resource is invalid.
Compositions and XRDs among the resources are checked against Crossplane's own schemas and rules.
Packages (Provider, Configuration) are not downloaded: give their CRDs as extensions.

Examples:
  pave validate schemas/ resources/
  pave render xr.yaml composition.yaml functions.yaml -x | pave validate schemas/ -
  pave validate platform/            # the XRDs, compositions and claims in one directory`,
    )
    .action((extensionsPath: string, resourcePaths: string[], o: { skipSuccessResults?: boolean; errorOnMissingSchemas?: boolean }) => {
      const paths = [extensionsPath, ...resourcePaths];
      if (paths.filter((p) => p === '-').length > 1) throw new Error('standard input (-) can be read only once: give it for the extensions or for the resources');
      for (const p of paths) if (p !== '-' && (!existsSync(p) || !(statSync(p).isFile() || statSync(p).isDirectory()))) throw new Error(`${p}: no such file or directory`);
      const extensions = readManifests([extensionsPath]).map((m) => m.object);
      const resources = resourcePaths.length ? readManifests(resourcePaths).map((m) => m.object) : extensions;
      const { results, extensionProblems } = validate(resources, extensions);
      if (extensionProblems.length) throw new Error(`cannot use the extensions in ${extensionsPath}: ${extensionProblems.join('; ')}`);
      let missing = 0;
      let failures = 0;
      for (const r of results) {
        if (!r.problems) {
          missing++;
          process.stdout.write(`[!] could not find CRD/XRD for: ${r.gvk}\n`);
        } else if (r.problems.length) {
          failures++;
          for (const problem of r.problems) process.stdout.write(`[x] schema validation error ${r.gvk}, ${r.name} : ${problem}\n`);
        } else if (!o.skipSuccessResults) process.stdout.write(`[✓] ${r.gvk}, ${r.name} validated successfully\n`);
      }
      process.stdout.write(`Total ${results.length} resources: ${missing} missing schemas, ${results.length - missing - failures} success cases, ${failures} failure cases\n`);
      if (failures) {
        process.stderr.write('error: could not validate all resources\n');
        process.exitCode = 1;
      } else if (missing && o.errorOnMissingSchemas) {
        process.stderr.write('error: could not validate all resources, schema(s) missing\n');
        process.exitCode = 1;
      }
    });
}

/**
 * Resolves TYPE[.VERSION][.GROUP] as crossplane beta trace does: after the type, a segment
 * shaped like a Kubernetes version (v1, v1alpha1, v2beta3) picks that version of the group.
 */
async function resolveTraceType(client: HttpClient, typeName: string): Promise<TypeInfo> {
  const [bare, maybeVersion, ...rest] = typeName.split('.');
  if (maybeVersion && rest.length && /^v\d+((alpha|beta)\d+)?$/.test(maybeVersion)) {
    const t = await resolveType(client, [bare, ...rest].join('.'));
    const group = rest.join('.').toLowerCase();
    const hit = (await client.types()).find((x) => x.group === group && x.kind === t.kind && x.version === maybeVersion);
    if (!hit) throw new Error(`the server doesn't have version ${maybeVersion} of "${[bare, ...rest].join('.')}"`);
    return hit;
  }
  return resolveType(client, typeName);
}
