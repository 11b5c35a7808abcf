import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { eventually, tempDir } from '../support/platform.js';
import { startControlPlane, yamlDocs } from './fixtures.js';

/**
 * Crossplane users read a Function's Installed and Healthy conditions to know whether it can run
 * before any composite needs it. Pave pulls no function images: a Function is healthy when Pave has
 * its package built in or its pave.dev/module annotation names a module that loads.
 */

const PKG = 'pkg.crossplane.io/v1';

describe('Function packages (pkg.crossplane.io)', () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  const dir = tempDir('pave-fn-pkg-');
  const module = join(dir, 'function-team-label.mjs');
  const missing = join(dir, 'not-written.mjs');
  const noExport = join(dir, 'no-export.mjs');

  before(async () => {
    writeFileSync(module, `export default { name: 'function-team-label', run(req) { return { desired: req.desired, context: req.context }; } };\n`);
    writeFileSync(noExport, `export const version = 1;\n`);
    cp = await startControlPlane();
  });
  after(async () => {
    await cp.p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The Function read at `apiVersion` once its Healthy condition has the status `healthy`. */
  function functionHealthy(name: string, healthy: 'True' | 'False', apiVersion = PKG): Promise<Resource> {
    return eventually(async () => {
      const o = await cp.get(apiVersion, 'Function', name);
      return cp.condition(o, 'Healthy')?.status === healthy ? o : undefined;
    }, 10_000, `Function ${name} Healthy=${healthy}`);
  }

  function withModule(name: string, path: string): Resource {
    return { apiVersion: PKG, kind: 'Function', metadata: { name, annotations: { 'pave.dev/module': path } }, spec: { package: `example.org/platform/${name}:v0.1.0` } };
  }

  it('reports built-in functions Installed and Healthy, whichever version the Function was written in', async () => {
    await cp.apply(yamlDocs(`
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata: {name: function-patch-and-transform}
spec:
  package: xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.7.0
---
apiVersion: pkg.crossplane.io/v1beta1
kind: Function
metadata: {name: auto-ready}
spec:
  package: xpkg.upbound.io/crossplane-contrib/function-auto-ready:v0.2.1
`));
    const pt = await functionHealthy('function-patch-and-transform', 'True');
    assert.deepEqual(
      pt.status.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason]),
      [
        ['Installed', 'True', 'ActivePackageRevision'],
        ['Healthy', 'True', 'HealthyPackageRevision'],
      ],
    );
    assert.match(cp.condition(pt, 'Healthy').message, /function-patch-and-transform, which is built into Pave/);
    assert.equal(pt.status.currentIdentifier, 'xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.7.0');
    assert.match(pt.status.currentRevision, /^function-patch-and-transform-[0-9a-f]{12}$/);

    const autoReady = await functionHealthy('auto-ready', 'True', 'pkg.crossplane.io/v1beta1');
    assert.equal(autoReady.apiVersion, 'pkg.crossplane.io/v1beta1');
    assert.equal(cp.condition(autoReady, 'Installed')?.status, 'True');
    assert.match(cp.condition(autoReady, 'Healthy').message, /function-auto-ready, which is built into Pave/);
    assert.equal(autoReady.status.currentIdentifier, 'xpkg.upbound.io/crossplane-contrib/function-auto-ready:v0.2.1');
    assert.deepEqual(autoReady.spec, { package: 'xpkg.upbound.io/crossplane-contrib/function-auto-ready:v0.2.1' }, 'the object is kept as written');

    // what `kubectl get functions` shows, as for Providers
    const crd = await cp.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'functions.pkg.crossplane.io');
    for (const v of crd!.spec.versions) assert.deepEqual(v.additionalPrinterColumns.map((c: { name: string }) => c.name), ['INSTALLED', 'HEALTHY', 'PACKAGE', 'AGE'], v.name);
  });

  it('reports a Function whose module loads Healthy, and one whose module does not unhealthy with the reason', async () => {
    await cp.apply([withModule('function-team-label', module), withModule('function-not-written', missing), withModule('function-no-export', noExport)]);

    const loaded = await functionHealthy('function-team-label', 'True');
    assert.equal(cp.condition(loaded, 'Installed')?.status, 'True');
    assert.match(cp.condition(loaded, 'Healthy').message, /pave\.dev\/module ".*function-team-label\.mjs" exports/);
    assert.equal(loaded.status.currentIdentifier, 'example.org/platform/function-team-label:v0.1.0');

    const notWritten = await functionHealthy('function-not-written', 'False');
    const healthy = cp.condition(notWritten, 'Healthy');
    assert.equal(healthy.reason, 'UnhealthyPackageRevision');
    assert.ok(healthy.message.includes(`there is no file ${missing}`), healthy.message);
    assert.equal(cp.condition(notWritten, 'Installed')?.status, 'True', 'the Function is accepted; only its module is missing');
    assert.equal(cp.condition(notWritten, 'Installed')?.reason, 'ActivePackageRevision');

    const noFunction = await functionHealthy('function-no-export', 'False');
    assert.match(cp.condition(noFunction, 'Healthy').message, /no-export\.mjs" of Function "function-no-export" does not export a composition function/);

    // the annotation fixed to name a module that exists
    await cp.p.client.patch({ apiVersion: PKG, kind: 'Function', name: 'function-not-written' }, 'merge', { metadata: { annotations: { 'pave.dev/module': module } } });
    const fixed = await functionHealthy('function-not-written', 'True');
    assert.equal(cp.condition(fixed, 'Healthy')?.reason, 'HealthyPackageRevision');
    assert.equal(cp.condition(fixed, 'Installed')?.status, 'True');
  });

  it('keeps a Function whose package is not built in and names no module, and says what to add', async () => {
    await cp.apply(yamlDocs(`
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata: {name: function-go-templating}
spec:
  package: xpkg.upbound.io/crossplane-contrib/function-go-templating:v0.9.0
`));
    const fn = await functionHealthy('function-go-templating', 'False');
    const installed = cp.condition(fn, 'Installed');
    assert.deepEqual([installed.status, installed.reason], ['False', 'InactivePackageRevision']);
    const healthy = cp.condition(fn, 'Healthy');
    assert.equal(healthy.reason, 'UnhealthyPackageRevision');
    assert.equal(
      healthy.message,
      'Function "function-go-templating" has package "xpkg.upbound.io/crossplane-contrib/function-go-templating:v0.9.0", which is not built in; add the annotation pave.dev/module naming a module that implements it',
    );
    assert.equal(fn.status.currentRevision, undefined);
    assert.deepEqual(fn.spec, { package: 'xpkg.upbound.io/crossplane-contrib/function-go-templating:v0.9.0' });

    const event = await eventually(async () => (await cp.p.client.list('v1', 'Event', { namespace: 'default' })).items.find((e) => e.involvedObject?.uid === fn.metadata.uid && e.type === 'Warning'), 10_000, 'a Warning Event on the Function');
    assert.equal(event.message, healthy.message);
  });
});
