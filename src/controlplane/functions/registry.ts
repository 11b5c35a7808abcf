import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Resource } from '../../api/types.js';
import { autoReady } from './auto-ready.js';
import { patchAndTransform, type SchemaLookup } from './patch-and-transform.js';
import type { CompositionFunction } from './types.js';

/** The annotation on a `Function` object that names the module implementing it. */
export const MODULE_ANNOTATION = 'pave.dev/module';

const BUILTIN_PACKAGES: [RegExp, string][] = [
  [/function-patch-and-transform/, 'function-patch-and-transform'],
  [/function-auto-ready/, 'function-auto-ready'],
];

/**
 * Resolves a pipeline step's functionRef.name to a function: a built-in, a function registered
 * in code, or a `Function` object (pkg.crossplane.io) whose package is a built-in one or whose
 * `pave.dev/module` annotation names a module to load. Loaded modules are cached by path.
 */
export class FunctionRegistry {
  private byName = new Map<string, CompositionFunction>();
  private modules = new Map<string, Promise<CompositionFunction>>();
  private builtins = new Set<CompositionFunction>();

  constructor(schemas?: SchemaLookup) {
    for (const fn of [patchAndTransform(schemas), autoReady()]) {
      this.builtins.add(fn);
      this.register(fn);
    }
  }

  /** Whether `fn` is one of Pave's own functions, which never mutate their request. */
  isBuiltin(fn: CompositionFunction): boolean {
    return this.builtins.has(fn);
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
    const target = spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(baseDir, spec)).href : spec;
    let p = this.modules.get(target);
    if (!p) {
      p = import(target).then((m: Record<string, any>) => {
        const fn = (m.compositionFunction ?? m.default) as CompositionFunction | undefined;
        if (!fn || typeof fn.run !== 'function') throw new Error(`module ${spec} of Function "${name}" does not export a composition function (default export or "compositionFunction" with a run method)`);
        return fn;
      });
      p.catch(() => this.modules.delete(target));
      this.modules.set(target, p);
    }
    return p;
  }
}
