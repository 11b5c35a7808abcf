import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { RequestContext, UserInfo } from '../admission.js';
import { ApiError } from '../errors.js';
import { PATCH_CONTENT_TYPES } from '../patch.js';
import type { ResourceType } from '../registry.js';
import type { ResourceService, Target } from '../service.js';
import type { Resource, WatchEvent } from '../types.js';
import { Discovery } from './discovery.js';
import { columnsFor, tableRow, toTable, wantsTable } from './table.js';

export interface K8sRoutesOptions {
  service: ResourceService;
  /** Resolves the caller from the request (the authentication stage). */
  authenticate: (req: FastifyRequest) => UserInfo;
  log: Logger;
  prefix?: string;
  bookmarkIntervalMs?: number;
}

type Query = Record<string, string | undefined>;

interface Parsed {
  target: Target;
  name?: string;
  subresource?: string;
}

/** Serves the Kubernetes-compatible API (discovery, CRUD, patch, watch, OpenAPI) under /k8s. */
export function registerK8sRoutes(app: FastifyInstance, opts: K8sRoutesOptions): void {
  const prefix = opts.prefix ?? '/k8s';
  const { service } = opts;
  const discovery = new Discovery(service.registry);
  const bookmarkEvery = opts.bookmarkIntervalMs ?? 30_000;

  const json = (reply: FastifyReply, code: number, body: unknown) => reply.code(code).header('content-type', 'application/json').send(JSON.stringify(body));

  // discovery authenticates too: a server that refuses anonymous callers tells them nothing, not even its types
  app.get(`${prefix}/version`, async (req, reply) => {
    opts.authenticate(req);
    return json(reply, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-pave', platform: `${process.platform}/${process.arch}`, goVersion: 'n/a', compiler: 'pave' });
  });
  app.get(`${prefix}/api`, async (req, reply) => {
    opts.authenticate(req);
    return json(reply, 200, discovery.apiVersions());
  });
  app.get(`${prefix}/apis`, async (req, reply) => {
    opts.authenticate(req);
    return json(reply, 200, discovery.apiGroupList());
  });
  app.get(`${prefix}/openapi/v3`, async (req, reply) => {
    opts.authenticate(req);
    return json(reply, 200, discovery.openapiRoot(prefix));
  });
  app.get(`${prefix}/openapi/v3/*`, async (req, reply) => {
    opts.authenticate(req);
    const rest = (req.params as { '*': string })['*'].split('/');
    const [group, version] = rest[0] === 'api' ? ['', rest[1]!] : [rest[1]!, rest[2]!];
    if (!service.registry.groups().get(group)?.includes(version)) throw new ApiError(404, 'NotFound', `no OpenAPI document for ${rest.join('/')}`);
    return json(reply, 200, discovery.openapi(group, version).doc);
  });
  app.get(`${prefix}/openapi/v2`, async (req) => {
    opts.authenticate(req);
    throw new ApiError(404, 'NotFound', 'Pave serves OpenAPI v3 only, at /openapi/v3');
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const user = opts.authenticate(req);
    const path = (req.params as { '*': string })['*'];
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    const q = req.query as Query;
    const core = req.url.startsWith(`${prefix}/api/`);
    let group = '';
    let version: string;
    let rest: string[];
    if (core) {
      version = segs[0]!;
      rest = segs.slice(1);
    } else {
      group = segs[0]!;
      if (segs.length === 1) {
        const g = discovery.apiGroup(group);
        if (!g) throw new ApiError(404, 'NotFound', `the server could not find the requested resource: API group "${group}" is not served`);
        return json(reply, 200, g);
      }
      version = segs[1]!;
      rest = segs.slice(2);
    }
    if (!rest.length) {
      if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not allowed on a discovery document`);
      const doc = discovery.resourceList(group, version);
      if (!doc) throw new ApiError(404, 'NotFound', `the server could not find the requested resource: ${group ? `${group}/` : ''}${version} is not served`);
      return json(reply, 200, doc);
    }
    const p = resolvePath(service, group, version, rest);
    const ctx = context(req, user, q);
    const t = p.target;
    const accept = req.headers.accept;
    let result: unknown;
    let code = 200;
    switch (req.method) {
      case 'GET':
        if (q.watch === 'true' || q.watch === '1') return watch(req, reply, t, p.name, q, ctx);
        if (p.name) {
          if (!wantsTable(accept)) {
            const text = await service.getText(t, p.name, ctx);
            if (text !== undefined) return reply.code(200).header('content-type', 'application/json').send(text);
          }
          const obj = await service.get(t, p.name, ctx);
          result = wantsTable(accept) ? toTable(t.type, t.version, [obj], { resourceVersion: obj.metadata.resourceVersion }, q.includeObject ?? 'Metadata') : obj;
        } else {
          const list = await service.list(t, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, limit: q.limit ? Number(q.limit) : undefined, continue: q.continue }, ctx);
          result = wantsTable(accept) ? toTable(t.type, t.version, list.items, list.metadata, q.includeObject ?? 'Metadata') : list;
        }
        break;
      case 'POST':
        if (p.name) throw new ApiError(405, 'MethodNotAllowed', `POST is not allowed on a single ${t.type.kind}; POST to the collection`);
        result = await service.create(t, bodyObject(req, t.type), ctx);
        code = 201;
        break;
      case 'PUT':
        if (!p.name) throw new ApiError(405, 'MethodNotAllowed', 'PUT needs an object name in the path');
        result = await service.update({ ...t, name: p.name }, bodyObject(req, t.type), ctx, subresource(p));
        break;
      case 'PATCH': {
        if (!p.name) throw new ApiError(405, 'MethodNotAllowed', 'PATCH needs an object name in the path');
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const type = PATCH_CONTENT_TYPES[ct];
        if (!type) throw new ApiError(415, 'UnsupportedMediaType', `the patch content type "${ct}" is not supported; use one of ${Object.keys(PATCH_CONTENT_TYPES).join(', ')}`);
        const patch = parseBody(req, type === 'apply', t.type);
        result = await service.patch({ ...t, name: p.name }, p.name, type, patch, ctx, { subresource: subresource(p), force: q.force === 'true' });
        break;
      }
      case 'DELETE': {
        const body = req.body ? (parseBody(req, false, t.type) as { propagationPolicy?: 'Background'; preconditions?: { uid?: string; resourceVersion?: string }; orphanDependents?: boolean } | undefined) : undefined;
        const propagationPolicy = (q.propagationPolicy as 'Background' | undefined) ?? body?.propagationPolicy ?? (body?.orphanDependents ? ('Orphan' as 'Background') : undefined);
        if (p.name) result = await service.delete(t, p.name, ctx, { propagationPolicy, preconditions: body?.preconditions });
        else result = await service.deleteCollection(t, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, propagationPolicy }, ctx);
        break;
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not supported`);
    }
    if (ctx.warnings?.length) reply.header('warning', ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', '));
    return json(reply, code, result);
  };

  app.all(`${prefix}/api/*`, handler);
  app.all(`${prefix}/apis/*`, handler);

  function watch(req: FastifyRequest, reply: FastifyReply, t: Target, name: string | undefined, q: Query, ctx: RequestContext) {
    const table = wantsTable(req.headers.accept);
    const cols = table ? columnsFor(t.type, t.version) : undefined;
    const includeObject = q.includeObject ?? 'Metadata';
    let fieldSelector = q.fieldSelector;
    if (name) fieldSelector = [fieldSelector, `metadata.name=${name}`].filter(Boolean).join(',');
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
    // clients wait for the headers before reading events: send them now, not with the first event
    res.flushHeaders();
    let lastRv = q.resourceVersion ?? '0';
    let closed = false;
    let stop: (() => void) | undefined;
    let bookmark: NodeJS.Timeout | undefined;
    let timeout: NodeJS.Timeout | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      stop?.();
      if (bookmark) clearInterval(bookmark);
      if (timeout) clearTimeout(timeout);
      res.end();
    };
    const encode = (e: WatchEvent): string | Buffer => {
      if (!table) return serialized(e);
      return JSON.stringify({ type: e.type, object: { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: e.object.metadata.resourceVersion }, columnDefinitions: cols!.defs, rows: [tableRow(e.object, cols!.paths, includeObject)] } }) + '\n';
    };
    const send = (e: WatchEvent) => {
      if (closed) return;
      lastRv = e.object.metadata.resourceVersion ?? lastRv;
      res.write(encode(e));
    };
    req.raw.on('close', close);
    res.on('error', close);
    service
      .watch(t, { resourceVersion: q.resourceVersion, labelSelector: q.labelSelector, fieldSelector, sendInitialEvents: q.sendInitialEvents === 'true' }, send, ctx)
      .then((s) => {
        stop = s;
        if (closed) s();
        if (q.sendInitialEvents === 'true') {
          const initial = { type: 'BOOKMARK', object: { kind: t.type.kind, apiVersion: t.type.group ? `${t.type.group}/${t.version}` : t.version, metadata: { resourceVersion: String(service.store.revision()), annotations: { 'k8s.io/initial-events-end': 'true' } } } };
          res.write(JSON.stringify(initial) + '\n');
        }
        if (q.allowWatchBookmarks === 'true') {
          bookmark = setInterval(() => {
            const rv = String(service.store.revision());
            if (!closed) res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: t.type.kind, apiVersion: t.type.group ? `${t.type.group}/${t.version}` : t.version, metadata: { resourceVersion: rv } } }) + '\n');
            lastRv = rv;
          }, bookmarkEvery);
          bookmark.unref();
        }
        const secs = Number(q.timeoutSeconds);
        if (secs > 0) timeout = setTimeout(close, secs * 1000);
      })
      .catch((e) => {
        const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', 'watch failed');
        if (!(e instanceof ApiError)) opts.log.error({ err: e, resource: t.type.plural }, 'watch failed');
        if (!closed) res.write(JSON.stringify({ type: 'ERROR', object: err.toStatus() }) + '\n');
        close();
      });
  }
}

/** One serialised line per event, shared by every watcher that receives it unchanged. */
const serializedEvents = new WeakMap<object, Map<string, Buffer>>();
function serialized(e: WatchEvent): Buffer {
  let byType = serializedEvents.get(e.object);
  if (!byType) serializedEvents.set(e.object, (byType = new Map()));
  let s = byType.get(e.type);
  // encoded to bytes once: a thousand watchers then share one buffer
  if (!s) byType.set(e.type, (s = Buffer.from(`{"type":"${e.type}","object":${JSON.stringify(e.object)}}\n`)));
  return s;
}

function subresource(p: Parsed): 'status' | undefined {
  if (!p.subresource) return undefined;
  if (p.subresource === 'status') return 'status';
  throw new ApiError(404, 'NotFound', `the subresource "${p.subresource}" of ${p.target.type.plural} is not served`);
}

function resolvePath(service: ResourceService, group: string, version: string, rest: string[]): Parsed {
  const lookup = (plural: string): ResourceType => {
    const t = service.registry.byGroupResource(group, plural);
    if (!t || !t.versions.some((v) => v.served && v.name === version)) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource: ${plural}${group ? `.${group}` : ''} is not served at version ${version}`, { group, kind: plural });
    }
    return t;
  };
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    const type = lookup(rest[2]!);
    if (type.scope !== 'Namespaced') throw new ApiError(404, 'NotFound', `${type.plural} is not namespaced; address it without /namespaces/${rest[1]}`);
    return { target: { type, version, namespace: rest[1]! }, name: rest[3], subresource: rest[4] };
  }
  const type = lookup(rest[0]!);
  return { target: { type, version, namespace: '' }, name: rest[1], subresource: rest[2] };
}

function context(req: FastifyRequest, user: UserInfo, q: Query): RequestContext {
  const fv = q.fieldValidation;
  return {
    user,
    dryRun: q.dryRun === 'All',
    fieldManager: q.fieldManager || userAgentManager(req.headers['user-agent']),
    fieldValidation: fv === 'Strict' || fv === 'Warn' || fv === 'Ignore' ? fv : 'Warn',
  };
}

function userAgentManager(ua: string | undefined): string | undefined {
  return ua ? ua.split('/')[0] : undefined;
}

function parseBody(req: FastifyRequest, yamlAllowed: boolean, type: ResourceType): unknown {
  const raw = req.body;
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' && !Buffer.isBuffer(raw)) return raw;
  const text = raw.toString();
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  try {
    if (yamlAllowed || ct.includes('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw ApiError.badRequest(`the request body for ${type.kind} is not valid ${yamlAllowed || ct.includes('yaml') ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
}

function bodyObject(req: FastifyRequest, type: ResourceType): Resource {
  const body = parseBody(req, false, type);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ApiError.badRequest(`the request body must be a ${type.kind} object`);
  return body as Resource;
}
