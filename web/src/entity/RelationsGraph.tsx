import { Background, ReactFlow, type Edge, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { entityPath, humanRef, parseRef, stringifyRef, type Entity } from '../api/catalog';
import { Link, navigate } from '../app/router';
import { EmptyState } from '../components/states';

/**
 * The entity in the middle and what it is related to around it. The graph is for the eye;
 * the list under it carries the same links for keyboard and screen-reader users.
 */
export function RelationsGraph({ entity: e }: { entity: Entity }) {
  const relations = e.relations ?? [];
  if (!relations.length) return <EmptyState title="No relations">This entity has no owner, dependencies or parts recorded.</EmptyState>;
  const self = stringifyRef(e);
  const targets = [...new Set(relations.map((r) => r.targetRef))];
  const radius = Math.max(160, targets.length * 28);
  const nodes: Node[] = [{ id: self, position: { x: 0, y: 0 }, data: { label: e.metadata.title ?? e.metadata.name }, className: 'rf-self' }];
  targets.forEach((t, i) => {
    const angle = (2 * Math.PI * i) / targets.length - Math.PI / 2;
    nodes.push({ id: t, position: { x: Math.cos(angle) * radius, y: Math.sin(angle) * radius * 0.6 }, data: { label: humanRef(t) } });
  });
  const edges: Edge[] = relations.map((r) => ({ id: `${r.type}:${r.targetRef}`, source: self, target: r.targetRef, label: r.type, className: 'rf-rel' }));
  return (
    <>
      <div className="graph small" aria-hidden="true">
        <ReactFlow nodes={nodes} edges={edges} fitView nodesDraggable={false} nodesConnectable={false} onNodeClick={(_, n) => n.id !== self && navigate(entityPath(parseRef(n.id)))} proOptions={{ hideAttribution: true }}>
          <Background gap={24} />
        </ReactFlow>
      </div>
      <ul className="relations">
        {relations.map((r) => (
          <li key={`${r.type}:${r.targetRef}`}>
            <span className="muted">{r.type}</span> <Link to={entityPath(parseRef(r.targetRef))}>{humanRef(r.targetRef)}</Link>
          </li>
        ))}
      </ul>
    </>
  );
}
