import { APP_API_VERSION } from '../api/argocd';
import { Link } from '../app/router';
import { useWatch } from '../components/hooks';
import { EmptyState, ErrorState, Loading } from '../components/states';
import { AppDetail } from './AppDetail';

export function ApplicationPage({ namespace, name }: { namespace: string; name: string }) {
  const { items, error } = useWatch(APP_API_VERSION, 'Application', { namespace, name });
  const app = items?.[0];
  return (
    <section aria-labelledby="app-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/applications">Applications</Link> / {namespace}
      </nav>
      <h1 id="app-title">{name}</h1>
      {error && !app ? <ErrorState error={error} what={`Application ${namespace}/${name}`} /> : !items ? <Loading what={`Application ${name}`} /> : !app ? <EmptyState title={`Application ${namespace}/${name} does not exist`} /> : <AppDetail app={app} />}
    </section>
  );
}
