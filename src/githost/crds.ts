import type { Resource } from '../api/types.js';

export const GIT_GROUP = 'git.pave.dev';
export const GIT_API_VERSION = `${GIT_GROUP}/v1alpha1`;

const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function crd(kind: string, plural: string, scope: 'Namespaced' | 'Cluster', spec: object, columns: object[], shortNames: string[]): Resource {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GIT_GROUP}` },
    spec: {
      group: GIT_GROUP,
      names: { kind, plural, singular: kind.toLowerCase(), shortNames, categories: ['pave', 'git'] },
      scope,
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: { openAPIV3Schema: { type: 'object', required: ['spec'], properties: { spec, status: preserve } } },
        },
      ],
    },
  };
}

const name = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' };

/** The resources through which the Git host announces repositories, pushes and reviews. */
export function gitHostCrds(): Resource[] {
  return [
    crd(
      'GitRepository',
      'gitrepositories',
      'Cluster',
      {
        type: 'object',
        required: ['owner', 'name'],
        properties: {
          owner: name,
          name,
          description: { type: 'string' },
          defaultBranch: { type: 'string', default: 'main', minLength: 1 },
          webhooks: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: { type: 'string' }, secretRef: { type: 'object', properties: { name: { type: 'string' }, namespace: { type: 'string' }, key: { type: 'string' } } } } } },
        },
      },
      [
        { name: 'URL', type: 'string', jsonPath: '.status.url' },
        { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
      ['gitrepo'],
    ),
    crd(
      'ChangeRequest',
      'changerequests',
      'Namespaced',
      {
        type: 'object',
        required: ['repository', 'sourceBranch', 'targetBranch', 'title'],
        properties: {
          repository: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$' },
          sourceBranch: { type: 'string', minLength: 1 },
          targetBranch: { type: 'string', minLength: 1 },
          title: { type: 'string', minLength: 1 },
          description: { type: 'string' },
          author: { type: 'string' },
        },
      },
      [
        { name: 'Repository', type: 'string', jsonPath: '.spec.repository' },
        { name: 'Source', type: 'string', jsonPath: '.spec.sourceBranch' },
        { name: 'Target', type: 'string', jsonPath: '.spec.targetBranch' },
        { name: 'State', type: 'string', jsonPath: '.status.state' },
      ],
      ['changereq'],
    ),
  ];
}

/** The GitRepository object name for a repository: `<owner>.<repo>`. */
export function repositoryObjectName(owner: string, repo: string): string {
  return `${owner}.${repo}`.toLowerCase();
}
