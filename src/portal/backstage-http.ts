import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.js';
import { requestAuthenticator, type AnonymousAccess } from '../api/http/auth.js';
import { EntityError } from './catalog/entity.js';

/** Backstage's error names by HTTP status, so @backstage/errors deserialises them as the same classes. */
const NAMES: Record<number, string> = { 400: 'InputError', 401: 'AuthenticationError', 403: 'NotAllowedError', 404: 'NotFoundError', 409: 'ConflictError', 412: 'NotModifiedError', 422: 'InputError' };

/**
 * Makes a route plugin answer errors in Backstage's shape:
 * `{error: {name, message}, request: {method, url}, response: {statusCode}}`.
 * Client mistakes are 4xx with a message naming the field; anything else is a logged 500.
 */
export function useBackstageErrors(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    let code = 500;
    let name = 'Error';
    if (err instanceof ApiError) code = err.code;
    else if (err instanceof EntityError) code = 400;
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) code = err.statusCode;
    if (code >= 500) log.error({ err, url: req.url.split('?')[0], method: req.method }, 'request failed');
    name = NAMES[code] ?? name;
    const message = code >= 500 ? `internal error while serving ${req.method} ${req.url.split('?')[0]}; the server log has details` : err.message;
    reply.code(code).header('content-type', 'application/json').send(JSON.stringify({ error: { name, message }, request: { method: req.method, url: req.url }, response: { statusCode: code } }));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).header('content-type', 'application/json').send(JSON.stringify({ error: { name: 'NotFoundError', message: `no route for ${req.method} ${req.url.split('?')[0]}` }, request: { method: req.method, url: req.url }, response: { statusCode: 404 } }));
  });
}

/** The JSON body of a request (the server hands bodies over as text). */
export function jsonBody<T = Record<string, any>>(req: FastifyRequest): T {
  const raw = req.body;
  if (raw === undefined || raw === null || raw === '') return {} as T;
  if (typeof raw !== 'string') return raw as T;
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Query values as a list: repeated parameters and, where `split`, comma-separated ones. */
export function queryList(q: unknown, name: string, split = false): string[] {
  const v = (q as Record<string, unknown>)?.[name];
  const list = v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
  return split ? list.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean) : list;
}

export function queryInt(q: unknown, name: string): number | undefined {
  const v = (q as Record<string, unknown>)?.[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(Array.isArray(v) ? v[0] : v);
  if (!Number.isInteger(n) || n < 0) throw new ApiError(400, 'BadRequest', `query parameter ${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Accepts requests with the admin token, and those without one from where anonymous use is allowed. */
export function requireToken(app: FastifyInstance, token: string, anonymous: AnonymousAccess): void {
  const identify = requestAuthenticator(token, anonymous);
  app.addHook('onRequest', async (req) => {
    identify(req);
  });
}
