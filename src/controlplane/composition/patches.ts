import { FieldPathError, getFieldPath, schemaAllowsPath, setFieldPath } from '../fieldpath.js';
import { applyTransforms, goFormat, type Transform } from './transforms.js';
import { jsonClone } from '../../api/clone.js';

/**
 * Crossplane's patches: copy a value between the composite resource (XR) and a composed
 * resource, or between either and the environment, through transforms. A source field that is
 * missing skips the patch unless its policy says Required.
 */
export type PatchType =
  | 'FromCompositeFieldPath'
  | 'ToCompositeFieldPath'
  | 'CombineFromComposite'
  | 'CombineToComposite'
  | 'FromEnvironmentFieldPath'
  | 'ToEnvironmentFieldPath'
  | 'CombineFromEnvironment'
  | 'CombineToEnvironment'
  | 'PatchSet';

export interface Patch {
  type?: PatchType;
  fromFieldPath?: string;
  toFieldPath?: string;
  patchSetName?: string;
  combine?: { variables: { fromFieldPath: string }[]; strategy?: 'string'; string?: { fmt: string } };
  transforms?: Transform[];
  policy?: { fromFieldPath?: 'Optional' | 'Required'; toFieldPath?: 'Replace' | 'MergeObjects' | 'MergeObjectsAppendArrays' | 'ForceMergeObjects' | 'ForceMergeObjectsAppendArrays' };
}

export interface PatchSet {
  name: string;
  patches: Patch[];
}

/** The three objects a patch may read or write, and the composed type's schema, if known. */
export interface PatchTargets {
  composite: Record<string, any>;
  composed: Record<string, any>;
  environment: Record<string, any>;
  composedSchema?: Record<string, any>;
}

export class PatchError extends Error {}

/**
 * A Required patch whose source field is not set. Not a failure of the composition: Crossplane
 * holds back creating the composed resource until the field appears, and otherwise skips the patch.
 */
export class RequiredFieldMissingError extends PatchError {}

/** Which direction a patch writes: composed-bound patches run before, composite-bound after observing. */
export function patchDirection(p: Patch): 'toComposed' | 'toComposite' | 'toEnvironment' {
  const t = p.type ?? 'FromCompositeFieldPath';
  if (t === 'ToCompositeFieldPath' || t === 'CombineToComposite') return 'toComposite';
  if (t === 'ToEnvironmentFieldPath' || t === 'CombineToEnvironment') return 'toEnvironment';
  return 'toComposed';
}

/** Replaces PatchSet patches by the patches of the named set; an unknown set is an error. */
export function expandPatchSets(patches: Patch[] | undefined, sets: PatchSet[] | undefined): { patch: Patch; index: string }[] {
  const out: { patch: Patch; index: string }[] = [];
  (patches ?? []).forEach((p, i) => {
    if ((p.type ?? 'FromCompositeFieldPath') !== 'PatchSet') {
      out.push({ patch: p, index: String(i) });
      return;
    }
    const set = (sets ?? []).find((s) => s.name === p.patchSetName);
    if (!set) throw new PatchError(`patch ${i} (PatchSet): no patch set named "${p.patchSetName}" in spec.patchSets`);
    set.patches.forEach((sp, j) => out.push({ patch: sp, index: `${i}.${j}` }));
  });
  return out;
}

/** Applies one patch. Throws PatchError naming `label` (e.g. `patch 2`) and the field. */
export function applyPatch(p: Patch, label: string, t: PatchTargets): void {
  const type = p.type ?? 'FromCompositeFieldPath';
  const what = `${label} (${type}${p.fromFieldPath ? ` from ${p.fromFieldPath}` : ''}${p.toFieldPath ? ` to ${p.toFieldPath}` : ''})`;
  try {
    switch (type) {
      case 'FromCompositeFieldPath':
        return copy(p, t.composite, t.composed, t.composedSchema);
      case 'ToCompositeFieldPath':
        return copy(p, t.composed, t.composite);
      case 'FromEnvironmentFieldPath':
        return copy(p, t.environment, t.composed, t.composedSchema);
      case 'ToEnvironmentFieldPath':
        return copy(p, t.composed, t.environment);
      case 'CombineFromComposite':
        return combine(p, t.composite, t.composed, t.composedSchema);
      case 'CombineToComposite':
        return combine(p, t.composed, t.composite);
      case 'CombineFromEnvironment':
        return combine(p, t.environment, t.composed, t.composedSchema);
      case 'CombineToEnvironment':
        return combine(p, t.composed, t.environment);
      default:
        throw new Error(`unknown patch type "${type}"`);
    }
  } catch (e) {
    if (e instanceof MissingSource) throw new RequiredFieldMissingError(`${what}: ${e.message}`);
    throw new PatchError(`${what}: ${(e as Error).message}`);
  }
}

/**
 * Applies one patch of a composition's spec.environment.patches. These move values between the
 * XR and the environment only: From/CombineFrom the (observed) composite write the environment,
 * To/CombineTo the composite write the desired composite from the environment.
 */
export function applyEnvironmentPatch(p: Patch, label: string, t: { composite: Record<string, any>; desiredComposite: Record<string, any>; environment: Record<string, any> }): void {
  const type = p.type ?? 'FromCompositeFieldPath';
  const what = `${label} (${type}${p.fromFieldPath ? ` from ${p.fromFieldPath}` : ''}${p.toFieldPath ? ` to ${p.toFieldPath}` : ''})`;
  try {
    switch (type) {
      case 'FromCompositeFieldPath':
      case 'ToEnvironmentFieldPath':
        return copy(p, t.composite, t.environment);
      case 'CombineFromComposite':
        return combine(p, t.composite, t.environment);
      case 'ToCompositeFieldPath':
      case 'FromEnvironmentFieldPath':
        return copy(p, t.environment, t.desiredComposite);
      case 'CombineToComposite':
        return combine(p, t.environment, t.desiredComposite);
      default:
        throw new Error(`type ${type} cannot be used in spec.environment.patches; use FromCompositeFieldPath, ToCompositeFieldPath, CombineFromComposite or CombineToComposite`);
    }
  } catch (e) {
    if (e instanceof MissingSource) throw new RequiredFieldMissingError(`${what}: ${e.message}`);
    throw new PatchError(`${what}: ${(e as Error).message}`);
  }
}

class MissingSource extends Error {}

function copy(p: Patch, from: Record<string, any>, to: Record<string, any>, toSchema?: Record<string, any>): void {
  if (!p.fromFieldPath) throw new Error('fromFieldPath is required');
  const value = getFieldPath(from, p.fromFieldPath);
  if (value === undefined) {
    if (p.policy?.fromFieldPath === 'Required') throw new MissingSource(`required field ${p.fromFieldPath} is not set`);
    return;
  }
  write(p, to, p.toFieldPath ?? p.fromFieldPath, applyTransforms(jsonClone(value), p.transforms), toSchema);
}

function combine(p: Patch, from: Record<string, any>, to: Record<string, any>, toSchema?: Record<string, any>): void {
  const c = p.combine;
  if (!c?.variables?.length) throw new Error('combine.variables must list at least one variable');
  if (!p.toFieldPath) throw new Error('toFieldPath is required');
  if ((c.strategy ?? 'string') !== 'string') throw new Error(`unknown combine strategy "${c.strategy}"`);
  if (!c.string?.fmt) throw new Error('combine.string.fmt is required');
  const values = c.variables.map((v) => getFieldPath(from, v.fromFieldPath));
  const missing = c.variables.filter((_, i) => values[i] === undefined).map((v) => v.fromFieldPath);
  if (missing.length) {
    if (p.policy?.fromFieldPath === 'Required') throw new MissingSource(`required field${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set`);
    return;
  }
  write(p, to, p.toFieldPath, applyTransforms(goFormat(c.string.fmt, values), p.transforms), toSchema);
}

function write(p: Patch, to: Record<string, any>, path: string, value: unknown, schema?: Record<string, any>): void {
  if (schema && !path.startsWith('metadata') && !schemaAllowsPath(schema, path)) {
    throw new FieldPathError(`${path} is not a field of the target's schema`);
  }
  const mode = p.policy?.toFieldPath ?? 'Replace';
  if (mode !== 'Replace') {
    const existing = getFieldPath(to, path);
    const force = mode.startsWith('Force');
    const append = mode.endsWith('AppendArrays');
    value = mergeValues(existing, value, force, append);
  }
  setFieldPath(to, path, value);
}

function mergeValues(existing: unknown, incoming: unknown, force: boolean, append: boolean): unknown {
  if (Array.isArray(existing) && Array.isArray(incoming)) return append ? [...existing, ...incoming.filter((x) => !existing.some((e) => JSON.stringify(e) === JSON.stringify(x)))] : incoming;
  if (isObject(existing) && isObject(incoming)) {
    const out: Record<string, unknown> = { ...existing };
    for (const [k, v] of Object.entries(incoming)) {
      if (k in out && !force && !isObject(out[k]) && !Array.isArray(out[k])) continue;
      out[k] = k in out ? mergeValues(out[k], v, force, append) : v;
    }
    return out;
  }
  return existing === undefined || force ? incoming : existing;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
