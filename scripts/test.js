#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's test runner.
// Usage: node scripts/test.js [substring...]  (only files whose path contains a substring)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk('dist/test').filter((f) => !filters.length || filters.some((s) => f.includes(s))).sort();
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
// A file that hangs, or whose process never exits, fails on its own after FILE_TIMEOUT_MS with
// its name, instead of holding the whole run (and CI) until the run is killed from outside.
const FILE_TIMEOUT_MS = 5 * 60_000;
const RUN_TIMEOUT_MS = 25 * 60_000;
const args = ['--test', '--test-concurrency=2', `--test-timeout=${FILE_TIMEOUT_MS}`, '--test-reporter=spec', ...files];
// its own process group, so that a stop takes every test file's process with it
const run = spawn(process.execPath, args, { stdio: 'inherit', detached: true });
const stop = setTimeout(() => {
  console.error(`the tests did not finish within ${RUN_TIMEOUT_MS / 60_000} minutes and were stopped`);
  process.kill(-run.pid, 'SIGKILL');
}, RUN_TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.kill(-run.pid, sig));
run.on('exit', (code) => {
  clearTimeout(stop);
  process.exit(code ?? 1);
});
