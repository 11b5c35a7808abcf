import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually, tempDir } from '../support/platform.js';
import { pipelineOf, postgresClaim, postgresXrd, startControlPlane, XR_API, yamlDocs } from './fixtures.js';
import { runPave as pave } from '../support/process.js';

/**
 * Compositions written for Crossplane that load EnvironmentConfigs with
 * function-environment-configs and patch from them with function-patch-and-transform, run as
 * they are: the Function objects name the upstream packages, and nothing Pave-specific is added.
 */

const ENVIRONMENT = 'apiextensions.crossplane.io/environment';

/** Function objects as the upstream examples write them. */
const functions: Resource[] = [
  {
    apiVersion: 'pkg.crossplane.io/v1beta1',
    kind: 'Function',
    metadata: { name: 'function-environment-configs', annotations: { 'render.crossplane.io/runtime': 'Development' } },
    spec: { package: 'xpkg.upbound.io/crossplane-contrib/function-environment-configs:v0.0.6' },
  },
  { apiVersion: 'pkg.crossplane.io/v1beta1', kind: 'Function', metadata: { name: 'function-patch-and-transform' }, spec: { package: 'xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.7.0' } },
];

function envConfig(name: string, data: Record<string, unknown>, labels?: Record<string, string>, apiVersion = 'apiextensions.crossplane.io/v1beta1'): Resource {
  return { apiVersion, kind: 'EnvironmentConfig', metadata: { name, ...(labels ? { labels } : {}) }, data } as Resource;
}

/**
 * A pipeline that loads the environment with `input` (function-environment-configs' spec), then
 * composes one resource whose forProvider is filled from it by FromEnvironmentFieldPath patches.
 */
function composition(name: string, compositeTypeRef: { apiVersion: string; kind: string }, spec: Record<string, unknown>, composed = { apiVersion: 's3.aws.upbound.io/v1beta1', kind: 'Bucket' }): Resource {
  const fromEnv = (from: string, to: string) => ({ type: 'FromEnvironmentFieldPath', fromFieldPath: from, toFieldPath: `spec.forProvider.${to}` });
  return pipelineOf(name, compositeTypeRef, [
    { step: 'environmentConfigs', functionRef: { name: 'function-environment-configs' }, input: { apiVersion: 'environmentconfigs.fn.crossplane.io/v1beta1', kind: 'Input', spec } },
    {
      step: 'patch-and-transform',
      functionRef: { name: 'function-patch-and-transform' },
      input: {
        apiVersion: 'pt.fn.crossplane.io/v1beta1',
        kind: 'Resources',
        resources: [
          {
            name: 'bucket',
            base: { ...composed, spec: { forProvider: { region: 'us-east-1' } } },
            patches: [fromEnv('region', 'region'), fromEnv('account', 'account'), fromEnv('network.vpc', 'vpc'), fromEnv('network.subnets', 'subnets'), fromEnv('tier', 'tier')],
          },
        ],
      },
    },
  ]);
}

describe('function-environment-configs', () => {
  const dir = tempDir('pave-envcfg-');
  const file = (name: string, objs: Resource[]) => {
    writeFileSync(join(dir, name), objs.map((o) => stringify(o)).join('---\n'));
    return join(dir, name);
  };

  describe('pave render, with the EnvironmentConfigs given by --extra-resources', () => {
    const xr: Resource = { apiVersion: 'example.crossplane.io/v1', kind: 'XR', metadata: { name: 'orders' }, spec: { stage: 'prod', team: 'payments' } } as Resource;
    const configs = [
      envConfig('base', { region: 'eu-west-1', account: '111', network: { vpc: 'vpc-base', subnets: ['a', 'b'] } }),
      envConfig('prod', { account: '999', network: { vpc: 'vpc-prod' } }, { stage: 'prod' }),
      envConfig('dev', { account: '222' }, { stage: 'dev' }),
      envConfig('payments-late', { tier: 'gold', priority: 20 }, { team: 'payments' }),
      envConfig('payments-early', { tier: 'silver', priority: 10 }, { team: 'payments' }),
      envConfig('payments-last', { tier: 'platinum', priority: 30 }, { team: 'payments' }),
    ];
    const render = (spec: Record<string, unknown>, extra = configs, flags: string[] = []) =>
      pave(['render', file('xr.yaml', [xr]), file('composition.yaml', [composition('with-env', { apiVersion: 'example.crossplane.io/v1', kind: 'XR' }, spec)]), file('functions.yaml', functions), '--extra-resources', file('extra.yaml', extra), ...flags]);
    const rendered = (r: ReturnType<typeof pave>) => {
      assert.equal(r.code, 0, r.err);
      const docs = parseAllDocuments(r.out).map((d) => d.toJS());
      return { bucket: docs.find((d) => d.kind === 'Bucket'), context: docs.find((d) => d.kind === 'Context') };
    };

    it('patches from a config named by Reference, and shows the environment with --include-context', () => {
      const { bucket, context } = rendered(render({ environmentConfigs: [{ type: 'Reference', ref: { name: 'base' } }] }, configs, ['--include-context']));
      assert.deepEqual(bucket.spec.forProvider, { region: 'eu-west-1', account: '111', vpc: 'vpc-base', subnets: ['a', 'b'] });
      assert.deepEqual(context.fields[ENVIRONMENT], { apiVersion: 'internal.crossplane.io/v1alpha1', kind: 'Environment', region: 'eu-west-1', account: '111', network: { vpc: 'vpc-base', subnets: ['a', 'b'] } });
    });

    it('merges configs in the order listed, later ones winning key by key inside objects', () => {
      const { bucket } = rendered(render({ environmentConfigs: [{ ref: { name: 'base' } }, { ref: { name: 'prod' } }] }));
      // prod replaces account and network.vpc; base's region and network.subnets survive
      assert.deepEqual(bucket.spec.forProvider, { region: 'eu-west-1', account: '999', vpc: 'vpc-prod', subnets: ['a', 'b'] });
    });

    it('finds a config written at v1alpha1 in the file, as the API serves it at either version', () => {
      const { bucket } = rendered(render({ environmentConfigs: [{ ref: { name: 'old' } }] }, [envConfig('old', { region: 'ap-south-1' }, undefined, 'apiextensions.crossplane.io/v1alpha1')]));
      assert.equal(bucket.spec.forProvider.region, 'ap-south-1');
    });

    it('fails naming the config when a Required reference is missing', () => {
      const r = render({ environmentConfigs: [{ ref: { name: 'base' } }, { type: 'Reference', ref: { name: 'staging' } }] });
      assert.equal(r.code, 1);
      assert.match(r.err, /pipeline step "environmentConfigs": spec\.environmentConfigs\[1\]: EnvironmentConfig "staging" not found \(spec\.policy\.resolution is Required\)/);
    });

    it('skips a missing Optional reference, filling the gaps from defaultData', () => {
      const { bucket } = rendered(
        render({
          environmentConfigs: [{ ref: { name: 'staging' } }, { ref: { name: 'prod' } }],
          policy: { resolution: 'Optional', resolve: 'Always' },
          defaultData: { region: 'us-west-2', account: '000', tier: 'bronze' },
        }),
      );
      assert.deepEqual(bucket.spec.forProvider, { region: 'us-west-2', account: '999', vpc: 'vpc-prod', tier: 'bronze' });
    });

    it('selects the one config whose label matches a field of the XR (Selector, Single)', () => {
      const { bucket } = rendered(render({ environmentConfigs: [{ ref: { name: 'base' } }, { type: 'Selector', selector: { mode: 'Single', matchLabels: [{ key: 'stage', type: 'FromCompositeFieldPath', valueFromFieldPath: 'spec.stage' }] } }] }));
      assert.equal(bucket.spec.forProvider.account, '999');
    });

    it('fails a Single selector that matches more than one config, naming them', () => {
      const r = render({ environmentConfigs: [{ type: 'Selector', selector: { matchLabels: [{ key: 'team', type: 'Value', value: 'payments' }] } }] });
      assert.equal(r.code, 1);
      assert.match(r.err, /spec\.environmentConfigs\[0\]: selector\.mode Single expects exactly one matching EnvironmentConfig, found 3: /);
    });

    it('fails when the XR lacks the field a label is read from, unless that label is Optional', () => {
      const matcher = { key: 'stage', valueFromFieldPath: 'spec.region' };
      const r = render({ environmentConfigs: [{ type: 'Selector', selector: { matchLabels: [matcher] } }] });
      assert.equal(r.code, 1);
      assert.match(r.err, /spec\.environmentConfigs\[0\]\.selector\.matchLabels\[0\] \("stage"\): spec\.region of the composite resource XR "orders" is not set/);
      // with no label left the entry selects nothing, and the other entries still apply
      const { bucket } = rendered(render({ environmentConfigs: [{ ref: { name: 'base' } }, { type: 'Selector', selector: { matchLabels: [{ ...matcher, fromFieldPathPolicy: 'Optional' }] } }] }));
      assert.equal(bucket.spec.forProvider.account, '111');
    });

    it('merges every matching config in the order of sortByFieldPath (Selector, Multiple)', () => {
      const selector = { mode: 'Multiple', sortByFieldPath: 'data.priority', matchLabels: [{ key: 'team', valueFromFieldPath: 'spec.team' }] };
      // sorted by priority: early (10), late (20), last (30); the last merged wins
      assert.equal(rendered(render({ environmentConfigs: [{ type: 'Selector', selector }] })).bucket.spec.forProvider.tier, 'platinum');
      // sorted by name (the default): payments-early, payments-last, payments-late
      assert.equal(rendered(render({ environmentConfigs: [{ type: 'Selector', selector: { ...selector, sortByFieldPath: undefined } }] })).bucket.spec.forProvider.tier, 'gold');
      // maxMatch keeps the first two after sorting
      assert.equal(rendered(render({ environmentConfigs: [{ type: 'Selector', selector: { ...selector, maxMatch: 2 } }] })).bucket.spec.forProvider.tier, 'gold');
    });

    it('fails a Multiple selector that matches fewer configs than minMatch', () => {
      const r = render({ environmentConfigs: [{ type: 'Selector', selector: { mode: 'Multiple', minMatch: 2, matchLabels: [{ key: 'stage', type: 'Value', value: 'dev' }] } }] });
      assert.equal(r.code, 1);
      assert.match(r.err, /spec\.environmentConfigs\[0\]: selector\.minMatch is 2, but only 1 EnvironmentConfigs match/);
    });

    it('finds the function by its package when the Function object has another name, as package managers name them', () => {
      const renamed = 'crossplane-contrib-function-environment-configs';
      const comp = composition('with-env', { apiVersion: 'example.crossplane.io/v1', kind: 'XR' }, { environmentConfigs: [{ ref: { name: 'base' } }] });
      comp.spec.pipeline[0].functionRef.name = renamed;
      const fns = [{ ...functions[0]!, metadata: { name: renamed } }, functions[1]!];
      const r = pave(['render', file('xr.yaml', [xr]), file('renamed.yaml', [comp]), file('renamed-functions.yaml', fns), '--extra-resources', file('extra.yaml', configs)]);
      assert.equal(rendered(r).bucket.spec.forProvider.account, '111');
    });
  });

  describe('on a running control plane', () => {
    let cp: Awaited<ReturnType<typeof startControlPlane>>;
    before(async () => {
      cp = await startControlPlane();
      await cp.apply([...yamlDocs(postgresXrd), ...functions]);
      // one written at v1alpha1: compositions ask for v1beta1 and must still find it
      await cp.apply([envConfig('shared', { region: 'eu-central-1', account: '123', network: { vpc: 'vpc-shared' } }, undefined, 'apiextensions.crossplane.io/v1alpha1'), envConfig('team-a', { account: '456', tier: 'gold' }, { team: 'team-a' })]);
      const spec = {
        environmentConfigs: [
          { type: 'Reference', ref: { name: 'shared' } },
          { type: 'Selector', selector: { mode: 'Single', matchLabels: [{ key: 'team', type: 'FromCompositeFieldPath', valueFromFieldPath: 'metadata.labels[crossplane.io/claim-namespace]' }] } },
        ],
      };
      await cp.apply([composition('env-nop', { apiVersion: XR_API, kind: 'XPostgreSQLInstance' }, spec, { apiVersion: NOP_API, kind: 'NopResource' })]);
      await eventually(() => cp.p.registry.lookup(XR_API, 'PostgreSQLInstance'));
    });
    after(async () => cp.p.close());

    it('serves EnvironmentConfig at v1beta1 and v1alpha1, keeping its data', async () => {
      const shared = await cp.get('apiextensions.crossplane.io/v1beta1', 'EnvironmentConfig', 'shared');
      assert.deepEqual(shared?.data, { region: 'eu-central-1', account: '123', network: { vpc: 'vpc-shared' } });
      const teamA = await cp.get('apiextensions.crossplane.io/v1alpha1', 'EnvironmentConfig', 'team-a');
      assert.equal(teamA?.data.tier, 'gold');
    });

    it('says which entry found no config, then composes with the values of the EnvironmentConfigs applied', async () => {
      await cp.p.client.create(postgresClaim('orders', 5, { compositionRef: { name: 'env-nop' } }));
      const claim = await eventually(async () => {
        const c = await cp.get(XR_API, 'PostgreSQLInstance', 'orders', 'default');
        return c?.spec?.resourceRef?.name ? c : undefined;
      });
      const xrName = claim.spec.resourceRef.name;
      const composed = async () => (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items[0];
      // the claim is in namespace default: nothing is labelled team=default yet, and Single needs exactly one
      const synced = await eventually(async () => {
        const c = cp.condition(await cp.get(XR_API, 'XPostgreSQLInstance', xrName), 'Synced');
        return c?.status === 'False' ? c : undefined;
      });
      assert.match(synced.message, /spec\.environmentConfigs\[1\]: selector\.mode Single expects exactly one matching EnvironmentConfig, found 0/);

      await cp.apply([envConfig('team-default', { account: '789', tier: 'silver' }, { team: 'default' })]);
      const mr = await eventually(async () => {
        const m = await composed();
        return m?.spec?.forProvider?.tier ? m : undefined;
      }, 30_000, 'the composed resource patched from the environment');
      assert.deepEqual(mr.spec.forProvider, { region: 'eu-central-1', account: '789', vpc: 'vpc-shared', tier: 'silver' });
    });
  });
});
