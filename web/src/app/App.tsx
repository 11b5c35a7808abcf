import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { CatalogPage } from '../catalog/CatalogPage';
import { Loading } from '../components/states';
import { IdentityProvider } from './identity';
import { Link, match, navigate, useLocation } from './router';
import { SignIn } from './SignIn';
import { UserSwitcher } from './UserSwitcher';

// The catalog is the landing page and ships in the first chunk; everything else loads on demand.
const EntityPage = lazy(() => import('../entity/EntityPage').then((m) => ({ default: m.EntityPage })));
const TemplateListPage = lazy(() => import('../create/TemplateListPage').then((m) => ({ default: m.TemplateListPage })));
const TemplateFormPage = lazy(() => import('../create/TemplateFormPage').then((m) => ({ default: m.TemplateFormPage })));
const TaskPage = lazy(() => import('../create/TaskPage').then((m) => ({ default: m.TaskPage })));
const ApplicationsPage = lazy(() => import('../delivery/ApplicationsPage').then((m) => ({ default: m.ApplicationsPage })));
const ApplicationPage = lazy(() => import('../delivery/ApplicationPage').then((m) => ({ default: m.ApplicationPage })));
const ChangeRequestsPage = lazy(() => import('../changes/ChangeRequestsPage').then((m) => ({ default: m.ChangeRequestsPage })));
const ChangeRequestPage = lazy(() => import('../changes/ChangeRequestPage').then((m) => ({ default: m.ChangeRequestPage })));

const NAV: { to: string; title: string }[] = [
  { to: '/catalog', title: 'Catalog' },
  { to: '/create', title: 'Create' },
  { to: '/applications', title: 'Applications' },
  { to: '/changes', title: 'Change requests' },
];

const ROUTES: [string, (p: Record<string, string>) => ReactNode][] = [
  ['/catalog', () => <CatalogPage />],
  ['/catalog/:namespace/:kind/:name', (p) => <EntityPage kind={p.kind!} namespace={p.namespace!} name={p.name!} />],
  ['/create', () => <TemplateListPage />],
  ['/create/templates/:namespace/:name', (p) => <TemplateFormPage namespace={p.namespace!} name={p.name!} />],
  ['/create/tasks/:id', (p) => <TaskPage id={p.id!} />],
  ['/applications', () => <ApplicationsPage />],
  ['/applications/:namespace/:name', (p) => <ApplicationPage namespace={p.namespace!} name={p.name!} />],
  ['/changes', () => <ChangeRequestsPage />],
  ['/changes/:namespace/:name', (p) => <ChangeRequestPage namespace={p.namespace!} name={p.name!} />],
];

export function App() {
  const { pathname } = useLocation();
  useEffect(() => {
    if (pathname === '/') navigate('/catalog', { replace: true });
  }, [pathname]);
  let page: ReactNode = (
    <div className="state empty" role="status">
      <strong>No page at {pathname}</strong>
      <div>
        <Link to="/catalog">Go to the catalog</Link>
      </div>
    </div>
  );
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, pathname);
    if (params) {
      page = render(params);
      break;
    }
  }
  if (pathname === '/') page = null;
  return (
    <IdentityProvider>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/catalog" className="brand" aria-label="Pave home">
          Pave
        </Link>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.to} to={n.to} aria-current={pathname === n.to || pathname.startsWith(`${n.to}/`) ? 'page' : undefined}>
              {n.title}
            </Link>
          ))}
        </nav>
        <UserSwitcher />
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading what="the page" />}>{page}</Suspense>
      </main>
      <SignIn />
    </IdentityProvider>
  );
}
