import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/support. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const paveBin = join(repoRoot, 'bin', 'pave.js');

/** Runs the pave CLI to completion (offline commands such as render and validate), with `input` on its standard input. */
export function runPave(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [paveBin, ...args], { encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts `pave up` as a separate process and resolves once /readyz answers 200. */
export async function startPaveProcess(dataDir: string, port: number, extraArgs: string[] = []): Promise<{ child: ChildProcess; url: string; output: () => string; readyMs: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [paveBin, 'up', '--data-dir', dataDir, '--port', String(port), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PAVE_LOG_LEVEL: process.env.PAVE_LOG_LEVEL ?? 'warn' } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pave up exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`pave up did not become ready in 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, url, output: () => out, readyMs: Date.now() - started };
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** Fails with a message naming the missing tool, rather than skipping silently. */
export function requireCommand(cmd: string, hint: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`]);
  if (r.status !== 0) throw new Error(`${cmd} is not installed on this machine: ${hint}`);
}
