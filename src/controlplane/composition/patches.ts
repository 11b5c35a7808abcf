import { expandWildcards, FieldPathError, formatFieldPath, getFieldPath, schemaAllowsPath, setFieldPath } from '../fieldpath.js';
import { applyTransforms, goFormat, type Transform } from './transforms.js';
import { jsonClone } from '../../api/clone.js';
import { jsonEqual } from '../../api/equality.js';

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
  policy?: {
    fromFieldPath?: 'Optional' | 'Required';
    /** function-patch-and-transform's policy; MergeObject and AppendArray are its deprecated spellings. */
    toFieldPath?: ToFieldPathPolicy;
    /** The apiextensions.crossplane.io/v1 Resources-mode form that toFieldPath replaced. */
    mergeOptions?: { keepMapValues?: boolean; appendSlice?: boolean };
  };
}

export type ToFieldPathPolicy = 'Replace' | 'MergeObjects' | 'MergeObjectsAppendArrays' | 'ForceMergeObjects' | 'ForceMergeObjectsAppendArrays' | 'MergeObject' | 'AppendArray';

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
  const merge = mergeMode(p);
  const targets = expandWildcards(to, path);
  // Crossplane patches each element a wildcard names, and fails when it names none
  if (!targets.length) throw new FieldPathError(`cannot expand toFieldPath ${path}: no existing field matches it`);
  for (const segs of targets) {
    if (schema && segs[0] !== 'metadata' && !schemaAllowsPath(schema, segs)) {
      throw new FieldPathError(`${path.includes('*') ? formatFieldPath(segs) : path} is not a field of the target's schema`);
    }
    const v = targets.length > 1 ? jsonClone(value) : value;
    setFieldPath(to, segs, merge ? mergeValue(getFieldPath(to, segs), v, merge) : v);
  }
}

/** How a patch merges into what is already at its toFieldPath; undefined means replace it. */
interface MergeMode {
  /** Incoming values win over existing ones (Force...); otherwise only empty fields are filled. */
  override: boolean;
  /** Arrays are appended to rather than kept or replaced. */
  append: boolean;
}

function mergeMode(p: Patch): MergeMode | undefined {
  const policy = p.policy?.toFieldPath;
  if (policy === undefined) {
    // The v1 Resources-mode mergeOptions, read as function-patch-and-transform's migration does.
    const mo = p.policy?.mergeOptions;
    if (!mo) return undefined;
    return { override: !mo.keepMapValues, append: !!mo.appendSlice };
  }
  switch (policy) {
    case 'Replace':
      return undefined;
    case 'MergeObjects':
    case 'MergeObject':
      return { override: false, append: false };
    case 'MergeObjectsAppendArrays':
      return { override: false, append: true };
    case 'ForceMergeObjects':
      return { override: true, append: false };
    case 'ForceMergeObjectsAppendArrays':
    case 'AppendArray':
      return { override: true, append: true };
    default:
      throw new Error(`policy.toFieldPath "${policy}" is not one of Replace, MergeObjects, MergeObjectsAppendArrays, ForceMergeObjects, ForceMergeObjectsAppendArrays`);
  }
}

/**
 * Merges `incoming` into `existing` as Crossplane's field path merge does: objects merge key by
 * key; without override an existing non-empty value (scalar, array or object) is kept and only
 * missing or empty ones ("", 0, false, [], {}) are filled; with append arrays are concatenated,
 * dropping incoming items the existing top-level array already has.
 */
function mergeValue(existing: unknown, incoming: unknown, mode: MergeMode): unknown {
  if (existing === undefined || existing === null || incoming === null) return incoming;
  if (mode.append && Array.isArray(existing) && Array.isArray(incoming)) {
    incoming = incoming.filter((x) => !existing.some((e) => jsonEqual(e, x)));
  }
  const wrapper: Record<string, unknown> = { value: jsonClone(existing) };
  mergeInto(wrapper, { value: incoming }, mode);
  return wrapper.value;
}

function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, mode: MergeMode): void {
  for (const [k, s] of Object.entries(src)) {
    const d = dst[k];
    if (s === null) {
      if (mode.override) dst[k] = null;
    } else if (isObject(s) && isObject(d)) {
      mergeInto(d, s, mode);
    } else if (Array.isArray(s) && mode.append) {
      dst[k] = [...(Array.isArray(d) ? d : []), ...s];
    } else if (mode.override || isEmpty(d)) {
      dst[k] = s;
    }
  }
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
