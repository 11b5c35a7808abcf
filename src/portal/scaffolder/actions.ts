import { chmod, lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { Entity } from '../catalog/entity.js';
import type { LocationService } from '../catalog/location-service.js';
import { globToRegExp, type TemplateBase, type TemplateFiles } from './template-files.js';
import type { Templater } from './templating.js';
import { safePath } from './workspace.js';

/** What a step's action is handed: its rendered input, the workspace and ways to report. */
export interface ActionContext {
  input: Record<string, any>;
  workspacePath: string;
  log(message: string): void;
  output(name: string, value: unknown): void;
  template: TemplateBase;
  traceId: string;
  user?: { ref?: string };
  isDryRun: boolean;
  signal: AbortSignal;
}

/**
 * One scaffolder action. `handler` must keep every file it writes inside `workspacePath`
 * (use safePath) and must stamp created objects with the task's trace id.
 */
export interface TemplateAction {
  id: string;
  description: string;
  schema?: { input?: Record<string, unknown>; output?: Record<string, unknown> };
  /** Whether a dry run executes it; others are skipped and only logged. */
  supportsDryRun?: boolean;
  handler(ctx: ActionContext): Promise<void>;
}

export interface ActionDeps {
  files: TemplateFiles;
  templater: Templater;
  locations: LocationService;
}

async function writeInside(workspace: string, path: string, content: Buffer | string, field: string, executable = false): Promise<string> {
  const full = await safePath(workspace, path, field);
  await mkdir(dirname(full), { recursive: true });
  // re-check after creating directories: a symlinked directory may have been on the way
  await safePath(workspace, path, field);
  await writeFile(full, content);
  if (executable) await chmod(full, 0o755);
  return full;
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const full = join(dir, name);
    const st = await lstat(full);
    if (st.isDirectory()) out.push(...(await listFiles(root, full)));
    else out.push(relative(root, full));
  }
  return out.sort();
}

/** Git's heuristic: a NUL byte in the first 8000 bytes means binary. */
function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

const str = { type: 'string' };

/** The built-in actions, shaped like Backstage's, plus the claim and Git-host publish actions. */
export function builtinActions(deps: ActionDeps): TemplateAction[] {
  const fetchPlain: TemplateAction = {
    id: 'fetch:plain',
    description: 'Copies files from a directory next to the template (or a URL on the Git host) into the workspace, unchanged.',
    schema: { input: { type: 'object', required: ['url'], properties: { url: str, targetPath: str } } },
    supportsDryRun: true,
    async handler(ctx) {
      const files = await deps.files.readTree(ctx.input.url, ctx.template);
      const target = ctx.input.targetPath ?? './';
      await safePath(ctx.workspacePath, target, 'targetPath');
      for (const [rel, f] of files) await writeInside(ctx.workspacePath, join(target, rel), f.content, 'targetPath', f.executable);
      ctx.log(`Fetched ${files.size} files from ${ctx.input.url}`);
    },
  };
  const fetchPlainFile: TemplateAction = {
    id: 'fetch:plain:file',
    description: 'Copies one file into the workspace.',
    schema: { input: { type: 'object', required: ['url', 'targetPath'], properties: { url: str, targetPath: str } } },
    supportsDryRun: true,
    async handler(ctx) {
      const f = await deps.files.readFile(ctx.input.url, ctx.template);
      await writeInside(ctx.workspacePath, ctx.input.targetPath, f.content, 'targetPath', f.executable);
    },
  };
  const fetchTemplate: TemplateAction = {
    id: 'fetch:template',
    description: 'Copies a skeleton into the workspace, rendering ${{ values.x }} in file contents and names.',
    schema: {
      input: {
        type: 'object',
        required: ['url'],
        properties: {
          url: str, targetPath: str, values: { type: 'object' }, copyWithoutTemplating: { type: 'array', items: str }, copyWithoutRender: { type: 'array', items: str },
          templateFileExtension: { type: ['boolean', 'string'] }, replace: { type: 'boolean' },
        },
      },
    },
    supportsDryRun: true,
    async handler(ctx) {
      const i = ctx.input;
      if (i.copyWithoutTemplating && i.copyWithoutRender) throw new Error('copyWithoutTemplating and copyWithoutRender cannot be used together (copyWithoutRender is the deprecated form)');
      // copyWithoutTemplating still renders the names of the files it copies; the older copyWithoutRender does not
      const verbatim = ((i.copyWithoutTemplating ?? i.copyWithoutRender ?? []) as string[]).map(globToRegExp);
      const renderVerbatimNames = !i.copyWithoutRender;
      let ext: string | undefined = i.templateFileExtension === true ? '.njk' : typeof i.templateFileExtension === 'string' && i.templateFileExtension ? i.templateFileExtension : undefined;
      if (ext && !ext.startsWith('.')) ext = `.${ext}`;
      if (ext && verbatim.length) throw new Error('templateFileExtension cannot be combined with copyWithoutTemplating or copyWithoutRender');
      const files = await deps.files.readTree(i.url, ctx.template);
      const target = i.targetPath ?? './';
      const context = { values: i.values ?? {} };
      const render = (text: string, rel: string, part: string) => {
        try {
          return deps.templater.renderText(text, context);
        } catch (e) {
          throw new Error(`the ${part} of skeleton file "${rel}" cannot be rendered: ${(e as Error).message}`);
        }
      };
      let written = 0;
      for (const [rel, { content, executable }] of files) {
        let renderContents: boolean;
        let outPath = rel;
        if (ext) {
          // with an extension only files carrying it are rendered (and lose it); every name is rendered
          renderContents = rel.endsWith(ext);
          if (renderContents) outPath = rel.slice(0, -ext.length);
          outPath = render(outPath, rel, 'name');
        } else {
          renderContents = !verbatim.some((g) => g.test(rel));
          if (renderContents || renderVerbatimNames) outPath = render(outPath, rel, 'name');
        }
        // a name that renders empty (a false condition in it) leaves the file out
        if (!outPath || outPath.split('/').some((s) => s === '')) continue;
        const full = await safePath(ctx.workspacePath, join(target, outPath), `file "${rel}" of the skeleton`);
        if (!i.replace && (await lstat(full).catch(() => undefined))) {
          ctx.log(`Keeping ${join(target, outPath)}, which is already in the workspace (set replace: true to overwrite it)`);
          continue;
        }
        // binary files (images, jars) are copied as they are: rendering them as text would corrupt them
        const body = renderContents && !isBinary(content) ? render(content.toString('utf8'), rel, 'content') : content;
        await writeInside(ctx.workspacePath, join(target, outPath), body, `file "${rel}" of the skeleton`, executable);
        written++;
      }
      ctx.log(`Rendered ${written} of ${files.size} files from ${i.url}`);
    },
  };
  const debugLog: TemplateAction = {
    id: 'debug:log',
    description: 'Writes a message, and optionally the workspace listing, to the task log.',
    schema: { input: { type: 'object', properties: { message: str, listWorkspace: { type: ['boolean', 'string'] } } } },
    supportsDryRun: true,
    async handler(ctx) {
      if (ctx.input.message) ctx.log(String(ctx.input.message));
      if (ctx.input.listWorkspace) ctx.log(`Workspace:\n${(await listFiles(ctx.workspacePath)).map((f) => `  ${f}`).join('\n')}`);
    },
  };
  const fsRename: TemplateAction = {
    id: 'fs:rename',
    description: 'Renames files and directories in the workspace.',
    schema: { input: { type: 'object', required: ['files'], properties: { files: { type: 'array', items: { type: 'object', required: ['from', 'to'], properties: { from: str, to: str, overwrite: { type: 'boolean' } } } } } } },
    supportsDryRun: true,
    async handler(ctx) {
      for (const [i, f] of (ctx.input.files as { from: string; to: string; overwrite?: boolean }[]).entries()) {
        const from = await safePath(ctx.workspacePath, f.from, `files[${i}].from`);
        const to = await safePath(ctx.workspacePath, f.to, `files[${i}].to`);
        if (!(await lstat(from).catch(() => undefined))) throw new Error(`files[${i}].from "${f.from}" does not exist`);
        if ((await lstat(to).catch(() => undefined)) && !f.overwrite) throw new Error(`files[${i}].to "${f.to}" exists; set overwrite: true to replace it`);
        await mkdir(dirname(to), { recursive: true });
        await rename(from, to);
      }
    },
  };
  const fsDelete: TemplateAction = {
    id: 'fs:delete',
    description: 'Deletes files in the workspace (paths or globs).',
    schema: { input: { type: 'object', required: ['files'], properties: { files: { type: 'array', items: str } } } },
    supportsDryRun: true,
    async handler(ctx) {
      const all = await listFiles(ctx.workspacePath);
      for (const [i, pattern] of (ctx.input.files as string[]).entries()) {
        await safePath(ctx.workspacePath, pattern.replace(/\*.*$/, '') || '.', `files[${i}]`);
        const re = globToRegExp(pattern);
        for (const f of all.filter((x) => re.test(x) || x.startsWith(pattern.replace(/^\.\//, '').replace(/\/$/, '') + '/'))) {
          await rm(await safePath(ctx.workspacePath, f, `files[${i}]`), { force: true, recursive: true });
        }
      }
    },
  };
  const catalogWrite: TemplateAction = {
    id: 'catalog:write',
    description: 'Writes a catalog-info.yaml for the entity into the workspace.',
    schema: { input: { type: 'object', required: ['entity'], properties: { filePath: str, entity: { type: 'object' } } } },
    supportsDryRun: true,
    async handler(ctx) {
      const entity = structuredClone(ctx.input.entity) as Entity;
      entity.metadata ??= { name: '' };
      entity.metadata.annotations = { ...(entity.metadata.annotations ?? {}), 'pave.dev/trace-id': ctx.traceId };
      await writeInside(ctx.workspacePath, ctx.input.filePath ?? 'catalog-info.yaml', stringify(entity), 'filePath');
    },
  };
  const catalogRegister: TemplateAction = {
    id: 'catalog:register',
    description: 'Registers a catalog-info.yaml (by URL, or repoContentsUrl + catalogInfoPath) as a catalog location.',
    schema: { input: { type: 'object', properties: { catalogInfoUrl: str, repoContentsUrl: str, catalogInfoPath: str, optional: { type: 'boolean' } } }, output: { type: 'object', properties: { entityRef: str, catalogInfoUrl: str } } },
    async handler(ctx) {
      const url: string = ctx.input.catalogInfoUrl ?? `${String(ctx.input.repoContentsUrl ?? '').replace(/\/$/, '')}/${String(ctx.input.catalogInfoPath ?? '/catalog-info.yaml').replace(/^\//, '')}`;
      if (!/^https?:\/\//.test(url)) throw new Error('catalog:register needs catalogInfoUrl or repoContentsUrl');
      try {
        const dry = await deps.locations.add('url', url, { dryRun: true });
        const entity = dry.entities.find((e) => e.kind !== 'Location') ?? dry.entities[0];
        if (!dry.exists) await deps.locations.add('url', url, { traceId: ctx.traceId });
        if (entity) ctx.output('entityRef', `${entity.kind.toLowerCase()}:${entity.metadata.namespace ?? 'default'}/${entity.metadata.name}`);
        ctx.output('catalogInfoUrl', url);
        ctx.log(`Registered ${url} in the catalog`);
      } catch (e) {
        if (ctx.input.optional) ctx.log(`Skipping optional registration of ${url}: ${(e as Error).message}`);
        else throw e;
      }
    },
  };
  return [fetchPlain, fetchPlainFile, fetchTemplate, debugLog, fsRename, fsDelete, catalogWrite, catalogRegister, ...claimActions()];
}

/**
 * Writes a claim manifest from template parameters: name, namespace and owner parameters go to
 * metadata (owner as the pave.dev/owner annotation), the rest to spec. Also answers to
 * `terasky:claim-template`, so templates written for that action run unmodified.
 */
function claimActions(): TemplateAction[] {
  const base: Omit<TemplateAction, 'id'> = {
    description: 'Writes a Crossplane claim manifest built from the template parameters.',
    schema: {
      input: {
        type: 'object',
        required: ['apiVersion', 'kind'],
        properties: {
          parameters: { type: 'object' }, apiVersion: str, kind: str, nameParam: str, namespaceParam: str, ownerParam: str,
          excludeParams: { type: 'array', items: str }, compositionRef: str, clusters: { type: 'array', items: str }, removeEmptyParams: { type: 'boolean' }, filePath: str, labels: { type: 'object' },
        },
      },
      output: { type: 'object', properties: { filePaths: { type: 'array' }, manifest: str } },
    },
    supportsDryRun: true,
    async handler(ctx) {
      const i = ctx.input;
      const params: Record<string, unknown> = { ...(i.parameters ?? {}) };
      const nameParam = i.nameParam ?? 'name';
      const namespaceParam = i.namespaceParam ?? 'namespace';
      const ownerParam = i.ownerParam ?? 'owner';
      const name = params[nameParam];
      if (typeof name !== 'string' || !name) throw new Error(`parameters.${nameParam} is required: it becomes the claim's metadata.name`);
      const namespace = typeof params[namespaceParam] === 'string' && params[namespaceParam] ? (params[namespaceParam] as string) : 'default';
      const owner = params[ownerParam];
      const exclude = new Set<string>([nameParam, namespaceParam, ownerParam, ...(i.excludeParams ?? [])]);
      const spec: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(params)) {
        if (exclude.has(k)) continue;
        if (i.removeEmptyParams !== false && (v === '' || v === null || v === undefined || (Array.isArray(v) && !v.length))) continue;
        spec[k] = v;
      }
      const annotations: Record<string, string> = { 'pave.dev/trace-id': ctx.traceId };
      if (typeof owner === 'string' && owner) annotations['pave.dev/owner'] = owner;
      if (typeof i.compositionRef === 'string' && i.compositionRef) spec.compositionRef = { name: i.compositionRef };
      const manifest = { apiVersion: i.apiVersion, kind: i.kind, metadata: { name, namespace, annotations, ...(i.labels ? { labels: i.labels } : {}) }, spec };
      const text = stringify(manifest);
      const paths: string[] = i.filePath ? [i.filePath] : (i.clusters?.length ? i.clusters : ['local']).map((c: string) => `${c}/${namespace}/${i.kind}/${name}.yaml`);
      for (const p of paths) await writeInside(ctx.workspacePath, p, text, 'filePath');
      ctx.output('filePaths', paths);
      ctx.output('manifest', text);
      ctx.log(`Wrote ${i.kind} "${name}" to ${paths.join(', ')}`);
    },
  };
  return [
    { id: 'pave:claim-template', ...base },
    { id: 'terasky:claim-template', ...base },
  ];
}
