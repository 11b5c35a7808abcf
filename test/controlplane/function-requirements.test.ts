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
 * A function that needs what is outside the XR: the Secret its step's credentials name, the
 * ConfigMaps it asks for in requirements.extraResources, and the environment in the context.
 * With input.restless it asks for something new on every call.
 */
const tiersModule = `export default { name: 'function-tiers', run(req) {
  if (req.input?.restless) return { desired: req.desired, context: req.context, requirements: { extraResources: { n: { apiVersion: 'v1', kind: 'ConfigMap', matchName: 'cm-' + Math.random() } } } };
  const tiers = (req.extraResources?.tiers?.items ?? []).map((i) => i.resource.data.name).sort();
  const token = req.credentials?.api?.credentialData.data.token ?? '';
  const region = req.context['apiextensions.crossplane.io/environment']?.region ?? 'none';
  req.desired.resources.tiered = { resource: { apiVersion: '${NOP_API}', kind: 'NopResource', spec: { forProvider: { tiers, tokenLength: token.length, region } } } };
  return { desired: req.desired, context: { ...req.context, seen: tiers.length }, results: [{ severity: 'SEVERITY_NORMAL', message: 'tiers: ' + tiers.length }], requirements: { extraResources: { tiers: { apiVersion: 'v1', kind: 'ConfigMap', matchLabels: { labels: { 'example.org/tier': 'gold' } } } } } };
} };
`;

const configMap = (name: string, tier: string): Resource => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels: { 'example.org/tier': tier } }, data: { name } });
const tokenSecret: Resource = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tiers-api', namespace: 'crossplane-system' }, data: { token: Buffer.from('s3cr3t-token').toString('base64') } };

function composition(name: string, compositeTypeRef: { apiVersion: string; kind: string }, input: Record<string, unknown> = {}): Resource {
  return pipelineOf(name, compositeTypeRef, [
    { step: 'tiers', functionRef: { name: 'function-tiers' }, input, credentials: [{ name: 'api', source: 'Secret', secretRef: { namespace: 'crossplane-system', name: 'tiers-api' } }] },
    { step: 'ready', functionRef: { name: 'function-auto-ready' } },
  ]);
}

describe('functions that read credentials, extra resources and context', () => {
  const dir = tempDir('pave-fn-req-');
  const module = join(dir, 'tiers.mjs');
  const fn: Resource = { apiVersion: 'pkg.crossplane.io/v1', kind: 'Function', metadata: { name: 'function-tiers', annotations: { 'pave.dev/module': module } }, spec: { package: 'example.org/function-tiers:v0.1.0' } };
  const file = (name: string, objs: Resource[]) => {
    writeFileSync(join(dir, name), objs.map((o) => stringify(o)).join('---\n'));
    return join(dir, name);
  };

  before(() => writeFileSync(module, tiersModule));

  describe('pave render', () => {
    const xr: Resource = { apiVersion: 'example.org/v1', kind: 'XThing', metadata: { name: 'thing' }, spec: {} };
    const args = () => [file('xr.yaml', [xr]), file('composition.yaml', [composition('things', { apiVersion: 'example.org/v1', kind: 'XThing' })]), file('functions.yaml', [fn])];

    it('calls a step again with the objects it asks for, its credentials and the context given', () => {
      const extra = file('extra.yaml', [configMap('gold-a', 'gold'), configMap('silver-b', 'silver'), configMap('gold-c', 'gold')]);
      const creds = file('creds.yaml', [tokenSecret]);
      const r = pave(['render', ...args(), '--extra-resources', extra, '--function-credentials', creds, '--context-values', 'apiextensions.crossplane.io/environment={"region":"eu"}', '--include-context', '--include-function-results']);
      assert.equal(r.code, 0, r.err);
      const docs = parseAllDocuments(r.out).map((d) => d.toJS());
      const tiered = docs.find((d) => d.kind === 'NopResource');
      assert.deepEqual(tiered.spec.forProvider, { tiers: ['gold-a', 'gold-c'], tokenLength: 12, region: 'eu' });
      const context = docs.find((d) => d.kind === 'Context');
      assert.deepEqual(context.fields, { 'apiextensions.crossplane.io/environment': { region: 'eu' }, seen: 2 });
      // the step ran twice (once to ask, once with the objects): only the last call's results count
      assert.deepEqual(docs.filter((d) => d.kind === 'Result').map((d) => d.message), ['tiers: 2']);
    });

    it('fails naming the step, the credentials and the Secret when the Secret is not given', () => {
      const r = pave(['render', ...args()]);
      assert.equal(r.code, 1);
      assert.match(r.err, /pipeline step "tiers" \(function function-tiers\) failed: credentials\[0\] \("api"\): Secret crossplane-system\/tiers-api not found/);
    });

    it('stops a step whose requirements never settle', () => {
      const restless = file('restless.yaml', [composition('restless', { apiVersion: 'example.org/v1', kind: 'XThing' }, { restless: true })]);
      const r = pave(['render', args()[0]!, restless, args()[2]!, '--function-credentials', file('creds.yaml', [tokenSecret])]);
      assert.equal(r.code, 1);
      assert.match(r.err, /pipeline step "tiers" \(function function-tiers\) failed: its requirements were still changing after 5 calls/);
    });
  });

  describe('on a running control plane', () => {
    let cp: Awaited<ReturnType<typeof startControlPlane>>;
    before(async () => {
      cp = await startControlPlane();
      for (const o of [configMap('gold-a', 'gold'), configMap('silver-b', 'silver'), configMap('gold-c', 'gold')]) await cp.p.client.create(o);
      await cp.apply([...yamlDocs(postgresXrd), fn, composition('tiered', { apiVersion: XR_API, kind: 'XPostgreSQLInstance' })]);
      await eventually(() => cp.p.registry.lookup(XR_API, 'PostgreSQLInstance'));
    });
    after(async () => cp.p.close());

    it('shows a missing credentials Secret on the XR, then composes with the Secret and the objects asked for', async () => {
      await cp.p.client.create(postgresClaim('tiered', 5, { compositionRef: { name: 'tiered' } }));
      const claim = await eventually(async () => {
        const c = await cp.get(XR_API, 'PostgreSQLInstance', 'tiered', 'default');
        return c?.spec?.resourceRef?.name ? c : undefined;
      });
      const xrName = claim.spec.resourceRef.name;
      const synced = await eventually(async () => {
        const c = cp.condition(await cp.get(XR_API, 'XPostgreSQLInstance', xrName), 'Synced');
        return c?.status === 'False' ? c : undefined;
      });
      assert.match(synced.message, /credentials\[0\] \("api"\): Secret crossplane-system\/tiers-api not found/);

      await cp.p.client.create(tokenSecret);
      await cp.waitReady(XR_API, 'PostgreSQLInstance', 'tiered', 'default', 30_000);
      const [mr] = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: `crossplane.io/composite=${xrName}` })).items;
      assert.deepEqual(mr!.spec.forProvider, { tiers: ['gold-a', 'gold-c'], tokenLength: 12, region: 'none' });
    });
  });
});
