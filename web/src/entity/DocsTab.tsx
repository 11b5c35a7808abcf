import { useState } from 'react';
import type { Entity } from '../api/catalog';
import { request } from '../api/http';
import { useAsync } from '../components/hooks';
import { ErrorState, Loading } from '../components/states';

/**
 * The entity's TechDocs site, as the techdocs backend built it, in a sandboxed frame. The pages
 * are fetched here and handed to the frame as srcdoc, because a frame's own requests cannot
 * carry the Pave token; so links between the site's pages are followed here too.
 */
export function DocsTab({ entity: e }: { entity: Entity }) {
  const base = `/api/techdocs/static/docs/${encodeURIComponent(e.metadata.namespace ?? 'default')}/${encodeURIComponent(e.kind.toLowerCase())}/${encodeURIComponent(e.metadata.name)}`;
  // the page is remembered with its site, so another entity's tab starts at its own index
  const [at, setAt] = useState({ base, page: 'index.html' });
  const page = at.base === base ? at.page : 'index.html';
  const html = useAsync(() => request<string>(`${base}/${page}`, { headers: { accept: 'text/html' } }), [base, page]);
  if (html.error) return <ErrorState error={html.error} what="the documentation" retry={html.reload} />;
  if (html.data === undefined) return <Loading what="the documentation" />;
  const pageUrl = new URL(`${base}/${page}`, window.location.href);
  const followLinks = (frame: HTMLIFrameElement) => {
    const doc = frame.contentDocument;
    doc?.addEventListener('click', (ev) => {
      const link = (ev.target as Element | null)?.closest?.('a[href]');
      if (!link || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
      const to = new URL(link.getAttribute('href')!, pageUrl);
      // links off the site behave as in any frame
      if (to.origin !== pageUrl.origin || !to.pathname.startsWith(`${base}/`)) return;
      ev.preventDefault();
      const next = to.pathname.slice(base.length + 1) || 'index.html';
      if (next === page) doc.getElementById(decodeURIComponent(to.hash.slice(1)))?.scrollIntoView();
      else setAt({ base, page: next });
    });
  };
  return <iframe className="docs" title={`Documentation of ${e.metadata.title ?? e.metadata.name}`} srcDoc={withBase(String(html.data), pageUrl.href)} sandbox="allow-same-origin allow-popups" onLoad={(ev) => followLinks(ev.currentTarget)} />;
}

/** The page with a <base> of its own address, so its relative links resolve as if the frame had loaded it. */
function withBase(html: string, href: string): string {
  const tag = `<base href="${href.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`;
  return /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (head) => head + tag) : tag + html;
}
