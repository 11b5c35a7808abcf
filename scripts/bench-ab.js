#!/usr/bin/env node
// Compares commits on one benchmark scenario, with their runs interleaved so that a machine
// whose speed drifts (shared VMs swing by a fifth from one minute to the next) treats them alike.
//
//   node scripts/bench-ab.js [--rounds N] REV [REV...] -- SCENARIO [ARGS...]
//   e.g. node scripts/bench-ab.js --rounds 3 HEAD~1 HEAD -- controlplane --drift 100
//
// Each REV is checked out in a temporary git worktree that shares this checkout's
// node_modules (so the commits should agree on package-lock.json), built, and run ROUNDS times,
// REV after REV. Prints each run's figures, then the median of every numeric figure per REV.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function usage(message) {
  console.error(`${message}\nusage: node scripts/bench-ab.js [--rounds N] REV [REV...] -- SCENARIO [ARGS...]`);
  process.exit(2);
}

const args = process.argv.slice(2);
const split = args.indexOf('--');
if (split < 0 || split === args.length - 1) usage('name the scenario after --');
let revs = args.slice(0, split);
const scenario = args.slice(split + 1);
let rounds = 3;
const r = revs.indexOf('--rounds');
if (r >= 0) {
  rounds = Number(revs[r + 1]);
  if (!Number.isInteger(rounds) || rounds < 1) usage(`--rounds wants a positive whole number, got "${revs[r + 1]}"`);
  revs = revs.filter((_, i) => i !== r && i !== r + 1);
}
if (!revs.length) usage('name at least one commit to run');

const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
if (!existsSync(join(root, 'node_modules'))) usage('run npm install first: the worktrees borrow its node_modules');
const base = mkdtempSync(join(tmpdir(), 'pave-bench-ab-'));
const trees = revs.map((rev, i) => {
  const commit = execFileSync('git', ['rev-parse', '--short', `${rev}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  return { rev, commit, dir: join(base, `${i}-${commit}`) };
});

/** The node flags the commit's own `npm run bench` passes (it tunes V8 as `pave up` does). */
function nodeFlags(dir) {
  const script = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.bench ?? '';
  const m = /\bnode((?:\s+--\S+)*)\s+dist\/bench\/run\.js/.exec(script);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : Math.round(((s[m - 1] + s[m]) / 2) * 100) / 100;
}

try {
  for (const t of trees) {
    execFileSync('git', ['worktree', 'add', '--detach', '--quiet', t.dir, t.commit], { cwd: root, stdio: 'inherit' });
    symlinkSync(resolve(root, 'node_modules'), join(t.dir, 'node_modules'), 'dir');
    console.error(`building ${t.rev} (${t.commit})`);
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: t.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const results = new Map(trees.map((t) => [t, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const t of trees) {
      const run = spawnSync(process.execPath, [...nodeFlags(t.dir), 'dist/bench/run.js', ...scenario], { cwd: t.dir, encoding: 'utf8', maxBuffer: 64 << 20 });
      const line = run.stdout.trim().split('\n').pop() ?? '';
      if (run.status !== 0 || !line.startsWith('{')) {
        console.error(`${t.rev} round ${round} failed (exit ${run.status}):\n${run.stderr.slice(-2000)}`);
        continue;
      }
      const figures = JSON.parse(line);
      results.get(t).push(figures);
      console.log(`${t.rev} (${t.commit}) round ${round}: ${line}`);
    }
  }
  for (const t of trees) {
    const runs = results.get(t);
    if (!runs.length) continue;
    const medians = {};
    for (const [k, v] of Object.entries(runs[0])) if (typeof v === 'number') medians[k] = median(runs.map((f) => f[k]).filter((x) => typeof x === 'number'));
    console.log(`${t.rev} (${t.commit}) median of ${runs.length}: ${JSON.stringify(medians)}`);
  }
} finally {
  for (const t of trees) spawnSync('git', ['worktree', 'remove', '--force', t.dir], { cwd: root });
  rmSync(base, { recursive: true, force: true });
}
