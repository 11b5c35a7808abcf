import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { NopBackend, nopProviderModule } from '../../src/providers/nop/index.js';
import { startPlatform, tempDir } from '../support/platform.js';
import { postgresClaim, postgresComposition, postgresXr, postgresXrd, XR_API, yamlDocs } from './fixtures.js';
import { runPave as pave } from '../support/process.js';

const xr = postgresXr;

/** The server runs in this process, so the CLI must not block its event loop. */
function paveAsync(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/pave.js', ...args], { encoding: 'utf8' }, (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }));
  });
}

describe('pave render, validate and trace', () => {
  const dir = tempDir('pave-cli-');
  before(() => {
    writeFileSync(join(dir, 'xrd.yaml'), postgresXrd);
    writeFileSync(join(dir, 'composition.yaml'), postgresComposition());
    writeFileSync(join(dir, 'xr.yaml'), xr);
  });

  it('renders a Resources-mode composition offline', () => {
    const r = pave(['render', join(dir, 'xr.yaml'), join(dir, 'composition.yaml'), '--definitions', join(dir, 'xrd.yaml')]);
    assert.equal(r.code, 0, r.err);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS());
    assert.equal(docs.length, 3);
    assert.equal(docs[0].kind, 'XPostgreSQLInstance');
    assert.equal(docs[0].status.conditions.find((c: { type: string }) => c.type === 'Ready').message, 'Unready resources: db, user');
    const db = docs.find((d) => d.metadata.annotations?.['crossplane.io/composition-resource-name'] === 'db');
    assert.deepEqual(db.spec.forProvider, { engine: 'postgres', version: '16', storageGB: 8, size: '8192Mi', team: 'team-a' });
    assert.equal(db.metadata.labels['crossplane.io/composite'], 'orders-db-abcde');
  });

  it('renders a pipeline with a TypeScript function loaded from a module, and reports its failure', () => {
    writeFileSync(
      join(dir, 'fn-labels.mjs'),
      `export default { name: 'function-add-labels', run(req) {
        const desired = structuredClone(req.desired);
        if (!req.input?.team) return { results: [{ severity: 'SEVERITY_FATAL', message: 'input.team is required' }] };
        for (const r of Object.values(desired.resources)) r.resource.metadata = { ...(r.resource.metadata ?? {}), labels: { team: req.input.team } };
        return { desired, context: req.context, results: [{ severity: 'SEVERITY_WARNING', message: 'labels added' }] };
      } };\n`,
    );
    writeFileSync(join(dir, 'functions.yaml'), `apiVersion: pkg.crossplane.io/v1\nkind: Function\nmetadata:\n  name: function-add-labels\n  annotations:\n    pave.dev/module: ${join(dir, 'fn-labels.mjs')}\nspec:\n  package: example.org/function-add-labels:v0.1.0\n---\napiVersion: pkg.crossplane.io/v1beta1\nkind: Function\nmetadata:\n  name: function-patch-and-transform\nspec:\n  package: xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.7.0\n`);
    const comp = yamlDocs(postgresComposition())[0]!;
    const pipeline = {
      ...comp,
      spec: {
        compositeTypeRef: comp.spec.compositeTypeRef,
        mode: 'Pipeline',
        pipeline: [
          { step: 'pt', functionRef: { name: 'function-patch-and-transform' }, input: { apiVersion: 'pt.fn.crossplane.io/v1beta1', kind: 'Resources', patchSets: comp.spec.patchSets, resources: comp.spec.resources } },
          { step: 'labels', functionRef: { name: 'function-add-labels' }, input: { team: 'payments' } },
        ],
      },
    };
    writeFileSync(join(dir, 'pipeline.yaml'), JSON.stringify(pipeline));
    const r = pave(['render', join(dir, 'xr.yaml'), join(dir, 'pipeline.yaml'), join(dir, 'functions.yaml')]);
    assert.equal(r.code, 0, r.err);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS());
    assert.deepEqual(docs.slice(1).map((d) => d.metadata.labels.team), ['payments', 'payments']);
    assert.match(r.err, /Warning .*pipeline step "labels": labels added/);

    pipeline.spec.pipeline[1]!.input = {} as { team: string };
    writeFileSync(join(dir, 'pipeline-bad.yaml'), JSON.stringify(pipeline));
    const bad = pave(['render', join(dir, 'xr.yaml'), join(dir, 'pipeline-bad.yaml'), join(dir, 'functions.yaml')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /pipeline step "labels": input.team is required/);
  });

  describe('trace against a running server', () => {
    let p: Awaited<ReturnType<typeof startPlatform>>;
    before(async () => {
      p = await startPlatform({ modules: [controlPlaneModule(), nopProviderModule({ backend: new NopBackend() })] });
      for (const o of [...yamlDocs(postgresXrd), ...yamlDocs(postgresComposition())]) await p.client.apply(o, { fieldManager: 'test', force: true });
      for (let i = 0; i < 100 && !p.registry.lookup(XR_API, 'PostgreSQLInstance'); i++) await new Promise((r) => setTimeout(r, 20));
      await p.client.create(postgresClaim('traced', 3));
      // no composition has this label: the XR stays Synced False with a long message
      await p.client.create(postgresClaim('stuck', 3, { compositionSelector: { matchLabels: { tier: 'none-such' } } }));
      await p.manager.settle(300);
    });
    after(async () => p.close());

    it('prints the claim → XR → composed tree with Synced and Ready', async () => {
      const r = await paveAsync(['trace', 'postgresqlinstance/traced', '-n', 'default', '--data-dir', p.dataDir]);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trim().split('\n');
      assert.match(lines[0]!, /^NAME\s+SYNCED\s+READY\s+STATUS/);
      assert.match(lines[1]!, /^PostgreSQLInstance\/traced \(default\)\s+True\s+True\s+Available/);
      assert.match(lines[2]!, /^└─ XPostgreSQLInstance\/traced-\w{5}\s+True\s+True/);
      assert.equal(lines.filter((l) => /NopResource\/traced-\w{5}-\w{5}\s+True\s+True\s+Available/.test(l)).length, 2);
    });

    it('takes TYPE NAME as two arguments, and TYPE.VERSION.GROUP, as crossplane beta trace does', async () => {
      const slash = await paveAsync(['trace', 'postgresqlinstance/traced', '-n', 'default', '--data-dir', p.dataDir]);
      for (const args of [['postgresqlinstance', 'traced'], ['PostgreSQLInstance.database.example.org', 'traced'], ['postgresqlinstances.v1alpha1.database.example.org/traced']]) {
        const r = await paveAsync(['trace', ...args, '-n', 'default', '--data-dir', p.dataDir]);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
        assert.equal(r.out, slash.out, args.join(' '));
      }
      const twice = await paveAsync(['trace', 'postgresqlinstance/traced', 'traced', '-n', 'default', '--data-dir', p.dataDir]);
      assert.equal(twice.code, 1);
      assert.match(twice.err, /the name is given twice/);
    });

    it('shortens a long condition message to its end, and shows it whole with -o wide next to the RESOURCE column', async () => {
      const r = await paveAsync(['trace', 'postgresqlinstance', 'stuck', '-n', 'default', '--data-dir', p.dataDir]);
      assert.equal(r.code, 0, r.err);
      const xrRow = r.out.split('\n').find((l) => l.includes('XPostgreSQLInstance/stuck-'));
      assert.match(xrRow ?? '', /\s+False\s+\S+\s+\w+: \.\.\..{64}$/);
      assert.doesNotMatch(xrRow ?? '', /cannot select Composition/);

      const wide = await paveAsync(['trace', 'postgresqlinstance', 'stuck', '-n', 'default', '-o', 'wide', '--data-dir', p.dataDir]);
      assert.equal(wide.code, 0, wide.err);
      assert.match(wide.out.split('\n')[0]!, /^NAME\s+RESOURCE\s+SYNCED\s+READY\s+STATUS$/);
      assert.match(wide.out, /XPostgreSQLInstance\/stuck-\w{5}\s+False\s+\S+\s+\w+: cannot select Composition: no compatible Compositions found: .*none-such/);

      const traced = await paveAsync(['trace', 'postgresqlinstance', 'traced', '-n', 'default', '-o', 'wide', '--data-dir', p.dataDir]);
      assert.deepEqual(traced.out.split('\n').map((l) => /NopResource\/\S+\s+(\S+)/.exec(l)?.[1]).filter(Boolean).sort(), ['db', 'user']);
    });

    it('prints the tree as {object, children} with -o json, for jq and tools written for crossplane beta trace', async () => {
      const r = await paveAsync(['trace', 'postgresqlinstance', 'traced', '-n', 'default', '-o', 'json', '--data-dir', p.dataDir]);
      assert.equal(r.code, 0, r.err);
      const tree = JSON.parse(r.out);
      assert.equal(tree.object.kind, 'PostgreSQLInstance');
      assert.equal(tree.object.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
      assert.equal(tree.children[0].object.kind, 'XPostgreSQLInstance');
      assert.deepEqual(tree.children[0].children.map((c: { object: { kind: string } }) => c.object.kind), ['NopResource', 'NopResource']);
    });

    it('draws the tree as a Graphviz digraph with -o dot, an unhealthy object in red', async () => {
      const r = await paveAsync(['trace', 'postgresqlinstance', 'traced', '-n', 'default', '-o', 'dot', '--data-dir', p.dataDir]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^digraph trace \{\n[\s\S]*\}\n$/);
      const nodes = new Map([...r.out.matchAll(/^ {2}(n\d+) \[label="([^"]*)"/gm)].map((m) => [m[1]!, m[2]!.split('\\n')[0]!]));
      const edges = [...r.out.matchAll(/^ {2}(n\d+) -> (n\d+);$/gm)].map((m) => `${nodes.get(m[1]!)!.split('/')[0]} -> ${nodes.get(m[2]!)!.split('/')[0]}`);
      assert.equal(nodes.size, 4);
      assert.deepEqual(edges.sort(), ['PostgreSQLInstance -> XPostgreSQLInstance', 'XPostgreSQLInstance -> NopResource', 'XPostgreSQLInstance -> NopResource']);
      assert.match(r.out, /label="PostgreSQLInstance\/traced\\nnamespace: default\\nSynced: True {2}Ready: True\\nAvailable", fillcolor=honeydew/);

      const stuck = await paveAsync(['trace', 'postgresqlinstance', 'stuck', '-n', 'default', '-o', 'dot', '--data-dir', p.dataDir]);
      assert.match(stuck.out, /label="XPostgreSQLInstance\/stuck-\w{5}\\nSynced: False  Ready: False\\nReconcileError: [^"]*none-such\)", fillcolor=mistyrose, color=red/);
    });

    it('shows the connection Secrets, with their namespace, with --show-connection-secrets', async () => {
      const plain = await paveAsync(['trace', 'postgresqlinstance', 'traced', '-n', 'default', '--data-dir', p.dataDir]);
      assert.doesNotMatch(plain.out, /Secret\//);
      for (const flag of ['-s', '--show-connection-secrets']) {
        const r = await paveAsync(['trace', 'postgresqlinstance', 'traced', '-n', 'default', flag, '--data-dir', p.dataDir]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^[├└]─ Secret\/traced-conn \(default\)\s+-\s+-/m, flag);
      }
    });

    it('lists managed resources with the columns Crossplane prints, the external name included', async () => {
      const r = await paveAsync(['get', 'nopresources', '--data-dir', p.dataDir]);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trim().split('\n');
      assert.match(lines[0]!, /^NAME\s+READY\s+SYNCED\s+EXTERNAL-NAME\s+AGE/);
      // the column's path escapes the annotation's dot: crossplane\.io/external-name
      const mrs = (await p.client.list('nop.crossplane.io/v1alpha1', 'NopResource')).items;
      for (const mr of mrs) {
        const row = lines.find((l) => l.startsWith(`${mr.metadata.name} `));
        assert.match(row ?? '', new RegExp(`^${mr.metadata.name}\\s+True\\s+True\\s+${mr.metadata.annotations!['crossplane.io/external-name']}\\s`));
      }
    });
  });
});
