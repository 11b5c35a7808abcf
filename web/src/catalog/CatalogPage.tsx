import { useEffect, useState } from 'react';
import { entityFacets, entityPath, humanRef, queryEntities, type Entity, type Facets } from '../api/catalog';
import { useIdentity } from '../app/identity';
import { Link, setSearchParams, useLocation } from '../app/router';
import { useAsync } from '../components/hooks';
import { EmptyState, ErrorState, Loading } from '../components/states';

const PAGE_SIZE = 25;

/** The filters, each a catalog field the server filters on; the URL query holds their values. */
const FILTERS: { param: string; field: string; label: string }[] = [
  { param: 'kind', field: 'kind', label: 'Kind' },
  { param: 'type', field: 'spec.type', label: 'Type' },
  { param: 'owner', field: 'spec.owner', label: 'Owner' },
  { param: 'lifecycle', field: 'spec.lifecycle', label: 'Lifecycle' },
  { param: 'tag', field: 'metadata.tags', label: 'Tag' },
  { param: 'namespace', field: 'metadata.namespace', label: 'Namespace' },
];

/**
 * The catalog table. Filtering, text search and paging all happen on the server
 * (Backstage's by-query API), so the page costs the same at 100 or 100,000 entities.
 */
export function CatalogPage() {
  const { search } = useLocation();
  const { ownershipRefs } = useIdentity();
  const owned = search.get('owned') ?? 'all';
  const cursor = search.get('cursor') ?? undefined;
  const text = search.get('q') ?? '';
  const [draft, setDraft] = useState(text);
  useEffect(() => setDraft(text), [text]);
  useEffect(() => {
    if (draft === text) return;
    const t = setTimeout(() => setSearchParams({ q: draft, cursor: undefined }), 250);
    return () => clearTimeout(t);
  }, [draft, text]);

  const filter: Record<string, string | string[] | undefined> = {};
  for (const f of FILTERS) filter[f.field] = search.get(f.param) ?? undefined;
  if (owned === 'mine') filter['relations.ownedBy'] = ownershipRefs;
  const filterKey = JSON.stringify(filter);

  const page = useAsync(() => queryEntities({ filter, text, limit: PAGE_SIZE, cursor }), [filterKey, text, cursor], { pollMs: 10_000 });
  const facets = useAsync<Facets>(() => entityFacets(FILTERS.map((f) => f.field), search.get('kind') ? { kind: search.get('kind')! } : {}), [search.get('kind')], { pollMs: 30_000 });

  return (
    <section aria-labelledby="catalog-title">
      <div className="page-head">
        <h1 id="catalog-title">Catalog</h1>
        <Link to="/create" className="button primary">
          Create…
        </Link>
      </div>
      <div className="catalog">
        <aside className="filters" aria-label="Filters">
          <fieldset className="segmented">
            <legend>Show</legend>
            {(['all', 'mine'] as const).map((v) => (
              <label key={v}>
                <input type="radio" name="owned" value={v} checked={owned === v} onChange={() => setSearchParams({ owned: v === 'all' ? undefined : v, cursor: undefined })} />
                {v === 'all' ? 'All' : 'Owned by me / my groups'}
              </label>
            ))}
          </fieldset>
          {FILTERS.map((f) => (
            <label key={f.param} className="field">
              <span>{f.label}</span>
              <select value={search.get(f.param) ?? ''} onChange={(e) => setSearchParams({ [f.param]: e.target.value, cursor: undefined, ...(f.param === 'kind' ? { type: undefined } : {}) })}>
                <option value="">All</option>
                {(facets.data?.[f.field] ?? []).map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.value} ({o.count})
                  </option>
                ))}
                {search.get(f.param) && !facets.data?.[f.field]?.some((o) => o.value === search.get(f.param)) && <option value={search.get(f.param)!}>{search.get(f.param)}</option>}
              </select>
            </label>
          ))}
          <button type="button" className="link" onClick={() => setSearchParams(Object.fromEntries([...FILTERS.map((f) => [f.param, undefined]), ['q', undefined], ['owned', undefined], ['cursor', undefined]]))}>
            Clear filters
          </button>
        </aside>
        <div className="catalog-main">
          <label className="search">
            <span className="visually-hidden">Search the catalog</span>
            <input type="search" placeholder="Search by name, title or description" value={draft} onChange={(e) => setDraft(e.target.value)} />
          </label>
          {page.error && !page.data ? (
            <ErrorState error={page.error} what="the catalog" retry={page.reload} />
          ) : !page.data ? (
            <Loading what="the catalog" />
          ) : (
            <EntityTable result={page.data} busy={page.loading} />
          )}
          {page.data && (
            <nav className="pager" aria-label="Pages">
              <span aria-live="polite">{page.data.totalItems.toLocaleString()} entities</span>
              <button type="button" disabled={!page.data.pageInfo.prevCursor} onClick={() => setSearchParams({ cursor: page.data!.pageInfo.prevCursor })}>
                ← Previous
              </button>
              <button type="button" disabled={!page.data.pageInfo.nextCursor} onClick={() => setSearchParams({ cursor: page.data!.pageInfo.nextCursor })}>
                Next →
              </button>
            </nav>
          )}
        </div>
      </div>
    </section>
  );
}

function EntityTable({ result, busy }: { result: { items: Entity[]; totalItems: number }; busy: boolean }) {
  if (!result.items.length) {
    return (
      <EmptyState title="No entities match">
        Change the filters, or <Link to="/create">create something</Link>.
      </EmptyState>
    );
  }
  return (
    <table className="table" aria-busy={busy} data-testid="catalog-table">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col">Type</th>
          <th scope="col">Owner</th>
          <th scope="col">Lifecycle</th>
          <th scope="col">Description</th>
          <th scope="col">Tags</th>
        </tr>
      </thead>
      <tbody>
        {result.items.map((e) => (
          <tr key={e.metadata.uid ?? `${e.kind}:${e.metadata.namespace}/${e.metadata.name}`}>
            <td>
              <Link to={entityPath(e)}>{e.metadata.title ?? e.metadata.name}</Link>
              {e.metadata.namespace && e.metadata.namespace !== 'default' && <span className="muted"> · {e.metadata.namespace}</span>}
            </td>
            <td>{e.kind}</td>
            <td>{e.spec?.type ?? ''}</td>
            <td>{typeof e.spec?.owner === 'string' ? humanRef(e.spec.owner, 'group') : ''}</td>
            <td>{e.spec?.lifecycle ?? ''}</td>
            <td className="clip">{e.metadata.description ?? ''}</td>
            <td>
              {(e.metadata.tags ?? []).map((t) => (
                <span key={t} className="chip">
                  {t}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
