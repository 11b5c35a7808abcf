import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Resource } from '../../api/types.js';
import { autoReady } from './auto-ready.js';
import { dummy } from './dummy.js';
import { environmentConfigs } from './environment-configs.js';
import { patchAndTransform, type SchemaLookup } from './patch-and-transform.js';
import type { CompositionFunction } from './types.js';

/** The annotation on a `Function` object that names the module implementing it. */
export const MODULE_ANNOTATION = 'pave.dev/module';

const BUILTIN_PACKAGES: [RegExp, string][] = [
  [/function-patch-and-transform/, 'function-patch-and-transform'],
  [/function-auto-ready/, 'function-auto-ready'],
  [/function-environment-configs/, 'function-environment-configs'],
  [/function-dummy/, 'function-dummy'],
];

/**
 * How long a loaded module file is used before its modification time is looked at again: a
 * platform team that edits its function sees the change this soon, without restarting Pave.
 */
const RELOAD_CHECK_MS = 1000;

/** A loaded module: a file's with the modification time it was loaded at, or a package's. */
interface LoadedModule {
  fn: Promise<CompositionFunction>;
  mtimeMs?: number;
  checkedAt: number;
}

/**
 * Resolves a pipeline step's functionRef.name to a function: a built-in, a function registered
 * in code, or a `Function` object (pkg.crossplane.io) whose package is a built-in one or whose
 * `pave.dev/module` annotation names a module to load: a file (`./path` is resolved from
 * `baseDir`, the directory Pave runs in) or an installed package. A file is loaded again when it
 * changes; what it imports is not.
 */
export class FunctionRegistry {
  private byName = new Map<string, CompositionFunction>();
  private modules = new Map<string, LoadedModule>();
  private builtins = new Set<CompositionFunction>();

  constructor(schemas?: SchemaLookup) {
    for (const fn of [patchAndTransform(schemas), autoReady(), environmentConfigs(), dummy()]) {
      this.builtins.add(fn);
      this.register(fn);
    }
  }

  /** Whether `fn` is one of Pave's own functions, which never mutate their request. */
  isBuiltin(fn: CompositionFunction): boolean {
    return this.builtins.has(fn);
  }

  /** Whether `name` names a function without a Function object: a built-in or one registered in code. */
  has(name: string): boolean {
    return this.byName.has(name) || BUILTIN_PACKAGES.some(([re]) => re.test(name));
  }

  register(fn: CompositionFunction): void {
    this.byName.set(fn.name, fn);
  }

  /**
   * @param functionObject the `Function` object named `name`, if one exists
   * @param baseDir where relative module paths are resolved from
   */
  async resolve(name: string, functionObject?: Resource, baseDir = process.cwd()): Promise<CompositionFunction> {
    const modulePath = functionObject?.metadata.annotations?.[MODULE_ANNOTATION];
    if (modulePath) return this.load(modulePath, baseDir, name);
    const pkg: string = functionObject?.spec?.package ?? '';
    for (const [re, builtin] of BUILTIN_PACKAGES) if (re.test(pkg)) return this.byName.get(builtin)!;
    const direct = this.byName.get(name);
    if (direct) return direct;
    for (const [re, builtin] of BUILTIN_PACKAGES) if (re.test(name)) return this.byName.get(builtin)!;
    if (functionObject) throw new Error(`Function "${name}" has package "${pkg}", which is not built in; add the annotation ${MODULE_ANNOTATION} naming a module that implements it`);
    throw new Error(`no function named "${name}": create a Function object (pkg.crossplane.io/v1) with that name`);
  }

  private load(spec: string, baseDir: string, name: string): Promise<CompositionFunction> {
    const where = `${MODULE_ANNOTATION} "${spec}" of Function "${name}"`;
    // a URL (data:, http:, node:) would run code that is nowhere on disk: only files and packages
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(spec)) throw new Error(`${where} is a URL; name a file (./path or /path) or an installed package`);
    const file = spec.startsWith('.') || isAbsolute(spec) ? resolve(baseDir, spec) : undefined;
    const key = file ?? spec;
    const loaded = this.modules.get(key);
    const now = Date.now();
    if (loaded && (!file || now - loaded.checkedAt < RELOAD_CHECK_MS)) return loaded.fn;
    let mtimeMs: number | undefined;
    if (file) {
      try {
        mtimeMs = statSync(file).mtimeMs;
      } catch {
        throw new Error(`${where}: there is no file ${file}${isAbsolute(spec) ? '' : ` (a relative path is resolved from ${baseDir}, the directory Pave runs in)`}`);
      }
      if (loaded?.mtimeMs === mtimeMs) {
        loaded.checkedAt = now;
        return loaded.fn;
      }
    }
    // a changed file gets a new URL: the module cache would otherwise hand back the old one
    const target = file ? `${pathToFileURL(file).href}${loaded ? `?mtime=${mtimeMs}` : ''}` : spec;
    const fn = import(target).then((m: Record<string, any>) => {
      const exported = (m.compositionFunction ?? m.default) as CompositionFunction | undefined;
      if (!exported || typeof exported.run !== 'function') throw new Error(`${where} does not export a composition function (a default export or "compositionFunction" with a run method)`);
      return exported;
    });
    const entry: LoadedModule = { fn, mtimeMs, checkedAt: now };
    fn.catch(() => {
      if (this.modules.get(key) === entry) this.modules.delete(key);
    });
    this.modules.set(key, entry);
    return fn;
  }
}
