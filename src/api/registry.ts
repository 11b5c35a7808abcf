import { ApiError } from './errors.js';
import { compileSchema, type OpenApiSchema, type SchemaValidator } from './schema.js';
import { joinApiVersion, splitApiVersion, type Resource } from './types.js';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface TypeVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: OpenApiSchema;
  validator?: SchemaValidator;
  printerColumns: PrinterColumn[];
  subresources: { status: boolean };
}

/** A resource type the API serves: a built-in or one defined by a CustomResourceDefinition. */
export interface ResourceType {
  group: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  scope: 'Namespaced' | 'Cluster';
  versions: TypeVersion[];
  /** The CRD that defines it, or undefined for built-ins. */
  crd?: string;
  /** Objects whose whole body is sensitive and encrypted at rest. */
  sensitive?: boolean;
}

export function storageVersion(t: ResourceType): TypeVersion {
  return t.versions.find((v) => v.storage) ?? t.versions[0]!;
}

export function typeKey(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

type Listener = (t: ResourceType, change: 'added' | 'removed') => void;

/**
 * The types the API serves, looked up by group+plural (HTTP paths), by apiVersion+kind
 * (objects and clients) or by any short name (the CLI).
 */
export class TypeRegistry {
  private byResource = new Map<string, ResourceType>();
  private byKind = new Map<string, ResourceType>();
  /** lookup's answers by apiVersion, then kind: every request asks, and types change rarely. */
  private served = new Map<string, Map<string, ResourceType>>();
  private listeners: Listener[] = [];

  /** Compiles a version's schema into its validator; throws if the schema is not usable. */
  compile(v: TypeVersion): void {
    if (v.schema && !v.validator) v.validator = compileSchema(v.schema);
  }

  register(t: ResourceType): void {
    for (const v of t.versions) this.compile(v);
    const key = typeKey(t.group, t.plural);
    const prev = this.byResource.get(key);
    if (prev) this.byKind.delete(`${prev.group}/${prev.kind}`);
    this.byResource.set(key, t);
    this.byKind.set(`${t.group}/${t.kind}`, t);
    this.served.clear();
    for (const l of this.listeners) l(t, 'added');
  }

  unregister(group: string, plural: string): void {
    const t = this.byResource.get(typeKey(group, plural));
    if (!t) return;
    this.byResource.delete(typeKey(group, plural));
    this.byKind.delete(`${t.group}/${t.kind}`);
    this.served.clear();
    for (const l of this.listeners) l(t, 'removed');
  }

  onChange(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  all(): ResourceType[] {
    return [...this.byResource.values()];
  }

  byGroupResource(group: string, plural: string): ResourceType | undefined {
    return this.byResource.get(typeKey(group, plural));
  }

  /** The type for an apiVersion + kind, if that version is served. */
  lookup(apiVersion: string, kind: string): ResourceType | undefined {
    const known = this.served.get(apiVersion)?.get(kind);
    if (known) return known;
    const { group, version } = splitApiVersion(apiVersion);
    const t = this.byKind.get(`${group}/${kind}`);
    if (!t || !t.versions.some((v) => v.name === version && v.served)) return undefined;
    // only types that exist are remembered, so requests for made-up ones cannot grow the map
    let byKind = this.served.get(apiVersion);
    if (!byKind) this.served.set(apiVersion, (byKind = new Map()));
    byKind.set(kind, t);
    return t;
  }

  /** Like lookup, but a missing type is the API's 404 with a message that names it. */
  require(apiVersion: string, kind: string): ResourceType {
    const t = this.lookup(apiVersion, kind);
    if (!t) {
      throw new ApiError(404, 'NotFound', `no kind "${kind}" is registered for version "${apiVersion}"; apply its CustomResourceDefinition first`, { kind });
    }
    return t;
  }

  /** Resolves a name as a user types it: plural, singular, kind or short name, optionally `.group`. */
  resolve(name: string): ResourceType[] {
    const lower = name.toLowerCase();
    const dot = lower.indexOf('.');
    const bare = dot < 0 ? lower : lower.slice(0, dot);
    const group = dot < 0 ? undefined : lower.slice(dot + 1);
    const hits = this.all().filter(
      (t) =>
        (group === undefined || t.group === group) &&
        (t.plural === bare || t.singular === bare || t.kind.toLowerCase() === bare || t.shortNames.includes(bare)),
    );
    // built-in core types win over same-named custom types, as in kubectl
    return hits.sort((a, b) => (a.group === '' ? -1 : b.group === '' ? 1 : a.group.localeCompare(b.group)));
  }

  groups(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const t of this.all()) {
      const versions = m.get(t.group) ?? [];
      for (const v of t.versions) if (v.served && !versions.includes(v.name)) versions.push(v.name);
      m.set(t.group, versions);
    }
    return m;
  }
}

const preserve: OpenApiSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function builtin(group: string, version: string, kind: string, plural: string, scope: 'Namespaced' | 'Cluster', opts: Partial<ResourceType> & { schema?: OpenApiSchema; status?: boolean; columns?: PrinterColumn[] } = {}): ResourceType {
  return {
    group,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    scope,
    sensitive: opts.sensitive,
    versions: [{ name: version, served: true, storage: true, schema: opts.schema ?? preserve, printerColumns: opts.columns ?? [], subresources: { status: opts.status ?? false } }],
  };
}

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

/** The types every Pave server has before any CRD is applied. */
export function builtinTypes(): ResourceType[] {
  return [
    builtin('', 'v1', 'Namespace', 'namespaces', 'Cluster', {
      shortNames: ['ns'],
      status: true,
      schema: { type: 'object', properties: { spec: preserve, status: preserve } },
      columns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }],
    }),
    builtin('', 'v1', 'Secret', 'secrets', 'Namespaced', {
      sensitive: true,
      schema: { type: 'object', properties: { type: { type: 'string' }, data: stringMap, stringData: stringMap, immutable: { type: 'boolean' } } },
      columns: [{ name: 'Type', type: 'string', jsonPath: '.type' }],
    }),
    builtin('', 'v1', 'ConfigMap', 'configmaps', 'Namespaced', {
      shortNames: ['cm'],
      schema: { type: 'object', properties: { data: stringMap, binaryData: stringMap, immutable: { type: 'boolean' } } },
    }),
    builtin('', 'v1', 'Event', 'events', 'Namespaced', {
      shortNames: ['ev'],
      schema: preserve,
      columns: [
        { name: 'Type', type: 'string', jsonPath: '.type' },
        { name: 'Reason', type: 'string', jsonPath: '.reason' },
        { name: 'Object', type: 'string', jsonPath: '.involvedObject.name' },
        { name: 'Message', type: 'string', jsonPath: '.message' },
      ],
    }),
    builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', 'Namespaced', { shortNames: ['sa'], schema: preserve }),
    builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', 'Cluster', {
      shortNames: ['crd', 'crds'],
      status: true,
      categories: ['api-extensions'],
      schema: {
        type: 'object',
        required: ['spec'],
        properties: {
          spec: {
            type: 'object',
            required: ['group', 'names', 'scope', 'versions'],
            properties: {
              group: { type: 'string', minLength: 1 },
              names: {
                type: 'object',
                required: ['plural', 'kind'],
                properties: {
                  plural: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
                  singular: { type: 'string' },
                  kind: { type: 'string', pattern: '^[A-Z][A-Za-z0-9]*$' },
                  listKind: { type: 'string' },
                  shortNames: { type: 'array', items: { type: 'string' } },
                  categories: { type: 'array', items: { type: 'string' } },
                },
              },
              scope: { type: 'string', enum: ['Namespaced', 'Cluster'] },
              versions: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  required: ['name', 'served', 'storage'],
                  properties: {
                    name: { type: 'string' },
                    served: { type: 'boolean' },
                    storage: { type: 'boolean' },
                    deprecated: { type: 'boolean' },
                    deprecationWarning: { type: 'string' },
                    schema: { type: 'object', properties: { openAPIV3Schema: preserve } },
                    subresources: preserve,
                    additionalPrinterColumns: { type: 'array', items: preserve },
                    selectableFields: { type: 'array', items: preserve },
                  },
                },
              },
              conversion: preserve,
              preserveUnknownFields: { type: 'boolean' },
            },
          },
          status: preserve,
        },
      },
      columns: [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    }),
    builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', 'Namespaced', {
      schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              holderIdentity: { type: 'string' },
              leaseDurationSeconds: { type: 'integer' },
              acquireTime: { type: 'string' },
              renewTime: { type: 'string' },
              leaseTransitions: { type: 'integer' },
            },
          },
        },
      },
      columns: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity' }],
    }),
  ];
}

/** Turns a CustomResourceDefinition object into the type it defines, or explains why it cannot. */
export function typeFromCrd(crd: Resource): ResourceType {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const versions: TypeVersion[] = (spec.versions ?? []).map((v: any) => ({
    name: v.name,
    served: v.served !== false,
    storage: v.storage === true,
    schema: v.schema?.openAPIV3Schema ?? preserve,
    printerColumns: (v.additionalPrinterColumns ?? []) as PrinterColumn[],
    subresources: { status: v.subresources?.status !== undefined },
  }));
  const storageCount = versions.filter((v) => v.storage).length;
  const name = crd.metadata.name ?? '';
  if (storageCount !== 1) {
    throw ApiError.invalid('CustomResourceDefinition', name, [{ field: 'spec.versions', message: `exactly one version must be storage: true (found ${storageCount})` }], 'apiextensions.k8s.io');
  }
  if (name !== `${names.plural}.${spec.group}`) {
    throw ApiError.invalid('CustomResourceDefinition', name, [{ field: 'metadata.name', message: `must be spec.names.plural+"."+spec.group ("${names.plural}.${spec.group}")` }], 'apiextensions.k8s.io');
  }
  return {
    group: spec.group,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? String(names.kind).toLowerCase(),
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    scope: spec.scope,
    versions,
    crd: name,
  };
}

export function apiVersionsOf(t: ResourceType): string[] {
  return t.versions.filter((v) => v.served).map((v) => joinApiVersion(t.group, v.name));
}
