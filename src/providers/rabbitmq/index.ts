import type { Resource } from '../../api/types.js';
import type { Provider } from '../../controlplane/provider.js';
import { bool, enumOf, int, managedCrd, obj, providerConfigCrd, secretKeySelector, str } from '../managed-crd.js';
import { BindingClient, ExchangeClient, QueueClient } from './clients.js';
import { RabbitServers, rabbitUrl } from './server.js';

export const RABBITMQ_GROUP = 'rabbitmq.pave.dev';
const API_VERSION = `${RABBITMQ_GROUP}/v1alpha1`;
const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function rabbitmqCrds(): Resource[] {
  return [
    providerConfigCrd(RABBITMQ_GROUP, obj({ credentials: obj({ source: enumOf('Secret'), secretRef: secretKeySelector }, ['source', 'secretRef']) }, ['credentials'])),
    managedCrd({
      group: RABBITMQ_GROUP,
      kind: 'Queue',
      forProvider: obj({ durable: bool, autoDelete: bool, arguments: preserve }),
      atProvider: obj({ messageCount: int, consumerCount: int }),
      categories: ['crossplane', 'managed', 'rabbitmq'],
    }),
    managedCrd({
      group: RABBITMQ_GROUP,
      kind: 'Exchange',
      forProvider: obj({ type: enumOf('direct', 'fanout', 'topic', 'headers'), durable: bool, autoDelete: bool, internal: bool, arguments: preserve }),
      categories: ['crossplane', 'managed', 'rabbitmq'],
    }),
    managedCrd({
      group: RABBITMQ_GROUP,
      kind: 'Binding',
      forProvider: obj({ source: str, destination: str, destinationType: enumOf('queue', 'exchange'), routingKey: str, arguments: preserve }),
      required: ['source', 'destination'],
      categories: ['crossplane', 'managed', 'rabbitmq'],
    }),
  ];
}

/** The RabbitMQ provider: queues, exchanges and bindings over AMQP 0-9-1. */
export function rabbitmqProvider(): Provider & { close(): Promise<void> } {
  const servers = new RabbitServers();
  const connect = async (pc: Resource | undefined, ctx: Parameters<typeof rabbitUrl>[1]) => servers.get(await rabbitUrl(pc, ctx));
  return {
    name: 'provider-rabbitmq',
    crds: rabbitmqCrds(),
    providerConfig: { apiVersion: API_VERSION, kind: 'ProviderConfig' },
    managed: [
      { apiVersion: API_VERSION, kind: 'Queue', connect: async (pc, ctx) => new QueueClient(await connect(pc, ctx)) },
      { apiVersion: API_VERSION, kind: 'Exchange', connect: async (pc, ctx) => new ExchangeClient(await connect(pc, ctx)) },
      { apiVersion: API_VERSION, kind: 'Binding', connect: async (pc, ctx) => new BindingClient(await connect(pc, ctx)) },
    ],
    close: () => servers.closeAll(),
  };
}
