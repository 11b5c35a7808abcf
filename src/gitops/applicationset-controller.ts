import type { Logger } from 'pino';
import { parse } from 'yaml';
import { isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import type { ControllerSpec } from '../runtime/controller.js';
import { ARGO_API_VERSION } from './crds.js';
import { globToRegExp } from './render.js';
import type { RepoService } from './repo-service.js';

type Params = Record<string, unknown>;

/** Flattens nested objects into `a.b.c` keys, as the git files generator exposes them. */
function flatten(v: unknown, prefix = '', out: Params = {}): Params {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = v;
  return out;
}

function pathParams(path: string, isFile: boolean): Params {
  const dir = isFile ? path.slice(0, Math.max(0, path.lastIndexOf('/'))) : path;
  const segs = dir.split('/').filter(Boolean);
  const base = segs[segs.length - 1] ?? '';
  const p: Params = { path: dir, 'path.path': dir, 'path.basename': base, 'path.basenameNormalized': base.toLowerCase().replace(/[^a-z0-9-]/g, '-') };
  segs.forEach((s, i) => (p[`path[${i}]`] = s));
  if (isFile) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    p['path.filename'] = file;
    p['path.filenameNormalized'] = file.toLowerCase().replace(/[^a-z0-9-.]/g, '-');
  }
  return p;
}

/** Runs one generator; each result is one parameter set. Errors name the generator field. */
async function generate(gen: any, repo: RepoService, field: string): Promise<Params[]> {
  if (gen.list) return (gen.list.elements ?? []).map((e: unknown) => ({ ...flatten(e), ...(e as object) }));
  if (gen.git) {
    const g = gen.git;
    if (!g.repoURL) throw new Error(`${field}.git.repoURL is required`);
    const sha = await repo.resolve(g.repoURL, g.revision);
    const paths = await repo.listPaths(g.repoURL, sha);
    const out: Params[] = [];
    if (g.directories) {
      const include = g.directories.filter((d: any) => !d.exclude).map((d: any) => globToRegExp(d.path));
      const exclude = g.directories.filter((d: any) => d.exclude).map((d: any) => globToRegExp(d.path));
      for (const p of paths) if (p.type === 'tree' && include.some((r: RegExp) => r.test(p.path)) && !exclude.some((r: RegExp) => r.test(p.path))) out.push(pathParams(p.path, false));
    }
    for (const f of g.files ?? []) {
      const re = globToRegExp(f.path);
      for (const p of paths) {
        if (p.type !== 'blob' || !re.test(p.path)) continue;
        const text = (await repo.readFile(g.repoURL, sha, p.path)) ?? '';
        let data: unknown;
        try {
          data = p.path.endsWith('.json') ? JSON.parse(text) : parse(text);
        } catch (e) {
          throw new Error(`${field}.git.files: ${p.path} cannot be parsed: ${(e as Error).message}`);
        }
        for (const item of Array.isArray(data) ? data : [data]) out.push({ ...pathParams(p.path, true), ...flatten(item), ...(item as object) });
      }
    }
    return out;
  }
  if (gen.matrix) {
    const [a, b] = gen.matrix.generators ?? [];
    if (!a || !b) throw new Error(`${field}.matrix.generators needs exactly two generators`);
    const left = await generate(a, repo, `${field}.matrix.generators[0]`);
    const out: Params[] = [];
    for (const l of left) {
      // the second generator may use the first one's parameters
      const right = await generate(JSON.parse(substitute(JSON.stringify(b), l, true)), repo, `${field}.matrix.generators[1]`);
      for (const r of right) out.push({ ...l, ...r });
    }
    return out;
  }
  throw new Error(`${field}: unsupported generator ${Object.keys(gen).join(', ')} (supported: list, git, matrix)`);
}

/** `{{param}}` (and `{{ .param }}` for goTemplate) replaced in every string of the template. */
function substitute(text: string, params: Params, json: boolean): string {
  return text.replace(/\{\{\s*\.?([\w.\[\]-]+)\s*\}\}/g, (all, key: string) => {
    if (!(key in params)) return all;
    const v = params[key];
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return json ? JSON.stringify(s).slice(1, -1) : s;
  });
}

/**
 * Generates Applications from an ApplicationSet: each parameter set renders the template into
 * an Application owned by the set. Applications no longer generated are deleted (unless the
 * policy is create-only or create-update), as Argo CD does.
 */
export function applicationSetController(repo: RepoService, log: Logger): ControllerSpec {
  return {
    name: 'gitops-applicationsets',
    for: { apiVersion: ARGO_API_VERSION, kind: 'ApplicationSet' },
    owns: [{ apiVersion: ARGO_API_VERSION, kind: 'Application' }],
    generationChangedOnly: true,
    workers: 2,
    async reconcile(key, ctx) {
      const [namespace, name] = key.split('/') as [string, string];
      let set: Resource;
      try {
        set = await ctx.client.get({ apiVersion: ARGO_API_VERSION, kind: 'ApplicationSet', namespace, name });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      if (set.metadata.deletionTimestamp) return;
      let params: Params[] = [];
      let error: string | undefined;
      try {
        for (const [i, g] of (set.spec?.generators ?? []).entries()) params.push(...(await generate(g, repo, `spec.generators[${i}]`)));
      } catch (e) {
        error = `ApplicationSet ${key}: ${(e as Error).message}`;
        params = [];
      }
      const policy = set.spec?.syncPolicy?.applicationsSync ?? 'sync';
      const wanted = new Map<string, Resource>();
      if (!error) {
        const template = JSON.stringify(set.spec?.template ?? {});
        for (const p of params) {
          const t = JSON.parse(substitute(template, p, true));
          const app: Resource = {
            apiVersion: ARGO_API_VERSION,
            kind: 'Application',
            metadata: { ...(t.metadata ?? {}), namespace, ownerReferences: [{ apiVersion: ARGO_API_VERSION, kind: 'ApplicationSet', name, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
            spec: t.spec,
          };
          if (!app.metadata.name) {
            error = `ApplicationSet ${key}: spec.template.metadata.name renders empty for parameters ${JSON.stringify(p)}`;
            break;
          }
          wanted.set(app.metadata.name, app);
        }
      }
      if (!error) {
        for (const app of wanted.values()) {
          if (policy === 'create-only') {
            try {
              await ctx.client.create(app);
            } catch (e) {
              if (!(e as { code?: number }).code || (e as { code?: number }).code !== 409) throw e;
            }
          } else await ctx.client.apply(app, { fieldManager: 'applicationset-controller', force: true });
        }
        if (policy === 'sync' && !set.spec?.syncPolicy?.preserveResourcesOnDeletion) {
          const existing = await ctx.client.list(ARGO_API_VERSION, 'Application', { namespace });
          for (const a of existing.items) {
            const owned = a.metadata.ownerReferences?.some((r) => r.kind === 'ApplicationSet' && r.uid === set.metadata.uid);
            if (owned && !wanted.has(a.metadata.name!)) await ctx.client.delete({ apiVersion: ARGO_API_VERSION, kind: 'Application', namespace, name: a.metadata.name! });
          }
        }
      } else log.warn({ applicationSet: key, err: error }, 'generation failed');
      const conditions = [
        error
          ? { type: 'ErrorOccurred', status: 'True', reason: 'ApplicationGenerationFromParamsError', message: error }
          : { type: 'ResourcesUpToDate', status: 'True', reason: 'ApplicationSetUpToDate', message: `${wanted.size} Application(s) generated` },
      ];
      const status = { conditions, resources: [...wanted.keys()].map((n) => ({ name: n, namespace, kind: 'Application', group: 'argoproj.io', version: 'v1alpha1' })) };
      if (JSON.stringify(status) !== JSON.stringify(set.status)) await ctx.client.updateStatus({ ...set, status });
      return { requeueAfter: 180_000 };
    },
  };
}
