import type { Resource } from '../api/types.js';

/**
 * The CustomResourceDefinitions of Crossplane's own API (apiextensions.crossplane.io and
 * pkg.crossplane.io), applied when the control plane starts so that Crossplane YAML can be
 * applied unmodified. Schemas declare the fields the controllers rely on and preserve the rest.
 */
const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const nameRef = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } };
const labelSelector = { type: 'object', properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } } };

/**
 * @param specSchema the schema of `spec`, or, with opts.topLevel, of the whole object's fields
 *   (for kinds that, like EnvironmentConfig, keep their content beside metadata, not in spec)
 */
function crd(group: string, kind: string, plural: string, scope: 'Cluster' | 'Namespaced', specSchema: Record<string, unknown>, opts: { shortNames?: string[]; categories?: string[]; columns?: unknown[]; versions?: string[]; topLevel?: boolean; description?: string } = {}): Resource {
  const versions = opts.versions ?? ['v1'];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, shortNames: opts.shortNames ?? [], categories: opts.categories ?? ['crossplane'] },
      scope,
      versions: versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        subresources: opts.topLevel ? {} : { status: {} },
        additionalPrinterColumns: opts.columns ?? [],
        schema: { openAPIV3Schema: { type: 'object', ...(opts.description ? { description: opts.description } : {}), properties: opts.topLevel ? specSchema : { spec: specSchema, status: preserve } } },
      })),
    },
  };
}

/**
 * A plural or singular resource name: lowercase, as the CRD an XRD generates must have it.
 * Refused when the XRD is applied, as Crossplane refuses it, not later on its conditions.
 */
const resourceName = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
/** What Crossplane's schemas refuse to change once set: the types an XRD defines, a Composition's XR type. */
const immutable = { 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }] };
const xrdNames = { type: 'object', required: ['kind', 'plural'], 'x-kubernetes-preserve-unknown-fields': true, properties: { kind: { type: 'string' }, plural: resourceName, singular: resourceName } };

const xrdSpec = {
  type: 'object',
  required: ['group', 'names', 'versions'],
  'x-kubernetes-preserve-unknown-fields': true,
  properties: {
    group: { type: 'string', minLength: 1, ...immutable },
    names: { ...xrdNames, ...immutable },
    claimNames: { ...xrdNames, ...immutable },
    connectionSecretKeys: { type: 'array', items: { type: 'string' } },
    defaultCompositionRef: nameRef,
    enforcedCompositionRef: { ...nameRef, ...immutable },
    defaultCompositionUpdatePolicy: { type: 'string', enum: ['Automatic', 'Manual'], default: 'Automatic' },
    defaultCompositeDeletePolicy: { type: 'string', enum: ['Background', 'Foreground'], default: 'Background' },
    versions: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'served', 'referenceable'],
        'x-kubernetes-preserve-unknown-fields': true,
        properties: { name: { type: 'string' }, served: { type: 'boolean' }, referenceable: { type: 'boolean' }, schema: preserve, additionalPrinterColumns: { type: 'array', items: preserve } },
      },
    },
  },
};

/** A step's credentials: a Secret source must say which Secret, as Crossplane's schema requires. */
const stepCredentials = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'source'],
    'x-kubernetes-preserve-unknown-fields': true,
    properties: { name: { type: 'string' }, source: { type: 'string', enum: ['None', 'Secret'] }, secretRef: { type: 'object', required: ['namespace', 'name'], properties: { namespace: { type: 'string' }, name: { type: 'string' } } } },
    anyOf: [{ properties: { source: { enum: ['None'] } } }, { required: ['secretRef'] }],
  },
};

const compositionSpec = {
  type: 'object',
  required: ['compositeTypeRef'],
  'x-kubernetes-preserve-unknown-fields': true,
  // Pipeline mode needs at least one step: refused when applied, as Crossplane refuses it
  anyOf: [{ properties: { mode: { enum: ['Resources'] } } }, { required: ['pipeline'], properties: { pipeline: { minItems: 1 } } }],
  properties: {
    compositeTypeRef: { type: 'object', required: ['apiVersion', 'kind'], properties: { apiVersion: { type: 'string' }, kind: { type: 'string' } }, ...immutable },
    mode: { type: 'string', enum: ['Resources', 'Pipeline'] },
    resources: { type: 'array', items: preserve },
    patchSets: { type: 'array', items: preserve },
    // step names are unique, as Crossplane's schema keys the list by them
    pipeline: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['step'], items: { type: 'object', required: ['step', 'functionRef'], 'x-kubernetes-preserve-unknown-fields': true, properties: { step: { type: 'string' }, functionRef: nameRef, credentials: stepCredentials } } },
    writeConnectionSecretsToNamespace: { type: 'string' },
  },
};

/**
 * Crossplane's Provider spec. Pave runs its providers in-process, so only `package` means
 * anything; the package manager's other fields are typed where Crossplane types them, so that a
 * mistake is still caught, and kept as written.
 */
const providerSpec = {
  type: 'object',
  required: ['package'],
  'x-kubernetes-preserve-unknown-fields': true,
  properties: {
    package: { type: 'string', minLength: 1 },
    packagePullPolicy: { type: 'string' },
    packagePullSecrets: { type: 'array', items: nameRef },
    revisionActivationPolicy: { type: 'string' },
    revisionHistoryLimit: { type: 'integer' },
    ignoreCrossplaneConstraints: { type: 'boolean' },
    skipDependencyResolution: { type: 'boolean' },
    runtimeConfigRef: preserve,
    controllerConfigRef: preserve,
  },
};

const age = { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** What `kubectl get` shows of a package (Provider, Function), as Crossplane's CRDs show it. */
const packageColumns = [
  { name: 'INSTALLED', type: 'string', jsonPath: ".status.conditions[?(@.type=='Installed')].status" },
  { name: 'HEALTHY', type: 'string', jsonPath: ".status.conditions[?(@.type=='Healthy')].status" },
  { name: 'PACKAGE', type: 'string', jsonPath: '.spec.package' },
  age,
];

export function crossplaneCrds(): Resource[] {
  return [
    crd('apiextensions.crossplane.io', 'CompositeResourceDefinition', 'compositeresourcedefinitions', 'Cluster', xrdSpec, {
      shortNames: ['xrd', 'xrds'],
      columns: [
        { name: 'ESTABLISHED', type: 'string', jsonPath: '.status.conditions[?(@.type=="Established")].status' },
        { name: 'OFFERED', type: 'string', jsonPath: '.status.conditions[?(@.type=="Offered")].status' },
      ],
    }),
    crd('apiextensions.crossplane.io', 'Composition', 'compositions', 'Cluster', compositionSpec, {
      shortNames: ['comp'],
      columns: [
        { name: 'XR-KIND', type: 'string', jsonPath: '.spec.compositeTypeRef.kind' },
        { name: 'XR-APIVERSION', type: 'string', jsonPath: '.spec.compositeTypeRef.apiVersion' },
      ],
    }),
    crd('apiextensions.crossplane.io', 'CompositionRevision', 'compositionrevisions', 'Cluster', { ...compositionSpec, required: ['compositeTypeRef', 'revision'], properties: { ...compositionSpec.properties, revision: { type: 'integer', minimum: 1 } } }, {
      shortNames: ['comprev'],
      columns: [
        { name: 'REVISION', type: 'string', jsonPath: '.spec.revision' },
        { name: 'XR-KIND', type: 'string', jsonPath: '.spec.compositeTypeRef.kind' },
      ],
    }),
    crd('pkg.crossplane.io', 'Function', 'functions', 'Cluster', { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { package: { type: 'string' } } }, {
      categories: ['crossplane', 'pkg'],
      versions: ['v1', 'v1beta1'],
      description:
        'A Crossplane composition function package. Pave pulls no images: a Function whose package is one of its built-in functions, or whose pave.dev/module annotation names a module that loads, is reported Installed and Healthy; a module that does not load is reported Healthy=False with the reason, and any other package Installed=False.',
      columns: packageColumns,
    }),
    crd('pkg.crossplane.io', 'Provider', 'providers', 'Cluster', providerSpec, {
      categories: ['crossplane', 'pkg'],
      description:
        "A Crossplane provider package. Pave does not download packages: a Provider naming one of Pave's built-in providers is reported Installed and Healthy (and starts that provider if it was not running); any other package is reported Healthy=False with the list of built-in ones. Deleting a Provider stops nothing.",
      columns: packageColumns,
    }),
    // bootstrap YAML that configures providers carries these; Pave runs no provider Deployments,
    // so they are stored for clients that read them back and have no effect
    crd('pkg.crossplane.io', 'DeploymentRuntimeConfig', 'deploymentruntimeconfigs', 'Cluster', preserve, {
      versions: ['v1beta1'],
      description: "Stored as written and has no effect in Pave: Pave's providers run in its own process, not in Deployments.",
      columns: [age],
    }),
    crd('pkg.crossplane.io', 'ControllerConfig', 'controllerconfigs', 'Cluster', preserve, {
      versions: ['v1alpha1'],
      description: "Stored as written and has no effect in Pave: Pave's providers run in its own process, not in Deployments.",
      columns: [age],
    }),
    // per-environment settings that function-environment-configs reads; Crossplane serves both
    // versions, and compositions written for either must find the same objects
    crd('apiextensions.crossplane.io', 'EnvironmentConfig', 'environmentconfigs', 'Cluster', { data: preserve }, {
      shortNames: ['envcfg'],
      versions: ['v1beta1', 'v1alpha1'],
      topLevel: true,
      columns: [{ name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    }),
  ];
}
