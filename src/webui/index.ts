import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors.js';
import type { Platform, PlatformModule } from '../platform.js';
import { StaticSite } from './static-site.js';

/** Where `vite build` puts the app: dist/web, beside this module's dist/src/webui. */
const BUILT_APP = fileURLToPath(new URL('../../web/', import.meta.url));

/** Path prefixes that belong to APIs: an unknown path under them is a JSON 404, never the app. */
const API_PREFIXES = ['/api/', '/k8s/', '/git/', '/metrics', '/healthz', '/livez', '/readyz'];

/**
 * Serves the web UI at `/`: the built files, and index.html for every other non-API path so
 * the app's own router handles deep links. Without a build it answers with a page that says
 * how to make one, rather than a bare 404.
 */
export function webUiModule(opts: { root?: string } = {}): PlatformModule {
  return {
    name: 'webui',
    install(p: Platform) {
      const site = new StaticSite(opts.root ?? BUILT_APP);
      if (!site.built) p.log.warn({ root: site.root }, 'the web UI is not built; run `npm run build` to serve it at /');
      p.routes((app) => registerWebUiRoutes(app, site));
    },
  };
}

export function registerWebUiRoutes(app: FastifyInstance, site: StaticSite): void {
  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = decodeURIComponent(req.url.split('?')[0]!);
    if (API_PREFIXES.some((p) => path.startsWith(p) || path === p.replace(/\/$/, ''))) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource: ${req.method} ${path}`);
    }
    if (!site.built) {
      return reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><title>Pave</title><h1>The web UI is not built</h1><p>Run <code>npm run build</code> and restart Pave. The APIs under /api and /k8s work without it.</p>');
    }
    const file = site.lookup(path);
    if (!file) throw new ApiError(404, 'NotFound', `the web UI has no file ${path}`);
    reply.header('content-type', file.contentType);
    reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    reply.header('x-content-type-options', 'nosniff');
    if (file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding');
      return reply.send(file.gzip);
    }
    return reply.send(file.body);
  };
  app.get('/', serve);
  app.get('/*', serve);
}
