import type { Resource } from '../api/types.js';

/**
 * CustomResourceDefinitions for managed resources and ProviderConfigs, shaped the way
 * crossplane-runtime generates them: every managed kind gets the common `spec` fields
 * (providerConfigRef, deletionPolicy, managementPolicies, writeConnectionSecretToRef) beside its
 * own `forProvider`, the READY/SYNCED printer columns, and a status that keeps `atProvider` and
 * `conditions`. Providers describe only what is theirs.
 */

type Schema = Record<string, unknown>;

export const str: Schema = { type: 'string' };
export const bool: Schema = { type: 'boolean' };
export const int: Schema = { type: 'integer' };

export function obj(properties: Record<string, Schema>, required?: string[]): Schema {
  return { type: 'object', properties, ...(required?.length ? { required } : {}) };
}

export function arr(items: Schema, extra: Schema = {}): Schema {
  return { type: 'array', items, ...extra };
}

export function enumOf(...values: string[]): Schema {
  return { type: 'string', enum: values };
}

/** xpv1.SecretKeySelector */
export const secretKeySelector = obj({ name: str, namespace: str, key: str }, ['name', 'namespace', 'key']);
/** xpv1.SecretReference */
export const secretReference = obj({ name: str, namespace: str }, ['name', 'namespace']);
/** xpv1.Reference: a reference to another managed resource by name. */
export const reference = obj({ name: str, policy: obj({ resolution: enumOf('Required', 'Optional'), resolve: enumOf('Always', 'IfNotPresent') }) }, ['name']);
/** xpv1.Selector: selects a managed resource by labels or by sharing the controller. */
export const selector = obj({
  matchControllerRef: bool,
  matchLabels: { type: 'object', additionalProperties: str },
  policy: obj({ resolution: enumOf('Required', 'Optional'), resolve: enumOf('Always', 'IfNotPresent') }),
});

const conditions = arr(obj({ type: str, status: str, reason: str, message: str, lastTransitionTime: str, observedGeneration: int }));

const resourceSpec: Record<string, Schema> = {
  deletionPolicy: { type: 'string', enum: ['Orphan', 'Delete'], default: 'Delete' },
  managementPolicies: { type: 'array', items: enumOf('Observe', 'Create', 'Update', 'Delete', 'LateInitialize', '*'), default: ['*'] },
  providerConfigRef: { ...reference, default: { name: 'default' } },
  providerRef: reference,
  writeConnectionSecretToRef: secretReference,
  publishConnectionDetailsTo: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
};

export interface ManagedCrdOptions {
  group: string;
  kind: string;
  plural?: string;
  version?: string;
  forProvider: Schema;
  /** Required fields of forProvider. */
  required?: string[];
  atProvider?: Schema;
  columns?: { name: string; type: string; jsonPath: string; priority?: number }[];
  categories?: string[];
}

/** A cluster-scoped managed resource CRD with Crossplane's common fields. */
export function managedCrd(o: ManagedCrdOptions): Resource {
  const plural = o.plural ?? `${o.kind.toLowerCase()}s`;
  const forProvider = { ...o.forProvider, ...(o.required?.length ? { required: o.required } : {}) };
  return crd(o.group, o.kind, plural, o.version ?? 'v1alpha1', o.categories ?? ['crossplane', 'managed'], {
    spec: obj({ ...resourceSpec, forProvider, initProvider: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }, ['forProvider']),
    status: obj({ atProvider: o.atProvider ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, conditions }),
  }, [
    { name: 'READY', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
    { name: 'SYNCED', type: 'string', jsonPath: ".status.conditions[?(@.type=='Synced')].status" },
    { name: 'EXTERNAL-NAME', type: 'string', jsonPath: ".metadata.annotations.crossplane\\.io/external-name" },
    ...(o.columns ?? []),
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]);
}

/** A cluster-scoped ProviderConfig CRD (and its status as crossplane-runtime writes it). */
export function providerConfigCrd(group: string, spec: Schema, version = 'v1alpha1'): Resource {
  return crd(group, 'ProviderConfig', 'providerconfigs', version, ['crossplane', 'provider'], {
    spec,
    status: obj({ users: int, conditions }),
  }, [{ name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' }]);
}

function crd(group: string, kind: string, plural: string, version: string, categories: string[], properties: Record<string, Schema>, columns: object[]): Resource {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, categories },
      scope: 'Cluster',
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: { openAPIV3Schema: { type: 'object', properties } },
        },
      ],
    },
  };
}
