import type { ControllerSpec } from '../runtime/controller.js';
import { MODULE_ANNOTATION, type FunctionRegistry } from './functions/registry.js';
import type { CompositionFunction } from './functions/types.js';
import { activePackage, PKG_API, unhealthyPackage, writePackageStatus } from './provider-packages.js';

/**
 * Reconciles Crossplane Function objects (either version; both are stored as v1) by resolving
 * them through the registry the composition pipeline uses, so that what a Function reports is
 * what a pipeline step naming it would get:
 * - a built-in package (or a function registered in code) is Installed and Healthy;
 * - a `pave.dev/module` annotation is Installed, and Healthy when its module loads and exports a
 *   composition function, with the loader's error otherwise;
 * - anything else is Installed=False and Healthy=False, with a Warning Event.
 * The object is kept as written. Its status follows changes to the object, not to the module
 * file: a file fixed in place is used by the next pipeline run, and reported here when the
 * Function is next reconciled (an edit, or a restart).
 */
export function functionPackageController(functions: FunctionRegistry): ControllerSpec {
  return {
    name: 'function-packages',
    for: { apiVersion: PKG_API, kind: 'Function' },
    generationChangedOnly: true,
    async reconcile(key, ctx) {
      const cached = ctx.informers.get(PKG_API, 'Function').get(key);
      if (!cached || cached.metadata.deletionTimestamp) return;
      const ref: string = typeof cached.spec?.package === 'string' ? cached.spec.package : '';
      const module = cached.metadata.annotations?.[MODULE_ANNOTATION];
      let fn: CompositionFunction;
      try {
        fn = await functions.resolve(key, cached);
      } catch (e) {
        const message = (e as Error).message;
        ctx.recorder.event(cached, 'Warning', 'InstallPackageRevision', message);
        if (!module) {
          await writePackageStatus(ctx, cached, unhealthyPackage(`package "${ref}" is not one of Pave's built-in functions, and no ${MODULE_ANNOTATION} annotation names a module for it`, message));
          return;
        }
        // Installed stays True, as Crossplane keeps it for a package whose runtime fails: the
        // object is accepted and is what pipeline steps naming it use. Only its module is broken,
        // and a module file fixed in place is picked up without any change to the object.
        await writePackageStatus(ctx, cached, activePackage(key, ref, false, message));
        return;
      }
      const served = module
        ? `served by the composition function that ${MODULE_ANNOTATION} "${module}" exports`
        : `served by ${fn.name}, which is ${functions.isBuiltin(fn) ? 'built into Pave' : 'registered with Pave in code'}`;
      await writePackageStatus(ctx, cached, activePackage(key, ref, true, served));
    },
  };
}
