import type { EngineKey, EngineListQuery, EngineWrite } from './sqlite-engine.js';

/** What the store's thread is started with. */
export interface EngineWorkerData {
  /** The engine, or the checkpointer of the engine's database. */
  role: 'engine' | 'checkpointer';
  path: string;
  /** The encryption key's bytes, when sensitive types are stored encrypted. */
  key?: Uint8Array;
  /** Shared between the two: see WalCounters. */
  wal?: Int32Array;
}

/** What the API thread asks of the store's thread. */
export type EngineCall =
  | { op: 'write'; batch: Uint8Array; revision: number }
  | { op: 'get'; key: EngineKey }
  | { op: 'list'; query: EngineListQuery }
  | { op: 'keys' }
  | { op: 'count'; grp: string; res: string; ns?: string }
  | { op: 'dependents'; uid: string }
  | { op: 'missingOwners' }
  | { op: 'findByUid'; uid: string }
  | { op: 'close' };

/** A call as sent: answered by the EngineResponse with the same id. */
export type EngineRequest = EngineCall & { id: number };

export type EngineResponse = { id: number; value?: unknown; error?: { message: string; badRequest?: boolean } };

// A batch travels as one buffer of its own, handed over (transferred), not copied: posting
// strings or objects makes the API thread serialise them, which cost it more than the JSON
// itself. Each write is a JSON header and the object's JSON, each preceded by its length.

export function encodeBatch(batch: EngineWrite[]): Uint8Array {
  const headers = batch.map((w) => JSON.stringify([w.kind, w.grp, w.res, w.ns, w.name, w.rev, w.uid ?? null, w.labels ?? null, w.sensitive ? 1 : 0, w.expected ?? null, w.owners ?? null, w.before ?? null]));
  let size = 0;
  batch.forEach((w, i) => (size += 8 + Buffer.byteLength(headers[i]!) + (w.text ? Buffer.byteLength(w.text) : 0)));
  // a buffer with its own memory: a pooled one would take the pool with it when transferred
  const buf = Buffer.allocUnsafeSlow(size);
  let at = 0;
  const put = (s: string) => {
    const n = buf.write(s, at + 4);
    buf.writeUInt32LE(n, at);
    at += 4 + n;
  };
  batch.forEach((w, i) => {
    put(headers[i]!);
    put(w.text ?? '');
  });
  return buf;
}

export function decodeBatch(bytes: Uint8Array): EngineWrite[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: EngineWrite[] = [];
  let at = 0;
  const take = () => {
    const n = buf.readUInt32LE(at);
    const s = buf.toString('utf8', at + 4, at + 4 + n);
    at += 4 + n;
    return s;
  };
  while (at < buf.length) {
    const [kind, grp, res, ns, name, rev, uid, labels, sensitive, expected, owners, before] = JSON.parse(take());
    const text = take();
    out.push({ kind, grp, res, ns, name, rev, uid: uid ?? undefined, labels, sensitive: sensitive === 1, expected: expected ?? undefined, owners: owners ?? undefined, before: before ?? undefined, text: text || undefined });
  }
  return out;
}
