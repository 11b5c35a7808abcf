import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tempDir } from '../support/platform.js';
import { postgresComposition, postgresXrd } from './fixtures.js';
import { runPave as pave } from '../support/process.js';

/** `pave validate` as `crossplane beta validate EXTENSIONS RESOURCES` is used in scripts and CI. */

const claim = (name: string, storageGB: unknown) => `apiVersion: database.example.org/v1alpha1\nkind: PostgreSQLInstance\nmetadata: {name: ${name}, namespace: default}\nspec: {parameters: {storageGB: ${JSON.stringify(storageGB)}}}\n`;

describe('pave validate with the arguments and output of crossplane beta validate', () => {
  const dir = tempDir('pave-validate-');
  const f = (name: string) => join(dir, name);
  before(() => {
    mkdirSync(f('schemas'));
    writeFileSync(f('schemas/xrd.yaml'), postgresXrd);
    mkdirSync(f('resources'));
    writeFileSync(f('resources/good.yaml'), claim('ok', 5));
    writeFileSync(f('resources/composition.yaml'), postgresComposition());
    writeFileSync(f('bad.yaml'), claim('broken', 'five'));
    writeFileSync(f('xr.yaml'), 'apiVersion: database.example.org/v1alpha1\nkind: XPostgreSQLInstance\nmetadata: {name: x1}\nspec: {parameters: {storageGB: 3}}\n');
    writeFileSync(f('secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\n');
  });

  it('checks the resources against the extensions, one line each, and sums them up', () => {
    const r = pave(['validate', f('schemas'), f('resources')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n').sort(), [
      'Total 2 resources: 0 missing schemas, 2 success cases, 0 failure cases',
      '[✓] apiextensions.crossplane.io/v1, Kind=Composition, xpostgresqlinstances.nop.database.example.org validated successfully',
      '[✓] database.example.org/v1alpha1, Kind=PostgreSQLInstance, ok validated successfully',
    ]);
  });

  it('names the resource and field of a schema error, and exits 1', () => {
    const r = pave(['validate', f('schemas/xrd.yaml'), f('bad.yaml'), f('resources/good.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.out, /^\[x\] schema validation error database\.example\.org\/v1alpha1, Kind=PostgreSQLInstance, broken : spec\.parameters\.storageGB/m);
    assert.doesNotMatch(r.out, /\[x\].*, ok :/);
    assert.match(r.out, /^Total 2 resources: 0 missing schemas, 1 success cases, 1 failure cases$/m);
    assert.match(r.err, /could not validate all resources/);
  });

  it('reads the resources from standard input, as render output is piped in', () => {
    const rendered = pave(['render', f('xr.yaml'), f('resources/composition.yaml'), '-x']);
    assert.equal(rendered.code, 0, rendered.err);
    const out = rendered.out;
    const r = pave(['validate', f('schemas'), '-'], out);
    assert.match(r.out, /^\[✓\] database\.example\.org\/v1alpha1, Kind=XPostgreSQLInstance, x1 validated successfully$/m);
    assert.match(r.out, /^\[!\] could not find CRD\/XRD for: nop\.crossplane\.io\/v1alpha1, Kind=NopResource$/m);
    assert.match(r.out, /^Total 3 resources: 2 missing schemas, 1 success cases, 0 failure cases$/m);
    assert.equal(r.code, 0, r.err);
  });

  it('reads the extensions from standard input too, but not both', () => {
    const r = pave(['validate', '-', f('resources/good.yaml')], readFileSync(f('schemas/xrd.yaml'), 'utf8'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Total 1 resources: 0 missing schemas, 1 success cases/);
    const both = pave(['validate', '-', '-'], '');
    assert.equal(both.code, 1);
    assert.match(both.err, /standard input/);
  });

  it('leaves out success lines with --skip-success-results, and fails on missing schemas only when asked', () => {
    const quiet = pave(['validate', f('schemas'), f('resources'), f('secret.yaml'), '--skip-success-results']);
    assert.equal(quiet.code, 0, quiet.err);
    assert.deepEqual(quiet.out.trim().split('\n'), ['[!] could not find CRD/XRD for: /v1, Kind=Secret', 'Total 3 resources: 1 missing schemas, 2 success cases, 0 failure cases']);
    const strict = pave(['validate', f('schemas'), f('secret.yaml'), '--error-on-missing-schemas']);
    assert.equal(strict.code, 1);
    assert.match(strict.err, /schema\(s\) missing/);
  });

  it('with one path checks everything in it against the definitions in it', () => {
    writeFileSync(f('resources/bad.yaml'), claim('broken', 'five'));
    const r = pave(['validate', dir]);
    assert.equal(r.code, 1);
    assert.match(r.out, /\[✓\] apiextensions\.crossplane\.io\/v1, Kind=CompositeResourceDefinition, xpostgresqlinstances\.database\.example\.org validated successfully/);
    assert.match(r.out, /\[x\] schema validation error database\.example\.org\/v1alpha1, Kind=PostgreSQLInstance, broken : spec\.parameters\.storageGB/);
  });
});
