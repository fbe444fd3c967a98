import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { Aedes } from 'aedes';
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';
import { exited, startSluiceRun } from './sluice-run.test-helper.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

interface TestBroker {
  readonly url: string;
  readonly mqtt5: boolean;
  /** The broker runs in this process (Aedes) and can be stopped and started again on its port. */
  readonly embedded: boolean;
  close(): Promise<void>;
}

async function answers(url: string, protocolVersion: 4 | 5): Promise<boolean> {
  try {
    const client = await connectAsync(url, { protocolVersion, connectTimeout: 1500, reconnectPeriod: 0 });
    await client.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

/** Aedes on a port (0: a free one), in this process. */
async function startAedes(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    },
  };
}

/**
 * The server side's twin of processors' mqttTestBroker() (a test helper cannot cross the package
 * boundary): the real broker when one answers (MQTT_URL, else Mosquitto on 127.0.0.1:1883), else
 * Aedes in this process, which outlives the Sluice child processes the tests kill.
 */
async function mqttTestBroker(): Promise<TestBroker> {
  const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  if (await answers(url, 5)) return { url, mqtt5: true, embedded: false, close: async () => undefined };
  if (await answers(url, 4)) return { url, mqtt5: false, embedded: false, close: async () => undefined };
  const aedes = await startAedes();
  return { url: `mqtt://127.0.0.1:${aedes.port}`, mqtt5: false, embedded: true, close: () => aedes.close() };
}

function client(broker: TestBroker, options: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(broker.url, { protocolVersion: broker.mqtt5 ? 5 : 4, reconnectPeriod: 0, ...options });
}

/** Ends a persistent session at the broker (a clean connect with the same client id). */
async function endSession(broker: TestBroker, clientId: string): Promise<void> {
  const c = connect(broker.url, { protocolVersion: broker.mqtt5 ? 5 : 4, reconnectPeriod: 0, clientId, clean: true });
  await new Promise<void>((resolve) => {
    c.once('connect', () => resolve());
    c.once('error', () => resolve());
  });
  await c.endAsync(true);
}

/** Consume -> name the file after the message number -> PutFile; a second write of a number lands in dups/. */
function ingestFlow(root: string, broker: TestBroker, clientId: string, filter: string, consumerState: 'RUNNING' | 'STOPPED') {
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'mqtt ingest',
      controllerServices: [
        {
          id: 'mqtt',
          name: 'Broker',
          type: 'MQTTBrokerConnection',
          properties: {
            brokerUri: broker.url,
            mqttVersion: broker.mqtt5 ? '5' : '3.1.1',
            clientId,
            persistentSession: 'true',
            sessionExpiryInterval: '10 min',
            reconnectInterval: '200 ms',
            maxReconnectInterval: '1 sec',
          },
          state: 'ENABLED',
        },
      ],
      processors: [
        {
          id: 'consume',
          name: 'Consume',
          type: 'ConsumeMQTT',
          properties: { connection: 'mqtt', topicFilter: filter, qos: '1' },
          state: consumerState,
        },
        {
          id: 'name',
          name: 'Name it',
          type: 'UpdateAttribute',
          properties: { filename: "${mqtt.topic:substringAfterLast('/')}.txt" },
          state: 'RUNNING',
        },
        {
          id: 'put',
          name: 'Write',
          type: 'PutFile',
          properties: { directory: join(root, 'out'), conflictResolution: 'fail', batchSize: '200' },
          scheduling: { penaltyDuration: '0 sec' },
          autoTerminate: ['success'],
          state: 'RUNNING',
        },
        {
          id: 'dup-name',
          name: 'Name duplicate',
          type: 'UpdateAttribute',
          properties: { filename: '${filename}-${UUID()}.dup' },
          state: 'RUNNING',
        },
        {
          id: 'dup-put',
          name: 'Write duplicate',
          type: 'PutFile',
          properties: { directory: join(root, 'dups') },
          autoTerminate: ['success', 'failure'],
          state: 'RUNNING',
        },
      ],
      connections: [
        { id: 'consumed', source: { id: 'consume' }, destination: { id: 'name' }, relationships: ['success'] },
        { id: 'named', source: { id: 'name' }, destination: { id: 'put' }, relationships: ['success'] },
        { id: 'put-dup', source: { id: 'put' }, destination: { id: 'dup-name' }, relationships: ['failure'] },
        { id: 'dup-named', source: { id: 'dup-name' }, destination: { id: 'dup-put' }, relationships: ['success'] },
      ],
    },
  } satisfies FlowDocumentInput;
}

const startSluice = (root: string, flowFile: string) => startSluiceRun(root, flowFile);

const files = (dir: string, suffix: string): string[] =>
  existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(suffix)) : [];

describe('MQTT ingest', () => {
  let broker: TestBroker;
  const root = mkdtempSync(join(tmpdir(), 'sluice-mqtt-ingest-'));

  beforeAll(async () => {
    broker = await mqttTestBroker();
  });
  afterAll(async () => {
    await broker.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('loses no QoS 1 message when Sluice is killed with kill -9 mid-stream (persistent session)', {
    timeout: 240_000,
  }, async () => {
    const N = 3000;
    const dir = join(root, 'kill');
    mkdirSync(join(dir, 'out'), { recursive: true });
    const base = `sluice-test/${randomUUID()}`;
    const clientId = `sluice-kill-${randomUUID().slice(0, 8)}`;
    const flowFile = join(dir, 'flow.json');
    const flow = ingestFlow(dir, broker, clientId, `${base}/msg/+`, 'RUNNING');
    // Triggered every 300 ms, the consumer always holds a few hundred received, uncommitted messages:
    // a kill at any moment catches some (acknowledged before their commit, they would be lost).
    const [consume] = flow.rootGroup.processors;
    if (consume !== undefined) Object.assign(consume, { scheduling: { period: '300 ms' } });
    writeFileSync(flowFile, JSON.stringify(flow));

    // The session exists before Sluice first starts, as it would after a first run: the broker keeps
    // everything for it from the first message on.
    const preparer = await client(broker, {
      clientId,
      clean: false,
      ...(broker.mqtt5 ? { properties: { sessionExpiryInterval: 600 } } : {}),
    });
    await preparer.subscribeAsync(`${base}/msg/+`, { qos: 1 });
    await preparer.endAsync();

    const publisher = await client(broker, { clientId: `sluice-pub-${randomUUID().slice(0, 8)}` });
    let sluice = startSluice(dir, flowFile);
    try {
      await until(() => sluice.output().includes('running'), `Sluice to start:\n${sluice.output()}`, 60_000);
      let up = true;
      let next = 0;
      let whileDown = 0;
      // Numbered QoS 1 messages, paced: Mosquitto queues at most max_queued_messages = 1000 per
      // client by default (connected or not) and drops beyond that, so the publisher stays at most
      // 300 ahead of what is written while Sluice is up, and sends at most 500 while it is down.
      const publishing = (async () => {
        while (next < N) {
          const ahead = up ? next - files(join(dir, 'out'), '.txt').length : 0;
          if ((!up && whileDown >= 500) || ahead >= 300) {
            await sleep(20);
            continue;
          }
          const batch: Array<Promise<unknown>> = [];
          for (let k = 0; k < 50 && next < N; k++, next++) {
            batch.push(publisher.publishAsync(`${base}/msg/${next}`, String(next), { qos: 1 }));
            if (!up) whileDown++;
          }
          await Promise.all(batch);
          await sleep(25);
        }
      })();

      await until(() => next >= 1000 && files(join(dir, 'out'), '.txt').length > 200, 'the stream to be flowing', 60_000);
      sluice.child.kill('SIGKILL');
      up = false;
      await exited(sluice.child);
      const writtenAtKill = files(join(dir, 'out'), '.txt').length;
      const publishedAtKill = next;
      await until(() => whileDown >= 500 || next >= N, 'messages published while Sluice is down');

      sluice = startSluice(dir, flowFile);
      await until(() => sluice.output().includes('running'), `Sluice to restart:\n${sluice.output()}`, 60_000);
      up = true;
      await publishing;
      // Until every message is written, or nothing more arrives for 10 s (then the check below says what is missing).
      let last = -1;
      let stableSince = Date.now();
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const written = files(join(dir, 'out'), '.txt').length;
        if (written >= N) break;
        if (written !== last) {
          last = written;
          stableSince = Date.now();
        } else if (Date.now() - stableSince > 10_000) break;
        await sleep(100);
      }
      sluice.child.kill('SIGTERM');
      expect(await exited(sluice.child), sluice.output()).toBe(0);

      const missing: number[] = [];
      for (let n = 0; n < N; n++) {
        const path = join(dir, 'out', `${n}.txt`);
        if (!existsSync(path)) missing.push(n);
        else expect(readFileSync(path, 'utf8')).toBe(String(n));
      }
      expect(missing, `${missing.length} messages never arrived`).toEqual([]);
      const duplicates = files(join(dir, 'dups'), '.dup').length;
      console.log(
        `mqtt kill test (${broker.embedded ? 'Aedes' : broker.url}, MQTT ${broker.mqtt5 ? 5 : '3.1.1'}): killed with ${writtenAtKill} written and ${publishedAtKill} published; ${whileDown} published while down; all ${N} arrived; ${duplicates} duplicates`,
      );
    } finally {
      if (sluice.child.exitCode === null && sluice.child.signalCode === null) {
        sluice.child.kill('SIGKILL');
        await exited(sluice.child);
      }
      await publisher.endAsync(true);
      await endSession(broker, clientId);
    }
  });

  it('stops reading from the broker while the outgoing queue is full, and loses nothing once it drains', {
    timeout: 120_000,
  }, async () => {
    const N = 900;
    const dir = join(root, 'pressure');
    mkdirSync(join(dir, 'out'), { recursive: true });
    const base = `sluice-test/${randomUUID()}`;
    const clientId = `sluice-bp-${randomUUID().slice(0, 8)}`;
    const flow = ingestFlow(dir, broker, clientId, `${base}/msg/+`, 'RUNNING');
    const [service] = flow.rootGroup.controllerServices;
    if (service !== undefined) Object.assign(service.properties, { receiveMaximum: '1000' });
    const [consume] = flow.rootGroup.processors;
    if (consume !== undefined) Object.assign(consume.properties, { maxBufferedMessages: '100', batchSize: '50' });
    const [consumed] = flow.rootGroup.connections;
    if (consumed !== undefined) Object.assign(consumed, { backPressureObjectThreshold: 200 });
    const stopped = (document: typeof flow) => ({
      ...document,
      rootGroup: {
        ...document.rootGroup,
        processors: document.rootGroup.processors.map((p) => (p.id === 'name' ? { ...p, state: 'STOPPED' } : p)),
      },
    });

    const engine = await Engine.open({
      dataDir: join(dir, 'data'),
      registry: standardRegistry(),
      fileRoots: [dir],
      logLevel: 'ERROR',
    });
    const publisher = await client(broker, { clientId: `sluice-pub-${randomUUID().slice(0, 8)}` });
    try {
      await engine.applyFlow(stopped(flow)); // the first step after the consumer is stopped
      const queue = () => engine.connection('consumed')?.queue.size().count ?? 0;
      const consumer = engine.component('consume');
      const connection = [...engine.services()].find((s) => s.id === 'mqtt')?.instance as {
        stats(): { unacknowledged: number; buffered: number; readsPaused: boolean };
      };
      if (consumer === undefined || connection === undefined) throw new Error('flow not running');
      await until(() => consumer.runState === 'RUNNING', 'the consumer to run');

      for (let i = 0; i < N; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) => publisher.publishAsync(`${base}/msg/${i + k}`, String(i + k), { qos: 1 })),
        );
      }
      await until(() => queue() >= 200, 'the queue to reach its threshold');
      await sleep(1000);
      const heldAt = queue();
      const tasks = consumer.stats.tasks.sum(Date.now());
      const before = connection.stats();
      await sleep(1500);
      const after = connection.stats();
      // The queue holds at its threshold (plus at most one batch) and the consumer is not triggered.
      expect(heldAt).toBeLessThanOrEqual(200 + 50);
      expect(queue()).toBe(heldAt);
      expect(consumer.stats.tasks.sum(Date.now())).toBe(tasks);
      // What the broker has delivered and Sluice not acknowledged stays bounded and does not grow:
      // by the consumer's buffer (100), whose filling stops Sluice reading the socket.
      expect(after.unacknowledged).toBe(before.unacknowledged);
      expect(after.buffered).toBe(before.buffered);
      expect(after.unacknowledged).toBeLessThanOrEqual(101);
      expect(after.buffered).toBeLessThanOrEqual(101);
      // Receive Maximum (1000) lets an MQTT 5 broker send more than the buffer holds, so the buffer
      // fills and Sluice stops reading the socket; with MQTT 3.1.1 the broker's in-flight limit may
      // stop it first, and a full buffer must still pause reads.
      if (broker.mqtt5 || after.buffered >= 100) expect(after.readsPaused).toBe(true);
      expect(heldAt + after.unacknowledged).toBeLessThan(N);

      await engine.startComponent('name');
      await until(() => files(join(dir, 'out'), '.txt').length >= N, `all ${N} messages written`, 60_000);
      for (let n = 0; n < N; n++) expect(existsSync(join(dir, 'out', `${n}.txt`)), `message ${n}`).toBe(true);
      expect(files(join(dir, 'dups'), '.dup')).toEqual([]);
    } finally {
      await engine.shutdown();
      await publisher.endAsync(true);
      await endSession(broker, clientId);
    }
  });

  it('retries a failed publish with the per-relationship retry until the broker is back', { timeout: 60_000 }, async () => {
    const free = await startAedes();
    const port = free.port;
    await free.close(); // nothing listens there yet
    const engine = await Engine.open({ dataDir: join(root, 'retry-data'), registry: standardRegistry(), logLevel: 'ERROR' });
    let later: { close(): Promise<void> } | undefined;
    let subscriber: MqttClient | undefined;
    try {
      await engine.applyFlow({
        sluiceFlow: 1,
        rootGroup: {
          id: 'root',
          name: 'retry',
          controllerServices: [
            {
              id: 'mqtt',
              name: 'Broker',
              type: 'MQTTBrokerConnection',
              properties: { brokerUri: `mqtt://127.0.0.1:${port}`, reconnectInterval: '100 ms', maxReconnectInterval: '200 ms' },
              state: 'ENABLED',
            },
          ],
          inputPorts: [{ id: 'in', name: 'in', state: 'STOPPED' }],
          outputPorts: [{ id: 'failed', name: 'failed', state: 'STOPPED' }],
          processors: [
            {
              id: 'publish',
              name: 'Publish',
              type: 'PublishMQTT',
              properties: { connection: 'mqtt', topic: 'plant/readings' },
              scheduling: { penaltyDuration: '100 ms', yieldDuration: '100 ms' },
              retry: { relationships: ['failure'], count: 20, backoff: 'penalize', maxBackoff: '400 ms' },
              autoTerminate: ['success'],
              state: 'RUNNING',
            },
          ],
          connections: [
            { id: 'input', source: { id: 'in' }, destination: { id: 'publish' } },
            { id: 'failures', source: { id: 'publish' }, destination: { id: 'failed' }, relationships: ['failure'] },
          ],
        },
      });
      await engine.enqueue('input', '21.5');
      await sleep(1000); // a few failed attempts, each retried
      expect(engine.connection('input')?.queue.size().count).toBe(1);
      const aedes = await startAedes(port);
      later = aedes;
      const received: string[] = [];
      subscriber = await connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      subscriber.on('message', (_topic, payload) => received.push(payload.toString()));
      await subscriber.subscribeAsync('plant/#', { qos: 1 });
      await until(() => received.length === 1, 'the retried message');
      await until(() => engine.connection('input')?.queue.size().count === 0, 'the FlowFile to leave');
      expect(received).toEqual(['21.5']);
      expect(engine.connection('failures')?.queue.size().count).toBe(0);
    } finally {
      await subscriber?.endAsync(true);
      await engine.shutdown();
      await later?.close();
    }
  });
});
