import type { Resource } from '../../api/types.js';
import type { Provider } from '../../controlplane/provider.js';
import type { Zone } from '../../dns/zone.js';
import { arr, enumOf, int, managedCrd, obj, str } from '../managed-crd.js';
import { RecordClient } from './record.js';

export const DNS_GROUP = 'dns.pave.dev';

const healthCheck = obj({
  type: enumOf('HTTP', 'TCP'),
  url: str,
  host: str,
  port: int,
  intervalSeconds: { type: 'number', exclusiveMinimum: 0 },
  timeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
  failureThreshold: { type: 'integer', minimum: 1 },
  successThreshold: { type: 'integer', minimum: 1 },
}, ['type']);
const endpoint = obj({ targets: arr(str, { minItems: 1 }), weight: { type: 'integer', minimum: 0 }, healthCheck }, ['targets']);

function dnsCrds(): Resource[] {
  return [
    managedCrd({
      group: DNS_GROUP,
      kind: 'Record',
      forProvider: obj({
        name: str,
        type: enumOf('A', 'AAAA', 'CNAME', 'TXT'),
        ttl: { type: 'integer', minimum: 0 },
        targets: arr(str, { minItems: 1 }),
        failover: obj({ primary: endpoint, secondary: endpoint }, ['primary', 'secondary']),
        weighted: arr(endpoint, { minItems: 1 }),
      }),
      atProvider: obj({ fqdn: str, answers: arr(str), endpoints: arr({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) }),
      columns: [
        { name: 'NAME', type: 'string', jsonPath: '.spec.forProvider.name' },
        { name: 'TYPE', type: 'string', jsonPath: '.spec.forProvider.type' },
        { name: 'ANSWERS', type: 'string', jsonPath: '.status.atProvider.answers' },
      ],
      categories: ['crossplane', 'managed', 'dns'],
    }),
  ];
}

/**
 * Records on Pave's built-in DNS server. There is no ProviderConfig: the server is part of
 * the process, so a Record needs no credentials and names no backend but this one.
 */
export function dnsProvider(zone: Zone): Provider {
  return {
    name: 'provider-dns',
    crds: dnsCrds(),
    managed: [{ apiVersion: `${DNS_GROUP}/v1alpha1`, kind: 'Record', connect: async () => new RecordClient(zone) }],
  };
}
