import type { ComponentLogger } from '@sluice/api';
import {
  connect,
  ErrorWithReasonCode,
  type IClientOptions,
  type IClientSubscribeOptions,
  type IConnackPacket,
  type IPublishPacket,
  type MqttClient,
  type Packet,
} from 'mqtt';
import {
  type BufferedSize,
  type InboundMessage,
  type MqttConnection,
  type MqttConnectionStats,
  type MqttSubscription,
  MqttUnavailableError,
  type PublishRequest,
  type QualityOfService,
  type SubscribeRequest,
} from '../mqtt-common/api.ts';
import { TopicFilter } from '../mqtt-common/topics.ts';

/** How long stopping a consumer waits for the broker to confirm its unsubscription. */
const UNSUBSCRIBE_WAIT_MS = 2000;

/** Everything a {@link BrokerConnection} needs; the service builds it from its properties. */
export interface ConnectionSettings {
  /** `scheme://host:port` (shown in attributes and provenance). */
  readonly brokerUri: string;
  /** The URI mqtt.js connects to (may carry a WebSocket path). */
  readonly connectUri: string;
  /** mqtt.js options (protocol version, client id, session, TLS, will...). */
  readonly options: IClientOptions;
  readonly protocolVersion: 4 | 5;
  readonly persistentSession: boolean;
  /** First reconnect delay, doubled after each failed attempt up to `maxReconnectMs`. */
  readonly reconnectMs: number;
  readonly maxReconnectMs: number;
  /** How long SUBSCRIBE may wait for its SUBACK. */
  readonly requestTimeoutMs: number;
  /** How long {@link BrokerConnection.open} waits for the first connection. */
  readonly firstConnectWaitMs: number;
  readonly logger: ComponentLogger;
}

/**
 * Messages that arrive for topics no running consumer subscribes to (a persistent session replaying
 * before the consumers start, a consumer stopped) are held unacknowledged up to this many; beyond
 * it the connection stops reading (QoS 1/2) or drops them (QoS 0, which promises nothing more).
 */
const PARKED_MAX_MESSAGES = 10_000;
const PARKED_MAX_BYTES = 64 * 1024 * 1024;
/** Topics remembered with the consumers they route to (cleared when consumers change). */
const ROUTE_CACHE_SIZE = 10_000;

/** MQTT 3.1.1 CONNACK return codes (MQTT 5 reason codes come with their text from mqtt.js). */
const V3_CONNACK: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version (the broker may not support this MQTT version)',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** The acknowledgement of one received PUBLISH, held until every delivery of it is committed. */
interface AckTicket {
  readonly messageId: number;
  readonly generation: number;
  /** Deliveries of this PUBLISH not yet acknowledged. */
  pending: number;
  /** The PUBACK/PUBREC mqtt.js wanted to send; held while `pending` > 0. */
  packet: unknown;
  sent: boolean;
}

/** One message as handed to one consumer (a message matching two consumers is delivered twice). */
class Delivery implements InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QualityOfService;
  readonly retain: boolean;
  readonly duplicate: boolean;
  readonly userProperties: ReadonlyArray<readonly [string, string]>;
  readonly contentType: string | undefined;
  readonly responseTopic: string | undefined;
  readonly correlationData: Buffer | undefined;
  readonly receivedAt: number;
  /** The connection it arrived on (acknowledgements are only valid there). */
  readonly generation: number;
  readonly #ticket: AckTicket | undefined;
  readonly #release: (ticket: AckTicket) => void;
  #acked = false;

  constructor(
    source: Omit<InboundMessage, 'ack'>,
    generation: number,
    ticket: AckTicket | undefined,
    release: (ticket: AckTicket) => void,
  ) {
    this.topic = source.topic;
    this.payload = source.payload;
    this.qos = source.qos;
    this.retain = source.retain;
    this.duplicate = source.duplicate;
    this.userProperties = source.userProperties;
    this.contentType = source.contentType;
    this.responseTopic = source.responseTopic;
    this.correlationData = source.correlationData;
    this.receivedAt = source.receivedAt;
    this.generation = generation;
    this.#ticket = ticket;
    this.#release = release;
  }

  ack(): void {
    if (this.#acked) return;
    this.#acked = true;
    if (this.#ticket !== undefined) this.#release(this.#ticket);
  }
}

/** A consumer's registration: its filters and its bounded buffer. */
class Registration implements MqttSubscription {
  readonly request: SubscribeRequest;
  readonly filters: readonly TopicFilter[];
  #queue: Delivery[] = [];
  #bytes = 0;
  #waiters = new Set<() => void>();
  #closed = false;
  /** Set when this registration closes, so messages put back late still reach the connection. */
  #parkAfterClose: ((deliveries: Delivery[]) => void) | undefined;
  readonly #onTaken: () => void;
  readonly #onClose: (registration: Registration) => Promise<void>;

  constructor(request: SubscribeRequest, onTaken: () => void, onClose: (registration: Registration) => Promise<void>) {
    this.request = request;
    this.filters = request.filters.map((f) => new TopicFilter(f));
    this.#onTaken = onTaken;
    this.#onClose = onClose;
  }

  matches(levels: readonly string[]): boolean {
    for (const filter of this.filters) if (filter.matches(levels)) return true;
    return false;
  }

  get full(): boolean {
    return this.#queue.length >= this.request.maxMessages || this.#bytes >= this.request.maxBytes;
  }

  /** Drained to half its bounds: reading may resume (resuming at the first free slot would thrash). */
  get drained(): boolean {
    return this.#queue.length <= this.request.maxMessages / 2 && this.#bytes <= this.request.maxBytes / 2;
  }

  get count(): number {
    return this.#queue.length;
  }

  push(delivery: Delivery): void {
    this.#queue.push(delivery);
    this.#bytes += delivery.payload.length;
    if (this.#waiters.size > 0) {
      const waiters = [...this.#waiters];
      this.#waiters.clear();
      for (const wake of waiters) wake();
    }
  }

  take(maxCount: number, maxBytes: number): InboundMessage[] {
    const queue = this.#queue;
    let n = 0;
    let bytes = 0;
    while (n < queue.length && n < maxCount) {
      const size = queue[n]?.payload.length ?? 0;
      if (n > 0 && bytes + size > maxBytes) break;
      bytes += size;
      n++;
    }
    if (n === 0) return [];
    const taken = queue.splice(0, n);
    this.#bytes -= bytes;
    this.#onTaken();
    return taken;
  }

  putBack(messages: readonly InboundMessage[]): void {
    const mine = messages.filter((m): m is Delivery => m instanceof Delivery);
    if (this.#closed) {
      // The consumer stopped meanwhile: the connection parks them for the next consumer.
      this.#parkAfterClose?.(mine);
      return;
    }
    this.#queue.unshift(...mine);
    for (const m of mine) this.#bytes += m.payload.length;
  }

  size(): BufferedSize {
    return { count: this.#queue.length, bytes: this.#bytes, oldestReceivedAt: this.#queue[0]?.receivedAt };
  }

  waitForMessages(timeoutMs: number): Promise<void> {
    if (this.#queue.length > 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /** Removes and returns everything buffered (the connection parks it). */
  drain(parkAfterClose: (deliveries: Delivery[]) => void): Delivery[] {
    this.#closed = true;
    this.#parkAfterClose = parkAfterClose;
    const all = this.#queue;
    this.#queue = [];
    this.#bytes = 0;
    for (const wake of [...this.#waiters]) wake();
    return all;
  }

  /** Drops deliveries the broker will send again (see BrokerConnection's reconnect handling). */
  purge(keep: (delivery: Delivery) => boolean): void {
    this.#queue = this.#queue.filter(keep);
    this.#bytes = 0;
    for (const d of this.#queue) this.#bytes += d.payload.length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#onClose(this);
  }
}

/**
 * One mqtt.js client shared by the processors using an MQTTBrokerConnection service.
 *
 * Acknowledgements. mqtt.js acknowledges a QoS 1 message (PUBACK) or accepts a QoS 2 one (PUBREC) as
 * soon as its handler returns, and its `customHandleAcks` hook (MQTT 5 only) blocks the whole packet
 * pipeline until it answers, so one message at a time could be committed. Instead the connection
 * captures every PUBLISH as it arrives and holds the PUBACK/PUBREC mqtt.js sends for it (by wrapping
 * the client's packet sender) until the consumer calls `ack()`, after its session is durable. The
 * broker meanwhile keeps the message in flight and, with a persistent session, sends it again after
 * a reconnect; so a crash before the commit loses nothing. MQTT 5's Receive Maximum (and a broker's
 * in-flight limit with 3.1.1) bounds how many unacknowledged messages the broker sends.
 *
 * Back pressure. When a consumer's buffer is full the connection stops completing mqtt.js's message
 * handler (`handleMessage`, its documented back-pressure hook) and the PUBREC of QoS 2 messages: mqtt.js
 * then stops reading the socket, TCP fills, and the broker stops sending. Reading resumes when the
 * consumer has taken messages.
 */
export class BrokerConnection implements MqttConnection {
  readonly brokerUri: string;
  readonly protocolVersion: 4 | 5;
  readonly persistentSession: boolean;
  readonly #settings: ConnectionSettings;
  readonly #client: MqttClient;
  readonly #logger: ComponentLogger;
  readonly #send: (packet: unknown) => void;
  /** Bumped when a network connection ends: acknowledgements of older ones are void. */
  #generation = 0;
  #tickets = new Map<number, AckTicket>();
  readonly #registrations = new Set<Registration>();
  #routes = new Map<string, Registration[]>();
  #parked: Delivery[] = [];
  #parkedBytes = 0;
  #parkedDropped = 0;
  #paused: Array<() => void> = [];
  /** Filters the broker holds for this session, with their QoS. */
  readonly #subscribed = new Map<string, QualityOfService>();
  #lastError: string | undefined;
  /** Whether the current network connection got its CONNACK (a loss is then worth a warning). */
  #up = false;
  /** Whether attempts have failed since the last connection (a recovery is then worth a warning). */
  #failing = false;
  #connects = 0;
  #opening = true;
  #closing = false;
  /** Bound once: every delivery carries it. */
  readonly #releaser = (ticket: AckTicket): void => this.#release(ticket);

  private constructor(settings: ConnectionSettings) {
    this.#settings = settings;
    this.brokerUri = settings.brokerUri;
    this.protocolVersion = settings.protocolVersion;
    this.persistentSession = settings.persistentSession;
    this.#logger = settings.logger;
    const client = connect(settings.connectUri, {
      ...settings.options,
      manualConnect: true,
      reconnectPeriod: settings.reconnectMs,
      reconnectOnConnackError: true,
      resubscribe: false,
      queueQoSZero: false,
      // mqtt.js traces every packet through the debug module; even disabled, that is a few percent
      // of the CPU at tens of thousands of messages per second.
      log: () => undefined,
    });
    this.#client = client;
    const original: unknown = Reflect.get(client, '_sendPacket');
    if (typeof original !== 'function') {
      throw new Error('this version of mqtt.js has no _sendPacket: Sluice cannot hold acknowledgements until commit with it');
    }
    this.#send = (packet) => {
      Reflect.apply(original, client, [packet]);
    };
    Reflect.set(client, '_sendPacket', (packet: unknown, done: unknown, ...rest: unknown[]): unknown => {
      const ack = heldAck(packet);
      if (ack === undefined) return Reflect.apply(original, client, [packet, done, ...rest]);
      this.#onAck(ack.messageId, ack.cmd, packet, done);
      return undefined;
    });
    client.handleMessage = (packet, callback) => {
      // QoS 2 messages reach this hook only at PUBREL, after their PUBREC (held until commit) went out.
      if (packet.qos !== 2 && this.#mustPause()) this.#paused.push(() => callback());
      else callback();
    };
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd === 'publish') this.#onPublish(packet);
    });
    client.on('connect', (connack) => this.#onConnect(connack));
    client.on('close', () => this.#onClose());
    client.on('error', (error) => this.#onError(error));
    client.on('disconnect', (packet) => {
      const reason = packet.reasonCode === 142 ? 'session taken over: another client connected with the same client id' : '';
      this.#logger.warn(
        `the broker ${this.brokerUri} disconnected Sluice (reason code ${packet.reasonCode ?? 0}${reason === '' ? '' : `: ${reason}`})`,
      );
    });
    client.on('reconnect', () => {
      // Backoff: each attempt doubles the delay before the next one, up to the cap.
      client.options.reconnectPeriod = Math.min(
        (client.options.reconnectPeriod ?? settings.reconnectMs) * 2,
        settings.maxReconnectMs,
      );
    });
  }

  /**
   * Creates the client and waits (up to `firstConnectWaitMs`) for its first connection. A broker
   * that cannot be reached does not fail this (the client keeps trying in the background and logs
   * why); a broker that refuses the connection (credentials, client id, protocol version) does.
   * @throws {Error} saying why the broker refused.
   */
  static async open(settings: ConnectionSettings): Promise<BrokerConnection> {
    const connection = new BrokerConnection(settings);
    await connection.#firstAttempt();
    return connection;
  }

  #firstAttempt(): Promise<void> {
    const client = this.#client;
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.#opening = false;
        client.removeListener('connect', onConnect);
        client.removeListener('close', onClose);
        client.removeListener('error', onError);
        if (error === undefined) {
          resolve();
          return;
        }
        this.#closing = true;
        client.end(true, () => reject(error));
      };
      const onConnect = (): void => finish();
      const onClose = (): void => finish();
      const onError = (error: Error): void => {
        const refused = this.#refusal(error);
        if (refused !== undefined) finish(new Error(`the broker ${this.brokerUri} refused the connection: ${refused}`));
      };
      const timer = setTimeout(() => finish(), this.#settings.firstConnectWaitMs);
      client.on('connect', onConnect);
      client.on('close', onClose);
      client.on('error', onError);
      client.connect();
    });
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  stats(): MqttConnectionStats {
    let buffered = 0;
    for (const r of this.#registrations) buffered += r.count;
    let unacknowledged = 0;
    for (const ticket of this.#tickets.values()) if (!ticket.sent) unacknowledged++;
    return {
      connected: this.#client.connected,
      unacknowledged,
      buffered,
      parked: this.#parked.length,
      readsPaused: this.#paused.length > 0,
      connects: this.#connects,
    };
  }

  // ---- receiving ------------------------------------------------------------------------------

  #onPublish(packet: IPublishPacket): void {
    const topic = packet.topic;
    let targets = this.#routes.get(topic);
    if (targets === undefined) {
      const levels = topic.split('/');
      targets = [...this.#registrations].filter((r) => r.matches(levels));
      if (this.#routes.size >= ROUTE_CACHE_SIZE) this.#routes.clear();
      this.#routes.set(topic, targets);
    }
    const qos = packet.qos;
    let ticket: AckTicket | undefined;
    if (qos > 0 && packet.messageId !== undefined) {
      ticket = this.#tickets.get(packet.messageId);
      // The same id again before its ack went out is a retransmission: it joins the held ack.
      if (ticket === undefined || ticket.sent || ticket.generation !== this.#generation) {
        ticket = { messageId: packet.messageId, generation: this.#generation, pending: 0, packet: undefined, sent: false };
        this.#tickets.set(packet.messageId, ticket);
      }
    }
    const message = toMessage(packet);
    const release = this.#releaser;
    if (targets.length === 0) {
      if (qos === 0 && (this.#parked.length >= PARKED_MAX_MESSAGES || this.#parkedBytes >= PARKED_MAX_BYTES)) {
        if (this.#parkedDropped++ % 1000 === 0) {
          this.#logger.warn(
            `dropped QoS 0 messages on ${topic}: no running consumer subscribes to it and ${this.#parked.length} messages are already held`,
          );
        }
        return;
      }
      if (ticket !== undefined) ticket.pending++;
      this.#park([new Delivery(message, this.#generation, ticket, release)]);
      return;
    }
    for (const target of targets) {
      if (ticket !== undefined) ticket.pending++;
      target.push(new Delivery(message, this.#generation, ticket, release));
    }
  }

  /** mqtt.js wants to send a PUBACK or PUBREC: held until the message is committed. */
  #onAck(messageId: number, cmd: 'puback' | 'pubrec', packet: unknown, done: unknown): void {
    const ticket = this.#tickets.get(messageId);
    if (ticket === undefined || ticket.generation !== this.#generation) {
      // Not a message this connection delivered (cannot happen with mqtt.js 5): let it through.
      this.#send(packet);
    } else if (ticket.pending === 0) {
      ticket.sent = true;
      this.#tickets.delete(messageId);
      this.#send(packet);
    } else {
      ticket.packet = packet;
    }
    if (typeof done !== 'function') return;
    // The PUBREC's completion is what lets mqtt.js read the next packet: withhold it when full.
    if (cmd === 'pubrec' && this.#mustPause()) this.#paused.push(() => done());
    else done();
  }

  #release(ticket: AckTicket): void {
    ticket.pending--;
    if (ticket.pending > 0 || ticket.sent || ticket.packet === undefined) return;
    // An acknowledgement belongs to the network connection the message came on; after a reconnect
    // the broker sends the message again (persistent session) or has forgotten it (clean session).
    if (ticket.generation !== this.#generation || !this.#client.connected) return;
    ticket.sent = true;
    if (this.#tickets.get(ticket.messageId) === ticket) this.#tickets.delete(ticket.messageId);
    this.#send(ticket.packet);
  }

  #park(deliveries: readonly Delivery[]): void {
    for (const d of deliveries) {
      this.#parked.push(d);
      this.#parkedBytes += d.payload.length;
    }
  }

  #mustPause(): boolean {
    for (const r of this.#registrations) if (r.full) return true;
    return this.#parked.length >= PARKED_MAX_MESSAGES || this.#parkedBytes >= PARKED_MAX_BYTES;
  }

  #resumeIfPossible(): void {
    if (this.#paused.length === 0) return;
    for (const r of this.#registrations) if (!r.drained) return;
    if (this.#parked.length > PARKED_MAX_MESSAGES / 2 || this.#parkedBytes > PARKED_MAX_BYTES / 2) return;
    const paused = this.#paused;
    this.#paused = [];
    for (const resume of paused) resume();
  }

  // ---- connection lifecycle ---------------------------------------------------------------------

  #onConnect(connack: IConnackPacket): void {
    this.#connects++;
    this.#up = true;
    this.#client.options.reconnectPeriod = this.#settings.reconnectMs;
    const recovered = this.#failing || this.#connects > 1;
    this.#failing = false;
    this.#lastError = undefined;
    if (connack.sessionPresent) {
      // The broker resends every QoS 1/2 message it had sent and not had acknowledged: drop the
      // copies from the previous connection so nothing is committed twice for no reason.
      const current = this.#generation;
      const keep = (d: Delivery): boolean => d.qos === 0 || d.generation === current;
      for (const r of this.#registrations) r.purge(keep);
      this.#parked = this.#parked.filter(keep);
      this.#parkedBytes = 0;
      for (const d of this.#parked) this.#parkedBytes += d.payload.length;
    } else {
      this.#subscribed.clear();
      if (this.persistentSession && this.#connects > 1) {
        this.#logger.warn(
          `the broker ${this.brokerUri} had no session for client "${this.#settings.options.clientId ?? ''}" (expired or cleared): messages published while Sluice was disconnected are lost`,
        );
      }
    }
    const how = connack.sessionPresent ? 'resumed its session' : 'started a new session';
    if (recovered) this.#logger.warn(`connected to ${this.brokerUri} again (${how})`);
    else this.#logger.info(`connected to ${this.brokerUri} (${how})`);
    this.#subscribeMissing().catch((e: unknown) => this.#logger.error('could not subscribe after connecting', e));
  }

  #onClose(): void {
    this.#generation++;
    this.#tickets = new Map();
    // Completions of the old connection's packet pipeline: mqtt.js discards that pipeline anyway.
    const paused = this.#paused;
    this.#paused = [];
    for (const resume of paused) resume();
    const wasUp = this.#up;
    this.#up = false;
    if (this.#closing || !wasUp) return;
    this.#failing = true;
    this.#logger.warn(
      `lost the connection to ${this.brokerUri}${this.#lastError === undefined ? '' : ` (${this.#lastError})`}; reconnecting with backoff (${seconds(this.#settings.reconnectMs)}, doubling up to ${seconds(this.#settings.maxReconnectMs)})`,
    );
  }

  #onError(error: Error): void {
    if (this.#closing) return;
    const refused = this.#refusal(error);
    const message = refused === undefined ? error.message : `the broker refused the connection: ${refused}`;
    const repeated = message === this.#lastError;
    this.#lastError = message;
    // While connected the error ends the connection: #onClose reports it. Repeats are not news; and
    // a refusal of the very first attempt is reported by the service failing to enable.
    if (this.#up || repeated || (this.#opening && refused !== undefined)) {
      this.#logger.debug(`${this.brokerUri}: ${message}`);
    } else if (refused !== undefined) {
      this.#logger.error(`${this.brokerUri}: ${message}`);
    } else {
      this.#failing = true;
      this.#logger.warn(`cannot connect to ${this.brokerUri}: ${message}; retrying with backoff`);
    }
  }

  /** Why the broker refused a CONNECT, when the error is such a refusal. */
  #refusal(error: Error): string | undefined {
    if (!(error instanceof ErrorWithReasonCode) || !error.message.startsWith('Connection refused')) return undefined;
    if (this.protocolVersion === 4) return V3_CONNACK[error.code] ?? `return code ${error.code}`;
    return `${error.message.replace(/^Connection refused: /, '')} (reason code ${error.code})`;
  }

  // ---- subscriptions --------------------------------------------------------------------------

  async subscribe(request: SubscribeRequest): Promise<MqttSubscription> {
    if (this.#closing) throw new MqttUnavailableError(`the connection to ${this.brokerUri} is closed`);
    const registration = new Registration(
      request,
      () => this.#resumeIfPossible(),
      (r) => this.#unregister(r),
    );
    this.#registrations.add(registration);
    this.#routes.clear();
    this.#adoptParked();
    if (this.#client.connected) {
      try {
        await this.#subscribeFilters(request.filters, request.qos);
      } catch (e) {
        this.#registrations.delete(registration);
        this.#routes.clear();
        this.#park(registration.drain((late) => this.#park(late)));
        throw e;
      }
    }
    return registration;
  }

  /** Moves held messages to the consumers that now subscribe to their topics. */
  #adoptParked(): void {
    if (this.#parked.length === 0) return;
    const still: Delivery[] = [];
    for (const d of this.#parked) {
      const levels = d.topic.split('/');
      const target = [...this.#registrations].find((r) => r.matches(levels));
      if (target === undefined) still.push(d);
      else target.push(d);
    }
    this.#parked = still;
    this.#parkedBytes = 0;
    for (const d of still) this.#parkedBytes += d.payload.length;
    this.#resumeIfPossible();
  }

  async #subscribeFilters(filters: readonly string[], qos: QualityOfService): Promise<void> {
    const missing = filters.filter((f) => (this.#subscribed.get(f) ?? -1) < qos);
    if (missing.length === 0) return;
    // With a persistent MQTT 5 session, retained messages come only with a new subscription, not
    // again each time Sluice restarts and subscribes to the same filter.
    const options: IClientSubscribeOptions = this.protocolVersion === 5 && this.persistentSession ? { qos, rh: 1 } : { qos };
    try {
      await withTimeout(
        this.#client.subscribeAsync(missing, options),
        this.#settings.requestTimeoutMs,
        `the broker did not answer the subscription within ${seconds(this.#settings.requestTimeoutMs)}`,
      );
    } catch (e) {
      throw new Error(`the broker ${this.brokerUri} refused the subscription to ${missing.join(', ')}: ${messageOf(e)}`, {
        cause: e,
      });
    }
    for (const f of missing) this.#subscribed.set(f, qos);
  }

  async #subscribeMissing(): Promise<void> {
    for (const r of [...this.#registrations]) {
      if (!this.#client.connected) return;
      try {
        await this.#subscribeFilters(r.request.filters, r.request.qos);
      } catch (e) {
        this.#logger.error(`could not subscribe for ${r.request.owner}`, e);
      }
    }
  }

  async #unregister(registration: Registration): Promise<void> {
    this.#registrations.delete(registration);
    this.#routes.clear();
    this.#park(registration.drain((late) => this.#park(late)));
    this.#adoptParked();
    this.#resumeIfPossible();
    if (this.persistentSession || this.#closing) return;
    // A clean session has nothing to keep: stop the broker sending what nobody consumes.
    const inUse = new Set<string>();
    for (const r of this.#registrations) for (const f of r.request.filters) inUse.add(f);
    const unused = registration.request.filters.filter((f) => !inUse.has(f));
    for (const f of unused) this.#subscribed.delete(f);
    if (unused.length === 0 || !this.#client.connected) return;
    // The UNSUBACK may queue behind a backlog of messages the broker already sent (a QoS 0 flood
    // read slower than it arrives): stopping a processor waits for it only briefly.
    try {
      await withTimeout(
        this.#client.unsubscribeAsync([...unused]),
        Math.min(this.#settings.requestTimeoutMs, UNSUBSCRIBE_WAIT_MS),
        'no UNSUBACK yet',
      );
    } catch (e) {
      this.#logger.debug(`could not unsubscribe from ${unused.join(', ')}: ${messageOf(e)}`);
    }
  }

  // ---- publishing -----------------------------------------------------------------------------

  async publish(topic: string, payload: Buffer, request: PublishRequest): Promise<void> {
    if (!this.#client.connected) {
      throw new MqttUnavailableError(
        `not connected to ${this.brokerUri}${this.#lastError === undefined ? '' : ` (${this.#lastError})`}`,
      );
    }
    const properties: NonNullable<IPublishPacket['properties']> = {};
    if (this.protocolVersion === 5) {
      if (request.userProperties !== undefined && Object.keys(request.userProperties).length > 0) {
        properties.userProperties = { ...request.userProperties };
      }
      if (request.contentType !== undefined && request.contentType !== '') properties.contentType = request.contentType;
    }
    await withTimeout(
      this.#client.publishAsync(topic, payload, {
        qos: request.qos,
        retain: request.retain,
        ...(Object.keys(properties).length > 0 ? { properties } : {}),
      }),
      request.timeoutMs,
      `the broker did not acknowledge within ${seconds(request.timeoutMs)}`,
    );
  }

  /** Disconnects (service disabled). Unacknowledged messages stay with the broker. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const paused = this.#paused;
    this.#paused = [];
    for (const resume of paused) resume();
    const client = this.#client;
    const ended = new Promise<void>((resolve) => {
      client.end(!client.connected, () => resolve());
    });
    // A broker that stopped answering must not hold the engine's shutdown.
    const forced = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([ended, forced]);
    if (client.connected || !client.disconnected) client.end(true);
  }
}

/** The PUBACK/PUBREC in a packet mqtt.js sends, if that is what it is. */
function heldAck(packet: unknown): { cmd: 'puback' | 'pubrec'; messageId: number } | undefined {
  if (typeof packet !== 'object' || packet === null || !('cmd' in packet) || !('messageId' in packet)) return undefined;
  const { cmd, messageId } = packet;
  if ((cmd !== 'puback' && cmd !== 'pubrec') || typeof messageId !== 'number') return undefined;
  // A refusal (reason code >= 0x80) is not an acknowledgement to hold.
  if ('reasonCode' in packet && typeof packet.reasonCode === 'number' && packet.reasonCode >= 0x80) return undefined;
  return { cmd, messageId };
}

/** Shared by every message without user properties (most), never modified. */
const NO_PROPERTIES: Array<[string, string]> = [];

/** The parts of a received PUBLISH a consumer uses, normalized. */
function toMessage(packet: IPublishPacket): Omit<InboundMessage, 'ack'> {
  const properties = packet.properties;
  const userProperties: Array<[string, string]> = properties?.userProperties === undefined ? NO_PROPERTIES : [];
  if (properties?.userProperties !== undefined) {
    for (const [name, value] of Object.entries(properties.userProperties)) {
      if (Array.isArray(value)) for (const v of value) userProperties.push([name, String(v)]);
      else userProperties.push([name, String(value)]);
    }
  }
  return {
    topic: packet.topic,
    payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
    qos: packet.qos,
    retain: packet.retain,
    duplicate: packet.dup,
    userProperties,
    contentType: properties?.contentType,
    responseTopic: properties?.responseTopic,
    correlationData: properties?.correlationData,
    receivedAt: Date.now(),
  };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Rejects with `message` if `promise` has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
