import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually, tempDir } from '../support/platform.js';
import { postgresClaim, postgresComposition, postgresXrd, startControlPlane, XR_API, yamlDocs } from './fixtures.js';
import { runPave as pave } from '../support/process.js';

const EXAMPLE = 'examples/functions/owner-labels';

function functionObject(name: string, module: string): Resource {
  return { apiVersion: 'pkg.crossplane.io/v1', kind: 'Function', metadata: { name, annotations: { 'pave.dev/module': module } }, spec: { package: `example.org/${name}:v0.1.0` } };
}

/** A function module that labels every composed resource with `team`, suffixed by `version`. */
function labelsModule(version: string): string {
  return `export default { name: 'function-team-label', run(req) {
    for (const r of Object.values(req.desired.resources)) r.resource.metadata = { ...(r.resource.metadata ?? {}), labels: { ...(r.resource.metadata?.labels ?? {}), team: req.input.team + '${version}' } };
    return { desired: req.desired, context: req.context };
  } };\n`;
}

/** The seed composition as a pipeline: patch-and-transform, then `step`, then auto-ready. */
function pipelineComposition(name: string, step: Record<string, unknown>): Resource {
  const comp = yamlDocs(postgresComposition(name))[0]!;
  return {
    ...comp,
    spec: {
      compositeTypeRef: comp.spec.compositeTypeRef,
      writeConnectionSecretsToNamespace: comp.spec.writeConnectionSecretsToNamespace,
      mode: 'Pipeline',
      pipeline: [
        { step: 'compose', functionRef: { name: 'function-patch-and-transform' }, input: { apiVersion: 'pt.fn.crossplane.io/v1beta1', kind: 'Resources', patchSets: comp.spec.patchSets, resources: comp.spec.resources } },
        step,
        { step: 'ready', functionRef: { name: 'function-auto-ready' } },
      ],
    },
  };
}

describe('composition functions loaded from modules', () => {
  it('renders the TypeScript example function, compiled by the build, as its README shows', () => {
    const r = pave(['render', `${EXAMPLE}/xr.yaml`, `${EXAMPLE}/composition.yaml`, `${EXAMPLE}/function.yaml`, '--include-function-results']);
    assert.equal(r.code, 0, r.err);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS());
    const database = docs.find((d) => d.kind === 'Database');
    assert.equal(database.metadata.labels['pave.dev/owner'], 'team-reports');
    const result = docs.find((d) => d.kind === 'Result');
    assert.deepEqual({ step: result.step, severity: result.severity, message: result.message }, { step: 'owner-labels', severity: 'SEVERITY_NORMAL', message: 'labelled 1 resource for team-reports' });
  });

  it('fails to render with the example function when the owner is missing, naming the annotation to set', () => {
    const dir = tempDir('pave-fn-');
    const xr = yamlDocs(readFileSync(`${EXAMPLE}/xr.yaml`, 'utf8'))[0]!;
    delete xr.metadata.annotations;
    writeFileSync(join(dir, 'xr.yaml'), JSON.stringify(xr));
    const r = pave(['render', join(dir, 'xr.yaml'), `${EXAMPLE}/composition.yaml`, `${EXAMPLE}/function.yaml`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /pipeline step "owner-labels": XPostgresDatabase reports-db-7xk2p has no pave\.dev\/owner annotation: set metadata\.annotations\[pave\.dev\/owner\] on the claim/);
  });

  it('refuses a module given as a URL, which would run code that is not on disk', () => {
    const dir = tempDir('pave-fn-');
    writeFileSync(join(dir, 'function.yaml'), JSON.stringify(functionObject('function-owner-labels', 'data:text/javascript,export default {run(){return {}}}')));
    const r = pave(['render', `${EXAMPLE}/xr.yaml`, `${EXAMPLE}/composition.yaml`, join(dir, 'function.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /pave\.dev\/module "data:text\/javascript,[^"]*" of Function "function-owner-labels" is a URL/);
  });

  describe('on a running control plane', () => {
    let cp: Awaited<ReturnType<typeof startControlPlane>>;
    const dir = tempDir('pave-fn-');
    const module = join(dir, 'team-label.mjs');
    const labelsOf = async (xrName: string) => (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items.map((r) => r.metadata.labels?.team);

    before(async () => {
      cp = await startControlPlane();
      writeFileSync(module, labelsModule(''));
      await cp.apply([
        ...yamlDocs(postgresXrd),
        functionObject('function-team-label', module),
        functionObject('function-missing', './not-there.mjs'),
        pipelineComposition('with-team-label', { step: 'team-label', functionRef: { name: 'function-team-label' }, input: { team: 'payments' } }),
        pipelineComposition('with-missing-module', { step: 'missing', functionRef: { name: 'function-missing' } }),
      ]);
      await eventually(() => cp.p.registry.lookup(XR_API, 'PostgreSQLInstance'));
    });
    after(async () => cp.p.close());

    it('composes with the module a Function object names, and picks up a change to its file', async () => {
      await cp.p.client.create(postgresClaim('labelled', 5, { compositionRef: { name: 'with-team-label' } }));
      const claim = await cp.waitReady(XR_API, 'PostgreSQLInstance', 'labelled', 'default');
      const xrName = claim.spec.resourceRef.name;
      assert.deepEqual(await labelsOf(xrName), ['payments', 'payments']);

      // a platform team edits its function: the next reconcile after the file changes uses it
      await new Promise((r) => setTimeout(r, 1100));
      writeFileSync(module, labelsModule('-v2'));
      const later = new Date(Date.now() + 2000);
      utimesSync(module, later, later);
      const current = await cp.p.client.get<Resource>({ apiVersion: XR_API, kind: 'PostgreSQLInstance', name: 'labelled', namespace: 'default' });
      await cp.p.client.update({ ...current, spec: { ...current.spec, parameters: { storageGB: 6 } } });
      await eventually(async () => (await labelsOf(xrName)).every((l) => l === 'payments-v2'), 15_000, 'labels from the changed module');
    });

    it('shows a module that is not there on the XR, naming the file and where relative paths start', async () => {
      await cp.p.client.create(postgresClaim('unlabelled', 5, { compositionRef: { name: 'with-missing-module' } }));
      const claim = await eventually(async () => {
        const c = await cp.get(XR_API, 'PostgreSQLInstance', 'unlabelled', 'default');
        return c?.spec?.resourceRef?.name ? c : undefined;
      });
      const synced = await eventually(async () => {
        const c = cp.condition(await cp.get(XR_API, 'XPostgreSQLInstance', claim.spec.resourceRef.name), 'Synced');
        return c?.status === 'False' ? c : undefined;
      });
      assert.match(synced.message, /pipeline step "missing" \(function function-missing\) failed: pave\.dev\/module "\.\/not-there\.mjs" of Function "function-missing": there is no file \S+\/not-there\.mjs \(a relative path is resolved from \S+, the directory Pave runs in\)/);
    });
  });
});
