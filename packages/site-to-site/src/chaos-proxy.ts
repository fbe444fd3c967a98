/**
 * A small TCP proxy for fault-injection tests of Site-to-Site links: it cuts or corrupts one HTTP
 * exchange at a chosen step. It carries one request per connection (it asks both ends for
 * `Connection: close`, so keep-alive clients open a connection per request), reads the request
 * line to know which exchange a connection carries, and forwards bytes both ways until a fault
 * fires. Not for production traffic.
 */
import net from 'node:net';

/** Where in an exchange a fault fires. */
export type FaultPhase =
  /** Before the request reaches the server (the server never sees it). */
  | 'request-head'
  /** `offset` bytes into the request body (after the head). */
  | 'request-body'
  /** After the server answered, before the client gets any of the answer. */
  | 'response-head'
  /** `offset` bytes into the response body. */
  | 'response-body';

/** One fault: which exchanges it hits, where, and what it does. */
export interface Fault {
  readonly method: string;
  /** Matched against the request target (path and query). */
  readonly path: RegExp;
  /** Which matching requests (1-based) the fault hits. */
  readonly occurrences: readonly number[] | 'every';
  readonly phase: FaultPhase;
  /** Drop the connection there, or flip the byte there (body phases only). */
  readonly action: 'drop' | 'corrupt';
  readonly offset?: number;
}

/** The request head with `Connection: close` (replacing any Connection header). */
function closing(head: Buffer): Buffer {
  const lines = head.toString('latin1').split('\r\n');
  const kept = lines.filter((line, i) => i === 0 || !/^connection\s*:/i.test(line));
  kept.splice(1, 0, 'Connection: close');
  return Buffer.from(kept.join('\r\n'), 'latin1');
}

/** The fault-injecting proxy; point a client at `port`, it forwards to `targetPort` on loopback. */
export class ChaosProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #counts = new Map<Fault, number>();
  faults: Fault[] = [];
  /** One line per exchange: the request line and what happened to it. */
  readonly log: string[] = [];
  port = 0;

  constructor(readonly targetPort: number) {
    this.#server = net.createServer((client) => this.#connection(client));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this.port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Faults that fired, by description. */
  get fired(): string[] {
    return this.log.filter((line) => line.includes(' -> '));
  }

  #pick(method: string, target: string): Fault | undefined {
    for (const fault of this.faults) {
      if (fault.method !== method || !fault.path.test(target)) continue;
      const n = (this.#counts.get(fault) ?? 0) + 1;
      this.#counts.set(fault, n);
      if (fault.occurrences === 'every' || fault.occurrences.includes(n)) return fault;
    }
    return undefined;
  }

  #connection(client: net.Socket): void {
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => undefined);
    let head: Buffer = Buffer.alloc(0);
    let upstream: net.Socket | undefined;
    let fault: Fault | undefined;
    let requestBody = 0;
    let responseHead: Buffer | undefined = Buffer.alloc(0);
    let responseBody = 0;
    let entry = -1;
    const kill = (what: string): void => {
      if (entry >= 0) this.log[entry] += ` -> ${what}`;
      client.destroy();
      upstream?.destroy();
    };
    const flip = (chunk: Buffer, at: number): Buffer => {
      const copy = Buffer.from(chunk);
      copy[at] = (copy[at] ?? 0) ^ 0xff;
      if (entry >= 0) this.log[entry] += ' -> corrupted';
      fault = undefined;
      return copy;
    };
    const forwardRequest = (chunk: Buffer): void => {
      if (upstream === undefined || chunk.length === 0) return;
      if (fault?.phase === 'request-body') {
        const at = (fault.offset ?? 0) - requestBody;
        if (at >= 0 && at < chunk.length) {
          if (fault.action === 'drop') {
            upstream.write(chunk.subarray(0, at));
            kill(`dropped ${fault.offset ?? 0} bytes into the request body`);
            return;
          }
          chunk = flip(chunk, at);
        }
      }
      requestBody += chunk.length;
      upstream.write(chunk);
    };
    const forwardResponse = (chunk: Buffer): void => {
      if (fault?.phase === 'response-head') {
        kill('dropped before the response');
        return;
      }
      if (fault?.phase === 'response-body' && responseHead !== undefined) {
        responseHead = Buffer.concat([responseHead, chunk]);
        const end = responseHead.indexOf('\r\n\r\n');
        if (end < 0) return;
        const body = responseHead.subarray(end + 4);
        const headPart = responseHead.subarray(0, end + 4);
        responseHead = undefined;
        client.write(headPart);
        chunk = body;
      }
      if (fault?.phase === 'response-body' && chunk.length > 0) {
        const at = (fault.offset ?? 0) - responseBody;
        if (at >= 0 && at < chunk.length) {
          if (fault.action === 'drop') {
            client.write(chunk.subarray(0, at));
            kill(`dropped ${fault.offset ?? 0} bytes into the response body`);
            return;
          }
          chunk = flip(chunk, at);
        }
      }
      responseBody += chunk.length;
      if (chunk.length > 0) client.write(chunk);
    };
    client.on('data', (data: Buffer) => {
      if (upstream !== undefined) return forwardRequest(data);
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [method = '', target = ''] = head.subarray(0, head.indexOf('\r\n')).toString('latin1').split(' ');
      entry = this.log.push(`${method} ${target}`) - 1;
      fault = this.#pick(method, target);
      if (fault?.phase === 'request-head') {
        kill('dropped before the request');
        return;
      }
      const socket = net.connect(this.targetPort, '127.0.0.1');
      upstream = socket;
      this.#sockets.add(socket);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        client.end();
      });
      socket.on('error', () => client.destroy());
      socket.on('data', (chunk: Buffer) => forwardResponse(chunk));
      client.on('end', () => socket.end());
      client.on('close', () => socket.destroy());
      socket.write(closing(head.subarray(0, end + 4)));
      forwardRequest(head.subarray(end + 4));
    });
  }
}
