import { parseAllDocuments } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { NopBackend, nopProviderModule } from '../../src/providers/nop/index.js';
import { eventually, startPlatform } from '../support/platform.js';

export function yamlDocs(text: string): Resource[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Resource).filter(Boolean);
}

/** A platform with only the control plane and the nop test provider. */
export async function startControlPlane(opts: { backend?: NopBackend; settings?: Record<string, string>; dataDir?: string } = {}) {
  const backend = opts.backend ?? new NopBackend();
  const p = await startPlatform({ modules: [controlPlaneModule(), nopProviderModule({ backend })], listen: false, settings: opts.settings, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });
  const apply = async (objs: Resource[]) => {
    for (const o of objs) await p.client.apply(o, { fieldManager: 'test', force: true });
  };
  const get = (apiVersion: string, kind: string, name: string, namespace?: string) => p.client.get({ apiVersion, kind, name, namespace }).catch(() => undefined);
  const condition = (o: Resource | undefined, type: string) => (o?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
  const waitReady = (apiVersion: string, kind: string, name: string, namespace?: string, ms = 15_000) =>
    eventually(async () => {
      const o = await get(apiVersion, kind, name, namespace);
      return condition(o, 'Ready')?.status === 'True' ? o : undefined;
    }, ms, `${kind} ${name} Ready`);
  return { p, backend, apply, get, condition, waitReady };
}

/** The seed example: an XRD with claims, in Crossplane's own YAML. */
export const postgresXrd = `
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata:
  name: xpostgresqlinstances.database.example.org
spec:
  group: database.example.org
  names:
    kind: XPostgreSQLInstance
    plural: xpostgresqlinstances
  claimNames:
    kind: PostgreSQLInstance
    plural: postgresqlinstances
  connectionSecretKeys:
  - username
  - password
  - endpoint
  - port
  versions:
  - name: v1alpha1
    served: true
    referenceable: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              parameters:
                type: object
                properties:
                  storageGB:
                    type: integer
                  environment:
                    type: string
                required:
                - storageGB
            required:
            - parameters
          status:
            type: object
            properties:
              address:
                type: string
`;

/** A Resources-mode composition patching from spec.parameters into two nop managed resources. */
export function postgresComposition(name = 'xpostgresqlinstances.nop.database.example.org', labels: Record<string, string> = {}, extraField = ''): string {
  return `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: ${name}
  labels: ${JSON.stringify({ provider: 'nop', ...labels })}
spec:
  writeConnectionSecretsToNamespace: crossplane-system
  compositeTypeRef:
    apiVersion: database.example.org/v1alpha1
    kind: XPostgreSQLInstance
  patchSets:
  - name: common
    patches:
    - fromFieldPath: metadata.labels[crossplane.io/claim-namespace]
      toFieldPath: spec.forProvider.team
  resources:
  - name: db
    base:
      apiVersion: nop.crossplane.io/v1alpha1
      kind: NopResource
      spec:
        forProvider:
          engine: postgres
          version: "16"${extraField}
        writeConnectionSecretToRef:
          namespace: crossplane-system
    patches:
    - type: PatchSet
      patchSetName: common
    - fromFieldPath: spec.parameters.storageGB
      toFieldPath: spec.forProvider.storageGB
    - fromFieldPath: spec.parameters.storageGB
      toFieldPath: spec.forProvider.size
      transforms:
      - type: math
        math:
          multiply: 1024
      - type: convert
        convert:
          toType: string
      - type: string
        string:
          fmt: "%sMi"
    - fromFieldPath: metadata.uid
      toFieldPath: spec.writeConnectionSecretToRef.name
      transforms:
      - type: string
        string:
          fmt: "%s-postgresql"
    - type: ToCompositeFieldPath
      fromFieldPath: status.atProvider.id
      toFieldPath: status.address
    connectionDetails:
    - fromConnectionSecretKey: username
    - fromConnectionSecretKey: password
    - fromConnectionSecretKey: endpoint
    - name: port
      type: FromValue
      value: "5432"
  - name: user
    base:
      apiVersion: nop.crossplane.io/v1alpha1
      kind: NopResource
      spec:
        forProvider:
          role: app
    patches:
    - type: CombineFromComposite
      combine:
        variables:
        - fromFieldPath: spec.claimRef.namespace
        - fromFieldPath: spec.claimRef.name
        strategy: string
        string:
          fmt: "%s-%s"
      toFieldPath: spec.forProvider.login
`;
}

export function postgresClaim(name: string, storageGB = 20, extra: Record<string, unknown> = {}): Resource {
  return {
    apiVersion: 'database.example.org/v1alpha1',
    kind: 'PostgreSQLInstance',
    metadata: { name, namespace: 'default' },
    spec: { parameters: { storageGB }, writeConnectionSecretToRef: { name: `${name}-conn` }, ...extra },
  };
}

export const XR_API = 'database.example.org/v1alpha1';

/** An XR of the seed example as its claim orders-db in team-a makes it, for rendering offline. */
export const postgresXr = `
apiVersion: database.example.org/v1alpha1
kind: XPostgreSQLInstance
metadata:
  name: orders-db-abcde
  labels:
    crossplane.io/claim-namespace: team-a
spec:
  parameters:
    storageGB: 8
  claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, namespace: team-a, name: orders-db}
`;

/** A Pipeline-mode Composition of `steps` for XRs of `compositeTypeRef`. */
export function pipelineOf(name: string, compositeTypeRef: { apiVersion: string; kind: string }, steps: Record<string, unknown>[]): Resource {
  return { apiVersion: 'apiextensions.crossplane.io/v1', kind: 'Composition', metadata: { name }, spec: { compositeTypeRef, mode: 'Pipeline', pipeline: steps } };
}
