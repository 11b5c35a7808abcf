import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import type { Resource } from '../api/types.js';

export type EventType = 'Normal' | 'Warning';

/**
 * Writes core/v1 Events about objects, as `kubectl describe` and the portal show them.
 * Repeats of the same reason and message on the same object update one Event's count instead
 * of creating new ones. Recording never fails the caller: a lost Event is logged, not thrown.
 */
export class EventRecorder {
  private recent = new Map<string, { count: number; first: string }>();

  constructor(
    private readonly client: Client,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  event(obj: Resource, type: EventType, reason: string, message: string): void {
    void this.write(obj, type, reason, message);
  }

  private async write(obj: Resource, type: EventType, reason: string, message: string): Promise<void> {
    const m = obj.metadata;
    const namespace = m.namespace || 'default';
    const digest = createHash('sha1').update(`${m.uid}/${type}/${reason}/${message}`).digest('hex').slice(0, 10);
    const name = `${m.name}.${digest}`.slice(0, 253);
    const now = new Date().toISOString();
    const key = `${namespace}/${name}`;
    const seen = this.recent.get(key);
    const count = (seen?.count ?? 0) + 1;
    this.recent.set(key, { count, first: seen?.first ?? now });
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value!);
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
      reason,
      message,
      type,
      count,
      firstTimestamp: seen?.first ?? now,
      lastTimestamp: now,
      source: { component: this.component },
      reportingComponent: this.component,
    };
    try {
      // the first of its kind is a plain create, cheaper than an apply; an Event left by an
      // earlier run of the process under the same name is updated by apply as repeats are
      if (!seen) {
        const created = await this.client.create(event).then(
          () => true,
          (e) => {
            if (e instanceof ApiError && e.code === 409) return false;
            throw e;
          },
        );
        if (created) return;
      }
      await this.client.apply(event, { fieldManager: this.component, force: true });
    } catch (err) {
      this.log.debug({ err, object: `${obj.kind}/${m.namespace ?? ''}/${m.name}`, reason }, 'could not record event');
    }
  }
}
