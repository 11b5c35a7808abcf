import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApiError } from '../errors.js';
import { matchesFields, type Requirement } from '../selectors.js';
import type { ObjectKey, Resource } from '../types.js';
import type { SecretCipher } from './cipher.js';
import { EventLog } from './event-log.js';
import type { Store, StoreEvent, StoreListOptions, StoreListResult, StoreWatchOptions } from './store.js';
import { jsonClone } from '../clone.js';

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

type CachedObject = { obj?: Resource; text: string };

type Row = { grp: string; res: string; ns: string; name: string; rv: number; data: string | Buffer };

interface PendingWrite {
  kind: 'create' | 'update' | 'delete';
  key: ObjectKey;
  obj?: Resource;
  expected?: number;
  previous?: Resource;
  resolve: (o: Resource) => void;
  reject: (e: unknown) => void;
}

// Objects live in a rowid table with a unique index on their key, not a WITHOUT ROWID table
// keyed by it: rows are whole objects (kilobytes), and in a WITHOUT ROWID b-tree rows that
// large spill to overflow pages, so every update rewrote about twice the pages.
const OBJECTS = `
CREATE TABLE IF NOT EXISTS objects (
  grp TEXT NOT NULL, res TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
  uid TEXT NOT NULL, rv INTEGER NOT NULL, labels TEXT, data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_key ON objects (grp, res, ns, name);
CREATE INDEX IF NOT EXISTS objects_uid ON objects (uid);`;

const SCHEMA = `${OBJECTS}
CREATE TABLE IF NOT EXISTS owners (
  owner_uid TEXT NOT NULL, grp TEXT NOT NULL, res TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY (owner_uid, grp, res, ns, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS owners_dependent ON owners (grp, res, ns, name);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (k, v) VALUES ('revision', 0);
`;

/**
 * The embedded store: one SQLite file in WAL mode. Writes are synchronous transactions, so a
 * write is on disk (in the WAL) before its promise resolves, and a kill -9 loses nothing
 * acknowledged; synchronous=NORMAL trades only power-loss durability of the last commits.
 */
export class SqliteStore implements Store {
  private db: Database.Database;
  private rev: number;
  private log: EventLog;
  private readonly cipher?: SecretCipher;
  private readonly isSensitive: (group: string, resource: string) => boolean;
  private stmts: ReturnType<SqliteStore['prepare']>;
  private listCache = new Map<string, Database.Statement>();
  private pending: PendingWrite[] = [];
  private recent = new Map<string, CachedObject>();
  private readonly recentLimit: number;
  private flushScheduled = false;

  constructor(opts: SqliteStoreOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    try {
      // One process owns the database: exclusive locking keeps the WAL index in process memory
      // (reads skip the shared-memory handshake, twice as fast) and makes a second `pave up` on
      // the same data directory fail at start instead of sharing the file.
      this.db.pragma('busy_timeout = 1000');
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('cache_size = -65536');
      // checkpoint in larger steps: each checkpoint syncs, and bursts of writes pay for fewer of them
      this.db.pragma('wal_autocheckpoint = 10000');
      migrateWithoutRowid(this.db);
      this.db.exec(SCHEMA);
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new Error(`the database ${opts.path} is in use by another process (is another Pave running on this data directory?)`);
      throw e;
    }
    this.cipher = opts.cipher;
    this.recentLimit = opts.readCacheEntries ?? 25_000;
    this.isSensitive = opts.isSensitive ?? (() => false);
    this.stmts = this.prepare();
    this.rev = (this.db.prepare(`SELECT v FROM meta WHERE k = 'revision'`).get() as { v: number }).v;
    this.log = new EventLog(this.rev, opts.watchWindow);
  }

  private prepare() {
    const db = this.db;
    return {
      get: db.prepare(`SELECT rv, data FROM objects WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      rv: db.prepare(`SELECT rv FROM objects WHERE grp = ? AND res = ? AND ns = ? AND name = ?`).pluck(),
      insert: db.prepare(`INSERT INTO objects (grp, res, ns, name, uid, rv, labels, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      // uid is indexed: setting it, even to the same value, rewrites an index entry
      update: db.prepare(`UPDATE objects SET rv = ?, labels = ?, data = ? WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      updateUid: db.prepare(`UPDATE objects SET uid = ? WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      del: db.prepare(`DELETE FROM objects WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      setRev: db.prepare(`UPDATE meta SET v = ? WHERE k = 'revision'`),
      addOwner: db.prepare(`INSERT OR IGNORE INTO owners (owner_uid, grp, res, ns, name) VALUES (?, ?, ?, ?, ?)`),
      clearOwners: db.prepare(`DELETE FROM owners WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      dependents: db.prepare(`SELECT grp, res, ns, name FROM owners WHERE owner_uid = ?`),
      missingOwners: db.prepare(`SELECT DISTINCT owner_uid FROM owners WHERE owner_uid NOT IN (SELECT uid FROM objects)`),
      byUid: db.prepare(`SELECT grp, res, ns, name, rv, data FROM objects WHERE uid = ?`),
      countAll: db.prepare(`SELECT count(*) AS n FROM objects WHERE grp = ? AND res = ?`),
      countNs: db.prepare(`SELECT count(*) AS n FROM objects WHERE grp = ? AND res = ? AND ns = ?`),
    };
  }

  revision(): number {
    return this.rev;
  }

  compactedRevision(): number {
    return this.log.compactedRevision();
  }

  private encode(key: ObjectKey, obj: Resource): string | Buffer {
    const text = JSON.stringify(obj);
    return this.cipher && this.isSensitive(key.group, key.resource) ? this.cipher.encrypt(text) : text;
  }

  private decode(data: string | Buffer): Resource {
    if (typeof data === 'string') return JSON.parse(data);
    if (!this.cipher) throw new Error('an encrypted object was found but no encryption key is configured');
    return JSON.parse(this.cipher.decrypt(data));
  }

  async get(key: ObjectKey): Promise<Resource | undefined> {
    const obj = this.read(key);
    return obj && jsonClone(obj);
  }

  async getShared(key: ObjectKey): Promise<Resource | undefined> {
    return this.read(key);
  }

  /** The stored object, shared with the read cache (and watchers): callers copy before changing it. */
  private read(key: ObjectKey): Resource | undefined {
    const k = cacheKey(key);
    const hit = this.recent.get(k);
    if (hit !== undefined) {
      // refresh its place in the LRU order
      this.recent.delete(k);
      this.recent.set(k, hit);
      return (hit.obj ??= JSON.parse(hit.text) as Resource);
    }
    const row = this.stmts.get.get(key.group, key.resource, key.namespace, key.name) as Row | undefined;
    if (!row) return undefined;
    const obj = this.decode(row.data);
    if (typeof row.data === 'string') this.remember(k, { obj, text: row.data });
    return obj;
  }

  async getText(key: ObjectKey): Promise<string | undefined> {
    const k = cacheKey(key);
    const hit = this.recent.get(k);
    if (hit !== undefined) return hit.text;
    const row = this.stmts.get.get(key.group, key.resource, key.namespace, key.name) as Row | undefined;
    if (!row || typeof row.data !== 'string') return undefined;
    this.remember(k, { text: row.data });
    return row.data;
  }

  /**
   * Recently read or written objects as their stored JSON text and, once read or written, as
   * the object itself (shared, never mutated: for writes it is the object watchers were given),
   * so a point read costs a copy, not a statement and a parse. Only plaintext rows are kept:
   * encrypted types are always read from disk. Entries change only after their write commits.
   */
  private remember(k: string, entry: CachedObject): void {
    this.recent.delete(k);
    this.recent.set(k, entry);
    if (this.recent.size > this.recentLimit) this.recent.delete(this.recent.keys().next().value!);
  }

  async count(group: string, resource: string, namespace?: string): Promise<number> {
    const r = (namespace ? this.stmts.countNs.get(group, resource, namespace) : this.stmts.countAll.get(group, resource)) as { n: number };
    return r.n;
  }

  async list(group: string, resource: string, opts: StoreListOptions = {}): Promise<StoreListResult> {
    const where = ['grp = ?', 'res = ?'];
    const params: unknown[] = [group, resource];
    if (opts.namespace) {
      where.push('ns = ?');
      params.push(opts.namespace);
    }
    for (const r of opts.labels ?? []) labelClause(r, where, params);
    const rest: Requirement[] = [];
    for (const r of opts.fields ?? []) {
      const col = r.key === 'metadata.name' ? 'name' : r.key === 'metadata.namespace' ? 'ns' : undefined;
      if (col && (r.op === 'in' || r.op === 'notin')) {
        where.push(`${col} ${r.op === 'in' ? '' : 'NOT '}IN (${r.values.map(() => '?').join(', ')})`);
        params.push(...r.values);
      } else rest.push(r);
    }
    if (opts.continue) {
      const after = decodeContinue(opts.continue);
      where.push('(ns, name) > (?, ?)');
      params.push(after.ns, after.name);
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const sql = `SELECT ns, name, data FROM objects WHERE ${where.join(' AND ')} ORDER BY ns, name${limit && !rest.length ? ` LIMIT ${limit + 1}` : ''}`;
    let stmt = this.listCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.listCache.size > 500) this.listCache.clear();
      this.listCache.set(sql, stmt);
    }
    const revision = this.rev;
    const items: Resource[] = [];
    let next: string | undefined;
    for (const row of stmt.iterate(...params) as IterableIterator<{ ns: string; name: string; data: string | Buffer }>) {
      const obj = this.decode(row.data);
      if (rest.length && !matchesFields(obj, rest)) continue;
      if (limit && items.length === limit) {
        const last = items[items.length - 1]!;
        next = encodeContinue(last.metadata.namespace ?? '', last.metadata.name!);
        break;
      }
      items.push(obj);
    }
    return next ? { items, revision, continue: next } : { items, revision };
  }

  create(key: ObjectKey, obj: Resource): Promise<Resource> {
    return this.enqueue({ kind: 'create', key, obj });
  }

  update(key: ObjectKey, obj: Resource, expectedRevision?: number, previous?: Resource): Promise<Resource> {
    return this.enqueue({ kind: 'update', key, obj, expected: expectedRevision, previous });
  }

  delete(key: ObjectKey, expectedRevision?: number): Promise<Resource> {
    return this.enqueue({ kind: 'delete', key, expected: expectedRevision });
  }

  /**
   * Group commit: writes that arrive in the same turn of the event loop share one transaction,
   * so the cost of a commit is paid once per batch, not once per write. Each write still gets
   * its own revision and its own outcome, and no promise resolves before its commit.
   */
  private enqueue(op: Omit<PendingWrite, 'resolve' | 'reject'>): Promise<Resource> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...op, resolve, reject } as PendingWrite);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    const outcomes: ({ event: StoreEvent; text?: string } | { error: unknown })[] = [];
    let rev = this.rev;
    try {
      this.db.transaction(() => {
        for (const op of batch) {
          try {
            const { event, text } = this.apply(op, rev + 1);
            rev = event.revision;
            outcomes.push({ event, text });
          } catch (error) {
            outcomes.push({ error });
          }
        }
        if (rev !== this.rev) this.stmts.setRev.run(rev);
      })();
    } catch (error) {
      for (const op of batch) op.reject(error);
      return;
    }
    this.rev = rev;
    batch.forEach((op, i) => {
      const o = outcomes[i]!;
      if ('error' in o) return op.reject(o.error);
      const k = cacheKey(op.key);
      if (o.event.type === 'DELETED' || o.text === undefined) this.recent.delete(k);
      else this.remember(k, { obj: o.event.object, text: o.text });
      this.log.append(o.event);
      op.resolve(jsonClone(o.event.object));
    });
  }

  /** One write inside the batch transaction; throws to fail only this write. */
  private apply(op: PendingWrite, rev: number): { event: StoreEvent; text?: string } {
    const { key } = op;
    const base = { revision: rev, group: key.group, resource: key.resource, namespace: key.namespace };
    if (op.kind === 'create') {
      const obj = op.obj!;
      obj.metadata.resourceVersion = String(rev);
      const data = this.encode(key, obj);
      try {
        this.stmts.insert.run(key.group, key.resource, key.namespace, key.name, obj.metadata.uid ?? '', rev, labelsJson(obj), data);
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw ApiError.alreadyExists(key.resource, key.name, key.group);
        throw e;
      }
      this.indexOwners(key, obj, false);
      return { event: { type: 'ADDED', ...base, object: obj }, text: typeof data === 'string' ? data : undefined };
    }
    // the caller's copy of the object it read spares reading and decoding the row again
    const rv = this.stmts.rv.get(key.group, key.resource, key.namespace, key.name) as number | undefined;
    if (rv === undefined) throw ApiError.notFound(key.resource, key.name, key.group);
    if (op.expected !== undefined && rv !== op.expected) {
      throw ApiError.conflict(key.resource, key.name, 'the object has been modified; please apply your changes to the latest version and try again', key.group);
    }
    const previous = op.previous && op.expected === rv ? op.previous : this.decode((this.stmts.get.get(key.group, key.resource, key.namespace, key.name) as Row).data);
    if (op.kind === 'update') {
      const obj = op.obj!;
      obj.metadata.resourceVersion = String(rev);
      const data = this.encode(key, obj);
      this.stmts.update.run(rev, labelsJson(obj), data, key.group, key.resource, key.namespace, key.name);
      if ((obj.metadata.uid ?? '') !== (previous.metadata.uid ?? '')) this.stmts.updateUid.run(obj.metadata.uid ?? '', key.group, key.resource, key.namespace, key.name);
      if (!sameOwners(previous, obj)) this.indexOwners(key, obj, true);
      return { event: { type: 'MODIFIED', ...base, object: obj, previous }, text: typeof data === 'string' ? data : undefined };
    }
    this.stmts.del.run(key.group, key.resource, key.namespace, key.name);
    this.stmts.clearOwners.run(key.group, key.resource, key.namespace, key.name);
    const last = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rev) } };
    return { event: { type: 'DELETED', ...base, object: last, previous } };
  }

  async dependents(ownerUid: string): Promise<ObjectKey[]> {
    return (this.stmts.dependents.all(ownerUid) as { grp: string; res: string; ns: string; name: string }[]).map((r) => ({ group: r.grp, resource: r.res, namespace: r.ns, name: r.name }));
  }

  async missingOwners(): Promise<string[]> {
    return (this.stmts.missingOwners.all() as { owner_uid: string }[]).map((r) => r.owner_uid);
  }

  async findByUid(uid: string): Promise<{ key: ObjectKey; object: Resource } | undefined> {
    const r = this.stmts.byUid.get(uid) as Row | undefined;
    return r ? { key: { group: r.grp, resource: r.res, namespace: r.ns, name: r.name }, object: this.decode(r.data) } : undefined;
  }

  watch(opts: StoreWatchOptions, onEvent: (e: StoreEvent) => void): () => void {
    return this.log.subscribe(opts, onEvent);
  }

  async close(): Promise<void> {
    if (this.pending.length) this.flush();
    if (this.db.open) this.db.close();
  }

  private indexOwners(key: ObjectKey, obj: Resource, replace: boolean): void {
    if (replace) this.stmts.clearOwners.run(key.group, key.resource, key.namespace, key.name);
    for (const o of obj.metadata.ownerReferences ?? []) this.stmts.addOwner.run(o.uid, key.group, key.resource, key.namespace, key.name);
  }
}

/** Data directories written before objects moved to a rowid table are converted once, in one transaction. */
function migrateWithoutRowid(db: Database.Database): void {
  const row = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'objects'`).get() as { sql: string } | undefined;
  if (!row || !/WITHOUT\s+ROWID/i.test(row.sql)) return;
  db.transaction(() => {
    db.exec(`DROP INDEX IF EXISTS objects_uid; ALTER TABLE objects RENAME TO objects_without_rowid;`);
    db.exec(OBJECTS);
    db.exec(`INSERT INTO objects (grp, res, ns, name, uid, rv, labels, data) SELECT grp, res, ns, name, uid, rv, labels, data FROM objects_without_rowid; DROP TABLE objects_without_rowid;`);
  })();
}

function cacheKey(k: ObjectKey): string {
  return `${k.group}/${k.resource}/${k.namespace}/${k.name}`;
}

function sameOwners(a: Resource, b: Resource): boolean {
  const x = a.metadata.ownerReferences ?? [];
  const y = b.metadata.ownerReferences ?? [];
  return x.length === y.length && x.every((r, i) => r.uid === y[i]!.uid);
}

function labelsJson(obj: Resource): string | null {
  const l = obj.metadata.labels;
  return l && Object.keys(l).length ? JSON.stringify(l) : null;
}

function labelClause(r: Requirement, where: string[], params: unknown[]): void {
  const path = `$."${r.key}"`;
  switch (r.op) {
    case 'exists':
      where.push('json_type(labels, ?) IS NOT NULL');
      params.push(path);
      return;
    case '!exists':
      where.push('json_type(labels, ?) IS NULL');
      params.push(path);
      return;
    case 'in':
      where.push(`json_extract(labels, ?) IN (${r.values.map(() => '?').join(', ')})`);
      params.push(path, ...r.values);
      return;
    case 'notin':
      where.push(`(json_extract(labels, ?) IS NULL OR json_extract(labels, ?) NOT IN (${r.values.map(() => '?').join(', ')}))`);
      params.push(path, path, ...r.values);
      return;
  }
}

function encodeContinue(ns: string, name: string): string {
  return Buffer.from(JSON.stringify({ ns, name })).toString('base64url');
}

function decodeContinue(token: string): { ns: string; name: string } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof v.ns === 'string' && typeof v.name === 'string') return v;
  } catch {
    // fall through to the error below
  }
  throw ApiError.badRequest(`invalid continue token "${token}"`);
}
