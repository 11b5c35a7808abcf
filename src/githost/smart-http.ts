import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.js';
import { bearerToken, servesAnonymous, tokenChecker, type AnonymousAccess } from '../api/http/auth.js';
import type { GitHost } from './host.js';

export interface GitAccess {
  /** The token that grants push (and fetch, to those who may not read anonymously). */
  token: string;
  /** Who may fetch and read without the token. */
  anonymous: AnonymousAccess;
}

/** True when the request carries the token as a Bearer token or as the Basic password. */
export function hasToken(req: FastifyRequest, token: string): boolean {
  const h = req.headers.authorization ?? '';
  const given = bearerToken(h) ?? basicPassword(h);
  return given !== undefined && tokenChecker(token)(given);
}

function basicPassword(header: string): string | undefined {
  const basic = /^Basic\s+(.+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

/** Why a Git request without a valid token is refused, and what to send instead. */
function refusal(req: FastifyRequest, isPush: boolean): string {
  const where = 'the Pave token (the file "token" in the server\'s data directory, .pave/token by default)';
  if (req.headers.authorization) return `the password is not ${where}`;
  return isPush ? `pushing needs ${where} as the password` : `this Pave server does not allow anonymous Git access: use ${where} as the password`;
}

const PACK_TYPES = ['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'];

/**
 * Serves `/git/<owner>/<repo>.git/...` through the system `git http-backend` (CGI), so any Git
 * client can clone, fetch and push. Pushes need the token; after each push the host publishes
 * the new refs as the repository object's status.
 */
export function registerSmartHttp(app: FastifyInstance, host: GitHost, access: GitAccess, log: Logger): void {
  void app.register(async (scope) => {
    // pack bodies are binary streams: hand them to git untouched
    scope.addContentTypeParser(PACK_TYPES, (_req, payload, done) => done(null, payload));
    const handler = (req: FastifyRequest, reply: FastifyReply) => serve(req, reply, host, access, log);
    scope.get('/git/*', handler);
    scope.post('/git/*', handler);
  });
}

async function serve(req: FastifyRequest, reply: FastifyReply, host: GitHost, access: GitAccess, log: Logger): Promise<void> {
  const rest = (req.params as { '*': string })['*'];
  const m = /^([^/]+)\/([^/]+?)(?:\.git)?(\/.*)?$/.exec(rest);
  if (!m) throw new ApiError(404, 'NotFound', `no repository at /git/${rest}; clone URLs look like /git/<owner>/<repo>.git`);
  const [, owner, repo] = m as unknown as [string, string, string];
  const sub = m[3] ?? '/';
  if (!host.repos.exists(owner, repo)) throw new ApiError(404, 'NotFound', `repository ${owner}/${repo} does not exist on this host`);
  const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
  const isPush = sub === '/git-receive-pack' || /(^|&)service=git-receive-pack(&|$)/.test(query);
  if ((isPush || !servesAnonymous(access.anonymous, req)) && !hasToken(req, access.token)) {
    reply.code(401).header('www-authenticate', 'Basic realm="Pave Git"').type('text/plain').send(`${refusal(req, isPush)}\n`);
    return;
  }
  if (req.method === 'POST' && sub === '/git-receive-pack') {
    // the push is published before the response ends, so a client that sees its push succeed
    // also sees the repository's status (and everything watching it) already told
    const publish = () => host.publish(owner, repo).then(() => undefined, (err) => log.error({ err, repository: `${owner}/${repo}` }, 'could not publish the push'));
    await host.withLock(owner, repo, () => cgi(req, reply, host.repos.root, `/${owner}/${repo}.git${sub}`, query, log, publish));
  } else await cgi(req, reply, host.repos.root, `/${owner}/${repo}.git${sub}`, query, log);
}

/** Runs git http-backend for one request and streams its CGI response back to the client. */
function cgi(req: FastifyRequest, reply: FastifyReply, root: string, pathInfo: string, query: string, log: Logger, beforeEnd?: () => Promise<void>): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  return new Promise((resolve) => {
    const env: Record<string, string> = {
      ...process.env,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      REQUEST_METHOD: req.method,
      QUERY_STRING: query,
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'pave',
      REMOTE_ADDR: req.ip,
    } as Record<string, string>;
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    if (req.headers['content-length']) env.CONTENT_LENGTH = String(req.headers['content-length']);
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sepLen = 2;
      }
      if (end < 0) return;
      let code = 200;
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') code = Number(value.split(' ')[0]) || 200;
        else res.setHeader(name, value);
      }
      res.statusCode = code;
      headersSent = true;
      const body = head.subarray(end + sepLen);
      if (body.length) res.write(body);
    });
    const errors: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => errors.push(d));
    child.on('error', (err) => {
      log.error({ err }, 'cannot run git http-backend');
      if (!headersSent) res.statusCode = 500;
      res.end();
      resolve();
    });
    child.on('close', async (code) => {
      if (code !== 0) log.warn({ path: pathInfo, code, stderr: Buffer.concat(errors).toString('utf8').slice(0, 500) }, 'git http-backend failed');
      if (!headersSent) {
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain');
        res.write('git http-backend produced no response\n');
      }
      if (beforeEnd) await beforeEnd();
      res.end();
      resolve();
    });
    child.stdin.on('error', () => undefined);
    const body = req.body as Readable | string | undefined;
    if (body && typeof (body as Readable).pipe === 'function') (body as Readable).pipe(child.stdin);
    else child.stdin.end(typeof body === 'string' ? body : undefined);
  });
}
