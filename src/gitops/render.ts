import { parseAllDocuments } from 'yaml';
import type { Resource } from '../api/types.js';

/** Argo CD's `spec.source.directory`: which files of the path become manifests. */
export interface DirectoryOptions {
  recurse?: boolean;
  include?: string;
  exclude?: string;
}

/** A manifest that cannot be read; names the file (relative to the repository root) and line. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    reason: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`);
    this.name = 'ManifestError';
  }
}

export interface SourceFile {
  /** Path relative to the repository root. */
  path: string;
  /** Path relative to the application's source path (what include/exclude match). */
  relative: string;
  content: string;
}

/** Turns a glob with `*`, `**`, `?` and `{a,b}` into a regular expression over relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',' && re.includes('(?:')) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Which files a directory source reads, as Argo CD chooses them. */
export function selectFiles(relativePaths: string[], opts: DirectoryOptions): string[] {
  const include = opts.include ? globToRegExp(opts.include) : undefined;
  const exclude = opts.exclude ? globToRegExp(opts.exclude) : undefined;
  const matches = (re: RegExp, p: string) => re.test(p) || re.test(p.slice(p.lastIndexOf('/') + 1));
  return relativePaths.filter((p) => {
    if (!/\.(ya?ml|json)$/i.test(p)) return false;
    if (!opts.recurse && p.includes('/')) return false;
    if (include && !matches(include, p)) return false;
    if (exclude && matches(exclude, p)) return false;
    return true;
  });
}

/**
 * Parses the selected files into objects: multi-document YAML, JSON, and `List` kinds expanded.
 * Any unreadable document fails the whole render with the file and line, so a half-read
 * directory is never applied.
 */
export function renderFiles(files: SourceFile[]): Resource[] {
  const out: Resource[] = [];
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    const docs = parseAllDocuments(f.content, { prettyErrors: false, uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const doc of list) {
      const err = doc.errors[0];
      if (err) throw new ManifestError(f.path, err.linePos?.[0]?.line ?? lineOf(f.content, err.pos[0]), err.message.split('\n')[0]!);
      const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
      if (value === null || value === undefined) continue;
      const line = doc.contents?.range ? lineOf(f.content, doc.contents.range[0]) : undefined;
      for (const obj of expandList(value)) {
        if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new ManifestError(f.path, line, 'a manifest must be an object with apiVersion and kind');
        const r = obj as Resource;
        if (typeof r.apiVersion !== 'string' || !r.apiVersion) throw new ManifestError(f.path, line, 'apiVersion is missing');
        if (typeof r.kind !== 'string' || !r.kind) throw new ManifestError(f.path, line, 'kind is missing');
        if (!r.metadata || typeof r.metadata !== 'object' || (!r.metadata.name && !r.metadata.generateName)) throw new ManifestError(f.path, line, `${r.kind}: metadata.name is missing`);
        out.push(r);
      }
    }
  }
  return out;
}

function expandList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v.flatMap(expandList);
  const o = v as Resource;
  if (o && typeof o === 'object' && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) return o.items.flatMap(expandList);
  return [v];
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
