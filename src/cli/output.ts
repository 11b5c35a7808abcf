import type { Command } from 'commander';
import { ApiError } from '../api/errors.js';
import type { TypeInfo } from '../api/client.js';
import type { HttpClient } from '../api/http-client.js';
import { ManifestError } from './manifests.js';

/** Adds the options every command that talks to a server takes. */
export const common = (c: Command) =>
  c
    .option('--server <url>', 'the Pave server (default: the kubeconfig in the data directory, else http://127.0.0.1:7007)')
    .option('--data-dir <dir>', 'the data directory whose kubeconfig to use', '.pave');

export async function resolveType(client: HttpClient, name: string): Promise<TypeInfo> {
  const lower = name.toLowerCase();
  const [bare, ...groupParts] = lower.split('.');
  const group = groupParts.join('.');
  const types = await client.types();
  const hits = types.filter((t) => (!group || t.group === group) && [t.plural, t.singular, t.kind.toLowerCase(), ...t.shortNames].includes(bare!));
  if (!hits.length) throw new ApiError(404, 'NotFound', `the server doesn't have a resource type "${name}"`);
  hits.sort((a, b) => (a.group === '' ? -1 : b.group === '' ? 1 : 0));
  return hits[0]!;
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function message(e: unknown): string {
  if (e instanceof ApiError || e instanceof ManifestError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function fail(e: unknown): never {
  process.stderr.write(`error: ${message(e)}\n`);
  process.exit(1);
}

