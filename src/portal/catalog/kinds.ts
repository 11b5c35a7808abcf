import { createHash } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import { DEFAULT_NAMESPACE, INTERNAL_PREFIX, resourceNameFor, type Entity } from './entity.js';

/** Where each catalog kind is stored: its resource type (a CRD Pave applies at start-up). */
export interface CatalogKind {
  kind: string;
  group: string;
  plural: string;
  /** The version objects are stored at; the other listed versions are served too. */
  storageVersion: string;
  versions: string[];
}

export const CATALOG_KINDS: CatalogKind[] = [
  ...['Component', 'API', 'Resource', 'System', 'Domain', 'Group', 'User', 'Location'].map((kind) => ({
    kind,
    group: 'backstage.io',
    plural: kind === 'API' ? 'apis' : `${kind.toLowerCase()}s`,
    storageVersion: 'v1alpha1',
    versions: ['v1alpha1', 'v1beta1'],
  })),
  { kind: 'Template', group: 'scaffolder.backstage.io', plural: 'templates', storageVersion: 'v1beta3', versions: ['v1beta3'] },
];

const byLowerKind = new Map(CATALOG_KINDS.map((k) => [k.kind.toLowerCase(), k]));

export function catalogKind(kind: string): CatalogKind | undefined {
  return byLowerKind.get(kind.toLowerCase());
}

export function storageApiVersion(k: CatalogKind): string {
  return `${k.group}/${k.storageVersion}`;
}

/** The CRD that serves one catalog kind; entities keep any spec, so the schema preserves fields. */
export function catalogCrd(k: CatalogKind): Resource {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${k.group}`, labels: { 'app.kubernetes.io/part-of': 'pave-catalog' } },
    spec: {
      group: k.group,
      scope: 'Namespaced',
      names: { plural: k.plural, singular: k.kind.toLowerCase(), kind: k.kind, categories: ['catalog'] },
      versions: k.versions.map((v) => ({
        name: v,
        served: true,
        storage: v === k.storageVersion,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Type', type: 'string', jsonPath: '.spec.type' },
          { name: 'Owner', type: 'string', jsonPath: '.spec.owner' },
        ],
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      })),
    },
  };
}

const NAME_ANNOTATION = `${INTERNAL_PREFIX}entity-name`;
const API_VERSION_ANNOTATION = `${INTERNAL_PREFIX}api-version`;

/** An entity as the resource it is stored as. Unknown kinds have no resource type: undefined. */
export function entityToResource(e: Entity): Resource | undefined {
  const k = catalogKind(e.kind);
  if (!k) return undefined;
  const { uid, etag, name, namespace, ...meta } = e.metadata;
  const resourceName = resourceNameFor(name);
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  if (resourceName !== name) annotations[NAME_ANNOTATION] = name;
  if (e.apiVersion !== storageApiVersion(k)) annotations[API_VERSION_ANNOTATION] = e.apiVersion;
  const metadata: Resource['metadata'] = { ...(meta as object), name: resourceName, namespace: namespace ?? DEFAULT_NAMESPACE };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { apiVersion: storageApiVersion(k), kind: k.kind, metadata, spec: e.spec ?? {} };
}

const K8S_ONLY = new Set(['resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'finalizers', 'ownerReferences', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName']);

/** The entity a stored resource serves, without relations (the catalog index adds those). */
export function resourceToEntity(r: Resource): Entity {
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.metadata)) if (!K8S_ONLY.has(k)) meta[k] = v;
  const ann = r.metadata.annotations ?? {};
  meta.name = ann[NAME_ANNOTATION] ?? r.metadata.name;
  meta.namespace = r.metadata.namespace ?? DEFAULT_NAMESPACE;
  const served: Record<string, string> = {};
  for (const [k, v] of Object.entries(ann)) if (!k.startsWith(INTERNAL_PREFIX)) served[k] = v;
  if (Object.keys(served).length || r.metadata.annotations) meta.annotations = served;
  meta.etag = createHash('sha1').update(`${r.metadata.uid}/${r.metadata.resourceVersion}`).digest('hex').slice(0, 20);
  const k = catalogKind(r.kind);
  const e: Entity = {
    apiVersion: ann[API_VERSION_ANNOTATION] ?? (k ? storageApiVersion(k) : r.apiVersion),
    kind: r.kind,
    metadata: meta as Entity['metadata'],
    spec: r.spec ?? {},
  };
  if (r.status?.items?.length) e.status = { items: r.status.items };
  return e;
}

/** Reads a Pave bookkeeping annotation from a stored resource. */
export function internalAnnotation(r: Resource, name: string): string | undefined {
  return r.metadata.annotations?.[`${INTERNAL_PREFIX}${name}`];
}
