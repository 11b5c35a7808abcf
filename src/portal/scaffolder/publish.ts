import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '../../api/client.js';
import { isApiError } from '../../api/errors.js';
import type { Resource } from '../../api/types.js';
import type { ActionContext, TemplateAction } from './actions.js';
import { parseRepoUrl } from './templating.js';
import { safePath } from './workspace.js';

const run = promisify(execFile);
const GIT_API = 'git.pave.dev/v1alpha1';

export interface PublishDeps {
  client: Client;
  selfUrl: () => string;
  token: string;
}

/**
 * Runs git with the admin token as an HTTP header (never in a URL or an argument that is
 * logged), so credentials do not reach the task log or the process list of a log line.
 */
async function git(args: string[], opts: { cwd?: string; token?: string } = {}): Promise<string> {
  const auth = opts.token ? ['-c', `http.extraHeader=Authorization: Bearer ${opts.token}`] : [];
  try {
    const { stdout } = await run('git', [...auth, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Pave Scaffolder', GIT_AUTHOR_EMAIL: 'scaffolder@pave.local', GIT_COMMITTER_NAME: 'Pave Scaffolder', GIT_COMMITTER_EMAIL: 'scaffolder@pave.local' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (e) {
    const err = e as Error & { stderr?: string };
    const stderr = (err.stderr ?? err.message).replace(opts.token ?? '\u0000', '***').trim();
    throw Object.assign(new Error(`git ${args[0]} failed: ${stderr.split('\n').slice(-3).join(' ')}`), { stderr });
  }
}

/**
 * Creates the GitRepository object (the Git host creates the repository) and waits until it
 * serves. With `mustExist` it creates nothing and says so when the repository is not there.
 */
async function ensureRepository(deps: PublishDeps, ctx: ActionContext, owner: string, repo: string, opts: { description?: string; defaultBranch?: string; mustExist?: boolean } = {}): Promise<Resource> {
  const ref = { apiVersion: GIT_API, kind: 'GitRepository', name: `${owner}.${repo}` };
  if (opts.mustExist) {
    await deps.client.get(ref).catch((e) => {
      throw isApiError(e, 404) ? new Error(`repository ${owner}/${repo} does not exist on the Git host; publish it first (publish:pave)`) : e;
    });
  } else {
    try {
      await deps.client.create({ apiVersion: GIT_API, kind: 'GitRepository', metadata: { name: ref.name, annotations: { 'pave.dev/trace-id': ctx.traceId } }, spec: { owner, name: repo, defaultBranch: opts.defaultBranch ?? 'main', ...(opts.description ? { description: opts.description } : {}) } });
      ctx.log(`Created repository ${owner}/${repo} on the Git host`);
    } catch (e) {
      if (!isApiError(e, 409)) throw e;
    }
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const obj = await deps.client.get(ref);
    if (obj.status?.url) return obj;
    if (Date.now() > deadline || ctx.signal.aborted) throw new Error(`repository ${owner}/${repo} did not become ready on the Git host`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ownerRepo(repoUrl: string): { owner: string; repo: string } {
  const r = parseRepoUrl(repoUrl);
  const owner = r.owner ?? r.organization ?? r.workspace;
  if (!owner) throw new Error(`repoUrl "${repoUrl}" has no owner`);
  return { owner, repo: r.repo };
}

/**
 * A push refused because the branch moved on: behind the new tip, or beaten to the ref update by
 * a push that landed at the same moment (git's compare-and-swap on the ref).
 */
function rejectedAsStale(message: string): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref/.test(message);
}

/**
 * One commit of the workspace onto a branch of an existing repository, fetched shallowly (only
 * the branch tip is needed to add files). Returns the new commit, or the tip when the files
 * were already there. Throws the push error as it is, so the caller can tell a lost race.
 */
async function commitOnto(deps: PublishDeps, ctx: ActionContext, url: string, branch: string, source: string, dir: string): Promise<{ sha: string; changed: boolean }> {
  await rm(dir, { recursive: true, force: true });
  await git(['init', '-q', '-b', branch, dir]);
  let exists = true;
  try {
    await git(['fetch', '-q', '--depth', '1', url, `refs/heads/${branch}`], { cwd: dir, token: deps.token });
  } catch (e) {
    // a new repository has no branch yet: the first commit creates it
    if (!/couldn't find remote ref/i.test((e as Error).message)) throw e;
    exists = false;
  }
  if (exists) await git(['reset', '-q', '--hard', 'FETCH_HEAD'], { cwd: dir });
  const into = await safePath(dir, ctx.input.targetPath, 'targetPath');
  await cp(source, into, { recursive: true, force: true, verbatimSymlinks: true });
  await git(['add', '-A'], { cwd: dir });
  if (exists && !(await git(['status', '--porcelain'], { cwd: dir }))) return { sha: await git(['rev-parse', 'HEAD'], { cwd: dir }), changed: false };
  await git(['commit', '-q', '-m', ctx.input.gitCommitMessage ?? 'Update from the scaffolder', '-m', `Pave-Trace-Id: ${ctx.traceId}`], { cwd: dir });
  const sha = await git(['rev-parse', 'HEAD'], { cwd: dir });
  await git(['push', '-q', url, `HEAD:refs/heads/${branch}`], { cwd: dir, token: deps.token });
  return { sha, changed: true };
}

/**
 * publish:pave pushes the workspace as a new repository; publish:pave:commit commits it
 * straight onto a branch of an existing one; publish:pave:change-request opens a review instead.
 */
export function publishActions(deps: PublishDeps): TemplateAction[] {
  const str = { type: 'string' };
  const publish: TemplateAction = {
    id: 'publish:pave',
    description: 'Creates a repository on the built-in Git host and pushes the workspace to it.',
    schema: {
      input: { type: 'object', required: ['repoUrl'], properties: { repoUrl: str, description: str, defaultBranch: str, sourcePath: str, gitCommitMessage: str } },
      output: { type: 'object', properties: { remoteUrl: str, repoContentsUrl: str, commitHash: str } },
    },
    async handler(ctx) {
      const { owner, repo } = ownerRepo(ctx.input.repoUrl);
      const branch = ctx.input.defaultBranch ?? 'main';
      const source = await safePath(ctx.workspacePath, ctx.input.sourcePath, 'sourcePath');
      const obj = await ensureRepository(deps, ctx, owner, repo, { description: ctx.input.description, defaultBranch: branch });
      if (Object.keys(obj.status?.refs ?? {}).length) throw new Error(`repository ${owner}/${repo} already has commits; use publish:pave:change-request to change it`);
      const gitDir = await mkdtemp(join(tmpdir(), 'pave-publish-'));
      try {
        await git(['init', '-q', '-b', branch, gitDir]);
        const gd = ['--git-dir', join(gitDir, '.git'), '--work-tree', source];
        await git([...gd, 'add', '-A']);
        await git([...gd, 'commit', '-q', '-m', ctx.input.gitCommitMessage ?? 'initial commit', '-m', `Pave-Trace-Id: ${ctx.traceId}`]);
        const sha = await git([...gd, 'rev-parse', 'HEAD']);
        await git([...gd, 'push', '-q', obj.status.url, `HEAD:refs/heads/${branch}`], { token: deps.token });
        ctx.log(`Pushed ${sha.slice(0, 7)} to ${obj.status.url}`);
        ctx.output('remoteUrl', obj.status.url);
        ctx.output('repoContentsUrl', `${deps.selfUrl()}/api/git/repos/${owner}/${repo}/raw/${branch}`);
        ctx.output('commitHash', sha);
      } finally {
        await rm(gitDir, { recursive: true, force: true });
      }
    },
  };
  const changeRequest: TemplateAction = {
    id: 'publish:pave:change-request',
    description: 'Commits the workspace to a branch of an existing repository and opens a ChangeRequest for review.',
    schema: {
      input: { type: 'object', required: ['repoUrl', 'branchName', 'title'], properties: { repoUrl: str, branchName: str, targetBranch: str, title: str, description: str, sourcePath: str, targetPath: str, gitCommitMessage: str } },
      output: { type: 'object', properties: { remoteUrl: str, changeRequestName: str, commitHash: str } },
    },
    async handler(ctx) {
      const { owner, repo } = ownerRepo(ctx.input.repoUrl);
      const source = await safePath(ctx.workspacePath, ctx.input.sourcePath, 'sourcePath');
      const obj = await ensureRepository(deps, ctx, owner, repo, { mustExist: true });
      const target = ctx.input.targetBranch ?? obj.status.defaultBranch ?? 'main';
      if (!obj.status?.refs?.[`refs/heads/${target}`]) throw new Error(`repository ${owner}/${repo} has no branch "${target}" to propose a change to`);
      const dir = await mkdtemp(join(tmpdir(), 'pave-cr-'));
      try {
        await git(['clone', '-q', '--branch', target, obj.status.url, dir], { token: deps.token });
        await git(['checkout', '-q', '-b', ctx.input.branchName], { cwd: dir });
        const into = await safePath(dir, ctx.input.targetPath, 'targetPath');
        await cp(source, into, { recursive: true, force: true, verbatimSymlinks: true });
        await git(['add', '-A'], { cwd: dir });
        await git(['commit', '-q', '-m', ctx.input.gitCommitMessage ?? ctx.input.title, '-m', `Pave-Trace-Id: ${ctx.traceId}`], { cwd: dir });
        const sha = await git(['rev-parse', 'HEAD'], { cwd: dir });
        await git(['push', '-q', obj.status.url, `HEAD:refs/heads/${ctx.input.branchName}`], { cwd: dir, token: deps.token });
        const cr: Resource = await deps.client.create<Resource>({
          apiVersion: GIT_API,
          kind: 'ChangeRequest',
          metadata: { generateName: `${repo.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-`, namespace: 'default', annotations: { 'pave.dev/trace-id': ctx.traceId } },
          spec: { repository: `${owner}/${repo}`, sourceBranch: ctx.input.branchName, targetBranch: target, title: ctx.input.title, description: ctx.input.description, author: ctx.user?.ref },
        });
        ctx.log(`Opened change request ${cr.metadata.name} on ${owner}/${repo}`);
        ctx.output('remoteUrl', obj.status.url);
        ctx.output('changeRequestName', cr.metadata.name);
        ctx.output('commitHash', sha);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  const commit: TemplateAction = {
    id: 'publish:pave:commit',
    description: 'Commits the workspace straight onto a branch of a repository on the built-in Git host (creating the repository if needed) and pushes it.',
    schema: {
      input: { type: 'object', required: ['repoUrl'], properties: { repoUrl: str, branch: str, sourcePath: str, targetPath: str, gitCommitMessage: str } },
      output: { type: 'object', properties: { remoteUrl: str, commitHash: str, repoContentsUrl: str } },
    },
    async handler(ctx) {
      const { owner, repo } = ownerRepo(ctx.input.repoUrl);
      const source = await safePath(ctx.workspacePath, ctx.input.sourcePath, 'sourcePath');
      const obj = await ensureRepository(deps, ctx, owner, repo);
      const branch: string = ctx.input.branch ?? obj.status.defaultBranch ?? 'main';
      const dir = await mkdtemp(join(tmpdir(), 'pave-commit-'));
      try {
        // another task may push between our fetch and our push: start again from the new tip
        for (let attempt = 1; ; attempt++) {
          try {
            const { sha, changed } = await commitOnto(deps, ctx, obj.status.url, branch, source, dir);
            ctx.log(changed ? `Committed ${sha.slice(0, 7)} to ${owner}/${repo} (${branch})` : `${owner}/${repo} (${branch}) already has these files at commit ${sha.slice(0, 7)}; nothing to commit`);
            ctx.output('remoteUrl', obj.status.url);
            ctx.output('commitHash', sha);
            ctx.output('repoContentsUrl', `${deps.selfUrl()}/api/git/repos/${owner}/${repo}/raw/${branch}`);
            return;
          } catch (e) {
            if (attempt >= 10 || ctx.signal.aborted || !rejectedAsStale((e as { stderr?: string }).stderr ?? (e as Error).message)) throw e;
            ctx.log(`${owner}/${repo} (${branch}) moved on while committing; retrying on the new tip`);
          }
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return [publish, commit, changeRequest];
}
