/**
 * The ports of a Remote Process Group, run by the engine as processors of two internal types
 * (the engine knows no HTTP; the flow document declares them on the group, see
 * `remoteProcessGroups` in docs/flow-format.md). A remote input port pushes what reaches it to the
 * remote instance's input port; a remote output port pulls from the remote's output port.
 *
 * At-least-once both ways: a push commits locally (the FlowFiles leave this instance) only after
 * the remote confirmed; a pull commits what it staged once the remote accepted the checksum, and
 * also when the confirm's answer was lost (the remote may send it again: a duplicate, never a loss).
 */
import {
  boolean,
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  integer,
  type ProcessContext,
  type ProcessSession,
  service,
  string,
  timePeriod,
} from '@sluice/api';
import { REMOTE_PORT_PROPERTIES as P, REMOTE_INPUT_PORT_TYPE, REMOTE_OUTPUT_PORT_TYPE } from '@sluice/engine';
import { SSL_CONTEXT_API, type SslContext } from '@sluice/processors';
import {
  CommitOutcomeUnknownError,
  DestinationFullError,
  type ReceivedDataPacket,
  resolveBaseUrl,
  SiteToSiteClient,
  type TransferDirection,
  UnknownPortError,
} from '@sluice/site-to-site';
import { doneSending, reportReceived, Stager, takePackets, UuidGuard } from './packets.ts';

/** NiFi's RPG: with no batch settings, one push transaction streams for up to 500 ms. */
const DEFAULT_SEND_DURATION_MS = 500;

const properties = {
  [P.groupId]: string({ displayName: 'Remote Group Id', description: 'The Remote Process Group this port belongs to.' }),
  [P.targetUris]: string({
    displayName: 'URLs',
    description: 'The remote instance: one URL or several, comma-separated (http://core:8080/nifi).',
    required: true,
    expression: 'environment',
    validate: (value) => {
      for (const url of value.split(',')) {
        try {
          resolveBaseUrl(url);
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      }
      return undefined;
    },
  }),
  [P.transport]: choice(['HTTP'], { displayName: 'Transport Protocol', description: 'Only HTTP.', default: 'HTTP' }),
  [P.accessToken]: string({
    displayName: 'Access Token',
    description: 'Bearer token identifying this instance to the remote (parameters and environment variables allowed).',
    sensitive: true,
    expression: 'environment',
  }),
  [P.sslContextService]: service(SSL_CONTEXT_API, {
    displayName: 'SSL Context Service',
    description:
      'For https URLs: the CAs to trust (instead of the system ones) and, for mutual TLS, the client certificate that identifies this instance to the remote (a secured NiFi asks for one).',
  }),
  [P.communicationsTimeout]: timePeriod({
    displayName: 'Communications Timeout',
    description: 'Idle timeout of each request to the remote.',
    default: '30 sec',
    min: 1,
  }),
  [P.yieldDuration]: timePeriod({
    displayName: 'Yield Duration',
    description: 'How long the port waits after the remote was full or failed, and how long a failed peer is skipped.',
    default: '10 sec',
  }),
  [P.portName]: string({ displayName: 'Remote Port Name', description: 'The remote port, by name.', required: true }),
  [P.remotePortId]: string({ displayName: 'Remote Port Id', description: 'The remote port, by id (wins over the name).' }),
  [P.useCompression]: boolean({
    displayName: 'Use Compression',
    description: 'Compress packets (NiFi framing).',
    default: 'false',
  }),
  [P.batchCount]: integer({
    displayName: 'Batch Count',
    description: 'FlowFiles per transaction (0: no limit).',
    default: '0',
    min: 0,
  }),
  [P.batchSize]: dataSize({ displayName: 'Batch Size', description: 'Bytes per transaction (0 B: no limit).', default: '0 B' }),
  [P.batchDuration]: timePeriod({
    displayName: 'Batch Duration',
    description: 'How long one transaction may stream (0 sec: 500 ms for a push, the remote decides for a pull).',
    default: '0 sec',
  }),
};

interface RemoteState {
  readonly client: SiteToSiteClient;
  readonly port: string;
  portId: string | undefined;
  /** Pulled uuids already committed here (a pull repeated after a lost confirm gets new ones). */
  readonly guard: UuidGuard;
}

function connect(context: ProcessContext<string>, direction: TransferDirection): RemoteState {
  const token = context.getProperty(P.accessToken).asString();
  const batchCount = context.getProperty(P.batchCount).asInteger() ?? 0;
  const batchSize = context.getProperty(P.batchSize).asDataSize() ?? 0;
  const batchDurationMs = context.getProperty(P.batchDuration).asTimePeriod() ?? 0;
  const ssl = context.getProperty(P.sslContextService).isSet ? context.getService<SslContext>(P.sslContextService) : undefined;
  const client = new SiteToSiteClient({
    url: context.getProperty(P.targetUris).asString() ?? '',
    ...(token === undefined || token === '' ? {} : { token }),
    ...(ssl === undefined ? {} : { tls: ssl.clientOptions() }),
    compression: context.getProperty(P.useCompression).asBoolean() === true,
    timeoutMs: context.getProperty(P.communicationsTimeout).asTimePeriod() ?? 30_000,
    penaltyMs: context.getProperty(P.yieldDuration).asTimePeriod() ?? 10_000,
    // A pull asks the remote for these limits; a push applies them here.
    ...(direction === 'receive' ? { batchCount, batchSize, batchDurationMs } : {}),
    logger: context.logger,
  });
  const id = context.getProperty(P.remotePortId).asString();
  return {
    client,
    port: id ?? context.getProperty(P.portName).asString() ?? '',
    portId: undefined,
    // Guards against deliveries repeated after a lost confirm (not against pulling from an output
    // port of this same instance: the server side does not mark what it hands out).
    guard: new UuidGuard(() => false, 10_000),
  };
}

async function portIdOf(state: RemoteState, direction: TransferDirection): Promise<string> {
  state.portId ??= await state.client.resolvePortId(state.port, direction);
  return state.portId;
}

/** Rolls back, says why at the right level, and yields: the remote is full, gone or refusing. */
function backOff(session: ProcessSession, context: ProcessContext<string>, state: RemoteState, error: unknown): void {
  session.rollback();
  if (error instanceof UnknownPortError) state.portId = undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DestinationFullError) context.logger.debug(`remote port "${state.port}" is full; yielding: ${message}`);
  else context.logger.warn(`Site-to-Site with remote port "${state.port}" failed; yielding: ${message}`);
  context.yield();
}

/** Pushes FlowFiles to an input port of a remote instance (a Remote Process Group's input port). */
export const RemoteInputPort = defineProcessor({
  type: REMOTE_INPUT_PORT_TYPE,
  description:
    'A Remote Process Group input port: sends the FlowFiles queued for it to an input port of another instance over Site-to-Site (HTTP), keeping their uuids and attributes. They leave this instance only after the remote confirmed the checksum.',
  tags: ['internal', 'site-to-site', 'remote'],
  input: 'required',
  properties,
  relationships: {},
  onScheduled: (context) => connect(context, 'send'),
  async onTrigger(session, context, state) {
    const count = context.getProperty(P.batchCount).asInteger() ?? 0;
    const size = context.getProperty(P.batchSize).asDataSize() ?? 0;
    const duration = context.getProperty(P.batchDuration).asTimePeriod() ?? 0;
    const taken: FlowFile[] = [];
    try {
      const portId = await portIdOf(state, 'send');
      const started = performance.now();
      const result = await state.client.send(
        portId,
        takePackets(
          session,
          {
            maxCount: count > 0 ? count : Number.POSITIVE_INFINITY,
            maxBytes: size > 0 ? size : Number.POSITIVE_INFINITY,
            maxDurationMs: duration > 0 ? duration : DEFAULT_SEND_DURATION_MS,
          },
          taken,
          context.componentId,
        ),
      );
      if (taken.length === 0) return;
      const durationMs = Math.round(performance.now() - started);
      for (const flowFile of taken) session.provenance.send(flowFile, result.transitUri, { durationMs });
      session.remove(taken);
      if (result.destinationFull) context.yield();
    } catch (error) {
      backOff(session, context, state, error);
    } finally {
      doneSending(taken);
    }
  },
  onStopped: (_context, state) => state?.client.close(),
});

/** Pulls FlowFiles from an output port of a remote instance (a Remote Process Group's output port). */
export const RemoteOutputPort = defineProcessor({
  type: REMOTE_OUTPUT_PORT_TYPE,
  description:
    'A Remote Process Group output port: pulls FlowFiles from an output port of another instance over Site-to-Site (HTTP), keeping their uuids and attributes, and sends them to success. The remote removes them once this instance confirmed.',
  tags: ['internal', 'site-to-site', 'remote'],
  input: 'forbidden',
  properties,
  relationships: { success: 'FlowFiles received from the remote port' },
  onScheduled: (context) => connect(context, 'receive'),
  async onTrigger(session, context, state) {
    const stager = new Stager(session, 'success', state.guard);
    const staged = stager.staged;
    const stage = (packet: ReceivedDataPacket): Promise<void> | undefined => stager.add(packet);
    // RECEIVE events name the transaction, known once the transfer is confirmed.
    const report = (transitUri: string): void => {
      for (const one of staged) reportReceived(session, one, transitUri);
      state.guard.remember(staged);
    };
    try {
      const portId = await portIdOf(state, 'receive');
      // Contents held back are written before the confirm: the remote drops its copy then.
      const result = await state.client.receive(portId, stage, () => stager.flush());
      report(result.transitUri);
      if (result.flowFiles === 0) context.yield();
    } catch (error) {
      if (!(error instanceof CommitOutcomeUnknownError)) return backOff(session, context, state, error);
      // The remote may have committed: keep the data (at-least-once); it may come again.
      context.logger.warn(`confirm to remote port "${state.port}" went unanswered; keeping the data: ${error.message}`);
      report(state.client.baseUrls[0] ?? '');
    }
  },
  onStopped: (_context, state) => state?.client.close(),
});

/** The Remote Process Group port types, registered with every server's processors. */
export const remotePortProcessors = [RemoteInputPort, RemoteOutputPort];
