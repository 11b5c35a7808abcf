import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A working clone driven by the system git, as a user at a terminal would drive it. */
export class WorkingCopy {
  constructor(readonly dir: string) {}

  /** Clones asynchronously: the server under test runs in this same process. */
  static async clone(url: string, dir: string): Promise<WorkingCopy> {
    await run('git', ['clone', '--quiet', url, dir], { env: gitEnv() });
    await run('git', ['checkout', '-q', '-B', 'main'], { cwd: dir, env: gitEnv() });
    return new WorkingCopy(dir);
  }

  async git(...args: string[]): Promise<string> {
    return (await run('git', args, { cwd: this.dir, env: gitEnv(), maxBuffer: 64 * 1024 * 1024 })).stdout;
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
