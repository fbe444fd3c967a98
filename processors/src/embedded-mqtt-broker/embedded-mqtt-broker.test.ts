import { createServer } from 'node:net';
import { TestRunner } from '@sluice/testing';
import { connect, connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsumeMQTT } from '../consume-mqtt/index.ts';
import { MQTTBrokerConnection } from '../mqtt-broker-connection/index.ts';
import type { EmbeddedMqttBroker } from '../mqtt-common/api.ts';
import { until } from '../mqtt-common/mqtt-test-broker.test-helper.ts';
import { PublishMQTT } from '../publish-mqtt/index.ts';
import { EmbeddedMQTTBroker } from './index.ts';

describe('EmbeddedMQTTBroker', () => {
  const runners: TestRunner[] = [];
  const clients: MqttClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    for (const r of runners.splice(0)) await r.close();
  });

  /** A runner whose only job is to enable the broker service (its processor is not run). */
  const withBroker = async (properties: Record<string, string>): Promise<TestRunner> => {
    const r = await TestRunner.create(PublishMQTT, {
      properties: { connection: 'broker', topic: 't' },
      services: { broker: { type: EmbeddedMQTTBroker, properties: { port: '0', ...properties } } },
    });
    runners.push(r);
    return r;
  };

  const node = (r: TestRunner, id = 'broker') => {
    const service = [...r.engine.services()].find((s) => s.id === id);
    if (service === undefined) throw new Error(`no service ${id}`);
    return service;
  };
  const brokerOf = (r: TestRunner): EmbeddedMqttBroker => node(r).instance as EmbeddedMqttBroker;

  const client = async (url: string, options: Parameters<typeof connectAsync>[1] = {}): Promise<MqttClient> => {
    const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
    clients.push(c);
    return c;
  };

  it('carries messages between clients, keeping QoS 1 messages for an offline persistent session', async () => {
    const r = await withBroker({});
    const broker = brokerOf(r);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.port).toBeGreaterThan(0);
    expect(r.logs.some((l) => l.message === `MQTT broker listening on ${broker.url}`)).toBe(true);

    const subscriber = await client(broker.url, { clientId: 'edge-1', clean: false });
    await subscriber.subscribeAsync('plant/#', { qos: 1 });
    await subscriber.endAsync();
    const publisher = await client(broker.url);
    await publisher.publishAsync('plant/line-1', 'while away', { qos: 1 });
    expect(broker.connectedClients()).toBe(1);

    const received: string[] = [];
    // The handler goes on before connecting: a resumed session's messages follow the CONNACK at once.
    const back = connect(broker.url, { clientId: 'edge-1', clean: false, reconnectPeriod: 0 });
    clients.push(back);
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    await until(() => received.length === 1, 'the message kept for the session');
    expect(received).toEqual(['while away']);
  });

  it('asks for the username and password when they are set', async () => {
    const r = await withBroker({ username: 'sluice', password: 's3cret' });
    const { url } = brokerOf(r);
    await expect(connectAsync(url, { reconnectPeriod: 0, username: 'sluice', password: 'wrong' })).rejects.toThrow(
      /Not authorized|Bad User Name or Password|refused/i,
    );
    await expect(connectAsync(url, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|refused/i);
    const ok = await client(url, { username: 'sluice', password: 's3cret' });
    expect(ok.connected).toBe(true);
  });

  it('refuses a password without a username', async () => {
    await expect(withBroker({ password: 'x' })).rejects.toThrow(/a Password needs a Username \(clients log in with both\)/);
  });

  it('disconnects its clients and frees its port when disabled', async () => {
    const r = await withBroker({});
    const { url, port } = brokerOf(r);
    const c = await client(url);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await r.close();
    runners.splice(runners.indexOf(r), 1);
    await closed;
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it('fails to enable, saying why, when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const r = await withBroker({ port: String(port) });
      expect(node(r).enabled).toBe(false);
      expect(node(r).lastError).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('warns when it listens beyond this machine without credentials', async () => {
    const r = await withBroker({ host: '0.0.0.0' });
    expect(r.logsAt('WARN').some((l) => l.message.includes('without a Username and Password'))).toBe(true);
  });

  it('serves a flow with no other broker: MQTTBrokerConnection and ConsumeMQTT against it', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const address = free.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const r = await TestRunner.create(ConsumeMQTT, {
      properties: { connection: 'mqtt', topicFilter: 'demo/#' },
      services: {
        broker: { type: EmbeddedMQTTBroker, properties: { port: String(port) } },
        mqtt: { type: MQTTBrokerConnection, properties: { brokerUri: `mqtt://127.0.0.1:${port}` } },
      },
    });
    runners.push(r);
    expect(node(r, 'mqtt').enabled).toBe(true);
    await r.engine.startComponent('under-test');
    const publisher = await client(`mqtt://127.0.0.1:${port}`);
    await publisher.publishAsync('demo/hello', 'first run', { qos: 1 });
    await until(() => r.transferred('success').length === 1, 'the message');
    expect(r.transferred('success')[0]?.text()).toBe('first run');
  });
});
