import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { packageName } from '../../src/controlplane/provider-packages.js';
import { providersModule } from '../../src/providers/index.js';
import { NOP_API, NopBackend } from '../../src/providers/nop/index.js';
import { eventually, startPlatform, tempDir } from '../support/platform.js';
import { yamlDocs } from './fixtures.js';

/**
 * Crossplane bootstrap YAML declares the providers it needs as `Provider` packages. Pave runs its
 * providers in-process: a Provider naming a built-in one is accepted and reported healthy (the
 * test provider, provider-nop, is started by it), and any other is kept but reported unhealthy.
 */

const PKG = 'pkg.crossplane.io/v1';

const providerNopYaml = `
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata: {name: provider-nop}
spec:
  package: xpkg.upbound.io/crossplane-contrib/provider-nop:v0.4.0
`;

type TestPlatform = Awaited<ReturnType<typeof startPlatform>>;

/** What `pave up` serves, without the Git host and portal: the control plane and the providers module. */
function startPave(dataDir?: string): Promise<TestPlatform> {
  return startPlatform({ modules: [controlPlaneModule(), providersModule()], listen: false, settings: { 'dns-port': '0' }, ...(dataDir ? { dataDir } : {}) });
}

async function apply(p: TestPlatform, yaml: string): Promise<void> {
  for (const o of yamlDocs(yaml)) await p.client.apply(o, { fieldManager: 'test', force: true });
}

function condition(o: Resource | undefined, type: string): { status: string; reason: string; message?: string } | undefined {
  return (o?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

const get = (p: TestPlatform, apiVersion: string, kind: string, name: string) => p.client.get({ apiVersion, kind, name }).catch(() => undefined);

/** The Provider once its Healthy condition has the status `healthy`. */
function providerHealthy(p: TestPlatform, name: string, healthy: 'True' | 'False'): Promise<Resource> {
  return eventually(async () => {
    const o = await get(p, PKG, 'Provider', name);
    return condition(o, 'Healthy')?.status === healthy ? o : undefined;
  }, 10_000, `Provider ${name} Healthy=${healthy}`);
}

function nopResource(name: string, forProvider: Record<string, unknown>): Resource {
  return { apiVersion: NOP_API, kind: 'NopResource', metadata: { name }, spec: { forProvider } };
}

function nopReady(p: TestPlatform, name: string): Promise<Resource> {
  return eventually(async () => {
    const o = await get(p, NOP_API, 'NopResource', name);
    return condition(o, 'Ready')?.status === 'True' && condition(o, 'Synced')?.status === 'True' ? o : undefined;
  }, 15_000, `NopResource ${name} Synced and Ready`);
}

describe('Provider packages (pkg.crossplane.io/v1)', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startPave();
  });
  after(async () => p.close());

  it('starts provider-nop when a Provider names it, and reports it Installed and Healthy', async () => {
    await assert.rejects(p.client.create(nopResource('before-provider', { size: 1 })), 'NopResource is not served before a Provider asks for it');
    await apply(p, providerNopYaml);
    const provider = await providerHealthy(p, 'provider-nop', 'True');
    assert.equal(condition(provider, 'Installed')?.status, 'True');
    assert.equal(condition(provider, 'Installed')?.reason, 'ActivePackageRevision');
    assert.equal(condition(provider, 'Healthy')?.reason, 'HealthyPackageRevision');
    assert.equal(provider.status.currentIdentifier, 'xpkg.upbound.io/crossplane-contrib/provider-nop:v0.4.0');
    assert.match(provider.status.currentRevision, /^provider-nop-[0-9a-f]{12}$/);
    assert.deepEqual(provider.spec, { package: 'xpkg.upbound.io/crossplane-contrib/provider-nop:v0.4.0' }, 'the object is kept as written');

    await p.client.create(nopResource('after-provider', { size: 1 }));
    await nopReady(p, 'after-provider');

    // a second Provider for the same package, pinned by digest on another registry, is fine too
    await apply(p, `
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata: {name: nop-mirrored}
spec:
  package: registry.internal:5000/mirror/provider-nop@sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080706050403020100
  packagePullPolicy: IfNotPresent
  revisionActivationPolicy: Automatic
  revisionHistoryLimit: 1
`);
    const mirrored = await providerHealthy(p, 'nop-mirrored', 'True');
    assert.equal(condition(mirrored, 'Installed')?.status, 'True');
    assert.notEqual(mirrored.status.currentRevision, provider.status.currentRevision);
    assert.equal((await get(p, PKG, 'Provider', 'provider-nop'))?.status.currentRevision, provider.status.currentRevision, 'the first is still reported as it was');
  });

  it('keeps a Provider for a package it does not have, and says which ones it has', async () => {
    // what a bootstrap directory holds beside its Providers goes in too
    await apply(p, `
apiVersion: pkg.crossplane.io/v1beta1
kind: DeploymentRuntimeConfig
metadata: {name: debug}
spec:
  deploymentTemplate:
    spec:
      selector: {}
      template:
        spec:
          containers:
          - name: package-runtime
            args: [--debug]
---
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata: {name: upbound-provider-aws-s3}
spec:
  package: xpkg.upbound.io/upbound/provider-aws-s3:v1.2.0
  runtimeConfigRef: {name: debug}
---
apiVersion: pkg.crossplane.io/v1alpha1
kind: ControllerConfig
metadata: {name: legacy}
spec:
  args: [--debug]
`);
    const provider = await providerHealthy(p, 'upbound-provider-aws-s3', 'False');
    assert.equal(condition(provider, 'Installed')?.status, 'False');
    assert.equal(condition(provider, 'Installed')?.reason, 'InactivePackageRevision');
    assert.match(condition(provider, 'Installed')!.message!, /package "xpkg\.upbound\.io\/upbound\/provider-aws-s3:v1\.2\.0" is not one of Pave's built-in providers/);
    assert.equal(condition(provider, 'Healthy')?.reason, 'UnhealthyPackageRevision');
    const message = condition(provider, 'Healthy')!.message!;
    assert.match(message, /^Pave has no built-in provider for package "xpkg\.upbound\.io\/upbound\/provider-aws-s3:v1\.2\.0"; built in: /);
    for (const builtin of ['provider-nop (test provider', 'provider-sql (', 'provider-redis (', 'provider-dns (']) assert.ok(message.includes(builtin), `${builtin} is listed in: ${message}`);
    assert.equal(provider.status.currentRevision, undefined);
    assert.deepEqual(provider.spec, { package: 'xpkg.upbound.io/upbound/provider-aws-s3:v1.2.0', runtimeConfigRef: { name: 'debug' } });

    const event = await eventually(async () => (await p.client.list('v1', 'Event', { namespace: 'default' })).items.find((e) => e.involvedObject?.uid === provider.metadata.uid && e.type === 'Warning'), 10_000, 'a Warning Event on the Provider');
    assert.equal(event.message, message);

    const runtimeConfig = await get(p, 'pkg.crossplane.io/v1beta1', 'DeploymentRuntimeConfig', 'debug');
    assert.deepEqual(runtimeConfig?.spec.deploymentTemplate.spec.template.spec.containers, [{ name: 'package-runtime', args: ['--debug'] }]);
    assert.deepEqual((await get(p, 'pkg.crossplane.io/v1alpha1', 'ControllerConfig', 'legacy'))?.spec, { args: ['--debug'] });
  });

  it('reports provider-sql healthy, which it always serves, and serves nothing new for it', async () => {
    const crds = async () => (await p.client.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).items.map((c) => c.metadata.name).sort();
    const before = await crds();
    assert.ok(before.includes('databases.postgresql.sql.crossplane.io'));
    await apply(p, `
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata: {name: provider-sql}
spec:
  package: xpkg.upbound.io/crossplane-contrib/provider-sql:v0.9.0
`);
    const provider = await providerHealthy(p, 'provider-sql', 'True');
    assert.equal(condition(provider, 'Installed')?.status, 'True');
    assert.match(condition(provider, 'Healthy')!.message!, /provider-sql.*postgresql\.sql\.crossplane\.io/);
    assert.equal(provider.status.currentIdentifier, 'xpkg.upbound.io/crossplane-contrib/provider-sql:v0.9.0');
    assert.deepEqual(await crds(), before);
  });
});

describe('a Provider after a restart', () => {
  const dataDir = tempDir();
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts provider-nop again, whose external resources were kept in the data directory', async () => {
    const first = await startPave(dataDir);
    try {
      await apply(first, providerNopYaml);
      await providerHealthy(first, 'provider-nop', 'True');
      await first.client.create(nopResource('kept', { size: 1 }));
      await nopReady(first, 'kept');
    } finally {
      await first.close();
    }

    const second = await startPave(dataDir);
    try {
      // the stored Provider, not a new apply, serves NopResource again
      await second.client.create(nopResource('made-after-restart', { size: 1 }));
      await nopReady(second, 'made-after-restart');
      await second.client.patch({ apiVersion: NOP_API, kind: 'NopResource', name: 'kept' }, 'merge', { spec: { forProvider: { size: 2 } } });
      const state = join(dataDir, 'provider-nop.jsonl');
      await eventually(() => new NopBackend({ statePath: state }).peek('kept')?.size === 2, 15_000, 'the change to "kept" reaching its external resource');
      assert.equal(new NopBackend({ statePath: state }).createCount('kept'), 1, 'created once, not again after the restart');
    } finally {
      await second.close();
    }
  });
});

describe('packageName', () => {
  it('is the repository name of a package reference', () => {
    const cases: [string, string][] = [
      ['xpkg.upbound.io/crossplane-contrib/provider-nop:v0.4.0', 'provider-nop'],
      ['xpkg.upbound.io/crossplane-contrib/provider-sql', 'provider-sql'],
      ['xpkg.upbound.io/crossplane-contrib/provider-sql@sha256:4b7e7e1b0b0c', 'provider-sql'],
      ['xpkg.upbound.io/crossplane-contrib/provider-sql:v0.9.0@sha256:4b7e7e1b0b0c', 'provider-sql'],
      ['localhost:5000/provider-nop', 'provider-nop'],
      ['registry.internal:5000/mirror/crossplane/provider-nop:v0.4.0', 'provider-nop'],
      ['provider-nop:v0.4.0', 'provider-nop'],
      ['provider-nop', 'provider-nop'],
      ['', ''],
    ];
    for (const [ref, name] of cases) assert.equal(packageName(ref), name, ref);
  });
});
