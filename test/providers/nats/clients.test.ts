import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, StringCodec } from 'nats';
import { ConsumerClient, StreamClient } from '../../../src/providers/nats/clients.js';
import { NatsServer } from '../../../src/providers/nats/server.js';
import { managed, requireService, uniqueName } from '../support.js';

const API = 'nats.pave.dev/v1alpha1';

describe('NATS JetStream provider against a real server', () => {
  let server: NatsServer;

  before(async () => {
    await requireService('NATS', 4222);
    server = new NatsServer('nats://127.0.0.1:4222');
  });

  after(async () => {
    await server.close();
  });

  it('creates a stream and consumer, updates limits, recreates a deleted stream, and publish/consume works', async () => {
    const name = uniqueName('PAVE_ORDERS').toUpperCase();
    const subject = `${name.toLowerCase()}.>`;
    const streams = new StreamClient(server);
    const consumers = new ConsumerClient(server);
    const stream = managed(API, 'Stream', name, { subjects: [subject], maxMsgs: 100, maxAge: '1h', storage: 'memory' });
    const consumer = managed(API, 'Consumer', `${name}_worker`, { stream: name, ackPolicy: 'explicit', maxDeliver: 5 });

    assert.equal((await streams.observe(stream)).resourceExists, false);
    const { connectionDetails } = await streams.create(stream);
    await streams.create(stream); // idempotent
    assert.equal((await streams.observe(stream)).resourceUpToDate, true);
    await consumers.create(consumer);
    assert.equal((await consumers.observe(consumer)).resourceUpToDate, true);

    const changed = { ...stream, spec: { ...stream.spec, forProvider: { ...stream.spec.forProvider, maxMsgs: 500 } } };
    const obs = await streams.observe(changed);
    assert.equal(obs.resourceUpToDate, false);
    assert.match(obs.diff!, /max_msgs is 100, want 500/);
    await streams.update(changed);
    assert.equal((await streams.observe(changed)).resourceUpToDate, true);

    const nc = await connect({ servers: connectionDetails.url.replace('nats://', '') });
    try {
      const sc = StringCodec();
      const js = nc.jetstream();
      await js.publish(`${name.toLowerCase()}.created`, sc.encode('order-1'));
      const c = await js.consumers.get(name, `${name}_worker`);
      const m = await c.next({ expires: 2000 });
      assert.equal(m && sc.decode(m.data), 'order-1');
      m?.ack();
    } finally {
      await nc.close();
    }
    assert.equal((await streams.observe(changed)).atProvider?.messages, 1);

    const before = server.requests;
    const many = await streams.observeMany([changed, managed(API, 'Stream', `${name}_MISSING`, { subjects: ['nope.>'] })]);
    assert.equal(server.requests - before, 1);
    assert.deepEqual(many.map((o) => o.resourceExists), [true, false]);

    await server.jetstream((jsm) => jsm.streams.delete(name));
    assert.equal((await streams.observe(changed)).resourceExists, false);
    await streams.create(changed);
    assert.equal((await streams.observe(changed)).resourceExists, true);

    await consumers.delete(consumer);
    await streams.delete(changed);
    await streams.delete(changed);
    assert.equal((await streams.observe(changed)).resourceExists, false);
  });

  it('rejects a stream without subjects, naming the field', async () => {
    await assert.rejects(new StreamClient(server).create(managed(API, 'Stream', 'S', {})), /Stream S: spec\.forProvider\.subjects/);
  });
});
