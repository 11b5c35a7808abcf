import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A working clone driven by the system git, as a user at a terminal would drive it. */
export class WorkingCopy {
  constructor(readonly dir: string) {}

  static clone(url: string, dir: string): WorkingCopy {
    execFileSync('git', ['clone', '--quiet', url, dir], { stdio: 'pipe', env: gitEnv() });
    execFileSync('git', ['checkout', '-q', '-B', 'main'], { cwd: dir, stdio: 'pipe', env: gitEnv() });
    return new WorkingCopy(dir);
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, stdio: 'pipe', env: gitEnv() }).toString('utf8');
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
  commitAndPush(message: string, branch = 'main'): string {
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    this.git('push', '-q', 'origin', `HEAD:refs/heads/${branch}`);
    return this.git('rev-parse', 'HEAD').trim();
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
