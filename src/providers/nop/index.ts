import { createHash } from 'node:crypto';
import { jsonEqual } from '../../api/equality.js';
import { registerProvider } from '../../controlplane/index.js';
import type { ExternalClient, ExternalObservation, ManagedKind, ManagedResource, Provider } from '../../controlplane/provider.js';
import type { Resource } from '../../api/types.js';
import type { PlatformModule } from '../../platform.js';
import { NopBackend } from './backend.js';

/**
 * TEST PROVIDER: provider-nop. Its NopResource (nop.crossplane.io/v1alpha1) manages objects in
 * an imaginary backend (NopBackend) with configurable latency, failure rate and out-of-band
 * drift. It exists for tests, benchmarks and trying compositions without infrastructure; it
 * provisions nothing real.
 *
 * ProviderConfig spec: { latency: "10ms", failureRate: 0.01, statePath: "/path/nop.jsonl" }.
 * Without a ProviderConfig, resources use the backend the provider was created with.
 */
export const NOP_API = 'nop.crossplane.io/v1alpha1';

export interface NopProviderOptions {
  /** The backend used when no ProviderConfig names a state file. */
  backend?: NopBackend;
}

const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function crd(kind: string, plural: string, spec: Record<string, unknown>, columns: unknown[] = []): Resource {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.nop.crossplane.io` },
    spec: {
      group: 'nop.crossplane.io',
      names: { kind, plural, singular: kind.toLowerCase(), categories: ['crossplane', 'managed', 'nop'] },
      scope: 'Cluster',
      versions: [{ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} }, additionalPrinterColumns: columns, schema: { openAPIV3Schema: { type: 'object', properties: { spec, status: preserve } } } }],
    },
  };
}

const ref = { type: 'object', properties: { name: { type: 'string' } } };
const managedSpec = {
  type: 'object',
  required: ['forProvider'],
  properties: {
    forProvider: preserve,
    initProvider: preserve,
    providerConfigRef: ref,
    deletionPolicy: { type: 'string', enum: ['Delete', 'Orphan'], default: 'Delete' },
    managementPolicies: { type: 'array', items: { type: 'string', enum: ['*', 'Observe', 'Create', 'Update', 'Delete', 'LateInitialize'] } },
    writeConnectionSecretToRef: { type: 'object', required: ['name', 'namespace'], properties: { name: { type: 'string' }, namespace: { type: 'string' } } },
  },
};

/** ProviderConfigUsage keeps its fields at the top level (providerConfigRef, resourceRef), as in Crossplane. */
function usageCrd(): Resource {
  const c = crd('ProviderConfigUsage', 'providerconfigusages', preserve);
  c.spec.versions[0].schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
  delete c.spec.versions[0].subresources;
  return c;
}

export function nopCrds(): Resource[] {
  return [
    crd('NopResource', 'nopresources', managedSpec, [
      { name: 'READY', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'SYNCED', type: 'string', jsonPath: '.status.conditions[?(@.type=="Synced")].status' },
      { name: 'EXTERNAL-NAME', type: 'string', jsonPath: '.metadata.annotations.crossplane\\.io/external-name' },
    ]),
    crd('ProviderConfig', 'providerconfigs', { type: 'object', properties: { latency: { type: 'string' }, failureRate: { type: 'number', minimum: 0, maximum: 1 }, statePath: { type: 'string' } } }),
    usageCrd(),
  ];
}

function externalName(mr: ManagedResource): string {
  return mr.metadata.annotations?.['crossplane.io/external-name'] || mr.metadata.name!;
}

function observation(mr: ManagedResource, stored: Record<string, unknown> | undefined): ExternalObservation {
  if (!stored) return { resourceExists: false, resourceUpToDate: false };
  const name = externalName(mr);
  const want = mr.spec.forProvider ?? {};
  const upToDate = jsonEqual(want, stored);
  return {
    resourceExists: true,
    resourceUpToDate: upToDate,
    atProvider: { id: name, fields: stored },
    connectionDetails: { endpoint: `nop://${name}`, username: name, password: password(name) },
    ...(upToDate ? {} : { diff: `fields differ: have ${JSON.stringify(sortKeys(stored))}, want ${JSON.stringify(sortKeys(want))}` }),
  };
}

/** Passwords derive from the name; remembered because observeMany asks for thousands per second. */
const passwords = new Map<string, string>();

function password(name: string): string {
  let p = passwords.get(name);
  if (p === undefined) {
    p = createHash('sha256').update(`nop/${name}`).digest('hex').slice(0, 20);
    if (passwords.size >= 100_000) passwords.clear();
    passwords.set(name, p);
  }
  return p;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

export function nopClient(backend: NopBackend): ExternalClient {
  return {
    async observe(mr) {
      return observation(mr, await backend.get(externalName(mr)));
    },
    async observeMany(mrs) {
      const stored = await backend.getMany(mrs.map(externalName));
      return mrs.map((mr, i) => observation(mr, stored[i]));
    },
    async create(mr) {
      const name = externalName(mr);
      await backend.create(name, mr.spec.forProvider ?? {});
      return { connectionDetails: observation(mr, mr.spec.forProvider).connectionDetails };
    },
    async update(mr) {
      await backend.update(externalName(mr), mr.spec.forProvider ?? {});
      return {};
    },
    async delete(mr) {
      await backend.delete(externalName(mr));
    },
  };
}

/** provider-nop, over `opts.backend` (or a fresh in-memory backend). */
export function nopProvider(opts: NopProviderOptions = {}): Provider & { backend: NopBackend } {
  const backend = opts.backend ?? new NopBackend();
  const byPath = new Map<string, NopBackend>();
  const kind: ManagedKind = {
    apiVersion: NOP_API,
    kind: 'NopResource',
    // an in-memory backend: the API, not the backend, bounds how many can usefully run at once
    maxConcurrentReconciles: 256,
    async connect(pc) {
      const spec = pc?.spec ?? {};
      let b = backend;
      if (spec.statePath) {
        b = byPath.get(spec.statePath) ?? new NopBackend({ statePath: spec.statePath });
        byPath.set(spec.statePath, b);
      }
      if (spec.latency) b.latencyMs = Number(/^(\d+)ms$/.exec(spec.latency)?.[1] ?? Number(/^(\d+)s$/.exec(spec.latency)?.[1] ?? 0) * 1000);
      if (spec.failureRate !== undefined) b.failureRate = spec.failureRate;
      return nopClient(b);
    },
  };
  return { name: 'provider-nop', crds: nopCrds(), managed: [kind], providerConfig: { apiVersion: NOP_API, kind: 'ProviderConfig' }, backend };
}

/** A module serving provider-nop (TEST PROVIDER); not in the default module list. */
export function nopProviderModule(opts: NopProviderOptions = {}): PlatformModule & { provider: ReturnType<typeof nopProvider> } {
  const provider = nopProvider(opts);
  return {
    name: 'provider-nop',
    provider,
    async install(p) {
      await registerProvider(p, provider);
    },
  };
}

export { NopBackend } from './backend.js';
