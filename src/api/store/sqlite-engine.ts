import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchesFields, type Requirement } from '../selectors.js';
import type { SecretCipher } from './cipher.js';

/**
 * One write of a batch, as the store's thread hands it to the engine: the object already
 * serialised with the revision it will get, and what the store knows of the object it replaces.
 */
export interface EngineWrite {
  kind: 'create' | 'update' | 'delete';
  grp: string;
  res: string;
  ns: string;
  name: string;
  rev: number;
  uid?: string;
  labels?: string | null;
  /** The object as JSON, metadata.resourceVersion already set to `rev`. */
  text?: string;
  /** Store it encrypted. */
  sensitive?: boolean;
  expected?: number;
  /** The owner uids of the new object. */
  owners?: string[];
  /**
   * The replaced object's uid and owner uids, when the caller holds it at `expected`. Without
   * it the engine reads the row, and returns its text for the watch event's `previous`.
   */
  before?: { uid: string; owners: string[] };
}

/** Why one write of a batch failed; the batch's other writes are unaffected. */
export type EngineFailure = 'exists' | 'notFound' | 'conflict';

/** Success (with the replaced object's text when the caller did not hold it), or why the write failed. */
export type EngineOutcome = true | { previous: string } | { failed: EngineFailure };

export interface EngineListQuery {
  grp: string;
  res: string;
  ns?: string;
  labels?: Requirement[];
  fields?: Requirement[];
  limit?: number;
  continue?: string;
}

export interface EngineKey {
  grp: string;
  res: string;
  ns: string;
  name: string;
}

/** A request the engine refuses as the client's mistake (an unreadable continue token). */
export class EngineBadRequest extends Error {}

type Row = { grp: string; res: string; ns: string; name: string; rv: number; data: string | Buffer };

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
 * The SQL half of the embedded store: one SQLite file in WAL mode, written in batches. It knows
 * nothing of watch, caching or the API; it runs on the store's own thread (sqlite-worker.ts) so
 * that statements, commits and encryption cost the API's thread nothing.
 *
 * Rows hold objects as JSON text, or encrypted (a Buffer) for sensitive types; every read
 * returns plaintext JSON text.
 */
export class SqliteEngine {
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<SqliteEngine['prepare']>;
  private readonly listCache = new Map<string, Database.Statement>();

  /** Background checkpoints seen so far (see `wal` in the constructor). */
  private checkpointsSeen = 0;

  /**
   * `wal`, when given, is shared with a Checkpointer on another thread (see WalCounters): this
   * connection then never checkpoints on its own (a checkpoint syncs the file, which on a slow
   * disk held every write for hundreds of milliseconds), and takes no exclusive lock, so that
   * the checkpointer can share the file.
   */
  constructor(
    path: string,
    private readonly cipher?: SecretCipher,
    private readonly wal?: Int32Array,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    try {
      this.db.pragma('busy_timeout = 1000');
      // Without a checkpointer, one connection owns the database: exclusive locking keeps the
      // WAL index in process memory and makes a second `pave up` on the same data directory
      // fail at start (with one, holdProcessLock does that).
      if (!wal) this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('cache_size = -65536');
      // checkpoint in larger steps: each checkpoint syncs, and bursts of writes pay for fewer of them
      this.db.pragma(`wal_autocheckpoint = ${wal ? 0 : 10000}`);
      migrateWithoutRowid(this.db);
      this.db.exec(SCHEMA);
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw inUse(path);
      throw e;
    }
    this.stmts = this.prepare();
  }

  /**
   * After a background checkpoint, a checkpoint here copies only what was committed during it,
   * so that the next write can start the WAL file over instead of growing it without end.
   */
  private followCheckpoints(): void {
    if (!this.wal) return;
    const n = Atomics.load(this.wal, WalCounters.checkpoints);
    if (n === this.checkpointsSeen) return;
    this.checkpointsSeen = n;
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  private prepare() {
    const db = this.db;
    return {
      current: db.prepare(`SELECT uid, rv, data FROM objects WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      rv: db.prepare(`SELECT rv FROM objects WHERE grp = ? AND res = ? AND ns = ? AND name = ?`).pluck(),
      insert: db.prepare(`INSERT INTO objects (grp, res, ns, name, uid, rv, labels, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      // uid is indexed: setting it, even to the same value, rewrites an index entry
      update: db.prepare(`UPDATE objects SET rv = ?, labels = ?, data = ? WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      updateUid: db.prepare(`UPDATE objects SET uid = ? WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      del: db.prepare(`DELETE FROM objects WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      revision: db.prepare(`SELECT v FROM meta WHERE k = 'revision'`).pluck(),
      setRev: db.prepare(`UPDATE meta SET v = ? WHERE k = 'revision'`),
      addOwner: db.prepare(`INSERT OR IGNORE INTO owners (owner_uid, grp, res, ns, name) VALUES (?, ?, ?, ?, ?)`),
      clearOwners: db.prepare(`DELETE FROM owners WHERE grp = ? AND res = ? AND ns = ? AND name = ?`),
      dependents: db.prepare(`SELECT grp, res, ns, name FROM owners WHERE owner_uid = ?`),
      missingOwners: db.prepare(`SELECT DISTINCT owner_uid FROM owners WHERE owner_uid NOT IN (SELECT uid FROM objects)`).pluck(),
      byUid: db.prepare(`SELECT grp, res, ns, name, rv, data FROM objects WHERE uid = ?`),
      countAll: db.prepare(`SELECT count(*) FROM objects WHERE grp = ? AND res = ?`).pluck(),
      countNs: db.prepare(`SELECT count(*) FROM objects WHERE grp = ? AND res = ? AND ns = ?`).pluck(),
    };
  }

  revision(): number {
    return this.stmts.revision.get() as number;
  }

  /** Every stored object's key as group/resource/namespace/name, one per line. */
  keys(): string {
    return (this.db.prepare(`SELECT group_concat(grp || '/' || res || '/' || ns || '/' || name, char(10)) FROM objects`).pluck().get() as string | null) ?? '';
  }

  private text(data: string | Buffer): string {
    if (typeof data === 'string') return data;
    if (!this.cipher) throw new Error('an encrypted object was found but no encryption key is configured');
    return this.cipher.decrypt(data);
  }

  /**
   * Applies a batch in one transaction: each write succeeds or fails on its own (a conflict
   * fails only that write), and the stored revision becomes `revision` whatever failed, so a
   * revision handed out once is never handed out again.
   */
  write(batch: EngineWrite[], revision: number): EngineOutcome[] {
    const outcomes: EngineOutcome[] = [];
    this.followCheckpoints();
    this.db.transaction(() => {
      for (const w of batch) outcomes.push(this.apply(w));
      this.stmts.setRev.run(revision);
    })();
    if (this.wal) Atomics.add(this.wal, WalCounters.writtenKb, writtenKb(batch));
    return outcomes;
  }

  private apply(w: EngineWrite): EngineOutcome {
    const s = this.stmts;
    if (w.kind === 'create') {
      try {
        s.insert.run(w.grp, w.res, w.ns, w.name, w.uid ?? '', w.rev, w.labels ?? null, this.encode(w));
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return { failed: 'exists' };
        throw e;
      }
      this.indexOwners(w, false);
      return true;
    }
    let before = w.before;
    let previous: string | undefined;
    if (before && w.expected !== undefined) {
      const rv = s.rv.get(w.grp, w.res, w.ns, w.name) as number | undefined;
      if (rv === undefined) return { failed: 'notFound' };
      if (rv !== w.expected) return { failed: 'conflict' };
    } else {
      const row = s.current.get(w.grp, w.res, w.ns, w.name) as { uid: string; rv: number; data: string | Buffer } | undefined;
      if (!row) return { failed: 'notFound' };
      if (w.expected !== undefined && row.rv !== w.expected) return { failed: 'conflict' };
      previous = this.text(row.data);
      const meta = (JSON.parse(previous) as { metadata?: { ownerReferences?: { uid: string }[] } }).metadata;
      before = { uid: row.uid, owners: (meta?.ownerReferences ?? []).map((o) => o.uid) };
    }
    if (w.kind === 'update') {
      s.update.run(w.rev, w.labels ?? null, this.encode(w), w.grp, w.res, w.ns, w.name);
      if ((w.uid ?? '') !== before.uid) s.updateUid.run(w.uid ?? '', w.grp, w.res, w.ns, w.name);
      const owners = w.owners ?? [];
      if (owners.length !== before.owners.length || owners.some((o, i) => o !== before.owners[i])) this.indexOwners(w, true);
    } else {
      s.del.run(w.grp, w.res, w.ns, w.name);
      s.clearOwners.run(w.grp, w.res, w.ns, w.name);
    }
    return previous === undefined ? true : { previous };
  }

  private encode(w: EngineWrite): string | Buffer {
    return w.sensitive && this.cipher ? this.cipher.encrypt(w.text!) : w.text!;
  }

  private indexOwners(w: EngineWrite, replace: boolean): void {
    if (replace) this.stmts.clearOwners.run(w.grp, w.res, w.ns, w.name);
    for (const uid of w.owners ?? []) this.stmts.addOwner.run(uid, w.grp, w.res, w.ns, w.name);
  }

  /** The object's JSON text, and whether it is stored encrypted (then it is not to be cached). */
  get(k: EngineKey): { text: string; encrypted: boolean } | undefined {
    const row = this.stmts.current.get(k.grp, k.res, k.ns, k.name) as { data: string | Buffer } | undefined;
    return row ? { text: this.text(row.data), encrypted: typeof row.data !== 'string' } : undefined;
  }

  count(grp: string, res: string, ns?: string): number {
    return (ns ? this.stmts.countNs.get(grp, res, ns) : this.stmts.countAll.get(grp, res)) as number;
  }

  list(q: EngineListQuery): { texts: string[]; continue?: string } {
    const where = ['grp = ?', 'res = ?'];
    const params: unknown[] = [q.grp, q.res];
    if (q.ns) {
      where.push('ns = ?');
      params.push(q.ns);
    }
    for (const r of q.labels ?? []) labelClause(r, where, params);
    const rest: Requirement[] = [];
    for (const r of q.fields ?? []) {
      const col = r.key === 'metadata.name' ? 'name' : r.key === 'metadata.namespace' ? 'ns' : undefined;
      if (col && (r.op === 'in' || r.op === 'notin')) {
        where.push(`${col} ${r.op === 'in' ? '' : 'NOT '}IN (${r.values.map(() => '?').join(', ')})`);
        params.push(...r.values);
      } else rest.push(r);
    }
    if (q.continue) {
      const after = decodeContinue(q.continue);
      where.push('(ns, name) > (?, ?)');
      params.push(after.ns, after.name);
    }
    const limit = q.limit && q.limit > 0 ? q.limit : 0;
    const sql = `SELECT ns, name, data FROM objects WHERE ${where.join(' AND ')} ORDER BY ns, name${limit && !rest.length ? ` LIMIT ${limit + 1}` : ''}`;
    let stmt = this.listCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.listCache.size > 500) this.listCache.clear();
      this.listCache.set(sql, stmt);
    }
    const texts: string[] = [];
    let last: { ns: string; name: string } | undefined;
    for (const row of stmt.iterate(...params) as IterableIterator<{ ns: string; name: string; data: string | Buffer }>) {
      const text = this.text(row.data);
      // selectors the query cannot express are checked on the object itself
      if (rest.length && !matchesFields(JSON.parse(text), rest)) continue;
      if (limit && texts.length === limit) return { texts, continue: encodeContinue(last!.ns, last!.name) };
      texts.push(text);
      last = row;
    }
    return { texts };
  }

  dependents(ownerUid: string): EngineKey[] {
    return this.stmts.dependents.all(ownerUid) as EngineKey[];
  }

  missingOwners(): string[] {
    return this.stmts.missingOwners.all() as string[];
  }

  findByUid(uid: string): (EngineKey & { text: string }) | undefined {
    const r = this.stmts.byUid.get(uid) as Row | undefined;
    return r ? { grp: r.grp, res: r.res, ns: r.ns, name: r.name, text: this.text(r.data) } : undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * What the engine and its checkpointer share, as slots of one Int32Array on a SharedArrayBuffer:
 * the checkpoints made so far, and the kilobytes of object text committed so far (both wrap).
 */
export const WalCounters = { checkpoints: 0, writtenKb: 1, slots: 2 } as const;

/** About what a batch adds to the WAL, in kilobytes: its texts, and a page's worth per write for indexes and the revision. */
function writtenKb(batch: EngineWrite[]): number {
  let bytes = 0;
  for (const w of batch) bytes += (w.text?.length ?? 0) + 4096;
  return Math.ceil(bytes / 1024);
}

/** When the Checkpointer copies the WAL into the database (see shouldCheckpoint). */
export interface CheckpointPolicy {
  /** How often it looks. */
  tickMs: number;
  /** Checkpoint once this much has been written since the last checkpoint... */
  volumeKb: number;
  /** ...or once writes have paused this long... */
  idleMs: number;
  /** ...or once the oldest uncopied write is this old. */
  maxAgeMs: number;
}

export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = { tickMs: 250, volumeKb: 32 * 1024, idleMs: 1000, maxAgeMs: 10_000 };

/**
 * Whether to checkpoint now. A checkpoint copies every page the WAL holds, and during a burst
 * the same pages (the revision, the indexes, the busiest rows) are rewritten in every commit:
 * copying by volume, or once writes pause, copies each of them once per burst instead of once
 * per tick, while the WAL stays bounded and a quiet database is fully checkpointed a second later.
 */
export function shouldCheckpoint(p: CheckpointPolicy, s: { pendingKb: number; sinceWriteMs: number; sinceCheckpointMs: number }): boolean {
  if (s.pendingKb <= 0) return false;
  return s.pendingKb >= p.volumeKb || s.sinceWriteMs >= p.idleMs || s.sinceCheckpointMs >= p.maxAgeMs;
}

/**
 * Checkpoints the WAL of a database that another connection (a SqliteEngine given the same
 * counters) writes, from a thread of its own, so that the copy and the syncs happen while the
 * writer goes on writing. Bumps the checkpoint counter after each checkpoint.
 */
export class Checkpointer {
  private readonly db: Database.Database;
  private readonly timer: NodeJS.Timeout;

  constructor(path: string, wal: Int32Array, policy: CheckpointPolicy = DEFAULT_CHECKPOINT_POLICY) {
    this.db = new Database(path);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
    // it copies pages from the WAL into the file and reads nothing twice: no cache to keep
    this.db.pragma('cache_size = 16');
    // the counters start at zero with the store, perhaps before this thread does
    let copied = 0;
    let seen = 0;
    let wroteAt = Date.now();
    let checkpointAt = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      const written = Atomics.load(wal, WalCounters.writtenKb);
      if (written !== seen) [seen, wroteAt] = [written, now];
      // differences of wrapping counters, read as 32-bit integers
      if (!shouldCheckpoint(policy, { pendingKb: (written - copied) | 0, sinceWriteMs: now - wroteAt, sinceCheckpointMs: now - checkpointAt })) return;
      const [r] = this.db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      Atomics.add(wal, WalCounters.checkpoints, 1);
      [copied, checkpointAt] = [written, now];
      // What was committed during the copy, or held back by a reader's snapshot, is left in
      // the WAL: count a kilobyte as still pending, so that it is copied once writes pause.
      if (r && r.checkpointed < r.log) copied = (copied - 1) | 0;
    }, policy.tickMs);
  }

  close(): void {
    clearInterval(this.timer);
    this.db.close();
  }
}

/**
 * Holds an exclusive lock on `${path}-lock` for as long as the returned handle is open, so that
 * a second process cannot share a database whose connections do not lock it exclusively.
 */
export function holdProcessLock(path: string): Database.Database {
  const lock = new Database(`${path}-lock`);
  try {
    lock.pragma('busy_timeout = 0');
    lock.pragma('journal_mode = MEMORY');
    lock.pragma('locking_mode = EXCLUSIVE');
    // the first write takes the lock; in exclusive mode it is kept until the handle closes
    lock.exec('CREATE TABLE IF NOT EXISTS held (at INTEGER); DELETE FROM held; INSERT INTO held VALUES (1)');
    return lock;
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw inUse(path);
    throw e;
  }
}

function inUse(path: string): Error {
  return new Error(`the database ${path} is in use by another process (is another Pave running on this data directory?)`);
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
  throw new EngineBadRequest(`invalid continue token "${token}"`);
}
