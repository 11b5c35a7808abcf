import { entityPath, humanRef, parseRef, relationTargets, type Entity } from '../api/catalog';
import { Link } from '../app/router';

/** Description, owner, system, lifecycle, links and tags: what a newcomer reads first. */
export function AboutCard({ entity: e }: { entity: Entity }) {
  const owner = typeof e.spec?.owner === 'string' ? e.spec.owner : relationTargets(e, 'ownedBy')[0];
  const system = typeof e.spec?.system === 'string' ? e.spec.system : relationTargets(e, 'partOf').find((r) => r.startsWith('system:'));
  const ns = e.metadata.namespace ?? 'default';
  const refLink = (ref: string, kind: string) => <Link to={entityPath(parseRef(ref, { kind, namespace: ns }))}>{humanRef(ref, kind)}</Link>;
  return (
    <div className="card" aria-labelledby="about-title">
      <h2 id="about-title">About</h2>
      <p>{e.metadata.description ?? <span className="muted">No description.</span>}</p>
      <dl className="facts">
        <dt>Owner</dt>
        <dd>{owner ? refLink(owner, 'group') : '—'}</dd>
        <dt>System</dt>
        <dd>{system ? refLink(system, 'system') : '—'}</dd>
        <dt>Type</dt>
        <dd>{e.spec?.type ?? '—'}</dd>
        <dt>Lifecycle</dt>
        <dd>{e.spec?.lifecycle ?? '—'}</dd>
        <dt>Tags</dt>
        <dd>{e.metadata.tags?.length ? e.metadata.tags.map((t) => <span key={t} className="chip">{t}</span>) : '—'}</dd>
      </dl>
      {!!e.metadata.links?.length && (
        <>
          <h3>Links</h3>
          <ul className="links">
            {e.metadata.links.map((l) => (
              <li key={l.url}>
                <a href={l.url} target="_blank" rel="noreferrer">
                  {l.title ?? l.url}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
