import { performance } from 'node:perf_hooks';
import {
  boolean,
  ContentTooLargeError,
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  integer,
  type ProcessContext,
  service,
  string,
  timePeriod,
} from '@sluice/api';
import { MQTT_CONNECTION_API, type MqttConnection, MqttUnavailableError, type QualityOfService } from '../mqtt-common/api.ts';
import { topicUri, validateTopicName } from '../mqtt-common/topics.ts';

/** The attribute that says why a FlowFile went to failure. */
const REASON = 'publishmqtt.failure.reason';

interface PublishState {
  readonly connection: MqttConnection;
}

/** What publishing one FlowFile came to. */
type Outcome =
  | { readonly flowFile: FlowFile; readonly topic: string; readonly ms: number }
  | { readonly flowFile: FlowFile; readonly error: string; readonly unavailable: boolean };

/** Publishes each FlowFile's content as an MQTT message. */
export const PublishMQTT = defineProcessor({
  type: 'PublishMQTT',
  description:
    'Publishes the content of each FlowFile as one MQTT message through an MQTTBrokerConnection. A FlowFile goes to success once the broker has acknowledged the message (QoS 1/2; at QoS 0 once it is written to the connection), and to failure, penalized and with publishmqtt.failure.reason, when the broker is unreachable (at once, without waiting), refuses the message, or does not acknowledge it in time; configure retry on failure to try again with backoff (a message whose acknowledgement timed out may still reach the broker, so a retry can repeat it: at least once). Each user-added property becomes an MQTT 5 user property.',
  tags: ['mqtt', 'iot', 'publish', 'egress'],
  input: 'required',
  properties: {
    connection: service(MQTT_CONNECTION_API, {
      displayName: 'MQTT Broker Connection',
      description: 'The MQTTBrokerConnection to publish through.',
      required: true,
    }),
    topic: string({
      displayName: 'Topic',
      description: 'Topic to publish to (no wildcards), Expression Language allowed: sensors/${room}/temperature.',
      required: true,
      expression: 'flowfile',
      validate: validateTopicName,
    }),
    qos: choice(
      [
        { value: '0', displayName: '0 (at most once)' },
        { value: '1', displayName: '1 (at least once)' },
        { value: '2', displayName: '2 (exactly once)' },
      ],
      {
        displayName: 'Quality of Service',
        description: 'QoS to publish at; Expression Language may compute it (it must give 0, 1 or 2).',
        default: '1',
        required: true,
        expression: 'flowfile',
      },
    ),
    retain: boolean({
      displayName: 'Retain Message',
      description: "Ask the broker to keep the message as the topic's retained message; Expression Language allowed.",
      default: 'false',
      required: true,
      expression: 'flowfile',
    }),
    contentType: string({
      displayName: 'Content Type',
      description: 'MQTT 5 content type of the message (e.g. ${mime.type}); empty sends none.',
      expression: 'flowfile',
    }),
    ackTimeout: timePeriod({
      displayName: 'Acknowledgement Timeout',
      description: 'How long to wait for the broker to acknowledge a message before routing the FlowFile to failure.',
      default: '10 sec',
      required: true,
      min: 1,
    }),
    maxMessageSize: dataSize({
      displayName: 'Max Message Size',
      description:
        'Larger FlowFiles go to failure instead of being read into memory and sent (MQTT allows up to 256 MB; brokers often less).',
      default: '16 MB',
      required: true,
      min: 1,
      max: 268_435_455,
    }),
    batchSize: integer({
      displayName: 'Batch Size',
      description: 'FlowFiles published per trigger, all in flight together.',
      default: '100',
      required: true,
      min: 1,
      max: 10_000,
    }),
  },
  dynamicProperties: {
    description:
      'Each property is sent as an MQTT 5 user property of that name (ignored with MQTT 3.1.1); the value may use Expression Language.',
    expression: 'flowfile',
  },
  relationships: {
    success: 'FlowFiles whose message the broker acknowledged',
    failure: 'FlowFiles that could not be published; publishmqtt.failure.reason says why',
  },
  writesAttributes: { [REASON]: 'Why the FlowFile went to failure' },
  async onScheduled(context): Promise<PublishState> {
    // The generic lookup is the service contract: the property requires the mqtt-connection API.
    const connection = context.getService<MqttConnection>('connection');
    if (connection.protocolVersion === 4 && (context.dynamicProperties.size > 0 || context.getProperty('contentType').isSet)) {
      context.logger.warn(
        `user properties and the content type are MQTT 5 features; the connection to ${connection.brokerUri} speaks 3.1.1, so they are not sent`,
      );
    }
    return { connection };
  },
  async onTrigger(session, context, state) {
    const flowFiles = session.getBatch(context.getProperty('batchSize').asInteger() ?? 100);
    if (flowFiles.length === 0) return;
    const outcomes = await Promise.all(
      flowFiles.map((flowFile) => publishOne(session.read.bind(session), context, state, flowFile)),
    );
    let unavailable = false;
    for (const outcome of outcomes) {
      if ('error' in outcome) {
        unavailable ||= outcome.unavailable;
        const failed = session.penalize(session.putAttribute(outcome.flowFile, REASON, outcome.error));
        session.transfer(failed, 'failure');
        continue;
      }
      session.provenance.send(outcome.flowFile, topicUri(state.connection.brokerUri, outcome.topic), {
        durationMs: outcome.ms,
        force: true,
      });
      session.transfer(outcome.flowFile, 'success');
    }
    if (unavailable) {
      context.logger.warn(`${state.connection.brokerUri} is unreachable; FlowFiles go to failure until it is back`);
      context.yield();
    }
  },
});

async function publishOne(
  read: (flowFile: FlowFile, options: { maxBytes: number }) => Buffer,
  context: ProcessContext,
  state: PublishState,
  flowFile: FlowFile,
): Promise<Outcome> {
  const started = performance.now();
  try {
    const topic = context.getProperty('topic').evaluate(flowFile) ?? '';
    const topicProblem = validateTopicName(topic);
    if (topicProblem !== undefined) return { flowFile, error: `Topic: ${topicProblem}`, unavailable: false };
    const qosText = (context.getProperty('qos').evaluate(flowFile) ?? '').trim();
    if (qosText !== '0' && qosText !== '1' && qosText !== '2') {
      return { flowFile, error: `Quality of Service evaluated to "${qosText}"; it must be 0, 1 or 2`, unavailable: false };
    }
    const qos: QualityOfService = qosText === '0' ? 0 : qosText === '1' ? 1 : 2;
    const retain = context.getProperty('retain').asBoolean(flowFile) === true;
    const userProperties: Record<string, string> = Object.create(null);
    for (const [name, value] of context.dynamicProperties) userProperties[name] = value.evaluate(flowFile) ?? '';
    const contentType = context.getProperty('contentType').evaluate(flowFile);
    const maxBytes = context.getProperty('maxMessageSize').asDataSize() ?? 16 * 1024 * 1024;
    const payload = read(flowFile, { maxBytes });
    await state.connection.publish(topic, payload, {
      qos,
      retain,
      userProperties,
      ...(contentType === undefined ? {} : { contentType }),
      timeoutMs: context.getProperty('ackTimeout').asTimePeriod() ?? 10_000,
    });
    return { flowFile, topic, ms: performance.now() - started };
  } catch (e) {
    if (e instanceof ContentTooLargeError) {
      return {
        flowFile,
        error: `the content (${e.size} bytes) is larger than Max Message Size (${e.maxBytes} bytes)`,
        unavailable: false,
      };
    }
    return { flowFile, error: e instanceof Error ? e.message : String(e), unavailable: e instanceof MqttUnavailableError };
  }
}
