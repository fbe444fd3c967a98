import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import {
  boolean,
  type ComponentLogger,
  choice,
  dataSize,
  defineProcessor,
  integer,
  type ProcessSession,
  service,
  string,
} from '@sluice/api';
import { type DatagramListener, listenDatagrams, unescapeDelimiter } from '../network-support/datagram.ts';
import { batches, MessageBuffer, type ReceivedMessage } from '../network-support/message-buffer.ts';
import { SSL_CONTEXT_API, type SslContext } from '../ssl-context-service/index.ts';
import { SyslogFramer } from './framing.ts';
import { parseSyslog } from './syslog-parser.ts';

/** FlowFiles made per trigger at most, so a trigger stays short whatever the backlog. */
const MAX_FLOWFILES_PER_TRIGGER = 1000;
const INVALID_REASON = 'syslog.invalid.reason';

interface Syslog {
  readonly protocol: 'UDP' | 'TCP';
  readonly port: number;
  readonly buffer: MessageBuffer;
  readonly parse: boolean;
  readonly batchSize: number;
  readonly delimiter: Buffer;
  readonly close: () => Promise<void>;
}

/** Receives syslog messages over UDP or TCP, parsed into attributes (NiFi's ListenSyslog). */
export const ListenSyslog = defineProcessor({
  type: 'ListenSyslog',
  description:
    'Listens for syslog messages over UDP, or over TCP (optionally TLS) with octet-counting or newline framing (RFC 6587), and turns each into a FlowFile whose content is the message and whose attributes are its parts: RFC 5424 and RFC 3164 (BSD) are both understood. A message that is neither goes to "invalid" with syslog.valid=false and the reason, never dropped. Messages wait in a bounded in-memory buffer: over TCP a full buffer pauses the senders (nothing is lost); over UDP, which cannot slow senders down, new messages are dropped, counted and warned about. Syslog has no acknowledgements, so messages still in the buffer when the processor stops are lost (as in NiFi).',
  tags: ['syslog', 'logs', 'udp', 'tcp', 'tls', 'listen', 'source', 'ingest'],
  input: 'forbidden',
  properties: {
    protocol: choice(['UDP', 'TCP'], {
      displayName: 'Protocol',
      description: 'How senders deliver messages.',
      default: 'UDP',
      required: true,
    }),
    host: string({
      displayName: 'Listening Address',
      description: 'Address to listen on. The default receives from this host only; use 0.0.0.0 (or ::) for every interface.',
      default: '127.0.0.1',
      required: true,
      expression: 'environment',
    }),
    port: integer({
      displayName: 'Port',
      description: 'Port to listen on. 0 picks a free port, which is logged when the processor starts.',
      required: true,
      min: 0,
      max: 65_535,
      expression: 'environment',
    }),
    maxMessageSize: dataSize({
      displayName: 'Max Message Size',
      description:
        'Longer messages are cut to this size and go to invalid (or are flagged with syslog.truncated when not parsing). UDP datagrams cannot exceed 64 KB anyway.',
      default: '64 KB',
      required: true,
      min: 64,
      max: 16 * 1024 * 1024,
    }),
    maxBufferedMessages: integer({
      displayName: 'Max Size of Message Queue',
      description:
        'Messages held in memory waiting for the processor. Over TCP a full buffer pauses senders; over UDP more are dropped (and counted).',
      default: '10000',
      required: true,
      min: 1,
      max: 10_000_000,
    }),
    maxConnections: integer({
      displayName: 'Max Number of TCP Connections',
      description: 'Concurrent TCP senders accepted; further connections are closed at once (and warned about).',
      default: '100',
      min: 1,
      max: 100_000,
      dependsOn: { property: 'protocol', values: ['TCP'] },
    }),
    sslContextService: service(SSL_CONTEXT_API, {
      displayName: 'SSL Context Service',
      description: 'Accept TCP connections over TLS (syslog over TLS, RFC 5425) with this key and certificate.',
      dependsOn: { property: 'protocol', values: ['TCP'] },
    }),
    parseMessages: boolean({
      displayName: 'Parse Messages',
      description: 'Parse each message into attributes and route invalid ones to invalid; when false, messages are only batched.',
      default: 'true',
    }),
    batchSize: integer({
      displayName: 'Max Batch Size',
      description: 'Without parsing, messages from the same sender put into one FlowFile, at most.',
      default: '1',
      min: 1,
      max: 100_000,
      dependsOn: { property: 'parseMessages', values: ['false'] },
    }),
    delimiter: string({
      displayName: 'Message Delimiter',
      description: 'Without parsing, written between batched messages; \\n, \\r, \\t and \\0 are understood.',
      default: '\\n',
      dependsOn: { property: 'parseMessages', values: ['false'] },
    }),
  },
  relationships: {
    success: 'Messages parsed (or, without parsing, batches of messages)',
    invalid: {
      description: `Messages that are not RFC 5424 or RFC 3164 syslog (or were cut to Max Message Size); ${INVALID_REASON} says why`,
      dependsOn: { property: 'parseMessages', values: ['true'] },
    },
  },
  writesAttributes: {
    'syslog.priority': 'PRI: facility × 8 + severity',
    'syslog.severity': '0 (emergency) to 7 (debug)',
    'syslog.facility': '0 (kernel) to 23 (local7)',
    'syslog.version': 'The RFC 5424 version ("1"); absent for RFC 3164',
    'syslog.timestamp': 'The timestamp as sent',
    'syslog.hostname': 'The sending host as the message names it',
    'syslog.appname': 'APP-NAME (RFC 5424) or the tag (RFC 3164)',
    'syslog.procid': "PROCID (RFC 5424) or the tag's [pid] (RFC 3164)",
    'syslog.msgid': 'MSGID (RFC 5424)',
    'syslog.structuredData.<id>.<param>': 'Each RFC 5424 structured data parameter',
    'syslog.body': 'The free-text message',
    'syslog.valid': 'true, or false on invalid',
    [INVALID_REASON]: 'Why the message is invalid',
    'syslog.truncated': 'The real size of a message cut to Max Message Size ("unknown" for newline framing)',
    'syslog.sender': "The sender's IP address",
    'syslog.protocol': 'UDP or TCP',
    'syslog.port': 'The port the message arrived on',
  },
  defaultSchedule: { period: '0 sec' },
  triggerSerially: true,
  async onScheduled(context): Promise<Syslog> {
    const protocol = context.getProperty('protocol').asString() === 'TCP' ? 'TCP' : 'UDP';
    const host = context.getProperty('host').asString() ?? '127.0.0.1';
    const requestedPort = context.getProperty('port').asInteger() ?? 0;
    const maxBytes = context.getProperty('maxMessageSize').asDataSize() ?? 64 * 1024;
    const buffer = new MessageBuffer(context.getProperty('maxBufferedMessages').asInteger() ?? 10_000);
    const parse = context.getProperty('parseMessages').asBoolean() !== false;
    const common = {
      protocol,
      buffer,
      parse,
      batchSize: parse ? 1 : (context.getProperty('batchSize').asInteger() ?? 1),
      delimiter: Buffer.from(unescapeDelimiter(context.getProperty('delimiter').asString() ?? '\\n'), 'utf8'),
    } as const;
    if (protocol === 'UDP') {
      const listener: DatagramListener = await listenDatagrams({
        host,
        port: requestedPort,
        buffer,
        logger: context.logger,
        noun: 'syslog message',
      });
      return { ...common, port: listener.port, close: () => listener.close() };
    }
    const ssl = context.getProperty('sslContextService').isSet ? context.getService<SslContext>('sslContextService') : undefined;
    const tcp = await listenTcp({
      host,
      port: requestedPort,
      buffer,
      maxBytes,
      maxConnections: context.getProperty('maxConnections').asInteger() ?? 100,
      logger: context.logger,
      ...(ssl === undefined ? {} : { ssl }),
    });
    return { ...common, port: tcp.port, close: tcp.close };
  },
  onTrigger(session, _context, syslog) {
    const dropped = syslog.buffer.takeDropped();
    if (dropped > 0) session.adjustCounter('syslog messages dropped', dropped);
    const messages = syslog.buffer.take(MAX_FLOWFILES_PER_TRIGGER * syslog.batchSize);
    if (messages.length === 0) return;
    if (syslog.parse) {
      for (const message of messages) emitParsed(session, syslog, message);
    } else {
      for (const group of batches(messages, syslog.batchSize)) emitBatch(session, syslog, group);
    }
  },
  async onStopped(context, syslog) {
    await syslog.close();
    const lost = syslog.buffer.clear();
    if (lost > 0) context.logger.info(`${lost} syslog message(s) still buffered when the processor stopped were discarded`);
  },
});

function baseAttributes(syslog: Syslog, message: ReceivedMessage): Record<string, string> {
  const attributes: Record<string, string> = {
    'syslog.sender': message.sender,
    'syslog.protocol': message.protocol,
    'syslog.port': String(syslog.port),
  };
  if (message.truncatedFrom !== undefined) {
    attributes['syslog.truncated'] = message.truncatedFrom < 0 ? 'unknown' : String(message.truncatedFrom);
  }
  return attributes;
}

function transitUri(message: ReceivedMessage): string {
  const host = message.sender.includes(':') ? `[${message.sender}]` : message.sender;
  return `syslog+${message.protocol.toLowerCase()}://${host}:${message.senderPort}`;
}

function emitParsed(session: ProcessSession, syslog: Syslog, message: ReceivedMessage): void {
  let flowFile = session.create();
  if (message.data.length > 0) flowFile = session.write(flowFile, message.data);
  const attributes = baseAttributes(syslog, message);
  const parsed = parseSyslog(message.data);
  let relationship = 'success';
  if (message.truncatedFrom !== undefined) {
    attributes['syslog.valid'] = 'false';
    attributes[INVALID_REASON] =
      `the message is longer than Max Message Size${message.truncatedFrom > 0 ? ` (${message.truncatedFrom} bytes)` : ''} and was cut`;
    relationship = 'invalid';
  } else if (!parsed.valid) {
    attributes['syslog.valid'] = 'false';
    attributes[INVALID_REASON] = parsed.reason;
    relationship = 'invalid';
  } else {
    const m = parsed.message;
    attributes['syslog.valid'] = 'true';
    attributes['syslog.priority'] = String(m.priority);
    attributes['syslog.severity'] = String(m.severity);
    attributes['syslog.facility'] = String(m.facility);
    const optional: Array<[string, string | undefined]> = [
      ['syslog.version', m.version],
      ['syslog.timestamp', m.timestamp],
      ['syslog.hostname', m.hostname],
      ['syslog.appname', m.appname],
      ['syslog.procid', m.procid],
      ['syslog.msgid', m.msgid],
    ];
    for (const [key, value] of optional) if (value !== undefined) attributes[key] = value;
    for (const [key, value] of m.structuredData) attributes[`syslog.structuredData.${key}`] = value;
    attributes['syslog.body'] = m.body;
  }
  flowFile = session.putAllAttributes(flowFile, attributes);
  session.provenance.receive(flowFile, transitUri(message));
  session.transfer(flowFile, relationship);
}

function emitBatch(session: ProcessSession, syslog: Syslog, group: readonly ReceivedMessage[]): void {
  const first = group[0];
  if (first === undefined) return;
  const parts: Buffer[] = [];
  for (const [i, message] of group.entries()) {
    if (i > 0) parts.push(syslog.delimiter);
    parts.push(stripLineEnd(message.data));
  }
  let flowFile = session.create();
  const content = Buffer.concat(parts);
  if (content.length > 0) flowFile = session.write(flowFile, content);
  const attributes = baseAttributes(syslog, first);
  const cut = group.find((m) => m.truncatedFrom !== undefined);
  if (cut?.truncatedFrom !== undefined)
    attributes['syslog.truncated'] = cut.truncatedFrom < 0 ? 'unknown' : String(cut.truncatedFrom);
  flowFile = session.putAllAttributes(flowFile, attributes);
  session.provenance.receive(flowFile, transitUri(first));
  session.transfer(flowFile, 'success');
}

function stripLineEnd(data: Buffer): Buffer {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x0a || data[end - 1] === 0x0d || data[end - 1] === 0)) end--;
  return end === data.length ? data : data.subarray(0, end);
}

interface TcpOptions {
  readonly host: string;
  readonly port: number;
  readonly buffer: MessageBuffer;
  readonly maxBytes: number;
  readonly maxConnections: number;
  readonly logger: ComponentLogger;
  readonly ssl?: SslContext;
}

/**
 * A TCP (or TLS) server framing each connection's stream into messages. When the buffer is full
 * every connection is paused, so TCP pushes back on the senders; they resume once the processor
 * has taken half of it.
 */
async function listenTcp(options: TcpOptions): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let paused = false;
  let refused = 0;
  let lastRefusalWarning = 0;
  const resume = (): void => {
    if (!paused) return;
    paused = false;
    for (const socket of sockets) socket.resume();
  };
  options.buffer.onSpace(resume);
  const onConnection = (socket: Socket): void => {
    if (sockets.size >= options.maxConnections) {
      socket.destroy();
      refused++;
      const now = Date.now();
      if (now - lastRefusalWarning > 10_000) {
        options.logger.warn(
          `refused ${refused} TCP connection(s): already ${options.maxConnections} open (Max Number of TCP Connections)`,
        );
        refused = 0;
        lastRefusalWarning = now;
      }
      return;
    }
    sockets.add(socket);
    const sender = socket.remoteAddress ?? '';
    const senderPort = socket.remotePort ?? 0;
    const framer = new SyslogFramer(options.maxBytes, (frame) => {
      options.buffer.push({
        data: frame.data,
        sender,
        senderPort,
        protocol: 'TCP',
        ...(frame.truncatedFrom === undefined ? {} : { truncatedFrom: frame.truncatedFrom }),
      });
    });
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      if (options.buffer.full && !paused) {
        paused = true;
        for (const s of sockets) s.pause();
      }
    });
    socket.on('end', () => {
      framer.end();
      socket.end();
    });
    socket.on('error', (e) => options.logger.debug(`syslog connection from ${sender} failed: ${e.message}`));
    socket.on('close', () => sockets.delete(socket));
    if (paused) socket.pause();
  };
  const server: Server =
    options.ssl === undefined ? createTcpServer(onConnection) : createTlsServer(options.ssl.serverOptions(), onConnection);
  if (options.ssl !== undefined) {
    server.on('tlsClientError', (e) => options.logger.debug(`a TLS handshake failed: ${e.message}`));
  }
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      reject(
        new Error(
          `cannot listen for TCP on ${options.host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}`,
          { cause: error },
        ),
      );
    };
    server.once('error', failed);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (e) => options.logger.warn('the syslog TCP server reported an error', e));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  options.logger.info(`listening on ${options.ssl === undefined ? 'tcp' : 'tls'}://${host}:${port}`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
