import { EntityError, entityRef, parseEntityRef, stringifyEntityRef, type Entity } from './entity.js';

/** The well-known relation pairs: each forward type and its reverse. */
export const RELATION_PAIRS: [string, string][] = [
  ['ownedBy', 'ownerOf'],
  ['providesApi', 'apiProvidedBy'],
  ['consumesApi', 'apiConsumedBy'],
  ['dependsOn', 'dependencyOf'],
  ['partOf', 'hasPart'],
  ['childOf', 'parentOf'],
  ['memberOf', 'hasMember'],
];

const REVERSE = new Map<string, string>();
for (const [a, b] of RELATION_PAIRS) {
  REVERSE.set(a, b);
  REVERSE.set(b, a);
}

/** One directed relation between two refs (both as stringifyEntityRef writes them). */
export interface Relation {
  source: string;
  type: string;
  target: string;
}

/** spec field → the relation it expresses from this entity, and the kind a bare name defaults to. */
interface FieldRule {
  field: string;
  type: string;
  defaultKind?: string;
}

const RULES: Record<string, FieldRule[]> = {
  component: [
    { field: 'owner', type: 'ownedBy', defaultKind: 'Group' },
    { field: 'system', type: 'partOf', defaultKind: 'System' },
    { field: 'subcomponentOf', type: 'partOf', defaultKind: 'Component' },
    { field: 'providesApis', type: 'providesApi', defaultKind: 'API' },
    { field: 'consumesApis', type: 'consumesApi', defaultKind: 'API' },
    { field: 'dependsOn', type: 'dependsOn' },
    { field: 'dependencyOf', type: 'dependencyOf' },
  ],
  api: [
    { field: 'owner', type: 'ownedBy', defaultKind: 'Group' },
    { field: 'system', type: 'partOf', defaultKind: 'System' },
  ],
  resource: [
    { field: 'owner', type: 'ownedBy', defaultKind: 'Group' },
    { field: 'system', type: 'partOf', defaultKind: 'System' },
    { field: 'dependsOn', type: 'dependsOn' },
    { field: 'dependencyOf', type: 'dependencyOf' },
  ],
  system: [
    { field: 'owner', type: 'ownedBy', defaultKind: 'Group' },
    { field: 'domain', type: 'partOf', defaultKind: 'Domain' },
  ],
  domain: [
    { field: 'owner', type: 'ownedBy', defaultKind: 'Group' },
    { field: 'subdomainOf', type: 'partOf', defaultKind: 'Domain' },
  ],
  group: [
    { field: 'parent', type: 'childOf', defaultKind: 'Group' },
    { field: 'children', type: 'parentOf', defaultKind: 'Group' },
    { field: 'members', type: 'hasMember', defaultKind: 'User' },
  ],
  user: [{ field: 'memberOf', type: 'memberOf', defaultKind: 'Group' }],
  template: [{ field: 'owner', type: 'ownedBy', defaultKind: 'Group' }],
};

/**
 * Every relation an entity's spec implies, in both directions: `A ownedBy B` is emitted with
 * `B ownerOf A`, so B shows the relation even though B's own file does not mention A.
 * A ref that cannot be parsed is an error naming the field.
 */
export function relationsOf(e: Entity): Relation[] {
  const rules = RULES[e.kind.toLowerCase()];
  if (!rules || !e.spec) return [];
  const self = entityRef(e);
  const out: Relation[] = [];
  for (const rule of rules) {
    const value = e.spec[rule.field];
    if (value === undefined || value === null || value === '') continue;
    for (const [i, v] of (Array.isArray(value) ? value : [value]).entries()) {
      let target: string;
      try {
        target = stringifyEntityRef(parseEntityRef(v, { defaultKind: rule.defaultKind, defaultNamespace: e.metadata.namespace }));
      } catch (err) {
        const where = Array.isArray(value) ? `spec.${rule.field}[${i}]` : `spec.${rule.field}`;
        throw new EntityError(`${where}: ${(err as Error).message}`, where);
      }
      out.push({ source: self, type: rule.type, target });
      out.push({ source: target, type: REVERSE.get(rule.type)!, target: self });
    }
  }
  return out;
}
