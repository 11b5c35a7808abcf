import type { Resource } from '../../api/types.js';
import type { Provider } from '../../controlplane/provider.js';
import { arr, enumOf, int, managedCrd, obj, providerConfigCrd, secretKeySelector, str } from '../managed-crd.js';
import { ConsumerClient, StreamClient } from './clients.js';
import { NatsServers, natsUrl } from './server.js';

export const NATS_GROUP = 'nats.pave.dev';
const API_VERSION = `${NATS_GROUP}/v1alpha1`;

function natsCrds(): Resource[] {
  return [
    providerConfigCrd(NATS_GROUP, obj({ credentials: obj({ source: enumOf('Secret'), secretRef: secretKeySelector }, ['source', 'secretRef']) }, ['credentials'])),
    managedCrd({
      group: NATS_GROUP,
      kind: 'Stream',
      forProvider: obj({
        subjects: arr(str, { minItems: 1 }),
        retention: enumOf('limits', 'interest', 'workqueue'),
        storage: enumOf('file', 'memory'),
        discard: enumOf('old', 'new'),
        maxMsgs: int,
        maxBytes: int,
        maxAge: str,
        replicas: int,
      }),
      required: ['subjects'],
      atProvider: obj({ messages: int, bytes: int, consumers: int, subjects: arr(str) }),
      categories: ['crossplane', 'managed', 'nats'],
    }),
    managedCrd({
      group: NATS_GROUP,
      kind: 'Consumer',
      forProvider: obj({
        stream: str,
        filterSubject: str,
        ackPolicy: enumOf('explicit', 'all', 'none'),
        deliverPolicy: enumOf('all', 'last', 'new', 'last_per_subject'),
        maxDeliver: int,
        ackWait: str,
      }),
      required: ['stream'],
      atProvider: obj({ pending: int, ackPending: int, delivered: int }),
      categories: ['crossplane', 'managed', 'nats'],
    }),
  ];
}

/** The NATS provider: JetStream streams and durable consumers. */
export function natsProvider(): Provider & { close(): Promise<void> } {
  const servers = new NatsServers();
  return {
    name: 'provider-nats',
    crds: natsCrds(),
    providerConfig: { apiVersion: API_VERSION, kind: 'ProviderConfig' },
    managed: [
      { apiVersion: API_VERSION, kind: 'Stream', connect: async (pc, ctx) => new StreamClient(servers.get(await natsUrl(pc, ctx))) },
      { apiVersion: API_VERSION, kind: 'Consumer', connect: async (pc, ctx) => new ConsumerClient(servers.get(await natsUrl(pc, ctx))) },
    ],
    close: () => servers.closeAll(),
  };
}
