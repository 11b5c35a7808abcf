import type { Resource } from '../api/types.js';

export const ARGO_GROUP = 'argoproj.io';
export const ARGO_API_VERSION = `${ARGO_GROUP}/v1alpha1`;
/** Where Argo CD keeps Applications, projects and its settings; Pave creates it at start. */
export const CONTROL_NAMESPACE = 'argocd';

const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function crd(kind: string, plural: string, shortNames: string[], columns: object[], required: string[] = ['spec']): Resource {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${ARGO_GROUP}` },
    spec: {
      group: ARGO_GROUP,
      names: { kind, plural, singular: kind.toLowerCase(), shortNames, listKind: `${kind}List` },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          // Argo CD's own CRDs are this permissive at the top; the controllers check the details and
          // report them as conditions naming the field, so teams' YAML is accepted unmodified
          schema: { openAPIV3Schema: { type: 'object', required, properties: { spec: preserve, status: preserve, operation: preserve } } },
        },
      ],
    },
  };
}

/** Application, AppProject and ApplicationSet, served as argoproj.io/v1alpha1. */
export function argoCrds(): Resource[] {
  return [
    crd('Application', 'applications', ['app', 'apps'], [
      { name: 'Sync Status', type: 'string', jsonPath: '.status.sync.status' },
      { name: 'Health Status', type: 'string', jsonPath: '.status.health.status' },
      { name: 'Revision', type: 'string', jsonPath: '.status.sync.revision', priority: 10 },
      { name: 'Project', type: 'string', jsonPath: '.spec.project', priority: 10 },
    ]),
    crd('AppProject', 'appprojects', ['appproj', 'appprojs'], [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }]),
    crd('ApplicationSet', 'applicationsets', ['appset', 'appsets'], [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }]),
  ];
}
