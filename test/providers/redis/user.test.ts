import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisServer, redisUrl } from '../../../src/providers/redis/server.js';
import { RedisUserClient } from '../../../src/providers/redis/user.js';
import { startPlatform } from '../../support/platform.js';
import { managed, providerContext, requireService, secret, uniqueName } from '../support.js';

const API = 'redis.pave.dev/v1alpha1';

describe('Redis ACL user provider against a real server', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let server: RedisServer;
  const users: string[] = [];

  before(async () => {
    await requireService('Redis', 6379);
    p = await startPlatform({ listen: false, modules: [] });
    server = new RedisServer('redis://127.0.0.1:6379');
  });

  after(async () => {
    for (const u of users) await server.call('ACL', 'DELUSER', u).catch(() => undefined);
    await server.close();
    await p.close();
  });

  it('creates a user confined to its prefix whose connection URL works, and repairs drift', async () => {
    const client = new RedisUserClient(server, providerContext(p.client));
    const name = uniqueName('pave-cache');
    users.push(name);
    const mr = managed(API, 'User', name, { keyPrefix: `${name}:` });
    assert.equal((await client.observe(mr)).resourceExists, false);
    const { connectionDetails } = await client.create(mr);
    assert.equal(connectionDetails.keyPrefix, `${name}:`);
    assert.match(connectionDetails.url, new RegExp(`^redis://${name}:[^@]+@127\\.0\\.0\\.1:6379$`));
    const obs = await client.observe(mr);
    assert.equal(obs.resourceExists, true);
    assert.equal(obs.resourceUpToDate, true);

    const app = new Redis(connectionDetails.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await app.connect();
    try {
      await app.set(`${name}:greeting`, 'hello');
      assert.equal(await app.get(`${name}:greeting`), 'hello');
      await assert.rejects(app.set('someone-else:key', 'x'), /NOPERM/);
      await app.del(`${name}:greeting`);
    } finally {
      app.disconnect();
    }

    // Out-of-band change: the user may now touch every key.
    await server.call('ACL', 'SETUSER', name, 'allkeys');
    const drifted = await client.observe(mr);
    assert.equal(drifted.resourceUpToDate, false);
    assert.match(drifted.diff!, /keys are/);
    await client.update(mr);
    assert.equal((await client.observe(mr)).resourceUpToDate, true);
    // The generated password survives an update: the published URL still logs in.
    const again = new Redis(connectionDetails.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await again.connect();
    assert.equal(await again.call('PING'), 'PONG');
    again.disconnect();

    // Out-of-band deletion: observed as missing, recreated with a new URL.
    await server.call('ACL', 'DELUSER', name);
    assert.equal((await client.observe(mr)).resourceExists, false);
    const recreated = await client.create(mr);
    assert.notEqual(recreated.connectionDetails.password, connectionDetails.password);

    await client.delete(mr);
    await client.delete(mr);
    assert.equal((await client.observe(mr)).resourceExists, false);
  });

  it('observes many users with one ACL LIST', async () => {
    const client = new RedisUserClient(server, providerContext(p.client));
    const names = Array.from({ length: 10 }, () => uniqueName('pave-many'));
    users.push(...names);
    const mrs = names.map((n) => managed(API, 'User', n, {}));
    for (const mr of mrs.slice(0, 4)) await client.create(mr);
    const before = server.commands;
    const obs = await client.observeMany(mrs);
    assert.equal(server.commands - before, 1);
    assert.deepEqual(obs.map((o) => o.resourceExists), [true, true, true, true, false, false, false, false, false, false]);
  });

  it('checks a password from a Secret and reads the server URL from the ProviderConfig', async () => {
    const ctx = providerContext(p.client);
    const name = uniqueName('pave-pw');
    users.push(name);
    await p.client.create(secret('redis-admin', 'default', { url: 'redis://127.0.0.1:6379' }));
    await p.client.create(secret(name, 'default', { password: 'first-password' }));
    const pc = { apiVersion: API, kind: 'ProviderConfig', metadata: { name: 'local' }, spec: { credentials: { source: 'Secret', secretRef: { name: 'redis-admin', namespace: 'default', key: 'url' } } } };
    assert.equal(await redisUrl(pc, ctx), 'redis://127.0.0.1:6379');
    const client = new RedisUserClient(server, ctx);
    const mr = managed(API, 'User', name, { passwordSecretRef: { name, namespace: 'default', key: 'password' } });
    await client.create(mr);
    assert.equal((await client.observe(mr)).resourceUpToDate, true);
    await server.call('ACL', 'SETUSER', name, 'resetpass', '>other');
    assert.match((await client.observe(mr)).diff!, /password/);
    await client.update(mr);
    assert.equal((await client.observe(mr)).resourceUpToDate, true);
  });

  it('names the server when it cannot be reached', async () => {
    const down = new RedisServer('redis://127.0.0.1:1');
    try {
      await assert.rejects(new RedisUserClient(down, providerContext(p.client)).observe(managed(API, 'User', 'x', {})), /Redis 127\.0\.0\.1:1: /);
    } finally {
      await down.close();
    }
  });
});
