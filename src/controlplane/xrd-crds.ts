import type { Resource } from '../api/types.js';

/**
 * What a CompositeResourceDefinition becomes: the composite (XR) CRD and, with claimNames,
 * the claim CRD, each with the fields Crossplane injects into spec and status. Pure, so that
 * `pave validate` and `pave render` derive the same schemas offline.
 */
export interface Xrd extends Resource {
  spec: {
    group: string;
    names: { kind: string; plural: string; singular?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    claimNames?: { kind: string; plural: string; singular?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    connectionSecretKeys?: string[];
    defaultCompositionRef?: { name: string };
    enforcedCompositionRef?: { name: string };
    defaultCompositionUpdatePolicy?: 'Automatic' | 'Manual';
    defaultCompositeDeletePolicy?: 'Background' | 'Foreground';
    versions: { name: string; served: boolean; referenceable: boolean; schema?: { openAPIV3Schema?: Record<string, any> }; additionalPrinterColumns?: unknown[]; deprecated?: boolean }[];
  };
}

export class XrdError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const str = { type: 'string' };
const nameRef = { type: 'object', required: ['name'], properties: { name: str } };
const selector = { type: 'object', required: ['matchLabels'], properties: { matchLabels: { type: 'object', additionalProperties: str } } };
const conditions = {
  type: 'array',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: {
    type: 'object',
    required: ['type', 'status', 'reason', 'lastTransitionTime'],
    properties: { type: str, status: str, reason: str, message: str, lastTransitionTime: str, observedGeneration: { type: 'integer' } },
  },
};

/**
 * Crossplane defaults the XRD's defaultCompositionUpdatePolicy to Automatic and
 * defaultCompositeDeletePolicy to Background, so every XR and claim shows both, set or not.
 */
function commonSpec(updatePolicyDefault = 'Automatic'): Record<string, any> {
  return {
    compositionRef: nameRef,
    compositionSelector: selector,
    compositionRevisionRef: nameRef,
    compositionRevisionSelector: selector,
    compositionUpdatePolicy: { type: 'string', enum: ['Automatic', 'Manual'], default: updatePolicyDefault },
    environmentConfigRefs: { type: 'array', items: { type: 'object', properties: { apiVersion: str, kind: str, name: str } } },
    publishConnectionDetailsTo: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  };
}

function compositeSpec(xrd: Xrd): Record<string, any> {
  return {
    ...commonSpec(xrd.spec.defaultCompositionUpdatePolicy),
    claimRef: { type: 'object', required: ['apiVersion', 'kind', 'namespace', 'name'], properties: { apiVersion: str, kind: str, namespace: str, name: str } },
    resourceRefs: { type: 'array', items: { type: 'object', required: ['apiVersion', 'kind'], properties: { apiVersion: str, kind: str, name: str } } },
    writeConnectionSecretToRef: { type: 'object', required: ['name', 'namespace'], properties: { name: str, namespace: str } },
  };
}

function claimSpec(xrd: Xrd): Record<string, any> {
  return {
    ...commonSpec(xrd.spec.defaultCompositionUpdatePolicy),
    compositeDeletePolicy: { type: 'string', enum: ['Background', 'Foreground'], default: xrd.spec.defaultCompositeDeletePolicy ?? 'Background' },
    resourceRef: { type: 'object', required: ['apiVersion', 'kind', 'name'], properties: { apiVersion: str, kind: str, name: str } },
    writeConnectionSecretToRef: { type: 'object', required: ['name'], properties: { name: str } },
  };
}

const compositeStatus = { conditions, connectionDetails: { type: 'object', properties: { lastPublishedTime: str } }, claimConditionTypes: { type: 'array', items: str } };

function withInjected(user: Record<string, any> | undefined, spec: Record<string, any>, status: Record<string, any>): Record<string, any> {
  const s = structuredClone(user ?? { type: 'object' });
  s.type ??= 'object';
  s.properties ??= {};
  const userSpec = s.properties.spec ?? { type: 'object' };
  s.properties.spec = { ...userSpec, type: 'object', properties: { ...(userSpec.properties ?? {}), ...spec } };
  const userStatus = s.properties.status ?? { type: 'object' };
  s.properties.status = { ...userStatus, type: 'object', properties: { ...(userStatus.properties ?? {}), ...status } };
  s.properties.apiVersion = str;
  s.properties.kind = str;
  s.properties.metadata = { type: 'object' };
  return s;
}

/** Checks the version rules Crossplane enforces; throws an XrdError naming the field. */
export function checkXrd(xrd: Xrd): void {
  const s = xrd.spec;
  if (!s?.group) throw new XrdError('spec.group', 'is required');
  if (!s.names?.kind || !s.names.plural) throw new XrdError('spec.names', 'kind and plural are required');
  const expected = `${s.names.plural}.${s.group}`;
  if (xrd.metadata.name !== expected) throw new XrdError('metadata.name', `must be spec.names.plural + "." + spec.group ("${expected}")`);
  if (!s.versions?.length) throw new XrdError('spec.versions', 'at least one version is required');
  const referenceable = s.versions.filter((v) => v.referenceable);
  if (referenceable.length !== 1) throw new XrdError('spec.versions', `exactly one version must be referenceable (found ${referenceable.length})`);
  if (!referenceable[0]!.served) throw new XrdError(`spec.versions[${s.versions.indexOf(referenceable[0]!)}].served`, 'the referenceable version must be served');
  if (s.claimNames) {
    // as Crossplane: no claim name may equal the composite's corresponding name
    for (const f of ['kind', 'plural', 'singular', 'listKind'] as const) {
      const n = s.claimNames[f];
      if (n && n === s.names[f]) throw new XrdError(`spec.claimNames.${f}`, `"${n}" conflicts with the composite resource name (spec.names.${f})`);
    }
  }
}

/** The apiVersion composites and claims are reconciled at: the referenceable version. */
export function referenceableVersion(xrd: Xrd): string {
  const v = xrd.spec.versions.find((x) => x.referenceable) ?? xrd.spec.versions[0]!;
  return `${xrd.spec.group}/${v.name}`;
}

function makeCrd(xrd: Xrd, names: NonNullable<Xrd['spec']['claimNames']>, scope: 'Cluster' | 'Namespaced', spec: Record<string, any>, columns: unknown[], extraCategory: string): Resource {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${xrd.spec.group}`,
      labels: { 'crossplane.io/xrd': xrd.metadata.name! },
      ownerReferences: xrd.metadata.uid ? [{ apiVersion: xrd.apiVersion, kind: xrd.kind, name: xrd.metadata.name!, uid: xrd.metadata.uid, controller: true, blockOwnerDeletion: true }] : undefined,
    },
    spec: {
      group: xrd.spec.group,
      names: {
        kind: names.kind,
        plural: names.plural,
        singular: names.singular ?? names.kind.toLowerCase(),
        listKind: names.listKind ?? `${names.kind}List`,
        shortNames: names.shortNames ?? [],
        // as Crossplane: `kubectl get composite` / `kubectl get claim`; the crossplane category is for Crossplane's own types and managed resources
        categories: [...new Set([...(names.categories ?? []), extraCategory])],
      },
      scope,
      versions: xrd.spec.versions.map((v) => ({
        name: v.name,
        served: v.served,
        storage: v.referenceable,
        deprecated: v.deprecated,
        subresources: { status: {} },
        // the XRD's own columns first, then SYNCED, READY, ... and AGE, as Crossplane orders them
        additionalPrinterColumns: [...(v.additionalPrinterColumns ?? []), ...columns],
        schema: { openAPIV3Schema: withInjected(v.schema?.openAPIV3Schema, spec, compositeStatus) },
      })),
    },
  };
}

const synced = { name: 'SYNCED', type: 'string', jsonPath: '.status.conditions[?(@.type=="Synced")].status' };
const readyCol = { name: 'READY', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const age = { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export function compositeCrd(xrd: Xrd): Resource {
  checkXrd(xrd);
  return makeCrd(xrd, xrd.spec.names, 'Cluster', compositeSpec(xrd), [synced, readyCol, { name: 'COMPOSITION', type: 'string', jsonPath: '.spec.compositionRef.name' }, age], 'composite');
}

export function claimCrd(xrd: Xrd): Resource | undefined {
  checkXrd(xrd);
  if (!xrd.spec.claimNames) return undefined;
  return makeCrd(xrd, xrd.spec.claimNames, 'Namespaced', claimSpec(xrd), [synced, readyCol, { name: 'CONNECTION-SECRET', type: 'string', jsonPath: '.spec.writeConnectionSecretToRef.name' }, age], 'claim');
}
