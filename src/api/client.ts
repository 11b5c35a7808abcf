import { SYSTEM, type RequestContext, type UserInfo } from './admission.js';
import type { PatchType } from './patch.js';
import type { DeleteOptions, ResourceService, Target } from './service.js';
import type { Resource, ResourceList, WatchEvent } from './types.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ClientListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ClientWatchOptions extends ClientListOptions {
  resourceVersion?: string;
}

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
}

export interface ClientPatchOptions extends WriteOptions {
  force?: boolean;
  subresource?: 'status';
}

/** What discovery says about a type: enough to address it and to print it. */
export interface TypeInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
}

export interface Watch {
  stop(): void;
  /** Resolves when the stream ends: stopped, server closed it, or an error (then rejects). */
  done: Promise<void>;
}

/**
 * The one client interface for Pave's API. Controllers take a Client and run unchanged
 * against the embedded server (InProcessClient, no serialisation) or a remote one (HttpClient).
 * Failures are ApiErrors carrying the server's Status. What a write returns is read-only: in
 * process it is the stored object itself, frozen (copy it to change it).
 */
export interface Client {
  get<T extends Resource = Resource>(ref: ObjectRef): Promise<T>;
  list<T extends Resource = Resource>(apiVersion: string, kind: string, opts?: ClientListOptions): Promise<ResourceList<T>>;
  create<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T>;
  /** Replaces the object; fails with 409 if metadata.resourceVersion is stale. */
  update<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T>;
  updateStatus<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T>;
  /**
   * Replaces the object and its status: in process one write, so watchers see one change; over
   * HTTP an update, then a status update.
   */
  updateWithStatus<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T>;
  patch<T extends Resource = Resource>(ref: ObjectRef, type: PatchType, patch: unknown, opts?: ClientPatchOptions): Promise<T>;
  /** Server-side apply of `obj` as `opts.fieldManager`. */
  apply<T extends Resource = Resource>(obj: T, opts: ClientPatchOptions & { fieldManager: string }): Promise<T>;
  delete(ref: ObjectRef, opts?: DeleteOptions & WriteOptions): Promise<Resource>;
  watch(apiVersion: string, kind: string, opts: ClientWatchOptions, onEvent: (e: WatchEvent) => void): Promise<Watch>;
  types(): Promise<TypeInfo[]>;
}

/** The fast path: calls the ResourceService directly, through the same admission chain. */
export class InProcessClient implements Client {
  constructor(
    private readonly service: ResourceService,
    private readonly user: UserInfo = SYSTEM,
  ) {}

  /** The same client acting as another user (admission sees that user). */
  as(user: UserInfo): InProcessClient {
    return new InProcessClient(this.service, user);
  }

  private ctx(opts?: WriteOptions & { fieldManager?: string }): RequestContext {
    return { user: this.user, dryRun: opts?.dryRun, fieldManager: opts?.fieldManager };
  }

  private t(apiVersion: string, kind: string, namespace?: string, name?: string): Target {
    return this.service.target(apiVersion, kind, namespace ?? '', name);
  }

  async get<T extends Resource = Resource>(ref: ObjectRef): Promise<T> {
    return (await this.service.get(this.t(ref.apiVersion, ref.kind, ref.namespace), ref.name, this.ctx())) as T;
  }

  async list<T extends Resource = Resource>(apiVersion: string, kind: string, opts: ClientListOptions = {}): Promise<ResourceList<T>> {
    const t = this.t(apiVersion, kind, opts.namespace);
    if (!opts.namespace) t.namespace = '';
    return (await this.service.list(t, opts, this.ctx())) as ResourceList<T>;
  }

  async create<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.service.create(this.t(obj.apiVersion, obj.kind, obj.metadata?.namespace), obj, this.ctx(opts))) as T;
  }

  async update<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.service.update(this.t(obj.apiVersion, obj.kind, obj.metadata?.namespace, obj.metadata?.name), obj, this.ctx(opts))) as T;
  }

  async updateStatus<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.service.update(this.t(obj.apiVersion, obj.kind, obj.metadata?.namespace, obj.metadata?.name), obj, this.ctx(opts), 'status')) as T;
  }

  async updateWithStatus<T extends Resource = Resource>(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.service.update(this.t(obj.apiVersion, obj.kind, obj.metadata?.namespace, obj.metadata?.name), obj, this.ctx(opts), 'with-status')) as T;
  }

  async patch<T extends Resource = Resource>(ref: ObjectRef, type: PatchType, patch: unknown, opts: ClientPatchOptions = {}): Promise<T> {
    return (await this.service.patch(this.t(ref.apiVersion, ref.kind, ref.namespace, ref.name), ref.name, type, patch, this.ctx(opts), { force: opts.force, subresource: opts.subresource })) as T;
  }

  async apply<T extends Resource = Resource>(obj: T, opts: ClientPatchOptions & { fieldManager: string }): Promise<T> {
    return this.patch<T>({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata?.namespace, name: obj.metadata.name! }, 'apply', obj, opts);
  }

  async delete(ref: ObjectRef, opts: DeleteOptions & WriteOptions = {}): Promise<Resource> {
    return this.service.delete(this.t(ref.apiVersion, ref.kind, ref.namespace), ref.name, this.ctx(opts), opts);
  }

  async watch(apiVersion: string, kind: string, opts: ClientWatchOptions, onEvent: (e: WatchEvent) => void): Promise<Watch> {
    const t = this.t(apiVersion, kind, opts.namespace);
    if (!opts.namespace) t.namespace = '';
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const stop = await this.service.watch(t, opts, onEvent, this.ctx());
    return {
      stop: () => {
        stop();
        finish();
      },
      done,
    };
  }

  async types(): Promise<TypeInfo[]> {
    return this.service.registry.all().flatMap((t) =>
      t.versions.filter((v) => v.served).map((v) => ({ group: t.group, version: v.name, kind: t.kind, plural: t.plural, singular: t.singular, shortNames: t.shortNames, namespaced: t.scope === 'Namespaced' })),
    );
  }
}
