import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { defineService, integer, string, timePeriod, type ValidationContext } from '@sluice/api';
import { Aedes } from 'aedes';
import { type EmbeddedMqttBroker, MQTT_EMBEDDED_BROKER_API } from '../mqtt-common/api.ts';

/** The running broker: Aedes behind a TCP server. */
class RunningBroker implements EmbeddedMqttBroker {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly #aedes: Aedes;
  readonly #server: Server;

  constructor(aedes: Aedes, server: Server, host: string, port: number) {
    this.#aedes = aedes;
    this.#server = server;
    this.host = host;
    this.port = port;
    this.url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  connectedClients(): number {
    return this.#aedes.connectedClients;
  }

  /** Disconnects every client and stops listening. */
  async close(): Promise<void> {
    const server = this.#server;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
    await stopped;
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** An MQTT broker inside Sluice (Aedes), so a small site or a demo needs no separate broker. */
export const EmbeddedMQTTBroker = defineService({
  type: 'EmbeddedMQTTBroker',
  description:
    'Runs an MQTT 3.1.1 broker (Aedes) inside Sluice while enabled, so a small site or the first-run demo needs no separate broker: point an MQTTBrokerConnection at mqtt://127.0.0.1:1883. It keeps sessions, subscriptions, retained and in-flight messages in memory only: a restart of Sluice loses them (use a real broker such as Mosquitto when that matters). It does not speak MQTT 5. Off unless you add it.',
  tags: ['mqtt', 'iot', 'broker', 'embedded', 'aedes'],
  provides: [MQTT_EMBEDDED_BROKER_API],
  properties: {
    host: string({
      displayName: 'Listen Address',
      description:
        'Address to listen on. 127.0.0.1 accepts only clients on this machine; 0.0.0.0 accepts anyone who can reach it (set a Username and Password then).',
      default: '127.0.0.1',
      required: true,
    }),
    port: integer({
      displayName: 'Port',
      description: "TCP port (1883 is MQTT's; 0 picks a free one).",
      default: '1883',
      required: true,
      min: 0,
      max: 65_535,
    }),
    username: string({
      displayName: 'Username',
      description: 'When set, clients must connect with this user name and the password; otherwise anyone may connect.',
    }),
    password: string({ displayName: 'Password', description: 'Password clients must give with the user name.', sensitive: true }),
    slowClientTimeout: timePeriod({
      displayName: 'Slow Client Timeout',
      description:
        "A client that stops reading for this long is disconnected, so it cannot stall delivery to everyone else (Aedes' drainTimeout).",
      default: '60 sec',
      min: 1000,
    }),
  },
  validate(context) {
    return credentialProblems(context);
  },
  async enable(context): Promise<EmbeddedMqttBroker> {
    const host = context.getProperty('host').asString() ?? '127.0.0.1';
    const port = context.getProperty('port').asInteger() ?? 1883;
    const username = context.getProperty('username').asString() ?? '';
    const password = Buffer.from(context.getProperty('password').asString() ?? '');
    const aedes = await Aedes.createBroker({
      drainTimeout: context.getProperty('slowClientTimeout').asTimePeriod() ?? 60_000,
      ...(username === ''
        ? {}
        : {
            authenticate: (_client, user, pass, done) => {
              done(null, user === username && pass !== undefined && sameBytes(pass, password));
            },
          }),
    });
    aedes.on('clientError', (client, error) => context.logger.debug(`client ${client.id}: ${error.message}`));
    const server = createServer(aedes.handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw new Error(`cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`);
    }
    server.on('error', (e) => context.logger.error("the broker's listener failed", e));
    const address = server.address();
    const broker = new RunningBroker(aedes, server, host, typeof address === 'object' && address !== null ? address.port : port);
    context.logger.info(`MQTT broker listening on ${broker.url}`);
    if (!LOOPBACK.has(host) && username === '') {
      context.logger.warn(
        `the broker listens on ${host} without a Username and Password: anyone who can reach it may publish and subscribe`,
      );
    }
    return broker;
  },
  async disable(instance) {
    if (instance instanceof RunningBroker) await instance.close();
  },
});

function credentialProblems(context: Pick<ValidationContext, 'getProperty'>): string[] {
  const user = context.getProperty('username').raw ?? '';
  const password = context.getProperty('password').raw ?? '';
  return password !== '' && user === '' ? ['a Password needs a Username (clients log in with both)'] : [];
}

/** Compares secrets in constant time. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
