import { Background, Handle, Position, ReactFlow, type Edge, type Node, type NodeChange, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useReducer, useRef } from 'react';
import { condition, keyOf, type Ref } from '../api/k8s';
import { ago, ConditionBadge } from '../components/status';

import type { ChainNode } from './InfrastructureTab';

type ResourceNodeData = { node: ChainNode; onOpen: (r: Ref) => void };

function ResourceNode({ data }: NodeProps<Node<ResourceNodeData>>) {
  const { node, onOpen } = data;
  const created = node.obj?.metadata.annotations?.['crossplane.io/external-create-succeeded'];
  const ready = condition(node.obj, 'Ready')?.status === 'True';
  return (
    <button type="button" className={`rf-resource ${node.obj ? (ready ? 'ok' : 'wait') : 'missing'}`} onClick={() => onOpen(node.ref)} aria-label={`${node.ref.kind} ${node.ref.name}`} data-testid={`node-${node.ref.kind}-${node.ref.name}`}>
      <Handle type="target" position={Position.Left} />
      <span className="muted">{node.role === 'managed' ? node.ref.kind : `${node.ref.kind} (${node.depth > 1 ? 'nested composite' : node.role})`}</span>
      <strong>{node.ref.name}</strong>
      {node.obj ? (
        <span className="badges">
          {/* a claim shows Synced once it has one, as the table below does */}
          {(node.role !== 'claim' || condition(node.obj, 'Synced')) && <ConditionBadge obj={node.obj} type="Synced" />}
          <ConditionBadge obj={node.obj} type="Ready" />
        </span>
      ) : (
        <span className="muted">not created yet</span>
      )}
      {created && (
        <span className="muted" title={created} data-testid="external-created">
          external resource created {ago(created)}
        </span>
      )}
      <Handle type="source" position={Position.Right} />
    </button>
  );
}

const nodeTypes = { resource: ResourceNode };

/** The claim, its composite and what that composes, left to right by depth, drawn with @xyflow/react. */
export function InfraGraph({ nodes, onOpen }: { nodes: ChainNode[]; onOpen: (r: Ref) => void }) {
  // Every status change draws new node objects. React Flow hides a node it has no size for
  // until it measures it again, so the sizes it measured are kept here and handed back.
  const sizes = useRef(new Map<string, { width: number; height: number }>());
  const [, resized] = useReducer((n: number) => n + 1, 0);
  const onNodesChange = useCallback((changes: NodeChange<Node<ResourceNodeData>>[]) => {
    let changed = false;
    for (const c of changes) {
      if (c.type !== 'dimensions' || !c.dimensions) continue;
      const old = sizes.current.get(c.id);
      if (old?.width === c.dimensions.width && old.height === c.dimensions.height) continue;
      sizes.current.set(c.id, c.dimensions);
      changed = true;
    }
    if (changed) resized();
  }, []);
  // one column per depth; each leaf gets a row of its own and each composite sits level with the
  // middle of what it composes, so a nested composite's resources are drawn beside it
  const rows = new Map<string, number>();
  let leaves = 0;
  const place = (n: ChainNode): number => {
    const id = keyOf(n.ref);
    const kids = nodes.filter((m) => m.parent === id);
    const row = kids.length ? kids.map(place).reduce((a, b) => a + b, 0) / kids.length : leaves++;
    rows.set(id, row);
    return row;
  };
  nodes.filter((n) => !n.parent).forEach(place);
  const flowNodes: Node<ResourceNodeData>[] = nodes.map((n) => {
    const id = keyOf(n.ref);
    return { id, type: 'resource', position: { x: n.depth * 330, y: (rows.get(id)! - (leaves - 1) / 2) * 150 }, data: { node: n, onOpen }, measured: sizes.current.get(id) };
  });
  const edges: Edge[] = nodes.filter((n) => n.parent).map((n) => ({ id: `${n.parent}->${keyOf(n.ref)}`, source: n.parent!, target: keyOf(n.ref), animated: condition(n.obj, 'Ready')?.status !== 'True' }));
  return (
    <div className="graph" data-testid="infra-graph">
      {/* Keyed by the chain's shape so the view re-fits when composed resources appear. */}
      <ReactFlow key={flowNodes.length} nodes={flowNodes} onNodesChange={onNodesChange} edges={edges} nodeTypes={nodeTypes} fitView fitViewOptions={{ padding: 0.15, maxZoom: 1 }} nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }}>
        <Background gap={24} />
      </ReactFlow>
    </div>
  );
}
