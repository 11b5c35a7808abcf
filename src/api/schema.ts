import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { jsonEqual } from './equality.js';
import type { StatusCause } from './errors.js';

/**
 * Structural OpenAPI v3 schemas, as CRDs carry them, compiled once into a validator that
 * also applies `default`s and prunes unknown fields the way the Kubernetes API server does.
 */
export type OpenApiSchema = Record<string, any>;

export interface SchemaValidator {
  /**
   * Applies defaults, prunes unknown fields (returning their paths) and validates; with `old`,
   * the object being replaced, also the schema's transition rules.
   */
  (obj: Record<string, unknown>, opts?: { strict?: boolean; old?: Record<string, unknown> }): { causes: StatusCause[]; pruned: string[] };
}

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true, coerceTypes: false, validateFormats: true });
(addFormats as unknown as (a: Ajv) => void)(ajv);
for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password', 'quantity', 'int-or-string', 'duration', 'datetime', 'email']) {
  if (!ajv.formats[f]) ajv.addFormat(f, true);
}

/**
 * x-kubernetes-list-type: map: no two items may share the values of the list's map keys, as
 * the API server refuses them (a set is JSON Schema's uniqueItems).
 */
ajv.addKeyword({
  keyword: 'k8sListMapKeys',
  type: 'array',
  schemaType: 'array',
  errors: true,
  validate: function unique(keys: string[], data: unknown[]) {
    const seen = new Set<string>();
    for (let i = 0; i < data.length; i++) {
      const item = data[i] as Record<string, unknown> | null;
      if (!item || typeof item !== 'object') continue;
      const id = JSON.stringify(keys.map((k) => item[k] ?? null));
      if (seen.has(id)) {
        (unique as unknown as { errors: Partial<ErrorObject>[] }).errors = [{ keyword: 'k8sListMapKeys', params: { index: i, keys }, message: 'duplicate' }];
        return false;
      }
      seen.add(id);
    }
    return true;
  },
});

/** Rewrites the Kubernetes extensions ajv does not know into plain JSON Schema. */
function toJsonSchema(s: OpenApiSchema): OpenApiSchema {
  if (!s || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map(toJsonSchema);
  const out: OpenApiSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, toJsonSchema(ps)]));
    } else if (k === 'items' || k === 'additionalProperties' || k === 'not') {
      out[k] = typeof v === 'object' ? toJsonSchema(v) : v;
    } else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') {
      out[k] = (v as OpenApiSchema[]).map(toJsonSchema);
    } else if (k.startsWith('x-kubernetes-') || k === 'x-ui-hidden' || k === 'x-ui-order' || k === 'x-ui-advanced') {
      continue;
    } else {
      out[k] = v;
    }
  }
  if (s['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  const mapKeys = s['x-kubernetes-list-map-keys'];
  if (s['x-kubernetes-list-type'] === 'map' && Array.isArray(mapKeys) && mapKeys.length) out.k8sListMapKeys = mapKeys;
  if (s['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s['x-kubernetes-embedded-resource'] && out.type === 'object') {
    // embedded objects keep their own apiVersion/kind/metadata even when not listed
    out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...(out.properties ?? {}) };
  }
  return out;
}

/** Removes fields the schema does not declare, unless it preserves unknown fields there. */
export function prune(value: unknown, schema: OpenApiSchema | undefined, path: string, pruned: string[], root = false): void {
  if (!schema || value === null || typeof value !== 'object') return;
  // paths are only built for objects to descend into and for fields pruned: most fields are neither
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items && typeof items === 'object') {
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (v !== null && typeof v === 'object') prune(v, items, `${path}[${i}]`, pruned);
      }
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  const props = schema.properties as Record<string, OpenApiSchema> | undefined;
  const addl = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(obj)) {
    if ((root || embedded) && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    let child: OpenApiSchema | undefined;
    if (props && key in props) child = props[key];
    else if (addl && typeof addl === 'object') child = addl;
    else if (addl === true || preserve || (!props && schema.type !== 'object')) continue;
    else {
      pruned.push(path ? `${path}.${key}` : key);
      delete obj[key];
      continue;
    }
    const v = obj[key];
    if (child && v !== null && typeof v === 'object') prune(v, child, path ? `${path}.${key}` : key, pruned);
  }
}

function fieldPath(instancePath: string): string {
  if (!instancePath) return '';
  return instancePath
    .slice(1)
    .split('/')
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg, i) => (/^\d+$/.test(seg) ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join('');
}

function describeValue(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function causesFrom(errors: ErrorObject[] | null | undefined, obj: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    let field = fieldPath(e.instancePath);
    let message: string;
    let reason = 'FieldValueInvalid';
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      field = field ? `${field}.${missing}` : missing;
      message = 'Required value';
      reason = 'FieldValueRequired';
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((a) => JSON.stringify(a)).join(', ');
      message = `Unsupported value: ${describeValue(valueAt(obj, e.instancePath))}: supported values: ${allowed}`;
      reason = 'FieldValueNotSupported';
    } else if (e.keyword === 'uniqueItems' || e.keyword === 'k8sListMapKeys') {
      // the later of two equal items is the duplicate, as the API server names it
      const p = e.params as { i?: number; j?: number; index?: number; keys?: string[] };
      const index = p.index ?? Math.max(p.i ?? 0, p.j ?? 0);
      const item = (valueAt(obj, e.instancePath) as unknown[] | undefined)?.[index] as Record<string, unknown> | undefined;
      field = `${field}[${index}]`;
      message = `Duplicate value: ${describeValue(p.keys && item ? Object.fromEntries(p.keys.map((k) => [k, item[k]])) : item)}`;
      reason = 'FieldValueDuplicate';
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      continue; // the branch errors already say what is wrong
    } else {
      message = `Invalid value: ${describeValue(valueAt(obj, e.instancePath))}: ${e.message ?? e.keyword}`;
    }
    const k = `${field}|${message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    causes.push({ field, message, reason });
  }
  return causes;
}

function valueAt(obj: unknown, pointer: string): unknown {
  if (!pointer) return obj;
  let cur: any = obj;
  for (const seg of pointer.slice(1).split('/')) {
    if (cur == null) return undefined;
    cur = cur[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/**
 * A field no update may change: the place of an x-kubernetes-validations rule `self == oldSelf`,
 * the transition rule Kubernetes schemas write immutability with. Other CEL rules are not
 * evaluated.
 */
interface Immutable {
  path: string[];
  type: string;
  message: string;
}

function immutableFields(schema: OpenApiSchema | undefined, path: string[] = [], out: Immutable[] = []): Immutable[] {
  if (!schema || typeof schema !== 'object') return out;
  for (const r of (schema['x-kubernetes-validations'] ?? []) as { rule?: string; message?: string }[]) {
    if (typeof r?.rule === 'string' && r.rule.replace(/\s+/g, '') === 'self==oldSelf') out.push({ path, type: String(schema.type ?? 'object'), message: r.message ?? `failed rule: ${r.rule}` });
  }
  for (const [k, child] of Object.entries((schema.properties ?? {}) as Record<string, OpenApiSchema>)) immutableFields(child, [...path, k], out);
  return out;
}

function changedImmutable(rules: Immutable[], obj: Record<string, unknown>, old: Record<string, unknown>): StatusCause[] {
  const at = (o: unknown, path: string[]) => path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
  const causes: StatusCause[] = [];
  for (const r of rules) {
    const before = at(old, r.path);
    const after = at(obj, r.path);
    // as in Kubernetes, a transition rule holds when either side lacks the field
    if (before === undefined || after === undefined || jsonEqual(before, after)) continue;
    causes.push({ field: r.path.join('.'), message: `Invalid value: "${r.type}": ${r.message}`, reason: 'FieldValueInvalid' });
  }
  return causes;
}

const cache = new Map<string, ValidateFunction>();

/**
 * Compiles a CRD version schema (the object schema of the whole resource). Compilation is
 * memoised by the schema's JSON text, so re-registering an unchanged CRD costs nothing.
 */
export function compileSchema(schema: OpenApiSchema): SchemaValidator {
  const text = JSON.stringify(schema);
  let validate = cache.get(text);
  if (!validate) {
    const js = toJsonSchema(structuredClone(schema));
    // metadata, apiVersion and kind are validated by the API server itself, not the CRD schema
    if (js.properties) {
      delete js.properties.metadata;
      delete js.properties.apiVersion;
      delete js.properties.kind;
    }
    if (Array.isArray(js.required)) js.required = js.required.filter((r: string) => !['metadata', 'apiVersion', 'kind'].includes(r));
    validate = ajv.compile(js);
    cache.set(text, validate);
  }
  const v = validate;
  const immutable = immutableFields(schema);
  return (obj, opts) => {
    const pruned: string[] = [];
    prune(obj, schema, '', pruned, true);
    v(obj);
    const causes = causesFrom(v.errors, obj);
    if (opts?.old && immutable.length) causes.push(...changedImmutable(immutable, obj, opts.old));
    if (opts?.strict) for (const p of pruned) causes.push({ field: p, message: 'field not declared in schema', reason: 'FieldValueInvalid' });
    return { causes, pruned };
  };
}

/** Checks that a schema compiles; returns a message naming what is wrong, or undefined. */
export function schemaProblem(schema: OpenApiSchema): string | undefined {
  try {
    compileSchema(schema);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
