import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { tempDir } from '../support/platform.js';
import { postgresComposition, postgresXr, postgresXrd } from './fixtures.js';
import { runPave as pave } from '../support/process.js';

/**
 * `pave render` as a Crossplane user drives it: the flags of `crossplane render`, and output
 * that can be compared with what `crossplane render` prints for the same files.
 */

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS());
const byTemplate = (objs: { metadata?: { annotations?: Record<string, string> } }[], name: string) => objs.find((o) => o.metadata?.annotations?.['crossplane.io/composition-resource-name'] === name) as any;

const xr = postgresXr;

/** A function that composes "zeta" before "alpha", reports a warning, and fails when asked to. */
const fnModule = `export default { name: 'function-two', run(req) {
  if (req.input?.fail) return { results: [{ severity: 'SEVERITY_FATAL', message: 'asked to fail' }] };
  const desired = structuredClone(req.desired);
  desired.resources.zeta = { resource: { apiVersion: 'nop.crossplane.io/v1alpha1', kind: 'NopResource', spec: { forProvider: { n: 'z' } } }, ready: 'READY_TRUE' };
  desired.resources.alpha = { resource: { apiVersion: 'nop.crossplane.io/v1alpha1', kind: 'NopResource', spec: { forProvider: { n: 'a' } } }, ready: 'READY_TRUE' };
  return { desired, context: req.context, results: [{ severity: 'SEVERITY_WARNING', message: 'zeta is experimental' }] };
} };
`;

const pipeline = (input: Record<string, unknown>) => `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: two}
spec:
  compositeTypeRef: {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance}
  mode: Pipeline
  pipeline:
  - step: two
    functionRef: {name: function-two}
    input: ${JSON.stringify(input)}
`;

describe('pave render with the flags and output of crossplane render', () => {
  const dir = tempDir('pave-render-');
  const f = (name: string) => join(dir, name);
  before(() => {
    writeFileSync(f('xr.yaml'), xr);
    writeFileSync(f('composition.yaml'), postgresComposition());
    writeFileSync(f('fn-two.mjs'), fnModule);
    writeFileSync(f('functions.yaml'), `apiVersion: pkg.crossplane.io/v1\nkind: Function\nmetadata:\n  name: function-two\n  annotations:\n    pave.dev/module: ${f('fn-two.mjs')}\nspec:\n  package: example.org/function-two:v0.1.0\n`);
    writeFileSync(f('two.yaml'), pipeline({}));
    writeFileSync(f('two-fails.yaml'), pipeline({ fail: true }));
    mkdirSync(f('observed'));
    writeFileSync(f('observed/db.yaml'), `apiVersion: nop.crossplane.io/v1alpha1\nkind: NopResource\nmetadata:\n  name: orders-db-existing\n  annotations:\n    crossplane.io/composition-resource-name: db\nspec: {forProvider: {}}\n`);
  });

  it('takes observed resources with -o and --observed-resources, from a file or a directory, keeping their names', () => {
    for (const args of [['-o', f('observed')], ['--observed-resources', f('observed/db.yaml')], [`--observed-resources=${f('observed')}`]]) {
      const r = pave(['render', f('xr.yaml'), f('composition.yaml'), ...args]);
      assert.equal(r.code, 0, r.err);
      assert.equal(byTemplate(docs(r.out), 'db')?.metadata.name, 'orders-db-existing', args.join(' '));
    }
  });

  it('prints only the name and status of the XR, and all of it with --include-full-xr', () => {
    const r = pave(['render', f('xr.yaml'), f('composition.yaml')]);
    assert.equal(r.code, 0, r.err);
    const shown = docs(r.out)[0];
    assert.deepEqual(Object.keys(shown).sort(), ['apiVersion', 'kind', 'metadata', 'status']);
    assert.deepEqual(shown.metadata, { name: 'orders-db-abcde' });
    assert.equal(shown.status.conditions.find((c: { type: string }) => c.type === 'Ready').message, 'Unready resources: db, user');

    for (const flag of ['-x', '--include-full-xr']) {
      const full = docs(pave(['render', f('xr.yaml'), f('composition.yaml'), flag]).out)[0];
      assert.deepEqual(full.spec.parameters, { storageGB: 8 }, flag);
      assert.equal(full.metadata.labels['crossplane.io/claim-namespace'], 'team-a', flag);
      assert.ok(full.status.conditions, flag);
    }
  });

  it('prints the same bytes for the same input: every document after "---", composed resources by name, fixed condition times', () => {
    const a = pave(['render', f('xr.yaml'), f('two.yaml'), f('functions.yaml')]);
    assert.equal(a.code, 0, a.err);
    assert.ok(a.out.startsWith('---\n'));
    assert.equal(a.out.split(/^---$/m).length - 1, 3);
    const objs = docs(a.out);
    assert.deepEqual(objs.slice(1).map((o) => o.metadata.annotations['crossplane.io/composition-resource-name']), ['alpha', 'zeta']);
    assert.deepEqual(objs[0].status.conditions.map((c: { lastTransitionTime: string }) => c.lastTransitionTime), ['2024-01-01T00:00:00Z']);
    assert.equal(pave(['render', f('xr.yaml'), f('two.yaml'), f('functions.yaml')]).out, a.out);
  });

  it('prints the steps\' results as Result objects with -r / --include-function-results', () => {
    const plain = pave(['render', f('xr.yaml'), f('two.yaml'), f('functions.yaml')]);
    assert.equal(docs(plain.out).filter((o) => o.kind === 'Result').length, 0);
    for (const flag of ['-r', '--include-function-results']) {
      const r = pave(['render', f('xr.yaml'), f('two.yaml'), f('functions.yaml'), flag]);
      assert.equal(r.code, 0, r.err);
      const results = docs(r.out).filter((o) => o.kind === 'Result');
      assert.deepEqual(results, [{ apiVersion: 'render.crossplane.io/v1beta1', kind: 'Result', step: 'two', severity: 'SEVERITY_WARNING', message: 'zeta is experimental' }], flag);
    }
  });

  it('on a fatal result prints nothing on standard output, the error on standard error, and exits 1', () => {
    const r = pave(['render', f('xr.yaml'), f('two-fails.yaml'), f('functions.yaml')]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /pipeline step "two": asked to fail/);
  });

  it('refuses a composition for another kind of XR, naming both', () => {
    writeFileSync(f('other.yaml'), pipeline({}).replace('kind: XPostgreSQLInstance', 'kind: XRedisCache'));
    const r = pave(['render', f('xr.yaml'), f('other.yaml'), f('functions.yaml')]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /Composition two: spec\.compositeTypeRef is database\.example\.org\/v1alpha1\/XRedisCache, but the XR .* is database\.example\.org\/v1alpha1\/XPostgreSQLInstance/);
  });

  it('fills in the defaults of the XRD given with --xrd, as the API server would', () => {
    writeFileSync(f('xrd.yaml'), postgresXrd.replace('                  environment:\n                    type: string', '                  environment:\n                    type: string\n                    default: dev'));
    const without = docs(pave(['render', f('xr.yaml'), f('composition.yaml'), '-x']).out)[0];
    assert.equal(without.spec.parameters.environment, undefined);
    const r = pave(['render', f('xr.yaml'), f('composition.yaml'), '-x', '--xrd', f('xrd.yaml')]);
    assert.equal(r.code, 0, r.err);
    const shown = docs(r.out)[0];
    assert.deepEqual(shown.spec.parameters, { storageGB: 8, environment: 'dev' });
    assert.equal(shown.spec.claimRef.name, 'orders-db');
  });

  it('points a Pave user typing -o json at --output', () => {
    const r = pave(['render', f('xr.yaml'), f('composition.yaml'), '-o', 'json']);
    assert.equal(r.code, 1);
    assert.match(r.err, /use --output json/);
    const json = pave(['render', f('xr.yaml'), f('composition.yaml'), '--output', 'json']);
    assert.equal(JSON.parse(json.out).length, 3);
  });
  it('gives two templates different names even when their hashed suffixes collide', () => {
    // for an XR named orders-db-abcde (no uid), these two template names hash to the same five characters
    const template = (name: string) => ({ name, base: { apiVersion: 'nop.crossplane.io/v1alpha1', kind: 'NopResource', spec: { forProvider: { bucket: name } } } });
    const comp = { apiVersion: 'apiextensions.crossplane.io/v1', kind: 'Composition', metadata: { name: 'buckets' }, spec: { compositeTypeRef: { apiVersion: 'database.example.org/v1alpha1', kind: 'XPostgreSQLInstance' }, resources: [template('bucket-18'), template('bucket-1665')] } };
    writeFileSync(f('buckets.yaml'), JSON.stringify(comp));
    const r = pave(['render', f('xr.yaml'), f('buckets.yaml')]);
    assert.equal(r.code, 0, r.err);
    const objs = docs(r.out);
    const names = ['bucket-18', 'bucket-1665'].map((t) => byTemplate(objs, t)?.metadata.name);
    assert.ok(names.every((n) => n?.startsWith('orders-db-abcde-')), String(names));
    assert.notEqual(names[0], names[1]);
    assert.deepEqual(names.map((n, i) => byTemplate(objs, ['bucket-18', 'bucket-1665'][i]!).spec.forProvider.bucket), ['bucket-18', 'bucket-1665']);
  });
  it("names a composed resource from its template's generateName, as Crossplane does", () => {
    const comp = { apiVersion: 'apiextensions.crossplane.io/v1', kind: 'Composition', metadata: { name: 'prefixed' }, spec: { compositeTypeRef: { apiVersion: 'database.example.org/v1alpha1', kind: 'XPostgreSQLInstance' }, resources: [
      { name: 'logs', base: { apiVersion: 'nop.crossplane.io/v1alpha1', kind: 'NopResource', metadata: { generateName: 'team-logs-' }, spec: { forProvider: {} } } },
      { name: 'data', base: { apiVersion: 'nop.crossplane.io/v1alpha1', kind: 'NopResource', spec: { forProvider: {} } } },
    ] } };
    writeFileSync(f('prefixed.yaml'), JSON.stringify(comp));
    const r = pave(['render', f('xr.yaml'), f('prefixed.yaml')]);
    assert.equal(r.code, 0, r.err);
    const objs = docs(r.out);
    assert.match(byTemplate(objs, 'logs').metadata.name, /^team-logs-[0-9a-f]{5}$/);
    assert.equal(byTemplate(objs, 'logs').metadata.generateName, undefined);
    assert.match(byTemplate(objs, 'data').metadata.name, /^orders-db-abcde-[0-9a-f]{5}$/);
  });
});
