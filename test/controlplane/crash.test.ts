import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NopBackend } from '../../src/providers/nop/index.js';
import { tempDir } from '../support/platform.js';

const child = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const CLAIMS = 1000;

/** Runs the child until `killAfterMs` (SIGKILL) or until it reports all claims Ready. */
function runChild(dataDir: string, statePath: string, killAfterMs?: number): Promise<{ ready: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dataDir, statePath, String(CLAIMS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.on('data', (d) => {
      output += d;
      // the clock starts once the platform is up, so kills land in the middle of the work
      if (killAfterMs !== undefined && !timer && output.includes('started')) timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    });
    proc.stderr.on('data', (d) => (output += d));
    proc.on('error', reject);
    proc.on('exit', () => {
      if (timer) clearTimeout(timer);
      resolve({ ready: output.includes('ready'), output });
    });
  });
}

describe('crash safety', () => {
  it('survives SIGKILL at random points during a burst of 1,000 claims: all Ready, nothing created twice', { timeout: 600_000 }, async () => {
    const dataDir = tempDir('pave-crash-');
    const statePath = join(dataDir, 'nop-backend.jsonl');
    try {
      const kills = [400, 900, 1500, 2500, 700].map((ms) => ms + Math.floor(Math.random() * 600));
      for (const ms of kills) {
        const r = await runChild(dataDir, statePath, ms);
        if (r.ready) break;
      }
      const final = await runChild(dataDir, statePath);
      assert.ok(final.ready, `the last run did not finish: ${final.output.slice(-2000)}`);
      const backend = new NopBackend({ statePath });
      assert.deepEqual(backend.duplicates(), [], 'external resources created more than once');
      assert.equal(backend.size(), CLAIMS * 2, 'one external resource per composed resource');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
