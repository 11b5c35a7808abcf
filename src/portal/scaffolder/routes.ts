import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../api/errors.js';
import { jsonBody, queryInt } from '../backstage-http.js';
import type { CatalogIndex } from '../catalog/catalog-index.js';
import { ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, entityProblems, stringifyEntityRef, type Entity } from '../catalog/entity.js';
import type { TemplateAction } from './actions.js';
import { parameterSteps } from './parameters.js';
import type { TaskService } from './tasks.js';

/** A request's `secrets`: a map of names to strings, or a 400 saying which entry is not. */
function secretsIn(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw ApiError.badRequest('secrets must be an object of names to strings');
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw ApiError.badRequest(`secrets.${k} must be a string`);
  return v as Record<string, string>;
}

/** The scaffolder REST API under /api/scaffolder, in Backstage's shapes. */
export function registerScaffolderRoutes(app: FastifyInstance, tasks: TaskService, index: CatalogIndex, actions: TemplateAction[]): void {
  app.get('/v2/actions', async () => actions.map((a) => ({ id: a.id, description: a.description, schema: a.schema ?? {} })));

  app.get('/v2/templates/:namespace/:kind/:name/parameter-schema', async (req) => {
    const p = req.params as { namespace: string; kind: string; name: string };
    const rec = index.get(stringifyEntityRef(p));
    if (!rec || rec.entity.kind !== 'Template') throw new ApiError(404, 'NotFound', `Template ${p.kind}:${p.namespace}/${p.name} was not found`);
    const t = rec.entity;
    const params = t.spec?.parameters;
    const list = parameterSteps(params);
    return {
      title: t.metadata.title ?? t.metadata.name,
      description: t.metadata.description,
      ...(t.spec?.presentation ? { presentation: t.spec.presentation } : {}),
      steps: list.map((s) => ({ title: s.title ?? 'Please enter the following information', description: s.description, schema: s })),
    };
  });

  app.post('/v2/tasks', async (req, reply) => {
    const b = jsonBody(req);
    if (typeof b.templateRef !== 'string') throw ApiError.badRequest('templateRef is required');
    const values = b.values && typeof b.values === 'object' ? b.values : {};
    const userRef = typeof req.headers['x-pave-user'] === 'string' ? req.headers['x-pave-user'] : undefined;
    const { spec, secrets } = tasks.specFor(b.templateRef, values, userRef);
    const id = await tasks.create(spec, { ...secrets, ...secretsIn(b.secrets) }, userRef);
    reply.code(201);
    return { id };
  });

  app.get('/v2/tasks', async (req) => {
    const q = req.query as Record<string, string>;
    let all = (await tasks.list()).map((t) => tasks.serialize(t));
    if (q.createdBy) all = all.filter((t) => t.createdBy === q.createdBy);
    if (q.status) all = all.filter((t) => t.status === q.status);
    all.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    const offset = queryInt(q, 'offset') ?? 0;
    const limit = queryInt(q, 'limit') ?? all.length;
    return { tasks: all.slice(offset, offset + limit), totalTasks: all.length };
  });

  app.get('/v2/tasks/:id', async (req) => tasks.serialize(await tasks.get((req.params as { id: string }).id)));

  app.get('/v2/tasks/:id/events', async (req) => {
    const { id } = req.params as { id: string };
    const after = queryInt(req.query, 'after');
    return tasks.events(id, after ?? -1);
  });

  app.get('/v2/tasks/:id/eventstream', (req, reply) => {
    const { id } = req.params as { id: string };
    const after = queryInt(req.query, 'after') ?? -1;
    void (async () => {
      await tasks.get(id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      let last = after;
      let done = false;
      const send = (e: { id: number; type: string }) => {
        if (done || e.id <= last) return;
        last = e.id;
        res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        if (e.type === 'completion' || e.type === 'cancelled') finish();
      };
      let unsubscribe: (() => void) | undefined;
      let poll: NodeJS.Timeout | undefined;
      const finish = () => {
        if (done) return;
        done = true;
        unsubscribe?.();
        clearInterval(poll);
        res.end();
      };
      req.raw.on('close', finish);
      // subscribe first, then replay: an event emitted in between is sent once (ids are ordered)
      const tick = async () => {
        unsubscribe ??= tasks.subscribe(id, send);
        for (const e of await tasks.events(id, last)) send(e);
      };
      await tick();
      // a task not yet started here (or run before a restart) is followed from its stored events;
      // a finished task's replay has already ended the stream, and a poll started now would run forever
      if (!done) poll = setInterval(() => void tick().catch(finish), 200);
    })().catch((e) => {
      if (!reply.sent && !reply.raw.headersSent) void reply.send(e);
      else reply.raw.end();
    });
  });

  app.post('/v2/tasks/:id/cancel', async (req) => ({ status: await tasks.cancel((req.params as { id: string }).id) }));
  app.post('/v2/tasks/:id/retry', async (req, reply) => {
    const { id } = req.params as { id: string };
    const b = jsonBody(req);
    await tasks.retry(id, secretsIn(b.secrets));
    reply.code(201);
    return { id };
  });

  app.post('/v2/dry-run', async (req) => {
    const b = jsonBody(req);
    const template = b.template as Entity;
    const problems = entityProblems(template);
    if (problems.length) throw ApiError.badRequest(`template is invalid: ${problems.map((p) => p.message).join('; ')}`);
    const base = tasks.split({ apiVersion: template.apiVersion, parameters: b.values ?? {}, steps: template.spec?.steps ?? [], output: template.spec?.output, templateInfo: { entityRef: 'template:default/dry-run', location: template.metadata.annotations?.[ANNOTATION_LOCATION], origin: template.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION] } }, template.spec?.parameters, secretsIn(b.secrets));
    return tasks.dryRun(base.spec, base.secrets, Array.isArray(b.directoryContents) ? b.directoryContents : []);
  });
}
