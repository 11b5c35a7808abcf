import { createHash } from 'node:crypto';

/**
 * Backstage's entity envelope. Entities are stored as resources (see kinds.ts); this is the
 * shape the catalog API serves and that catalog-info.yaml files contain.
 */
export interface EntityLink {
  url: string;
  title?: string;
  icon?: string;
  type?: string;
}

export interface EntityMeta {
  name: string;
  namespace?: string;
  title?: string;
  description?: string;
  uid?: string;
  etag?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tags?: string[];
  links?: EntityLink[];
  [field: string]: unknown;
}

export interface EntityRelation {
  type: string;
  targetRef: string;
}

export interface StatusItem {
  type: string;
  level: 'info' | 'warning' | 'error';
  message: string;
  error?: { name: string; message: string };
}

export interface Entity {
  apiVersion: string;
  kind: string;
  metadata: EntityMeta;
  spec?: Record<string, any>;
  relations?: EntityRelation[];
  status?: { items?: StatusItem[] };
}

export interface CompoundRef {
  kind: string;
  namespace: string;
  name: string;
}

export const DEFAULT_NAMESPACE = 'default';
export const ANNOTATION_LOCATION = 'backstage.io/managed-by-location';
export const ANNOTATION_ORIGIN_LOCATION = 'backstage.io/managed-by-origin-location';
export const ANNOTATION_ORPHAN = 'backstage.io/orphan';
/** Annotations under this prefix are Pave's bookkeeping: stored, never served. */
export const INTERNAL_PREFIX = 'catalog.pave.dev/';

/** An error in an entity or ref that names the field a user has to fix. */
export class EntityError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * Parses `[kind:][namespace/]name`. Missing parts come from the defaults; a ref without a kind
 * and no default kind is an error, because Backstage could not resolve it either.
 */
export function parseEntityRef(ref: string | CompoundRef, defaults: { defaultKind?: string; defaultNamespace?: string } = {}): CompoundRef {
  if (typeof ref === 'object' && ref !== null) {
    const kind = ref.kind ?? defaults.defaultKind;
    if (!kind || !ref.name) throw new EntityError(`entity reference ${JSON.stringify(ref)} needs a kind and a name`);
    return { kind, namespace: ref.namespace ?? defaults.defaultNamespace ?? DEFAULT_NAMESPACE, name: ref.name };
  }
  if (typeof ref !== 'string' || !ref) throw new EntityError(`entity reference must be a non-empty string, got ${JSON.stringify(ref)}`);
  const colon = ref.indexOf(':');
  const slash = ref.indexOf('/');
  let kind: string | undefined;
  let rest = ref;
  // a colon after the slash belongs to the name, not to a kind
  if (colon > 0 && (slash < 0 || colon < slash)) {
    kind = ref.slice(0, colon);
    rest = ref.slice(colon + 1);
  } else if (colon === 0) throw new EntityError(`entity reference "${ref}" has an empty kind`);
  let namespace: string | undefined;
  const s = rest.indexOf('/');
  if (s >= 0) {
    namespace = rest.slice(0, s);
    rest = rest.slice(s + 1);
    if (!namespace) throw new EntityError(`entity reference "${ref}" has an empty namespace`);
  }
  if (!rest) throw new EntityError(`entity reference "${ref}" has an empty name`);
  kind ??= defaults.defaultKind;
  if (!kind) throw new EntityError(`entity reference "${ref}" has no kind and no default kind applies; write it as kind:${ref}`);
  return { kind, namespace: namespace ?? defaults.defaultNamespace ?? DEFAULT_NAMESPACE, name: rest };
}

/** `kind:namespace/name` with kind and namespace lowercased, as Backstage writes refs. */
export function stringifyEntityRef(ref: CompoundRef): string {
  return `${ref.kind.toLowerCase()}:${(ref.namespace || DEFAULT_NAMESPACE).toLowerCase()}/${ref.name}`;
}

/** The identity key: refs compare case-insensitively. */
export function refKey(ref: CompoundRef | string): string {
  return (typeof ref === 'string' ? ref : stringifyEntityRef(ref)).toLowerCase();
}

export function entityRef(e: Pick<Entity, 'kind' | 'metadata'>): string {
  return stringifyEntityRef({ kind: e.kind, namespace: e.metadata.namespace ?? DEFAULT_NAMESPACE, name: e.metadata.name });
}

const NAME = /^([a-zA-Z0-9]+[-_.])*[a-zA-Z0-9]+$/;
const NAMESPACE = /^[a-z0-9]+(-+[a-z0-9]+)*$/;
const KIND = /^[a-zA-Z][a-zA-Z0-9]*$/;
const API_VERSION = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TAG = /^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$/;

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'its prefix must be a lowercase DNS subdomain';
  if (!name || name.length > 63 || !NAME.test(name)) return "its name part must be 1-63 characters of [a-zA-Z0-9] separated by single '-', '_' or '.'";
  return undefined;
}

/** The per-kind spec rules Backstage's built-in kinds enforce: required string fields and list fields. */
const SPEC_RULES: Record<string, { required: string[]; lists?: string[]; strings?: string[] }> = {
  component: { required: ['type', 'lifecycle', 'owner'], lists: ['providesApis', 'consumesApis', 'dependsOn', 'dependencyOf'], strings: ['system', 'subcomponentOf'] },
  api: { required: ['type', 'lifecycle', 'owner', 'definition'], strings: ['system'] },
  resource: { required: ['type', 'owner'], lists: ['dependsOn', 'dependencyOf'], strings: ['system'] },
  system: { required: ['owner'], strings: ['domain'] },
  domain: { required: ['owner'], strings: ['subdomainOf'] },
  group: { required: ['type'], lists: ['children', 'members'], strings: ['parent'] },
  user: { required: [], lists: ['memberOf'] },
  location: { required: [], lists: ['targets'], strings: ['type', 'target', 'presence'] },
  template: { required: ['type'], strings: ['owner'] },
};

export const KNOWN_API_VERSIONS: Record<string, string[]> = {
  template: ['scaffolder.backstage.io/v1beta3'],
};
const BACKSTAGE_VERSIONS = ['backstage.io/v1alpha1', 'backstage.io/v1beta1'];

/**
 * Checks an entity against Backstage's envelope rules and the built-in kinds' schemas.
 * Returns every problem with its field path; an empty list means valid.
 */
export function entityProblems(e: unknown): EntityError[] {
  const out: EntityError[] = [];
  const bad = (field: string, message: string) => out.push(new EntityError(`${field}: ${message}`, field));
  if (!e || typeof e !== 'object' || Array.isArray(e)) return [new EntityError('the entity must be an object')];
  const ent = e as Entity;
  if (typeof ent.apiVersion !== 'string' || !API_VERSION.test(ent.apiVersion)) bad('apiVersion', `must be "group/version", got ${JSON.stringify(ent.apiVersion)}`);
  if (typeof ent.kind !== 'string' || !KIND.test(ent.kind) || ent.kind.length > 63) bad('kind', `must be a word starting with a letter, got ${JSON.stringify(ent.kind)}`);
  const m = ent.metadata;
  if (!m || typeof m !== 'object' || Array.isArray(m)) {
    bad('metadata', 'is required and must be an object');
    return out;
  }
  if (typeof m.name !== 'string' || !m.name) bad('metadata.name', 'is required');
  else if (m.name.length > 63 || !NAME.test(m.name)) bad('metadata.name', `"${m.name}" must be 1-63 characters of [a-zA-Z0-9] separated by single '-', '_' or '.'`);
  if (m.namespace !== undefined && (typeof m.namespace !== 'string' || m.namespace.length > 63 || !NAMESPACE.test(m.namespace))) {
    bad('metadata.namespace', `${JSON.stringify(m.namespace)} must be a lowercase DNS label (a-z, 0-9 and '-')`);
  }
  for (const f of ['title', 'description'] as const) if (m[f] !== undefined && typeof m[f] !== 'string') bad(`metadata.${f}`, 'must be a string');
  for (const f of ['labels', 'annotations'] as const) {
    const map = m[f];
    if (map === undefined) continue;
    if (!map || typeof map !== 'object' || Array.isArray(map)) {
      bad(`metadata.${f}`, 'must be a map of strings');
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      const p = keyProblem(k);
      if (p) bad(`metadata.${f}`, `key "${k}" is invalid: ${p}`);
      if (typeof v !== 'string') bad(`metadata.${f}.${k}`, 'must be a string');
      else if (f === 'labels' && v !== '' && (v.length > 63 || !NAME.test(v))) bad(`metadata.labels.${k}`, `value "${v}" must be 1-63 characters of [a-zA-Z0-9] separated by single '-', '_' or '.'`);
    }
  }
  if (m.tags !== undefined) {
    if (!Array.isArray(m.tags)) bad('metadata.tags', 'must be a list of strings');
    else m.tags.forEach((t, i) => {
      if (typeof t !== 'string' || t.length > 63 || !TAG.test(t)) bad(`metadata.tags[${i}]`, `${JSON.stringify(t)} must be 1-63 characters of [a-z0-9:+#] separated by single '-'`);
    });
  }
  if (m.links !== undefined) {
    if (!Array.isArray(m.links)) bad('metadata.links', 'must be a list');
    else m.links.forEach((l, i) => {
      if (!l || typeof l !== 'object' || typeof l.url !== 'string' || !l.url) bad(`metadata.links[${i}].url`, 'is required');
    });
  }
  const kind = typeof ent.kind === 'string' ? ent.kind.toLowerCase() : '';
  const rules = SPEC_RULES[kind];
  if (rules && typeof ent.apiVersion === 'string') {
    const versions = KNOWN_API_VERSIONS[kind] ?? BACKSTAGE_VERSIONS;
    if (!versions.includes(ent.apiVersion)) bad('apiVersion', `kind ${ent.kind} is served as ${versions.join(' or ')}, not ${ent.apiVersion}`);
    const spec = ent.spec;
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
      if (kind !== 'user' || spec !== undefined) bad('spec', 'is required and must be an object');
      return out;
    }
    for (const f of rules.required) {
      if (f === 'definition' && spec[f] !== undefined && spec[f] !== null) continue;
      if (typeof spec[f] !== 'string' || !spec[f]) bad(`spec.${f}`, 'is required and must be a non-empty string');
    }
    for (const f of rules.lists ?? []) if (spec[f] !== undefined && (!Array.isArray(spec[f]) || spec[f].some((x: unknown) => typeof x !== 'string'))) bad(`spec.${f}`, 'must be a list of strings');
    for (const f of rules.strings ?? []) if (spec[f] !== undefined && typeof spec[f] !== 'string') bad(`spec.${f}`, 'must be a string');
    if (kind === 'api' && spec.definition !== undefined && typeof spec.definition !== 'string') bad('spec.definition', 'must be a string (use $text to read it from a file)');
    if (kind === 'group' && spec.children === undefined) bad('spec.children', 'is required (use [] for none)');
    if (kind === 'location' && !spec.target && !spec.targets) bad('spec.target', 'a Location needs spec.target or spec.targets');
    if (kind === 'template' && !Array.isArray(spec.steps)) bad('spec.steps', 'is required and must be a list');
  }
  return out;
}

/** Fills Backstage's defaults: the default namespace, and empty maps a reader expects. */
export function withDefaults(e: Entity): Entity {
  e.metadata.namespace ??= DEFAULT_NAMESPACE;
  return e;
}

const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * The resource name an entity is stored under. Entity names may use capitals and '_', which
 * resource names may not; identity is case-insensitive, so the lowercased name is the key, and
 * names that still don't fit get a hash suffix (the real name is kept in an annotation).
 */
export function resourceNameFor(entityName: string): string {
  const lower = entityName.toLowerCase();
  if (RESOURCE_NAME.test(lower) && !lower.includes('..')) return lower;
  const base = lower.replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'entity';
  return `${base.slice(0, 200)}-${createHash('sha1').update(lower).digest('hex').slice(0, 8)}`;
}
