import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getFieldPath, parseFieldPath, setFieldPath } from '../../src/controlplane/fieldpath.js';
import { applyPatch, expandPatchSets } from '../../src/controlplane/composition/patches.js';
import { isReady } from '../../src/controlplane/composition/readiness.js';
import { extractConnectionDetails } from '../../src/controlplane/composition/connection.js';
import { applyTransforms, goFormat, parseQuantity } from '../../src/controlplane/composition/transforms.js';

describe('field paths', () => {
  it('parses dotted, indexed and bracketed keys', () => {
    assert.deepEqual(parseFieldPath('metadata.labels[crossplane.io/claim-name]'), ['metadata', 'labels', 'crossplane.io/claim-name']);
    assert.deepEqual(parseFieldPath('spec.items[2].name'), ['spec', 'items', 2, 'name']);
    assert.deepEqual(parseFieldPath(`metadata.annotations["a.b/c"]`), ['metadata', 'annotations', 'a.b/c']);
  });
  it('sets through missing objects and arrays, refuses to cross a scalar', () => {
    const o: Record<string, any> = { spec: { size: 1 } };
    setFieldPath(o, 'spec.items[1].name', 'x');
    assert.equal(getFieldPath(o, 'spec.items[1].name'), 'x');
    assert.throws(() => setFieldPath(o, 'spec.size.unit', 'Gi'), /spec\.size is number/);
  });
});

describe('transforms', () => {
  it('map, match, math, string and convert', () => {
    assert.equal(applyTransforms('eu', [{ type: 'map', map: { eu: 'europe-west1' } }]), 'europe-west1');
    assert.throws(() => applyTransforms('us', [{ type: 'map', map: { eu: 'x' } }]), /transform 0 \(map\): key "us" is not found/);
    const match = { type: 'match' as const, match: { patterns: [{ type: 'regexp' as const, regexp: '^prod', result: 3 }], fallbackValue: 1 } };
    assert.equal(applyTransforms('production', [match]), 3);
    assert.equal(applyTransforms('dev', [match]), 1);
    assert.equal(applyTransforms('dev', [{ type: 'match', match: { patterns: [], fallbackTo: 'Input' } }]), 'dev');
    assert.equal(applyTransforms(10, [{ type: 'math', math: { type: 'Multiply', multiply: 1024 } }]), 10240);
    assert.equal(applyTransforms(1, [{ type: 'math', math: { type: 'ClampMin', clampMin: 5 } }]), 5);
    assert.equal(applyTransforms(9, [{ type: 'math', math: { type: 'ClampMax', clampMax: 5 } }]), 5);
    assert.throws(() => applyTransforms('ten', [{ type: 'math', math: { multiply: 2 } }]), /input must be a number, got a string/);
    assert.equal(applyTransforms('db', [{ type: 'string', string: { fmt: 'pg-%s-01' } }]), 'pg-db-01');
    assert.equal(applyTransforms('Db', [{ type: 'string', string: { type: 'Convert', convert: 'ToUpper' } }]), 'DB');
    assert.equal(applyTransforms('hi', [{ type: 'string', string: { type: 'Convert', convert: 'ToBase64' } }, { type: 'string', string: { type: 'Convert', convert: 'FromBase64' } }]), 'hi');
    assert.equal(applyTransforms('abc', [{ type: 'string', string: { type: 'Convert', convert: 'ToSha256' } }]), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(applyTransforms('abc', [{ type: 'string', string: { type: 'Convert', convert: 'ToAdler32' } }]), '38600999');
    assert.equal(applyTransforms('prefix-name', [{ type: 'string', string: { type: 'TrimPrefix', trim: 'prefix-' } }]), 'name');
    assert.equal(applyTransforms('name.example.com', [{ type: 'string', string: { type: 'TrimSuffix', trim: '.example.com' } }]), 'name');
    assert.equal(applyTransforms('arn:aws:iam::123:role/x', [{ type: 'string', string: { type: 'Regexp', regexp: { match: 'iam::(\\d+):', group: 1 } } }]), '123');
    assert.equal(applyTransforms(['a', 'b'], [{ type: 'string', string: { type: 'Join', join: { separator: ',' } } }]), 'a,b');
    assert.equal(applyTransforms('10Gi', [{ type: 'convert', convert: { toType: 'float64', format: 'quantity' } }]), 10 * 2 ** 30);
    assert.equal(applyTransforms('500m', [{ type: 'convert', convert: { toType: 'float64', format: 'quantity' } }]), 0.5);
    assert.deepEqual(applyTransforms('{"a":1}', [{ type: 'convert', convert: { toType: 'object', format: 'json' } }]), { a: 1 });
    assert.equal(applyTransforms('42', [{ type: 'convert', convert: { toType: 'int' } }]), 42);
    assert.equal(applyTransforms('true', [{ type: 'convert', convert: { toType: 'bool' } }]), true);
    assert.equal(applyTransforms(3, [{ type: 'convert', convert: { toType: 'string' } }]), '3');
    assert.throws(() => applyTransforms('x1', [{ type: 'convert', convert: { toType: 'int' } }]), /transform 0 \(convert\): cannot convert string "x1" to int64/);
  });
  it('formats like Go', () => {
    assert.equal(goFormat('%s-%d-%.2f-%v%%', ['a', 3, 1.5, true]), 'a-3-1.50-true%');
    assert.equal(parseQuantity('2Mi'), 2 * 1024 * 1024);
  });
});

describe('transforms give the values Crossplane (Go) gives', () => {
  const str = (string: Record<string, unknown>) => [{ type: 'string' as const, string }];
  it('string transforms read a non-string input as Go prints it', () => {
    assert.equal(applyTransforms(5, str({ type: 'Convert', convert: 'ToUpper' })), '5');
    assert.equal(applyTransforms(12345, str({ type: 'TrimPrefix', trim: '12' })), '345');
    assert.equal(applyTransforms(2.5, str({ type: 'Regexp', regexp: { match: '\\d$' } })), '5');
    assert.equal(applyTransforms(true, str({ type: 'Convert', convert: 'ToBase64' })), 'dHJ1ZQ==');
  });
  it('ToJson and the hashes of an object use Go JSON: keys sorted, <>& escaped', () => {
    assert.equal(applyTransforms({ b: 1, a: '<x>' }, str({ type: 'Convert', convert: 'ToJson' })), '{"a":"\\u003cx\\u003e","b":1}');
    const sha = (o: unknown) => applyTransforms(o, str({ type: 'Convert', convert: 'ToSha256' }));
    assert.equal(sha({ b: 1, a: 2 }), sha({ a: 2, b: 1 }));
    assert.equal(sha({ b: 1, a: 2 }), 'd3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772');
  });
  it('FromBase64 refuses input that is not base64', () => {
    assert.throws(() => applyTransforms('not base64!', str({ type: 'Convert', convert: 'FromBase64' })), /transform 0 \(string\): "not base64!" is not valid base64/);
  });
  it('format verbs print a value of the wrong type as Go does', () => {
    assert.equal(goFormat('%s-db', [10]), '%!s(int64=10)-db');
    assert.equal(goFormat('%d', [2.5]), '%!d(float64=2.5)');
    assert.equal(goFormat('%v|%v|%v', [{ b: 1, a: [1, 'x'] }, 1234567.5, null]), 'map[a:[1 x] b:1]|1.2345675e+06|<nil>');
    assert.equal(goFormat('%s-%s', ['a']), 'a-%!s(MISSING)');
  });
  it('match compares strings only, and refuses both fallbacks at once', () => {
    const literal = { type: 'match' as const, match: { patterns: [{ type: 'literal' as const, literal: '10', result: 'ten' }], fallbackValue: 'other' } };
    assert.throws(() => applyTransforms(10, [literal]), /transform 0 \(match\): pattern 0: input must be a string, got int64/);
    assert.throws(() => applyTransforms('x', [{ type: 'match', match: { patterns: [], fallbackTo: 'Input', fallbackValue: 'y' } }]), /cannot both be set/);
  });
  it('convert follows Go parsing and Crossplane\'s supported pairs', () => {
    const conv = (toType: string, format?: string) => [{ type: 'convert' as const, convert: { toType, ...(format ? { format } : {}) } as never }];
    assert.equal(applyTransforms(2, conv('bool')), false, 'only 1 is true');
    assert.equal(applyTransforms('T', conv('bool')), true);
    assert.equal(applyTransforms('+5', conv('int')), 5);
    assert.throws(() => applyTransforms(' 5', conv('int')), /cannot convert string " 5" to int64/);
    assert.equal(applyTransforms(1.5e-7, conv('string')), '0.00000015');
    assert.throws(() => applyTransforms('10Gi', conv('int64', 'quantity')), /conversion from string to int64 is not supported with format quantity/);
    assert.throws(() => applyTransforms('5', conv('int64', 'json')), /conversion from string to int64 is not supported with format json/);
  });
});

describe('patches', () => {
  const xr = { spec: { parameters: { size: 10, region: 'eu' }, claimRef: { namespace: 'team-a', name: 'db' } }, metadata: { labels: { env: 'prod' } } };
  it('copies from and to the composite, combines, and skips optional missing fields', () => {
    const composed: Record<string, any> = { spec: { forProvider: {} } };
    const composite: Record<string, any> = {};
    applyPatch({ fromFieldPath: 'spec.parameters.size', toFieldPath: 'spec.forProvider.size' }, 'patch 0', { composite: xr, composed, environment: {} });
    applyPatch({ type: 'CombineFromComposite', combine: { variables: [{ fromFieldPath: 'spec.claimRef.namespace' }, { fromFieldPath: 'spec.claimRef.name' }], strategy: 'string', string: { fmt: '%s/%s' } }, toFieldPath: 'metadata.annotations[owner]' }, 'patch 1', { composite: xr, composed, environment: {} });
    applyPatch({ fromFieldPath: 'spec.parameters.missing', toFieldPath: 'spec.forProvider.x' }, 'patch 2', { composite: xr, composed, environment: {} });
    assert.deepEqual(composed, { spec: { forProvider: { size: 10 } }, metadata: { annotations: { owner: 'team-a/db' } } });
    applyPatch({ type: 'ToCompositeFieldPath', fromFieldPath: 'spec.forProvider.size', toFieldPath: 'status.size' }, 'patch 3', { composite, composed, environment: {} });
    applyPatch({ type: 'CombineToComposite', combine: { variables: [{ fromFieldPath: 'spec.forProvider.size' }], string: { fmt: '%dGB' } }, toFieldPath: 'status.label' }, 'patch 4', { composite, composed, environment: {} });
    assert.deepEqual(composite, { status: { size: 10, label: '10GB' } });
  });
  it('fails a Required patch whose source is missing, naming it', () => {
    assert.throws(
      () => applyPatch({ fromFieldPath: 'spec.parameters.nope', toFieldPath: 'spec.x', policy: { fromFieldPath: 'Required' } }, 'patch 7', { composite: xr, composed: {}, environment: {} }),
      /patch 7 \(FromCompositeFieldPath from spec\.parameters\.nope to spec\.x\): required field spec\.parameters\.nope is not set/,
    );
  });
  it('refuses a toFieldPath the target schema lacks', () => {
    const schema = { type: 'object', properties: { spec: { type: 'object', properties: { forProvider: { type: 'object', properties: { size: { type: 'integer' } } } } } } };
    assert.throws(() => applyPatch({ fromFieldPath: 'spec.parameters.size', toFieldPath: 'spec.forProvider.sise' }, 'patch 0', { composite: xr, composed: {}, environment: {}, composedSchema: schema }), /spec\.forProvider\.sise is not a field/);
  });
  it('expands patch sets and reports unknown ones', () => {
    const out = expandPatchSets([{ type: 'PatchSet', patchSetName: 'common' }, { fromFieldPath: 'a' }], [{ name: 'common', patches: [{ fromFieldPath: 'x' }, { fromFieldPath: 'y' }] }]);
    assert.deepEqual(out.map((p) => p.index), ['0.0', '0.1', '1']);
    assert.throws(() => expandPatchSets([{ type: 'PatchSet', patchSetName: 'nope' }], []), /no patch set named "nope"/);
  });
});

describe('readiness checks and connection details', () => {
  const o = { apiVersion: 'v1', kind: 'X', metadata: {}, status: { phase: 'Running', replicas: 3, ok: true, endpoint: 'h', conditions: [{ type: 'Ready', status: 'True' }] } };
  it('evaluates every check type', () => {
    assert.equal(isReady(o, undefined), true);
    assert.equal(isReady(o, [{ type: 'MatchString', fieldPath: 'status.phase', matchString: 'Running' }]), true);
    assert.equal(isReady(o, [{ type: 'MatchInteger', fieldPath: 'status.replicas', matchInteger: 2 }]), false);
    assert.equal(isReady(o, [{ type: 'MatchTrue', fieldPath: 'status.ok' }]), true);
    assert.equal(isReady(o, [{ type: 'MatchFalse', fieldPath: 'status.ok' }]), false);
    assert.equal(isReady(o, [{ type: 'NonEmpty', fieldPath: 'status.endpoint' }]), true);
    assert.equal(isReady(o, [{ type: 'MatchCondition', matchCondition: { type: 'Ready', status: 'False' } }]), false);
    assert.equal(isReady({ ...o, status: {} }, [{ type: 'None' }]), true);
  });
  it('reads NonEmpty as "the field exists" and a missing condition as Unknown, as Crossplane does', () => {
    const creating = { apiVersion: 'v1', kind: 'X', metadata: {}, status: { endpoint: '', count: '3' } };
    assert.equal(isReady(creating, [{ type: 'NonEmpty', fieldPath: 'status.endpoint' }]), true);
    assert.equal(isReady(creating, [{ type: 'NonEmpty', fieldPath: 'status.address' }]), false);
    assert.equal(isReady(creating, [{ type: 'MatchCondition', matchCondition: { type: 'Synced', status: 'Unknown' } }]), true);
    assert.equal(isReady(creating, [{ type: 'MatchInteger', fieldPath: 'status.count', matchInteger: 3 }]), false);
  });
  it('extracts connection details of every type', () => {
    const d = extractConnectionDetails(o, { username: 'u' }, [{ fromConnectionSecretKey: 'username' }, { name: 'host', fromFieldPath: 'status.endpoint' }, { name: 'port', type: 'FromValue', value: '5432' }]);
    assert.deepEqual(d, { username: 'u', host: 'h', port: '5432' });
  });
});
