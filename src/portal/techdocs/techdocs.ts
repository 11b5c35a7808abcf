import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import MarkdownIt from 'markdown-it';
import { parse } from 'yaml';
import type { Client } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';
import type { CatalogIndex, IndexedEntity } from '../catalog/catalog-index.js';
import { ANNOTATION_LOCATION, stringifyEntityRef } from '../catalog/entity.js';
import { parseLocationRef } from '../catalog/location-reader.js';

export const TECHDOCS_REF = 'backstage.io/techdocs-ref';

/** Where an entity's docs live, and the revision they were read at (the cache key). */
interface DocsSource {
  kind: 'file' | 'url';
  /** Directory holding mkdocs.yml: a local path, or a raw URL prefix ending in '/'. */
  root: string;
  revision: string;
}

interface Site {
  name: string;
  description?: string;
  docsDir: string;
  nav: { title: string; path: string }[];
  files: string[];
  pages: Map<string, string>;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * TechDocs for entities annotated `backstage.io/techdocs-ref: dir:<path>`: reads mkdocs.yml and
 * the Markdown under its docs_dir from the entity's own location (a local directory, or its
 * repository on the Git host at the pushed commit), renders it with raw HTML disabled, and
 * caches each site by revision, so a page is rendered once per commit.
 */
export class TechDocs {
  private md = new MarkdownIt({ html: false, linkify: true });
  private cache = new Map<string, Site>();

  constructor(
    private readonly index: CatalogIndex,
    private readonly client: Client,
    private readonly opts: { selfUrl: () => string; token: string },
  ) {
    // links between pages point at the rendered .html pages this service serves
    const defaultLink = this.md.renderer.rules.link_open;
    this.md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
      const href = String(tokens[idx]!.attrGet('href') ?? '');
      if (href && !/^[a-z]+:/i.test(href) && /\.md(#.*)?$/.test(href)) tokens[idx]!.attrSet('href', href.replace(/\.md(#.*)?$/, '.html$1'));
      return defaultLink ? defaultLink(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
    };
  }

  private entity(p: { namespace: string; kind: string; name: string }): IndexedEntity {
    const rec = this.index.get(stringifyEntityRef(p));
    if (!rec) throw new ApiError(404, 'NotFound', `No entity ${p.kind}:${p.namespace}/${p.name}`);
    return rec;
  }

  private async source(rec: IndexedEntity): Promise<DocsSource> {
    const ref = rec.entity.metadata.annotations?.[TECHDOCS_REF];
    if (!ref) throw new ApiError(404, 'NotFound', `${rec.ref} has no ${TECHDOCS_REF} annotation`);
    if (!ref.startsWith('dir:')) throw ApiError.badRequest(`${rec.ref}: ${TECHDOCS_REF} "${ref}" is not supported; use dir:<path>`);
    const managed = rec.entity.metadata.annotations?.[ANNOTATION_LOCATION];
    if (!managed) throw ApiError.badRequest(`${rec.ref} has no ${ANNOTATION_LOCATION}, so dir: cannot be resolved`);
    const loc = parseLocationRef(managed);
    const dir = ref.slice(4) || '.';
    if (loc.type === 'file') {
      const base = dirname(loc.target);
      const root = resolve(base, dir);
      if (relative(base, root).split(sep).includes('..')) throw ApiError.badRequest(`${rec.ref}: ${TECHDOCS_REF} leaves the entity's directory`);
      return { kind: 'file', root, revision: await this.localRevision(root) };
    }
    let root = new URL(dir.endsWith('/') ? dir : `${dir}/`, loc.target).toString();
    const m = /\/api\/git\/repos\/([^/]+)\/([^/]+)\/raw\/([^/]+)\//.exec(root);
    let revision = createHash('sha1').update(root).digest('hex');
    if (m) {
      const repo = await this.client.get({ apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository', name: `${m[1]}.${m[2]}` }).catch(() => undefined);
      const sha = repo?.status?.refs?.[`refs/heads/${decodeURIComponent(m[3]!)}`];
      if (sha) {
        revision = sha;
        root = root.replace(`/raw/${m[3]}/`, `/raw/${sha}/`);
      }
    }
    return { kind: 'url', root, revision };
  }

  /** Local docs change without commits: their revision is the newest modification time. */
  private async localRevision(root: string): Promise<string> {
    let newest = 0;
    const walk = async (d: string) => {
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
        const full = join(d, e.name);
        if (e.isDirectory()) await walk(full);
        else newest = Math.max(newest, (await stat(full)).mtimeMs);
      }
    };
    await walk(root);
    return `mtime-${newest}`;
  }

  private async read(src: DocsSource, path: string): Promise<string | undefined> {
    if (src.kind === 'file') {
      const full = resolve(src.root, path);
      if (relative(src.root, full).split(sep).includes('..')) return undefined;
      return readFile(full, 'utf8').catch(() => undefined);
    }
    const url = new URL(path, src.root).toString();
    const headers: Record<string, string> = url.startsWith(this.opts.selfUrl() + '/') ? { authorization: `Bearer ${this.opts.token}` } : {};
    // a page that does not arrive fails as an unreachable one does, instead of waiting forever
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    return res.ok ? res.text() : undefined;
  }

  private async site(rec: IndexedEntity): Promise<{ site: Site; src: DocsSource }> {
    const src = await this.source(rec);
    const key = `${rec.key}@${src.revision}`;
    const hit = this.cache.get(key);
    if (hit) return { site: hit, src };
    const text = await this.read(src, 'mkdocs.yml');
    if (text === undefined) throw new ApiError(404, 'NotFound', `${rec.ref} has no mkdocs.yml at ${src.root}`);
    let cfg: any;
    try {
      cfg = parse(text) ?? {};
    } catch (e) {
      throw ApiError.badRequest(`${rec.ref}: mkdocs.yml is not valid YAML: ${(e as Error).message}`);
    }
    const nav: { title: string; path: string }[] = [];
    const walk = (items: unknown) => {
      for (const item of Array.isArray(items) ? items : []) {
        if (typeof item === 'string') nav.push({ title: item.replace(/\.md$/, ''), path: item });
        else if (item && typeof item === 'object') for (const [title, v] of Object.entries(item)) (typeof v === 'string' ? nav.push({ title, path: v }) : walk(v));
      }
    };
    walk(cfg.nav);
    const site: Site = { name: String(cfg.site_name ?? rec.entity.metadata.name), description: cfg.site_description, docsDir: String(cfg.docs_dir ?? 'docs'), nav, files: nav.map((n) => n.path), pages: new Map() };
    if (this.cache.size > 200) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, site);
    return { site, src };
  }

  /** The rendered page for a path of the site (`index.html`, `guide/setup.html`, ...). */
  async page(p: { namespace: string; kind: string; name: string }, path: string): Promise<string> {
    const rec = this.entity(p);
    const { site, src } = await this.site(rec);
    const clean = posix.normalize(path || 'index.html').replace(/^\/+/, '');
    if (clean.startsWith('..')) throw new ApiError(404, 'NotFound', `no page ${path}`);
    const cached = site.pages.get(clean);
    if (cached) return cached;
    const mdPath = clean.endsWith('/') || clean === '.' ? `${clean === '.' ? '' : clean}index.md` : clean.replace(/\.html$/, '.md');
    const markdown = await this.read(src, `${site.docsDir}/${mdPath}`);
    if (markdown === undefined) throw new ApiError(404, 'NotFound', `${rec.ref} has no page ${mdPath}`);
    const depth = mdPath.split('/').length - 1;
    const up = '../'.repeat(depth);
    const nav = site.nav.map((n) => `<li><a href="${escapeHtml(up + n.path.replace(/\.md$/, '.html'))}">${escapeHtml(n.title)}</a></li>`).join('');
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(site.name)}</title></head><body><nav class="md-nav"><ul>${nav}</ul></nav><article class="md-content">${this.md.render(markdown)}</article></body></html>`;
    site.pages.set(clean, html);
    return html;
  }

  async metadata(p: { namespace: string; kind: string; name: string }) {
    const rec = this.entity(p);
    const { site, src } = await this.site(rec);
    return { site_name: site.name, site_description: site.description ?? '', etag: src.revision, build_timestamp: Date.now(), files: site.files, nav: site.nav };
  }
}

/** TechDocs' REST API under /api/techdocs. */
export function registerTechDocsRoutes(app: FastifyInstance, docs: TechDocs, index: CatalogIndex): void {
  app.get('/static/docs/:namespace/:kind/:name/*', async (req, reply) => {
    const p = req.params as { namespace: string; kind: string; name: string; '*': string };
    reply.type('text/html; charset=utf-8');
    return docs.page(p, p['*']);
  });
  app.get('/static/docs/:namespace/:kind/:name', async (req, reply) => {
    reply.type('text/html; charset=utf-8');
    return docs.page(req.params as never, 'index.html');
  });
  app.get('/metadata/techdocs/:namespace/:kind/:name', async (req) => docs.metadata(req.params as never));
  app.get('/metadata/entity/:namespace/:kind/:name', async (req) => {
    const rec = index.get(stringifyEntityRef(req.params as never));
    if (!rec) throw new ApiError(404, 'NotFound', 'no such entity');
    return index.served(rec);
  });
}
