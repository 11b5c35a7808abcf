import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { ADMIN, ANONYMOUS, type UserInfo } from '../admission.js';
import { ApiError } from '../errors.js';
import type { ResourceService } from '../service.js';
import { requestAuthenticator, type AnonymousAccess } from './auth.js';
import { registerK8sRoutes } from './k8s-routes.js';

export interface HttpServerOptions {
  service: ResourceService;
  log: Logger;
  /** The bearer token of the local admin identity. */
  adminToken: string;
  /** Who may call without a token (acting as anonymous); the others are refused with 401. */
  anonymous: AnonymousAccess;
  bodyLimit?: number;
  /** Whether the readiness probe passes; the platform flips it once controllers are up. */
  ready: () => boolean;
  /** Why the server can no longer work, if it cannot (/livez and /healthz answer 503). */
  failure?: () => Error | undefined;
}

/**
 * The one HTTP server: the Kubernetes-compatible API under /k8s, health and metrics, and the
 * plugin routes other modules add under /api/<plugin>. Client mistakes become Status objects
 * with a 4xx code; nothing a client sends produces a 500.
 */
export function createHttpServer(opts: HttpServerOptions): { app: FastifyInstance; metrics: MetricsRegistry } {
  const bodyLimit = opts.bodyLimit ?? 3 * 1024 * 1024;
  const httpLog = opts.log.child({ component: 'http' });
  // fastify's own per-request logging stays off: one line per request is too much at thousands per second
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit, routerOptions: { maxParamLength: 1000 }, return503OnClosing: true, forceCloseConnections: true });
  const metrics = new MetricsRegistry();
  collectDefaultMetrics({ register: metrics, prefix: 'pave_' });
  const requests = new Counter({ name: 'pave_http_requests_total', help: 'HTTP requests by method and status code', labelNames: ['method', 'code'], registers: [metrics] });
  const latency = new Histogram({ name: 'pave_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [metrics] });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

  // one callback-style hook: fastify already times the request, and async hooks cost a promise each
  app.addHook('onResponse', (req, reply, done) => {
    requests.inc({ method: req.method, code: reply.statusCode });
    latency.observe({ method: req.method }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than the limit of ${bodyLimit} bytes`);
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) e = new ApiError(err.statusCode, err.statusCode === 404 ? 'NotFound' : 'BadRequest', err.message);
    else {
      httpLog.error({ err, url: req.url.split('?')[0], method: req.method }, 'request failed');
      e = new ApiError(500, 'InternalError', `internal error while serving ${req.method} ${req.url.split('?')[0]}; the server log has details`);
    }
    reply.code(e.code).header('content-type', 'application/json').send(JSON.stringify(e.toStatus()));
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(404, 'NotFound', `the server could not find the requested resource: ${req.method} ${req.url.split('?')[0]}`);
    reply.code(404).header('content-type', 'application/json').send(JSON.stringify(e.toStatus()));
  });

  const identify = requestAuthenticator(opts.adminToken, opts.anonymous);
  const authenticate = (req: FastifyRequest): UserInfo => (identify(req) === 'admin' ? ADMIN : ANONYMOUS);

  const live = async (_req: FastifyRequest, reply: FastifyReply) => {
    const failure = opts.failure?.();
    return failure ? reply.code(503).type('text/plain').send(`failed: ${failure.message}`) : reply.type('text/plain').send('ok');
  };
  app.get('/healthz', live);
  app.get('/livez', live);
  app.get('/readyz', async (_req, reply) => (opts.ready() ? reply.type('text/plain').send('ok') : reply.code(503).type('text/plain').send('starting')));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

  registerK8sRoutes(app, { service: opts.service, authenticate, log: httpLog });
  return { app, metrics };
}
