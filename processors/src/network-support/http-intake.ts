import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import { createGunzip } from 'node:zlib';
import type { ComponentLogger, FlowFile, ProcessSession } from '@sluice/api';
import { guardedChunks } from './streams.ts';

/** A request the server accepted and queued for the processor. */
export interface PendingRequest {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  /** The request target, parsed (host part from the Host header, for display only). */
  readonly url: URL;
  /** When it arrived (epoch ms): provenance durations count from here. */
  readonly receivedAt: number;
}

/** An answer given without the processor (refusals, HEAD): status, a one-line message, extra headers. */
export interface Reply {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** How an {@link HttpIntake} listens and which requests it queues. */
export interface HttpIntakeOptions {
  readonly host: string;
  readonly port: number;
  /** Serve HTTPS with these options (from an SSL context service). */
  readonly tls?: TlsOptions;
  /** Requests accepted and not yet answered, at most; more are answered 503 at once. */
  readonly maxConcurrent: number;
  /**
   * When no trigger has run for this long (back pressure, a yield, stopping), queued requests and
   * new ones are answered 503 with Retry-After instead of waiting.
   */
  readonly pickupTimeoutMs: number;
  /** Checks a request before it is queued (path, method, authentication, size); a reply answers it at once. */
  readonly screen: (request: IncomingMessage, url: URL) => Reply | undefined;
  readonly logger: ComponentLogger;
}

/**
 * An HTTP(S) server whose requests wait in a bounded in-memory queue until a processor trigger takes
 * them. It never buffers bodies: a queued request's body stays in the socket (TCP pushes back on
 * the client) until the trigger streams it into the content repository.
 *
 * The processor is not triggered while an outbound queue is full, so the intake watches triggers
 * itself: when none has run for the pickup timeout, requests are answered 503 rather than left
 * hanging. The processor calls {@link beginTrigger}/{@link endTrigger} around its work.
 */
export class HttpIntake {
  readonly #server: Server;
  readonly #options: HttpIntakeOptions;
  readonly #queue: PendingRequest[] = [];
  readonly #waiters = new Set<() => void>();
  #inFlight = 0;
  #activeTriggers = 0;
  #lastTriggerActivity = Date.now();
  #closing = false;
  #stallTimer: NodeJS.Timeout | undefined;

  private constructor(options: HttpIntakeOptions) {
    this.#options = options;
    const handler = (request: IncomingMessage, response: ServerResponse): void => this.#accept(request, response);
    this.#server = options.tls === undefined ? createHttpServer(handler) : createHttpsServer(options.tls, handler);
    // "Expect: 100-continue": screen first, so a refused upload is never sent.
    this.#server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) =>
      this.#accept(request, response, true),
    );
    // Bodies are read under the processor's own idle timeout once taken; a request waiting in the
    // queue must not be cut off by Node's whole-request timer.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 30_000;
    this.#server.keepAliveTimeout = 5_000;
  }

  /**
   * Starts listening.
   * @throws {Error} saying which address could not be bound and why (in use, not permitted...).
   */
  static async listen(options: HttpIntakeOptions): Promise<HttpIntake> {
    const intake = new HttpIntake(options);
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => {
        reject(new Error(`cannot listen on ${options.host}:${options.port}: ${listenProblem(error)}`, { cause: error }));
      };
      intake.#server.once('error', failed);
      intake.#server.listen({ host: options.host, port: options.port }, () => {
        intake.#server.off('error', failed);
        resolve();
      });
    });
    intake.#server.on('error', (error) => options.logger.warn('the HTTP server reported an error', error));
    // Malformed requests get Node's own answers (400, 408, 431) and the connection is closed.
    return intake;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : this.#options.port;
  }

  /** Call at the start of every trigger (even one that finds nothing). */
  beginTrigger(): void {
    this.#activeTriggers++;
    this.#lastTriggerActivity = Date.now();
  }

  /** Call when a trigger ends, in a `finally`. */
  endTrigger(): void {
    this.#activeTriggers--;
    this.#lastTriggerActivity = Date.now();
  }

  /** Takes up to `max` queued requests whose clients are still connected. */
  take(max: number): PendingRequest[] {
    const out: PendingRequest[] = [];
    while (out.length < max) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      if (next.response.writableEnded || next.request.destroyed) continue; // the client gave up
      out.push(next);
    }
    return out;
  }

  /**
   * Up to `max` waiting requests; when none is waiting, waits up to `waitMs` for one first (without
   * blocking the event loop). Empty when none came.
   */
  async takeOrWait(max: number, waitMs: number): Promise<PendingRequest[]> {
    const batch = this.take(max);
    if (batch.length > 0) return batch;
    await this.waitForRequest(waitMs);
    return this.take(max);
  }

  /** Resolves when a request is queued, after `ms`, or when the intake closes. */
  waitForRequest(ms: number): Promise<void> {
    if (this.#queue.length > 0 || this.#closing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  /** Stops waiting triggers (the processor is being unscheduled). */
  wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /**
   * Stops accepting requests and answers those still queued with 503. With `force`, open connections
   * are closed too (ListenHTTP has answered everything it took); without, requests still waiting for
   * an answer from elsewhere (HandleHttpResponse) keep their connection.
   */
  async close(force: boolean): Promise<void> {
    this.#closing = true;
    this.wakeAll();
    if (this.#stallTimer !== undefined) clearInterval(this.#stallTimer);
    for (const pending of this.take(Number.MAX_SAFE_INTEGER)) {
      reply(pending.response, { status: 503, message: 'the listener is stopping', headers: { 'Retry-After': '1' } });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, force ? 2_000 : 0);
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.#server.closeIdleConnections();
      if (force) this.#server.closeAllConnections();
    });
  }

  #stalled(now: number): boolean {
    return this.#activeTriggers === 0 && now - this.#lastTriggerActivity > this.#options.pickupTimeoutMs;
  }

  #accept(request: IncomingMessage, response: ServerResponse, expectsContinue = false): void {
    if (this.#closing) {
      reply(response, { status: 503, message: 'the listener is stopping', headers: { 'Retry-After': '1' } });
      return;
    }
    let url: URL;
    try {
      url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    } catch {
      try {
        url = new URL(request.url ?? '/', 'http://localhost');
      } catch {
        reply(response, { status: 400, message: 'the request target is not a valid URL path' });
        return;
      }
    }
    const refusal = this.#options.screen(request, url);
    if (refusal !== undefined) {
      reply(response, refusal);
      return;
    }
    if (this.#inFlight >= this.#options.maxConcurrent) {
      reply(response, {
        status: 503,
        message: `too many requests in progress (the limit is ${this.#options.maxConcurrent}); try again shortly`,
        headers: { 'Retry-After': '1' },
      });
      return;
    }
    if (this.#stalled(Date.now())) {
      reply(response, backPressure(this.#options.pickupTimeoutMs));
      return;
    }
    this.#inFlight++;
    response.once('close', () => {
      this.#inFlight--;
    });
    if (expectsContinue) response.writeContinue();
    this.#queue.push({ request, response, url, receivedAt: Date.now() });
    for (const waiter of this.#waiters) {
      waiter();
      break;
    }
    this.#watchStalls();
  }

  /** While requests wait, checks that triggers still run; if not, answers the waiting ones 503. */
  #watchStalls(): void {
    if (this.#stallTimer !== undefined) return;
    const interval = Math.max(25, Math.floor(this.#options.pickupTimeoutMs / 4));
    this.#stallTimer = setInterval(() => {
      if (this.#queue.length === 0) {
        clearInterval(this.#stallTimer);
        this.#stallTimer = undefined;
        return;
      }
      if (!this.#stalled(Date.now())) return;
      const waiting = this.take(Number.MAX_SAFE_INTEGER);
      this.#options.logger.debug(`answered ${waiting.length} waiting requests 503: the processor is not running`);
      for (const pending of waiting) reply(pending.response, backPressure(this.#options.pickupTimeoutMs));
    }, interval);
    this.#stallTimer.unref();
  }
}

function backPressure(pickupTimeoutMs: number): Reply {
  return {
    status: 503,
    message: 'not accepting data right now (the outbound queue is full or the processor is not running); try again later',
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(pickupTimeoutMs / 1000))) },
  };
}

/**
 * Answers a request with an error status and a one-line text body saying why. The connection is
 * closed afterwards when the request body was not read, so unread bytes never become the next request.
 */
export function reply(response: ServerResponse, answer: Reply): void {
  if (response.headersSent || response.writableEnded || response.destroyed) {
    response.destroy();
    return;
  }
  const body = `${answer.message}\n`;
  const request = response.req;
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...answer.headers,
  };
  if (!request.complete) headers.Connection = 'close';
  response.writeHead(answer.status, headers);
  response.end(body);
}

function listenProblem(error: NodeJS.ErrnoException): string {
  if (error.code === 'EADDRINUSE') return 'the address is already in use (another listener or program has that port)';
  if (error.code === 'EACCES') return 'permission denied (ports below 1024 need privileges)';
  if (error.code === 'EADDRNOTAVAIL') return 'no network interface has that address';
  return error.message;
}

/** A request body that could not be read: the status to answer and why. */
export class RequestBodyError extends Error {
  override readonly name = 'RequestBodyError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Limits applied while a body is streamed. */
export interface BodyLimits {
  /** Most bytes accepted (after gzip decoding); more is answered 413. */
  readonly maxBytes: number;
  /** Longest pause between two chunks of the body; longer is answered 408. */
  readonly idleTimeoutMs: number;
}

/**
 * The request body as a stream of chunks, decoded when `Content-Encoding: gzip`, cut off with a
 * {@link RequestBodyError} when it exceeds the size limit or stalls. Never holds more than a chunk.
 */
export async function* requestBody(request: IncomingMessage, limits: BodyLimits): AsyncGenerator<Buffer> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let source: AsyncIterable<unknown>;
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    source = pipeline(request, createGunzip(), () => undefined);
  } else if (encoding === 'identity' || encoding === '') {
    source = request;
  } else {
    throw new RequestBodyError(415, `Content-Encoding "${encoding}" is not supported; send identity or gzip`);
  }
  // The socket stays open on a stall so the client can still be told why (the reply closes the connection).
  yield* guardedChunks(source, {
    idleTimeoutMs: limits.idleTimeoutMs,
    maxBytes: limits.maxBytes,
    stalled: () => new RequestBodyError(408, `the request body stalled: nothing arrived for ${limits.idleTimeoutMs} ms`),
    tooLarge: () => new RequestBodyError(413, `the request body is larger than the limit of ${limits.maxBytes} bytes`),
    failed: (error) => bodyProblem(error, encoding),
  });
}

function bodyProblem(error: unknown, encoding: string): RequestBodyError {
  if (error instanceof RequestBodyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (encoding !== 'identity' && errorCode(error)?.startsWith('Z_') === true) {
    return new RequestBodyError(400, `the gzip-encoded body is corrupt: ${message}`);
  }
  return new RequestBodyError(400, `the request body could not be read: ${message}`);
}

/** Bodies up to this size that have already arrived whole are taken in one piece. */
const ARRIVED_BODY_BYTES = 64 * 1024;

/**
 * The body of a request that has already arrived completely and is small (not encoded, at most
 * 64 KiB, already in Node's socket buffer): read in one synchronous call, which saves the
 * per-chunk promises of {@link requestBody} on the hot path of small messages. Undefined when the
 * body must be streamed.
 * @throws {RequestBodyError} 413 when it exceeds the size limit.
 */
export function arrivedBody(request: IncomingMessage, maxBytes: number): Buffer | undefined {
  if (!request.complete || request.readableFlowing === true || request.readableLength > ARRIVED_BODY_BYTES) return undefined;
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') return undefined;
  const data: unknown = request.read();
  const body = data instanceof Buffer ? data : Buffer.alloc(0);
  if (body.length > maxBytes) {
    throw new RequestBodyError(413, `the request body is larger than the limit of ${maxBytes} bytes`);
  }
  return body;
}

/**
 * Writes a request's body into `flowFile`: in one piece when it has already arrived (see
 * {@link arrivedBody}), else streamed with the limits of {@link requestBody}.
 * @throws {RequestBodyError} when the body is too large, stalls, is corrupt or badly encoded.
 */
export async function writeRequestBody(
  session: ProcessSession,
  flowFile: FlowFile,
  request: IncomingMessage,
  limits: BodyLimits,
): Promise<FlowFile> {
  const arrived = arrivedBody(request, limits.maxBytes);
  if (arrived === undefined) return session.writeStream(flowFile, requestBody(request, limits));
  return arrived.length > 0 ? session.write(flowFile, arrived) : flowFile;
}

/** Screens a Content-Length header against the size limit before anything is read. */
export function declaredTooLarge(request: IncomingMessage, maxBytes: number): Reply | undefined {
  const declared = request.headers['content-length'];
  if (declared === undefined) return undefined;
  const length = Number(declared);
  if (!Number.isSafeInteger(length) || length < 0) return { status: 400, message: 'Content-Length is not a byte count' };
  const encoded = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  // A gzip body's decoded size is checked while it is read; its declared size can only be compared when not encoded.
  if (length > maxBytes && (encoded === 'identity' || encoded === '')) {
    return { status: 413, message: `the request body of ${length} bytes is larger than the limit of ${maxBytes} bytes` };
  }
  return undefined;
}

/** Which headers become attributes, and which never do (credentials). */
export interface AttributeOptions {
  /** Only headers whose whole (lowercase) name matches become `http.headers.<name>`; all when undefined. */
  readonly headerPattern?: RegExp;
  /** Lowercase header names never copied (Authorization, the shared-secret header). */
  readonly excludedHeaders: ReadonlySet<string>;
  readonly scheme: 'http' | 'https';
}

/**
 * The attributes describing a request: `http.method`, `http.request.uri` (the path),
 * `http.query.string`, `http.query.param.<name>` (first value), `http.request.url`,
 * `http.remote.addr`, `http.remote.port`, `http.local.port`, `http.protocol`,
 * `http.headers.<name>` and `mime.type` (from Content-Type).
 */
export function requestAttributes(request: IncomingMessage, url: URL, options: AttributeOptions): Map<string, string> {
  const attributes = new Map<string, string>();
  attributes.set('http.method', request.method ?? '');
  attributes.set('http.request.uri', url.pathname);
  attributes.set('http.query.string', url.search.startsWith('?') ? url.search.slice(1) : url.search);
  if (url.search.length > 1) {
    for (const [name, value] of url.searchParams) {
      const key = `http.query.param.${name}`;
      if (!attributes.has(key)) attributes.set(key, value);
    }
  }
  attributes.set('http.request.url', requestUrl(request, url, options.scheme));
  attributes.set('http.remote.addr', request.socket.remoteAddress ?? '');
  attributes.set('http.remote.port', String(request.socket.remotePort ?? ''));
  attributes.set('http.local.port', String(request.socket.localPort ?? ''));
  attributes.set('http.protocol', `HTTP/${request.httpVersion}`);
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    if (options.excludedHeaders.has(name)) continue;
    if (options.headerPattern !== undefined && !options.headerPattern.test(name)) continue;
    const key = `http.headers.${name}`;
    const previous = attributes.get(key);
    attributes.set(key, previous === undefined ? (raw[i + 1] ?? '') : `${previous}, ${raw[i + 1] ?? ''}`);
  }
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && contentType !== '') attributes.set('mime.type', contentType);
  return attributes;
}

/** The request's full URL as the client addressed it (Host header), for provenance and attributes. */
export function requestUrl(request: IncomingMessage, url: URL, scheme: 'http' | 'https'): string {
  const local = request.socket.localAddress ?? 'localhost';
  const host =
    request.headers.host ??
    (local.includes(':') ? `[${local}]:${request.socket.localPort}` : `${local}:${request.socket.localPort}`);
  return `${scheme}://${host}${url.pathname}${url.search}`;
}

/** Credentials a listener requires: HTTP Basic, or a shared secret in a header. */
export type Authentication =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'header'; readonly header: string; readonly secret: string };

/** Checks a request's credentials in constant time; returns the reply when they are missing or wrong. */
export function authenticate(request: IncomingMessage, auth: Authentication): Reply | undefined {
  if (auth.kind === 'none') return undefined;
  if (auth.kind === 'basic') {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const given = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
    if (match !== null && sameSecret(given, `${auth.username}:${auth.password}`)) return undefined;
    return {
      status: 401,
      message: 'authentication required: send HTTP Basic credentials',
      headers: { 'WWW-Authenticate': 'Basic realm="Sluice", charset="UTF-8"' },
    };
  }
  const value = request.headers[auth.header.toLowerCase()];
  const given = Array.isArray(value) ? value.join(',') : (value ?? '');
  if (given !== '' && sameSecret(given, auth.secret)) return undefined;
  return { status: 401, message: `authentication required: send the shared secret in the ${auth.header} header` };
}

function sameSecret(given: string, expected: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

/** RFC 9110 token: what a header name may be. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
