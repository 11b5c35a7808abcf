import nunjucks from 'nunjucks';
import { parseEntityRef } from '../catalog/entity.js';

/** `host?owner=o&repo=r` as Backstage's RepoUrlPicker writes it, split into its parts. */
export function parseRepoUrl(repoUrl: string): { host: string; owner?: string; repo: string; organization?: string; workspace?: string; project?: string } {
  let url: URL;
  try {
    url = new URL(`https://${repoUrl}`);
  } catch {
    throw new Error(`invalid repoUrl "${repoUrl}": expected host?owner=OWNER&repo=REPO`);
  }
  const q = url.searchParams;
  const repo = q.get('repo');
  if (!repo) throw new Error(`invalid repoUrl "${repoUrl}": missing repo`);
  const out: ReturnType<typeof parseRepoUrl> = { host: url.host, repo };
  for (const k of ['owner', 'organization', 'workspace', 'project'] as const) {
    const v = q.get(k);
    if (v) out[k] = v;
  }
  return out;
}

const EXPRESSION = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/;

/**
 * Renders `${{ }}` expressions in template steps with nunjucks. Values are only ever data:
 * what a user typed is inserted, never rendered again, so `${{ }}` inside an input value stays
 * text. A string that is exactly one expression keeps the value's type (a list stays a list).
 */
export class Templater {
  private env: nunjucks.Environment;

  constructor() {
    this.env = new nunjucks.Environment(null, {
      autoescape: false,
      throwOnUndefined: false,
      tags: { variableStart: '${{', variableEnd: '}}', blockStart: '{%', blockEnd: '%}', commentStart: '{#', commentEnd: '#}' },
    });
    this.env.addFilter('parseRepoUrl', (v: string) => parseRepoUrl(v));
    this.env.addFilter('parseEntityRef', (v: string, opts?: { defaultKind?: string; defaultNamespace?: string }) => parseEntityRef(v, opts));
    this.env.addFilter('pick', (v: Record<string, unknown> | undefined, key: string) => v?.[key]);
    this.env.addFilter('projectSlug', (v: string) => {
      const r = parseRepoUrl(v);
      return `${r.owner ?? r.organization ?? r.workspace ?? r.project}/${r.repo}`;
    });
    // the whole-expression form uses this to hand values back with their type
    this.env.addFilter('paveJson', (v: unknown) => (v === undefined ? '' : JSON.stringify(v)));
  }

  renderString(s: string, context: Record<string, unknown>): unknown {
    if (!s.includes('${{') && !s.includes('{%')) return s;
    const whole = EXPRESSION.exec(s);
    if (whole && !whole[1]!.includes('}}')) {
      const out = this.env.renderString(`\${{ (${whole[1]}) | paveJson }}`, context);
      return out === '' ? undefined : JSON.parse(out);
    }
    return this.env.renderString(s, context);
  }

  /** Renders every string inside a value (objects and lists are walked). */
  render(value: unknown, context: Record<string, unknown>): unknown {
    if (typeof value === 'string') return this.renderString(value, context);
    if (Array.isArray(value)) return value.map((v) => this.render(v, context));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.render(v, context);
      return out;
    }
    return value;
  }

  /** Renders a skeleton file's text: always a string, never re-rendered. */
  renderText(text: string, context: Record<string, unknown>): string {
    return this.env.renderString(text, context);
  }
}
