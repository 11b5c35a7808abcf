import { APP_API_VERSION } from '../api/argocd';
import { Link } from '../app/router';
import { AppDetail } from '../delivery/AppDetail';
import { useWatch } from '../components/hooks';
import { EmptyState, ErrorState, Loading } from '../components/states';

/** The Applications that deliver this entity, found by name or label selector (argocd/* annotations). */
export function DeliveryTab({ selector }: { selector: { names?: string[]; labelSelector?: string; namespace?: string } }) {
  const { items, error } = useWatch(APP_API_VERSION, 'Application', { namespace: selector.namespace, labelSelector: selector.labelSelector });
  const apps = (items ?? []).filter((a) => !selector.names?.length || selector.names.includes(a.metadata.name));
  if (error && !apps.length) return <ErrorState error={error} what="the Applications" />;
  if (!items) return <Loading what="the Applications" />;
  if (!apps.length) return <EmptyState title="No Application delivers this entity yet">It appears here once its Application exists; this view updates by itself.</EmptyState>;
  return (
    <>
      {apps.map((a) => (
        <div key={`${a.metadata.namespace}/${a.metadata.name}`}>
          <p>
            <Link to={`/applications/${encodeURIComponent(a.metadata.namespace ?? 'default')}/${encodeURIComponent(a.metadata.name)}`}>Open {a.metadata.name} in Applications</Link>
          </p>
          <AppDetail app={a} compact />
        </div>
      ))}
    </>
  );
}
