import type { ConnectionDetails, ExternalClient, ExternalObservation, ManagedResource } from '../../controlplane/provider.js';
import { externalName, mrLabel } from '../managed-resource.js';
import type { RabbitServer } from './server.js';

/**
 * rabbitmq.pave.dev Queue. AMQP 0-9-1 can say whether a queue exists and how many messages and
 * consumers it has, not how it was declared; a queue's declaration cannot change in place, so
 * what this client repairs is a queue deleted out of band. The connection secret carries the
 * broker URL of the ProviderConfig and the queue's name.
 */
export class QueueClient implements ExternalClient {
  constructor(private readonly server: RabbitServer) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    const name = externalName(mr);
    const ok = await this.server.withChannel((ch) => ch.checkQueue(name), { notFound: 'undefined' });
    if (!ok) return { resourceExists: false, resourceUpToDate: false };
    return { resourceExists: true, resourceUpToDate: true, atProvider: { messageCount: ok.messageCount, consumerCount: ok.consumerCount }, connectionDetails: this.details(mr) };
  }

  async create(mr: ManagedResource): Promise<{ connectionDetails: ConnectionDetails }> {
    const p = mr.spec.forProvider ?? {};
    // assertQueue is idempotent for an identical declaration; a different one fails with 406, naming the queue.
    await this.server.withChannel((ch) => ch.assertQueue(externalName(mr), { durable: p.durable ?? true, autoDelete: p.autoDelete ?? false, exclusive: false, arguments: p.arguments ?? {} }));
    return { connectionDetails: this.details(mr) };
  }

  async update(): Promise<{}> {
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    await this.server.withChannel((ch) => ch.deleteQueue(externalName(mr)), { notFound: 'undefined' });
  }

  private details(mr: ManagedResource): ConnectionDetails {
    return { url: this.server.url, endpoint: this.server.host, port: String(this.server.port), queue: externalName(mr) };
  }
}

/** rabbitmq.pave.dev Exchange: direct, fanout, topic or headers. */
export class ExchangeClient implements ExternalClient {
  constructor(private readonly server: RabbitServer) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    const ok = await this.server.withChannel(async (ch) => (await ch.checkExchange(externalName(mr)), true), { notFound: 'undefined' });
    return ok ? { resourceExists: true, resourceUpToDate: true, atProvider: { type: mr.spec.forProvider?.type ?? 'direct' } } : { resourceExists: false, resourceUpToDate: false };
  }

  async create(mr: ManagedResource): Promise<{}> {
    const p = mr.spec.forProvider ?? {};
    await this.server.withChannel((ch) => ch.assertExchange(externalName(mr), p.type ?? 'direct', { durable: p.durable ?? true, autoDelete: p.autoDelete ?? false, internal: p.internal ?? false, arguments: p.arguments ?? {} }));
    return {};
  }

  async update(): Promise<{}> {
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    await this.server.withChannel((ch) => ch.deleteExchange(externalName(mr)), { notFound: 'undefined' });
  }
}

/**
 * rabbitmq.pave.dev Binding from an exchange to a queue or another exchange. AMQP 0-9-1 cannot
 * list bindings, and binding is idempotent, so a Binding exists when both ends exist and is
 * bound again on every update; observe never binds.
 */
export class BindingClient implements ExternalClient {
  constructor(private readonly server: RabbitServer) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    const b = binding(mr);
    const source = await this.server.withChannel(async (ch) => (await ch.checkExchange(b.source), true), { notFound: 'undefined' });
    const dest = await this.server.withChannel(async (ch) => (b.destinationType === 'exchange' ? await ch.checkExchange(b.destination) : await ch.checkQueue(b.destination), true), { notFound: 'undefined' });
    if (!source || !dest) return { resourceExists: false, resourceUpToDate: false, diff: !source ? `exchange ${b.source} does not exist` : `${b.destinationType} ${b.destination} does not exist` };
    return { resourceExists: true, resourceUpToDate: true, atProvider: { source: b.source, destination: b.destination, routingKey: b.routingKey } };
  }

  async create(mr: ManagedResource): Promise<{}> {
    const b = binding(mr);
    await this.server.withChannel((ch) => (b.destinationType === 'exchange' ? ch.bindExchange(b.destination, b.source, b.routingKey, b.arguments) : ch.bindQueue(b.destination, b.source, b.routingKey, b.arguments)));
    return {};
  }

  async update(mr: ManagedResource): Promise<{}> {
    return this.create(mr);
  }

  async delete(mr: ManagedResource): Promise<void> {
    const b = binding(mr);
    await this.server.withChannel((ch) => (b.destinationType === 'exchange' ? ch.unbindExchange(b.destination, b.source, b.routingKey, b.arguments) : ch.unbindQueue(b.destination, b.source, b.routingKey, b.arguments)), { notFound: 'undefined' });
  }
}

function binding(mr: ManagedResource) {
  const p = mr.spec.forProvider ?? {};
  if (!p.source) throw new Error(`${mrLabel(mr)}: spec.forProvider.source (an exchange) is required`);
  if (!p.destination) throw new Error(`${mrLabel(mr)}: spec.forProvider.destination (a queue or exchange) is required`);
  return { source: p.source as string, destination: p.destination as string, destinationType: (p.destinationType ?? 'queue') as 'queue' | 'exchange', routingKey: (p.routingKey ?? '') as string, arguments: p.arguments ?? {} };
}
