import type { Client } from '../api/client.js';
import { isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import { getCondition } from './conditions.js';

/** One node of the claim → XR → composed resource tree. */
export interface TraceNode {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  synced?: string;
  ready?: string;
  /** The reason of the unhealthy condition (or Ready's), with its message when unhealthy. */
  status: string;
  missing?: boolean;
  children: TraceNode[];
}

/** Walks from a claim or XR down its resourceRef / resourceRefs, reading each object once. */
export async function traceTree(client: Client, obj: Resource, depth = 0): Promise<TraceNode> {
  const synced = getCondition(obj, 'Synced');
  const ready = getCondition(obj, 'Ready');
  const unhealthy = synced?.status === 'False' ? synced : ready?.status === 'False' ? ready : undefined;
  const node: TraceNode = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name!,
    namespace: obj.metadata.namespace,
    synced: synced?.status,
    ready: ready?.status,
    status: unhealthy ? `${unhealthy.reason ?? ''}${unhealthy.message ? `: ${unhealthy.message}` : ''}` : ready?.reason ?? synced?.reason ?? '',
    children: [],
  };
  if (obj.metadata.deletionTimestamp) node.status = `Deleting${node.status ? ` (${node.status})` : ''}`;
  if (depth > 8) return node;
  const refs: { apiVersion: string; kind: string; name: string; namespace?: string }[] = [];
  if (obj.spec?.resourceRef?.name) refs.push(obj.spec.resourceRef);
  for (const r of obj.spec?.resourceRefs ?? []) if (r?.name) refs.push(r);
  for (const r of refs) {
    try {
      node.children.push(await traceTree(client, await client.get(r), depth + 1));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      node.children.push({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, namespace: r.namespace, status: 'NotFound: the referenced object does not exist', missing: true, children: [] });
    }
  }
  return node;
}

/** Rows for a table: the tree drawn in the NAME column. */
export function traceRows(root: TraceNode): string[][] {
  const rows: string[][] = [['NAME', 'SYNCED', 'READY', 'STATUS']];
  const walk = (n: TraceNode, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
    rows.push([`${branch}${n.kind}/${n.name}${top && n.namespace ? ` (${n.namespace})` : ''}`, n.synced ?? '-', n.ready ?? '-', n.status]);
    const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    n.children.forEach((c, i) => walk(c, next, i === n.children.length - 1, false));
  };
  walk(root, '', true, true);
  return rows;
}
