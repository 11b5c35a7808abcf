import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { render } from '../../src/controlplane/offline.js';

/**
 * Compositions as a platform team writes them for Crossplane, rendered offline: each case is a
 * behaviour upstream Crossplane (core Resources mode and function-patch-and-transform) has.
 */

const xr = parse(`
apiVersion: example.org/v1alpha1
kind: XNetwork
metadata: {name: net1, uid: 4b1d}
spec:
  region: eu-west
  size: 10
  groups: [g3]
  labels: {team: platform, tier: gold}
`) as Resource;

function composition(spec: string): Resource {
  return parse(`
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: networks}
spec:
  compositeTypeRef: {apiVersion: example.org/v1alpha1, kind: XNetwork}
${spec}`) as Resource;
}

function observedAs(name: string, obj: string): Resource {
  const o = parse(obj) as Resource;
  o.metadata = { ...(o.metadata ?? {}), annotations: { 'crossplane.io/composition-resource-name': name } };
  return o;
}

const byTemplate = (objects: Resource[], name: string) => objects.find((o) => o.metadata.annotations?.['crossplane.io/composition-resource-name'] === name);

describe('Required patches hold back a composed resource, as in Crossplane', () => {
  const comp = composition(`
  resources:
  - name: vpc
    base: {apiVersion: nop.crossplane.io/v1alpha1, kind: NopResource, spec: {forProvider: {}}}
    patches:
    - type: ToCompositeFieldPath
      fromFieldPath: status.atProvider.id
      toFieldPath: status.vpcId
  - name: subnet
    base: {apiVersion: nop.crossplane.io/v1alpha1, kind: NopResource, spec: {forProvider: {}}}
    patches:
    - fromFieldPath: status.vpcId
      toFieldPath: spec.forProvider.vpcId
      policy: {fromFieldPath: Required}
`);

  it('renders the other resources and leaves the held-back one out, with a warning naming the field', async () => {
    const out = await render({ composite: xr, composition: comp });
    assert.equal(out.fatal, undefined);
    assert.ok(byTemplate(out.objects, 'vpc'), 'the vpc is rendered so that it can report its id');
    assert.equal(byTemplate(out.objects, 'subnet'), undefined);
    assert.match(out.events.map((e) => `${e.type} ${e.message}`).join('\n'), /Warning .*resource "subnet" is not created yet: patch 0 .*required field status\.vpcId is not set/);
  });

  it('creates the held-back resource once the field is set', async () => {
    const out = await render({ composite: { ...xr, status: { vpcId: 'vpc-123' } }, composition: comp });
    assert.equal(byTemplate(out.objects, 'subnet')?.spec.forProvider.vpcId, 'vpc-123');
  });

  it('keeps an existing resource and skips only the patch', async () => {
    const subnet = observedAs('subnet', 'apiVersion: nop.crossplane.io/v1alpha1\nkind: NopResource\nmetadata: {name: net1-subnet}\nspec: {forProvider: {vpcId: old}}');
    const out = await render({ composite: xr, composition: comp, observed: [subnet] });
    assert.equal(byTemplate(out.objects, 'subnet')?.metadata.name, 'net1-subnet');
    assert.match(out.events.map((e) => e.message).join('\n'), /resource "subnet": patch 0 .*required field status\.vpcId is not set; the patch is skipped/);
  });
});

describe('environment patches', () => {
  it('copy between the XR and the environment in both directions, and feed composed resources', async () => {
    const comp = composition(`
  environment:
    patches:
    - type: FromCompositeFieldPath
      fromFieldPath: spec.region
      toFieldPath: region
    - type: CombineFromComposite
      combine: {variables: [{fromFieldPath: spec.region}, {fromFieldPath: spec.size}], strategy: string, string: {fmt: "%s-%d"}}
      toFieldPath: sized
    - type: ToCompositeFieldPath
      fromFieldPath: sized
      toFieldPath: status.sized
  resources:
  - name: vpc
    base: {apiVersion: nop.crossplane.io/v1alpha1, kind: NopResource, spec: {forProvider: {}}}
    patches:
    - type: FromEnvironmentFieldPath
      fromFieldPath: region
      toFieldPath: spec.forProvider.region
`);
    const out = await render({ composite: xr, composition: comp });
    assert.equal(out.fatal, undefined);
    assert.equal(out.objects[0]!.status.sized, 'eu-west-10');
    assert.equal(byTemplate(out.objects, 'vpc')?.spec.forProvider.region, 'eu-west');
  });

  it('fails a Required environment patch naming its index and field', async () => {
    const comp = composition(`
  environment:
    patches:
    - fromFieldPath: spec.missing
      toFieldPath: x
      policy: {fromFieldPath: Required}
  resources:
  - name: vpc
    base: {apiVersion: nop.crossplane.io/v1alpha1, kind: NopResource}
`);
    const out = await render({ composite: xr, composition: comp });
    assert.match(out.fatal ?? '', /environment patch 0 \(FromCompositeFieldPath from spec\.missing to x\): required field spec\.missing is not set/);
  });
});

describe('toFieldPath', () => {
  const existing = 'apiVersion: nop.crossplane.io/v1alpha1\nkind: NopResource\nmetadata: {labels: {team: keep, other: o}}\nspec: {forProvider: {groups: [g1, g2], enabled: false, rules: [{port: 80, groups: [g1]}, {port: 443, groups: [g2]}]}}';
  const render1 = async (patch: string, base = existing) => {
    const comp = composition(`
  resources:
  - name: r
    base:
${base.split('\n').map((l) => `      ${l}`).join('\n')}
    patches:
    - ${patch.trim().split('\n').join('\n      ')}
`);
    const out = await render({ composite: xr, composition: comp });
    return { out, r: byTemplate(out.objects, 'r') };
  };

  it('MergeObjects keeps existing values and arrays, filling only missing or empty ones', async () => {
    const { r } = await render1('fromFieldPath: spec.labels\ntoFieldPath: metadata.labels\npolicy: {toFieldPath: MergeObjects}');
    assert.deepEqual({ team: r!.metadata.labels!.team, tier: r!.metadata.labels!.tier, other: r!.metadata.labels!.other }, { team: 'keep', tier: 'gold', other: 'o' });
    const { r: r2 } = await render1('fromFieldPath: spec.groups\ntoFieldPath: spec.forProvider.groups\npolicy: {toFieldPath: MergeObjects}');
    assert.deepEqual(r2!.spec.forProvider.groups, ['g1', 'g2']);
  });

  it('AppendArray, the deprecated spelling, forces object values and appends arrays', async () => {
    const { r } = await render1('fromFieldPath: spec.groups\ntoFieldPath: spec.forProvider.groups\npolicy: {toFieldPath: AppendArray}');
    assert.deepEqual(r!.spec.forProvider.groups, ['g1', 'g2', 'g3']);
    const { r: r2 } = await render1('fromFieldPath: spec.labels\ntoFieldPath: metadata.labels\npolicy: {toFieldPath: AppendArray}');
    assert.equal(r2!.metadata.labels!.team, 'platform');
  });

  it('reads the v1 policy.mergeOptions form', async () => {
    const { r } = await render1('fromFieldPath: spec.groups\ntoFieldPath: spec.forProvider.groups\npolicy: {mergeOptions: {appendSlice: true}}');
    assert.deepEqual(r!.spec.forProvider.groups, ['g1', 'g2', 'g3']);
    const { r: r2 } = await render1('fromFieldPath: spec.labels\ntoFieldPath: metadata.labels\npolicy: {mergeOptions: {keepMapValues: true}}');
    assert.deepEqual([r2!.metadata.labels!.team, r2!.metadata.labels!.tier], ['keep', 'gold']);
  });

  it('refuses an unknown policy, naming the resource and patch', async () => {
    const { out } = await render1('fromFieldPath: spec.groups\ntoFieldPath: spec.forProvider.groups\npolicy: {toFieldPath: Append}');
    assert.match(out.fatal ?? '', /resource "r": patch 0 .*policy\.toFieldPath "Append" is not one of Replace/);
  });

  it('patches every element a [*] wildcard names, and fails when it names none', async () => {
    const { r } = await render1('fromFieldPath: spec.region\ntoFieldPath: spec.forProvider.rules[*].groups[0]');
    assert.deepEqual(r!.spec.forProvider.rules, [{ port: 80, groups: ['eu-west'] }, { port: 443, groups: ['eu-west'] }]);
    const { out } = await render1('fromFieldPath: spec.region\ntoFieldPath: spec.forProvider.missing[*].region');
    assert.match(out.fatal ?? '', /patch 0 .*cannot expand toFieldPath spec\.forProvider\.missing\[\*\]\.region/);
  });
});

describe('readiness: patch-and-transform only ever marks a resource ready, as upstream', () => {
  const db = `
    - name: db
      base: {apiVersion: nop.crossplane.io/v1alpha1, kind: NopResource, spec: {forProvider: {}}}
      readinessChecks:
      - {type: MatchString, fieldPath: status.atProvider.state, matchString: available}`;
  // its own check fails (pending), but its Ready condition is True
  const observed = [observedAs('db', `
apiVersion: nop.crossplane.io/v1alpha1
kind: NopResource
metadata: {name: net1-db}
status:
  atProvider: {state: pending}
  conditions: [{type: Ready, status: "True", reason: Available}]
`)];
  const pipeline = (autoReady: boolean) =>
    composition(`
  mode: Pipeline
  pipeline:
  - step: pt
    functionRef: {name: function-patch-and-transform}
    input:
      apiVersion: pt.fn.crossplane.io/v1beta1
      kind: Resources
      resources:${db.replace(/\n {4}/g, '\n      ')}
${autoReady ? '  - step: ready\n    functionRef: {name: function-auto-ready}' : ''}`);
  const readyOf = async (comp: Resource) => (await render({ composite: xr, composition: comp, observed })).objects[0]!.status.conditions.find((c: { type: string }) => c.type === 'Ready');

  it('leaves a resource whose check fails unspecified, so function-auto-ready can still find it ready', async () => {
    assert.equal((await readyOf(pipeline(true))).status, 'True');
  });

  it('without a later step, an unspecified resource is not ready', async () => {
    assert.deepEqual(await readyOf(pipeline(false)), { type: 'Ready', status: 'False', reason: 'Creating', message: 'Unready resources: db', lastTransitionTime: '2024-01-01T00:00:00Z' });
  });

  it('in Resources mode the readiness checks decide alone', async () => {
    assert.equal((await readyOf(composition(`  resources:${db.replace(/\n {4}/g, '\n  ')}`))).status, 'False');
  });
});
