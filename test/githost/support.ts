import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Runs the system git asynchronously (the server under test runs in this same process). It never
 * asks at a terminal for credentials, and a git that is still waiting after a minute fails.
 */
export async function git(args: string[], opts: { cwd?: string; token?: string } = {}): Promise<string> {
  const auth = opts.token ? ['-c', `http.extraHeader=Authorization: Bearer ${opts.token}`] : [];
  const { stdout } = await promisify(execFile)('git', [...auth, ...args], { cwd: opts.cwd, env: gitEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  return stdout;
}

/** A working clone driven by the system git, as a user at a terminal would drive it. */
export class WorkingCopy {
  constructor(readonly dir: string) {}

  /** Clones asynchronously: the server under test runs in this same process. */
  static async clone(url: string, dir: string): Promise<WorkingCopy> {
    await git(['clone', '--quiet', url, dir]);
    await git(['checkout', '-q', '-B', 'main'], { cwd: dir });
    return new WorkingCopy(dir);
  }

  git(...args: string[]): Promise<string> {
    return git(args, { cwd: this.dir });
  }

  write(path: string, content: string): this {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    return this;
  }

  remove(path: string): this {
    rmSync(join(this.dir, path), { recursive: true, force: true });
    return this;
  }

  /** Commits everything and pushes the current branch; returns the new commit. */
  async commitAndPush(message: string, branch = 'main'): Promise<string> {
    await this.git('add', '-A');
    await this.git('commit', '-q', '--allow-empty', '-m', message);
    await this.git('push', '-q', 'origin', `HEAD:refs/heads/${branch}`);
    return (await this.git('rev-parse', 'HEAD')).trim();
  }
}

function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' };
}

/** The clone URL with the token as the password, as `git` users put it in a remote. */
export function authedUrl(url: string, token: string): string {
  return url.replace('http://', `http://pave:${encodeURIComponent(token)}@`);
}

export async function api(base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ code: number; json: any; text: string }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { code: res.status, json, text };
}
