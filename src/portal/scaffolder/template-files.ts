import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseLocationRef } from '../catalog/location-reader.js';
import { WorkspaceEscapeError } from './workspace.js';

/** Where a template lives, so `./skeleton` in its steps means the skeleton next to it. */
export interface TemplateBase {
  /** `file:/path/template.yaml` or `url:http://.../template.yaml` (backstage.io/managed-by-location). */
  location?: string;
  /** The registered location it came through; local reads may not leave that directory. */
  origin?: string;
}

/** One file of a skeleton. `executable` carries the owner's execute bit (a gradlew stays runnable). */
export interface SkeletonFile {
  content: Buffer;
  executable: boolean;
}

/**
 * Reads skeleton files for fetch actions: from the local directory of a file-registered
 * template, or over HTTP from the Git host's tree and raw endpoints. Symlinks in a skeleton are
 * refused rather than followed, so a skeleton cannot copy files from elsewhere on the server.
 */
export class TemplateFiles {
  constructor(private readonly opts: { selfUrl: () => string; token: string }) {}

  private resolve(url: string, base: TemplateBase): { type: 'file' | 'url'; target: string; root?: string } {
    if (/^https?:\/\//.test(url)) return { type: 'url', target: url };
    if (!base.location) throw new WorkspaceEscapeError(`cannot resolve "${url}": the template has no location to resolve it against`);
    const loc = parseLocationRef(base.location);
    if (loc.type === 'url') return { type: 'url', target: new URL(url, loc.target).toString() };
    if (isAbsolute(url)) throw new WorkspaceEscapeError(`"${url}" is an absolute path; use a path relative to the template`);
    const origin = base.origin ? parseLocationRef(base.origin) : loc;
    return { type: 'file', target: resolve(dirname(loc.target), url), root: dirname(origin.type === 'file' ? origin.target : loc.target) };
  }

  private headers(url: string): Record<string, string> {
    const self = this.opts.selfUrl();
    return self && url.startsWith(self + '/') ? { authorization: `Bearer ${this.opts.token}` } : {};
  }

  /** Every file under `url` (a directory), by path relative to it. */
  async readTree(url: string, base: TemplateBase): Promise<Map<string, SkeletonFile>> {
    const src = this.resolve(url, base);
    const out = new Map<string, SkeletonFile>();
    if (src.type === 'file') {
      const real = await realpath(src.target).catch(() => {
        throw new Error(`skeleton "${url}" does not exist`);
      });
      const rel = relative(await realpath(src.root!), real);
      if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) throw new WorkspaceEscapeError(`"${url}" points outside the template's location`);
      const walk = async (dir: string, prefix: string) => {
        for (const name of (await readdir(dir)).sort()) {
          const full = join(dir, name);
          const st = await lstat(full);
          if (st.isSymbolicLink()) throw new WorkspaceEscapeError(`skeleton file "${prefix}${name}" is a symlink; symlinks are not copied`);
          if (st.isDirectory()) await walk(full, `${prefix}${name}/`);
          else if (st.isFile()) out.set(`${prefix}${name}`, { content: await readFile(full), executable: (st.mode & 0o100) !== 0 });
        }
      };
      const st = await lstat(real);
      if (st.isFile()) out.set(real.split(sep).pop()!, { content: await readFile(real), executable: (st.mode & 0o100) !== 0 });
      else await walk(real, '');
      return out;
    }
    const treeUrl = src.target.replace('/raw/', '/tree/').replace(/\/$/, '');
    const walk = async (tree: string, prefix: string) => {
      const res = await fetch(tree, { headers: this.headers(tree), signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`reading ${tree} failed: HTTP ${res.status}`);
      const body = (await res.json()) as { entries: { name: string; type: string }[] };
      for (const e of body.entries) {
        if (e.type === 'tree') await walk(`${tree}/${encodeURIComponent(e.name)}`, `${prefix}${e.name}/`);
        // the Git host's tree listing carries no file modes, so files read over HTTP are not executable
        else out.set(`${prefix}${e.name}`, { content: await this.fetchBytes(`${tree.replace('/tree/', '/raw/')}/${encodeURIComponent(e.name)}`), executable: false });
      }
    };
    await walk(treeUrl, '');
    return out;
  }

  async readFile(url: string, base: TemplateBase): Promise<SkeletonFile> {
    const src = this.resolve(url, base);
    if (src.type === 'url') return { content: await this.fetchBytes(src.target), executable: false };
    const tree = await this.readTree(url, base);
    const first = [...tree.values()][0];
    if (tree.size !== 1 || !first) throw new Error(`"${url}" is not a single file`);
    return first;
  }

  private async fetchBytes(url: string): Promise<Buffer> {
    const res = await fetch(url, { headers: this.headers(url), signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`reading ${url} failed: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
}

/** How long a template's file may take to arrive before its task fails, as the catalog waits for a location. */
const FETCH_TIMEOUT_MS = 30_000;

/** A glob (`*`, `**`, `?`) as a regular expression over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  const g = glob.replace(/^\.\//, '');
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*' && g[i + 1] === '*') {
      re += '.*';
      i++;
      if (g[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
