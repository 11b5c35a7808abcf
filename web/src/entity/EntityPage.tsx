import { lazy, Suspense } from 'react';
import { entityPath, getEntity, humanRef, parseRef, stringifyRef, type Entity } from '../api/catalog';
import { Link, setSearchParams, useLocation } from '../app/router';
import { useAsync } from '../components/hooks';
import { ErrorState, Loading } from '../components/states';
import { Tabs } from '../components/Tabs';
import { AboutCard } from './AboutCard';
import { applicationSelector, claimRef, hasDocs } from './annotations';
import { DeliveryTab } from './DeliveryTab';
import { DocsTab } from './DocsTab';

const RelationsGraph = lazy(() => import('./RelationsGraph').then((m) => ({ default: m.RelationsGraph })));
const InfrastructureTab = lazy(() => import('./InfrastructureTab').then((m) => ({ default: m.InfrastructureTab })));

/** One page per entity: about and relations, then the tabs its annotations make meaningful. */
export function EntityPage({ kind, namespace, name }: { kind: string; namespace: string; name: string }) {
  const { search } = useLocation();
  const entity = useAsync(() => getEntity({ kind, namespace, name }), [kind, namespace, name], { pollMs: 10_000 });
  const label = `${kind}:${namespace}/${name}`;
  if (!entity.data) {
    if (entity.error) {
      return (
        <section>
          <h1>{name}</h1>
          <ErrorState error={entity.error} what={`the entity ${label}`} retry={entity.reload} />
          <p>
            <Link to="/catalog">Back to the catalog</Link>
          </p>
        </section>
      );
    }
    return <Loading what={label} />;
  }
  const e = entity.data;
  const tabs = [{ id: 'overview', title: 'Overview' }];
  const claim = claimRef(e);
  const apps = applicationSelector(e);
  if (claim) tabs.push({ id: 'infrastructure', title: 'Infrastructure' });
  if (apps) tabs.push({ id: 'delivery', title: 'Delivery' });
  if (hasDocs(e)) tabs.push({ id: 'docs', title: 'Docs' });
  const requested = search.get('tab') ?? (claim ? 'infrastructure' : 'overview');
  const tab = tabs.some((t) => t.id === requested) ? requested : 'overview';
  return (
    <section aria-labelledby="entity-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/catalog">Catalog</Link> / <Link to={`/catalog?kind=${encodeURIComponent(e.kind.toLowerCase())}`}>{e.kind}</Link>
      </nav>
      <div className="page-head">
        <div>
          <h1 id="entity-title">{e.metadata.title ?? e.metadata.name}</h1>
          <div className="muted">
            {stringifyRef(e)}
            {e.spec?.type ? ` · ${e.spec.type}` : ''}
            {typeof e.spec?.owner === 'string' && (
              <>
                {' · owned by '}
                <Link to={entityPath(parseRef(e.spec.owner, { kind: 'group', namespace: e.metadata.namespace ?? 'default' }))}>{humanRef(e.spec.owner, 'group')}</Link>
              </>
            )}
          </div>
        </div>
      </div>
      <Tabs label="Entity views" tabs={tabs} selected={tab} onSelect={(id) => setSearchParams({ tab: id })} />
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
        <Suspense fallback={<Loading what={tab} />}>
          {tab === 'overview' && <Overview entity={e} />}
          {tab === 'infrastructure' && claim && <InfrastructureTab claim={claim} />}
          {tab === 'delivery' && apps && <DeliveryTab selector={apps} />}
          {tab === 'docs' && <DocsTab entity={e} />}
        </Suspense>
      </div>
    </section>
  );
}

function Overview({ entity }: { entity: Entity }) {
  return (
    <div className="grid-2">
      <AboutCard entity={entity} />
      <div className="card">
        <h2>Relations</h2>
        <Suspense fallback={<Loading what="relations" />}>
          <RelationsGraph entity={entity} />
        </Suspense>
      </div>
    </div>
  );
}
