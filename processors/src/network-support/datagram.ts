import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ComponentLogger } from '@sluice/api';
import type { MessageBuffer } from './message-buffer.ts';

/** How a UDP listener binds and where its datagrams go. */
export interface DatagramOptions {
  readonly host: string;
  readonly port: number;
  readonly buffer: MessageBuffer;
  readonly logger: ComponentLogger;
  /** SO_RCVBUF in bytes: room in the kernel for bursts (the OS default when undefined). */
  readonly receiveBufferSize?: number;
  /** Only datagrams from this address are kept (others are ignored and counted at DEBUG). */
  readonly sendingHost?: string;
  /** What one datagram is called in warnings ("datagram", "syslog message"). */
  readonly noun: string;
}

/** A bound UDP socket feeding a {@link MessageBuffer}. */
export interface DatagramListener {
  readonly socket: Socket;
  readonly port: number;
  close(): Promise<void>;
}

/** Warn about drops at most this often, with the count since the last warning. */
const DROP_WARNING_INTERVAL_MS = 10_000;

/**
 * Binds a UDP socket whose datagrams go into the buffer. UDP cannot slow a sender down: when the
 * buffer is full (the processor is not keeping up, or is held by back pressure) datagrams are dropped;
 * the drops are counted in the buffer and warned about (at most every 10 s) so they are never silent.
 * @throws {Error} saying which address could not be bound and why.
 */
export async function listenDatagrams(options: DatagramOptions): Promise<DatagramListener> {
  const socket = createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4' });
  let unreported = 0;
  let lastWarning = 0;
  socket.on('message', (data, remote) => {
    if (options.sendingHost !== undefined && remote.address !== options.sendingHost) return;
    const kept = options.buffer.offer({ data, sender: remote.address, senderPort: remote.port, protocol: 'UDP' });
    if (kept) return;
    unreported++;
    const now = Date.now();
    if (now - lastWarning >= DROP_WARNING_INTERVAL_MS) {
      options.logger.warn(
        `dropped ${unreported} ${options.noun}(s): the buffer of ${options.buffer.capacity} messages is full (the processor is not keeping up, or its outbound queue is full). UDP cannot slow senders down; raise Max Size of Message Queue or make the flow faster`,
      );
      unreported = 0;
      lastWarning = now;
    }
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      socket.close();
      reject(
        new Error(
          `cannot listen for UDP on ${options.host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}`,
          { cause: error },
        ),
      );
    };
    socket.once('error', failed);
    socket.bind({ address: options.host, port: options.port }, () => {
      socket.off('error', failed);
      resolve();
    });
  });
  socket.on('error', (error) => options.logger.warn('the UDP socket reported an error', error));
  if (options.receiveBufferSize !== undefined) {
    try {
      socket.setRecvBufferSize(options.receiveBufferSize);
    } catch (e) {
      options.logger.warn(`could not set the receive buffer to ${options.receiveBufferSize} bytes; using the system default`, e);
    }
  }
  const port = socket.address().port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  options.logger.info(`listening on udp://${host}:${port}`);
  return {
    socket,
    port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Interprets the escapes users type for delimiters: \n, \r, \t, \0 and \\. */
export function unescapeDelimiter(text: string): string {
  return text.replace(/\\([nrt0\\])/g, (_, c: string) => {
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    if (c === 't') return '\t';
    if (c === '0') return '\0';
    return '\\';
  });
}
