import { Worker } from 'node:worker_threads';
import { ApiError } from '../errors.js';
import type { ObjectKey, Resource } from '../types.js';
import type { SecretCipher } from './cipher.js';
import { EventLog } from './event-log.js';
import { ReadCache } from './read-cache.js';
import type Database from 'better-sqlite3';
import { holdProcessLock, SqliteEngine, WalCounters, type EngineFailure, type EngineKey, type EngineOutcome, type EngineWrite } from './sqlite-engine.js';
import { encodeBatch, type EngineCall, type EngineRequest, type EngineResponse, type EngineWorkerData } from './sqlite-protocol.js';
import type { Store, StoreEvent, StoreListOptions, StoreListResult, StoreWatchOptions } from './store.js';
import { deepFreeze, jsonClone } from '../clone.js';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  path: string;
  cipher?: SecretCipher;
  /** Which types are stored encrypted (Secrets). */
  isSensitive?: (group: string, resource: string) => boolean;
  watchWindow?: number;
  /** How many recently used objects to keep as JSON text for point reads (default 25,000). */
  readCacheEntries?: number;
}

interface PendingWrite {
  kind: 'create' | 'update' | 'delete';
  key: ObjectKey;
  obj?: Resource;
  expected?: number;
  previous?: Resource;
  resolve: (o: Resource) => void;
  reject: (e: unknown) => void;
}

/**
 * The embedded store: one SQLite file in WAL mode, written by a thread of its own.
 *
 * This thread keeps what makes the store fast to use: the watch log, a cache of recently used
 * objects, and the revision counter. The store's thread (sqlite-worker.ts over SqliteEngine)
 * runs every statement, commit and encryption, so the API thread spends its time on the API.
 * Writes are group-committed: those that arrive in one turn of the event loop are sent
 * together, in batches of at most BATCH_WRITES, each one transaction answered as soon as it
 * commits. Each write is given its revision when its batch is sent, and its promise
 * resolves only after the batch's commit, so a kill -9 loses nothing acknowledged (the WAL is
 * written before the commit returns; synchronous=NORMAL trades only power-loss durability of
 * the last commits). A write that fails its own check (a conflict) leaves a gap in revisions,
 * as a failed etcd transaction does; revisions still only increase.
 */
export class SqliteStore implements Store {
  private readonly worker: Worker;
  /** The file's checkpointer thread and this process's lock on the file (none in memory). */
  private readonly checkpointer?: Worker;
  /** Settles when the checkpointer thread has ended, however it ended (a close waits for it). */
  private checkpointerExited?: Promise<void>;
  private readonly lock?: Database.Database;
  /** The revision of the last committed batch. */
  private rev: number;
  /** The last revision handed to a write (committed or on its way). */
  private assigned: number;
  private log: EventLog;
  private readonly isSensitive: (group: string, resource: string) => boolean;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  /** Batches sent and not yet committed. */
  private inflight = 0;
  private drained?: () => void;
  private requests = new Map<number, (r: EngineResponse) => void>();
  /**
   * Requests not yet posted. They go together, once per turn of the event loop: posting a
   * message costs about as much as a small read, so one message carries them all.
   */
  private outbox: EngineRequest[] = [];
  private sendScheduled = false;
  private nextId = 1;
  private failure?: ApiError;
  private failureListeners: ((e: Error) => void)[] = [];
  private closed = false;
  private readonly recent: ReadCache;
  /**
   * The key of every committed object, so that reading one that does not exist (the first
   * apply of every composed resource and secret) needs no round trip to the store's thread.
   * Loaded from that thread after start; until then every such read asks it.
   */
  private keys?: Set<string>;

  constructor(opts: SqliteStoreOptions) {
    // opened here once, synchronously, so that a database in use or in need of migration fails
    // or is migrated before the constructor returns, and the revision is known at once
    const file = opts.path !== ':memory:';
    if (!file) this.rev = 0;
    else {
      this.lock = holdProcessLock(opts.path);
      try {
        const engine = new SqliteEngine(opts.path);
        this.rev = engine.revision();
        engine.close();
      } catch (e) {
        this.lock.close();
        throw e;
      }
    }
    this.assigned = this.rev;
    this.recent = new ReadCache(opts.readCacheEntries ?? 25_000);
    this.isSensitive = opts.isSensitive ?? (() => false);
    this.log = new EventLog(this.rev, opts.watchWindow);
    const wal = file ? new Int32Array(new SharedArrayBuffer(WalCounters.slots * 4)) : undefined;
    const thread = new URL('./sqlite-worker.js', import.meta.url);
    // Its garbage is short-lived (each batch's decoded strings): a small young generation keeps
    // about 60 MB less resident with 100,000 objects stored, for a few more quick collections.
    this.worker = new Worker(thread, { workerData: { role: 'engine', path: opts.path, key: opts.cipher?.exportKey(), wal } satisfies EngineWorkerData, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.worker.unref();
    if (wal) {
      // a thread that only calls SQLite: the smallest heap V8 allows will do
      this.checkpointer = new Worker(thread, { workerData: { role: 'checkpointer', path: opts.path, wal } satisfies EngineWorkerData, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } });
      this.checkpointer.unref();
      this.checkpointer.on('error', (e) => this.fail(new Error(`the store's checkpoint thread failed: ${e.message}`)));
      const checkpointer = this.checkpointer;
      this.checkpointerExited = new Promise((r) =>
        checkpointer.once('exit', (code) => {
          // without it the WAL would grow without end: as much a failure as losing the database thread
          if (!this.closed) this.fail(new Error(`the store's checkpoint thread exited (code ${code})`));
          r();
        }),
      );
    }
    // Loaded a moment after start, out of the way of start-up (100,000 keys take ~150 ms). Answers
    // arrive in the order the store's thread made them, so the commits answered after this
    // snapshot are exactly the ones it does not include, and they keep it current.
    setTimeout(() => {
      if (!this.closed) void this.call({ op: 'keys' }, (keys: string) => (this.keys = new Set(keys ? keys.split('\n') : []))).catch(() => undefined);
    }, KEYS_AFTER_MS).unref();
    this.worker.on('message', (answers: EngineResponse[]) => {
      for (const r of answers) {
        const done = this.requests.get(r.id);
        if (!done) continue;
        this.requests.delete(r.id);
        done(r);
      }
      if (!this.requests.size) this.worker.unref();
    });
    this.worker.on('error', (e) => this.fail(new Error(`the store's database thread failed: ${e.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`the store's database thread exited (code ${code})`)));
  }

  /** Sends a request to the store's thread; `onReply` runs as soon as its answer arrives, in answer order. */
  private call<T>(req: EngineCall, onReply: (value: T) => unknown = (v) => v): Promise<any> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.requests.size) this.worker.ref();
      this.requests.set(id, (r) => {
        if (r.error) reject(r.id === 0 && this.failure ? this.failure : r.error.badRequest ? ApiError.badRequest(r.error.message) : new Error(r.error.message));
        else {
          try {
            resolve(onReply(r.value as T));
          } catch (e) {
            reject(e);
          }
        }
      });
      this.outbox.push({ ...req, id } as EngineRequest);
      if (!this.sendScheduled) {
        this.sendScheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  private send(): void {
    this.sendScheduled = false;
    if (!this.outbox.length) return;
    const out = this.outbox;
    this.outbox = [];
    const batches = out.flatMap((r) => (r.op === 'write' ? [r.batch.buffer as ArrayBuffer] : []));
    this.worker.postMessage(out, batches);
  }

  private fail(e: Error): void {
    const first = !this.failure;
    // the reason is the store's, not a secret: clients are told it, as 503 Service Unavailable
    this.failure ??= new ApiError(503, 'ServiceUnavailable', e.message);
    const waiting = [...this.requests.values()];
    this.requests.clear();
    for (const done of waiting) done({ id: 0, error: { message: e.message } });
    // a thread that ends because the store was closed is not a failure anyone needs to hear of
    if (first && !this.closed) for (const l of this.failureListeners) l(this.failure);
  }

  onFailure(listener: (e: Error) => void): void {
    this.failureListeners.push(listener);
  }

  revision(): number {
    return this.rev;
  }

  compactedRevision(): number {
    return this.log.compactedRevision();
  }

  async get(key: ObjectKey): Promise<Resource | undefined> {
    const obj = await this.read(key);
    return obj && jsonClone(obj);
  }

  getShared(key: ObjectKey): Promise<Resource | undefined> {
    return this.read(key);
  }

  /** The stored object, shared with the read cache (and watchers): callers copy before changing it. */
  private read(key: ObjectKey): Promise<Resource | undefined> {
    const k = cacheKey(key);
    const hit = this.recent.object(k);
    if (hit !== undefined) return Promise.resolve(hit);
    if (this.keys && !this.keys.has(k)) return Promise.resolve(undefined);
    return this.call({ op: 'get', key: engineKey(key) }, (row: { text: string; encrypted: boolean } | undefined) => {
      if (!row) return undefined;
      const obj = JSON.parse(row.text) as Resource;
      if (!row.encrypted) this.recent.set(k, { obj, text: row.text });
      return obj;
    });
  }

  async getText(key: ObjectKey): Promise<string | undefined> {
    const k = cacheKey(key);
    const hit = this.recent.text(k);
    if (hit !== undefined) return hit;
    if (this.keys && !this.keys.has(k)) return undefined;
    return this.call({ op: 'get', key: engineKey(key) }, (row: { text: string; encrypted: boolean } | undefined) => {
      if (!row || row.encrypted) return undefined;
      this.recent.set(k, { text: row.text });
      return row.text;
    });
  }

  count(group: string, resource: string, namespace?: string): Promise<number> {
    return this.call({ op: 'count', grp: group, res: resource, ns: namespace });
  }

  list(group: string, resource: string, opts: StoreListOptions = {}): Promise<StoreListResult> {
    const query = { grp: group, res: resource, ns: opts.namespace, labels: opts.labels, fields: opts.fields, limit: opts.limit, continue: opts.continue };
    return this.call({ op: 'list', query }, (r: { texts: string[]; continue?: string }) => {
      // answers arrive in order, so every batch committed before this list was read has been counted
      const result: StoreListResult = { items: r.texts.map((t) => JSON.parse(t) as Resource), revision: this.rev };
      if (r.continue) result.continue = r.continue;
      return result;
    });
  }

  create(key: ObjectKey, obj: Resource): Promise<Resource> {
    return this.enqueue({ kind: 'create', key, obj });
  }

  update(key: ObjectKey, obj: Resource, expectedRevision?: number, previous?: Resource): Promise<Resource> {
    return this.enqueue({ kind: 'update', key, obj, expected: expectedRevision, previous });
  }

  delete(key: ObjectKey, expectedRevision?: number, previous?: Resource): Promise<Resource> {
    return this.enqueue({ kind: 'delete', key, expected: expectedRevision, previous });
  }

  private enqueue(op: Omit<PendingWrite, 'resolve' | 'reject'>): Promise<Resource> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ ...op, resolve, reject } as PendingWrite);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Sends what is pending, in batches of at most BATCH_WRITES. Writes that arrive together tend
   * to be answered together and to come back together; in smaller batches, each answered as it
   * commits, this thread works on the first answers while the store's thread commits the rest,
   * instead of the two threads taking turns.
   */
  private flush(): void {
    this.flushScheduled = false;
    for (let i = 0; i < this.pending.length; i += BATCH_WRITES) this.sendBatch(this.pending.slice(i, i + BATCH_WRITES));
    this.pending = [];
    // the writes were gathered over a turn of the loop already: they go now, with any reads
    this.send();
  }

  private sendBatch(batch: PendingWrite[]): void {
    const writes: EngineWrite[] = [];
    for (const op of batch) {
      const rev = ++this.assigned;
      const { key } = op;
      const w: EngineWrite = { kind: op.kind, grp: key.group, res: key.resource, ns: key.namespace, name: key.name, rev, expected: op.expected };
      if (op.obj) {
        const obj = op.obj;
        obj.metadata.resourceVersion = String(rev);
        w.uid = obj.metadata.uid ?? '';
        w.labels = labelsJson(obj);
        w.text = JSON.stringify(obj);
        w.sensitive = this.isSensitive(key.group, key.resource);
        w.owners = ownerUids(obj);
      }
      if (op.previous && op.expected !== undefined) w.before = { uid: op.previous.metadata.uid ?? '', owners: ownerUids(op.previous) };
      writes.push(w);
    }
    const revision = this.assigned;
    this.inflight++;
    const encoded = encodeBatch(writes);
    // the texts now live in the buffer: held until the commit, they would only be more for the
    // collector to move out of the young generation
    for (const w of writes) w.text = w.labels = undefined;
    void this.call({ op: 'write', batch: encoded, revision }, (outcomes: EngineOutcome[]) => this.committed(batch, writes, outcomes, revision)).then(
      () => this.afterBatch(),
      (e) => {
        for (const op of batch) op.reject(e);
        this.afterBatch();
      },
    );
  }

  private afterBatch(): void {
    this.inflight--;
    if (!this.inflight && !this.pending.length) this.drained?.();
  }

  /** A batch's outcomes: the cache and the watch log move on, then each write learns its fate. */
  private committed(batch: PendingWrite[], writes: EngineWrite[], outcomes: EngineOutcome[], revision: number): void {
    this.rev = revision;
    const results: (Resource | ApiError)[] = [];
    batch.forEach((op, i) => {
      const o = outcomes[i]!;
      const w = writes[i]!;
      if (o !== true && 'failed' in o) return void (results[i] = failure(o.failed, op.key));
      const previous = o !== true ? (JSON.parse(o.previous) as Resource) : op.previous;
      const base = { revision: w.rev, group: op.key.group, resource: op.key.resource, namespace: op.key.namespace };
      const k = cacheKey(op.key);
      let event: StoreEvent;
      if (op.kind === 'delete') {
        this.recent.delete(k);
        this.keys?.delete(k);
        const last = { ...previous!, metadata: { ...previous!.metadata, resourceVersion: String(w.rev) } };
        event = { type: 'DELETED', ...base, object: last, previous };
      } else {
        if (w.sensitive) this.recent.delete(k);
        else this.recent.set(k, { obj: op.obj! });
        if (op.kind === 'create') this.keys?.add(k);
        event = op.kind === 'create' ? { type: 'ADDED', ...base, object: op.obj! } : { type: 'MODIFIED', ...base, object: op.obj!, previous };
      }
      this.log.append(event);
      results[i] = event.object;
    });
    batch.forEach((op, i) => {
      const r = results[i]!;
      if (r instanceof ApiError) op.reject(r);
      else op.resolve(deepFreeze(r));
    });
  }

  async dependents(ownerUid: string): Promise<ObjectKey[]> {
    return this.call({ op: 'dependents', uid: ownerUid }, (rows: EngineKey[]) => rows.map((r) => ({ group: r.grp, resource: r.res, namespace: r.ns, name: r.name })));
  }

  async missingOwners(): Promise<string[]> {
    return this.call({ op: 'missingOwners' });
  }

  async findByUid(uid: string): Promise<{ key: ObjectKey; object: Resource } | undefined> {
    return this.call({ op: 'findByUid', uid }, (r: (EngineKey & { text: string }) | undefined) =>
      r ? { key: { group: r.grp, resource: r.res, namespace: r.ns, name: r.name }, object: JSON.parse(r.text) as Resource } : undefined,
    );
  }

  watch(opts: StoreWatchOptions, onEvent: (e: StoreEvent) => void): () => void {
    return this.log.subscribe(opts, onEvent);
  }

  /** Commits what is pending, then closes the database and ends its thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending.length) this.flush();
    if (this.inflight) await new Promise<void>((r) => (this.drained = r));
    if (this.checkpointer) {
      // stopped first, so that the engine's connection is the last and leaves no WAL behind
      this.checkpointer.ref();
      this.checkpointer.postMessage('close');
      await this.checkpointerExited;
    }
    try {
      await this.closeEngine();
    } finally {
      this.lock?.close();
    }
  }

  private async closeEngine(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    await this.call({ op: 'close' });
    // held until the thread is gone: an unreferenced thread would let the process end mid-close
    this.worker.ref();
    await exited;
  }
}

const BATCH_WRITES = 64;
const KEYS_AFTER_MS = 1000;

function failure(f: EngineFailure, key: ObjectKey): ApiError {
  if (f === 'exists') return ApiError.alreadyExists(key.resource, key.name, key.group);
  if (f === 'notFound') return ApiError.notFound(key.resource, key.name, key.group);
  return ApiError.conflict(key.resource, key.name, 'the object has been modified; please apply your changes to the latest version and try again', key.group);
}

function engineKey(k: ObjectKey): EngineKey {
  return { grp: k.group, res: k.resource, ns: k.namespace, name: k.name };
}

function cacheKey(k: ObjectKey): string {
  return `${k.group}/${k.resource}/${k.namespace}/${k.name}`;
}

function ownerUids(obj: Resource): string[] {
  return (obj.metadata.ownerReferences ?? []).map((r) => r.uid);
}

function labelsJson(obj: Resource): string | null {
  const l = obj.metadata.labels;
  return l && Object.keys(l).length ? JSON.stringify(l) : null;
}
