import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../api/errors.js';
import { git, GitError, ZERO_SHA } from './git.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Checks an owner or repository name; the error names the field and the rule. */
export function checkRepoName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value) || value.endsWith('.git') || value.includes('..')) {
    throw ApiError.badRequest(`${field} "${String(value)}" is not a valid name: use letters, digits, '.', '_' and '-', start with a letter or digit, and do not end with .git`);
  }
  return value;
}

export interface TreeEntry {
  name: string;
  path: string;
  type: 'blob' | 'tree';
}

export interface FileChange {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'changed';
}

/**
 * The bare repositories of the built-in host, one directory per repository under
 * `<root>/<owner>/<repo>.git`. Every method works on the bare repository with plumbing
 * commands, so nothing here needs a working tree.
 */
export class BareRepositories {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  path(owner: string, repo: string): string {
    return join(this.root, checkRepoName('owner', owner), `${checkRepoName('repository', repo)}.git`);
  }

  exists(owner: string, repo: string): boolean {
    return existsSync(join(this.path(owner, repo), 'HEAD'));
  }

  /** Creates the bare repository if it is missing; an existing one is left as it is. */
  async ensure(owner: string, repo: string, defaultBranch = 'main', description?: string): Promise<void> {
    const dir = this.path(owner, repo);
    if (!this.exists(owner, repo)) {
      mkdirSync(dir, { recursive: true });
      await git(['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`, dir]);
      await git(['config', 'http.receivepack', 'true'], { cwd: dir });
      // pushes of unrelated objects must not leave the repository half-written when a client disconnects
      await git(['config', 'receive.fsckObjects', 'false'], { cwd: dir });
    }
    await git(['symbolic-ref', 'HEAD', `refs/heads/${defaultBranch}`], { cwd: dir });
    if (description !== undefined) await git(['config', 'pave.description', description], { cwd: dir });
  }

  remove(owner: string, repo: string): void {
    rmSync(this.path(owner, repo), { recursive: true, force: true });
  }

  /** Every ref with the commit it points to. */
  async refs(owner: string, repo: string): Promise<Record<string, string>> {
    const { stdout } = await git(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: this.path(owner, repo) });
    const refs: Record<string, string> = {};
    for (const line of stdout.toString('utf8').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) refs[line.slice(sp + 1)] = line.slice(0, sp);
    }
    return refs;
  }

  /** Resolves a branch, tag, full ref or SHA to a commit; undefined when it names nothing. */
  async resolve(owner: string, repo: string, ref: string): Promise<string | undefined> {
    if (!/^[\w./-]+$/.test(ref) || ref.startsWith('-')) return undefined;
    const r = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: this.path(owner, repo), okCodes: [1, 128] });
    const sha = r.stdout.toString('utf8').trim();
    return r.code === 0 && sha ? sha : undefined;
  }

  /** Paths that differ between two commits; from the zero SHA, every path of `after`. */
  async changedPaths(owner: string, repo: string, before: string, after: string): Promise<string[]> {
    const cwd = this.path(owner, repo);
    if (after === ZERO_SHA) return [];
    const args = before === ZERO_SHA ? ['ls-tree', '-r', '--name-only', '-z', after] : ['diff', '--name-only', '-z', '--no-renames', before, after];
    const { stdout } = await git(args, { cwd });
    return stdout.toString('utf8').split('\0').filter(Boolean);
  }

  /** Files changed on `source` since it left `target` (the three-dot diff a review shows). */
  async changedFiles(owner: string, repo: string, target: string, source: string): Promise<FileChange[]> {
    const { stdout } = await git(['diff', '--name-status', '-z', '--no-renames', `${target}...${source}`], { cwd: this.path(owner, repo) });
    const parts = stdout.toString('utf8').split('\0').filter(Boolean);
    const out: FileChange[] = [];
    const names: Record<string, FileChange['status']> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied' };
    for (let i = 0; i + 1 < parts.length; i += 2) out.push({ status: names[parts[i]![0]!] ?? 'changed', path: parts[i + 1]! });
    return out;
  }

  async unifiedDiff(owner: string, repo: string, target: string, source: string): Promise<string> {
    const { stdout } = await git(['diff', '--no-color', `${target}...${source}`], { cwd: this.path(owner, repo) });
    return stdout.toString('utf8');
  }

  /** The bytes of a file at a revision; undefined when the revision or the path does not exist. */
  async readFile(owner: string, repo: string, ref: string, path: string): Promise<Buffer | undefined> {
    const sha = await this.resolve(owner, repo, ref);
    if (!sha) return undefined;
    const r = await git(['cat-file', 'blob', `${sha}:${path.replace(/^\/+/, '')}`], { cwd: this.path(owner, repo), okCodes: [128] });
    return r.code === 0 ? r.stdout : undefined;
  }

  /** The entries of a directory at a revision; undefined when it does not exist or is a file. */
  async readTree(owner: string, repo: string, ref: string, path: string): Promise<TreeEntry[] | undefined> {
    const sha = await this.resolve(owner, repo, ref);
    if (!sha) return undefined;
    const dir = path.replace(/^\/+|\/+$/g, '');
    const spec = dir ? `${sha}:${dir}` : `${sha}^{tree}`;
    const r = await git(['ls-tree', '-z', spec], { cwd: this.path(owner, repo), okCodes: [128] });
    if (r.code !== 0) return undefined;
    return r.stdout
      .toString('utf8')
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf('\t');
        const type = line.split(' ')[1] === 'tree' ? 'tree' : 'blob';
        const name = line.slice(tab + 1);
        return { name, path: dir ? `${dir}/${name}` : name, type };
      });
  }

  /**
   * Merges `source` into the branch `target` without a working tree: a fast-forward when
   * possible, else a merge commit. Fails with 409 naming the conflicting files. The ref update
   * is compare-and-swap, so a push that lands meanwhile makes the merge fail instead of being lost.
   */
  async merge(owner: string, repo: string, target: string, source: string, message: string, author?: string): Promise<string> {
    const cwd = this.path(owner, repo);
    const targetSha = await this.resolve(owner, repo, `refs/heads/${target}`);
    const sourceSha = await this.resolve(owner, repo, `refs/heads/${source}`);
    if (!targetSha) throw new ApiError(409, 'Conflict', `branch "${target}" does not exist in ${owner}/${repo}`);
    if (!sourceSha) throw new ApiError(409, 'Conflict', `branch "${source}" does not exist in ${owner}/${repo}`);
    const base = (await git(['merge-base', targetSha, sourceSha], { cwd, okCodes: [1] })).stdout.toString('utf8').trim();
    let commit: string;
    if (base === sourceSha) return targetSha;
    if (base === targetSha) commit = sourceSha;
    else {
      const tree = await git(['merge-tree', '--write-tree', '--name-only', '--no-messages', targetSha, sourceSha], { cwd, okCodes: [1] });
      const lines = tree.stdout.toString('utf8').trim().split('\n');
      if (tree.code === 1) throw new ApiError(409, 'Conflict', `cannot merge ${source} into ${target} in ${owner}/${repo}: conflicts in ${lines.slice(1).filter(Boolean).join(', ')}`);
      const env = author ? { GIT_AUTHOR_NAME: author } : undefined;
      commit = (await git(['commit-tree', lines[0]!, '-p', targetSha, '-p', sourceSha, '-m', message], { cwd, env })).stdout.toString('utf8').trim();
    }
    try {
      await git(['update-ref', `refs/heads/${target}`, commit, targetSha], { cwd });
    } catch (e) {
      if (e instanceof GitError) throw new ApiError(409, 'Conflict', `branch "${target}" of ${owner}/${repo} moved during the merge; try again`);
      throw e;
    }
    return commit;
  }
}
