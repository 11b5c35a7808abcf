import { parseEntityRef } from '../catalog/entity.js';
import { readProperty, sandboxData, SandboxedEnvironment } from './template-sandbox.js';

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

/** A template that could not be rendered, with where in it and why. */
export class TemplateRenderError extends Error {
  override name = 'TemplateRenderError';
}

/**
 * Renders `${{ }}` expressions in template steps with nunjucks, sandboxed (see
 * template-sandbox.ts): templates come from catalog locations, so an expression sees only the
 * data it is given (as null-prototype copies) and cannot reach constructors, prototypes,
 * globals or Node. Values are only ever data: what a user typed is inserted, never rendered
 * again, so `${{ }}` inside an input value stays text. A string that is exactly one expression
 * keeps the value's type (a list stays a list).
 *
 * What templates can use: nunjucks' filters plus parseRepoUrl, parseEntityRef, pick and
 * projectSlug; `if`, `for`, `set` and macros; `| dump`; a few string methods (toLowerCase,
 * toUpperCase, trim, startsWith, endsWith, includes, indexOf, slice, substring, split, replace,
 * replaceAll, ...) and list methods (join, includes, indexOf, slice, concat), none of which
 * takes a function. What they cannot: include, import, extends (there is no loader), range,
 * cycler, joiner (each leads to Function), any other method, and names such as this, process
 * or constructor, which fail the render with an error naming them. The sandbox stops code from
 * escaping, not a template from being slow: rendering has no time limit, so a catastrophic
 * regular expression in a template still blocks the server while it runs.
 */
export class Templater {
  private env = new SandboxedEnvironment({
    autoescape: false,
    throwOnUndefined: false,
    tags: { variableStart: '${{', variableEnd: '}}', blockStart: '{%', blockEnd: '%}', commentStart: '{#', commentEnd: '#}' },
  });

  constructor() {
    this.env.addFilter('parseRepoUrl', (v: string) => parseRepoUrl(v));
    this.env.addFilter('parseEntityRef', (v: string, opts?: { defaultKind?: string; defaultNamespace?: string }) =>
      parseEntityRef(v, { defaultKind: readProperty(opts, 'defaultKind') as string | undefined, defaultNamespace: readProperty(opts, 'defaultNamespace') as string | undefined }),
    );
    this.env.addFilter('pick', (v: unknown, key: string) => readProperty(v, key));
    this.env.addFilter('projectSlug', (v: string) => {
      const r = parseRepoUrl(v);
      return `${r.owner ?? r.organization ?? r.workspace ?? r.project}/${r.repo}`;
    });
    // the whole-expression form uses this to hand values back with their type
    this.env.addFilter('paveJson', (v: unknown) => (v === undefined ? '' : JSON.stringify(v)));
  }

  private run(src: string, data: unknown, shown = src): string {
    try {
      return this.env.render(src, data);
    } catch (e) {
      // nunjucks prefixes "(unknown path) [Line 2, Column 5]\n  Error: " (a position only when it has one)
      const message = (e as Error).message;
      const at = /\[Line (\d+), Column (\d+)\]/.exec(message);
      const why = message.split('\n').map((l) => l.trim().replace(/^[\w ]*[Ee]rror: /, '').replace(/^\(unknown path\)( \[[^\]]*\])?$/, '')).filter(Boolean).join(' ');
      const where = at ? ` (line ${at[1]}, column ${at[2]})` : '';
      const snippet = shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
      throw new TemplateRenderError(`${why || 'cannot be rendered'}${where} in ${JSON.stringify(snippet)}`);
    }
  }

  private renderString(s: string, data: unknown): unknown {
    if (!s.includes('${{') && !s.includes('{%')) return s;
    const whole = EXPRESSION.exec(s);
    if (whole && !whole[1]!.includes('}}')) {
      const out = this.run(`\${{ (${whole[1]}) | paveJson }}`, data, s);
      return out === '' ? undefined : JSON.parse(out);
    }
    return this.run(s, data);
  }

  /** Renders every string inside a value (objects and lists are walked). */
  render(value: unknown, context: Record<string, unknown>): unknown {
    return this.walk(value, sandboxData(context));
  }

  private walk(value: unknown, data: unknown): unknown {
    if (typeof value === 'string') return this.renderString(value, data);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, data));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.walk(v, data);
      return out;
    }
    return value;
  }

  /** Renders a skeleton file's text: always a string, never re-rendered. */
  renderText(text: string, context: Record<string, unknown>): string {
    return this.run(text, sandboxData(context));
  }
}
