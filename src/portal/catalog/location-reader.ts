import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { EntityError, type Entity } from './entity.js';

/** A place catalog files are read from: `file` (a local path) or `url` (http, e.g. the Git host's raw URLs). */
export interface LocationSpec {
  type: string;
  target: string;
}

export function locationRef(l: LocationSpec): string {
  return `${l.type}:${l.target}`;
}

export function parseLocationRef(ref: string): LocationSpec {
  const i = ref.indexOf(':');
  if (i <= 0) throw new EntityError(`location reference "${ref}" must be TYPE:TARGET`);
  return { type: ref.slice(0, i), target: ref.slice(i + 1) };
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/**
 * Reads the files Locations point at. URLs on this Pave server are read with its admin token
 * (the Git host's raw endpoint); other URLs anonymously. Relative targets resolve against the
 * location they appear in, as Backstage resolves them.
 */
export class LocationReader {
  constructor(private readonly opts: { selfUrl: () => string; token: string }) {}

  /** Resolves `target` (maybe relative) against the location file `base` it was written in. */
  resolveTarget(type: string, target: string, base?: LocationSpec): string {
    if (type === 'url') {
      if (base?.type === 'url') return new URL(target, base.target).toString();
      return new URL(target).toString();
    }
    if (type === 'file') {
      if (isAbsolute(target)) return resolve(target);
      if (base?.type === 'file') return resolve(dirname(base.target), target);
      return resolve(target);
    }
    throw new EntityError(`unsupported location type "${type}": use file or url`, 'spec.type');
  }

  /** The text at a location; a missing file or a 404 is a NotFoundError. */
  async read(l: LocationSpec): Promise<string> {
    if (l.type === 'file') {
      try {
        return await readFile(l.target, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${l.target} does not exist`);
        throw e;
      }
    }
    if (l.type === 'url') {
      const headers: Record<string, string> = {};
      const self = this.opts.selfUrl();
      if (self && l.target.startsWith(self + '/')) headers.authorization = `Bearer ${this.opts.token}`;
      const res = await fetch(l.target, { headers, signal: AbortSignal.timeout(30_000) });
      if (res.status === 404) throw new NotFoundError(`${l.target} was not found (HTTP 404)`);
      if (!res.ok) throw new Error(`reading ${l.target} failed: HTTP ${res.status}`);
      return await res.text();
    }
    throw new EntityError(`unsupported location type "${l.type}": use file or url`, 'spec.type');
  }

  /** A file target's last segment may be a glob (`*.yaml`); other targets stand for themselves. */
  async expand(l: LocationSpec): Promise<LocationSpec[]> {
    if (l.type !== 'file' || !basename(l.target).includes('*')) return [l];
    const dir = dirname(l.target);
    const re = new RegExp(`^${basename(l.target).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    return names.filter((n) => re.test(n)).sort().map((n) => ({ type: 'file', target: join(dir, n) }));
  }

  /**
   * Replaces `$text`, `$json` and `$yaml` placeholders with the content of the file they name,
   * relative to the location. Local reads may not leave `rootDir`: a catalog file cannot pull in
   * arbitrary files of the server's disk.
   */
  async substitute(value: unknown, base: LocationSpec, rootDir: string | undefined, field = ''): Promise<unknown> {
    if (Array.isArray(value)) return Promise.all(value.map((v, i) => this.substitute(v, base, rootDir, `${field}[${i}]`)));
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as object);
    if (entries.length === 1 && ['$text', '$json', '$yaml'].includes(entries[0]![0])) {
      const [op, ref] = entries[0]!;
      if (typeof ref !== 'string') throw new EntityError(`${field}: ${op} must name a file`, field);
      const target = this.resolveTarget(base.type, ref, base);
      if (base.type === 'file' && rootDir) {
        const real = await realpath(target).catch(() => target);
        const rel = relative(rootDir, real);
        if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) throw new EntityError(`${field}: ${op} "${ref}" points outside the location's directory`, field);
      }
      let text: string;
      try {
        text = await this.read({ type: base.type, target });
      } catch (e) {
        throw new EntityError(`${field}: ${op} "${ref}" could not be read: ${(e as Error).message}`, field);
      }
      if (op === '$text') return text;
      try {
        return op === '$json' ? JSON.parse(text) : parse(text);
      } catch (e) {
        throw new EntityError(`${field}: ${op} "${ref}" is not valid ${op.slice(1).toUpperCase()}: ${(e as Error).message}`, field);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) out[k] = await this.substitute(v, base, rootDir, field ? `${field}.${k}` : k);
    return out;
  }
}

/** One YAML document of a catalog file: an entity candidate, or why it is not one. */
export interface ParsedDocument {
  index: number;
  value?: unknown;
  error?: string;
}

export function parseCatalogFile(text: string, source: string): ParsedDocument[] {
  const out: ParsedDocument[] = [];
  parseAllDocuments(text).forEach((doc, index) => {
    if (!('errors' in doc)) return;
    if (doc.errors.length) {
      out.push({ index, error: `${source}: document ${index + 1} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      return;
    }
    const v = doc.toJS();
    if (v === null || v === undefined) return;
    out.push({ index, value: v as Entity });
  });
  return out;
}
