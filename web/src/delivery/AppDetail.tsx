import { useState } from 'react';
import { stringify } from 'yaml';
import { managedResources, refreshApplication, syncApplication, type HistoryEntry } from '../api/argocd';
import type { Resource } from '../api/k8s';
import { useIdentity } from '../app/identity';
import { DiffView, lineDiff } from '../components/DiffView';
import { useAsync } from '../components/hooks';
import { ago, Badge, healthTone, syncTone } from '../components/status';
import { EmptyState, ErrorState, Loading } from '../components/states';

/**
 * One Application: sync and health, the last operation, the resource tree, the diff of desired
 * against live, and the deployment history with rollback. The object comes in live from a watch.
 */
export function AppDetail({ app, compact = false }: { app: Resource; compact?: boolean }) {
  const { userRef } = useIdentity();
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const [showDiff, setShowDiff] = useState(false);
  const s = app.status ?? {};
  const op = s.operationState;
  const act = async (what: string, run: () => Promise<unknown>) => {
    setBusy(what);
    setActionError(undefined);
    try {
      await run();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(undefined);
    }
  };
  const history = ([...(s.history ?? [])] as HistoryEntry[]).reverse();
  const username = userRef.replace(/^user:(default\/)?/, '');
  return (
    <div className="app-detail" data-testid={`app-${app.metadata.name}`}>
      <div className="card">
        <div className="card-head">
          <h2>{app.metadata.name}</h2>
          <div className="actions">
            <button type="button" onClick={() => act('sync', () => syncApplication(app, username))} disabled={!!busy || op?.phase === 'Running'}>
              {busy === 'sync' ? 'Syncing…' : 'Sync'}
            </button>
            <button type="button" onClick={() => act('refresh', () => refreshApplication(app))} disabled={!!busy}>
              {busy === 'refresh' ? 'Refreshing…' : 'Refresh'}
            </button>
          </div>
        </div>
        {actionError ? <ErrorState error={actionError} what={`the ${app.metadata.name} action`} /> : null}
        <dl className="facts">
          <dt>Sync</dt>
          <dd>
            <Badge tone={syncTone(s.sync?.status)}>{s.sync?.status ?? 'Unknown'}</Badge> {s.sync?.revision && <code title={s.sync.revision}>{String(s.sync.revision).slice(0, 8)}</code>}
          </dd>
          <dt>Health</dt>
          <dd>
            <Badge tone={healthTone(s.health?.status)} title={s.health?.message}>
              {s.health?.status ?? 'Unknown'}
            </Badge>
            {s.health?.message && <span className="muted"> {s.health.message}</span>}
          </dd>
          <dt>Last sync</dt>
          <dd>
            {op ? (
              <>
                {op.phase} <span title={op.finishedAt ?? op.startedAt}>{ago(op.finishedAt ?? op.startedAt)}</span>
                {op.message && <div className="muted">{op.message}</div>}
              </>
            ) : (
              'never'
            )}
          </dd>
          <dt>Source</dt>
          <dd className="clip">
            {app.spec?.source?.repoURL} {app.spec?.source?.path && <>· {app.spec.source.path}</>} @ {app.spec?.source?.targetRevision ?? 'HEAD'}
          </dd>
          <dt>Destination</dt>
          <dd>{app.spec?.destination?.namespace ?? '—'}</dd>
          <dt>Compared</dt>
          <dd>{ago(s.reconciledAt)}</dd>
        </dl>
      </div>
      <div className="card">
        <h3>Resources</h3>
        <ResourceTree app={app} />
      </div>
      {!compact && (
        <div className="card">
          <div className="card-head">
            <h3>Diff</h3>
            <button type="button" onClick={() => setShowDiff((v) => !v)} aria-expanded={showDiff}>
              {showDiff ? 'Hide diff' : 'Show diff'}
            </button>
          </div>
          {showDiff && <AppDiff app={app} />}
        </div>
      )}
      <div className="card">
        <h3>History</h3>
        {!history.length ? (
          <EmptyState title="Not deployed yet" />
        ) : (
          <table className="table compact" aria-label="Deployment history">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Revision</th>
                <th scope="col">Deployed</th>
                <th scope="col">By</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {history.map((h, i) => (
                <tr key={h.id}>
                  <td>{h.id}</td>
                  <td>
                    <code title={h.revision}>{h.revision?.slice(0, 8)}</code>
                  </td>
                  <td title={h.deployedAt}>{ago(h.deployedAt)}</td>
                  <td>{h.initiatedBy?.automated ? 'automated' : h.initiatedBy?.username ?? '—'}</td>
                  <td>
                    {i > 0 && (
                      <button type="button" className="link" disabled={!!busy} onClick={() => act('rollback', () => syncApplication(app, username, { revision: h.revision, source: h.source }))} aria-label={`Roll back to deployment ${h.id}`}>
                        Roll back
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {app.spec?.syncPolicy?.automated && history.length > 1 && <p className="muted">Automated sync is on: a rollback is overwritten by the next automatic sync unless automation is turned off in Git.</p>}
      </div>
    </div>
  );
}

function ResourceTree({ app }: { app: Resource }) {
  const resources = (app.status?.resources ?? []) as { group?: string; kind: string; namespace?: string; name: string; status?: string; health?: { status?: string; message?: string } }[];
  if (!resources.length) return <EmptyState title="No resources yet">The Application has not been compared with Git yet, or its path is empty.</EmptyState>;
  return (
    <ul className="tree" aria-label={`Resources of ${app.metadata.name}`}>
      {resources.map((r) => (
        <li key={`${r.group}/${r.kind}/${r.namespace}/${r.name}`}>
          <span className="muted">{r.kind}</span> {r.namespace ? `${r.namespace}/` : ''}
          {r.name} <Badge tone={syncTone(r.status)}>{r.status ?? 'Unknown'}</Badge>
          {r.health?.status && (
            <Badge tone={healthTone(r.health.status)} title={r.health.message}>
              {r.health.status}
            </Badge>
          )}
        </li>
      ))}
    </ul>
  );
}

function AppDiff({ app }: { app: Resource }) {
  const diff = useAsync(() => managedResources(app), [app.metadata.name, app.status?.sync?.revision, app.status?.reconciledAt]);
  if (diff.error) return <ErrorState error={diff.error} what="the diff" retry={diff.reload} />;
  if (!diff.data) return <Loading what="the diff" />;
  const changed = diff.data.filter((r) => (r.normalizedLiveState ?? r.liveState) !== (r.predictedLiveState ?? r.targetState));
  if (!changed.length) return <EmptyState title="No differences">Live state matches Git.</EmptyState>;
  const yamlOf = (s?: string) => (s && s !== 'null' ? stringify(JSON.parse(s), { lineWidth: 0 }) : '');
  return (
    <>
      {changed.map((r) => (
        <div key={`${r.group}/${r.kind}/${r.namespace}/${r.name}`}>
          <h4>
            {r.kind} {r.namespace ? `${r.namespace}/` : ''}
            {r.name}
          </h4>
          <DiffView label={`Diff of ${r.kind} ${r.name}`} diff={lineDiff(yamlOf(r.normalizedLiveState ?? r.liveState), yamlOf(r.predictedLiveState ?? r.targetState))} />
        </div>
      ))}
    </>
  );
}
