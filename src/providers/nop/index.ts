import { createHash } from 'node:crypto';
import { parseDuration } from '../../api/duration.js';
import { jsonEqual } from '../../api/equality.js';
import { registerProvider } from '../../controlplane/index.js';
import type { ExternalClient, ExternalObservation, ManagedKind, ManagedResource, Provider } from '../../controlplane/provider.js';
import type { Condition, Resource } from '../../api/types.js';
import type { PlatformModule } from '../../platform.js';
import { NopBackend } from './backend.js';

/**
 * TEST PROVIDER: provider-nop. Its NopResource (nop.crossplane.io/v1alpha1; ClusterNopResource,
 * the name newer releases give the cluster-scoped kind, is the same) manages objects in
 * an imaginary backend (NopBackend) with configurable latency, failure rate and out-of-band
 * drift. It exists for tests, benchmarks and trying compositions without infrastructure; it
 * provisions nothing real.
 *
 * ProviderConfig spec: { latency: "10ms", failureRate: 0.01, statePath: "/path/nop.jsonl" }.
 * Without a ProviderConfig, resources use the backend the provider was created with.
 *
 * spec.forProvider is stored in the backend as it is, and two of its fields mean what they mean
 * to upstream provider-nop, so that Crossplane's test compositions behave the same here:
 * `conditionAfter` sets status conditions once the resource is that old, and `connectionDetails`
 * are the connection details it publishes. Without a Ready entry in conditionAfter a resource is
 * Ready as soon as it exists (upstream never makes it Ready); without connectionDetails it
 * publishes an endpoint, a username and a password of its own.
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
const str = { type: 'string' };
const ZERO = /^0+(\.0+)?(ms|s|m|h)?$/;
/** A Go duration of the units parseDuration reads, as upstream's conditionAfter[].time is. */
const duration = { type: 'string', pattern: '^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$' };
const forProvider = {
  ...preserve,
  properties: {
    conditionAfter: {
      type: 'array',
      items: { type: 'object', required: ['time', 'conditionType', 'conditionStatus'], properties: { time: duration, conditionType: str, conditionStatus: { type: 'string', enum: ['True', 'False', 'Unknown'] }, conditionReason: str } },
    },
    connectionDetails: { type: 'array', items: { type: 'object', required: ['name', 'value'], properties: { name: str, value: str } } },
  },
};
const managedSpec = {
  type: 'object',
  required: ['forProvider'],
  properties: {
    forProvider,
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

const columns = [
  { name: 'READY', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'SYNCED', type: 'string', jsonPath: '.status.conditions[?(@.type=="Synced")].status' },
  { name: 'EXTERNAL-NAME', type: 'string', jsonPath: '.metadata.annotations.crossplane\\.io/external-name' },
];

export function nopCrds(): Resource[] {
  return [
    crd('NopResource', 'nopresources', managedSpec, columns),
    // newer provider-nop releases call the cluster-scoped kind ClusterNopResource: the same resource
    crd('ClusterNopResource', 'clusternopresources', managedSpec, columns),
    crd('ProviderConfig', 'providerconfigs', { type: 'object', properties: { latency: { type: 'string' }, failureRate: { type: 'number', minimum: 0, maximum: 1 }, statePath: { type: 'string' } } }),
    usageCrd(),
  ];
}

function externalName(mr: ManagedResource): string {
  return mr.metadata.annotations?.['crossplane.io/external-name'] || mr.metadata.name!;
}

/** Where the backend keeps the resource: the two kinds keep theirs apart, as two backends would. */
function backendKey(mr: ManagedResource): string {
  return mr.kind === 'ClusterNopResource' ? `ClusterNopResource/${externalName(mr)}` : externalName(mr);
}

function observation(mr: ManagedResource, stored: Record<string, unknown> | undefined, nowMs = Date.now()): ExternalObservation {
  if (!stored) return { resourceExists: false, resourceUpToDate: false };
  const name = externalName(mr);
  const want = mr.spec.forProvider ?? {};
  const upToDate = jsonEqual(want, stored);
  return {
    resourceExists: true,
    resourceUpToDate: upToDate,
    atProvider: { id: name, fields: stored },
    connectionDetails: connectionDetails(mr, name),
    ...scheduledConditions(mr, nowMs),
    ...(upToDate ? {} : { diff: `fields differ: have ${JSON.stringify(sortKeys(stored))}, want ${JSON.stringify(sortKeys(want))}` }),
  };
}

/** spec.forProvider.connectionDetails as upstream reads it (a list of name and value), or details of our own. */
function connectionDetails(mr: ManagedResource, name: string): Record<string, string> {
  const listed = mr.spec.forProvider?.connectionDetails;
  if (!Array.isArray(listed)) return { endpoint: `nop://${name}`, username: name, password: password(name) };
  return Object.fromEntries(listed.map((d: { name: string; value: unknown }) => [d.name, String(d.value ?? '')]));
}

interface ConditionAfter {
  time: string;
  conditionType: string;
  conditionStatus: Condition['status'];
  conditionReason?: string;
}

/**
 * The conditions spec.forProvider.conditionAfter sets by now: for each type, the entry with the
 * latest time the resource's age has reached. The next entry still to come is when the
 * observation changes by itself.
 */
function scheduledConditions(mr: ManagedResource, nowMs: number): Pick<ExternalObservation, 'conditions' | 'ready' | 'changesAfterMs'> {
  const entries = mr.spec.forProvider?.conditionAfter as ConditionAfter[] | undefined;
  if (!Array.isArray(entries) || !entries.length) return {};
  const created = Date.parse(mr.metadata.creationTimestamp ?? '');
  const age = Number.isNaN(created) ? 0 : nowMs - created;
  // the CRD's schema admits only durations, so an entry without one is one stored before it
  const timed = entries.flatMap((e) => {
    const at = ZERO.test(e.time) ? 0 : parseDuration(e.time);
    return at === undefined ? [] : [{ ...e, at }];
  });
  const conditions: Condition[] = [];
  let next: number | undefined;
  // latest first, so that the first reached entry of each type is the one in force
  for (const e of [...timed].sort((a, b) => b.at - a.at)) {
    if (e.at > age) {
      next = Math.min(next ?? Infinity, e.at - age);
      continue;
    }
    if (conditions.some((c) => c.type === e.conditionType)) continue;
    const reason = e.conditionReason || (e.conditionType === 'Ready' ? (e.conditionStatus === 'True' ? 'Available' : 'Unavailable') : undefined);
    conditions.push({ type: e.conditionType, status: e.conditionStatus, ...(reason ? { reason } : {}) });
  }
  const readyEntry = conditions.find((c) => c.type === 'Ready');
  // a resource told when to become Ready is not Ready before then
  const readyPlanned = timed.some((e) => e.conditionType === 'Ready');
  return {
    conditions,
    ...(readyPlanned ? { ready: readyEntry?.status === 'True' } : {}),
    ...(next !== undefined ? { changesAfterMs: next } : {}),
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
      return observation(mr, await backend.get(backendKey(mr)));
    },
    async observeMany(mrs) {
      const stored = await backend.getMany(mrs.map(backendKey));
      return mrs.map((mr, i) => observation(mr, stored[i]));
    },
    async create(mr) {
      await backend.create(backendKey(mr), mr.spec.forProvider ?? {});
      return { connectionDetails: connectionDetails(mr, externalName(mr)) };
    },
    async update(mr) {
      await backend.update(backendKey(mr), mr.spec.forProvider ?? {});
      return {};
    },
    async delete(mr) {
      await backend.delete(backendKey(mr));
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
  return { name: 'provider-nop', crds: nopCrds(), managed: [kind, { ...kind, kind: 'ClusterNopResource' }], providerConfig: { apiVersion: NOP_API, kind: 'ProviderConfig' }, backend };
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
