import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createSecureContext } from 'node:tls';
import {
  boolean,
  choice,
  dataSize,
  defineService,
  integer,
  type PropertyValue,
  string,
  timePeriod,
  usesExpression,
  type ValidationContext,
} from '@sluice/api';
import type { IClientOptions } from 'mqtt';
import { MQTT_CONNECTION_API, type MqttConnection, type QualityOfService } from '../mqtt-common/api.ts';
import { validateTopicName } from '../mqtt-common/topics.ts';
import { BrokerConnection } from './connection.ts';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };
const ALIASES: Readonly<Record<string, string>> = { tcp: 'mqtt', ssl: 'mqtts', tls: 'mqtts' };

/** A broker URI, checked and normalized. */
export interface BrokerAddress {
  /** `scheme://host:port`, as attributes and provenance show it. */
  readonly brokerUri: string;
  /** What mqtt.js connects to (WebSocket URIs keep their path). */
  readonly connectUri: string;
  readonly tls: boolean;
}

/**
 * Parses a broker URI: `mqtt://`, `mqtts://` (TLS), `ws://` and `wss://` (WebSocket, with a path),
 * plus NiFi's spellings `tcp://` and `ssl://`. Returns the address, or a message saying what is wrong.
 */
export function parseBrokerUri(text: string): BrokerAddress | string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return `"${text}" is not a URI; write mqtt://host:1883, mqtts://host:8883, ws://host:8080/mqtt or wss://host/mqtt`;
  }
  const given = url.protocol.replace(/:$/, '').toLowerCase();
  const scheme = ALIASES[given] ?? given;
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined) {
    return `"${given}://" is not an MQTT scheme; use mqtt://, mqtts:// (TLS), ws:// or wss:// (WebSocket)`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'put credentials in the Username and Password properties (the password is encrypted at rest), not in the broker URI';
  }
  if (url.hostname === '') return `"${text}" names no host; write ${scheme}://host:${defaultPort}`;
  const port = url.port === '' ? defaultPort : Number(url.port);
  const brokerUri = `${scheme}://${url.hostname}:${port}`;
  const websocket = scheme === 'ws' || scheme === 'wss';
  const path = url.pathname === '' ? '/' : url.pathname;
  return {
    brokerUri,
    connectUri: websocket ? `${brokerUri}${path}${url.search}` : brokerUri,
    tls: scheme === 'mqtts' || scheme === 'wss',
  };
}

const qosValues = [
  { value: '0', displayName: '0 (at most once)' },
  { value: '1', displayName: '1 (at least once)' },
  { value: '2', displayName: '2 (exactly once)' },
];

const properties = {
  brokerUri: string({
    displayName: 'Broker URI',
    description:
      'Where the broker listens: mqtt://host:1883, mqtts://host:8883 (TLS), ws://host:8080/mqtt or wss://host/mqtt (WebSocket). NiFi spellings tcp:// and ssl:// are accepted. Credentials go in Username and Password, not here.',
    required: true,
    default: 'mqtt://127.0.0.1:1883',
    expression: 'environment',
    validate: (value) => {
      const parsed = parseBrokerUri(value);
      return typeof parsed === 'string' ? parsed : undefined;
    },
  }),
  mqttVersion: choice(
    [
      { value: '3.1.1', displayName: '3.1.1', description: 'Understood by every broker (Mosquitto, Aedes, EMQX, HiveMQ, ...).' },
      {
        value: '5',
        displayName: '5',
        description:
          'User properties, content type, session expiry and Receive Maximum. The embedded broker (Aedes) does not speak MQTT 5.',
      },
    ],
    { displayName: 'MQTT Version', description: 'The protocol version to speak.', default: '3.1.1', required: true },
  ),
  clientId: string({
    displayName: 'Client ID',
    description:
      'Identifies this connection, and its session, to the broker. Two clients with one id push each other off. Default: "sluice-" and a hash of this host\'s name and the service id, stable across restarts and different on each machine running the same flow.',
    expression: 'environment',
    validate: (value) => (value.includes('\u0000') ? 'the client id cannot contain a NUL character' : undefined),
  }),
  username: string({ displayName: 'Username', description: 'User name to connect with.', expression: 'environment' }),
  password: string({ displayName: 'Password', description: 'Password to connect with.', sensitive: true }),
  persistentSession: boolean({
    displayName: 'Persistent Session',
    description:
      'Keep the session at the broker across disconnections and restarts (clean session false; with MQTT 5, clean start false and Session Expiry Interval): the broker keeps the subscriptions and every QoS 1/2 message published while Sluice is away or has not yet acknowledged it, and delivers them on reconnect. Needs a stable client id. Brokers bound what they keep (Mosquitto: max_queued_messages, 1000 by default).',
    default: 'false',
  }),
  sessionExpiryInterval: timePeriod({
    displayName: 'Session Expiry Interval',
    description: 'MQTT 5: how long the broker keeps the session after a disconnection (MQTT 3.1.1 sessions do not expire).',
    default: '1 day',
    min: 1000,
    max: 0xffff_ffff * 1000,
    dependsOn: { property: 'persistentSession', values: ['true'] },
  }),
  receiveMaximum: integer({
    displayName: 'Receive Maximum',
    description:
      'MQTT 5: how many QoS 1/2 messages the broker may send before Sluice acknowledges them. Sluice acknowledges only committed messages, so this bounds what is in flight. (With MQTT 3.1.1 the broker decides; Mosquitto: max_inflight_messages, 20.)',
    default: '1000',
    min: 1,
    max: 65_535,
  }),
  maximumPacketSize: dataSize({
    displayName: 'Maximum Packet Size',
    description:
      "MQTT 5: the largest packet the broker may send to Sluice (a message plus about 10 bytes of header, more with properties); the broker drops larger messages for this client, so they never take memory here. Empty: no limit but MQTT's own (256 MB).",
    min: 16,
    max: 268_435_460,
  }),
  keepAlive: timePeriod({
    displayName: 'Keep Alive Interval',
    description:
      'Longest silence before a ping; a connection that stays silent 1.5 times this long is considered lost. 0 disables.',
    default: '60 sec',
    min: 0,
    max: 65_535_000,
  }),
  connectTimeout: timePeriod({
    displayName: 'Connection Timeout',
    description: 'How long to wait for the broker to accept a connection, and for it to answer a subscription.',
    default: '30 sec',
    min: 1000,
  }),
  reconnectInterval: timePeriod({
    displayName: 'Reconnect Interval',
    description: 'Wait before the first reconnection attempt; each failed attempt doubles it, up to Max Reconnect Interval.',
    default: '1 sec',
    min: 100,
  }),
  maxReconnectInterval: timePeriod({
    displayName: 'Max Reconnect Interval',
    description: 'Longest wait between reconnection attempts.',
    default: '1 min',
    min: 100,
  }),
  tlsCaFile: string({
    displayName: 'TLS CA File',
    description:
      "PEM file of the certificate authorities to trust for the broker (default: the system's). mqtts:// and wss:// only.",
    expression: 'environment',
  }),
  tlsCertFile: string({
    displayName: 'TLS Client Certificate File',
    description:
      'PEM file of a client certificate, for brokers that authenticate clients by certificate (with TLS Client Key File).',
    expression: 'environment',
  }),
  tlsKeyFile: string({
    displayName: 'TLS Client Key File',
    description: "PEM file of the client certificate's private key.",
    expression: 'environment',
  }),
  tlsKeyPassword: string({
    displayName: 'TLS Client Key Password',
    description: 'Password of an encrypted client key.',
    sensitive: true,
  }),
  tlsVerifyBroker: boolean({
    displayName: 'Verify Broker Certificate',
    description:
      'Refuse a broker whose certificate is not signed by a trusted authority for its host name. Turn off only for testing.',
    default: 'true',
  }),
  lastWillTopic: string({
    displayName: 'Last Will Topic',
    description:
      'Topic the broker publishes the last will message to when Sluice disappears without disconnecting (empty: no last will).',
    validate: validateTopicName,
  }),
  lastWillMessage: string({ displayName: 'Last Will Message', description: 'The last will message (UTF-8).' }),
  lastWillQos: choice(qosValues, { displayName: 'Last Will QoS', description: 'QoS of the last will message.', default: '0' }),
  lastWillRetain: boolean({ displayName: 'Last Will Retain', description: 'Retain the last will message.', default: 'false' }),
};

type Property = keyof typeof properties;

const TLS_FILES: readonly Property[] = ['tlsCaFile', 'tlsCertFile', 'tlsKeyFile'];

/**
 * A connection to an MQTT broker (mqtt.js): one client, its session and its settings, shared by the
 * ConsumeMQTT and PublishMQTT processors that reference it.
 */
export const MQTTBrokerConnection = defineService({
  type: 'MQTTBrokerConnection',
  description:
    'A connection to an MQTT broker (MQTT 3.1.1 or 5, TCP, TLS or WebSocket), shared by the ConsumeMQTT and PublishMQTT processors that use it. It reconnects with backoff and reports connection losses as warnings. ConsumeMQTT acknowledges messages through it only once they are committed, so with QoS 1/2 and a Persistent Session a crash or restart loses nothing: the broker delivers unacknowledged and missed messages again. Processors sharing a connection share its session, its in-flight window and its back pressure: give a consumer that may be held back its own connection.',
  tags: ['mqtt', 'iot', 'broker', 'connection'],
  provides: [MQTT_CONNECTION_API],
  restricted: 'reads TLS certificate and key files from the Sluice host (under the allowed roots)',
  properties,
  validate(context) {
    return validateConnection(context);
  },
  async enable(context): Promise<MqttConnection> {
    const value = (name: Property): string | undefined => {
      const v = context.getProperty(name).asString();
      return v === undefined || v === '' ? undefined : v;
    };
    const address = parseBrokerUri(value('brokerUri') ?? '');
    if (typeof address === 'string') throw new Error(`Broker URI: ${address}`);
    const version = value('mqttVersion') === '5' ? 5 : 4;
    const persistent = context.getProperty('persistentSession').asBoolean() === true;
    const connectTimeout = ms(context.getProperty('connectTimeout'), 30_000);
    const clientId = value('clientId') ?? defaultClientId(context.componentId);
    const options: IClientOptions = {
      protocolVersion: version,
      clientId,
      clean: !persistent,
      keepalive: Math.round(ms(context.getProperty('keepAlive'), 60_000) / 1000),
      connectTimeout,
      ...credentials(value('username'), value('password')),
      ...(await tlsOptions(
        address.tls,
        (path) => context.resolvePath(path),
        value('tlsCaFile'),
        value('tlsCertFile'),
        value('tlsKeyFile'),
        value('tlsKeyPassword'),
      )),
      rejectUnauthorized: context.getProperty('tlsVerifyBroker').asBoolean() !== false,
      ...will(value('lastWillTopic'), value('lastWillMessage'), value('lastWillQos'), value('lastWillRetain')),
      ...(version === 5
        ? {
            properties: {
              receiveMaximum: context.getProperty('receiveMaximum').asInteger() ?? 1000,
              ...maximumPacketSize(context.getProperty('maximumPacketSize').asDataSize()),
              ...(persistent
                ? {
                    sessionExpiryInterval: Math.min(
                      Math.round(ms(context.getProperty('sessionExpiryInterval'), 86_400_000) / 1000),
                      0xffff_ffff,
                    ),
                  }
                : {}),
            },
          }
        : {}),
    };
    const reconnectMs = ms(context.getProperty('reconnectInterval'), 1000);
    return BrokerConnection.open({
      brokerUri: address.brokerUri,
      connectUri: address.connectUri,
      options,
      protocolVersion: version,
      persistentSession: persistent,
      reconnectMs,
      maxReconnectMs: Math.max(reconnectMs, ms(context.getProperty('maxReconnectInterval'), 60_000)),
      requestTimeoutMs: connectTimeout,
      firstConnectWaitMs: Math.min(connectTimeout, 5000),
      logger: context.logger,
    });
  },
  async disable(instance) {
    if (instance instanceof BrokerConnection) await instance.close();
  },
});

function maximumPacketSize(bytes: number | undefined): { maximumPacketSize?: number } {
  return bytes === undefined ? {} : { maximumPacketSize: bytes };
}

function ms(property: PropertyValue, fallback: number): number {
  return property.asTimePeriod() ?? fallback;
}

/** "sluice-" and 16 hex digits (23 characters, the most MQTT 3.1.1 promises every broker accepts). */
function defaultClientId(serviceId: string): string {
  return `sluice-${createHash('sha256').update(`${hostname()}\u0000${serviceId}`).digest('hex').slice(0, 16)}`;
}

function credentials(username: string | undefined, password: string | undefined): Pick<IClientOptions, 'username' | 'password'> {
  return {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

function will(
  topic: string | undefined,
  message: string | undefined,
  qos: string | undefined,
  retain: string | undefined,
): Pick<IClientOptions, 'will'> {
  if (topic === undefined) return {};
  const level: QualityOfService = qos === '2' ? 2 : qos === '1' ? 1 : 0;
  return { will: { topic, payload: Buffer.from(message ?? ''), qos: level, retain: retain === 'true' } };
}

/**
 * Reads the PEM files (each path checked against the roots the administrator allowed) and checks
 * them, so a wrong file fails enabling with a clear message instead of every connection attempt.
 */
async function tlsOptions(
  tls: boolean,
  resolvePath: (path: string) => string,
  caFile: string | undefined,
  certFile: string | undefined,
  keyFile: string | undefined,
  keyPassword: string | undefined,
): Promise<Pick<IClientOptions, 'ca' | 'cert' | 'key'>> {
  if (!tls) return {};
  const read = async (file: string | undefined, label: string): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(resolvePath(file));
    } catch (e) {
      throw new Error(`${label}: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const ca = await read(caFile, 'TLS CA File');
  const cert = await read(certFile, 'TLS Client Certificate File');
  let key = await read(keyFile, 'TLS Client Key File');
  checkCertificates(ca, 'TLS CA File', caFile);
  checkCertificates(cert, 'TLS Client Certificate File', certFile);
  if (key !== undefined) {
    try {
      const decrypted = createPrivateKey({
        key,
        format: 'pem',
        ...(keyPassword === undefined ? {} : { passphrase: keyPassword }),
      }).export({ format: 'pem', type: 'pkcs8' });
      key = typeof decrypted === 'string' ? Buffer.from(decrypted) : decrypted;
    } catch (e) {
      throw new Error(
        `TLS Client Key File: ${keyFile ?? ''} is not a PEM private key${keyPassword === undefined ? ' (or it is encrypted: set TLS Client Key Password)' : ' that this password decrypts'}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  const options = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
  try {
    createSecureContext(options);
  } catch (e) {
    throw new Error(`the TLS client certificate and key cannot be used together: ${e instanceof Error ? e.message : String(e)}`);
  }
  return options;
}

/** Refuses a file that holds no PEM certificate (Node would silently trust nothing from it). */
function checkCertificates(pem: Buffer | undefined, label: string, file: string | undefined): void {
  if (pem === undefined) return;
  const text = pem.toString('utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${label}: ${file ?? ''} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (e) {
      throw new Error(
        `${label}: ${file ?? ''} holds a certificate that cannot be read: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}

function validateConnection(context: ValidationContext<Property>): string[] {
  const problems: string[] = [];
  const literal = (name: Property): string | undefined => {
    const raw = context.getProperty(name).raw;
    return raw === undefined || raw === '' || usesExpression(raw) ? undefined : raw;
  };
  const set = (name: Property): boolean => {
    const raw = context.getProperty(name).raw;
    return raw !== undefined && raw !== '';
  };
  const uri = literal('brokerUri');
  const address = uri === undefined ? undefined : parseBrokerUri(uri);
  const tlsFiles = TLS_FILES.filter(set);
  if (typeof address === 'object' && !address.tls && tlsFiles.length > 0) {
    problems.push(`TLS files are set (${tlsFiles.join(', ')}) but the broker URI is not a TLS one: use mqtts:// or wss://`);
  }
  if (set('tlsCertFile') !== set('tlsKeyFile')) {
    problems.push('a client certificate needs its key: set both TLS Client Certificate File and TLS Client Key File, or neither');
  }
  if (set('tlsKeyPassword') && !set('tlsKeyFile'))
    problems.push('TLS Client Key Password is set but there is no TLS Client Key File');
  if (set('lastWillMessage') && !set('lastWillTopic')) problems.push('a last will message needs a Last Will Topic');
  if (set('password') && !set('username') && literal('mqttVersion') !== '5') {
    problems.push('MQTT 3.1.1 sends a password only with a user name: set Username too');
  }
  return problems;
}
