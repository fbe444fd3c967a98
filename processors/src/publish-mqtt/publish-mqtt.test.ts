import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { TestRunner } from '@sluice/testing';
import { Aedes } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConsumeMQTT } from '../consume-mqtt/index.ts';
import { MQTTBrokerConnection, parseBrokerUri } from '../mqtt-broker-connection/index.ts';
import { mqttTestBroker, type TestBroker, testClient, uniqueTopic, until } from '../mqtt-common/mqtt-test-broker.test-helper.ts';
import { PublishMQTT } from './index.ts';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 1;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('PublishMQTT', () => {
  let broker: TestBroker;
  const runners: TestRunner[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await mqttTestBroker();
  });
  afterAll(async () => {
    await broker.close();
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.close();
    for (const c of clients.splice(0)) await c.endAsync(true);
  });

  const publisher = async (
    properties: Record<string, string>,
    connection: Record<string, string> = {},
    scheduling: Record<string, string> = {},
  ): Promise<TestRunner> => {
    const r = await TestRunner.create(PublishMQTT, {
      properties: { connection: 'mqtt', ...properties },
      services: {
        mqtt: {
          type: MQTTBrokerConnection,
          // A client id of its own: test files run in parallel against the same broker.
          properties: {
            brokerUri: broker.url,
            mqttVersion: broker.mqtt5 ? '5' : '3.1.1',
            clientId: `sluice-test-${randomUUID().slice(0, 8)}`,
            ...connection,
          },
        },
      },
      scheduling,
    });
    runners.push(r);
    return r;
  };

  const subscriber = async (filter: string): Promise<Array<{ topic: string; payload: string; qos: number; retain: boolean }>> => {
    const received: Array<{ topic: string; payload: string; qos: number; retain: boolean }> = [];
    const c = await testClient(broker);
    clients.push(c);
    c.on('message', (topic, payload, packet) =>
      received.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
    );
    await c.subscribeAsync(filter, { qos: 2 });
    return received;
  };

  const brokerUri = (): string => {
    const parsed = parseBrokerUri(broker.url);
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed.brokerUri;
  };

  it.each([0, 1, 2] as const)('publishes at QoS %i to a topic from Expression Language, with a SEND event', async (qos) => {
    const base = uniqueTopic();
    const received = await subscriber(`${base}/#`);
    const r = await publisher({ topic: `${base}/\${room}/temperature`, qos: String(qos) });
    await r.enqueue('21.5', { room: 'kitchen' });
    await r.enqueue('19.0', { room: 'hall' });
    await r.run();
    r.assertAllTransferred('success', 2);
    await until(() => received.length === 2, 'both messages');
    expect(received).toEqual([
      { topic: `${base}/kitchen/temperature`, payload: '21.5', qos, retain: false },
      { topic: `${base}/hall/temperature`, payload: '19.0', qos, retain: false },
    ]);
    const sends = await r.provenanceEvents('SEND');
    expect(sends.map((e) => e.transitUri)).toEqual([
      `${brokerUri()}/${base}/kitchen/temperature`,
      `${brokerUri()}/${base}/hall/temperature`,
    ]);
  });

  it('retains a message when Retain Message evaluates to true', async () => {
    const topic = `${uniqueTopic()}/state`;
    const r = await publisher({ topic, retain: '${keep}' });
    await r.enqueue('on', { keep: 'true' });
    await r.run();
    r.assertAllTransferred('success', 1);
    try {
      const received = await subscriber(topic); // subscribes after the publish: only a retained message arrives
      await until(() => received.length === 1, 'the retained message');
      expect(received[0]).toMatchObject({ payload: 'on', retain: true });
    } finally {
      await r.enqueue('', { keep: 'true' }); // an empty retained message clears it on the shared broker
      await r.run();
    }
  });

  it('round-trips through ConsumeMQTT, with MQTT 5 user properties and content type both ways', async () => {
    const topic = `${uniqueTopic()}/roundtrip`;
    const consumer = await TestRunner.create(ConsumeMQTT, {
      properties: { connection: 'mqtt', topicFilter: topic },
      services: {
        mqtt: {
          type: MQTTBrokerConnection,
          properties: {
            brokerUri: broker.url,
            mqttVersion: broker.mqtt5 ? '5' : '3.1.1',
            clientId: `sluice-roundtrip-${randomUUID().slice(0, 8)}`,
          },
        },
      },
    });
    runners.push(consumer);
    await consumer.engine.startComponent('under-test');
    const r = await publisher({ topic, contentType: '${mime.type}', site: '${site}', line: 'L${line:plus(1)}' });
    await r.enqueue('{"ok":true}', { 'mime.type': 'application/json', site: 'plant-7', line: '2' });
    await r.run();
    r.assertAllTransferred('success', 1);
    await until(() => consumer.transferred('success').length === 1, 'the message at the consumer');
    const out = consumer.transferred('success')[0];
    expect(out?.text()).toBe('{"ok":true}');
    expect(out?.attribute('mqtt.topic')).toBe(topic);
    if (broker.mqtt5) {
      expect(out?.attribute('mqtt.property.site')).toBe('plant-7');
      expect(out?.attribute('mqtt.property.line')).toBe('L3');
      expect(out?.attribute('mqtt.content.type')).toBe('application/json');
    }
  });

  it('sends to failure at once, penalized and saying why, when the broker is unreachable', async () => {
    const port = await closedPort();
    const started = Date.now();
    const r = await publisher(
      { topic: 'sluice-test/unreachable' },
      { brokerUri: `mqtt://127.0.0.1:${port}`, mqttVersion: '3.1.1' },
    );
    await r.enqueue('hello');
    await r.run();
    expect(Date.now() - started).toBeLessThan(10_000);
    r.assertAllTransferred('failure', 1);
    const failed = r.transferred('failure')[0];
    expect(failed?.penalized).toBe(true);
    expect(failed?.attribute('publishmqtt.failure.reason')).toContain(`not connected to mqtt://127.0.0.1:${port}`);
    expect(failed?.attribute('publishmqtt.failure.reason')).toContain('ECONNREFUSED');
    expect(failed?.text()).toBe('hello');
    expect(r.logsAt('WARN').some((l) => l.message.includes(`cannot connect to mqtt://127.0.0.1:${port}`))).toBe(true);
    expect(await r.provenanceEvents('SEND')).toEqual([]);
  });

  it('does not hang on a peer that accepts connections and never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    try {
      const started = Date.now();
      const r = await publisher(
        { topic: 'sluice-test/silent' },
        { brokerUri: `mqtt://127.0.0.1:${port}`, connectTimeout: '1 sec' },
      );
      await r.enqueue('hello');
      await r.run();
      expect(Date.now() - started).toBeLessThan(10_000);
      r.assertAllTransferred('failure', 1);
      expect(r.transferred('failure')[0]?.attribute('publishmqtt.failure.reason')).toContain('not connected');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('sends to failure when the broker does not acknowledge in time', async () => {
    // A broker that takes QoS 1 messages and never acknowledges them.
    const aedes = await Aedes.createBroker({ authorizePublish: () => undefined });
    const server = createServer(aedes.handle);
    const port = await listen(server);
    try {
      const r = await publisher(
        { topic: 'sluice-test/black-hole', ackTimeout: '500 ms' },
        { brokerUri: `mqtt://127.0.0.1:${port}`, mqttVersion: '3.1.1' },
      );
      await r.enqueue('lost?');
      await r.run();
      r.assertAllTransferred('failure', 1);
      expect(r.transferred('failure')[0]?.attribute('publishmqtt.failure.reason')).toBe(
        'the broker did not acknowledge within 0.5 s',
      );
    } finally {
      for (const r of runners.splice(0)) await r.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('sends FlowFiles whose topic, QoS or size is wrong to failure, one by one, and publishes the rest', async () => {
    const base = uniqueTopic();
    const received = await subscriber(`${base}/#`);
    const r = await publisher({ topic: '${t}', qos: '${q}', maxMessageSize: '10 B' });
    await r.enqueue('fine', { t: `${base}/ok`, q: '1' });
    await r.enqueue('x', { t: `${base}/+/bad`, q: '1' });
    await r.enqueue('x', { t: '', q: '1' });
    await r.enqueue('x', { t: `${base}/ok`, q: '7' });
    await r.enqueue('far too large for ten bytes', { t: `${base}/ok`, q: '1' });
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['fine']);
    const reasons = r.transferred('failure').map((f) => f.attribute('publishmqtt.failure.reason'));
    expect(reasons).toEqual([
      `Topic: topic "${base}/+/bad" contains a wildcard (+ or #); wildcards are only for subscribing`,
      'Topic: the topic is empty',
      'Quality of Service evaluated to "7"; it must be 0, 1 or 2',
      'the content (27 bytes) is larger than Max Message Size (10 bytes)',
    ]);
    expect(r.transferred('failure').every((f) => f.penalized)).toBe(true);
    await until(() => received.length === 1, 'the good message');
  });

  it('checks its properties, saying what to write', async () => {
    const r = await publisher({ topic: 'a/#' });
    expect(r.validationErrors().join('\n')).toContain('contains a wildcard');
    await r.setProperty('qos', '3');
    expect(r.validationErrors().join('\n')).toContain('"3" is not one of the allowed values: 0, 1, 2');
    await r.setProperty('connection', undefined);
    expect(r.validationErrors().join('\n')).toMatch(/connection/i);
  });

  it('warns that user properties are not sent over MQTT 3.1.1, and still publishes', async () => {
    const topic = `${uniqueTopic()}/v3`;
    const received = await subscriber(topic);
    const r = await publisher({ topic, site: 'x' }, { mqttVersion: '3.1.1' });
    await r.enqueue('m');
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(r.logsAt('WARN').some((l) => l.message.includes('user properties and the content type are MQTT 5 features'))).toBe(
      true,
    );
    await until(() => received.length === 1, 'the message');
  });
});
