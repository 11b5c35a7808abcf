import { useState } from 'react';
import { queryEntities, type Entity } from '../api/catalog';
import { Link } from '../app/router';
import { useAsync } from '../components/hooks';
import { EmptyState, ErrorState, Loading } from '../components/states';

/** Templates Pave generates from an XRD's schema carry the XRD's name. */
const generated = (e: Entity) => Boolean(e.metadata.annotations?.['pave.dev/xrd']);

/** Software Templates from the catalog, searchable and grouped by their spec.type. */
export function TemplateListPage() {
  const templates = useAsync(() => queryEntities({ filter: { kind: 'template' }, limit: 500, orderField: 'metadata.title,asc' }), []);
  const [text, setText] = useState('');
  const t = text.trim().toLowerCase();
  const shown = (templates.data?.items ?? []).filter((e) => !t || [e.metadata.name, e.metadata.title, e.metadata.description, ...(e.metadata.tags ?? [])].some((s) => s?.toLowerCase().includes(t)));
  const groups = new Map<string, Entity[]>();
  for (const e of shown) {
    const type = String(e.spec?.type ?? 'other');
    groups.set(type, [...(groups.get(type) ?? []), e]);
  }
  return (
    <section aria-labelledby="create-title">
      <div className="page-head">
        <h1 id="create-title">Create</h1>
      </div>
      <p className="muted">Choose what you need. Each template asks a few questions, shows you what it will do, and then does it: you can follow every step.</p>
      <label className="search">
        <span className="visually-hidden">Search templates</span>
        <input type="search" placeholder="Search templates" value={text} onChange={(e) => setText(e.target.value)} />
      </label>
      {templates.error ? (
        <ErrorState error={templates.error} what="the templates" retry={templates.reload} />
      ) : !templates.data ? (
        <Loading what="templates" />
      ) : !shown.length ? (
        <EmptyState title={templates.data.items.length ? 'No template matches the search' : 'No templates in the catalog yet'}>{templates.data.items.length ? null : 'Templates (kind: Template) appear here when they are registered in the catalog.'}</EmptyState>
      ) : (
        [...groups.entries()]
          // templates a platform team wrote come before those generated from XRDs: they are the curated path
          .sort(([a, ai], [b, bi]) => Number(ai.every(generated)) - Number(bi.every(generated)) || a.localeCompare(b))
          .map(([type, items]) => (
            <section key={type} aria-labelledby={`group-${type}`}>
              <h2 id={`group-${type}`} className="group-title">
                {type}
              </h2>
              <ul className="cards">
                {items.map((e) => (
                  <li key={`${e.metadata.namespace}/${e.metadata.name}`} className="card template">
                    <h3>{e.metadata.title ?? e.metadata.name}</h3>
                    <p>{e.metadata.description}</p>
                    <div>
                      {(e.metadata.tags ?? []).map((tag) => (
                        <span key={tag} className="chip">
                          {tag}
                        </span>
                      ))}
                    </div>
                    <Link className="button primary" to={`/create/templates/${encodeURIComponent(e.metadata.namespace ?? 'default')}/${encodeURIComponent(e.metadata.name)}`} aria-label={`Choose ${e.metadata.title ?? e.metadata.name}`}>
                      Choose
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          ))
      )}
    </section>
  );
}
