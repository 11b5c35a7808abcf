import type { Client } from '../api/client.js';
import { isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import { getCondition } from './conditions.js';
import { COMPOSITION_RESOURCE_NAME } from './composition/composer.js';

/**
 * One node of the claim → XR → composed resource tree, in the shape `crossplane beta trace
 * -o json` prints, so that jq filters and tools written for it read Pave's output as well:
 * the object as read, why it could not be read, and its children.
 */
export interface TraceNode {
  /** The object; when it could not be read, only the reference to it. */
  object: Resource;
  error?: string;
  children?: TraceNode[];
}

export interface TraceOptions {
  /** Add the Secrets claims and XRs write their connection details to. */
  connectionSecrets?: boolean;
}

interface Ref {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** Walks from a claim or XR down its resourceRef / resourceRefs, reading each object once. */
export async function traceTree(client: Client, obj: Resource, opts: TraceOptions = {}, depth = 0): Promise<TraceNode> {
  const node: TraceNode = { object: obj };
  if (depth > 8) return node;
  const children: TraceNode[] = [];
  for (const ref of childRefs(obj, opts)) {
    try {
      children.push(await traceTree(client, await client.get(ref), opts, depth + 1));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      const { name, namespace, ...type } = ref;
      children.push({ object: { ...type, metadata: { name, ...(namespace ? { namespace } : {}) } }, error: (e as Error).message });
    }
  }
  if (children.length) node.children = children;
  return node;
}

/**
 * What a claim, XR or managed resource points at: a claim its XR, an XR its composed
 * resources; then, if asked for, the connection Secret each of the first two writes.
 */
function childRefs(obj: Resource, opts: TraceOptions): Ref[] {
  if (obj.apiVersion === 'v1' && obj.kind === 'Secret') return [];
  const refs: Ref[] = [];
  const ns = obj.metadata.namespace;
  if (obj.spec?.resourceRef?.name) refs.push(obj.spec.resourceRef);
  for (const r of obj.spec?.resourceRefs ?? []) if (r?.name) refs.push(r);
  if (!refs.length) return refs; // a managed resource: its Secret is not part of the tree
  const secret = obj.spec?.writeConnectionSecretToRef;
  if (opts.connectionSecrets && secret?.name) {
    const secretNs = obj.spec?.resourceRef ? ns : secret.namespace ?? ns;
    refs.push({ apiVersion: 'v1', kind: 'Secret', name: secret.name, ...(secretNs ? { namespace: secretNs } : {}) });
  }
  return refs;
}

/** Crossplane's trace shows this much of a condition message, keeping its end, unless -o wide. */
const SHORT_MESSAGE = 64;

/**
 * The STATUS column: an error reading the object; else, when Synced and Ready are both True,
 * Ready's reason; else the reason and message of Synced if it is not True, then of Ready.
 */
export function traceStatus(n: TraceNode, wide: boolean): string {
  const synced = getCondition(n.object, 'Synced');
  const ready = getCondition(n.object, 'Ready');
  const notTrue = (c: typeof synced) => c && c.status !== 'True' && (c.reason || c.message);
  let reason: string;
  let message: string | undefined;
  if (n.error !== undefined) [reason, message] = ['Error', n.error];
  else if (synced?.status === 'True' && ready?.status === 'True') reason = ready.reason ?? '';
  else if (notTrue(synced)) [reason, message] = [synced!.reason ?? '', synced!.message];
  else [reason, message] = [ready?.reason ?? '', ready?.message];
  if (message && !wide && message.length > SHORT_MESSAGE) message = `...${message.slice(-SHORT_MESSAGE)}`;
  const status = message ? `${reason}: ${message}` : reason;
  return n.object.metadata.deletionTimestamp ? `Deleting${status ? ` (${status})` : ''}` : status;
}

/** Rows for a table: the tree drawn in the NAME column; -o wide adds RESOURCE and full messages. */
export function traceRows(root: TraceNode, wide = false): string[][] {
  const rows: string[][] = [['NAME', ...(wide ? ['RESOURCE'] : []), 'SYNCED', 'READY', 'STATUS']];
  const walk = (n: TraceNode, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
    const m = n.object.metadata;
    const name = `${branch}${n.object.kind}/${m.name}${m.namespace ? ` (${m.namespace})` : ''}`;
    const resource = wide ? [m.annotations?.[COMPOSITION_RESOURCE_NAME] ?? ''] : [];
    rows.push([name, ...resource, getCondition(n.object, 'Synced')?.status ?? '-', getCondition(n.object, 'Ready')?.status ?? '-', traceStatus(n, wide)]);
    const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    const children = n.children ?? [];
    children.forEach((c, i) => walk(c, next, i === children.length - 1, false));
  };
  walk(root, '', true, true);
  return rows;
}

/**
 * The tree as a Graphviz digraph, for `dot -Tsvg` (crossplane beta trace -o dot): a node per
 * object with its kind, name, namespace, Synced, Ready and status, edges from each object to
 * what it composes; healthy objects green, an object with Synced or Ready False red.
 */
export function traceDot(root: TraceNode): string {
  const lines = ['digraph trace {', '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];'];
  let next = 0;
  const escape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ');
  const walk = (n: TraceNode): string => {
    const id = `n${next++}`;
    const m = n.object.metadata;
    const synced = getCondition(n.object, 'Synced')?.status ?? '-';
    const ready = getCondition(n.object, 'Ready')?.status ?? '-';
    const status = traceStatus(n, false);
    const label = [`${n.object.kind}/${m.name}`, ...(m.namespace ? [`namespace: ${m.namespace}`] : []), `Synced: ${synced}  Ready: ${ready}`, ...(status ? [status] : [])].map(escape).join('\\n');
    const bad = n.error !== undefined || synced === 'False' || ready === 'False';
    const color = bad ? 'mistyrose' : synced === 'True' && ready === 'True' ? 'honeydew' : 'lightyellow';
    lines.push(`  ${id} [label="${label}", fillcolor=${color}, color=${bad ? 'red' : 'gray40'}];`);
    for (const c of n.children ?? []) lines.push(`  ${id} -> ${walk(c)};`);
    return id;
  };
  walk(root);
  lines.push('}');
  return lines.join('\n') + '\n';
}
