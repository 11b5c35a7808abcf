import type { Resource } from '../../api/types.js';
import { getFieldPath, setFieldPath } from '../fieldpath.js';
import { overlay } from '../overlay.js';
import { ENVIRONMENT_KEY } from './patch-and-transform.js';
import { fatal, type CompositionFunction, type ResourceSelector, type RunFunctionRequest, type RunFunctionResponse } from './types.js';

/**
 * The version function-environment-configs asks for, whatever version the configs were written
 * in: Crossplane serves EnvironmentConfig at v1beta1 and v1alpha1 alike.
 */
export const ENVIRONMENT_CONFIG_API_VERSION = 'apiextensions.crossplane.io/v1beta1';
export const ENVIRONMENT_CONFIG_KIND = 'EnvironmentConfig';

/** Where a label's value comes from when selecting EnvironmentConfigs by labels. */
export interface LabelMatcher {
  /** FromCompositeFieldPath when unset. */
  type?: 'Value' | 'FromCompositeFieldPath' | 'FromEnvironmentFieldPath';
  key: string;
  value?: string;
  valueFromFieldPath?: string;
  /** Required when unset: a missing field fails the step; Optional leaves the label out. */
  fromFieldPathPolicy?: 'Optional' | 'Required';
}

/** One entry of spec.environmentConfigs: one config by name, or some by labels. */
export interface EnvironmentSource {
  /** Reference when unset. */
  type?: 'Reference' | 'Selector';
  ref?: { name: string };
  selector?: {
    /** Single when unset. */
    mode?: 'Single' | 'Multiple';
    matchLabels?: LabelMatcher[];
    /** metadata.name when unset; Multiple mode only. */
    sortByFieldPath?: string;
    maxMatch?: number;
    minMatch?: number;
  };
  /** Where in the environment the configs' data goes; its root when unset. */
  toFieldPath?: string;
}

/** The input of function-environment-configs (environmentconfigs.fn.crossplane.io/v1beta1 Input). */
export interface EnvironmentConfigsInput {
  apiVersion?: string;
  kind?: string;
  spec?: {
    environmentConfigs?: EnvironmentSource[] | null;
    defaultData?: Record<string, unknown>;
    /**
     * resolution applies to Reference entries only. resolve (Always | IfNotPresent) is accepted
     * and, as upstream, behaves as Always: the configs are read on every composition.
     */
    policy?: { resolution?: 'Required' | 'Optional'; resolve?: string };
  };
}

/** The name a spec.environmentConfigs entry's objects are asked for under, as upstream names them. */
const requirementName = (i: number) => `environment-config-${i}`;

/**
 * function-environment-configs, built in. It runs in two calls, as upstream does: the first asks
 * for the EnvironmentConfigs each entry names or selects (requirements.extraResources), the
 * second, given them, merges their `data` in the order listed (later wins, objects merged key
 * by key) over the environment already in the context, over spec.defaultData, and puts the
 * result in the context under `apiextensions.crossplane.io/environment` for the steps after it.
 * Every problem is fatal and names the entry (spec.environmentConfigs[i]) and the config, since
 * composing with half an environment would give resources wrong values silently.
 */
export function environmentConfigs(): CompositionFunction {
  return {
    name: 'function-environment-configs',
    run(req: RunFunctionRequest): RunFunctionResponse {
      const unchanged: RunFunctionResponse = { desired: req.desired, context: req.context };
      const spec = (req.input as EnvironmentConfigsInput | undefined)?.spec ?? {};
      // as upstream: without the list there is nothing to do, not even defaultData
      if (spec.environmentConfigs == null) return unchanged;
      if (!Array.isArray(spec.environmentConfigs)) return { ...unchanged, results: [fatal('spec.environmentConfigs must be a list', 'EnvironmentConfigsInvalid')] };
      const sources = spec.environmentConfigs;
      const inputEnvironment = req.context[ENVIRONMENT_KEY] as Record<string, any> | undefined;
      let wanted: Record<string, ResourceSelector>;
      try {
        wanted = requirements(sources, req.observed.composite.resource, inputEnvironment ?? {});
      } catch (e) {
        return { ...unchanged, results: [fatal((e as Error).message, 'EnvironmentConfigsFailed')] };
      }
      // asked for on every call, even one that fails: the composer calls again while this changes
      const asked: RunFunctionResponse = { ...unchanged, requirements: { extraResources: wanted } };
      if (!req.extraResources) return asked;
      try {
        let environment: Record<string, any> = {};
        for (const [i, source] of sources.entries()) {
          const items = req.extraResources[requirementName(i)]?.items;
          // an entry whose labels all came out empty was not asked for: it contributes nothing
          if (!items || !wanted[requirementName(i)]) continue;
          for (const config of chosen(source, i, items.map((it) => it.resource), spec.policy?.resolution)) {
            environment = overlay(environment, placed(config, source.toFieldPath, i)) as Record<string, any>;
          }
        }
        // the order of precedence is upstream's: selected configs, then the context's environment, then defaultData
        if (inputEnvironment && typeof inputEnvironment === 'object') environment = overlay(inputEnvironment, environment) as Record<string, any>;
        if (spec.defaultData) environment = overlay(spec.defaultData, environment) as Record<string, any>;
        if (environment.apiVersion === undefined && environment.kind === undefined) {
          environment = { apiVersion: 'internal.crossplane.io/v1alpha1', kind: 'Environment', ...environment };
        }
        return { ...asked, context: { ...req.context, [ENVIRONMENT_KEY]: environment } };
      } catch (e) {
        return { ...asked, results: [fatal((e as Error).message, 'EnvironmentConfigsFailed')] };
      }
    },
  };
}

/** What each entry asks for; an entry whose label selector came out empty asks for nothing. */
function requirements(sources: EnvironmentSource[], xr: Resource, environment: Record<string, any>): Record<string, ResourceSelector> {
  const out: Record<string, ResourceSelector> = {};
  for (const [i, source] of sources.entries()) {
    const where = `spec.environmentConfigs[${i}]`;
    const type = source?.type || 'Reference';
    if (type === 'Reference') {
      if (!source?.ref?.name) throw new Error(`${where}: a Reference needs ref.name`);
      out[requirementName(i)] = { apiVersion: ENVIRONMENT_CONFIG_API_VERSION, kind: ENVIRONMENT_CONFIG_KIND, matchName: source.ref.name };
    } else if (type === 'Selector') {
      if (!source.selector) throw new Error(`${where}: a Selector needs selector`);
      const labels = selectorLabels(source.selector.matchLabels ?? [], where, xr, environment);
      if (Object.keys(labels).length) out[requirementName(i)] = { apiVersion: ENVIRONMENT_CONFIG_API_VERSION, kind: ENVIRONMENT_CONFIG_KIND, matchLabels: { labels } };
    } else {
      throw new Error(`${where}: type must be Reference or Selector, not "${type}"`);
    }
  }
  return out;
}

function selectorLabels(matchers: LabelMatcher[], where: string, xr: Resource, environment: Record<string, any>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [j, m] of matchers.entries()) {
    const at = `${where}.selector.matchLabels[${j}]`;
    if (!m?.key) throw new Error(`${at}: key is required`);
    const type = m.type || 'FromCompositeFieldPath';
    if (type === 'Value') {
      if (typeof m.value !== 'string') throw new Error(`${at} ("${m.key}"): type Value needs value, a string`);
      labels[m.key] = m.value;
      continue;
    }
    if (type !== 'FromCompositeFieldPath' && type !== 'FromEnvironmentFieldPath') throw new Error(`${at} ("${m.key}"): type must be Value, FromCompositeFieldPath or FromEnvironmentFieldPath, not "${type}"`);
    if (!m.valueFromFieldPath) throw new Error(`${at} ("${m.key}"): type ${type} needs valueFromFieldPath`);
    const fromComposite = type === 'FromCompositeFieldPath';
    const value = getFieldPath(fromComposite ? xr : environment, m.valueFromFieldPath);
    if (typeof value === 'string') {
      labels[m.key] = value;
      continue;
    }
    // Optional leaves this label out; the others still select
    if (m.fromFieldPathPolicy === 'Optional') continue;
    const source = fromComposite ? `the composite resource ${xr.kind} "${xr.metadata.name}"` : 'the environment';
    throw new Error(`${at} ("${m.key}"): ${m.valueFromFieldPath} of ${source} ${value === undefined ? 'is not set' : 'is not a string'} (fromFieldPathPolicy is Required)`);
  }
  return labels;
}

/** The configs an entry contributes, in the order they are merged. */
function chosen(source: EnvironmentSource, i: number, found: Resource[], resolution: string | undefined): Resource[] {
  const where = `spec.environmentConfigs[${i}]`;
  if ((source.type || 'Reference') === 'Reference') {
    const name = source.ref!.name;
    if (!found.length) {
      if (resolution === 'Optional') return [];
      throw new Error(`${where}: EnvironmentConfig "${name}" not found (spec.policy.resolution is Required)`);
    }
    if (found.length > 1) throw new Error(`${where}: expected one EnvironmentConfig named "${name}", found ${found.length}`);
    return found;
  }
  const selector = source.selector!;
  const mode = selector.mode || 'Single';
  if (mode === 'Single') {
    // as upstream, resolution does not apply here: Single means exactly one
    if (found.length !== 1) throw new Error(`${where}: selector.mode Single expects exactly one matching EnvironmentConfig, found ${found.length}${found.length ? `: ${found.map((c) => c.metadata.name).join(', ')}` : ''}`);
    return found;
  }
  if (mode !== 'Multiple') throw new Error(`${where}: selector.mode must be Single or Multiple, not "${mode}"`);
  if (selector.minMatch !== undefined && found.length < selector.minMatch) throw new Error(`${where}: selector.minMatch is ${selector.minMatch}, but only ${found.length} EnvironmentConfigs match`);
  const sorted = sortByFieldPath(found, selector.sortByFieldPath || 'metadata.name', where);
  return selector.maxMatch !== undefined ? sorted.slice(0, selector.maxMatch) : sorted;
}

/**
 * The configs in ascending order of the value at `path`, which must be of one type, string or
 * number; a config without it sorts as "" or 0. Ties keep the order they were found in.
 */
function sortByFieldPath(configs: Resource[], path: string, where: string): Resource[] {
  const keyed = configs.map((c) => ({ c, v: getFieldPath(c, path) }));
  let type: string | undefined;
  for (const { c, v } of keyed) {
    if (v === undefined || v === null) continue;
    const t = typeof v;
    if (t !== 'string' && t !== 'number') throw new Error(`${where}: selector.sortByFieldPath ${path} of EnvironmentConfig "${c.metadata.name}" is ${Array.isArray(v) ? 'a list' : `a ${t}`}; only strings and numbers can be sorted`);
    if (type && t !== type) throw new Error(`${where}: selector.sortByFieldPath ${path} is a ${type} in some EnvironmentConfigs and a ${t} in "${c.metadata.name}"; they cannot be sorted together`);
    type = t;
  }
  if (!type) return configs;
  const zero = type === 'string' ? '' : 0;
  return keyed
    .map(({ c, v }) => ({ c, v: (v ?? zero) as string | number }))
    .sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0))
    .map(({ c }) => c);
}

/** A config's data, at `toFieldPath` of an otherwise empty environment when one is given. */
function placed(config: Resource, toFieldPath: string | undefined, i: number): Record<string, any> {
  const data = config.data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`spec.environmentConfigs[${i}]: data of EnvironmentConfig "${config.metadata.name}" must be an object`);
  if (!toFieldPath) return data;
  const out: Record<string, any> = {};
  try {
    setFieldPath(out, toFieldPath, data);
  } catch (e) {
    throw new Error(`spec.environmentConfigs[${i}]: cannot put the data of EnvironmentConfig "${config.metadata.name}" at toFieldPath ${toFieldPath}: ${(e as Error).message}`);
  }
  return out;
}
