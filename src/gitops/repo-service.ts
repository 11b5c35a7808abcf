import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Resource } from '../api/types.js';
import { Mirror, type RepoCredentials } from './mirror.js';
import { ManifestError, renderFiles, selectFiles, type DirectoryOptions, type SourceFile } from './render.js';

export interface RepoServiceOptions {
  cacheDir: string;
  /** Credentials for a URL (from Argo CD repository Secrets, or the host's own token). */
  credentials(url: string): Promise<RepoCredentials | undefined>;
  /** Refs a local source already knows (the built-in host's status.refs), to skip ls-remote. */
  knownRefs(url: string): Record<string, string> | undefined;
  /** How long ls-remote answers for external repositories are reused. */
  refsTtlMs?: number;
}

export interface RenderResult {
  objects: Resource[];
  /** The content address of what was rendered: equal keys render equal manifests. */
  key: string;
  /** False when the result came from the cache. */
  rendered: boolean;
}

/** A rendered result or the error that one path at one tree produced, cached alike. */
type Cached = { objects: Resource[] } | { error: ManifestError };

/**
 * Resolves revisions, fetches into a local mirror per repository and renders directory
 * sources. Renders are cached by the object id of the path's tree plus the directory options:
 * a commit that does not touch a path leaves that tree id unchanged, so the Applications on it
 * are neither re-rendered nor re-synced (Argo CD's manifest-generate-paths, without the annotation).
 */
export class RepoService {
  private mirrors = new Map<string, Mirror>();
  private lsRemote = new Map<string, { at: number; refs: Record<string, string> }>();
  private cache = new Map<string, Cached>();
  /** Renders performed (cache misses), for benchmarks and tests. */
  renders = 0;

  constructor(private readonly opts: RepoServiceOptions) {}

  private mirror(url: string): Mirror {
    let m = this.mirrors.get(url);
    if (!m) {
      const dir = join(this.opts.cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 24) + '.git');
      m = new Mirror(url, dir);
      this.mirrors.set(url, m);
    }
    return m;
  }

  /** Resolves HEAD, a branch, a tag or a (possibly short) SHA to a full commit SHA. */
  async resolve(url: string, revision: string | undefined, force = false): Promise<string> {
    const rev = !revision || revision === 'HEAD' ? 'HEAD' : revision;
    let refs = this.opts.knownRefs(url);
    if (!refs) {
      const cached = this.lsRemote.get(url);
      if (!force && cached && Date.now() - cached.at < (this.opts.refsTtlMs ?? 170_000)) refs = cached.refs;
      else {
        refs = await this.mirror(url).lsRemote(await this.opts.credentials(url));
        this.lsRemote.set(url, { at: Date.now(), refs });
      }
    }
    const headRef = rev === 'HEAD' ? refs['symref:HEAD'] ?? (refs['refs/heads/main'] ? 'refs/heads/main' : 'refs/heads/master') : undefined;
    const candidates = headRef ? [headRef, 'HEAD'] : [rev, `refs/heads/${rev}`, `refs/tags/${rev}^{}`, `refs/tags/${rev}`];
    for (const c of candidates) if (refs[c]) return refs[c]!;
    if (/^[0-9a-f]{7,40}$/i.test(rev)) {
      const m = this.mirror(url);
      if (rev.length === 40 && (await m.hasCommit(rev))) return rev.toLowerCase();
      await m.fetch(await this.opts.credentials(url));
      if (await m.hasCommit(rev)) return (rev.length === 40 ? rev : rev).toLowerCase();
    }
    throw new Error(`revision "${revision ?? 'HEAD'}" not found in ${url}`);
  }

  /** Forgets ls-remote answers for `url`, so the next resolve asks the remote. */
  invalidate(url: string): void {
    this.lsRemote.delete(url);
  }

  /** The tree id of `path` at `sha`, or undefined when the path does not exist there. */
  async treeId(url: string, sha: string, path: string): Promise<string | undefined> {
    const m = this.mirror(url);
    await m.fetch(await this.opts.credentials(url), sha);
    const index = await m.treeIndex(sha);
    const e = index.get(normalisePath(path));
    return e?.type === 'tree' ? e.oid : undefined;
  }

  /** Renders the directory source at `path` of commit `sha`; throws ManifestError for bad input. */
  async render(url: string, sha: string, path: string, dir: DirectoryOptions = {}, hard = false): Promise<RenderResult> {
    const m = this.mirror(url);
    await m.fetch(await this.opts.credentials(url), sha);
    const index = await m.treeIndex(sha);
    const base = normalisePath(path);
    const tree = index.get(base);
    if (!tree || tree.type !== 'tree') throw new ManifestError(base || '.', undefined, `app path does not exist at ${sha.slice(0, 12)}`);
    const key = `${tree.oid}|${dir.recurse ? 1 : 0}|${dir.include ?? ''}|${dir.exclude ?? ''}`;
    const hit = hard ? undefined : this.cache.get(key);
    if (hit) {
      if ('error' in hit) throw hit.error;
      return { objects: structuredClone(hit.objects), key, rendered: false };
    }
    this.renders++;
    const prefix = base ? `${base}/` : '';
    const blobs = new Map<string, string>();
    for (const [p, e] of index) if (e.type === 'blob' && p.startsWith(prefix)) blobs.set(p.slice(prefix.length), e.oid);
    const chosen = selectFiles([...blobs.keys()], dir);
    const files: SourceFile[] = await Promise.all(chosen.map(async (rel) => ({ path: prefix + rel, relative: rel, content: (await m.readBlob(blobs.get(rel)!)).toString('utf8') })));
    let result: Cached;
    try {
      result = { objects: renderFiles(files) };
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      result = { error: e };
    }
    if (this.cache.size > 20_000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, result);
    if ('error' in result) throw result.error;
    return { objects: structuredClone(result.objects), key, rendered: true };
  }

  /** Every path at `sha` with its type, for generators that look at a repository's layout. */
  async listPaths(url: string, sha: string): Promise<{ path: string; type: 'blob' | 'tree' }[]> {
    const m = this.mirror(url);
    await m.fetch(await this.opts.credentials(url), sha);
    return [...(await m.treeIndex(sha))].filter(([p]) => p).map(([path, e]) => ({ path, type: e.type }));
  }

  async readFile(url: string, sha: string, path: string): Promise<string | undefined> {
    const m = this.mirror(url);
    await m.fetch(await this.opts.credentials(url), sha);
    const e = (await m.treeIndex(sha)).get(normalisePath(path));
    return e?.type === 'blob' ? (await m.readBlob(e.oid)).toString('utf8') : undefined;
  }

  close(): void {
    for (const m of this.mirrors.values()) m.close();
  }
}

function normalisePath(p: string): string {
  const s = p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return s === '.' ? '' : s;
}
