import { dataSize, defineProcessor, integer, type ProcessSession, string } from '@sluice/api';
import { type DatagramListener, listenDatagrams, unescapeDelimiter } from '../network-support/datagram.ts';
import { batches, MessageBuffer, type ReceivedMessage } from '../network-support/message-buffer.ts';

/** FlowFiles made per trigger at most, so a trigger stays short whatever the backlog. */
const MAX_FLOWFILES_PER_TRIGGER = 1000;

interface Udp {
  readonly listener: DatagramListener;
  readonly buffer: MessageBuffer;
  readonly batchSize: number;
  readonly delimiter: Buffer;
}

/** Receives UDP datagrams as FlowFiles (NiFi's ListenUDP). */
export const ListenUDP = defineProcessor({
  type: 'ListenUDP',
  description:
    'Listens for UDP datagrams and turns each into a FlowFile, or batches several from the same sender into one FlowFile separated by a delimiter. Datagrams wait in a bounded in-memory buffer between the socket and the processor. UDP has no back pressure: when the buffer is full (the flow is slower than the senders, or an outbound queue is full) new datagrams are dropped, counted in the "datagrams dropped" counter and reported in a warning at most every 10 seconds. Datagrams still in the buffer when the processor stops are lost, as with any UDP receiver.',
  tags: ['ingest', 'udp', 'listen', 'source', 'datagram'],
  input: 'forbidden',
  properties: {
    host: string({
      displayName: 'Listening Address',
      description: 'Address to listen on. The default receives from this host only; use 0.0.0.0 (or ::) for every interface.',
      default: '127.0.0.1',
      required: true,
      expression: 'environment',
    }),
    port: integer({
      displayName: 'Listening Port',
      description: 'UDP port to listen on. 0 picks a free port, which is logged when the processor starts.',
      required: true,
      min: 0,
      max: 65_535,
      expression: 'environment',
    }),
    maxBufferedMessages: integer({
      displayName: 'Max Size of Message Queue',
      description: 'Datagrams held in memory waiting for the processor; more are dropped (and counted).',
      default: '10000',
      required: true,
      min: 1,
      max: 10_000_000,
    }),
    receiveBufferSize: dataSize({
      displayName: 'Receive Buffer Size',
      description:
        "The socket's kernel receive buffer (SO_RCVBUF), room for bursts before datagrams reach Sluice. System default when empty.",
      min: 1024,
    }),
    batchSize: integer({
      displayName: 'Max Batch Size',
      description: 'Datagrams from the same sender put into one FlowFile, at most.',
      default: '1',
      required: true,
      min: 1,
      max: 100_000,
    }),
    delimiter: string({
      displayName: 'Batching Message Delimiter',
      description: 'Written between datagrams batched into one FlowFile; \\n, \\r, \\t and \\0 are understood.',
      default: '\\n',
    }),
    sendingHost: string({
      displayName: 'Sending Host',
      description: 'When set, only datagrams from this IP address are kept.',
    }),
  },
  relationships: { success: 'A FlowFile per datagram (or per batch of datagrams from one sender)' },
  writesAttributes: {
    'udp.sender': "The sender's IP address",
    'udp.sender.port': "The sender's port",
    'udp.port': 'The port the datagrams arrived on',
  },
  defaultSchedule: { period: '0 sec' },
  triggerSerially: true,
  async onScheduled(context): Promise<Udp> {
    const buffer = new MessageBuffer(context.getProperty('maxBufferedMessages').asInteger() ?? 10_000);
    const receiveBufferSize = context.getProperty('receiveBufferSize').asDataSize();
    const sendingHost = context.getProperty('sendingHost').asString();
    const listener = await listenDatagrams({
      host: context.getProperty('host').asString() ?? '127.0.0.1',
      port: context.getProperty('port').asInteger() ?? 0,
      buffer,
      logger: context.logger,
      noun: 'datagram',
      ...(receiveBufferSize === undefined ? {} : { receiveBufferSize }),
      ...(sendingHost === undefined || sendingHost === '' ? {} : { sendingHost }),
    });
    return {
      listener,
      buffer,
      batchSize: context.getProperty('batchSize').asInteger() ?? 1,
      delimiter: Buffer.from(unescapeDelimiter(context.getProperty('delimiter').asString() ?? '\\n'), 'utf8'),
    };
  },
  onTrigger(session, _context, udp) {
    const dropped = udp.buffer.takeDropped();
    if (dropped > 0) session.adjustCounter('datagrams dropped', dropped);
    const messages = udp.buffer.take(MAX_FLOWFILES_PER_TRIGGER * udp.batchSize);
    if (messages.length === 0) return;
    for (const group of batches(messages, udp.batchSize)) emit(session, udp, group);
  },
  async onStopped(context, udp) {
    await udp.listener.close();
    const lost = udp.buffer.clear();
    if (lost > 0) context.logger.info(`${lost} datagram(s) still buffered when the processor stopped were discarded`);
  },
});

function emit(session: ProcessSession, udp: Udp, group: readonly ReceivedMessage[]): void {
  const first = group[0];
  if (first === undefined) return;
  const parts: Buffer[] = [];
  for (const [i, message] of group.entries()) {
    if (i > 0) parts.push(udp.delimiter);
    parts.push(message.data);
  }
  let flowFile = session.create();
  const content = parts.length === 1 ? first.data : Buffer.concat(parts);
  if (content.length > 0) flowFile = session.write(flowFile, content);
  flowFile = session.putAllAttributes(flowFile, {
    'udp.sender': first.sender,
    'udp.sender.port': String(first.senderPort),
    'udp.port': String(udp.listener.port),
  });
  session.provenance.receive(
    flowFile,
    `udp://${first.sender.includes(':') ? `[${first.sender}]` : first.sender}:${first.senderPort}`,
  );
  session.transfer(flowFile, 'success');
}
