import { createHash } from 'node:crypto';
import type { ResourceType, TypeRegistry } from '../registry.js';
import { joinApiVersion } from '../types.js';

/** Kubernetes discovery documents (legacy, non-aggregated) and OpenAPI v3 for the served types. */
export class Discovery {
  private openapiCache = new Map<string, { hash: string; doc: unknown }>();

  constructor(private readonly registry: TypeRegistry) {
    registry.onChange(() => this.openapiCache.clear());
  }

  apiVersions() {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
  }

  private groupDoc(name: string, versions: string[]) {
    const sorted = [...versions].sort(compareVersions);
    const gv = sorted.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions: gv, preferredVersion: gv[0] };
  }

  apiGroupList() {
    const groups = [...this.registry.groups()].filter(([g]) => g !== '').sort(([a], [b]) => a.localeCompare(b));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([g, v]) => this.groupDoc(g, v)) };
  }

  apiGroup(group: string) {
    const versions = this.registry.groups().get(group);
    return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...this.groupDoc(group, versions) } : undefined;
  }

  resourceList(group: string, version: string) {
    const types = this.registry.all().filter((t) => t.group === group && t.versions.some((v) => v.served && v.name === version));
    if (!types.length && !(group === '' && version === 'v1')) return undefined;
    const resources: unknown[] = [];
    for (const t of types) {
      const v = t.versions.find((x) => x.name === version)!;
      const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
      const r: Record<string, unknown> = { name: t.plural, singularName: t.singular, namespaced: t.scope === 'Namespaced', kind: t.kind, verbs, storageVersionHash: hash(`${t.group}/${t.plural}`).slice(0, 11) };
      if (t.shortNames.length) r.shortNames = t.shortNames;
      if (t.categories.length) r.categories = t.categories;
      resources.push(r);
      if (v.subresources.status) resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.scope === 'Namespaced', kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: joinApiVersion(group, version), resources };
  }

  /** `/openapi/v3`: one entry per group-version, each with a content hash kubectl caches by. */
  openapiRoot(prefix: string) {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [group, versions] of this.registry.groups()) {
      for (const v of versions) {
        const key = group ? `apis/${group}/${v}` : `api/${v}`;
        paths[key] = { serverRelativeURL: `${prefix}/openapi/v3/${key}?hash=${this.openapi(group, v).hash}` };
      }
    }
    return { paths };
  }

  openapi(group: string, version: string): { hash: string; doc: unknown } {
    const k = `${group}/${version}`;
    let cached = this.openapiCache.get(k);
    if (!cached) {
      const doc = this.buildOpenapi(group, version);
      cached = { hash: hash(JSON.stringify(doc)).toUpperCase(), doc };
      this.openapiCache.set(k, cached);
    }
    return cached;
  }

  private buildOpenapi(group: string, version: string) {
    const types = this.registry.all().filter((t) => t.group === group && t.versions.some((v) => v.served && v.name === version));
    const schemas: Record<string, unknown> = {};
    const paths: Record<string, unknown> = {};
    const root = group ? `/apis/${group}/${version}` : `/api/${version}`;
    for (const t of types) {
      const v = t.versions.find((x) => x.name === version)!;
      const gvk = { group, version, kind: t.kind };
      const ref = schemaName(t, version);
      schemas[ref] = { ...(v.schema ?? { type: 'object' }), 'x-kubernetes-group-version-kind': [gvk] };
      const nsPrefix = t.scope === 'Namespaced' ? '/namespaces/{namespace}' : '';
      const body = { content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } };
      const ok = { responses: { '200': body } };
      const writeParams = [
        { name: 'dryRun', in: 'query', schema: { type: 'string' } },
        { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
        { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
      ];
      const op = (action: string, extra: Record<string, unknown> = {}) => ({ operationId: `${action}${t.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...ok, ...extra });
      paths[`${root}${nsPrefix}/${t.plural}`] = {
        get: op('list'),
        post: op('post', { parameters: writeParams, requestBody: body }),
        delete: op('deletecollection'),
      };
      paths[`${root}${nsPrefix}/${t.plural}/{name}`] = {
        get: op('get'),
        put: op('put', { parameters: writeParams, requestBody: body }),
        patch: op('patch', { parameters: [...writeParams, { name: 'force', in: 'query', schema: { type: 'boolean' } }], requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } } } } }),
        delete: op('delete'),
      };
      if (v.subresources.status) {
        paths[`${root}${nsPrefix}/${t.plural}/{name}/status`] = { get: op('get'), put: op('put', { parameters: writeParams }), patch: op('patch', { parameters: writeParams }) };
      }
    }
    return { openapi: '3.0.0', info: { title: 'Pave', version: joinApiVersion(group, version) }, paths, components: { schemas } };
  }
}

function schemaName(t: ResourceType, version: string): string {
  const g = t.group ? t.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${g}.${version}.${t.kind}`;
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Kubernetes version priority: GA > beta > alpha, then higher numbers first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0, v] as const;
    const stability = m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3;
    return [stability, Number(m[1]), Number(m[3] ?? 0), v] as const;
  };
  const [sa, ma, na, va] = parse(a);
  const [sb, mb, nb, vb] = parse(b);
  return sb - sa || mb - ma || nb - na || va.localeCompare(vb);
}
