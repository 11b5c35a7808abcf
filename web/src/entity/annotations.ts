import type { Entity } from '../api/catalog';
import type { Ref } from '../api/k8s';

/**
 * How an entity points at the objects its tabs show. The annotations are the ones Backstage
 * plugins already use, so catalog-info.yaml written for them works here unchanged.
 */

/** The Crossplane claim behind an entity: TeraSky's claim annotations, or `pave.dev/claim`. */
export function claimRef(e: Entity): Ref | undefined {
  const a = e.metadata.annotations ?? {};
  const pave = a['pave.dev/claim'];
  if (pave) {
    // apiVersion group/version, kind, namespace, name: "<group>/<version>/<Kind>/<namespace>/<name>"
    const parts = pave.split('/');
    if (parts.length === 5) return { apiVersion: `${parts[0]}/${parts[1]}`, kind: parts[2]!, namespace: parts[3], name: parts[4]! };
  }
  const kind = a['terasky.backstage.io/claim-kind'];
  const group = a['terasky.backstage.io/claim-group'];
  const version = a['terasky.backstage.io/claim-version'];
  if (kind && group && version) {
    return {
      apiVersion: `${group}/${version}`,
      kind,
      name: a['terasky.backstage.io/claim-name'] ?? a['backstage.io/kubernetes-id'] ?? e.metadata.name,
      namespace: a['terasky.backstage.io/claim-namespace'] ?? a['backstage.io/kubernetes-namespace'] ?? 'default',
    };
  }
  return undefined;
}

/** The Argo CD Applications of an entity (Roadie's argocd annotations). */
export function applicationSelector(e: Entity): { names?: string[]; labelSelector?: string; namespace?: string } | undefined {
  const a = e.metadata.annotations ?? {};
  const names = a['argocd/app-name']?.split(',').map((s) => s.trim()).filter(Boolean);
  const labelSelector = a['argocd/app-selector'];
  if (!names?.length && !labelSelector) return undefined;
  return { names, labelSelector, namespace: a['argocd/app-namespace'] };
}

export function hasDocs(e: Entity): boolean {
  return Boolean(e.metadata.annotations?.['backstage.io/techdocs-ref']);
}
