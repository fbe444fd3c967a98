import { choice, dataSize, defineProcessor, integer, type ProcessSession, service, string, timePeriod } from '@sluice/api';
import {
  type InboundMessage,
  MQTT_CONNECTION_API,
  type MqttConnection,
  type MqttSubscription,
  type QualityOfService,
} from '../mqtt-common/api.ts';
import { splitTopicFilters, topicUri, validateTopicFilter } from '../mqtt-common/topics.ts';

interface ConsumeState {
  readonly subscription: MqttSubscription;
  readonly broker: string;
  readonly batchSize: number;
  /** Set: many messages per FlowFile, separated by these bytes. */
  readonly demarcator: Buffer | undefined;
  readonly maxMessagesPerFlowFile: number;
  readonly maxFlowFileSize: number;
  readonly maxBatchAgeMs: number;
  readonly transitUris: Map<string, string>;
}

/** How long an idle trigger waits for a message before giving its turn back. */
const IDLE_WAIT_MS = 100;
/** Bytes taken per trigger (one message at least, whatever its size). */
const MAX_TRIGGER_BYTES = 16 * 1024 * 1024;
/** FlowFiles per session commit within a trigger. */
const COMMIT_CHUNK = 100;
/** The counter (shown in status) of messages made into committed FlowFiles. */
const RECEIVED_COUNTER = 'messages received';

/** Receives MQTT messages as FlowFiles and acknowledges them to the broker only once they are committed. */
export const ConsumeMQTT = defineProcessor({
  type: 'ConsumeMQTT',
  description:
    'Subscribes to MQTT topics through an MQTTBrokerConnection and makes a FlowFile of each message (or of many, with a Message Demarcator). QoS 1/2 messages are acknowledged to the broker (PUBACK/PUBREC) only after their FlowFiles are durably committed, so with a Persistent Session a crash or restart loses nothing: the broker delivers the unacknowledged messages again (at least once; a redelivery has mqtt.duplicate true). While the outgoing queue is full this processor is not scheduled, its buffer fills, and then Sluice stops reading from the broker instead of buffering without bound: at QoS 1/2 the broker holds back what it has not had acknowledged (MQTT 5 Receive Maximum, or the broker\'s in-flight limit), at QoS 0 the socket is not read. ConsumeMQTT has no failure relationship: every message becomes a FlowFile, bytes as received. Its counter "messages received" counts the messages in committed FlowFiles.',
  tags: ['mqtt', 'iot', 'consume', 'subscribe', 'ingest', 'source'],
  input: 'forbidden',
  properties: {
    connection: service(MQTT_CONNECTION_API, {
      displayName: 'MQTT Broker Connection',
      description: 'The MQTTBrokerConnection to subscribe through.',
      required: true,
    }),
    topicFilter: string({
      displayName: 'Topic Filter',
      description:
        'Topic filter to subscribe to, with MQTT wildcards (+ for one level, # for the rest: sensors/+/temperature, sensors/#). Several filters separated by commas. $share/<group>/<filter> subscribes as a member of a shared subscription.',
      required: true,
      expression: 'environment',
      validate: (value) => {
        const filters = splitTopicFilters(value);
        if (filters.length === 0) return 'write at least one topic filter, like sensors/#';
        for (const f of filters) {
          const problem = validateTopicFilter(f);
          if (problem !== undefined) return problem;
        }
        return undefined;
      },
    }),
    qos: choice(
      [
        { value: '0', displayName: '0 (at most once)', description: 'Nothing to acknowledge: a crash loses what is buffered.' },
        {
          value: '1',
          displayName: '1 (at least once)',
          description: 'Acknowledged after commit; redelivered after a crash (duplicates possible).',
        },
        {
          value: '2',
          displayName: '2 (exactly once per hop)',
          description: 'Accepted (PUBREC) after commit; a crash between commit and acknowledgement can still repeat it.',
        },
      ],
      {
        displayName: 'Quality of Service',
        description: 'The highest QoS the broker may deliver at (a message published at a lower QoS keeps it).',
        default: '1',
        required: true,
      },
    ),
    sharedSubscriptionGroup: string({
      displayName: 'Shared Subscription Group',
      description:
        'Subscribe as a member of this group ($share/<group>/<filter>): the broker gives each message to one member only, spreading the load across Sluice instances.',
      expression: 'environment',
      validate: (value) => (/[/+#]/.test(value) ? 'a group name cannot contain /, + or #' : undefined),
    }),
    maxBufferedMessages: integer({
      displayName: 'Max Buffered Messages',
      description:
        'Messages held in memory between the broker and the next trigger. When this many wait (the outgoing queue is full, or the flow is slower than the broker) Sluice stops reading from the broker.',
      default: '5000',
      required: true,
      min: 1,
      max: 1_000_000,
    }),
    maxBufferedSize: dataSize({
      displayName: 'Max Buffered Size',
      description: 'Bytes held in memory before Sluice stops reading from the broker (see Max Buffered Messages).',
      default: '16 MB',
      required: true,
      min: 1,
    }),
    batchSize: integer({
      displayName: 'Batch Size',
      description: 'Most messages made into FlowFiles and committed together per trigger (one acknowledgement round).',
      default: '1000',
      required: true,
      min: 1,
      max: 100_000,
    }),
    messageDemarcator: string({
      displayName: 'Message Demarcator',
      description:
        'When set, messages are bundled: one FlowFile per topic per batch, the messages separated by this text (\\n, \\r, \\t and \\\\ are understood as escapes). Without it, one FlowFile per message.',
    }),
    maxMessagesPerFlowFile: integer({
      displayName: 'Max Messages per FlowFile',
      description: 'With a demarcator: most messages in one FlowFile.',
      default: '10000',
      min: 1,
      max: 1_000_000,
    }),
    maxFlowFileSize: dataSize({
      displayName: 'Max FlowFile Size',
      description: 'With a demarcator: about the most bytes in one FlowFile (a single larger message is kept whole).',
      default: '1 MB',
      min: 1,
    }),
    maxBatchAge: timePeriod({
      displayName: 'Max Batch Age',
      description:
        'With a demarcator: wait until the oldest buffered message is this old before making a FlowFile that is not full. 0 sec makes one of whatever is buffered at each trigger. At QoS 1/2 the broker stops sending once its in-flight window is unacknowledged, so a batch never grows past that window: keep this short.',
      default: '0 sec',
    }),
  },
  relationships: { success: 'A FlowFile per message (or per batch of messages with a demarcator)' },
  writesAttributes: {
    'mqtt.broker': 'The broker URI (mqtt://host:port)',
    'mqtt.topic': 'The topic the message was published to',
    'mqtt.qos': 'The QoS it was delivered at (0, 1 or 2)',
    'mqtt.retained': 'true for a retained message (with a demarcator: if any was)',
    'mqtt.duplicate': 'true when the broker marked it as a redelivery (with a demarcator: if any was)',
    'mqtt.property.<name>': 'MQTT 5 user properties (a repeated name: values joined with commas); one message per FlowFile only',
    'mqtt.content.type': 'MQTT 5 content type',
    'mime.type': 'The MQTT 5 content type, when the publisher set one',
    'mqtt.response.topic': 'MQTT 5 response topic',
    'mqtt.correlation.data':
      'MQTT 5 correlation data: as text when it is UTF-8, else base64 (then mqtt.correlation.data.encoding is base64)',
    'mqtt.message.count': 'With a demarcator: the number of messages in the FlowFile',
  },
  defaultSchedule: { period: '0 sec' },
  triggerSerially: true,
  async onScheduled(context): Promise<ConsumeState | undefined> {
    // The generic lookup is the service contract: the property requires the mqtt-connection API.
    const connection = context.getService<MqttConnection>('connection');
    const group = context.getProperty('sharedSubscriptionGroup').asString() ?? '';
    const filters = splitTopicFilters(context.getProperty('topicFilter').asString() ?? '').map((f) =>
      group === '' || f.startsWith('$share/') ? f : `$share/${group}/${f}`,
    );
    for (const f of filters) {
      const problem = validateTopicFilter(f);
      if (problem !== undefined) throw new Error(`Topic Filter: ${problem}`);
    }
    const qosText = context.getProperty('qos').asString();
    const qos: QualityOfService = qosText === '0' ? 0 : qosText === '2' ? 2 : 1;
    const subscription = await connection.subscribe({
      owner: `${context.type} "${context.name}"`,
      filters,
      qos,
      maxMessages: context.getProperty('maxBufferedMessages').asInteger() ?? 5000,
      maxBytes: context.getProperty('maxBufferedSize').asDataSize() ?? 16 * 1024 * 1024,
    });
    if (!connection.connected) {
      context.logger.warn(
        `not connected to ${connection.brokerUri} yet${connection.lastError === undefined ? '' : ` (${connection.lastError})`}: the subscription is made when the connection is`,
      );
    }
    const demarcator = context.getProperty('messageDemarcator').asString();
    return {
      subscription,
      broker: connection.brokerUri,
      batchSize: context.getProperty('batchSize').asInteger() ?? 1000,
      demarcator: demarcator === undefined || demarcator === '' ? undefined : Buffer.from(unescapeDemarcator(demarcator)),
      maxMessagesPerFlowFile: context.getProperty('maxMessagesPerFlowFile').asInteger() ?? 10_000,
      maxFlowFileSize: context.getProperty('maxFlowFileSize').asDataSize() ?? 1024 * 1024,
      maxBatchAgeMs: context.getProperty('maxBatchAge').asTimePeriod() ?? 0,
      transitUris: new Map(),
    };
  },
  async onTrigger(session, _context, state) {
    if (state === undefined) return;
    const subscription = state.subscription;
    if (subscription.size().count === 0) await subscription.waitForMessages(IDLE_WAIT_MS);
    let messages: InboundMessage[];
    if (state.demarcator === undefined) {
      messages = subscription.take(state.batchSize, MAX_TRIGGER_BYTES);
    } else {
      const { count, bytes, oldestReceivedAt } = subscription.size();
      if (count === 0) return;
      const young = oldestReceivedAt !== undefined && Date.now() - oldestReceivedAt < state.maxBatchAgeMs;
      if (young && count < state.maxMessagesPerFlowFile && bytes < state.maxFlowFileSize) return;
      messages = subscription.take(state.maxMessagesPerFlowFile, state.maxFlowFileSize);
    }
    if (messages.length === 0) return;
    // Committed in chunks (a session's cost grows faster than linearly with the FlowFiles it holds;
    // every chunk's commit joins the same journal flush anyway), each acknowledged once durable.
    const chunks: Array<{ readonly messages: InboundMessage[]; readonly durable: Promise<void> }> = [];
    let committed = 0;
    let failure: unknown;
    try {
      if (state.demarcator === undefined) {
        for (let i = 0; i < messages.length; i += COMMIT_CHUNK) {
          const chunk = messages.slice(i, i + COMMIT_CHUNK);
          for (const message of chunk) emit(session, state, [message], message.payload);
          session.adjustCounter(RECEIVED_COUNTER, chunk.length);
          chunks.push({ messages: chunk, durable: session.commit() });
          committed = i + chunk.length;
        }
      } else {
        for (const group of byTopic(messages)) emit(session, state, group, joined(group, state.demarcator));
        session.adjustCounter(RECEIVED_COUNTER, messages.length);
        chunks.push({ messages, durable: session.commit() });
        committed = messages.length;
      }
    } catch (e) {
      failure = e;
    }
    const outcomes = await Promise.allSettled(chunks.map((c) => c.durable));
    const again: InboundMessage[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      const chunk = chunks[i]?.messages ?? [];
      // Acknowledge only what is durable: a crash before this point leaves the messages with the broker.
      if (outcome.status === 'fulfilled') for (const message of chunk) message.ack();
      else {
        again.push(...chunk);
        failure ??= outcome.reason;
      }
    }
    if (failure !== undefined) {
      subscription.putBack([...again, ...messages.slice(committed)]);
      throw failure;
    }
  },
  async onStopped(_context, state) {
    // Undefined when onScheduled failed (nothing was subscribed then).
    await state?.subscription.close();
  },
});

/** Makes one FlowFile of messages that share a topic (one message without a demarcator). */
function emit(session: ProcessSession, state: ConsumeState, messages: readonly InboundMessage[], content: Buffer): void {
  const first = messages[0];
  if (first === undefined) return;
  let flowFile = session.create();
  if (content.length > 0) flowFile = session.write(flowFile, content);
  const attributes = new Map<string, string>([
    ['mqtt.broker', state.broker],
    ['mqtt.topic', first.topic],
    ['mqtt.qos', String(first.qos)],
    ['mqtt.retained', String(messages.some((m) => m.retain))],
    ['mqtt.duplicate', String(messages.some((m) => m.duplicate))],
  ]);
  if (messages.length === 1) {
    for (const [name, value] of first.userProperties) {
      const key = `mqtt.property.${name}`;
      const previous = attributes.get(key);
      attributes.set(key, previous === undefined ? value : `${previous},${value}`);
    }
    if (first.contentType !== undefined) {
      attributes.set('mqtt.content.type', first.contentType);
      attributes.set('mime.type', first.contentType);
    }
    if (first.responseTopic !== undefined) attributes.set('mqtt.response.topic', first.responseTopic);
    if (first.correlationData !== undefined) {
      const text = utf8(first.correlationData);
      attributes.set('mqtt.correlation.data', text ?? first.correlationData.toString('base64'));
      if (text === undefined) attributes.set('mqtt.correlation.data.encoding', 'base64');
    }
  } else {
    attributes.set('mqtt.message.count', String(messages.length));
  }
  flowFile = session.putAllAttributes(flowFile, attributes);
  session.provenance.receive(flowFile, transitUri(state, first.topic));
  session.transfer(flowFile, 'success');
}

/** The transit URI of a topic, remembered (encoding it per message costs more than the lookup). */
function transitUri(state: ConsumeState, topic: string): string {
  let uri = state.transitUris.get(topic);
  if (uri === undefined) {
    if (state.transitUris.size >= 10_000) state.transitUris.clear();
    uri = topicUri(state.broker, topic);
    state.transitUris.set(topic, uri);
  }
  return uri;
}

/** Messages grouped by topic, in order of first arrival. */
function byTopic(messages: readonly InboundMessage[]): InboundMessage[][] {
  const groups = new Map<string, InboundMessage[]>();
  for (const m of messages) {
    const group = groups.get(m.topic);
    if (group === undefined) groups.set(m.topic, [m]);
    else group.push(m);
  }
  return [...groups.values()];
}

function joined(messages: readonly InboundMessage[], demarcator: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const [i, m] of messages.entries()) {
    if (i > 0) parts.push(demarcator);
    parts.push(m.payload);
  }
  return Buffer.concat(parts);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are valid UTF-8. */
function utf8(bytes: Buffer): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** `\n`, `\r`, `\t` and `\\` in a demarcator typed into a one-line field. */
function unescapeDemarcator(text: string): string {
  return text.replace(/\\([nrt\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : '\\'));
}
