import type { Logger } from 'pino';
import type { Client, Watch } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import type { Resource, WatchEvent } from '../api/types.js';

export interface EventHandler {
  onAdd?(obj: Resource): void;
  onUpdate?(oldObj: Resource, newObj: Resource): void;
  onDelete?(obj: Resource): void;
}

export type IndexFunc = (obj: Resource) => string[];

export function cacheKey(obj: Resource): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;
}

/**
 * List + watch of one type into an indexed in-memory cache, shared by every controller that
 * needs the type. On a 410 Gone (the watch window moved on) it relists and reports the
 * difference as adds, updates and deletes, so handlers never miss a change.
 * Cached objects are shared: handlers and readers must copy before changing one.
 */
export class Informer {
  private cache = new Map<string, Resource>();
  private handlers: EventHandler[] = [];
  private indexers = new Map<string, IndexFunc>();
  private indices = new Map<string, Map<string, Set<string>>>();
  private watch?: Watch;
  private stopped = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private rv = '';
  private loop?: Promise<void>;

  constructor(
    private readonly client: Client,
    readonly apiVersion: string,
    readonly kind: string,
    private readonly log: Logger,
    private readonly namespace?: string,
  ) {}

  addHandler(h: EventHandler): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.values()) h.onAdd?.(o);
  }

  addIndexer(name: string, fn: IndexFunc): void {
    if (this.indexers.has(name)) return;
    this.indexers.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indices.set(name, idx);
    for (const [k, o] of this.cache) for (const v of fn(o)) addTo(idx, v, k);
  }

  get(key: string): Resource | undefined {
    return this.cache.get(key);
  }

  list(): Resource[] {
    return [...this.cache.values()];
  }

  size(): number {
    return this.cache.size;
  }

  byIndex(name: string, value: string): Resource[] {
    const keys = this.indices.get(name)?.get(value);
    if (!keys) return [];
    const out: Resource[] = [];
    for (const k of keys) {
      const o = this.cache.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    for (const w of this.syncWaiters.splice(0)) w();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) await this.relist();
        needList = false;
        this.watch = await this.client.watch(this.apiVersion, this.kind, { namespace: this.namespace, resourceVersion: this.rv }, (e) => this.apply(e));
        if (this.stopped) this.watch.stop();
        failures = 0;
        await this.watch.done;
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof ApiError && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone')) {
          needList = true;
          continue;
        }
        failures++;
        if (e instanceof ApiError && e.code === 404) needList = true;
        this.log.warn({ err: e, type: `${this.apiVersion}/${this.kind}` }, 'informer watch failed; retrying');
        await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list(this.apiVersion, this.kind, { namespace: this.namespace });
    const seen = new Set<string>();
    for (const o of list.items) {
      const k = cacheKey(o);
      seen.add(k);
      const old = this.cache.get(k);
      this.store(k, o, old);
      if (!old) this.emit('add', o);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('update', o, old);
    }
    for (const [k, o] of [...this.cache]) {
      if (!seen.has(k)) {
        this.remove(k, o);
        this.emit('delete', o);
      }
    }
    this.rv = list.metadata.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private apply(e: WatchEvent): void {
    const o = e.object;
    if (e.type === 'BOOKMARK') {
      this.rv = o.metadata.resourceVersion ?? this.rv;
      return;
    }
    this.rv = o.metadata.resourceVersion ?? this.rv;
    const k = cacheKey(o);
    const old = this.cache.get(k);
    if (e.type === 'DELETED') {
      if (!old) return;
      this.remove(k, old);
      this.emit('delete', o);
      return;
    }
    this.store(k, o, old);
    if (old) this.emit('update', o, old);
    else this.emit('add', o);
  }

  private store(k: string, o: Resource, old: Resource | undefined): void {
    if (old) for (const [name, fn] of this.indexers) for (const v of fn(old)) this.indices.get(name)!.get(v)?.delete(k);
    this.cache.set(k, o);
    for (const [name, fn] of this.indexers) for (const v of fn(o)) addTo(this.indices.get(name)!, v, k);
  }

  private remove(k: string, o: Resource): void {
    for (const [name, fn] of this.indexers) for (const v of fn(o)) this.indices.get(name)!.get(v)?.delete(k);
    this.cache.delete(k);
  }

  private emit(kind: 'add' | 'update' | 'delete', o: Resource, old?: Resource): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.onAdd?.(o);
        else if (kind === 'update') h.onUpdate?.(old!, o);
        else h.onDelete?.(o);
      } catch (err) {
        this.log.error({ err, type: `${this.apiVersion}/${this.kind}` }, 'informer handler threw');
      }
    }
  }
}

function addTo(idx: Map<string, Set<string>>, v: string, k: string): void {
  let s = idx.get(v);
  if (!s) idx.set(v, (s = new Set()));
  s.add(k);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One informer per type (and namespace), shared by all controllers of a manager. */
export class InformerFactory {
  private informers = new Map<string, Informer>();
  private started = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
  ) {}

  get(apiVersion: string, kind: string, namespace?: string): Informer {
    const k = `${apiVersion}/${kind}/${namespace ?? ''}`;
    let inf = this.informers.get(k);
    if (!inf) {
      inf = new Informer(this.client, apiVersion, kind, this.log, namespace);
      this.informers.set(k, inf);
      if (this.started) inf.start();
    }
    return inf;
  }

  start(): void {
    this.started = true;
    for (const i of this.informers.values()) i.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
