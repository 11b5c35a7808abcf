import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Resource } from '../api/types.js';

export interface Manifest {
  source: string;
  object: Resource;
}

/** Reads YAML/JSON manifests from files, directories (recursively) or standard input ('-'). */
export function readManifests(paths: string[], recursive = true): Manifest[] {
  const out: Manifest[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(...parseManifests(readFileSync(0, 'utf8'), '<stdin>'));
      continue;
    }
    const st = statSync(p);
    if (st.isDirectory()) {
      const entries = readdirSync(p).sort();
      for (const e of entries) {
        const full = join(p, e);
        if (statSync(full).isDirectory()) {
          if (recursive) out.push(...readManifests([full], recursive));
        } else if (['.yaml', '.yml', '.json'].includes(extname(e))) out.push(...parseManifests(readFileSync(full, 'utf8'), full));
      }
    } else out.push(...parseManifests(readFileSync(p, 'utf8'), p));
  }
  return out;
}

export class ManifestError extends Error {}

export function parseManifests(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const line = e.linePos?.[0];
      throw new ManifestError(`${source}${line ? `:${line.line}:${line.col}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    const items: unknown[] = value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
    for (const v of items) {
      const o = v as Resource;
      if (!o || typeof o !== 'object' || !o.apiVersion || !o.kind) {
        throw new ManifestError(`${source}: every document must have apiVersion and kind`);
      }
      out.push({ source, object: o });
    }
  }
  return out;
}

/** Types other objects depend on go first: namespaces and definitions, then everything else. */
export function applyOrder(m: Manifest[]): Manifest[] {
  const rank = (o: Resource) => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : o.kind === 'CompositeResourceDefinition' ? 2 : 3);
  return [...m].sort((a, b) => rank(a.object) - rank(b.object));
}
