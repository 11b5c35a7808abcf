import { useState } from 'react';
import { changeRequestAction, changeRequestDiff } from '../api/git';
import { useIdentity } from '../app/identity';
import { Link } from '../app/router';
import { DiffView } from '../components/DiffView';
import { useAsync, useWatch } from '../components/hooks';
import { ago, Badge } from '../components/status';
import { EmptyState, ErrorState, Loading } from '../components/states';
import { GIT_API_VERSION, stateTone } from './ChangeRequestsPage';

/** One change request: what it changes, who approved it, and the approve / merge / close actions. */
export function ChangeRequestPage({ namespace, name }: { namespace: string; name: string }) {
  const { userRef } = useIdentity();
  const { items, error } = useWatch(GIT_API_VERSION, 'ChangeRequest', { namespace, name });
  const cr = items?.[0];
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const diff = useAsync(() => (cr ? changeRequestDiff(cr.spec.repository, namespace, name) : Promise.resolve(undefined)), [cr?.spec?.repository, cr?.status?.state, cr?.status?.sourceCommit]);
  if (error && !cr) return <ErrorState error={error} what={`change request ${namespace}/${name}`} />;
  if (!items) return <Loading what={`change request ${name}`} />;
  if (!cr) return <EmptyState title={`Change request ${namespace}/${name} does not exist`} />;
  const state = cr.status?.state ?? 'Open';
  const user = userRef.replace(/^user:(default\/)?/, '');
  const act = async (action: 'approve' | 'merge' | 'close') => {
    setBusy(action);
    setActionError(undefined);
    try {
      await changeRequestAction(cr.spec.repository, namespace, name, action, user);
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(undefined);
    }
  };
  const open = state === 'Open' || state === 'Approved';
  return (
    <section aria-labelledby="cr-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/changes">Change requests</Link> / {cr.spec.repository}
      </nav>
      <div className="page-head">
        <div>
          <h1 id="cr-title">{cr.spec.title ?? name}</h1>
          <div className="muted">
            <code>{cr.spec.sourceBranch}</code> → <code>{cr.spec.targetBranch}</code> in {cr.spec.repository} · by {cr.spec.author ?? 'unknown'} · opened {ago(cr.metadata.creationTimestamp)}
          </div>
        </div>
        <Badge tone={stateTone(state)}>{state}</Badge>
      </div>
      {cr.spec.description && <p>{cr.spec.description}</p>}
      <div className="actions">
        <button type="button" disabled={!open || !!busy} onClick={() => act('approve')}>
          {busy === 'approve' ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" className="primary" disabled={!open || !!busy} onClick={() => act('merge')}>
          {busy === 'merge' ? 'Merging…' : 'Merge'}
        </button>
        <button type="button" disabled={!open || !!busy} onClick={() => act('close')}>
          Close
        </button>
      </div>
      {actionError ? <ErrorState error={actionError} what="the action" /> : null}
      <div className="grid-2">
        <div className="card">
          <h2>Files</h2>
          {(cr.status?.files ?? []).length ? (
            <ul className="tree">
              {(cr.status.files as { path: string; status: string }[]).map((f) => (
                <li key={f.path}>
                  <span className="muted">{f.status}</span> {f.path}
                </li>
              ))}
            </ul>
          ) : (
            <EmptyState title="No changed files listed" />
          )}
        </div>
        <div className="card">
          <h2>Approvals</h2>
          {(cr.status?.approvals ?? []).length ? (
            <ul className="tree">
              {(cr.status.approvals as { user: string; time: string }[]).map((a) => (
                <li key={a.user + a.time}>
                  {a.user} <span className="muted">{ago(a.time)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <EmptyState title="Not approved yet" />
          )}
          {cr.status?.mergeCommit && (
            <p>
              Merged as <code>{String(cr.status.mergeCommit).slice(0, 10)}</code>
            </p>
          )}
        </div>
      </div>
      <div className="card">
        <h2>Diff</h2>
        {diff.error ? <ErrorState error={diff.error} what="the diff" retry={diff.reload} /> : diff.data === undefined ? <Loading what="the diff" /> : diff.data ? <DiffView diff={diff.data} label="Changes" /> : <EmptyState title="No differences" />}
      </div>
    </section>
  );
}
