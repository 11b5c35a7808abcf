import type { Logger } from 'pino';
import { SYSTEM } from './admission.js';
import { ApiError } from './errors.js';
import type { ResourceService } from './service.js';
import type { Resource } from './types.js';

/** How long an Event is kept after it last happened, unless the platform is told otherwise (kube-apiserver's --event-ttl). */
export const DEFAULT_EVENT_TTL_MS = 3_600_000;

/**
 * Deletes core/v1 Events once they last happened longer ago than the TTL, as kube-apiserver's
 * --event-ttl does. Events are recent history for whoever is debugging; without an end they
 * would outgrow everything else (a claim's composed resources leave two each, and they stay
 * after the claim is gone). An Event that repeats moves its time on and stays.
 *
 * It knows every Event from a watch, so a sweep reads nothing from disk; each deletion names
 * the revision it saw, so an Event that repeated in the meantime is left alone.
 */
export class EventExpiry {
  /** namespace/name → when it expires and the revision that time was read from. */
  private due = new Map<string, { at: number; rv: string }>();
  private stopWatch?: () => void;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly service: ResourceService,
    private readonly log: Logger,
    private readonly ttlMs = DEFAULT_EVENT_TTL_MS,
  ) {}

  async start(): Promise<void> {
    const store = this.service.store;
    const list = await store.list('', 'events');
    for (const e of list.items) this.track(e);
    this.stopWatch = store.watch({ fromRevision: list.revision, group: '', resource: 'events' }, (e) => {
      if (e.type === 'DELETED') this.due.delete(keyOf(e.object));
      else this.track(e.object);
    });
    // often enough that nothing outlives its TTL by more than a quarter of it (at most a minute)
    const every = Math.max(100, Math.min(60_000, this.ttlMs / 4));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
    await this.sweep();
  }

  async stop(): Promise<void> {
    this.stopWatch?.();
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Deletes every Event past its time; one sweep at a time. */
  sweep(): Promise<void> {
    this.sweeping ??= this.deleteExpired().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private track(e: Resource): void {
    this.due.set(keyOf(e), { at: lastHappened(e) + this.ttlMs, rv: e.metadata.resourceVersion ?? '' });
  }

  private async deleteExpired(): Promise<void> {
    const now = Date.now();
    const expired = [...this.due].filter(([, d]) => d.at <= now);
    if (!expired.length) return;
    let deleted = 0;
    for (const [key, d] of expired) {
      const [namespace, name] = key.split('/') as [string, string];
      try {
        await this.service.delete(this.service.target('v1', 'Event', namespace), name, { user: SYSTEM }, { preconditions: { resourceVersion: d.rv } });
        deleted++;
      } catch (err) {
        // gone already, or it happened again since: either way there is nothing to do now
        if (err instanceof ApiError && (err.code === 404 || err.code === 409)) continue;
        this.log.warn({ err, object: `Event/${key}` }, 'could not delete an expired event; the next sweep tries again');
      }
    }
    this.log.debug({ deleted, ttlMs: this.ttlMs }, 'expired events deleted');
  }
}

function keyOf(e: Resource): string {
  return `${e.metadata.namespace ?? ''}/${e.metadata.name}`;
}

/** When an Event last happened: its lastTimestamp, its series' or its own eventTime, else its creation. */
function lastHappened(e: Resource): number {
  const ev = e as Resource & { lastTimestamp?: string; eventTime?: string; series?: { lastObservedTime?: string } };
  for (const t of [ev.lastTimestamp, ev.series?.lastObservedTime, ev.eventTime, e.metadata.creationTimestamp]) {
    const ms = t ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return Date.now();
}
