import type { Entity } from '../api/catalog';
import { request } from '../api/http';
import { useAsync } from '../components/hooks';
import { ErrorState, Loading } from '../components/states';

/** The entity's TechDocs site, as the techdocs backend built it, in a sandboxed frame. */
export function DocsTab({ entity: e }: { entity: Entity }) {
  const base = `/api/techdocs/static/docs/${encodeURIComponent(e.metadata.namespace ?? 'default')}/${encodeURIComponent(e.kind.toLowerCase())}/${encodeURIComponent(e.metadata.name)}`;
  const check = useAsync(() => request<string>(`${base}/index.html`, { headers: { accept: 'text/html' } }), [base]);
  if (check.error) return <ErrorState error={check.error} what="the documentation" retry={check.reload} />;
  if (!check.data) return <Loading what="the documentation" />;
  return <iframe className="docs" title={`Documentation of ${e.metadata.title ?? e.metadata.name}`} src={`${base}/index.html`} sandbox="allow-same-origin allow-popups" />;
}
