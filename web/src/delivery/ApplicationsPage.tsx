import { APP_API_VERSION } from '../api/argocd';
import { Link, setSearchParams, useLocation } from '../app/router';
import { useWatch } from '../components/hooks';
import { ago, Badge, healthTone, syncTone } from '../components/status';
import { EmptyState, ErrorState, Loading } from '../components/states';

const SYNC = ['Synced', 'OutOfSync', 'Unknown'];
const HEALTH = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];

/** Every Argo CD Application, live, filterable by sync and health status. */
export function ApplicationsPage() {
  const { search } = useLocation();
  const { items, error } = useWatch(APP_API_VERSION, 'Application');
  const sync = search.get('sync') ?? '';
  const health = search.get('health') ?? '';
  const text = search.get('q') ?? '';
  const shown = (items ?? [])
    .filter((a) => !sync || (a.status?.sync?.status ?? 'Unknown') === sync)
    .filter((a) => !health || (a.status?.health?.status ?? 'Unknown') === health)
    .filter((a) => !text || a.metadata.name.includes(text))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return (
    <section aria-labelledby="apps-title">
      <div className="page-head">
        <h1 id="apps-title">Applications</h1>
      </div>
      <div className="toolbar">
        <label className="field inline">
          <span>Sync</span>
          <select value={sync} onChange={(e) => setSearchParams({ sync: e.target.value })}>
            <option value="">All</option>
            {SYNC.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>Health</span>
          <select value={health} onChange={(e) => setSearchParams({ health: e.target.value })}>
            <option value="">All</option>
            {HEALTH.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>Name</span>
          <input type="search" value={text} onChange={(e) => setSearchParams({ q: e.target.value })} />
        </label>
      </div>
      {error && !items?.length ? (
        <ErrorState error={error} what="Applications" />
      ) : !items ? (
        <Loading what="Applications" />
      ) : !shown.length ? (
        <EmptyState title={items.length ? 'No Applications match the filters' : 'No Applications yet'}>{items.length ? null : 'Applications appear here when they are created in Git or through a template.'}</EmptyState>
      ) : (
        <table className="table" data-testid="applications-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Project</th>
              <th scope="col">Sync</th>
              <th scope="col">Health</th>
              <th scope="col">Source</th>
              <th scope="col">Last sync</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={`${a.metadata.namespace}/${a.metadata.name}`}>
                <td>
                  <Link to={`/applications/${encodeURIComponent(a.metadata.namespace ?? 'default')}/${encodeURIComponent(a.metadata.name)}`}>{a.metadata.name}</Link>
                </td>
                <td>{a.spec?.project ?? 'default'}</td>
                <td>
                  <Badge tone={syncTone(a.status?.sync?.status)}>{a.status?.sync?.status ?? 'Unknown'}</Badge>
                </td>
                <td>
                  <Badge tone={healthTone(a.status?.health?.status)}>{a.status?.health?.status ?? 'Unknown'}</Badge>
                </td>
                <td className="clip">
                  {a.spec?.source?.repoURL}
                  {a.spec?.source?.path ? ` · ${a.spec.source.path}` : ''}
                </td>
                <td>{ago(a.status?.operationState?.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
