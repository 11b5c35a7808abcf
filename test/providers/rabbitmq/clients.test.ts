import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { BindingClient, ExchangeClient, QueueClient } from '../../../src/providers/rabbitmq/clients.js';
import { RabbitServer } from '../../../src/providers/rabbitmq/server.js';
import { managed, requireService, uniqueName } from '../support.js';

const API = 'rabbitmq.pave.dev/v1alpha1';
const URL = 'amqp://guest:guest@127.0.0.1:5672';

describe('RabbitMQ provider against a real broker', () => {
  let server: RabbitServer;

  before(async () => {
    await requireService('RabbitMQ', 5672);
    server = new RabbitServer(URL);
  });

  after(async () => {
    await server.close();
  });

  it('creates a queue, exchange and binding; the connection secret publishes and consumes; a deleted queue is seen and recreated', async () => {
    const qName = uniqueName('pave-orders');
    const xName = uniqueName('pave-events');
    const queues = new QueueClient(server);
    const exchanges = new ExchangeClient(server);
    const bindings = new BindingClient(server);
    const queue = managed(API, 'Queue', qName, { durable: true, arguments: { 'x-max-length': 1000 } });
    const exchange = managed(API, 'Exchange', xName, { type: 'topic' });
    const bind = managed(API, 'Binding', `${qName}-bind`, { source: xName, destination: qName, routingKey: 'order.*' });

    assert.equal((await queues.observe(queue)).resourceExists, false);
    const { connectionDetails } = await queues.create(queue);
    await queues.create(queue); // idempotent
    await exchanges.create(exchange);
    assert.equal((await bindings.observe(bind)).resourceExists, true);
    await bindings.create(bind);
    assert.equal(connectionDetails.queue, qName);

    const conn = await amqp.connect(connectionDetails.url);
    try {
      const ch = await conn.createChannel();
      ch.publish(xName, 'order.created', Buffer.from('{"id":1}'));
      let got: string | undefined;
      for (let i = 0; i < 50 && !got; i++) {
        const m = await ch.get(connectionDetails.queue, { noAck: true });
        if (m) got = m.content.toString();
        else await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(got, '{"id":1}');
      await ch.close();
    } finally {
      await conn.close();
    }

    const seen = await queues.observe(queue);
    assert.equal(seen.resourceExists, true);
    assert.equal(seen.atProvider?.messageCount, 0);

    await server.withChannel((ch) => ch.deleteQueue(qName));
    assert.equal((await queues.observe(queue)).resourceExists, false);
    assert.equal((await bindings.observe(bind)).resourceExists, false);
    await queues.create(queue);
    assert.equal((await queues.observe(queue)).resourceExists, true);

    await bindings.delete(bind);
    await queues.delete(queue);
    await queues.delete(queue);
    await exchanges.delete(exchange);
    assert.equal((await queues.observe(queue)).resourceExists, false);
    assert.equal((await exchanges.observe(exchange)).resourceExists, false);
  });

  it('names the broker when it cannot be reached', async () => {
    const down = new RabbitServer('amqp://guest:guest@127.0.0.1:1');
    await assert.rejects(new QueueClient(down).observe(managed(API, 'Queue', 'x', {})), /RabbitMQ 127\.0\.0\.1:1: /);
    await down.close();
  });
});
