import type { Resource } from '../types.js';

/**
 * A cached object: the object itself (written or parsed), its stored JSON text (read), or both.
 * A written object keeps no text: the string would outlive the write only to be copied by each
 * young-generation collection, and an HTTP GET can serialise the object again.
 */
export type CachedObject = { obj: Resource; text?: string } | { obj?: Resource; text: string };

/**
 * The SQLite store's cache of recently used objects, so that a point read costs no round trip
 * to the store's thread and no parse. Cached objects are shared (for writes, they are the
 * objects watchers were given) and never mutated.
 *
 * About `limit` recently used entries are held, in two generations: new and touched entries go
 * to the young one, and when it is full the old one is let go and the young one becomes old. A
 * hit costs a lookup, not the delete and re-insert of an exact LRU order (which was a few per
 * cent of the API thread in a burst of claims).
 *
 * An entry let go keeps a weak reference to its object: while something else still holds that
 * object (the informers' caches hold every claim, composite and managed resource their
 * controllers watch), it stays readable from here for the price of that reference, and once
 * nothing does it is freed as before. Without this, a burst that touches more objects than
 * `limit` reads most of them back from disk.
 *
 * The caller keeps it exact: every committed write to a key must `set` or `delete` it.
 */
export class ReadCache {
  private young = new Map<string, CachedObject>();
  private old = new Map<string, CachedObject>();
  private weak = new Map<string, WeakRef<Resource>>();
  private readonly generation: number;
  /** Weak entries whose objects were freed are swept when the map reaches this size. */
  private sweepAt: number;

  constructor(limit: number) {
    this.generation = Math.max(1, Math.ceil(limit / 2));
    this.sweepAt = limit;
  }

  /** The object at `k`, or undefined if it is not cached. Shared: never mutate it. */
  object(k: string): Resource | undefined {
    const hit = this.held(k);
    if (hit !== undefined) return (hit.obj ??= JSON.parse(hit.text!) as Resource);
    const ref = this.weak.get(k);
    if (ref === undefined) return undefined;
    const obj = ref.deref();
    if (obj === undefined) this.weak.delete(k);
    return obj;
  }

  /** The stored JSON text at `k`, if held. */
  text(k: string): string | undefined {
    const hit = this.held(k);
    return hit && (hit.text ?? JSON.stringify(hit.obj));
  }

  set(k: string, entry: CachedObject): void {
    this.old.delete(k);
    this.weak.delete(k);
    this.keep(k, entry);
  }

  delete(k: string): void {
    this.young.delete(k);
    this.old.delete(k);
    this.weak.delete(k);
  }

  /** The held entry at `k`, moved to the young generation if it was old. */
  private held(k: string): CachedObject | undefined {
    const young = this.young.get(k);
    if (young !== undefined) return young;
    const old = this.old.get(k);
    if (old === undefined) return undefined;
    this.old.delete(k);
    this.keep(k, old);
    return old;
  }

  private keep(k: string, entry: CachedObject): void {
    this.young.set(k, entry);
    if (this.young.size < this.generation) return;
    for (const [key, out] of this.old) if (out.obj) this.weak.set(key, new WeakRef(out.obj));
    this.old = this.young;
    this.young = new Map();
    if (this.weak.size < this.sweepAt) return;
    for (const [key, ref] of this.weak) if (ref.deref() === undefined) this.weak.delete(key);
    // twice what survived: sweeping stays a small share of the work however many are alive
    this.sweepAt = Math.max(this.generation * 2, this.weak.size * 2);
  }
}
