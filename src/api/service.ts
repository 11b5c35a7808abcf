import { randomBytes, randomUUID } from 'node:crypto';
import { Admission, SYSTEM, type RequestContext, type Verb } from './admission.js';
import { serverSideApply } from './apply.js';
import { ApiError } from './errors.js';
import { jsonPatch, mergePatch, strategicMergePatch, type PatchType } from './patch.js';
import { storageVersion, typeFromCrd, TypeRegistry, type ResourceType, type TypeVersion } from './registry.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, type Requirement } from './selectors.js';
import type { Store, StoreEvent } from './store/store.js';
import { joinApiVersion, type ObjectKey, type Resource, type ResourceList, type WatchEvent } from './types.js';
import { metadataProblems } from './validation.js';
import { jsonEqual } from './equality.js';
import { jsonClone, jsonCloneExcept } from './clone.js';
import { timestamp as now } from './timestamp.js';

/** Where a request points: a type at a version, a namespace ('' for cluster scope), maybe a name. */
export interface Target {
  type: ResourceType;
  version: string;
  namespace: string;
  name?: string;
}

export interface ListOptions {
  labelSelector?: string | Requirement[];
  fieldSelector?: string | Requirement[];
  limit?: number;
  continue?: string;
}

export interface WatchOptions extends ListOptions {
  /** Resume after this revision. Unset or '0': first an ADDED event for every existing object. */
  resourceVersion?: string;
  sendInitialEvents?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface PatchOptions {
  subresource?: 'status';
  force?: boolean;
}

const CRD_GROUP = 'apiextensions.k8s.io';

/**
 * The resource API's semantics over a Store: admission, defaulting, validation, optimistic
 * concurrency, generation, finalizers and deletion, server-side apply and watch. HTTP and the
 * in-process client are both thin layers over this class.
 */
export class ResourceService {
  readonly admission: Admission;
  private namespaces = new Set<string>();
  private stopNamespaceWatch?: () => void;

  constructor(
    readonly store: Store,
    readonly registry: TypeRegistry,
    admission?: Admission,
  ) {
    this.admission = admission ?? new Admission();
  }

  /** Loads CRD-defined types and the namespace set, and makes sure `default` exists. */
  async start(): Promise<void> {
    const crds = await this.store.list(CRD_GROUP, 'customresourcedefinitions');
    for (const crd of crds.items) {
      try {
        this.registry.register(typeFromCrd(crd));
      } catch {
        // an invalid stored CRD stays stored but serves nothing; its status says why
      }
    }
    const ns = await this.store.list('', 'namespaces');
    for (const n of ns.items) this.namespaces.add(n.metadata.name!);
    this.stopNamespaceWatch = this.store.watch({ fromRevision: ns.revision, group: '', resource: 'namespaces' }, (e) => {
      if (e.type === 'DELETED') this.namespaces.delete(e.object.metadata.name!);
      else this.namespaces.add(e.object.metadata.name!);
    });
    for (const name of ['default', 'pave-system']) {
      if (!this.namespaces.has(name)) {
        await this.create(this.target('v1', 'Namespace', ''), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { user: SYSTEM }).catch((e) => {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
        });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopNamespaceWatch?.();
  }

  /** A target from apiVersion + kind (the client-side way of addressing). */
  target(apiVersion: string, kind: string, namespace = '', name?: string): Target {
    const type = this.registry.require(apiVersion, kind);
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    return { type, version, namespace: type.scope === 'Namespaced' ? namespace || 'default' : '', name };
  }

  private key(t: Target, name: string): ObjectKey {
    return { group: t.type.group, resource: t.type.plural, namespace: t.type.scope === 'Namespaced' ? t.namespace : '', name };
  }

  private apiVersion(t: Target): string {
    return joinApiVersion(t.type.group, t.version);
  }

  /**
   * Objects are stored at the storage version; readers see the version they asked for. A stored
   * object is shared (and frozen), so a copy carries another version.
   */
  private present<T extends Resource>(t: Target, obj: T): T {
    const apiVersion = this.apiVersion(t);
    return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
  }

  private authorize(ctx: RequestContext, verb: Verb, t: Target, name?: string): void {
    this.admission.authorize(ctx, verb, t.type, t.namespace, name);
  }

  async get(t: Target, name: string, ctx: RequestContext = { user: SYSTEM }): Promise<Resource> {
    this.authorize(ctx, 'get', t, name);
    const obj = await this.store.get(this.key(t, name));
    if (!obj) throw ApiError.notFound(t.type.plural, name, t.type.group);
    return this.present(t, obj);
  }

  /**
   * The object as JSON text, when it can be served exactly as stored (the storage version was
   * asked for and the store keeps it as plaintext); otherwise undefined, and the caller uses get.
   */
  async getText(t: Target, name: string, ctx: RequestContext = { user: SYSTEM }): Promise<string | undefined> {
    if (!this.store.getText || t.version !== storageVersion(t.type).name) return undefined;
    this.authorize(ctx, 'get', t, name);
    return this.store.getText(this.key(t, name));
  }

  async list(t: Target, opts: ListOptions = {}, ctx: RequestContext = { user: SYSTEM }): Promise<ResourceList> {
    this.authorize(ctx, 'list', t);
    const labels = typeof opts.labelSelector === 'string' ? parseLabelSelector(opts.labelSelector) : opts.labelSelector ?? [];
    const fields = typeof opts.fieldSelector === 'string' ? parseFieldSelector(opts.fieldSelector) : opts.fieldSelector ?? [];
    const res = await this.store.list(t.type.group, t.type.plural, {
      namespace: t.type.scope === 'Namespaced' ? t.namespace || undefined : undefined,
      labels,
      fields,
      limit: opts.limit,
      continue: opts.continue,
    });
    const apiVersion = this.apiVersion(t);
    for (const item of res.items) item.apiVersion = apiVersion;
    const meta: ResourceList['metadata'] = { resourceVersion: String(res.revision) };
    if (res.continue) meta.continue = res.continue;
    return { apiVersion, kind: t.type.listKind, metadata: meta, items: res.items };
  }

  create(t: Target, body: Resource, ctx: RequestContext = { user: SYSTEM }): Promise<Resource> {
    return this.insert(t, body, ctx, false);
  }

  /** create, for a body that is the request's own copy (`owned`: nothing else holds it) or the caller's. */
  private async insert(t: Target, body: Resource, ctx: RequestContext, owned: boolean): Promise<Resource> {
    const dropsStatus = !!this.version(t)?.subresources.status && t.type.group !== CRD_GROUP;
    const obj = this.checkBody(t, body, owned ? 'owned' : dropsStatus ? 'without-status' : 'whole');
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + randomBytes(4).toString('hex').slice(0, 5);
    this.authorize(ctx, 'create', t, obj.metadata.name);
    if (t.type.scope === 'Namespaced' && !this.namespaces.has(t.namespace)) {
      throw new ApiError(404, 'NotFound', `namespaces "${t.namespace}" not found: create the namespace before creating ${t.type.kind} "${obj.metadata.name}" in it`, { name: t.namespace, kind: 'namespaces' });
    }
    const meta = obj.metadata;
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    if (dropsStatus) delete obj.status;
    // as Kubernetes' namespace strategy does: kubectl's STATUS column reads it
    if (t.type.group === '' && t.type.kind === 'Namespace') obj.status = { phase: 'Active' };
    this.normalise(t, obj);
    this.validate(t, obj, ctx);
    if (this.admission.hasPolicies) await this.admission.run({ operation: 'CREATE', type: t.type, object: obj, ctx });
    if (t.type.group === CRD_GROUP) this.prepareCrd(obj);
    if (ctx.dryRun) return this.present(t, obj);
    const stored = await this.store.create(this.key(t, meta.name!), obj);
    if (t.type.group === CRD_GROUP) this.registry.register(typeFromCrd(stored));
    return this.present(t, stored);
  }

  /**
   * PUT: replaces the object (or, with subresource 'status', only its status). 'with-status' is
   * the in-process controllers' own: object and status replaced together, in one write.
   */
  async update(t: Target, body: Resource, ctx: RequestContext = { user: SYSTEM }, subresource?: UpdateScope): Promise<Resource> {
    const incoming = this.checkBody(t, body, this.keptByUpdate(t, subresource));
    const name = incoming.metadata.name!;
    if (t.name && t.name !== name) throw ApiError.badRequest(`the name in the body ("${name}") does not match the name in the URL ("${t.name}")`);
    this.authorize(ctx, 'update', t, name);
    const existing = await this.current(t, name);
    if (!existing) throw ApiError.notFound(t.type.plural, name, t.type.group);
    const rv = incoming.metadata.resourceVersion;
    if (rv && rv !== existing.metadata.resourceVersion) {
      throw ApiError.conflict(t.type.plural, name, 'the object has been modified; please apply your changes to the latest version and try again', t.type.group);
    }
    return this.writeUpdate(t, existing, incoming, ctx, subresource);
  }

  async patch(t: Target, name: string, type: PatchType, patch: unknown, ctx: RequestContext = { user: SYSTEM }, opts: PatchOptions = {}): Promise<Resource> {
    this.authorize(ctx, 'patch', t, name);
    for (let attempt = 0; ; attempt++) {
      const existing = await this.current(t, name);
      try {
        if (type === 'apply') return await this.applyPatch(t, name, existing, patch as Resource, ctx, opts);
        if (!existing) throw ApiError.notFound(t.type.plural, name, t.type.group);
        // the patch functions never change their target, so the copy is made once, by checkBody
        const base = { ...existing, apiVersion: this.apiVersion(t), metadata: { ...existing.metadata } };
        let next: Resource;
        if (type === 'merge') next = mergePatch(base, patch) as Resource;
        else if (type === 'strategic') next = strategicMergePatch(base, patch) as Resource;
        else next = jsonPatch(base, patch) as Resource;
        if (!next || typeof next !== 'object' || typeof next.metadata !== 'object' || next.metadata === null) {
          throw ApiError.badRequest(`the patch leaves ${t.type.kind} "${name}" without metadata`);
        }
        const patchRv = (patch as Resource)?.metadata?.resourceVersion;
        if (type !== 'json' && patchRv && patchRv !== existing.metadata.resourceVersion) {
          throw ApiError.conflict(t.type.plural, name, 'the object has been modified; please apply your changes to the latest version and try again', t.type.group);
        }
        next.metadata.resourceVersion = existing.metadata.resourceVersion;
        return await this.writeUpdate(t, existing, this.checkBody(t, next, this.keptByUpdate(t, opts.subresource)), ctx, opts.subresource);
      } catch (e) {
        // a patch without a resourceVersion of its own is retried against the newer object
        const ownRv = type !== 'json' && (patch as Resource)?.metadata?.resourceVersion;
        if (e instanceof ApiError && e.reason === 'Conflict' && !ownRv && attempt < 5 && !e.details?.causes?.some((c) => c.reason === 'FieldManagerConflict')) continue;
        throw e;
      }
    }
  }

  private async applyPatch(t: Target, name: string, existing: Resource | undefined, config: Resource, ctx: RequestContext, opts: PatchOptions): Promise<Resource> {
    if (!config || typeof config !== 'object') throw ApiError.badRequest('an apply patch must be an object');
    const manager = ctx.fieldManager;
    if (!manager) throw ApiError.badRequest('fieldManager is required for apply patch requests');
    const cfg = this.checkBody(t, { ...config, metadata: { ...(config.metadata ?? {}), name: config.metadata?.name ?? name } });
    const statusSub = !!this.version(t)?.subresources.status;
    if (!existing) {
      const created = serverSideApply(undefined, cfg, manager, !!opts.force, statusSub, now());
      created.metadata.name = name;
      if (t.type.scope === 'Namespaced') created.metadata.namespace = t.namespace;
      // serverSideApply built `created` from copies: it is this request's own
      return this.insert(t, created, ctx, true);
    }
    if (cfg.metadata.resourceVersion && cfg.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      throw ApiError.conflict(t.type.plural, name, 'the object has been modified; please apply your changes to the latest version and try again', t.type.group);
    }
    // serverSideApply copies what it changes, and the applied config sets apiVersion. When status
    // is a subresource writeUpdate puts the stored status back, so it is not copied here: null
    // keeps its place, so the keys stay in their order.
    const live = statusSub && opts.subresource !== 'status' && existing.status !== undefined ? { ...existing, status: null } : existing;
    const merged = serverSideApply(live, cfg, manager, !!opts.force, statusSub && opts.subresource !== 'status', now());
    merged.metadata.resourceVersion = existing.metadata.resourceVersion;
    return this.writeUpdate(t, existing, merged, ctx, opts.subresource, true);
  }

  /** The stored object before a write: shared with the store's cache, so only read, never changed or returned. */
  private current(t: Target, name: string): Promise<Resource | undefined> {
    const key = this.key(t, name);
    return this.store.getShared ? this.store.getShared(key) : this.store.get(key);
  }

  private async writeUpdate(t: Target, existing: Resource, incoming: Resource, ctx: RequestContext, scope?: UpdateScope, keepManagedFields = false): Promise<Resource> {
    const subresource = scope === 'status' ? scope : undefined;
    const statusSub = !!this.version(t)?.subresources.status;
    let next: Resource;
    if (subresource === 'status') {
      if (!statusSub) throw ApiError.notFound(`${t.type.plural}/status`, existing.metadata.name!, t.type.group);
      // only status and metadata's own fields change below, so the rest is shared with the stored
      // object, which nothing changes; admission policies may change any part, so they get a copy
      next = this.admission.hasPolicies ? jsonCloneExcept(existing, 'status') : { ...existing, metadata: { ...existing.metadata } };
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      if (statusSub && scope !== 'with-status') {
        if (existing.status === undefined) delete next.status;
        else next.status = jsonClone(existing.status);
      }
      const m = next.metadata;
      const o = existing.metadata;
      m.uid = o.uid;
      m.creationTimestamp = o.creationTimestamp;
      m.namespace = o.namespace;
      if (o.deletionTimestamp) {
        m.deletionTimestamp = o.deletionTimestamp;
        m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
        const added = (m.finalizers ?? []).filter((f) => !(o.finalizers ?? []).includes(f));
        if (added.length) {
          throw ApiError.invalid(t.type.kind, o.name!, [{ field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }], t.type.group);
        }
      } else {
        delete m.deletionTimestamp;
        delete m.deletionGracePeriodSeconds;
      }
      if (!keepManagedFields && m.managedFields === undefined && o.managedFields) m.managedFields = o.managedFields;
    }
    next.metadata.generation = existing.metadata.generation ?? 1;
    this.normalise(t, next);
    if (subresource !== 'status') this.validate(t, next, ctx, existing);
    const change = updateChange(existing, next, statusSub);
    if (change === 'spec') next.metadata.generation = (existing.metadata.generation ?? 1) + 1;
    // admission policies and the CRD strategy may change the object after it was compared
    const policies = this.admission.hasPolicies;
    const compareAgain = policies || t.type.group === CRD_GROUP;
    // what nothing after this point changes may be shared with the stored object
    if (!compareAgain && change !== 'none' && subresource !== 'status') shareUnchanged(existing, next);
    if (policies) await this.admission.run({ operation: 'UPDATE', type: t.type, subresource, object: next, oldObject: existing, ctx });
    if (t.type.group === CRD_GROUP) this.prepareCrd(next);
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (compareAgain ? sameObject(existing, next) : change === 'none') return this.present(t, jsonClone(existing));
    // next may share parts with the stored object (see above): the caller gets its own copy
    if (ctx.dryRun) return this.present(t, subresource === 'status' ? jsonClone(next) : next);
    const key = this.key(t, existing.metadata.name!);
    const expected = Number(existing.metadata.resourceVersion);
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
      // the last finalizer is gone: the deletion that was waiting for it completes now
      const deleted = await this.store.delete(key, expected, existing);
      this.afterDelete(t, deleted);
      return this.present(t, deleted);
    }
    const stored = await this.store.update(key, next, expected, existing);
    if (t.type.group === CRD_GROUP) this.registry.register(typeFromCrd(stored));
    return this.present(t, stored);
  }

  /** DELETE: removes the object, or marks it for deletion while finalizers remain. */
  async delete(t: Target, name: string, ctx: RequestContext = { user: SYSTEM }, opts: DeleteOptions = {}): Promise<Resource> {
    this.authorize(ctx, 'delete', t, name);
    for (let attempt = 0; ; attempt++) {
      const existing = await this.store.get(this.key(t, name));
      if (!existing) throw ApiError.notFound(t.type.plural, name, t.type.group);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== existing.metadata.uid) {
        throw ApiError.conflict(t.type.plural, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`, t.type.group);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
        throw ApiError.conflict(t.type.plural, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`, t.type.group);
      }
      if (this.admission.hasPolicies) await this.admission.run({ operation: 'DELETE', type: t.type, oldObject: existing, ctx });
      const finalizers = [...(existing.metadata.finalizers ?? [])];
      const policy = opts.propagationPolicy ?? (t.type.kind === 'Namespace' && t.type.group === '' ? 'Background' : 'Background');
      if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (t.type.group === '' && t.type.kind === 'Namespace' && !finalizers.includes('kubernetes')) finalizers.push('kubernetes');
      if (t.type.group === CRD_GROUP && !finalizers.includes('customresourcecleanup.apiextensions.k8s.io')) finalizers.push('customresourcecleanup.apiextensions.k8s.io');
      if (ctx.dryRun) return this.present(t, existing);
      const key = this.key(t, name);
      const expected = Number(existing.metadata.resourceVersion);
      try {
        if (!finalizers.length) {
          const deleted = await this.store.delete(key, expected, existing);
          this.afterDelete(t, deleted);
          return this.present(t, deleted);
        }
        if (existing.metadata.deletionTimestamp && sameList(finalizers, existing.metadata.finalizers ?? [])) return this.present(t, existing);
        const next = jsonClone(existing);
        next.metadata.finalizers = finalizers;
        next.metadata.deletionTimestamp ??= now();
        next.metadata.deletionGracePeriodSeconds = 0;
        if (t.type.group === '' && t.type.kind === 'Namespace') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
        return this.present(t, await this.store.update(key, next, expected, existing));
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'Conflict' && !pre?.resourceVersion && attempt < 5) continue;
        throw e;
      }
    }
  }

  async deleteCollection(t: Target, opts: ListOptions & DeleteOptions = {}, ctx: RequestContext = { user: SYSTEM }): Promise<ResourceList> {
    this.authorize(ctx, 'deletecollection', t);
    const list = await this.list(t, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }, ctx);
    const items: Resource[] = [];
    for (const item of list.items) {
      try {
        items.push(await this.delete(t, item.metadata.name!, ctx, { propagationPolicy: opts.propagationPolicy }));
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return { ...list, items };
  }

  /**
   * Streams changes. Without a resourceVersion (or with '0') the stream starts with an ADDED
   * event per existing object, as Kubernetes does. Returns a function that stops the watch.
   */
  async watch(t: Target, opts: WatchOptions, onEvent: (e: WatchEvent) => void, ctx: RequestContext = { user: SYSTEM }): Promise<() => void> {
    this.authorize(ctx, 'watch', t);
    const labels = typeof opts.labelSelector === 'string' ? parseLabelSelector(opts.labelSelector) : opts.labelSelector ?? [];
    const fields = typeof opts.fieldSelector === 'string' ? parseFieldSelector(opts.fieldSelector) : opts.fieldSelector ?? [];
    const apiVersion = this.apiVersion(t);
    const namespace = t.type.scope === 'Namespaced' ? t.namespace || undefined : undefined;
    const rv = opts.resourceVersion;
    let from: number;
    const initial: Resource[] = [];
    if (!rv || rv === '0' || opts.sendInitialEvents) {
      const list = await this.store.list(t.type.group, t.type.plural, { namespace, labels, fields });
      from = list.revision;
      initial.push(...list.items);
    } else {
      from = Number(rv);
      if (!Number.isInteger(from) || from < 0) throw ApiError.badRequest(`invalid resourceVersion "${rv}"`);
    }
    const view = (o: Resource): Resource => (o.apiVersion === apiVersion ? o : { ...o, apiVersion });
    const stop = this.store.watch({ fromRevision: from, group: t.type.group, resource: t.type.plural, namespace }, (e: StoreEvent) => {
      const now = matchesLabels(e.object.metadata.labels, labels) && matchesFields(e.object, fields);
      const before = e.previous ? matchesLabels(e.previous.metadata.labels, labels) && matchesFields(e.previous, fields) : false;
      // an object that moves into or out of the selection is seen as added or deleted, as in Kubernetes
      if (e.type === 'MODIFIED' && now !== before) onEvent({ type: now ? 'ADDED' : 'DELETED', object: view(e.object) });
      else if (now) onEvent({ type: e.type, object: view(e.object) });
    });
    for (const o of initial) onEvent({ type: 'ADDED', object: view(o) });
    return stop;
  }

  /** The version a request addresses; undefined when the type does not have it. */
  private version(t: Target): TypeVersion | undefined {
    const versions = t.type.versions;
    // most types have one version: no closure for find
    if (versions.length === 1) return versions[0]!.name === t.version ? versions[0] : undefined;
    return versions.find((v) => v.name === t.version);
  }

  /** Which part of an update's body the write keeps (see writeUpdate), so checkBody copies only that. */
  private keptByUpdate(t: Target, scope?: UpdateScope): BodyPart {
    if (scope === 'status') return 'status';
    if (scope === 'with-status') return 'whole';
    return this.version(t)?.subresources.status ? 'without-status' : 'whole';
  }

  /**
   * Checks a request body against its target and returns the caller's own copy to write, its
   * envelope (apiVersion, kind, namespace, name) set from the target. Only the part the write
   * keeps is copied ('owned': nothing, the body is already the request's own copy, made from
   * JSON values only): with 'status' the copy has the envelope, a shallow copy of metadata
   * (to be read, not changed) and the status; with 'without-status' its status is left
   * undefined, for the caller to replace or delete.
   */
  private checkBody(t: Target, body: Resource, part: BodyPart = 'whole'): Resource {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw ApiError.badRequest(`the request body must be a ${t.type.kind} object`);
    const expected = this.apiVersion(t);
    if (body.kind !== undefined && body.kind !== t.type.kind) {
      throw ApiError.badRequest(`the body's kind "${body.kind}" does not match the resource "${t.type.plural}" (kind ${t.type.kind})`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== expected) {
      const ok = t.type.versions.some((v) => v.served && joinApiVersion(t.type.group, v.name) === body.apiVersion);
      if (!ok) throw ApiError.badRequest(`the body's apiVersion "${body.apiVersion}" does not match "${expected}"`);
    }
    if (body.metadata !== undefined && (typeof body.metadata !== 'object' || body.metadata === null || Array.isArray(body.metadata))) {
      throw ApiError.invalid(t.type.kind, '', [{ field: 'metadata', message: 'Invalid value: must be an object' }], t.type.group);
    }
    let obj: Resource;
    if (part === 'owned') obj = body;
    else if (part === 'whole') obj = jsonClone(body);
    else if (part === 'without-status') obj = jsonCloneExcept(body, 'status');
    else obj = { apiVersion: expected, kind: t.type.kind, metadata: { ...body.metadata }, status: jsonClone(body.status) };
    obj.apiVersion = expected;
    obj.kind = t.type.kind;
    obj.metadata ??= {};
    if (t.type.scope === 'Namespaced') {
      if (obj.metadata.namespace && t.namespace && obj.metadata.namespace !== t.namespace) {
        throw ApiError.badRequest(`the namespace of the object ("${obj.metadata.namespace}") does not match the namespace of the request ("${t.namespace}")`);
      }
      obj.metadata.namespace = t.namespace || obj.metadata.namespace || 'default';
    } else delete obj.metadata.namespace;
    if (t.name && !obj.metadata.name) obj.metadata.name = t.name;
    return obj;
  }

  /** Type-specific normalisation: the parts of each built-in's strategy that Pave needs. */
  private normalise(t: Target, obj: Resource): void {
    if (t.type.group === '' && t.type.kind === 'Secret') {
      if (obj.stringData && typeof obj.stringData === 'object') {
        obj.data = { ...(obj.data ?? {}) };
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        delete obj.stringData;
      }
      obj.type ??= 'Opaque';
    }
    obj.apiVersion = joinApiVersion(t.type.group, storageVersion(t.type).name);
  }

  /** `old`, on an update, is the object being replaced: its schema's transition rules compare the two. */
  private validate(t: Target, obj: Resource, ctx: RequestContext, old?: Resource): void {
    const isNamespace = t.type.group === '' && t.type.kind === 'Namespace';
    const causes = metadataProblems(obj.metadata, t.type.scope === 'Namespaced', isNamespace);
    const version = this.version(t);
    if (version?.validator) {
      const strict = ctx.fieldValidation === 'Strict';
      const r = version.validator(obj as Record<string, unknown>, { strict, old: old as Record<string, unknown> | undefined });
      causes.push(...r.causes);
      if (r.pruned.length && ctx.fieldValidation === 'Warn') (ctx.warnings ??= []).push(...r.pruned.map((p) => `unknown field "${p}"`));
    }
    if (t.type.group === '' && t.type.kind === 'Secret' && obj.data) {
      for (const [k, v] of Object.entries(obj.data as Record<string, unknown>)) {
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) causes.push({ field: `data[${k}]`, message: 'Invalid value: must be base64-encoded', reason: 'FieldValueInvalid' });
      }
    }
    if (causes.length) throw ApiError.invalid(t.type.kind, obj.metadata.name ?? '', causes, t.type.group);
  }

  /** CRDs are checked and marked Established in the same write that stores them. */
  private prepareCrd(obj: Resource): void {
    const t = typeFromCrd(obj);
    const clash = this.registry.all().find((x) => x.group === t.group && x.kind === t.kind && x.crd !== obj.metadata.name);
    if (clash) throw ApiError.invalid('CustomResourceDefinition', obj.metadata.name!, [{ field: 'spec.names.kind', message: `kind ${t.kind} is already served in group ${t.group} by ${clash.crd ?? 'a built-in type'}` }], CRD_GROUP);
    for (const v of t.versions) {
      try {
        this.registry.compile(v);
      } catch (e) {
        throw ApiError.invalid('CustomResourceDefinition', obj.metadata.name!, [{ field: `spec.versions[${v.name}].schema.openAPIV3Schema`, message: `cannot be compiled: ${(e as Error).message}` }], CRD_GROUP);
      }
    }
    const ts = now();
    const names = obj.spec.names;
    obj.status = {
      acceptedNames: { kind: names.kind, listKind: names.listKind ?? `${names.kind}List`, plural: names.plural, singular: names.singular ?? String(names.kind).toLowerCase(), shortNames: names.shortNames, categories: names.categories },
      storedVersions: t.versions.filter((v) => v.storage).map((v) => v.name),
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: obj.status?.conditions?.find((c: { type: string }) => c.type === 'NamesAccepted')?.lastTransitionTime ?? ts },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: obj.status?.conditions?.find((c: { type: string }) => c.type === 'Established')?.lastTransitionTime ?? ts },
      ],
    };
  }

  private afterDelete(t: Target, deleted: Resource): void {
    if (t.type.group === CRD_GROUP) {
      const type = typeFromCrdSafe(deleted);
      if (type) this.registry.unregister(type.group, type.plural);
    }
  }

  /** Used by the namespace and CRD cleanup controllers: every namespaced type's objects in `ns`. */
  namespacedTypes(): ResourceType[] {
    return this.registry.all().filter((t) => t.scope === 'Namespaced');
  }
}

function typeFromCrdSafe(crd: Resource): ResourceType | undefined {
  try {
    return typeFromCrd(crd);
  } catch {
    return undefined;
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

type BodyPart = 'whole' | 'without-status' | 'status' | 'owned';

/** What an update replaces besides the object: only its status, or its status as well. */
export type UpdateScope = 'status' | 'with-status';

/** True when a write would store nothing new: resourceVersion and managedFields times aside. */
function sameObject(a: Resource, b: Resource): boolean {
  return jsonEqual(a, b, (path) => (path.length === 2 && path[0] === 'metadata' && path[1] === 'resourceVersion') || (path.length === 4 && path[1] === 'managedFields' && path[3] === 'time'));
}

/**
 * Points the parts of `next` equal to the stored object's at the stored object's own. The stored
 * object lives on in caches and watchers; a fresh copy of an unchanged spec, labels or
 * managedFields would be one more thing for the collector to move out of the young generation,
 * on every write.
 */
function shareUnchanged(existing: Resource, next: Resource): void {
  for (const k in next) {
    const v = existing[k];
    if (k !== 'metadata' && v !== null && typeof v === 'object' && v !== next[k] && jsonEqual(v, next[k])) next[k] = v;
  }
  const m = next.metadata as Record<string, unknown>;
  const o = existing.metadata as Record<string, unknown>;
  for (const k in m) {
    const v = o[k];
    if (v !== null && typeof v === 'object' && v !== m[k] && jsonEqual(v, m[k])) m[k] = v;
  }
}

/** sameObject's exceptions, seen from inside metadata and from inside any other top-level field. */
const volatileMetadata = (path: readonly string[]) => (path.length === 1 && path[0] === 'resourceVersion') || (path.length === 3 && path[0] === 'managedFields' && path[2] === 'time');
const managedFieldsTimes = (path: readonly string[]) => path.length === 3 && path[0] === 'managedFields' && path[2] === 'time';

/**
 * What an update of `a` to `b` changes, in one walk that stops at the first spec difference:
 * 'spec' when anything but metadata (and status, when it is a subresource) differs, which bumps
 * the generation; 'other' when only those differ; 'none' when sameObject would hold, i.e. the
 * write stores nothing new. `b` carries `a`'s generation: with a spec change it will not.
 */
function updateChange(a: Resource, b: Resource, statusSub: boolean): 'spec' | 'other' | 'none' {
  let other = false;
  let compared = 0;
  for (const k in a) {
    const v = a[k];
    if (v === undefined) continue;
    compared++;
    if (k === 'metadata') {
      if (!other && !jsonEqual(v, b.metadata, volatileMetadata)) other = true;
      continue;
    }
    if (jsonEqual(v, b[k])) continue;
    if (!statusSub || k !== 'status') return 'spec';
    if (!other && !jsonEqual(v, b[k], managedFieldsTimes)) other = true;
  }
  let present = 0;
  for (const k in b) {
    if (b[k] === undefined) continue;
    present++;
    if (a[k] === undefined && k !== 'metadata' && (!statusSub || k !== 'status')) return 'spec';
  }
  return other || present !== compared ? 'other' : 'none';
}
