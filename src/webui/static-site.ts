import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One file of the built web app, with its gzip form computed once (the app is small and fixed). */
export interface StaticFile {
  body: Buffer;
  gzip?: Buffer;
  contentType: string;
  /** Vite puts a content hash in every file name under assets/, so those can be cached for good. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/**
 * The files of a built single-page app, read into memory at start-up. `lookup` answers a URL
 * path with its file, and any other path that is not a file with index.html, so that deep
 * links (/catalog/default/component/x) load the app and its router takes over.
 */
export class StaticSite {
  private files = new Map<string, StaticFile>();

  constructor(readonly root: string) {
    if (!existsSync(join(root, 'index.html'))) return;
    for (const file of walk(root)) {
      const ext = extname(file);
      const body = readFileSync(file);
      const urlPath = '/' + relative(root, file).split(sep).join('/');
      this.files.set(urlPath, {
        body,
        gzip: COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
        contentType: TYPES[ext] ?? 'application/octet-stream',
        immutable: urlPath.startsWith('/assets/'),
      });
    }
  }

  get built(): boolean {
    return this.files.has('/index.html');
  }

  /** The file for a URL path; index.html for app routes; undefined for a missing asset. */
  lookup(urlPath: string): StaticFile | undefined {
    const exact = this.files.get(urlPath);
    if (exact) return exact;
    // A missing file with an extension (a stale hashed asset) is a real 404, not the app.
    if (urlPath.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(urlPath)) return undefined;
    return this.files.get('/index.html');
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
