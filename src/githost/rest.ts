import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '../api/client.js';
import { ApiError, isNotFound } from '../api/errors.js';
import { servesAnonymous, TOKEN_INVALID, TOKEN_REQUIRED } from '../api/http/auth.js';
import type { Resource } from '../api/types.js';
import type { ChangeRequestActions } from './change-requests.js';
import { GIT_API_VERSION, repositoryObjectName } from './crds.js';
import type { GitHost } from './host.js';
import { checkRepoName } from './repositories.js';
import { hasToken, type GitAccess } from './smart-http.js';

type Params = { owner: string; repo: string; ref?: string; name?: string; '*'?: string };

function body(req: FastifyRequest): Record<string, any> {
  if (req.body === undefined || req.body === '') return {};
  if (typeof req.body === 'object') return req.body as Record<string, any>;
  try {
    const v = JSON.parse(String(req.body));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    // fall through to the error below
  }
  throw ApiError.badRequest('the request body must be a JSON object');
}

function summary(obj: Resource) {
  return {
    owner: obj.spec.owner,
    name: obj.spec.name,
    description: obj.spec.description ?? '',
    defaultBranch: obj.status?.defaultBranch ?? obj.spec.defaultBranch ?? 'main',
    url: obj.status?.url,
    refs: obj.status?.refs ?? {},
    lastPush: obj.status?.lastPush,
  };
}

/**
 * The Git host's REST API under /api/git: repositories, files and trees at a revision, and the
 * review actions on change requests. Reads are open when the server allows anonymous access;
 * every write needs the token.
 */
export function registerGitRestApi(app: FastifyInstance, host: GitHost, client: Client, changes: ChangeRequestActions, access: GitAccess): void {
  const writer = (req: FastifyRequest): string => {
    if (hasToken(req, access.token)) return 'pave:admin';
    if (req.headers.authorization) throw new ApiError(401, 'Unauthorized', TOKEN_INVALID);
    if (!servesAnonymous(access.anonymous, req)) throw new ApiError(401, 'Unauthorized', TOKEN_REQUIRED);
    return 'pave:admin';
  };
  const reader = (req: FastifyRequest) => {
    if (servesAnonymous(access.anonymous, req) || hasToken(req, access.token)) return;
    throw new ApiError(401, 'Unauthorized', req.headers.authorization ? TOKEN_INVALID : TOKEN_REQUIRED);
  };
  const repoObject = async (owner: string, repo: string): Promise<Resource> => {
    checkRepoName('owner', owner);
    checkRepoName('repository', repo);
    try {
      return await client.get({ apiVersion: GIT_API_VERSION, kind: 'GitRepository', name: repositoryObjectName(owner, repo) });
    } catch (e) {
      if (isNotFound(e)) throw new ApiError(404, 'NotFound', `repository ${owner}/${repo} does not exist on this host`);
      throw e;
    }
  };
  const json = (reply: FastifyReply, code: number, v: unknown) => reply.code(code).header('content-type', 'application/json').send(JSON.stringify(v));

  app.get('/api/git/repos', async (req, reply) => {
    reader(req);
    const list = await client.list(GIT_API_VERSION, 'GitRepository');
    return json(reply, 200, { items: list.items.map(summary) });
  });

  app.post('/api/git/repos', async (req, reply) => {
    writer(req);
    const b = body(req);
    const owner = checkRepoName('owner', b.owner);
    const name = checkRepoName('name', b.name);
    const obj = await client.create({
      apiVersion: GIT_API_VERSION,
      kind: 'GitRepository',
      metadata: { name: repositoryObjectName(owner, name) },
      spec: { owner, name, ...(b.description ? { description: String(b.description) } : {}), defaultBranch: b.defaultBranch ? String(b.defaultBranch) : 'main' },
    });
    // the controller would do the same; doing it here means the repository is pushable on return
    await host.withLock(owner, name, () => host.repos.ensure(owner, name, obj.spec.defaultBranch, obj.spec.description));
    await host.publish(owner, name);
    return json(reply, 201, summary(await repoObject(owner, name)));
  });

  app.get('/api/git/repos/:owner/:repo', async (req, reply) => {
    reader(req);
    const { owner, repo } = req.params as Params;
    return json(reply, 200, summary(await repoObject(owner, repo)));
  });

  const readFile = async (req: FastifyRequest, reply: FastifyReply) => {
    reader(req);
    const { owner, repo, ref } = req.params as Params;
    const path = (req.params as Params)['*'] ?? '';
    await repoObject(owner, repo);
    const bytes = await host.repos.readFile(owner, repo, ref!, path);
    if (!bytes) throw new ApiError(404, 'NotFound', `${path} does not exist at ${ref} in ${owner}/${repo}`);
    return reply.code(200).header('content-type', 'application/octet-stream').send(bytes);
  };
  app.get('/api/git/repos/:owner/:repo/raw/:ref/*', readFile);

  const readTree = async (req: FastifyRequest, reply: FastifyReply) => {
    reader(req);
    const { owner, repo, ref } = req.params as Params;
    const path = (req.params as Params)['*'] ?? '';
    await repoObject(owner, repo);
    const entries = await host.repos.readTree(owner, repo, ref!, path);
    if (!entries) throw new ApiError(404, 'NotFound', `directory "${path || '/'}" does not exist at ${ref} in ${owner}/${repo}`);
    return json(reply, 200, { entries });
  };
  app.get('/api/git/repos/:owner/:repo/tree/:ref', readTree);
  app.get('/api/git/repos/:owner/:repo/tree/:ref/*', readTree);

  app.get('/api/git/repos/:owner/:repo/changes', async (req, reply) => {
    reader(req);
    const { owner, repo } = req.params as Params;
    const list = await client.list(GIT_API_VERSION, 'ChangeRequest');
    return json(reply, 200, { items: list.items.filter((cr) => cr.spec?.repository === `${owner}/${repo}`) });
  });

  app.post('/api/git/repos/:owner/:repo/changes', async (req, reply) => {
    const user = writer(req);
    const { owner, repo } = req.params as Params;
    await repoObject(owner, repo);
    const b = body(req);
    const cr = await client.create({
      apiVersion: GIT_API_VERSION,
      kind: 'ChangeRequest',
      metadata: { ...(b.name ? { name: String(b.name) } : { generateName: 'change-' }), namespace: b.namespace ? String(b.namespace) : 'default' },
      spec: { repository: `${owner}/${repo}`, sourceBranch: b.sourceBranch, targetBranch: b.targetBranch ?? 'main', title: b.title, ...(b.description ? { description: String(b.description) } : {}), author: b.author ?? user },
    });
    return json(reply, 201, cr);
  });

  app.get('/api/git/repos/:owner/:repo/changes/:name', async (req, reply) => {
    reader(req);
    const { owner, repo, name } = req.params as Params;
    return json(reply, 200, await changes.find(owner, repo, name!, (req.query as { namespace?: string }).namespace));
  });

  app.get('/api/git/repos/:owner/:repo/changes/:name/diff', async (req, reply) => {
    reader(req);
    const { owner, repo, name } = req.params as Params;
    const cr = await changes.find(owner, repo, name!, (req.query as { namespace?: string }).namespace);
    const diff = await host.repos.unifiedDiff(owner, repo, cr.status?.targetCommit ?? cr.spec.targetBranch, cr.status?.state === 'Merged' ? cr.status.sourceCommit ?? cr.spec.sourceBranch : cr.spec.sourceBranch);
    return reply.code(200).header('content-type', 'text/x-diff; charset=utf-8').send(diff);
  });

  for (const action of ['approve', 'merge', 'close'] as const) {
    app.post(`/api/git/repos/:owner/:repo/changes/:name/${action}`, async (req, reply) => {
      const authenticated = writer(req);
      const { owner, repo, name } = req.params as Params;
      const b = body(req);
      const user = typeof b.user === 'string' && b.user ? b.user : authenticated;
      const cr = await changes.find(owner, repo, name!, (req.query as { namespace?: string }).namespace ?? b.namespace);
      const next = action === 'approve' ? await changes.approve(cr, user) : action === 'merge' ? await changes.merge(cr, user) : await changes.close(cr);
      return json(reply, 200, next);
    });
  }
}
