import type { Resource } from '../../api/types.js';
import type { Provider } from '../../controlplane/provider.js';
import { arr, bool, enumOf, managedCrd, obj, providerConfigCrd, secretKeySelector, str } from '../managed-crd.js';
import { RedisServers, redisUrl } from './server.js';
import { RedisUserClient } from './user.js';

export const REDIS_GROUP = 'redis.pave.dev';

function redisCrds(): Resource[] {
  return [
    providerConfigCrd(
      REDIS_GROUP,
      obj({ credentials: obj({ source: enumOf('Secret'), secretRef: secretKeySelector }, ['source', 'secretRef']) }, ['credentials']),
    ),
    managedCrd({
      group: REDIS_GROUP,
      kind: 'User',
      forProvider: obj({
        keyPrefix: str,
        channels: bool,
        enabled: bool,
        commands: arr(str),
        passwordSecretRef: secretKeySelector,
      }),
      atProvider: obj({ enabled: bool, keys: arr(str), channels: arr(str) }),
      columns: [{ name: 'PREFIX', type: 'string', jsonPath: '.spec.forProvider.keyPrefix' }],
      categories: ['crossplane', 'managed', 'redis'],
    }),
  ];
}

/**
 * The Redis provider: ACL users confined to a key prefix, each with a connection secret holding
 * a ready-to-use `url`. `close` releases the server connections when the platform stops.
 */
export function redisProvider(): Provider & { close(): Promise<void> } {
  const servers = new RedisServers();
  return {
    name: 'provider-redis',
    crds: redisCrds(),
    providerConfig: { apiVersion: `${REDIS_GROUP}/v1alpha1`, kind: 'ProviderConfig' },
    managed: [{ apiVersion: `${REDIS_GROUP}/v1alpha1`, kind: 'User', connect: async (pc, ctx) => new RedisUserClient(servers.get(await redisUrl(pc, ctx)), ctx) }],
    close: () => servers.closeAll(),
  };
}
