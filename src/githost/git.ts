import { spawn } from 'node:child_process';

export interface GitRunOptions {
  cwd?: string;
  input?: string | Buffer;
  env?: Record<string, string>;
  /** Exit codes that are answers, not failures (e.g. 1 from `merge-tree` on conflicts). */
  okCodes?: number[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/** A failed `git` invocation; the message carries git's own words and the arguments. */
export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`git ${args[0]} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join('; ') || 'no output'}`);
    this.name = 'GitError';
  }
}

/**
 * Runs the system `git`. Identity and prompting are pinned so that commits made on behalf of the
 * host are reproducible and a missing credential fails fast instead of waiting on a terminal.
 */
export function git(args: string[], opts: GitRunOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: opts.cwd,
      env: {
        ...process.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_AUTHOR_NAME: 'Pave',
        GIT_AUTHOR_EMAIL: 'pave@localhost',
        GIT_COMMITTER_NAME: 'Pave',
        GIT_COMMITTER_EMAIL: 'pave@localhost',
        ...opts.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code: code ?? 1 };
      if (result.code === 0 || opts.okCodes?.includes(result.code)) resolve(result);
      else reject(new GitError(args, result.code, result.stderr));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  });
}

export const ZERO_SHA = '0000000000000000000000000000000000000000';
