import { Link, setSearchParams, useLocation } from '../app/router';
import { useWatch } from '../components/hooks';
import { ago, Badge, type Tone } from '../components/status';
import { EmptyState, ErrorState, Loading } from '../components/states';

export const GIT_API_VERSION = 'git.pave.dev/v1alpha1';

export function stateTone(state: string | undefined): Tone {
  return state === 'Merged' ? 'good' : state === 'Approved' ? 'busy' : state === 'Closed' ? 'unknown' : 'busy';
}

/** Change requests on the built-in Git host, live; open ones first. */
export function ChangeRequestsPage() {
  const { search } = useLocation();
  const state = search.get('state') ?? 'Open';
  const { items, error } = useWatch(GIT_API_VERSION, 'ChangeRequest');
  const shown = (items ?? []).filter((c) => state === 'all' || (c.status?.state ?? 'Open') === state).sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
  return (
    <section aria-labelledby="cr-title">
      <div className="page-head">
        <h1 id="cr-title">Change requests</h1>
      </div>
      <div className="toolbar">
        <label className="field inline">
          <span>State</span>
          <select value={state} onChange={(e) => setSearchParams({ state: e.target.value === 'Open' ? undefined : e.target.value || 'all' })}>
            <option value="Open">Open</option>
            <option value="Approved">Approved</option>
            <option value="Merged">Merged</option>
            <option value="Closed">Closed</option>
            <option value="all">All</option>
          </select>
        </label>
      </div>
      {error && !items?.length ? (
        <ErrorState error={error} what="change requests" />
      ) : !items ? (
        <Loading what="change requests" />
      ) : !shown.length ? (
        <EmptyState title={state === 'all' ? 'No change requests yet' : `No ${state.toLowerCase()} change requests`} />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Repository</th>
              <th scope="col">Branches</th>
              <th scope="col">Author</th>
              <th scope="col">State</th>
              <th scope="col">Opened</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={`${c.metadata.namespace}/${c.metadata.name}`}>
                <td>
                  <Link to={`/changes/${encodeURIComponent(c.metadata.namespace ?? 'default')}/${encodeURIComponent(c.metadata.name)}`}>{c.spec?.title ?? c.metadata.name}</Link>
                </td>
                <td>{c.spec?.repository}</td>
                <td>
                  <code>{c.spec?.sourceBranch}</code> → <code>{c.spec?.targetBranch}</code>
                </td>
                <td>{c.spec?.author ?? '—'}</td>
                <td>
                  <Badge tone={stateTone(c.status?.state)}>{c.status?.state ?? 'Open'}</Badge>
                </td>
                <td title={c.metadata.creationTimestamp}>{ago(c.metadata.creationTimestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
