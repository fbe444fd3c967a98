import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { TestRunner } from '@sluice/testing';
import { Aedes } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MQTTBrokerConnection, parseBrokerUri } from '../mqtt-broker-connection/index.ts';
import type { MqttConnection } from '../mqtt-common/api.ts';
import { mqttTestBroker, type TestBroker, testClient, uniqueTopic, until } from '../mqtt-common/mqtt-test-broker.test-helper.ts';
import { ConsumeMQTT } from './index.ts';

describe('ConsumeMQTT', () => {
  let broker: TestBroker;
  let runner: TestRunner | undefined;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await mqttTestBroker();
  });
  afterAll(async () => {
    await broker.close();
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    for (const c of clients.splice(0)) await c.endAsync(true);
  });

  const brokerUri = (): string => {
    const parsed = parseBrokerUri(broker.url);
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed.brokerUri;
  };

  /** A ConsumeMQTT through a connection to the test broker, started (so subscribed) when this resolves. */
  const consume = async (properties: Record<string, string>, connection: Record<string, string> = {}): Promise<TestRunner> => {
    runner = await TestRunner.create(ConsumeMQTT, {
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
    });
    await runner.engine.startComponent('under-test');
    return runner;
  };

  const connectionOf = (r: TestRunner): MqttConnection =>
    [...r.engine.services()].find((s) => s.id === 'mqtt')?.instance as MqttConnection;

  const client = async (
    options: Parameters<typeof testClient>[1] = {},
    onMessage?: (topic: string, payload: Buffer) => void,
  ): Promise<MqttClient> => {
    const c = await testClient(broker, options, onMessage);
    clients.push(c);
    return c;
  };

  it.each([0, 1, 2] as const)('delivers QoS %i messages as FlowFiles with their attributes and a RECEIVE event', async (qos) => {
    const topic = `${uniqueTopic()}/room 1/temperature`;
    const r = await consume({ topicFilter: topic, qos: String(qos) });
    const publisher = await client();
    for (let i = 0; i < 3; i++) await publisher.publishAsync(topic, `reading ${i}`, { qos });
    await until(() => r.transferred('success').length >= 3, 'three FlowFiles');
    const out = r.transferred('success');
    expect(out.map((f) => f.text())).toEqual(['reading 0', 'reading 1', 'reading 2']);
    for (const f of out) {
      expect(f.attribute('mqtt.topic')).toBe(topic);
      expect(f.attribute('mqtt.qos')).toBe(String(qos));
      expect(f.attribute('mqtt.retained')).toBe('false');
      expect(f.attribute('mqtt.duplicate')).toBe('false');
      expect(f.attribute('mqtt.broker')).toBe(brokerUri());
    }
    const events = await r.provenanceEvents('RECEIVE');
    expect(events.map((e) => e.flowFileUuid).sort()).toEqual(out.map((f) => f.uuid).sort());
    expect(events[0]?.transitUri).toBe(`${brokerUri()}/${topic.replace('room 1', 'room%201')}`);
    // Everything committed was acknowledged: the broker holds nothing in flight for Sluice.
    await until(() => connectionOf(r).stats().unacknowledged === 0, 'acknowledgements');
  });

  it('matches + and # wildcards, and several filters', async () => {
    const base = uniqueTopic();
    const r = await consume({ topicFilter: `${base}/+/temp, ${base}/logs/#` });
    const publisher = await client();
    const topics = [
      `${base}/kitchen/temp`, // +
      `${base}/kitchen/sub/temp`, // + is one level only
      `${base}/logs`, // # includes the parent level
      `${base}/logs/a/b/c`,
      `${base}/other`,
    ];
    for (const t of topics) await publisher.publishAsync(t, t, { qos: 1 });
    await publisher.publishAsync(`${base}/logs/end`, 'end', { qos: 1 });
    await until(() => r.transferred('success').some((f) => f.text() === 'end'), 'the last message');
    expect(r.transferred('success').map((f) => f.attribute('mqtt.topic'))).toEqual([
      `${base}/kitchen/temp`,
      `${base}/logs`,
      `${base}/logs/a/b/c`,
      `${base}/logs/end`,
    ]);
  });

  it('marks retained messages', async () => {
    const topic = `${uniqueTopic()}/status`;
    const publisher = await client();
    await publisher.publishAsync(topic, 'online', { qos: 1, retain: true });
    try {
      const r = await consume({ topicFilter: topic });
      await until(() => r.transferred('success').length === 1, 'the retained message');
      expect(r.transferred('success')[0]?.attribute('mqtt.retained')).toBe('true');
      expect(r.transferred('success')[0]?.text()).toBe('online');
    } finally {
      await publisher.publishAsync(topic, '', { qos: 1, retain: true }); // clears it on the shared broker
    }
  });

  it('shares a subscription with other members of its group', async (context) => {
    if (broker.kind === 'aedes') context.skip(); // Aedes has no shared subscriptions
    const topic = `${uniqueTopic()}/work`;
    const r = await consume({ topicFilter: topic, sharedSubscriptionGroup: 'workers' });
    const peer = await client();
    let peerGot = 0;
    peer.on('message', () => {
      peerGot++;
    });
    await peer.subscribeAsync(`$share/workers/${topic}`, { qos: 1 });
    const publisher = await client();
    for (let i = 0; i < 20; i++) await publisher.publishAsync(topic, String(i), { qos: 1 });
    await until(() => r.transferred('success').length + peerGot === 20, 'all 20 messages between the two members');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Each message went to exactly one member, and both members got some.
    expect(r.transferred('success').length + peerGot).toBe(20);
    expect(r.transferred('success').length).toBeGreaterThan(0);
    expect(peerGot).toBeGreaterThan(0);
  });

  it('turns MQTT 5 user properties, content type, response topic and correlation data into attributes', async (context) => {
    if (!broker.mqtt5) context.skip();
    const topic = `${uniqueTopic()}/v5`;
    const r = await consume({ topicFilter: topic });
    const publisher = await client();
    await publisher.publishAsync(topic, '{"t":21.5}', {
      qos: 1,
      properties: {
        userProperties: { site: 'plant-7', tag: ['a', 'b'] },
        contentType: 'application/json',
        responseTopic: `${topic}/reply`,
        correlationData: Buffer.from('request-42'),
      },
    });
    await publisher.publishAsync(topic, 'binary', { qos: 1, properties: { correlationData: Buffer.from([0xff, 0xfe, 0x00]) } });
    await until(() => r.transferred('success').length === 2, 'two FlowFiles');
    const [json, binary] = r.transferred('success');
    expect(json?.attribute('mqtt.property.site')).toBe('plant-7');
    expect(json?.attribute('mqtt.property.tag')).toBe('a,b');
    expect(json?.attribute('mqtt.content.type')).toBe('application/json');
    expect(json?.attribute('mime.type')).toBe('application/json');
    expect(json?.attribute('mqtt.response.topic')).toBe(`${topic}/reply`);
    expect(json?.attribute('mqtt.correlation.data')).toBe('request-42');
    expect(json?.attribute('mqtt.correlation.data.encoding')).toBeUndefined();
    expect(binary?.attribute('mqtt.correlation.data')).toBe(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'));
    expect(binary?.attribute('mqtt.correlation.data.encoding')).toBe('base64');
  });

  it('has the broker drop messages above the MQTT 5 Maximum Packet Size', async (context) => {
    if (!broker.mqtt5) context.skip();
    const topic = `${uniqueTopic()}/sizes`;
    const r = await consume({ topicFilter: topic }, { maximumPacketSize: '1 KB' });
    const publisher = await client();
    await publisher.publishAsync(topic, 'x'.repeat(4096), { qos: 1 });
    await publisher.publishAsync(topic, 'small', { qos: 1 });
    await until(() => r.transferred('success').length >= 1, 'the small message');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.transferred('success').map((f) => f.text())).toEqual(['small']);
  });

  it('bundles many messages per FlowFile with a demarcator, one FlowFile per topic', async () => {
    const base = uniqueTopic();
    const r = await consume({
      topicFilter: `${base}/#`,
      messageDemarcator: '\\n',
      maxBatchAge: '1 sec',
      maxMessagesPerFlowFile: '100',
    });
    const publisher = await client();
    for (let i = 0; i < 5; i++) await publisher.publishAsync(`${base}/a`, `a${i}`, { qos: 1 });
    for (let i = 0; i < 3; i++) await publisher.publishAsync(`${base}/b`, `b${i}`, { qos: 1, retain: false });
    await until(() => r.transferred('success').length === 2, 'two bundles');
    const [a, b] = r.transferred('success');
    expect(a?.text()).toBe('a0\na1\na2\na3\na4');
    expect(a?.attribute('mqtt.message.count')).toBe('5');
    expect(a?.attribute('mqtt.topic')).toBe(`${base}/a`);
    expect(b?.text()).toBe('b0\nb1\nb2');
    expect(b?.attribute('mqtt.message.count')).toBe('3');
  });

  it('starts a bundle when Max Messages per FlowFile is reached, before the batch age', async () => {
    const topic = `${uniqueTopic()}/full`;
    const r = await consume({ topicFilter: topic, messageDemarcator: ',', maxBatchAge: '1 hour', maxMessagesPerFlowFile: '4' });
    const publisher = await client();
    for (let i = 0; i < 8; i++) await publisher.publishAsync(topic, String(i), { qos: 1 });
    await until(() => r.transferred('success').length === 2, 'two full bundles');
    expect(r.transferred('success').map((f) => f.text())).toEqual(['0,1,2,3', '4,5,6,7']);
  });

  it('acknowledges only committed messages: the persistent session redelivers what was received but not committed', async () => {
    const topic = `${uniqueTopic()}/ack`;
    const clientId = `sluice-ack-${randomUUID().slice(0, 8)}`;
    const r = await consume({ topicFilter: topic }, { persistentSession: 'true', clientId, sessionExpiryInterval: '5 min' });
    const publisher = await client();
    for (const m of ['a1', 'a2', 'a3']) await publisher.publishAsync(topic, m, { qos: 1 });
    await until(() => r.transferred('success').length === 3, 'the first three committed');
    // Stopped, the processor commits nothing: what arrives now is held by the connection, unacknowledged.
    await r.engine.stopComponent('under-test');
    for (const m of ['b1', 'b2', 'b3']) await publisher.publishAsync(topic, m, { qos: 1 });
    await until(() => connectionOf(r).stats().parked === 3, 'three held messages');
    expect(connectionOf(r).stats().unacknowledged).toBe(3);
    await r.close(); // Sluice goes away with them uncommitted
    runner = undefined;

    // The same session, resumed by a plain client: the broker still has exactly the uncommitted ones.
    const redelivered: string[] = [];
    const resumed = await client(
      { clientId, clean: false, ...(broker.mqtt5 ? { properties: { sessionExpiryInterval: 0 } } : {}) },
      (_topic, payload) => redelivered.push(payload.toString()),
    );
    await until(() => redelivered.length >= 3, 'the redelivered messages');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(redelivered).toEqual(['b1', 'b2', 'b3']);
    await resumed.endAsync();
    if (!broker.mqtt5) (await client({ clientId, clean: true })).end(); // a 3.1.1 session lives until a clean connect
  });

  it('gives messages that arrived while it was stopped to it when it starts again (persistent session)', async () => {
    const topic = `${uniqueTopic()}/restart`;
    const clientId = `sluice-restart-${randomUUID().slice(0, 8)}`;
    const r = await consume({ topicFilter: topic }, { persistentSession: 'true', clientId, sessionExpiryInterval: '1 min' });
    const publisher = await client();
    await r.engine.stopComponent('under-test');
    for (let i = 0; i < 5; i++) await publisher.publishAsync(topic, String(i), { qos: 1 });
    await until(() => connectionOf(r).stats().parked === 5, 'five held messages');
    await r.engine.startComponent('under-test');
    await until(() => r.transferred('success').length === 5, 'the five messages');
    expect(r.transferred('success').map((f) => f.text())).toEqual(['0', '1', '2', '3', '4']);
    await until(() => connectionOf(r).stats().unacknowledged === 0, 'acknowledgements');
    if (!broker.mqtt5) {
      await r.close();
      runner = undefined;
      (await client({ clientId, clean: true })).end();
    }
  });

  it('stops reading from the broker when its buffer is full, and loses nothing once it drains', async () => {
    const topic = `${uniqueTopic()}/pressure`;
    // A batch age of an hour keeps every message in the buffer: the processor takes nothing.
    const r = await consume({
      topicFilter: topic,
      messageDemarcator: '\\n',
      maxBatchAge: '1 hour',
      maxMessagesPerFlowFile: '100000',
      maxBufferedMessages: '10',
    });
    const publisher = await client();
    for (let i = 0; i < 300; i++) await publisher.publishAsync(topic, String(i), { qos: 1 });
    await until(() => connectionOf(r).stats().readsPaused, 'reads to pause');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stats = connectionOf(r).stats();
    expect(stats.readsPaused).toBe(true);
    expect(stats.buffered).toBeLessThanOrEqual(11);

    await r.setProperty('maxBatchAge', '0 sec'); // restarts the processor stopped
    await r.engine.startComponent('under-test');
    const received = (): Set<string> => new Set(r.transferred('success').flatMap((f) => f.text().split('\n')));
    await until(() => received().size === 300, 'all 300 messages');
    expect(connectionOf(r).stats().readsPaused).toBe(false);
  });

  it('bounds the buffer at QoS 0 too, by not reading the socket', async () => {
    const topic = `${uniqueTopic()}/qos0`;
    const r = await consume({
      topicFilter: topic,
      qos: '0',
      messageDemarcator: '\\n',
      maxBatchAge: '1 hour',
      maxMessagesPerFlowFile: '100000',
      maxBufferedMessages: '20',
    });
    const publisher = await client();
    for (let i = 0; i < 2000; i++) publisher.publish(topic, String(i), { qos: 0 });
    await publisher.publishAsync(topic, 'last', { qos: 1 });
    await until(() => connectionOf(r).stats().readsPaused, 'reads to pause');
    expect(connectionOf(r).stats().buffered).toBeLessThanOrEqual(21);
  });

  it('refuses topic filters that are not valid, saying what to write', async () => {
    runner = await TestRunner.create(ConsumeMQTT, {
      properties: { connection: 'mqtt', topicFilter: 'sensors/#/temperature', sharedSubscriptionGroup: 'a/b' },
      services: {
        mqtt: {
          type: MQTTBrokerConnection,
          properties: { brokerUri: broker.url, clientId: `sluice-test-${randomUUID().slice(0, 8)}` },
        },
      },
    });
    const errors = runner.validationErrors().join('\n');
    expect(errors).toContain('# must be a whole level at the end');
    expect(errors).toContain('a group name cannot contain /, + or #');
    await runner.setProperty('topicFilter', 'ok/+, bad+/x');
    expect(runner.validationErrors().join('\n')).toContain('+ must be a whole level');
    await runner.setProperty('topicFilter', ' , ');
    expect(runner.validationErrors().join('\n')).toContain('write at least one topic filter');
  });

  it('does not start when the broker refuses the subscription, and says why', async () => {
    const aedes = await Aedes.createBroker({
      authorizeSubscribe: (_client, subscription, done) => {
        done(subscription.topic.startsWith('secret/') ? new Error('not allowed') : null, subscription);
      },
    });
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      runner = await TestRunner.create(ConsumeMQTT, {
        properties: { connection: 'mqtt', topicFilter: 'secret/#' },
        services: { mqtt: { type: MQTTBrokerConnection, properties: { brokerUri: `mqtt://127.0.0.1:${port}` } } },
      });
      await runner.engine.startComponent('under-test');
      const r = runner;
      await until(() => r.logsAt('ERROR').some((l) => l.message.includes('failed to start')), 'the start failure');
      const failure = r.logsAt('ERROR').find((l) => l.message.includes('failed to start'));
      expect(String(failure?.error)).toContain('refused the subscription to secret/#');
      expect(r.engine.component('under-test')?.runState).toBe('STOPPED');
    } finally {
      await runner?.close();
      runner = undefined;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
