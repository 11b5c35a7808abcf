import { eventsFor, type Ref, type Resource } from '../api/k8s';
import { Drawer } from '../components/Drawer';
import { useAsync } from '../components/hooks';
import { ago } from '../components/status';
import { EmptyState, ErrorState } from '../components/states';
import { YamlBlock } from '../components/YamlBlock';

/** One object's YAML and its Events, refreshed every few seconds while open. */
export function ObjectDrawer({ target, obj, onClose }: { target: Ref; obj?: Resource; onClose: () => void }) {
  const events = useAsync(() => eventsFor({ ...target, namespace: target.namespace ?? obj?.metadata.namespace }), [target.kind, target.name, target.namespace], { pollMs: 3000 });
  return (
    <Drawer title={`${target.kind} ${target.name}`} onClose={onClose}>
      <h3>Events</h3>
      {events.error ? (
        <ErrorState error={events.error} what="events" />
      ) : !events.data?.length ? (
        <EmptyState title="No events recorded" />
      ) : (
        <table className="table compact" aria-label="Events">
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Reason</th>
              <th scope="col">Message</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {events.data.map((e) => (
              <tr key={e.metadata.name} className={e.type === 'Warning' ? 'warn' : undefined}>
                <td>{e.type}</td>
                <td>{e.reason}</td>
                <td>
                  {e.message}
                  {e.count > 1 ? <span className="muted"> ×{e.count}</span> : null}
                </td>
                <td title={e.lastTimestamp}>{ago(e.lastTimestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>YAML</h3>
      {obj ? <YamlBlock obj={obj} label={`YAML of ${target.kind} ${target.name}`} /> : <EmptyState title="This object does not exist yet" />}
    </Drawer>
  );
}
