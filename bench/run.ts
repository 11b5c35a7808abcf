/**
 * `npm run bench -- NAME [args]` runs the scenario bench/NAME.ts and prints its figures as one
 * JSON line. Each scenario exports `run(args): Promise<Record<string, number | string>>`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const file = name ? join(here, `${name}.js`) : '';
if (!name || name === 'run' || !existsSync(file)) {
  process.stderr.write(`usage: npm run bench -- NAME, where NAME is a file in bench/ (${name ? `"${name}" not found` : 'none given'})\n`);
  process.exit(2);
}
const mod = (await import(file)) as { run(args: string[]): Promise<Record<string, unknown>> };
const figures = await mod.run(args);
process.stdout.write(JSON.stringify({ scenario: name, ...figures }) + '\n');
process.exit(0);
