import { ApiError } from '../errors.js';
import type { StoreEvent, StoreWatchOptions } from './store.js';

interface Subscriber {
  opts: StoreWatchOptions;
  onEvent: (e: StoreEvent) => void;
}

/**
 * The recent history of writes held in memory, and the fan-out of new writes to watchers.
 * Like the Kubernetes watch cache: a watch can resume from any revision still in the window;
 * an older one gets 410 Gone and the client relists. Every Store backend feeds one of these
 * in commit order.
 */
export class EventLog {
  private ring: (StoreEvent | undefined)[];
  private start = 0;
  private size = 0;
  private compacted: number;
  private byType = new Map<string, Set<Subscriber>>();
  private everything = new Set<Subscriber>();

  constructor(
    startRevision: number,
    private readonly capacity = 20_000,
  ) {
    this.ring = new Array(capacity);
    this.compacted = startRevision;
  }

  /** Revisions at or below this can no longer be watched from. */
  compactedRevision(): number {
    return this.compacted;
  }

  append(e: StoreEvent): void {
    if (this.size === this.capacity) {
      const oldest = this.ring[this.start]!;
      this.compacted = oldest.revision;
      this.ring[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.size--;
    }
    this.ring[(this.start + this.size) % this.capacity] = e;
    this.size++;
    const typed = this.byType.get(`${e.group}/${e.resource}`);
    if (typed) for (const s of typed) if (matches(s.opts, e)) deliver(s, e);
    for (const s of this.everything) if (matches(s.opts, e)) deliver(s, e);
  }

  subscribe(opts: StoreWatchOptions, onEvent: (e: StoreEvent) => void): () => void {
    const from = opts.fromRevision;
    if (from !== undefined && from < this.compacted) {
      throw ApiError.gone(`too old resource version: ${from} (${this.compacted})`);
    }
    const sub: Subscriber = { opts, onEvent };
    if (from !== undefined) {
      for (let i = 0; i < this.size; i++) {
        const e = this.ring[(this.start + i) % this.capacity]!;
        if (e.revision > from && matches(opts, e)) deliver(sub, e);
      }
    }
    const set = opts.resource ? this.bucket(`${opts.group ?? ''}/${opts.resource}`) : this.everything;
    set.add(sub);
    return () => {
      set.delete(sub);
    };
  }

  private bucket(k: string): Set<Subscriber> {
    let s = this.byType.get(k);
    if (!s) this.byType.set(k, (s = new Set()));
    return s;
  }
}

function matches(o: StoreWatchOptions, e: StoreEvent): boolean {
  if (o.resource !== undefined && (o.resource !== e.resource || (o.group ?? '') !== e.group)) return false;
  if (o.namespace && o.namespace !== e.namespace) return false;
  return true;
}

function deliver(s: Subscriber, e: StoreEvent): void {
  try {
    s.onEvent(e);
  } catch {
    // a watcher's failure is its own; the write and the other watchers go on
  }
}
