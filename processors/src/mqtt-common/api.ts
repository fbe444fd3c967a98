/**
 * The controller-service APIs of the MQTT group: what MQTTBrokerConnection gives ConsumeMQTT and
 * PublishMQTT, and what EmbeddedMQTTBroker gives anyone who needs its address.
 */

/** `provides` name of services implementing {@link MqttConnection}. */
export const MQTT_CONNECTION_API = 'mqtt-connection';

/** `provides` name of services implementing {@link EmbeddedMqttBroker}. */
export const MQTT_EMBEDDED_BROKER_API = 'mqtt-embedded-broker';

/** MQTT quality of service levels. */
export type QualityOfService = 0 | 1 | 2;

/** A message received from the broker, held by Sluice until it is acknowledged. */
export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QualityOfService;
  readonly retain: boolean;
  /** The broker flagged it as a redelivery (DUP). */
  readonly duplicate: boolean;
  /** MQTT 5 user properties, in order (a name may repeat). */
  readonly userProperties: ReadonlyArray<readonly [name: string, value: string]>;
  /** MQTT 5 content type, response topic and correlation data, when the publisher set them. */
  readonly contentType: string | undefined;
  readonly responseTopic: string | undefined;
  readonly correlationData: Buffer | undefined;
  /** Epoch ms when Sluice received it. */
  readonly receivedAt: number;
  /**
   * Acknowledges it to the broker (PUBACK at QoS 1, PUBREC at QoS 2; nothing at QoS 0). Call it
   * only once the FlowFile holding the message is durably committed: until then the broker keeps
   * the message and redelivers it after a reconnect. Calling it twice does nothing.
   */
  ack(): void;
}

/** What a consumer asks for when it subscribes through a connection. */
export interface SubscribeRequest {
  /** Who subscribes (a component id), for logs. */
  readonly owner: string;
  /** Topic filters, wildcards and `$share/<group>/...` allowed (already validated). */
  readonly filters: readonly string[];
  readonly qos: QualityOfService;
  /**
   * Bound of the consumer's in-memory buffer. When it is full the connection stops taking
   * messages from the broker (it stops reading the socket) until the consumer takes some.
   */
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** How much a subscription holds that no one has taken yet. */
export interface BufferedSize {
  readonly count: number;
  readonly bytes: number;
  /** Epoch ms of the oldest buffered message (undefined when empty). */
  readonly oldestReceivedAt: number | undefined;
}

/**
 * A consumer's subscription: a bounded buffer of received messages, filled by the connection and
 * drained by the consumer. Messages taken and not acknowledged must be put back or acknowledged.
 */
export interface MqttSubscription {
  /** Takes up to `maxCount` messages (and about `maxBytes`; at least one if any is buffered), oldest first. */
  take(maxCount: number, maxBytes: number): InboundMessage[];
  /** Returns messages that were taken but could not be committed, to be taken again first. */
  putBack(messages: readonly InboundMessage[]): void;
  /** What is buffered now. */
  size(): BufferedSize;
  /** Resolves once a message is buffered, or after `timeoutMs`. */
  waitForMessages(timeoutMs: number): Promise<void>;
  /**
   * Ends the subscription. Messages still buffered stay unacknowledged with the connection and go
   * to the next subscriber of a matching filter. With a clean session the filters are unsubscribed
   * at the broker (unless another subscriber uses them); with a persistent session they stay, so
   * the broker keeps messages for them while nothing consumes.
   */
  close(): Promise<void>;
}

/** Options of {@link MqttConnection.publish}. */
export interface PublishRequest {
  readonly qos: QualityOfService;
  readonly retain: boolean;
  /** MQTT 5 only (ignored with 3.1.1). */
  readonly userProperties?: Readonly<Record<string, string>>;
  /** MQTT 5 only (ignored with 3.1.1). */
  readonly contentType?: string;
  /** Give up waiting for the broker's acknowledgement after this many ms. */
  readonly timeoutMs: number;
}

/** Counters a connection shows (tests, status). */
export interface MqttConnectionStats {
  readonly connected: boolean;
  /** Messages received at QoS 1/2 whose acknowledgement Sluice is still holding. */
  readonly unacknowledged: number;
  /** Messages buffered for running consumers. */
  readonly buffered: number;
  /** Messages received that no running consumer subscribes to (held unacknowledged). */
  readonly parked: number;
  /** Whether reading from the broker is paused because a buffer is full. */
  readonly readsPaused: boolean;
  /** Connections made so far (1 + reconnects). */
  readonly connects: number;
}

/**
 * One MQTT client connection to a broker, shared by the processors that reference the service.
 * Consumers sharing it share its session, its in-flight window and its back pressure.
 */
export interface MqttConnection {
  /** `scheme://host:port` of the broker, without credentials. */
  readonly brokerUri: string;
  /** 4 for MQTT 3.1.1, 5 for MQTT 5. */
  readonly protocolVersion: 4 | 5;
  readonly persistentSession: boolean;
  /** Whether the client is connected now. */
  readonly connected: boolean;
  /** The last connection problem, for messages (undefined when none). */
  readonly lastError: string | undefined;
  /**
   * Registers a consumer and subscribes to its filters (waiting for the broker's SUBACK when
   * connected; otherwise the subscription is made on connect).
   * @throws {Error} when the broker refuses a filter.
   */
  subscribe(request: SubscribeRequest): Promise<MqttSubscription>;
  /**
   * Publishes a message; resolves once the broker acknowledged it (QoS 1/2) or it was written (QoS 0).
   * @throws {MqttUnavailableError} at once when not connected; {@link Error} when the broker refuses or times out.
   */
  publish(topic: string, payload: Buffer, request: PublishRequest): Promise<void>;
  stats(): MqttConnectionStats;
}

/** The broker cannot be reached right now (as opposed to refusing one message). */
export class MqttUnavailableError extends Error {
  override readonly name = 'MqttUnavailableError';
}

/** An MQTT broker running inside Sluice. */
export interface EmbeddedMqttBroker {
  readonly host: string;
  /** The port it listens on (the actual one when configured as 0). */
  readonly port: number;
  /** `mqtt://host:port`. */
  readonly url: string;
  /** Clients connected now. */
  connectedClients(): number;
}
