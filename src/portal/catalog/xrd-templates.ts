import type { Resource } from '../../api/types.js';
import type { Entity } from './entity.js';

/** Properties a generated form should not show, and the keys that only make sense to Kubernetes. */
const DROP = new Set(['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations', 'x-ui-hidden', 'x-ui-order', 'x-ui-advanced']);

function formSchema(s: any): any {
  if (!s || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (DROP.has(k)) continue;
    if (k === 'properties' && v && typeof v === 'object') out.properties = Object.fromEntries(Object.entries(v).filter(([, p]) => !(p as any)?.['x-ui-hidden']).map(([n, p]) => [n, formSchema(p)]));
    else if (k === 'items') out.items = formSchema(v);
    else out[k] = v;
  }
  return out;
}

/** The spec fields of a claim, split into the main form and the advanced one, in x-ui-order. */
function specFields(schema: any): { main: [string, any][]; advanced: [string, any][]; required: string[] } {
  const props: [string, any][] = Object.entries<any>(schema?.properties?.spec?.properties ?? {}).filter(([, p]) => !p?.['x-ui-hidden']);
  props.sort(([an, a], [bn, b]) => (a?.['x-ui-order'] ?? Number.MAX_SAFE_INTEGER) - (b?.['x-ui-order'] ?? Number.MAX_SAFE_INTEGER) || an.localeCompare(bn));
  // fields Crossplane injects into claims are not the user's to fill in
  const injected = new Set(['compositionRef', 'compositionSelector', 'compositionRevisionRef', 'compositionRevisionSelector', 'compositionUpdatePolicy', 'resourceRef', 'writeConnectionSecretToRef', 'publishConnectionDetailsTo', 'compositeDeletePolicy']);
  const visible = props.filter(([n]) => !injected.has(n));
  const required: string[] = (schema?.properties?.spec?.required ?? []).filter((r: string) => visible.some(([n]) => n === r));
  return { main: visible.filter(([, p]) => !p?.['x-ui-advanced']).map(([n, p]) => [n, formSchema(p)]), advanced: visible.filter(([, p]) => p?.['x-ui-advanced']).map(([n, p]) => [n, formSchema(p)]), required };
}

/**
 * One Template per served version of an XRD's claim (or, without claimNames, of its composite):
 * a metadata step (name, namespace, owner), the spec fields from the openAPIV3Schema honouring
 * x-ui-hidden, x-ui-order and x-ui-advanced, a composition choice, and a publish step that
 * opens a change request adding the claim manifest under a path of a Git repository.
 */
export function templatesForXrd(xrd: Resource, compositions: string[]): Entity[] {
  const spec = xrd.spec ?? {};
  const claim = spec.claimNames?.kind as string | undefined;
  const kind = claim ?? (spec.names?.kind as string);
  if (!kind || !spec.group) return [];
  const owner = xrd.metadata.annotations?.['pave.dev/owner'] ?? xrd.metadata.annotations?.['terasky.backstage.io/owner'];
  const out: Entity[] = [];
  for (const v of (spec.versions ?? []) as any[]) {
    if (v.served === false) continue;
    const { main, advanced, required } = specFields(v.schema?.openAPIV3Schema);
    const parameters: Record<string, unknown>[] = [
      {
        title: 'Resource metadata',
        required: ['name', 'owner'],
        properties: {
          name: { type: 'string', title: 'Name', description: `The ${kind}'s name`, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
          ...(claim ? { namespace: { type: 'string', title: 'Namespace', default: 'default' } } : {}),
          owner: { type: 'string', title: 'Owner', 'ui:field': 'OwnerPicker', 'ui:options': { catalogFilter: { kind: ['Group', 'User'] } } },
        },
      },
      { title: `${kind} parameters`, required, properties: Object.fromEntries(main) },
    ];
    if (advanced.length) parameters.push({ title: 'Advanced', properties: Object.fromEntries(advanced) });
    if (compositions.length) parameters.push({ title: 'Composition', properties: { compositionRef: { type: 'string', title: 'Composition', enum: compositions, default: compositions[0] } } });
    parameters.push({
      title: 'Publish',
      required: ['repoUrl'],
      properties: {
        // the starter platform's deployments repository, whose claims/ directory an Application syncs
        repoUrl: { type: 'string', title: 'Repository', 'ui:field': 'RepoUrlPicker', default: 'pave?owner=platform&repo=deployments' },
        manifestPath: { type: 'string', title: 'Path in the repository', default: 'claims' },
      },
    });
    const exclude = ['repoUrl', 'manifestPath', 'compositionRef'];
    out.push({
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: {
        name: `${kind.toLowerCase()}-${v.name}`,
        title: `${kind} (${spec.group}/${v.name})`,
        description: xrd.metadata.annotations?.description ?? `Request a ${kind} from the platform`,
        tags: ['crossplane', kind.toLowerCase()],
        annotations: { 'pave.dev/xrd': xrd.metadata.name! },
      },
      spec: {
        type: claim ? 'crossplane-claim' : 'crossplane-xr',
        ...(owner ? { owner } : {}),
        parameters,
        steps: [
          {
            id: 'claim',
            name: `Write the ${kind} manifest`,
            action: 'pave:claim-template',
            input: {
              parameters: '${{ parameters }}',
              apiVersion: `${spec.group}/${v.name}`,
              kind,
              excludeParams: exclude,
              compositionRef: '${{ parameters.compositionRef }}',
              filePath: '${{ parameters.manifestPath }}/${{ parameters.namespace or "cluster" }}/${{ parameters.name }}.yaml',
            },
          },
          {
            id: 'publish',
            name: 'Open a change request',
            action: 'publish:pave:change-request',
            input: { repoUrl: '${{ parameters.repoUrl }}', branchName: `${kind.toLowerCase()}-\${{ parameters.name }}`, title: `Request ${kind} \${{ parameters.name }}`, description: `Requested through the portal for \${{ parameters.owner }}` },
          },
        ],
        output: { text: [{ title: 'Manifest', content: '${{ steps.claim.output.manifest }}' }] },
      },
    });
  }
  return out;
}
