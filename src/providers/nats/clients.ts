import type { ConsumerConfig, StreamConfig, StreamInfo } from 'nats';
import type { ConnectionDetails, ExternalClient, ExternalObservation, ManagedResource } from '../../controlplane/provider.js';
import { externalName, mrLabel } from '../managed-resource.js';
import { durationNanos, type NatsServer } from './server.js';

/**
 * nats.pave.dev Stream: a JetStream stream. observeMany lists the server's streams (one request
 * per 256) instead of asking for each. Limits that can change in place are updated; a stream
 * deleted out of band is recreated empty.
 */
export class StreamClient implements ExternalClient {
  constructor(private readonly server: NatsServer) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    const info = await this.server.jetstream((jsm) => jsm.streams.info(externalName(mr)), { notFound: 'undefined' });
    return this.observation(mr, info);
  }

  async observeMany(mrs: ManagedResource[]): Promise<ExternalObservation[]> {
    const all = await this.server.jetstream(async (jsm) => {
      const found = new Map<string, StreamInfo>();
      for await (const s of jsm.streams.list()) found.set(s.config.name, s);
      return found;
    });
    return mrs.map((mr) => this.observation(mr, all!.get(externalName(mr))));
  }

  async create(mr: ManagedResource): Promise<{ connectionDetails: ConnectionDetails }> {
    const cfg = streamConfig(mr);
    // add with an identical config succeeds, so a retry after a crash converges.
    await this.server.jetstream((jsm) => jsm.streams.add(cfg));
    return { connectionDetails: this.details(mr) };
  }

  async update(mr: ManagedResource): Promise<{}> {
    const cfg = streamConfig(mr);
    await this.server.jetstream((jsm) => jsm.streams.update(cfg.name!, cfg));
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    await this.server.jetstream((jsm) => jsm.streams.delete(externalName(mr)), { notFound: 'undefined' });
  }

  private observation(mr: ManagedResource, info: StreamInfo | undefined): ExternalObservation {
    if (!info) return { resourceExists: false, resourceUpToDate: false };
    const want = streamConfig(mr);
    const have = info.config as unknown as Record<string, unknown>;
    const drift = (Object.keys(want) as (keyof StreamConfig)[])
      .filter((k) => k !== 'name' && JSON.stringify(have[k]) !== JSON.stringify(want[k]))
      .map((k) => `${k} is ${JSON.stringify(have[k])}, want ${JSON.stringify(want[k])}`);
    return {
      resourceExists: true,
      resourceUpToDate: drift.length === 0,
      diff: drift.join('; ') || undefined,
      atProvider: { messages: info.state.messages, bytes: info.state.bytes, consumers: info.state.consumer_count, subjects: info.config.subjects },
      connectionDetails: this.details(mr),
    };
  }

  private details(mr: ManagedResource): ConnectionDetails {
    return { url: this.server.url, stream: externalName(mr), subjects: (mr.spec.forProvider?.subjects ?? []).join(',') };
  }
}

function streamConfig(mr: ManagedResource): Partial<StreamConfig> {
  const p = mr.spec.forProvider ?? {};
  if (!Array.isArray(p.subjects) || !p.subjects.length) throw new Error(`${mrLabel(mr)}: spec.forProvider.subjects must list at least one subject`);
  const cfg: Record<string, unknown> = { name: externalName(mr), subjects: p.subjects };
  if (p.retention) cfg.retention = p.retention;
  if (p.storage) cfg.storage = p.storage;
  if (p.discard) cfg.discard = p.discard;
  if (p.maxMsgs !== undefined) cfg.max_msgs = p.maxMsgs;
  if (p.maxBytes !== undefined) cfg.max_bytes = p.maxBytes;
  if (p.maxAge) cfg.max_age = durationNanos(p.maxAge, `${mrLabel(mr)}: spec.forProvider.maxAge`);
  if (p.replicas !== undefined) cfg.num_replicas = p.replicas;
  return cfg as Partial<StreamConfig>;
}

/** nats.pave.dev Consumer: a durable JetStream consumer on a stream. */
export class ConsumerClient implements ExternalClient {
  constructor(private readonly server: NatsServer) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    const { stream, cfg } = consumerConfig(mr);
    const info = await this.server.jetstream((jsm) => jsm.consumers.info(stream, cfg.durable_name!), { notFound: 'undefined' });
    if (!info) return { resourceExists: false, resourceUpToDate: false };
    const have = info.config as unknown as Record<string, unknown>;
    const drift = (['filter_subject', 'max_deliver', 'ack_wait'] as const)
      .filter((k) => cfg[k] !== undefined && JSON.stringify(have[k]) !== JSON.stringify(cfg[k]))
      .map((k) => `${k} is ${JSON.stringify(have[k])}, want ${JSON.stringify(cfg[k])}`);
    return {
      resourceExists: true,
      resourceUpToDate: drift.length === 0,
      diff: drift.join('; ') || undefined,
      atProvider: { pending: info.num_pending, ackPending: info.num_ack_pending, delivered: info.delivered.stream_seq },
      connectionDetails: { url: this.server.url, stream, consumer: cfg.durable_name! },
    };
  }

  async create(mr: ManagedResource): Promise<{ connectionDetails: ConnectionDetails }> {
    const { stream, cfg } = consumerConfig(mr);
    await this.server.jetstream((jsm) => jsm.consumers.add(stream, cfg));
    return { connectionDetails: { url: this.server.url, stream, consumer: cfg.durable_name! } };
  }

  async update(mr: ManagedResource): Promise<{}> {
    const { stream, cfg } = consumerConfig(mr);
    await this.server.jetstream((jsm) => jsm.consumers.update(stream, cfg.durable_name!, cfg));
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    const { stream, cfg } = consumerConfig(mr);
    await this.server.jetstream((jsm) => jsm.consumers.delete(stream, cfg.durable_name!), { notFound: 'undefined' });
  }
}

function consumerConfig(mr: ManagedResource): { stream: string; cfg: Partial<ConsumerConfig> } {
  const p = mr.spec.forProvider ?? {};
  if (!p.stream) throw new Error(`${mrLabel(mr)}: spec.forProvider.stream is required`);
  const cfg: Record<string, unknown> = { durable_name: externalName(mr), ack_policy: p.ackPolicy ?? 'explicit', deliver_policy: p.deliverPolicy ?? 'all' };
  if (p.filterSubject) cfg.filter_subject = p.filterSubject;
  if (p.maxDeliver !== undefined) cfg.max_deliver = p.maxDeliver;
  if (p.ackWait) cfg.ack_wait = durationNanos(p.ackWait, `${mrLabel(mr)}: spec.forProvider.ackWait`);
  return { stream: p.stream, cfg: cfg as Partial<ConsumerConfig> };
}
