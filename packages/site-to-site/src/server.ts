/**
 * The HTTP Site-to-Site server side, as framework-agnostic handlers over Node's
 * `IncomingMessage`/`ServerResponse`, wire-compatible with NiFi's `SiteToSiteResource` and
 * `DataTransferResource` (so NiFi clients can push to and pull from it). The flow engine plugs in
 * through the port backend interfaces below; this module owns the protocol: routes, headers,
 * response codes, client identity and per-port access, transactions with their TTL, checksums.
 *
 * Data is held uncommitted between the transfer and the client's confirm: received packets sit in
 * a {@link StagedReceive} until `DELETE ...?responseCode=12`, sent packets in an
 * {@link OutgoingBatch} until the client confirms with a matching checksum. CANCEL, BAD_CHECKSUM, a
 * checksum mismatch, a cut transfer or the TTL (30 s without data, keep-alive or confirm) discard
 * or roll back. Finished transactions are remembered for a while so that a confirm repeated after
 * a lost answer gets the same answer instead of "not found".
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { ComponentLogger } from '@sluice/api';
import { type DataPacket, type DecodeLimits, decodeDataPackets, encodeDataPackets, type ReceivedDataPacket } from './codec.ts';
import { Crc32 } from './crc32.ts';
import { SiteToSiteCodecError } from './errors.ts';
import {
  HEADERS,
  LOCATION_URI_INTENT_TRANSACTION,
  type PeerStatus,
  PROTOCOL_VERSION,
  ResponseCode,
  type TransactionResult,
} from './protocol.ts';

/** Who is on the other end of a transfer, and where it is going, for the backend (and provenance). */
export interface TransferContext {
  readonly transactionId: string;
  readonly portId: string;
  /** The client's identity (its token's identity or certificate DN); undefined when anonymous. */
  readonly identity: string | undefined;
  /** The client's address, `host:port`. */
  readonly remoteAddress: string;
  /** The client's host (IP address). */
  readonly remoteHost: string;
  /** This transaction's flow-files URL: the transit URI for RECEIVE/SEND provenance events. */
  readonly transitUri: string;
}

/** What the two port kinds share. */
export interface PortBackend {
  readonly id: string;
  readonly name: string;
  readonly comments?: string;
  /**
   * Client identities allowed to use the port (NiFi's "receive/send data via site-to-site"
   * policies): a set, or `'any'` for every client the server admits. Ports a client may not use
   * are not listed to it.
   */
  readonly allowedIdentities: ReadonlySet<string> | 'any';
  /** False while the port is stopped or invalid: 503 PORT_NOT_IN_VALID_STATE. */
  isRunning(): boolean;
}

/** Data received into an input port and not yet committed. */
export interface StagedReceive {
  /** Makes the received FlowFiles part of the flow (the client confirmed the checksum). */
  commit(): Promise<void>;
  /** Throws the received FlowFiles away (cancel, bad checksum, TTL). */
  discard(): Promise<void>;
}

/**
 * A root-group input port that remote clients push to. The engine implements it.
 */
export interface InputPortBackend extends PortBackend {
  /** False when the port's outbound queues are full: 503 PORTS_DESTINATION_FULL. */
  canReceive(): boolean;
  /**
   * Reads every packet of one transfer and stages it without committing: store the content
   * (streaming it; never whole in memory) and keep the FlowFiles invisible to the flow until
   * `commit`. It must read `packets` to the end. If iterating throws (malformed data, a cut
   * connection, the TTL) it must drop what it staged and rethrow.
   */
  receive(packets: AsyncIterable<ReceivedDataPacket>, context: TransferContext): Promise<StagedReceive>;
}

/** Limits of one pull batch, from the client's handshake headers and the server's caps. */
export interface TakeLimits {
  /** Most FlowFiles (the client's batch count, capped by the server; at least 1). */
  readonly maxCount: number;
  /** Most content bytes (Infinity when the client set none); a first FlowFile may exceed it. */
  readonly maxBytes: number;
  /** Stop taking after this long (the client's batch duration; 5 s by default, as NiFi). */
  readonly maxDurationMs: number;
}

/** FlowFiles taken from an output port for one transfer, held until the client decides. */
export interface OutgoingBatch {
  /** The FlowFiles to send, content streamed. Read once. */
  readonly packets: AsyncIterable<DataPacket> | Iterable<DataPacket>;
  /** The client confirmed a matching checksum: the FlowFiles leave the flow (SEND provenance). */
  commit(): Promise<void>;
  /** The transfer failed, was cancelled, mismatched or expired: put the FlowFiles back. */
  rollback(): Promise<void>;
}

/** A root-group output port that remote clients pull from. The engine implements it. */
export interface OutputPortBackend extends PortBackend {
  /**
   * Takes up to `limits` of queued FlowFiles and holds them (invisible to other takers) until
   * commit or rollback. Undefined when nothing is queued.
   */
  take(limits: TakeLimits, context: TransferContext): Promise<OutgoingBatch | undefined>;
}

/** The ports the server offers; asked on every request, so ports may come and go. */
export interface SiteToSitePorts {
  inputPorts(): Iterable<InputPortBackend>;
  outputPorts(): Iterable<OutputPortBackend>;
}

/** Options of a {@link SiteToSiteServer}. */
export interface SiteToSiteServerOptions {
  /** Instance (root process group) id, reported as the controller id. */
  readonly id: string;
  /** Instance name, reported as the controller name. */
  readonly name: string;
  readonly comments?: string;
  readonly ports: SiteToSitePorts;
  /** Path prefix of the endpoints (default `/nifi-api`, where NiFi clients look). */
  readonly basePath?: string;
  /** Server-side transaction TTL (default 30 s, `nifi.remote.input.http.transaction.ttl`). */
  readonly transactionTtlMs?: number;
  /** Client identities by bearer token: a map, or a lookup. Separate from editor logins. */
  readonly tokens?: ReadonlyMap<string, string> | ((token: string) => string | undefined);
  /** Admit clients with neither token nor client certificate (default false). */
  readonly allowAnonymous?: boolean;
  /** Advertised host in the peer list (`nifi.remote.input.host`); default: the host the client used. */
  readonly host?: string;
  /** Advertised HTTP(S) port; default: the port the client used. */
  readonly httpPort?: number;
  /** Advertised `siteToSiteSecure`; default: whether the request came over TLS. */
  readonly secure?: boolean;
  /** The peer list (a cluster's nodes); default: this instance alone. */
  readonly peers?: (request: IncomingMessage) => readonly PeerStatus[];
  /** FlowFiles queued here, reported as this instance's `flowFileCount` (default 0, as NiFi standalone). */
  readonly flowFileCount?: () => number;
  /** Cap on one pull batch's FlowFile count (default 10,000). */
  readonly maxBatchCount?: number;
  /** Limits applied to pushed packets. */
  readonly decodeLimits?: DecodeLimits;
  /** Where expiries and unexpected failures are reported. */
  readonly logger?: ComponentLogger;
}

/** A snapshot of one open transaction, for status pages and tests. */
export interface TransactionInfo {
  readonly id: string;
  readonly portId: string;
  readonly direction: 'input' | 'output';
  readonly state: 'open' | 'transferring' | 'held' | 'finishing';
  readonly identity: string | undefined;
  readonly flowFiles: number;
}

interface ServerTransaction {
  readonly id: string;
  readonly portId: string;
  readonly direction: 'input' | 'output';
  readonly identity: string | undefined;
  state: TransactionInfo['state'];
  timer: NodeJS.Timeout;
  staged?: StagedReceive;
  batch?: OutgoingBatch;
  checksum?: string;
  flowFiles: number;
  bytes: number;
  abort?: () => void;
  finishing?: { code: number; checksum: string | null; outcome: Promise<Outcome> };
}

interface Outcome {
  readonly status: number;
  readonly body: TransactionResult;
}

interface Tombstone {
  readonly code: number | undefined;
  readonly checksum: string | null;
  readonly outcome: Outcome;
  readonly at: number;
}

type Route =
  | { kind: 'details' }
  | { kind: 'peers' }
  | { kind: 'create'; direction: 'input' | 'output'; portId: string }
  | { kind: 'receive'; portId: string; transactionId: string }
  | { kind: 'serve'; portId: string; transactionId: string }
  | { kind: 'extend'; direction: 'input' | 'output'; portId: string; transactionId: string }
  | { kind: 'finish'; direction: 'input' | 'output'; portId: string; transactionId: string }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'not-found' };

const NO_CACHE = 'private, no-cache, no-store, no-transform';
const CONTENT_TYPE_JSON = 'application/json';

class HttpFailure {
  constructor(
    readonly status: number,
    readonly responseCode: number,
    readonly message: string,
  ) {}
}

function decodeSegment(segment: string): string | undefined {
  try {
    const decoded = decodeURIComponent(segment);
    return decoded === '' ? undefined : decoded;
  } catch {
    return undefined;
  }
}

function matchRoute(method: string, path: string): Route | undefined {
  if (path === '/site-to-site' || path === '/site-to-site/')
    return method === 'GET' ? { kind: 'details' } : { kind: 'method-not-allowed', allow: 'GET' };
  if (path === '/site-to-site/peers' || path === '/site-to-site/peers/')
    return method === 'GET' ? { kind: 'peers' } : { kind: 'method-not-allowed', allow: 'GET' };
  if (!path.startsWith('/data-transfer/')) return path.startsWith('/site-to-site/') ? { kind: 'not-found' } : undefined;
  const parts = path.slice('/data-transfer/'.length).split('/');
  const [type, rawPort, transactions, rawTransaction, flowFiles] = parts;
  const direction = type === 'input-ports' ? 'input' : type === 'output-ports' ? 'output' : undefined;
  const portId = rawPort === undefined ? undefined : decodeSegment(rawPort);
  if (direction === undefined || portId === undefined || transactions !== 'transactions' || parts.length > 5)
    return { kind: 'not-found' };
  if (parts.length === 3)
    return method === 'POST' ? { kind: 'create', direction, portId } : { kind: 'method-not-allowed', allow: 'POST' };
  const transactionId = rawTransaction === undefined ? undefined : decodeSegment(rawTransaction);
  if (transactionId === undefined) return { kind: 'not-found' };
  if (parts.length === 4) {
    if (method === 'PUT') return { kind: 'extend', direction, portId, transactionId };
    if (method === 'DELETE') return { kind: 'finish', direction, portId, transactionId };
    return { kind: 'method-not-allowed', allow: 'PUT, DELETE' };
  }
  if (flowFiles !== 'flow-files') return { kind: 'not-found' };
  if (direction === 'input')
    return method === 'POST' ? { kind: 'receive', portId, transactionId } : { kind: 'method-not-allowed', allow: 'POST' };
  return method === 'GET' ? { kind: 'serve', portId, transactionId } : { kind: 'method-not-allowed', allow: 'GET' };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Formats a certificate subject as NiFi does: most specific first, ", " between elements. */
function formatSubject(subject: string): string {
  return subject
    .split('\n')
    .filter((part) => part !== '')
    .reverse()
    .join(', ');
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/**
 * Serves the Site-to-Site HTTP endpoints. Mount it in front of any body parser:
 *
 * @example
 * const s2s = new SiteToSiteServer({ id, name, ports, tokens });
 * http.createServer((req, res) => { if (!s2s.handle(req, res)) app(req, res); });
 */
export class SiteToSiteServer {
  readonly #options: SiteToSiteServerOptions;
  readonly #base: string;
  readonly #ttlMs: number;
  readonly #transactions = new Map<string, ServerTransaction>();
  readonly #tombstones = new Map<string, Tombstone>();
  #closed = false;

  constructor(options: SiteToSiteServerOptions) {
    this.#options = options;
    const base = options.basePath ?? '/nifi-api';
    this.#base = base.endsWith('/') ? base.slice(0, -1) : base;
    this.#ttlMs = Math.max(1, options.transactionTtlMs ?? 30_000);
  }

  /** The TTL as advertised in `x-nifi-site-to-site-server-transaction-ttl` (whole seconds). */
  get ttlSeconds(): number {
    return Math.max(1, Math.ceil(this.#ttlMs / 1000));
  }

  /** Open transactions, for status and tests. */
  transactions(): TransactionInfo[] {
    return [...this.#transactions.values()].map((t) => ({
      id: t.id,
      portId: t.portId,
      direction: t.direction,
      state: t.state,
      identity: t.identity,
      flowFiles: t.flowFiles,
    }));
  }

  /**
   * Handles the request if its URL is a Site-to-Site endpoint under the base path and returns
   * true (the response is then this server's to finish); returns false, touching nothing, when the
   * URL is not one of ours. Never throws: failures become HTTP errors.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(`${this.#base}/`)) return false;
    const route = matchRoute(request.method ?? 'GET', url.pathname.slice(this.#base.length));
    if (route === undefined) return false;
    this.#dispatch(route, request, response, url).catch((error: unknown) => {
      this.#options.logger?.error('Site-to-Site request failed unexpectedly', error);
      if (!response.headersSent)
        this.#json(response, 500, {
          responseCode: ResponseCode.ABORT,
          message: 'Server encountered an exception.',
          flowFileSent: 0,
        });
      else response.destroy();
    });
    return true;
  }

  /**
   * Stops serving: rolls back or discards everything held and forgets all transactions.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#transactions.values()];
    this.#transactions.clear();
    this.#tombstones.clear();
    await Promise.all(open.map((t) => this.#release(t, 'the server closed')));
  }

  // --- responses -------------------------------------------------------------------------------

  #common(): OutgoingHttpHeaders {
    return {
      [HEADERS.protocolVersion]: String(PROTOCOL_VERSION),
      [HEADERS.serverTransactionTtl]: String(this.ttlSeconds),
      'cache-control': NO_CACHE,
    };
  }

  #json(response: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': CONTENT_TYPE_JSON,
      'content-length': Buffer.byteLength(text),
      'cache-control': NO_CACHE,
      ...headers,
    });
    response.end(text);
  }

  #text(response: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
    response.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': NO_CACHE,
      ...headers,
    });
    response.end(text);
  }

  #fail(response: ServerResponse, failure: HttpFailure, headers: OutgoingHttpHeaders = {}): void {
    const extra: OutgoingHttpHeaders = { ...headers };
    if (failure.status === 401) extra['www-authenticate'] = 'Bearer realm="site-to-site"';
    this.#json(
      response,
      failure.status,
      { flowFileSent: 0, responseCode: failure.responseCode, message: failure.message },
      extra,
    );
  }

  #send(response: ServerResponse, outcome: Outcome): void {
    this.#json(response, outcome.status, outcome.body, outcome.status === 200 ? this.#common() : {});
  }

  // --- identity and access ---------------------------------------------------------------------

  #identify(request: IncomingMessage): { identity: string | undefined } | HttpFailure {
    const socket = request.socket;
    if (socket instanceof TLSSocket && socket.authorized) {
      const certificate = socket.getPeerX509Certificate();
      if (certificate !== undefined) return { identity: formatSubject(certificate.subject) };
    }
    const authorization = header(request, 'authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      const token = match?.[1];
      const tokens = this.#options.tokens;
      const identity =
        token === undefined || tokens === undefined
          ? undefined
          : typeof tokens === 'function'
            ? tokens(token)
            : tokens.get(token);
      if (identity === undefined)
        return new HttpFailure(401, ResponseCode.UNAUTHORIZED, 'The Site-to-Site token is not valid for this instance.');
      return { identity };
    }
    if (this.#options.allowAnonymous === true) return { identity: undefined };
    return new HttpFailure(
      401,
      ResponseCode.UNAUTHORIZED,
      'Site-to-Site needs a client identity: send a bearer token or connect with a client certificate.',
    );
  }

  #allowed(port: PortBackend, identity: string | undefined): boolean {
    if (port.allowedIdentities === 'any') return true;
    return identity !== undefined && port.allowedIdentities.has(identity);
  }

  #findPort(direction: 'input', id: string): InputPortBackend | undefined;
  #findPort(direction: 'output', id: string): OutputPortBackend | undefined;
  #findPort(direction: 'input' | 'output', id: string): InputPortBackend | OutputPortBackend | undefined {
    const ports = direction === 'input' ? this.#options.ports.inputPorts() : this.#options.ports.outputPorts();
    for (const port of ports) if (port.id === id) return port;
    return undefined;
  }

  #checkPort(port: PortBackend | undefined, id: string, identity: string | undefined): HttpFailure | undefined {
    if (port === undefined) return new HttpFailure(404, ResponseCode.UNKNOWN_PORT, `Received unknown port identifier: ${id}`);
    if (!this.#allowed(port, identity))
      return new HttpFailure(
        403,
        ResponseCode.UNAUTHORIZED,
        `${identity === undefined ? 'An anonymous client' : `"${identity}"`} may not use port "${port.name}" over Site-to-Site.`,
      );
    return undefined;
  }

  #negotiate(request: IncomingMessage): HttpFailure | undefined {
    const raw = header(request, HEADERS.protocolVersion);
    if (raw === undefined || raw === '') return new HttpFailure(400, ResponseCode.ABORT, 'Protocol version was not specified.');
    if (!/^\d+$/.test(raw.trim()))
      return new HttpFailure(400, ResponseCode.ABORT, `Specified protocol version was not in a valid number format: ${raw}`);
    // Like NiFi's negotiator: any version from 1 up is served at 1, the only one there is.
    if (Number(raw) < PROTOCOL_VERSION)
      return new HttpFailure(400, ResponseCode.ABORT, `Specified protocol version is not supported: ${raw}`);
    return undefined;
  }

  #handshake(
    request: IncomingMessage,
  ): { compressed: boolean; batchCount: number; batchSize: number; batchDurationMs: number } | HttpFailure {
    const numbers: Record<string, number> = {};
    for (const [name, property] of [
      [HEADERS.requestExpiration, 'REQUEST_EXPIRATION_MILLIS'],
      [HEADERS.batchCount, 'BATCH_COUNT'],
      [HEADERS.batchSize, 'BATCH_SIZE'],
      [HEADERS.batchDuration, 'BATCH_DURATION'],
    ] as const) {
      const raw = header(request, name);
      if (raw === undefined || raw === '') continue;
      if (!/^-?\d+$/.test(raw.trim()))
        return new HttpFailure(
          400,
          ResponseCode.ILLEGAL_PROPERTY_VALUE,
          `Received invalid value for property '${property}'; invalid value: ${raw}`,
        );
      numbers[name] = Number(raw);
    }
    return {
      compressed: (header(request, HEADERS.useCompression) ?? '').trim().toLowerCase() === 'true',
      batchCount: Math.max(0, numbers[HEADERS.batchCount] ?? 0),
      batchSize: Math.max(0, numbers[HEADERS.batchSize] ?? 0),
      batchDurationMs: Math.max(0, numbers[HEADERS.batchDuration] ?? 0),
    };
  }

  #origin(request: IncomingMessage): { scheme: string; host: string } {
    const scheme = request.socket instanceof TLSSocket ? 'https' : 'http';
    const host = header(request, 'host') ?? `${request.socket.localAddress ?? '127.0.0.1'}:${request.socket.localPort ?? 80}`;
    return { scheme, host };
  }

  #transactionUrl(request: IncomingMessage, direction: 'input' | 'output', portId: string, transactionId: string): string {
    const { scheme, host } = this.#origin(request);
    const type = direction === 'input' ? 'input-ports' : 'output-ports';
    return `${scheme}://${host}${this.#base}/data-transfer/${type}/${encodeURIComponent(portId)}/transactions/${encodeURIComponent(transactionId)}`;
  }

  #context(request: IncomingMessage, transaction: ServerTransaction): TransferContext {
    const remoteHost = request.socket.remoteAddress ?? 'unknown';
    return {
      transactionId: transaction.id,
      portId: transaction.portId,
      identity: transaction.identity,
      remoteHost,
      remoteAddress: `${remoteHost}:${request.socket.remotePort ?? 0}`,
      transitUri: `${this.#transactionUrl(request, transaction.direction, transaction.portId, transaction.id)}/flow-files`,
    };
  }

  // --- transactions ----------------------------------------------------------------------------

  #touch(transaction: ServerTransaction): void {
    transaction.timer.refresh();
  }

  #expire(transaction: ServerTransaction): void {
    if (this.#transactions.get(transaction.id) !== transaction || transaction.finishing !== undefined) return;
    this.#transactions.delete(transaction.id);
    // A confirm that comes later learns definitely that nothing was committed.
    this.#remember(transaction.id, undefined, null, {
      status: 404,
      body: {
        responseCode: ResponseCode.CANCEL_TRANSACTION,
        message: `Transaction ${transaction.id} expired after ${this.ttlSeconds} s without a confirm and was discarded.`,
        flowFileSent: 0,
      },
    });
    this.#options.logger?.warn(
      `Site-to-Site transaction ${transaction.id} on port ${transaction.portId} expired after ${this.ttlSeconds} s without data, keep-alive or confirm; ${transaction.flowFiles} FlowFile(s) ${transaction.direction === 'input' ? 'discarded' : 'returned to the queue'}`,
    );
    void this.#release(transaction, 'expired');
  }

  /** Discards or rolls back whatever `transaction` holds, aborting a transfer in flight. */
  async #release(transaction: ServerTransaction, why: string): Promise<void> {
    clearTimeout(transaction.timer);
    transaction.abort?.();
    const staged = transaction.staged;
    const batch = transaction.batch;
    transaction.staged = undefined;
    transaction.batch = undefined;
    try {
      if (staged !== undefined) await staged.discard();
      if (batch !== undefined) await batch.rollback();
    } catch (error) {
      this.#options.logger?.error(`Site-to-Site transaction ${transaction.id} (${why}): releasing its data failed`, error);
    }
  }

  #drop(transaction: ServerTransaction): void {
    clearTimeout(transaction.timer);
    if (this.#transactions.get(transaction.id) === transaction) this.#transactions.delete(transaction.id);
  }

  #remember(id: string, code: number | undefined, checksum: string | null, outcome: Outcome): void {
    const now = Date.now();
    const keep = Math.max(60_000, 2 * this.#ttlMs);
    // Insertion order is time order: prune from the oldest.
    for (const [key, tombstone] of this.#tombstones) {
      if (now - tombstone.at < keep) break;
      this.#tombstones.delete(key);
    }
    this.#tombstones.set(id, { code, checksum, outcome, at: now });
  }

  // --- dispatch --------------------------------------------------------------------------------

  async #dispatch(route: Route, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (route.kind === 'method-not-allowed') {
      request.resume();
      this.#json(
        response,
        405,
        { flowFileSent: 0, responseCode: ResponseCode.ABORT, message: 'Method not allowed.' },
        { allow: route.allow },
      );
      return;
    }
    if (route.kind === 'not-found') {
      request.resume();
      this.#fail(response, new HttpFailure(404, ResponseCode.ABORT, 'Port was not found.'));
      return;
    }
    const who = this.#identify(request);
    if (who instanceof HttpFailure) {
      this.#fail(response, who, { connection: 'close' });
      request.resume();
      return;
    }
    try {
      await this.#route(route, request, response, who.identity, url);
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      if (route.kind === 'receive') {
        // A refused upload is left unread: close the connection rather than drain it.
        this.#fail(response, error, { connection: 'close' });
        request.resume();
      } else this.#fail(response, error);
    }
  }

  async #route(
    route: Route,
    request: IncomingMessage,
    response: ServerResponse,
    identity: string | undefined,
    url: URL,
  ): Promise<void> {
    switch (route.kind) {
      case 'details':
        request.resume();
        this.#details(request, response, identity);
        return;
      case 'peers':
        request.resume();
        this.#peers(request, response);
        return;
      case 'create':
        request.resume();
        this.#create(request, response, identity, route.direction, route.portId);
        return;
      case 'receive':
        return this.#receive(request, response, identity, route.portId, route.transactionId);
      case 'serve':
        request.resume();
        return this.#serve(request, response, identity, route.portId, route.transactionId);
      case 'extend':
        request.resume();
        this.#extend(request, response, identity, route.direction, route.portId, route.transactionId);
        return;
      case 'finish':
        request.resume();
        return this.#finish(request, response, identity, route.direction, route.portId, route.transactionId, url);
    }
  }

  #details(request: IncomingMessage, response: ServerResponse, identity: string | undefined): void {
    const describe = (port: PortBackend, type: 'INPUT_PORT' | 'OUTPUT_PORT'): Record<string, unknown> => ({
      id: port.id,
      name: port.name,
      ...(port.comments === undefined ? {} : { comments: port.comments }),
      state: port.isRunning() ? 'RUNNING' : 'STOPPED',
      type,
    });
    const inputs = [...this.#options.ports.inputPorts()]
      .filter((p) => this.#allowed(p, identity))
      .map((p) => describe(p, 'INPUT_PORT'));
    const outputs = [...this.#options.ports.outputPorts()]
      .filter((p) => this.#allowed(p, identity))
      .map((p) => describe(p, 'OUTPUT_PORT'));
    const running = [...inputs, ...outputs].filter((p) => p['state'] === 'RUNNING').length;
    const controller: Record<string, unknown> = {
      id: this.#options.id,
      name: this.#options.name,
      ...(this.#options.comments === undefined ? {} : { comments: this.#options.comments }),
      runningCount: running,
      stoppedCount: inputs.length + outputs.length - running,
      invalidCount: 0,
      disabledCount: 0,
      activeRemotePortCount: 0,
      inactiveRemotePortCount: 0,
      inputPortCount: inputs.length,
      outputPortCount: outputs.length,
      // RAW socket transport is not offered: remoteSiteListeningPort stays absent.
      siteToSiteSecure: this.#options.secure ?? request.socket instanceof TLSSocket,
      instanceId: this.#options.id,
      inputPorts: inputs,
      outputPorts: outputs,
    };
    // As NiFi: a client that sends no protocol version is an old one that would choke on the field.
    if (header(request, HEADERS.protocolVersion) !== undefined)
      controller['remoteSiteHttpListeningPort'] = this.#advertisedPort(request);
    this.#json(response, 200, { controller });
  }

  #advertisedPort(request: IncomingMessage): number {
    if (this.#options.httpPort !== undefined) return this.#options.httpPort;
    const { scheme, host } = this.#origin(request);
    const fromHost = /:(\d+)$/.exec(host)?.[1];
    return fromHost !== undefined ? Number(fromHost) : scheme === 'https' ? 443 : 80;
  }

  #peers(request: IncomingMessage, response: ServerResponse): void {
    const version = this.#negotiate(request);
    if (version !== undefined) throw version;
    const { host } = this.#origin(request);
    const hostname = this.#options.host ?? host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    const peers = this.#options.peers?.(request) ?? [
      {
        hostname,
        port: this.#advertisedPort(request),
        secure: this.#options.secure ?? request.socket instanceof TLSSocket,
        flowFileCount: this.#options.flowFileCount?.() ?? 0,
      },
    ];
    this.#json(response, 200, { peers }, this.#common());
  }

  #create(
    request: IncomingMessage,
    response: ServerResponse,
    identity: string | undefined,
    direction: 'input' | 'output',
    portId: string,
  ): void {
    const input = direction === 'input' ? this.#findPort('input', portId) : undefined;
    const port = input ?? (direction === 'output' ? this.#findPort('output', portId) : undefined);
    const problem = this.#checkPort(port, portId, identity) ?? this.#negotiate(request);
    if (problem !== undefined) throw problem;
    const handshake = this.#handshake(request);
    if (handshake instanceof HttpFailure) throw handshake;
    if (port === undefined || this.#closed || !port.isRunning())
      throw new HttpFailure(503, ResponseCode.PORT_NOT_IN_VALID_STATE, 'Port not running');
    if (input !== undefined && !input.canReceive())
      throw new HttpFailure(
        503,
        ResponseCode.PORTS_DESTINATION_FULL,
        `Received port identifier ${portId}, but its destination is full`,
      );
    const id = randomUUID();
    const transaction: ServerTransaction = {
      id,
      portId,
      direction,
      identity,
      state: 'open',
      timer: setTimeout(() => this.#expire(transaction), this.#ttlMs),
      flowFiles: 0,
      bytes: 0,
    };
    transaction.timer.unref();
    this.#transactions.set(id, transaction);
    this.#json(
      response,
      201,
      {
        flowFileSent: 0,
        responseCode: ResponseCode.PROPERTIES_OK,
        message: `Handshake properties are valid, and port is running. A transaction is created:${id}`,
      },
      {
        ...this.#common(),
        location: this.#transactionUrl(request, direction, portId, id),
        [HEADERS.locationUriIntent]: LOCATION_URI_INTENT_TRANSACTION,
      },
    );
  }

  /** Validates a request on an existing transaction; the transaction, or the failure to answer with. */
  #lookup(
    request: IncomingMessage,
    identity: string | undefined,
    direction: 'input' | 'output',
    portId: string,
    transactionId: string,
  ): { port: InputPortBackend | OutputPortBackend; transaction: ServerTransaction | undefined } | HttpFailure {
    const port = direction === 'input' ? this.#findPort('input', portId) : this.#findPort('output', portId);
    const problem = this.#checkPort(port, portId, identity) ?? this.#negotiate(request);
    if (problem !== undefined || port === undefined)
      return problem ?? new HttpFailure(404, ResponseCode.UNKNOWN_PORT, 'Port was not found.');
    const transaction = this.#transactions.get(transactionId);
    if (transaction !== undefined && (transaction.portId !== portId || transaction.direction !== direction))
      return new HttpFailure(404, ResponseCode.ABORT, 'Transaction was not found.');
    return { port, transaction };
  }

  async #receive(
    request: IncomingMessage,
    response: ServerResponse,
    identity: string | undefined,
    portId: string,
    transactionId: string,
  ): Promise<void> {
    const found = this.#lookup(request, identity, 'input', portId, transactionId);
    if (found instanceof HttpFailure) throw found;
    const { transaction } = found;
    const port = this.#findPort('input', portId);
    if (transaction === undefined || port === undefined)
      throw new HttpFailure(404, ResponseCode.ABORT, 'Transaction was not found.');
    const handshake = this.#handshake(request);
    if (handshake instanceof HttpFailure) throw handshake;
    if (transaction.state !== 'open')
      throw new HttpFailure(400, ResponseCode.ABORT, `Transaction ${transactionId} has already received its data.`);
    if (!port.isRunning()) throw new HttpFailure(503, ResponseCode.PORT_NOT_IN_VALID_STATE, 'Port not running');
    if (!port.canReceive())
      throw new HttpFailure(
        503,
        ResponseCode.PORTS_DESTINATION_FULL,
        `Received port identifier ${portId}, but its destination is full`,
      );

    transaction.state = 'transferring';
    this.#touch(transaction);
    transaction.abort = () => request.destroy(new Error(`Site-to-Site transaction ${transactionId} expired during the transfer`));
    const crc = new Crc32();
    let complete = false;
    const touch = (): void => this.#touch(transaction);
    const source = async function* (): AsyncGenerator<Uint8Array> {
      // Stopping early (malformed data) must not destroy the request: we still answer 400.
      for await (const chunk of request.iterator({ destroyOnReturn: false })) {
        touch();
        yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      }
    };
    const decoded = decodeDataPackets(source(), {
      compressed: handshake.compressed,
      crc,
      limits: this.#options.decodeLimits ?? {},
    });
    // Counts packets as the port reads them (a plain iterator: no generator step per packet).
    const count = (result: IteratorResult<ReceivedDataPacket>): IteratorResult<ReceivedDataPacket> => {
      if (result.done === true) complete = true;
      else {
        transaction.flowFiles++;
        transaction.bytes += result.value.size;
      }
      return result;
    };
    const counted: AsyncIterableIterator<ReceivedDataPacket> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => decoded.next().then(count),
      return: async () => decoded.return(undefined),
    };
    let staged: StagedReceive;
    try {
      staged = await port.receive(counted, this.#context(request, transaction));
    } catch (error) {
      this.#drop(transaction);
      transaction.abort = undefined;
      if (request.socket.destroyed) {
        // Cut by the client, or aborted by expiry or cancel: nobody to answer.
        response.destroy();
        return;
      }
      if (error instanceof SiteToSiteCodecError)
        throw new HttpFailure(400, ResponseCode.ABORT, `The data is malformed: ${error.message}`);
      this.#options.logger?.error(`Site-to-Site transaction ${transactionId}: port "${port.name}" failed to receive`, error);
      throw new HttpFailure(500, ResponseCode.ABORT, 'Server encountered an exception.');
    }
    transaction.abort = undefined;
    if (this.#transactions.get(transactionId) !== transaction || transaction.finishing !== undefined) {
      // Expired, cancelled or the server closed while the port was still staging.
      await staged.discard();
      throw new HttpFailure(404, ResponseCode.ABORT, 'Transaction was not found.');
    }
    if (!complete) {
      this.#drop(transaction);
      await staged.discard();
      this.#options.logger?.error(`Site-to-Site transaction ${transactionId}: port "${port.name}" did not read every packet`);
      throw new HttpFailure(500, ResponseCode.ABORT, 'Server encountered an exception.');
    }
    if (transaction.flowFiles === 0) {
      this.#drop(transaction);
      await staged.discard();
      return this.#text(response, 400, 'Client should send request when there is data to send. There was no flow file sent.');
    }
    transaction.staged = staged;
    transaction.checksum = crc.toString();
    transaction.state = 'held';
    this.#touch(transaction);
    this.#text(response, 202, transaction.checksum, this.#common());
  }

  async #serve(
    request: IncomingMessage,
    response: ServerResponse,
    identity: string | undefined,
    portId: string,
    transactionId: string,
  ): Promise<void> {
    const found = this.#lookup(request, identity, 'output', portId, transactionId);
    if (found instanceof HttpFailure) throw found;
    const { transaction } = found;
    const port = this.#findPort('output', portId);
    if (transaction === undefined || port === undefined)
      throw new HttpFailure(404, ResponseCode.ABORT, 'Transaction was not found.');
    const handshake = this.#handshake(request);
    if (handshake instanceof HttpFailure) throw handshake;
    if (transaction.state !== 'open')
      throw new HttpFailure(400, ResponseCode.ABORT, `Transaction ${transactionId} has already sent its data.`);
    if (!port.isRunning()) throw new HttpFailure(503, ResponseCode.PORT_NOT_IN_VALID_STATE, 'Port not running');

    transaction.state = 'transferring';
    this.#touch(transaction);
    const limits: TakeLimits = {
      maxCount: Math.max(
        1,
        Math.min(
          handshake.batchCount > 0 ? handshake.batchCount : Number.POSITIVE_INFINITY,
          this.#options.maxBatchCount ?? 10_000,
        ),
      ),
      maxBytes: handshake.batchSize > 0 ? handshake.batchSize : Number.POSITIVE_INFINITY,
      maxDurationMs: handshake.batchDurationMs > 0 ? handshake.batchDurationMs : 5_000,
    };
    let batch: OutgoingBatch | undefined;
    try {
      batch = await port.take(limits, this.#context(request, transaction));
    } catch (error) {
      this.#drop(transaction);
      this.#options.logger?.error(
        `Site-to-Site transaction ${transactionId}: port "${port.name}" failed to hand out FlowFiles`,
        error,
      );
      throw new HttpFailure(500, ResponseCode.ABORT, 'Server encountered an exception.');
    }
    if (this.#transactions.get(transactionId) !== transaction || transaction.finishing !== undefined) {
      await batch?.rollback();
      throw new HttpFailure(404, ResponseCode.ABORT, 'Transaction was not found.');
    }
    if (batch === undefined) {
      // No data: 200 with an empty body. The client will not confirm, so forget the transaction.
      this.#drop(transaction);
      response.writeHead(200, { ...this.#common(), 'content-length': 0 });
      response.end();
      return;
    }
    transaction.batch = batch;
    const held = batch;
    let gone = false;
    response.on('close', () => {
      if (!response.writableFinished) gone = true;
    });
    transaction.abort = () => {
      gone = true;
      response.destroy();
    };
    const crc = new Crc32();
    const counted = async function* (): AsyncGenerator<DataPacket> {
      for await (const packet of held.packets) {
        transaction.flowFiles++;
        transaction.bytes += packet.size;
        yield packet;
      }
    };
    response.writeHead(202, { ...this.#common(), 'content-type': 'application/octet-stream' });
    try {
      for await (const chunk of encodeDataPackets(counted(), { compressed: handshake.compressed, crc })) {
        if (gone) throw new Error('the client went away');
        if (!response.write(chunk)) await drained(response);
        this.#touch(transaction);
      }
      if (gone) throw new Error('the client went away');
    } catch (error) {
      transaction.abort = undefined;
      // Unless a cancel or the TTL already released the batch, put it back.
      if (transaction.batch === held) {
        if (transaction.finishing === undefined) this.#drop(transaction);
        transaction.batch = undefined;
        await held
          .rollback()
          .catch((e: unknown) => this.#options.logger?.error(`Site-to-Site transaction ${transactionId}: rollback failed`, e));
      }
      if (!gone)
        this.#options.logger?.warn(`Site-to-Site transaction ${transactionId}: sending from port "${port.name}" failed`, error);
      response.destroy();
      return;
    }
    transaction.abort = undefined;
    // Held before the body ends, so a confirm can never arrive before the checksum is known.
    transaction.checksum = crc.toString();
    transaction.state = 'held';
    this.#touch(transaction);
    response.end();
  }

  #extend(
    request: IncomingMessage,
    response: ServerResponse,
    identity: string | undefined,
    direction: 'input' | 'output',
    portId: string,
    transactionId: string,
  ): void {
    const found = this.#lookup(request, identity, direction, portId, transactionId);
    if (found instanceof HttpFailure) throw found;
    if (found.transaction === undefined) throw new HttpFailure(404, ResponseCode.ABORT, 'Transaction was not found.');
    this.#touch(found.transaction);
    this.#json(
      response,
      200,
      { flowFileSent: 0, responseCode: ResponseCode.CONTINUE_TRANSACTION, message: 'Extended TTL.' },
      this.#common(),
    );
  }

  async #finish(
    request: IncomingMessage,
    response: ServerResponse,
    identity: string | undefined,
    direction: 'input' | 'output',
    portId: string,
    transactionId: string,
    url: URL,
  ): Promise<void> {
    const found = this.#lookup(request, identity, direction, portId, transactionId);
    if (found instanceof HttpFailure) throw found;
    const rawCode = url.searchParams.get('responseCode');
    const code = rawCode === null || !/^\d+$/.test(rawCode) ? undefined : Number(rawCode);
    const checksum = url.searchParams.get('checksum');
    const { transaction } = found;
    if (transaction === undefined) {
      const tombstone = this.#tombstones.get(transactionId);
      // The same request again (its answer was lost): the same answer. Expiry answers anyone.
      if (
        tombstone !== undefined &&
        (tombstone.code === undefined || (tombstone.code === code && tombstone.checksum === checksum))
      )
        return this.#send(response, tombstone.outcome);
      throw new HttpFailure(404, ResponseCode.ABORT, 'Transaction was not found.');
    }
    const allowed =
      direction === 'input'
        ? [ResponseCode.CONFIRM_TRANSACTION, ResponseCode.CANCEL_TRANSACTION, ResponseCode.BAD_CHECKSUM]
        : [ResponseCode.CONFIRM_TRANSACTION, ResponseCode.CANCEL_TRANSACTION];
    if (code === undefined || !allowed.some((c) => c === code))
      throw new HttpFailure(
        400,
        ResponseCode.ABORT,
        rawCode === null ? 'responseCode is required.' : `responseCode ${rawCode} is invalid. `,
      );
    if (transaction.finishing !== undefined) {
      if (transaction.finishing.code !== code || transaction.finishing.checksum !== checksum)
        throw new HttpFailure(409, ResponseCode.ABORT, `Transaction ${transactionId} is already being finished.`);
      return this.#send(response, await transaction.finishing.outcome);
    }
    const outcome = this.#decide(transaction, code, checksum, transaction.state === 'held');
    transaction.finishing = { code, checksum, outcome };
    transaction.state = 'finishing';
    clearTimeout(transaction.timer);
    const result = await outcome;
    this.#drop(transaction);
    this.#remember(transactionId, code, checksum, result);
    this.#send(response, result);
  }

  async #decide(transaction: ServerTransaction, code: number, checksum: string | null, held: boolean): Promise<Outcome> {
    const result = (status: number, responseCode: number, message?: string, flowFileSent = 0): Outcome => ({
      status,
      body: message === undefined ? { flowFileSent, responseCode } : { flowFileSent, responseCode, message },
    });
    if (code === ResponseCode.CANCEL_TRANSACTION || code === ResponseCode.BAD_CHECKSUM) {
      await this.#release(transaction, code === ResponseCode.BAD_CHECKSUM ? 'bad checksum' : 'cancelled');
      return code === ResponseCode.CANCEL_TRANSACTION
        ? result(200, ResponseCode.CANCEL_TRANSACTION, 'Transaction has been canceled.')
        : result(200, ResponseCode.CANCEL_TRANSACTION, 'The client reported a bad checksum; the received data was discarded.');
    }
    if (!held) {
      await this.#release(transaction, 'confirmed before its data');
      return result(400, ResponseCode.ABORT, `Transaction ${transaction.id} has no data to confirm.`);
    }
    if (transaction.direction === 'input') {
      const staged = transaction.staged;
      transaction.staged = undefined;
      if (staged === undefined) return result(400, ResponseCode.ABORT, `Transaction ${transaction.id} has no data to confirm.`);
      try {
        await staged.commit();
      } catch (error) {
        this.#options.logger?.error(`Site-to-Site transaction ${transaction.id}: committing received data failed`, error);
        await staged.discard().catch(() => undefined);
        return result(500, ResponseCode.ABORT, 'Server encountered an exception.');
      }
      const port = this.#findPort('input', transaction.portId);
      const full = port !== undefined && !port.canReceive();
      return result(
        200,
        full ? ResponseCode.TRANSACTION_FINISHED_BUT_DESTINATION_FULL : ResponseCode.TRANSACTION_FINISHED,
        undefined,
        transaction.flowFiles,
      );
    }
    const batch = transaction.batch;
    transaction.batch = undefined;
    if (batch === undefined) return result(400, ResponseCode.ABORT, `Transaction ${transaction.id} has no data to confirm.`);
    if (checksum !== transaction.checksum) {
      await batch
        .rollback()
        .catch((e: unknown) => this.#options.logger?.error(`Site-to-Site transaction ${transaction.id}: rollback failed`, e));
      return result(
        400,
        ResponseCode.BAD_CHECKSUM,
        `Sent data but calculated CRC32 Checksum as ${transaction.checksum} while the client calculated ${checksum ?? '(none)'}; the transaction was rolled back.`,
      );
    }
    try {
      await batch.commit();
    } catch (error) {
      this.#options.logger?.error(`Site-to-Site transaction ${transaction.id}: committing sent data failed`, error);
      await batch.rollback().catch(() => undefined);
      return result(500, ResponseCode.ABORT, 'Server encountered an exception.');
    }
    return result(200, ResponseCode.CONFIRM_TRANSACTION, undefined, transaction.flowFiles);
  }
}
