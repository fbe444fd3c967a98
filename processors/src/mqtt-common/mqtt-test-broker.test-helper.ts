import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

/** The broker a test talks to. */
export interface TestBroker {
  /** `mqtt://host:port`. */
  readonly url: string;
  /** `external`: Mosquitto (or whatever MQTT_URL names); `aedes`: started for this test, in this process. */
  readonly kind: 'external' | 'aedes';
  /** Whether it speaks MQTT 5 (Aedes does not): MQTT 5 tests skip otherwise. */
  readonly mqtt5: boolean;
  /** Stops the broker if this helper started it. */
  close(): Promise<void>;
}

async function answers(url: string, protocolVersion: 4 | 5): Promise<boolean> {
  try {
    const client = await connectAsync(url, {
      protocolVersion,
      connectTimeout: 1500,
      reconnectPeriod: 0,
      clientId: `sluice-probe-${randomUUID().slice(0, 8)}`,
    });
    await client.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

/**
 * The real broker when one answers (MQTT_URL, else Mosquitto on 127.0.0.1:1883); otherwise an
 * embedded Aedes broker on an ephemeral port, so the tests also pass on a machine without a broker.
 */
export async function mqttTestBroker(): Promise<TestBroker> {
  const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  if (await answers(url, 5)) return { url, kind: 'external', mqtt5: true, close: async () => undefined };
  if (await answers(url, 4)) return { url, kind: 'external', mqtt5: false, close: async () => undefined };
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'aedes',
    mqtt5: false,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    },
  };
}

/** A topic prefix no other test (or run) uses: `sluice-test/<uuid>`. */
export function uniqueTopic(): string {
  return `sluice-test/${randomUUID()}`;
}

/**
 * A plain mqtt.js client for publishing or observing in tests. `onMessage` is attached before it
 * connects: a resumed session's messages arrive right after the CONNACK.
 */
export async function testClient(
  broker: TestBroker,
  options: IClientOptions = {},
  onMessage?: (topic: string, payload: Buffer) => void,
): Promise<MqttClient> {
  const client = connect(broker.url, {
    protocolVersion: broker.mqtt5 ? 5 : 4,
    reconnectPeriod: 0,
    clientId: `sluice-test-${randomUUID().slice(0, 8)}`,
    ...options,
  });
  if (onMessage !== undefined) client.on('message', onMessage);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Polls until `condition` holds, or throws naming `what` after `timeoutMs` (generous: loaded CI machines). */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
