// MQTT ingest: ConsumeMQTT -> a terminating sink (durable repositories, provenance on), against a
// bare mqtt.js subscriber on the same broker, at QoS 0 and QoS 1 with 100 B payloads. Each phase
// runs the consumer in a fresh child process while a publisher child pushes as fast as the broker
// accepts; bare and Sluice phases alternate (same load, same machine, one run) and the medians are
// reported. Prints one JSON line.
//
//   node --import tsx bench/mqtt.ts [seconds=10] [rounds=3]
//
// The broker is MQTT_URL, else Mosquitto on 127.0.0.1:1883 when it answers, else Aedes started in a
// child process of its own (so it never shares the measured process).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Engine } from '@sluice/engine';
import { standardRegistry } from '@sluice/server';
import { Aedes } from 'aedes';
import { connect, connectAsync, type MqttClient } from 'mqtt';

const PAYLOAD_BYTES = 100;
const WARMUP_SECONDS = 2;
const here = new URL(import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'bare' | 'sluice' | 'sluice-batched';
type Qos = 0 | 1;

/** Runs this script again in a child with a role; the child keeps this process's loader flags. */
function child(args: readonly (string | number)[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, here, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The first stdout line of a child matching `test`. */
function line(process: ChildProcess, test: (l: string) => boolean, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = process.stdout;
    if (stdout === null) return reject(new Error('no stdout'));
    const lines = createInterface({ input: stdout });
    lines.on('line', (l) => {
      if (test(l)) resolve(l);
    });
    process.once('exit', (code) => reject(new Error(`${what}: the child exited (${code}) first`)));
  });
}

async function answers(url: string, protocolVersion: 4 | 5): Promise<boolean> {
  try {
    const c = await connectAsync(url, { protocolVersion, connectTimeout: 1500, reconnectPeriod: 0 });
    await c.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

// ---- child roles ------------------------------------------------------------------------------

/** `--broker`: Aedes on a free port; prints {"port":n}; runs until killed. */
async function brokerRole(): Promise<void> {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 }));
}

/** `--publish url topic qos seconds version`: publishes as fast as the broker takes it; prints the count. */
async function publishRole(url: string, topic: string, qos: Qos, seconds: number, version: 4 | 5): Promise<void> {
  const client = await connectAsync(url, {
    protocolVersion: version,
    reconnectPeriod: 0,
    clientId: `bench-pub-${randomUUID().slice(0, 8)}`,
  });
  const payload = Buffer.alloc(PAYLOAD_BYTES, 'x');
  const started = performance.now();
  let published = 0;
  // QoS 1: up to 500 unacknowledged at once; QoS 0: 500 per write burst, waiting for the socket to drain.
  while (performance.now() - started < seconds * 1000) {
    await Promise.all(Array.from({ length: 500 }, () => client.publishAsync(topic, payload, { qos })));
    published += 500;
  }
  const elapsed = (performance.now() - started) / 1000;
  await client.endAsync(true);
  console.log(JSON.stringify({ published, publishedPerSecond: published / elapsed }));
  process.exit(0);
}

/** Counts what a consumer received over `seconds`, after the first message and a warm-up. */
async function measure(count: () => number, seconds: number): Promise<{ perSecond: number; received: number }> {
  const deadline = Date.now() + 60_000;
  while (count() === 0) {
    if (Date.now() > deadline) throw new Error('no message arrived within 60 s');
    await sleep(10);
  }
  await sleep(WARMUP_SECONDS * 1000);
  const c0 = count();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const received = count() - c0;
  return { perSecond: received / ((performance.now() - t0) / 1000), received };
}

/** `--consume bare|sluice url topic qos seconds version`: prints "ready", then the measured rate. */
async function consumeRole(kind: Kind, url: string, topic: string, qos: Qos, seconds: number, version: 4 | 5): Promise<void> {
  if (kind === 'bare') {
    let received = 0;
    const client: MqttClient = connect(url, {
      protocolVersion: version,
      reconnectPeriod: 0,
      clientId: `bench-bare-${randomUUID().slice(0, 8)}`,
    });
    client.on('message', () => {
      received++;
    });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.subscribeAsync(topic, { qos });
    console.log('ready');
    const result = await measure(() => received, seconds);
    await client.endAsync(true);
    console.log(JSON.stringify(result));
    process.exit(0);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-mqtt-'));
  const engine = await Engine.open({
    dataDir: join(dir, 'data'),
    registry: standardRegistry(),
    repositories: 'durable',
    provenance: 'durable',
    logLevel: 'ERROR',
  });
  try {
    await engine.applyFlow({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'mqtt bench',
        controllerServices: [
          {
            id: 'mqtt',
            name: 'Broker',
            type: 'MQTTBrokerConnection',
            properties: {
              brokerUri: url,
              mqttVersion: version === 5 ? '5' : '3.1.1',
              clientId: `bench-sluice-${randomUUID().slice(0, 8)}`,
            },
            state: 'ENABLED',
          },
        ],
        processors: [
          {
            id: 'consume',
            name: 'Consume',
            type: 'ConsumeMQTT',
            properties: {
              connection: 'mqtt',
              topicFilter: topic,
              qos: String(qos),
              // Batched: many messages per FlowFile (one per topic per trigger), newline-separated.
              ...(kind === 'sluice-batched' ? { messageDemarcator: '\\n', maxMessagesPerFlowFile: '10000' } : {}),
            },
            state: 'RUNNING',
          },
          { id: 'sink', name: 'Sink', type: 'UpdateAttribute', autoTerminate: ['success'], state: 'RUNNING' },
        ],
        connections: [{ id: 'c1', source: { id: 'consume' }, destination: { id: 'sink' }, relationships: ['success'] }],
      },
    });
    const consume = engine.component('consume');
    if (consume === undefined) throw new Error('no consumer');
    await sleep(300); // the SUBACK
    console.log('ready');
    // Messages in committed FlowFiles: ConsumeMQTT's counter moves only with its sessions' commits.
    const result = await measure(() => consume.stats.counters.get('messages received') ?? 0, seconds);
    const flowFiles = consume.stats.outCount.sum(Date.now());
    const { events, indexLag } = engine.provenance.stats();
    console.log(
      JSON.stringify({
        ...result,
        flowFiles,
        provenanceEvents: events,
        provenanceIndexLag: indexLag,
        rssMb: process.memoryUsage().rss / 1e6,
      }),
    );
  } finally {
    await engine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

// ---- the benchmark ----------------------------------------------------------------------------

async function phase(kind: Kind, url: string, qos: Qos, seconds: number, version: 4 | 5): Promise<Record<string, number>> {
  const topic = `sluice-bench/${randomUUID()}`;
  const consumer = child(['--consume', kind, url, topic, qos, seconds, version]);
  const done = line(consumer, (l) => l.startsWith('{'), `${kind} consumer`);
  await line(consumer, (l) => l === 'ready', `${kind} consumer`);
  const publisher = child(['--publish', url, topic, qos, WARMUP_SECONDS + seconds + 3, version]);
  const published = line(publisher, (l) => l.startsWith('{'), 'publisher');
  const result: Record<string, number> = JSON.parse(await done);
  const load: Record<string, number> = JSON.parse(await published);
  return { ...result, publishedPerSecond: load.publishedPerSecond ?? 0 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main(seconds: number, rounds: number): Promise<void> {
  let url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  let broker = process.env.MQTT_URL === undefined ? 'mosquitto' : url;
  let brokerProcess: ChildProcess | undefined;
  let version: 4 | 5 = 5;
  if (!(await answers(url, 5))) {
    if (await answers(url, 4)) {
      version = 4;
    } else {
      brokerProcess = child(['--broker']);
      const { port } = JSON.parse(await line(brokerProcess, (l) => l.startsWith('{'), 'broker'));
      url = `mqtt://127.0.0.1:${port}`;
      broker = 'aedes (child process)';
      version = 4;
    }
  }
  try {
    const out: Record<string, unknown> = {
      broker,
      mqttVersion: version === 5 ? '5' : '3.1.1',
      payloadBytes: PAYLOAD_BYTES,
      seconds,
      rounds,
    };
    for (const qos of [0, 1] as const) {
      const rates: Record<Kind, number[]> = { bare: [], sluice: [], 'sluice-batched': [] };
      const rss: number[] = [];
      const load: number[] = [];
      for (let round = 0; round < rounds; round++) {
        for (const kind of ['bare', 'sluice', 'sluice-batched'] as const) {
          const r = await phase(kind, url, qos, seconds, version);
          rates[kind].push(r.perSecond ?? 0);
          load.push(r.publishedPerSecond ?? 0);
          if (kind !== 'bare') rss.push(r.rssMb ?? 0);
        }
      }
      const bare = median(rates.bare);
      const perMessage = median(rates.sluice);
      const batched = median(rates['sluice-batched']);
      out[`qos${qos}`] = {
        bareMessagesPerSecond: bare,
        sluiceMessagesPerSecond: perMessage,
        ratio: bare === 0 ? 0 : perMessage / bare,
        sluiceBatchedMessagesPerSecond: batched,
        batchedRatio: bare === 0 ? 0 : batched / bare,
        publisherMessagesPerSecond: median(load),
        rounds: rates,
        sluiceRssMb: median(rss),
      };
    }
    console.log(JSON.stringify(out));
  } finally {
    brokerProcess?.kill();
  }
}

const [role, ...rest] = process.argv.slice(2);
const qosOf = (v: string | undefined): Qos => (v === '1' ? 1 : 0);
const versionOf = (v: string | undefined): 4 | 5 => (v === '4' ? 4 : 5);
const kindOf = (v: string | undefined): Kind => {
  if (v === 'bare' || v === 'sluice' || v === 'sluice-batched') return v;
  throw new Error(`unknown consumer kind ${v}`);
};
if (role === '--broker') await brokerRole();
else if (role === '--publish')
  await publishRole(rest[0] ?? '', rest[1] ?? '', qosOf(rest[2]), Number(rest[3]), versionOf(rest[4]));
else if (role === '--consume')
  await consumeRole(kindOf(rest[0]), rest[1] ?? '', rest[2] ?? '', qosOf(rest[3]), Number(rest[4]), versionOf(rest[5]));
else await main(Number(role ?? 10), Number(rest[0] ?? 3));
