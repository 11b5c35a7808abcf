import { useEffect, useRef, useState } from 'react';
import { entityPath, parseRef } from '../api/catalog';
import { followTask, getTask, type TaskEvent, type TaskOutput, type TaskStatus } from '../api/scaffolder';
import { Link } from '../app/router';
import { GIT_API_VERSION } from '../changes/ChangeRequestsPage';
import { useAsync, useWatch } from '../components/hooks';
import { Badge, type Tone } from '../components/status';
import { ErrorState, Loading } from '../components/states';

const tone = (s: TaskStatus | undefined): Tone => (s === 'completed' ? 'good' : s === 'failed' || s === 'cancelled' ? 'bad' : s === 'processing' ? 'busy' : 'unknown');

/**
 * A running or finished task: its steps with their status, the live log (Server-Sent Events),
 * and when it completes, its output links. A change request opened by the task is linked
 * as soon as it exists, so a request waiting for approval is never a black hole.
 */
export function TaskPage({ id }: { id: string }) {
  const task = useAsync(() => getTask(id), [id]);
  const [events, setEvents] = useState<TaskEvent[]>([]);
  const [streamError, setStreamError] = useState<string>();
  const logRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    setEvents([]);
    const seen = new Set<number>();
    return followTask(
      id,
      (e) => {
        if (seen.has(e.id)) return;
        seen.add(e.id);
        setEvents((list) => [...list, e]);
        if (e.type === 'completion') task.reload();
      },
      setStreamError,
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [events.length]);
  const changes = useWatch(GIT_API_VERSION, 'ChangeRequest');
  const myChanges = (changes.items ?? []).filter((c) => [c.metadata.annotations?.['pave.dev/task-id'], c.metadata.annotations?.['pave.dev/trace-id']].includes(id));

  if (task.error && !task.data) return <ErrorState error={task.error} what={`task ${id}`} retry={task.reload} />;
  if (!task.data) return <Loading what={`task ${id}`} />;
  const completion = events.find((e) => e.type === 'completion' || e.type === 'cancelled');
  const status: TaskStatus = (completion?.body.status as TaskStatus | undefined) ?? (completion ? 'completed' : task.data.status);
  const stepStatus = new Map<string, string>();
  for (const e of events) if (e.body.stepId && e.body.status) stepStatus.set(e.body.stepId, e.body.status);
  const output: TaskOutput | undefined = completion?.body.output ?? (task.data as { output?: TaskOutput }).output;
  const title = task.data.spec.templateInfo?.entity?.metadata?.title ?? task.data.spec.templateInfo?.entityRef ?? 'Task';
  return (
    <section aria-labelledby="task-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/create">Create</Link> / task
      </nav>
      <div className="page-head">
        <div>
          <h1 id="task-title">{title}</h1>
          <div className="muted">
            Task <code>{id}</code> · started {new Date(task.data.createdAt).toLocaleString()}
          </div>
        </div>
        <span data-testid="task-status">
          <Badge tone={tone(status)}>{status}</Badge>
        </span>
      </div>
      <div className="task">
        <div className="card">
          <h2>Steps</h2>
          <ol className="steps">
            {(task.data.spec.steps ?? []).map((s) => (
              <li key={s.id} data-status={stepStatus.get(s.id) ?? 'open'}>
                <Badge tone={tone(stepStatus.get(s.id) as TaskStatus)}>{stepStatus.get(s.id) ?? 'waiting'}</Badge> {s.name}
              </li>
            ))}
          </ol>
          {(output?.links?.length || myChanges.length) ? (
            <>
              <h2>Results</h2>
              <ul className="links" data-testid="task-links">
                {(output?.links ?? []).map((l, i) => (
                  <li key={i}>
                    {l.entityRef ? <Link to={entityPath(parseRef(l.entityRef))}>{l.title ?? l.entityRef}</Link> : l.url?.startsWith('/') ? <Link to={l.url}>{l.title ?? l.url}</Link> : <a href={l.url}>{l.title ?? l.url}</a>}
                  </li>
                ))}
                {myChanges.map((c) => (
                  <li key={c.metadata.name}>
                    <Link to={`/changes/${encodeURIComponent(c.metadata.namespace ?? 'default')}/${encodeURIComponent(c.metadata.name)}`}>Change request: {c.spec?.title ?? c.metadata.name}</Link> <span className="muted">({c.status?.state ?? 'Open'})</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {output?.text?.map((t, i) => (
            <div key={i}>
              <h3>{t.title}</h3>
              {/* multi-line output (a manifest, a command) keeps its lines */}
              {t.content?.includes('\n') ? <pre className="code">{t.content}</pre> : <p>{t.content}</p>}
            </div>
          ))}
        </div>
        <div className="card">
          <h2>Log</h2>
          {streamError && <div className="state error" role="alert">{streamError}</div>}
          <div className="log" role="log" aria-live="polite" aria-label="Task log" tabIndex={0} ref={logRef} data-testid="task-log">
            {events.map((e) => (
              <div key={e.id} className={e.body.error ? 'err' : undefined}>
                <span className="muted">{new Date(e.createdAt).toLocaleTimeString()}</span> {e.body.stepId ? <span className="muted">[{e.body.stepId}]</span> : null} {e.body.message}
              </div>
            ))}
            {!events.length && <div className="muted">Waiting for the first log line…</div>}
          </div>
        </div>
      </div>
    </section>
  );
}
