#!/usr/bin/env node
// Project rules the compiler does not check: no console.log outside the CLI and scripts,
// no machine paths in sources, no files named utils/helpers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const problems = [];
function walk(dir) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx)$/.test(e)) check(p);
  }
}
function check(file) {
  const text = readFileSync(file, 'utf8');
  if (/(^|\/)(utils|helpers|misc)\.tsx?$/.test(file)) problems.push(`${file}: name the file after what it is, not utils/helpers`);
  if (file.startsWith('src/') && !file.startsWith('src/cli/') && /console\.log\(/.test(text)) problems.push(`${file}: use the pino logger, not console.log`);
  if (/\/work\/|\/root\/|\/home\/\w+/.test(text)) problems.push(`${file}: contains a machine-specific path`);
}
for (const d of ['src', 'test', 'bench', 'examples', 'web/src']) {
  try {
    walk(d);
  } catch {
    // directory may not exist yet
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('lint: ok');
