import { Agent, request } from 'undici';
import type { ClientListOptions, ClientPatchOptions, ClientWatchOptions, Client, ObjectRef, TypeInfo, Watch, WriteOptions } from './client.js';
import { ApiError } from './errors.js';
import { jsonEqual } from './equality.js';
import type { PatchType } from './patch.js';
import type { DeleteOptions } from './service.js';
import { splitApiVersion, type Resource, type ResourceList, type WatchEvent } from './types.js';

const PATCH_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface HttpClientOptions {
  /** The Kubernetes-compatible root, e.g. http://127.0.0.1:7007/k8s */
  server: string;
  token?: string;
  connections?: number;
}

/** The Client over HTTP, for controllers and the CLI talking to a Pave server elsewhere. */
export class HttpClient implements Client {
  private readonly base: string;
  private readonly agent: Agent;
  private typeCache?: Promise<TypeInfo[]>;

  constructor(private readonly opts: HttpClientOptions) {
    this.base = opts.server.replace(/\/+$/, '');
    this.agent = new Agent({ connections: opts.connections ?? 16, keepAliveTimeout: 30_000 });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  /** Sends a request and returns the parsed JSON body, or throws the server's Status as an ApiError. */
  async call<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json', accept?: string): Promise<T> {
    let res;
    try {
      res = await request(this.base + path, {
        method: method as 'GET',
        dispatcher: this.agent,
        headers: this.headers({ ...(body === undefined ? {} : { 'content-type': contentType }), ...(accept ? { accept } : {}) }),
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(503, 'ServiceUnavailable', `cannot reach the Pave server at ${this.base}: ${(e as Error).message}`);
    }
    const text = await res.body.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.statusCode >= 400) {
      if (parsed?.kind === 'Status') throw ApiError.fromStatus(parsed, res.statusCode);
      // Backstage-shaped errors (the catalog and scaffolder APIs) carry theirs in error.message
      if (typeof parsed?.error?.message === 'string') throw new ApiError(res.statusCode, res.statusCode === 404 ? 'NotFound' : res.statusCode < 500 ? 'BadRequest' : 'InternalError', parsed.error.message);
      throw new ApiError(res.statusCode, res.statusCode === 404 ? 'NotFound' : 'InternalError', `${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    return parsed as T;
  }

  async types(): Promise<TypeInfo[]> {
    this.typeCache ??= this.discover().catch((e) => {
      this.typeCache = undefined;
      throw e;
    });
    return this.typeCache;
  }

  /** Forgets cached discovery, e.g. after applying a CRD. */
  invalidate(): void {
    this.typeCache = undefined;
  }

  private async discover(): Promise<TypeInfo[]> {
    const out: TypeInfo[] = [];
    const add = (group: string, version: string, list: { resources: any[] }) => {
      for (const r of list.resources) {
        if (r.name.includes('/')) continue;
        out.push({ group, version, kind: r.kind, plural: r.name, singular: r.singularName || r.kind.toLowerCase(), shortNames: r.shortNames ?? [], namespaced: r.namespaced });
      }
    };
    add('', 'v1', await this.call('GET', '/api/v1'));
    const groups = await this.call<{ groups: { name: string; versions: { version: string }[] }[] }>('GET', '/apis');
    await Promise.all(
      groups.groups.flatMap((g) => g.versions.map(async (v) => add(g.name, v.version, await this.call('GET', `/apis/${g.name}/${v.version}`)))),
    );
    return out;
  }

  private async typeFor(apiVersion: string, kind: string): Promise<TypeInfo> {
    const { group, version } = splitApiVersion(apiVersion);
    const find = (types: TypeInfo[]) => types.find((t) => t.group === group && t.version === version && t.kind === kind);
    let t = find(await this.types());
    if (!t) {
      this.invalidate();
      t = find(await this.types());
    }
    if (!t) throw new ApiError(404, 'NotFound', `no kind "${kind}" is registered for version "${apiVersion}"`);
    return t;
  }

  /** The collection path for a type, optionally in a namespace. */
  async path(apiVersion: string, kind: string, namespace?: string, name?: string, sub?: string): Promise<string> {
    const t = await this.typeFor(apiVersion, kind);
    const root = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
    // a named object of a namespaced type without a namespace lives in `default`, as kubectl assumes
    const nsPart = t.namespaced && (namespace || name) ? `/namespaces/${encodeURIComponent(namespace || 'default')}` : '';
    return `${root}${nsPart}/${t.plural}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
  }

  private query(q: Record<string, string | number | boolean | undefined>): string {
    const parts = Object.entries(q)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
    return parts.length ? `?${parts.join('&')}` : '';
  }

  private writeQuery(opts?: WriteOptions & { force?: boolean }): string {
    return this.query({ fieldManager: opts?.fieldManager, dryRun: opts?.dryRun ? 'All' : undefined, force: opts?.force ? 'true' : undefined });
  }

  async get<T extends Resource = Resource>(ref: ObjectRef): Promise<T> {
    return this.call<T>('GET', await this.path(ref.apiVersion, ref.kind, ref.namespace, ref.name));
  }

  async list<T extends Resource = Resource>(apiVersion: string, kind: string, opts: ClientListOptions = {}): Promise<ResourceList<T>> {
    const q = this.query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue });
    return this.call<ResourceList<T>>('GET', (await this.path(apiVersion, kind, opts.namespace)) + q);
  }

  async create<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    const t = await this.typeFor(obj.apiVersion, obj.kind);
    return this.call<T>('POST', (await this.path(obj.apiVersion, obj.kind, t.namespaced ? obj.metadata.namespace ?? 'default' : undefined)) + this.writeQuery(opts), obj);
  }

  async update<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call<T>('PUT', (await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name)) + this.writeQuery(opts), obj);
  }

  async updateStatus<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call<T>('PUT', (await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, 'status')) + this.writeQuery(opts), obj);
  }

  async updateWithStatus<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    const stored = await this.update(obj, opts);
    // a type without a status subresource took the status with the object
    if (jsonEqual(stored.status ?? {}, obj.status ?? {})) return stored;
    return this.updateStatus({ ...stored, status: obj.status }, opts);
  }

  async patch<T extends Resource = Resource>(ref: ObjectRef, type: PatchType, patch: unknown, opts: ClientPatchOptions = {}): Promise<T> {
    const path = await this.path(ref.apiVersion, ref.kind, ref.namespace, ref.name, opts.subresource);
    return this.call<T>('PATCH', path + this.writeQuery(opts), patch, PATCH_TYPES[type]);
  }

  async apply<T extends Resource = Resource>(obj: T, opts: ClientPatchOptions & { fieldManager: string }): Promise<T> {
    return this.patch<T>({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name! }, 'apply', obj, opts);
  }

  async delete(ref: ObjectRef, opts: DeleteOptions & WriteOptions = {}): Promise<Resource> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts.propagationPolicy, preconditions: opts.preconditions };
    return this.call<Resource>('DELETE', (await this.path(ref.apiVersion, ref.kind, ref.namespace, ref.name)) + this.writeQuery(opts), body);
  }

  async watch(apiVersion: string, kind: string, opts: ClientWatchOptions, onEvent: (e: WatchEvent) => void): Promise<Watch> {
    const q = this.query({ watch: 'true', resourceVersion: opts.resourceVersion, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, allowWatchBookmarks: 'true' });
    const url = this.base + (await this.path(apiVersion, kind, opts.namespace)) + q;
    const ac = new AbortController();
    const res = await request(url, { method: 'GET', dispatcher: this.agent, headers: this.headers(), signal: ac.signal });
    if (res.statusCode >= 400) {
      const text = await res.body.text();
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw parsed?.kind === 'Status' ? ApiError.fromStatus(parsed, res.statusCode) : new ApiError(res.statusCode, 'InternalError', text.slice(0, 200));
    }
    const done = (async () => {
      let buf = '';
      try {
        for await (const chunk of res.body) {
          buf += chunk.toString('utf8');
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const e = JSON.parse(line) as WatchEvent;
            if (e.type === 'ERROR') throw ApiError.fromStatus(e.object as any, (e.object as any).code ?? 500);
            onEvent(e);
          }
        }
      } catch (e) {
        if (ac.signal.aborted) return;
        throw e;
      }
    })();
    done.catch(() => undefined);
    return { stop: () => ac.abort(), done };
  }
}
