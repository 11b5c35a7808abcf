import { Background, Handle, Position, ReactFlow, type Edge, type Node, type NodeChange, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useReducer, useRef } from 'react';
import { condition, keyOf, type Ref, type Resource } from '../api/k8s';
import { ago, ConditionBadge } from '../components/status';

interface ChainNode {
  ref: Ref;
  obj?: Resource;
  role: 'claim' | 'composite' | 'managed';
}

type ResourceNodeData = { node: ChainNode; onOpen: (r: Ref) => void };

function ResourceNode({ data }: NodeProps<Node<ResourceNodeData>>) {
  const { node, onOpen } = data;
  const created = node.obj?.metadata.annotations?.['crossplane.io/external-create-succeeded'];
  const ready = condition(node.obj, 'Ready')?.status === 'True';
  return (
    <button type="button" className={`rf-resource ${node.obj ? (ready ? 'ok' : 'wait') : 'missing'}`} onClick={() => onOpen(node.ref)} aria-label={`${node.ref.kind} ${node.ref.name}`} data-testid={`node-${node.ref.kind}-${node.ref.name}`}>
      <Handle type="target" position={Position.Left} />
      <span className="muted">{node.role === 'managed' ? node.ref.kind : `${node.ref.kind} (${node.role})`}</span>
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

/** Claim, composite and managed resources left to right, drawn with @xyflow/react. */
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
  const managed = nodes.filter((n) => n.role === 'managed');
  const flowNodes: Node<ResourceNodeData>[] = nodes.map((n) => {
    const column = n.role === 'claim' ? 0 : n.role === 'composite' ? 1 : 2;
    const row = n.role === 'managed' ? managed.indexOf(n) - (managed.length - 1) / 2 : 0;
    const id = keyOf(n.ref);
    return { id, type: 'resource', position: { x: column * 330, y: row * 150 }, data: { node: n, onOpen }, measured: sizes.current.get(id) };
  });
  const edges: Edge[] = [];
  const claim = nodes.find((n) => n.role === 'claim');
  const xr = nodes.find((n) => n.role === 'composite');
  if (claim && xr) edges.push({ id: 'claim-xr', source: keyOf(claim.ref), target: keyOf(xr.ref), animated: condition(xr.obj, 'Ready')?.status !== 'True' });
  for (const m of managed) if (xr) edges.push({ id: `xr-${keyOf(m.ref)}`, source: keyOf(xr.ref), target: keyOf(m.ref), animated: condition(m.obj, 'Ready')?.status !== 'True' });
  return (
    <div className="graph" data-testid="infra-graph">
      {/* Keyed by the chain's shape so the view re-fits when composed resources appear. */}
      <ReactFlow key={flowNodes.length} nodes={flowNodes} onNodesChange={onNodesChange} edges={edges} nodeTypes={nodeTypes} fitView fitViewOptions={{ padding: 0.15, maxZoom: 1 }} nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }}>
        <Background gap={24} />
      </ReactFlow>
    </div>
  );
}
