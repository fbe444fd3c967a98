import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { TestRunner } from '@sluice/testing';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { ConsumeMQTT } from '../consume-mqtt/index.ts';
import type { MqttConnection } from '../mqtt-common/api.ts';
import { type TestBroker, testClient, until } from '../mqtt-common/mqtt-test-broker.test-helper.ts';
import { PublishMQTT } from '../publish-mqtt/index.ts';
import { MQTTBrokerConnection, parseBrokerUri } from './index.ts';

/** An Aedes broker the test controls (it can stop it, restart it on the same port, cut clients off). */
class OwnBroker {
  aedes: Aedes | undefined;
  server: Server | undefined;
  port = 0;
  readonly clients: Client[] = [];

  async start(options: AedesOptions = {}, port = 0, tls?: { key: Buffer; cert: Buffer }): Promise<this> {
    const aedes = await Aedes.createBroker(options);
    aedes.on('client', (client) => this.clients.push(client));
    const server = tls === undefined ? createServer(aedes.handle) : createTlsServer(tls, aedes.handle);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : port;
    this.aedes = aedes;
    this.server = server;
    return this;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** As a TestBroker, for the helper's plain clients. */
  get asTestBroker(): TestBroker {
    return { url: this.url, kind: 'aedes', mqtt5: false, close: () => this.stop() };
  }

  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = undefined;
    this.server = undefined;
    if (server !== undefined) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (aedes !== undefined) await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    }
  }
}

describe('parseBrokerUri', () => {
  it.each([
    ['mqtt://broker.example', 'mqtt://broker.example:1883', 'mqtt://broker.example:1883', false],
    ['mqtts://broker.example', 'mqtts://broker.example:8883', 'mqtts://broker.example:8883', true],
    ['tcp://10.0.0.5:1884', 'mqtt://10.0.0.5:1884', 'mqtt://10.0.0.5:1884', false],
    ['ssl://h:8884', 'mqtts://h:8884', 'mqtts://h:8884', true],
    ['ws://h:8080/mqtt', 'ws://h:8080', 'ws://h:8080/mqtt', false],
    ['wss://h/mqtt?x=1', 'wss://h:443', 'wss://h:443/mqtt?x=1', true],
    ['mqtt://[::1]:1883', 'mqtt://[::1]:1883', 'mqtt://[::1]:1883', false],
  ])('%s', (text, brokerUri, connectUri, tls) => {
    expect(parseBrokerUri(text)).toEqual({ brokerUri, connectUri, tls });
  });

  it.each([
    ['broker:1883', 'is not an MQTT scheme'],
    ['http://broker', '"http://" is not an MQTT scheme'],
    ['mqtt://user:secret@broker', 'put credentials in the Username and Password properties'],
    ['not a uri', 'is not a URI'],
  ])('refuses %s', (text, message) => {
    const result = parseBrokerUri(text);
    expect(typeof result).toBe('string');
    expect(result).toContain(message);
  });
});

describe('MQTTBrokerConnection', () => {
  const runners: TestRunner[] = [];
  const brokers: OwnBroker[] = [];
  const clients: MqttClient[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const r of runners.splice(0)) await r.close();
    for (const c of clients.splice(0)) await c.endAsync(true);
    for (const b of brokers.splice(0)) await b.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const ownBroker = async (options: AedesOptions = {}): Promise<OwnBroker> => {
    const b = await new OwnBroker().start(options);
    brokers.push(b);
    return b;
  };

  /** A runner around `definition` with the connection service "mqtt". */
  const withConnection = async (
    definition: typeof ConsumeMQTT | typeof PublishMQTT,
    connection: Record<string, string>,
    properties: Record<string, string> = {},
  ): Promise<TestRunner> => {
    const r = await TestRunner.create(definition, {
      properties: { connection: 'mqtt', ...properties },
      services: { mqtt: { type: MQTTBrokerConnection, properties: connection } },
    });
    runners.push(r);
    return r;
  };

  const service = (r: TestRunner) => {
    const node = [...r.engine.services()].find((s) => s.id === 'mqtt');
    if (node === undefined) throw new Error('no service');
    return node;
  };
  const connectionOf = (r: TestRunner): MqttConnection => service(r).instance as MqttConnection;

  it('explains what is wrong with its properties', async () => {
    const invalid = (connection: Record<string, string>) =>
      TestRunner.create(PublishMQTT, {
        properties: { connection: 'mqtt', topic: 't' },
        services: { mqtt: { type: MQTTBrokerConnection, properties: connection } },
      });
    // Settings that do not fit together.
    const together = invalid({
      brokerUri: 'mqtt://broker:1883',
      tlsCaFile: '/etc/ca.pem',
      tlsCertFile: '/etc/cert.pem',
      tlsKeyPassword: 'x',
      lastWillMessage: 'gone',
      password: 'secret',
    });
    await expect(together).rejects.toThrow(
      'TLS files are set (tlsCaFile, tlsCertFile) but the broker URI is not a TLS one: use mqtts:// or wss://',
    );
    await expect(together).rejects.toThrow('a client certificate needs its key');
    await expect(together).rejects.toThrow('TLS Client Key Password is set but there is no TLS Client Key File');
    await expect(together).rejects.toThrow('a last will message needs a Last Will Topic');
    await expect(together).rejects.toThrow('MQTT 3.1.1 sends a password only with a user name');
    // Values wrong by themselves.
    const alone = invalid({ brokerUri: 'mqtt://me:secret@broker', lastWillTopic: 'a/#' });
    await expect(alone).rejects.toThrow(/put credentials in the Username and Password properties/);
    await expect(alone).rejects.toThrow(/contains a wildcard/);
  });

  it('fails to enable, saying why, when the broker refuses its credentials', async () => {
    const b = await ownBroker({
      authenticate: (_client, user, pass, done) => done(null, user === 'sluice' && pass?.toString() === 'right'),
    });
    const r = await withConnection(PublishMQTT, { brokerUri: b.url, username: 'sluice', password: 'wrong' }, { topic: 't' });
    expect(service(r).enabled).toBe(false);
    expect(service(r).lastError).toBe(`the broker ${b.url} refused the connection: not authorized`);
    await r.enqueue('x');
    await expect(r.run()).rejects.toThrow(/not enabled|cannot run/);

    const ok = await withConnection(PublishMQTT, { brokerUri: b.url, username: 'sluice', password: 'right' }, { topic: 't' });
    expect(service(ok).enabled).toBe(true);
    await ok.enqueue('x');
    await ok.run();
    ok.assertAllTransferred('success', 1);
  });

  it('warns when the connection is lost, reconnects with backoff, and subscribes again', async () => {
    const b = await ownBroker();
    const port = b.port;
    const r = await withConnection(
      ConsumeMQTT,
      { brokerUri: b.url, reconnectInterval: '100 ms', maxReconnectInterval: '400 ms' },
      { topicFilter: 'plant/#' },
    );
    await r.engine.startComponent('under-test');
    await b.stop();
    await until(() => r.logsAt('WARN').some((l) => l.message.startsWith(`lost the connection to ${b.url}`)), 'the warning');
    const lostAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    // Attempts while down: 100, 200, 400, 400... ms apart (about 7 in 2.5 s), not one every 100 ms (25).
    const attempts = r.logs.filter(
      (l) => l.time >= lostAt && (l.message.includes('ECONNREFUSED') || String(l.error).includes('ECONNREFUSED')),
    );
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(12);

    await b.start({}, port); // a new broker on the same address: a new session, so it must subscribe again
    await until(() => connectionOf(r).connected, 'the reconnection');
    expect(r.logsAt('WARN').some((l) => l.message.includes(`connected to ${b.url} again`))).toBe(true);
    const publisher = await testClient(b.asTestBroker);
    clients.push(publisher);
    await until(() => (b.aedes?.connectedClients ?? 0) >= 2, 'both clients');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the SUBSCRIBE after the CONNACK
    await publisher.publishAsync('plant/line-1', 'after the outage', { qos: 1 });
    await until(() => r.transferred('success').length === 1, 'the message after the reconnection');
    expect(r.transferred('success')[0]?.text()).toBe('after the outage');
  });

  it('drops its copies of unacknowledged messages when a resumed session redelivers them (no duplicates)', async () => {
    const b = await ownBroker();
    const r = await withConnection(
      ConsumeMQTT,
      { brokerUri: b.url, persistentSession: 'true', clientId: 'sluice-resume', reconnectInterval: '100 ms' },
      { topicFilter: 'held/#' },
    );
    await r.engine.startComponent('under-test');
    await r.engine.stopComponent('under-test'); // the subscription stays with the persistent session
    const publisher = await testClient(b.asTestBroker);
    clients.push(publisher);
    for (let i = 0; i < 5; i++) await publisher.publishAsync(`held/${i}`, String(i), { qos: 1 });
    await until(() => connectionOf(r).stats().parked === 5, 'five held messages');
    const connects = connectionOf(r).stats().connects;
    // Cut Sluice off from the broker's side: the broker keeps the session and its five in-flight messages.
    for (const c of b.clients.filter((c) => c.id === 'sluice-resume')) c.conn.destroy();
    await until(() => connectionOf(r).stats().connects > connects, 'the reconnection');
    await until(() => connectionOf(r).stats().parked === 5, 'the redelivered messages');
    await r.engine.startComponent('under-test');
    await until(() => r.transferred('success').length >= 5, 'five FlowFiles');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.transferred('success').map((f) => f.text())).toEqual(['0', '1', '2', '3', '4']);
  });

  it('uses a stable default client id of 23 characters', async () => {
    const b = await ownBroker();
    const first = await withConnection(PublishMQTT, { brokerUri: b.url }, { topic: 't' });
    await first.close();
    runners.splice(runners.indexOf(first), 1);
    const second = await withConnection(PublishMQTT, { brokerUri: b.url }, { topic: 't' });
    expect(service(second).enabled).toBe(true);
    const ids = b.clients.map((c) => c.id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^sluice-[0-9a-f]{16}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('has the broker publish its last will when it disappears without disconnecting', async () => {
    const b = await ownBroker();
    const observer = await testClient(b.asTestBroker);
    clients.push(observer);
    const wills: string[] = [];
    observer.on('message', (topic, payload) => wills.push(`${topic}: ${payload.toString()}`));
    await observer.subscribeAsync('status/#', { qos: 1 });
    const r = await withConnection(
      PublishMQTT,
      { brokerUri: b.url, clientId: 'sluice-will', lastWillTopic: 'status/sluice', lastWillMessage: 'offline', lastWillQos: '1' },
      { topic: 't' },
    );
    expect(service(r).enabled).toBe(true);
    for (const c of b.clients.filter((c) => c.id === 'sluice-will')) c.conn.destroy();
    await until(() => wills.length === 1, 'the last will');
    expect(wills).toEqual(['status/sluice: offline']);
  });

  it('disconnects when disabled', async () => {
    const b = await ownBroker();
    const r = await withConnection(PublishMQTT, { brokerUri: b.url }, { topic: 't' });
    await until(() => b.aedes?.connectedClients === 1, 'the connection');
    await r.close();
    runners.splice(runners.indexOf(r), 1);
    await until(() => b.aedes?.connectedClients === 0, 'the disconnection');
  });

  it("connects over WebSocket, keeping the URI's path", async () => {
    const aedes = await Aedes.createBroker();
    const http = createHttpServer();
    const sockets = new WebSocketServer({ server: http, path: '/mqtt' });
    sockets.on('connection', (socket) => aedes.handle(createWebSocketStream(socket)));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const address = http.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const r = await withConnection(PublishMQTT, { brokerUri: `ws://127.0.0.1:${port}/mqtt` }, { topic: 'web/t' });
      await r.enqueue('over a WebSocket');
      await r.run();
      r.assertAllTransferred('success', 1);
      expect((await r.provenanceEvents('SEND'))[0]?.transitUri).toBe(`ws://127.0.0.1:${port}/web/t`);
    } finally {
      for (const r of runners.splice(0)) await r.close();
      for (const c of sockets.clients) c.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  describe('over TLS', () => {
    const openssl = (() => {
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();

    /** A CA and a server certificate for 127.0.0.1 signed by it. */
    const certificates = (): { dir: string; ca: string; key: Buffer; cert: Buffer } => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-mqtt-tls-'));
      dirs.push(dir);
      const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      run(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '1',
        '-subj',
        '/CN=Sluice Test CA',
      );
      run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
      writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
      run(
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '1',
        '-extfile',
        'ext.cnf',
      );
      return {
        dir,
        ca: join(dir, 'ca.pem'),
        key: readFileSync(join(dir, 'server.key')),
        cert: readFileSync(join(dir, 'server.pem')),
      };
    };

    it('connects with a trusted CA file, and refuses an untrusted broker unless verification is off', async (context) => {
      if (!openssl) context.skip();
      const { ca, key, cert } = certificates();
      const b = await new OwnBroker().start({}, 0, { key, cert });
      brokers.push(b);
      const uri = `mqtts://127.0.0.1:${b.port}`;

      const trusted = await withConnection(PublishMQTT, { brokerUri: uri, tlsCaFile: ca }, { topic: 'secure/t' });
      await trusted.enqueue('over TLS');
      await trusted.run();
      trusted.assertAllTransferred('success', 1);
      expect((await trusted.provenanceEvents('SEND'))[0]?.transitUri).toBe(`${uri}/secure/t`);

      const untrusted = await withConnection(PublishMQTT, { brokerUri: uri, reconnectInterval: '10 sec' }, { topic: 'secure/t' });
      await untrusted.enqueue('over TLS');
      await untrusted.run();
      untrusted.assertAllTransferred('failure', 1);
      expect(untrusted.transferred('failure')[0]?.attribute('publishmqtt.failure.reason')).toMatch(/certificate/);

      const unverified = await withConnection(PublishMQTT, { brokerUri: uri, tlsVerifyBroker: 'false' }, { topic: 'secure/t' });
      await unverified.enqueue('over TLS');
      await unverified.run();
      unverified.assertAllTransferred('success', 1);
    });

    it('fails to enable with a file that is not PEM, naming the problem', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-mqtt-tls-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
      const r = await withConnection(
        PublishMQTT,
        { brokerUri: 'mqtts://127.0.0.1:8883', tlsCaFile: join(dir, 'junk.pem') },
        { topic: 't' },
      );
      expect(service(r).enabled).toBe(false);
      expect(service(r).lastError).toBe(
        `TLS CA File: ${join(dir, 'junk.pem')} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
      const missing = await withConnection(
        PublishMQTT,
        { brokerUri: 'mqtts://127.0.0.1:8883', tlsCaFile: join(dir, 'nope.pem') },
        { topic: 't' },
      );
      expect(service(missing).lastError).toContain(`TLS CA File: cannot read ${join(dir, 'nope.pem')}`);
      // Only files under the roots the administrator allowed (the runner allows the temp directory).
      const outside = await withConnection(
        PublishMQTT,
        { brokerUri: 'mqtts://127.0.0.1:8883', tlsCaFile: '/etc/hostname' },
        { topic: 't' },
      );
      expect(service(outside).enabled).toBe(false);
      expect(service(outside).lastError).toMatch(/^TLS CA File: cannot read \/etc\/hostname: .*is outside the directories/);
    });
  });
});
