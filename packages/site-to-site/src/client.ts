/**
 * The HTTP Site-to-Site client, wire-compatible with NiFi's `SiteToSiteRestApiClient` and
 * `HttpClientTransaction`: discovery, peer selection, and push and pull transactions with CRC32
 * confirmation, keep-alive and optional compression.
 *
 * Delivery is at-least-once and the caller owns its local commit:
 * - push: `send` then `confirm`; commit the local session only after `confirm` resolves. On any
 *   error roll back (and resend later). A duplicate is possible only when the remote committed but
 *   the answer was lost even after retries ({@link CommitOutcomeUnknownError}).
 * - pull: read `packets()`, stage them locally, `confirm`, then commit the staged data. On
 *   {@link CommitOutcomeUnknownError} commit as well (the remote may send the data again).
 * A confirm cut by the network is retried: a Sluice server remembers finished transactions for a
 * while and answers a repeated confirm with the same outcome, so a cut there costs no duplicate.
 */
import http, { type Agent, type OutgoingHttpHeaders } from 'node:http';
import https, { type AgentOptions } from 'node:https';
import type { ComponentLogger } from '@sluice/api';
import { type DataPacket, type DecodeLimits, decodeDataPackets, encodeDataPackets, type ReceivedDataPacket } from './codec.ts';
import { Crc32 } from './crc32.ts';
import {
  BadChecksumError,
  CommitOutcomeUnknownError,
  DestinationFullError,
  ForbiddenError,
  PortNotRunningError,
  SiteToSiteCodecError,
  SiteToSiteConnectionError,
  type SiteToSiteError,
  SiteToSiteHttpError,
  SiteToSiteProtocolError,
  TransactionNotFoundError,
  UnauthorizedError,
  UnknownPortError,
} from './errors.ts';
import { type HttpExchange, httpCall, readText } from './http-call.ts';
import { PeerSelector, type TransferDirection } from './peer-selector.ts';
import {
  HEADERS,
  LOCATION_URI_INTENT_TRANSACTION,
  type PeerStatus,
  PROTOCOL_VERSION,
  parseControllerEntity,
  parseJson,
  parsePeersEntity,
  parseTransactionResult,
  ResponseCode,
  type SiteToSiteDetails,
  type TransactionResult,
} from './protocol.ts';

/** Options of a {@link SiteToSiteClient}. */
export interface SiteToSiteClientOptions {
  /**
   * The remote instance: one URL or several (a cluster), or a comma-separated list. Resolved as
   * NiFi does: `http://host:8080` and `http://host:8080/nifi` both mean `.../nifi-api`.
   */
  readonly url: string | readonly string[];
  /** Client identity as a bearer token (sent as `Authorization: Bearer <token>`). */
  readonly token?: string;
  /** TLS options for https URLs (`ca`, and `cert` + `key` for mutual TLS). Ignored with `agent`. */
  readonly tls?: AgentOptions;
  /** The agent for every request (keep-alive, TLS, proxies); by default a keep-alive agent per client. */
  readonly agent?: Agent;
  /** Compress packets with NiFi's framing (default false). */
  readonly compression?: boolean;
  /** Idle timeout of each request, connecting included (default 30 s). */
  readonly timeoutMs?: number;
  /** Sent as `x-nifi-site-to-site-request-expiration` (default 30 s, as NiFi's client). */
  readonly requestExpirationMs?: number;
  /** Batch limits the server applies when we pull (0 or absent: the server's defaults). */
  readonly batchCount?: number;
  readonly batchSize?: number;
  readonly batchDurationMs?: number;
  /** Ask the remote for its peers and spread load over them (default true); false uses `url` only. */
  readonly usePeers?: boolean;
  /** How long the peer list is cached (default 60 s). */
  readonly peerCacheMs?: number;
  /** How long `GET /site-to-site` answers are cached (default 30 s, as `nifi.remote.contents.cache.expiration`). */
  readonly detailsCacheMs?: number;
  /** How long a peer that failed is skipped (default 30 s). */
  readonly penaltyMs?: number;
  /** Keep-alive period of open transactions; default half the server's TTL; false turns it off. */
  readonly keepAliveIntervalMs?: number | false;
  /** Extra attempts of a confirm whose answer was lost to the network (default 3). */
  readonly confirmRetries?: number;
  /** Limits applied to packets received. */
  readonly decodeLimits?: DecodeLimits;
  /** Where keep-alive failures and peer penalties are reported (debug/warn). */
  readonly logger?: ComponentLogger;
}

/** Outcome of a confirmed push. */
export interface SendResult {
  readonly transactionId: string;
  readonly flowFiles: number;
  readonly bytes: number;
  /** CRC32 both sides agreed on (decimal). */
  readonly checksum: string;
  /** The remote committed but its destination is now full: yield before sending again. */
  readonly destinationFull: boolean;
  /** Where the data went, for provenance (SEND events): the flow-files URL of the transaction. */
  readonly transitUri: string;
}

/** Outcome of a confirmed pull. */
export interface ReceiveResult {
  readonly transactionId: string;
  readonly flowFiles: number;
  readonly bytes: number;
  readonly checksum: string;
  /** Where the data came from, for provenance (RECEIVE events). */
  readonly transitUri: string;
}

/** What a completed upload reported before the confirm. */
export interface SendSummary {
  readonly flowFiles: number;
  readonly bytes: number;
  readonly checksum: string;
}

/** Resolves a user-given URL to the REST base, as NiFi's SiteToSiteRestApiClient.resolveBaseUrl. */
export function resolveBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new TypeError(`"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`"${raw}" is not an http or https URL`);
  let path = url.pathname.trim();
  if (path === '' || path === '/') path = '/nifi';
  else if (path.endsWith('/')) path = path.slice(0, -1);
  if (path.endsWith('/nifi')) path += '-api';
  else if (!path.endsWith('/nifi-api')) path += '/nifi-api';
  return `${url.protocol}//${url.host}${path}`;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Internal state one transaction needs from its client. */
interface TransactionContext {
  readonly call: (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: URL,
    extra?: OutgoingHttpHeaders,
    body?: AsyncIterable<Uint8Array>,
  ) => Promise<HttpExchange>;
  readonly compression: boolean;
  readonly decodeLimits: DecodeLimits;
  readonly confirmRetries: number;
  readonly keepAliveMs: number | false | undefined;
  readonly logger: ComponentLogger | undefined;
}

async function errorFrom(exchange: HttpExchange, what: string, creating: boolean): Promise<SiteToSiteError> {
  let text = '';
  try {
    text = await readText(exchange.body, 64 * 1024);
  } catch {
    // The status says enough.
  } finally {
    exchange.dispose();
  }
  const entity = parseTransactionResult(parseJson(text));
  const code = entity?.responseCode;
  const detail = entity?.message ?? (text.trim().slice(0, 500) || http.STATUS_CODES[exchange.status] || 'no explanation');
  const message = `${what}: ${exchange.status} ${detail}`;
  switch (exchange.status) {
    case 401:
      return new UnauthorizedError(message, 401, code);
    case 403:
      return new ForbiddenError(message, 403, code);
    case 404:
      return creating || code === ResponseCode.UNKNOWN_PORT
        ? new UnknownPortError(message, 404, code)
        : new TransactionNotFoundError(message, 404, code);
    case 503:
      if (code === ResponseCode.PORTS_DESTINATION_FULL) return new DestinationFullError(message, 503, code);
      if (code === ResponseCode.PORT_NOT_IN_VALID_STATE) return new PortNotRunningError(message, 503, code);
      return new SiteToSiteHttpError(message, 503, code);
    default:
      return new SiteToSiteHttpError(message, exchange.status, code);
  }
}

/** Base of both transaction kinds: the URL, keep-alive and the confirm/cancel calls. */
abstract class Transaction {
  /** The transaction id the server assigned. */
  readonly id: string;
  /** The transaction URL (from the server's `Location`). */
  readonly url: URL;
  /** The server's TTL in seconds: without a keep-alive or data, it discards the transaction then. */
  readonly ttlSeconds: number;
  protected readonly context: TransactionContext;
  #keepAlive: NodeJS.Timeout | undefined;
  #extending = false;

  constructor(context: TransactionContext, url: URL, ttlSeconds: number) {
    this.context = context;
    this.url = url;
    this.ttlSeconds = ttlSeconds;
    this.id = decodeURIComponent(
      url.pathname
        .split('/')
        .filter((s) => s !== '')
        .pop() ?? '',
    );
    const period = context.keepAliveMs === false ? undefined : (context.keepAliveMs ?? Math.max(250, (ttlSeconds * 1000) / 2));
    if (period !== undefined) {
      this.#keepAlive = setInterval(() => void this.#extend(), period);
      this.#keepAlive.unref();
    }
  }

  /** The flow-files URL of this transaction (the transit URI for provenance). */
  get transitUri(): string {
    return `${this.url.href}/flow-files`;
  }

  async #extend(): Promise<void> {
    if (this.#extending) return;
    this.#extending = true;
    try {
      const exchange = await this.context.call('PUT', this.url, { accept: 'application/json' });
      if (exchange.status !== 200) throw await errorFrom(exchange, `keep-alive of transaction ${this.id}`, false);
      await readText(exchange.body, 64 * 1024);
      exchange.dispose();
    } catch (error) {
      this.context.logger?.debug(`Site-to-Site keep-alive of transaction ${this.id} failed`, error);
    } finally {
      this.#extending = false;
    }
  }

  /** Stops the keep-alive timer. */
  protected stopKeepAlive(): void {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  /**
   * Sends `DELETE <transaction>?<query>`: a confirm retried when the network eats the answer.
   * @throws {CommitOutcomeUnknownError} when no definite answer came after retries.
   */
  protected async finish(query: string, retry: boolean): Promise<{ status: number; entity: TransactionResult | undefined }> {
    this.stopKeepAlive();
    const url = new URL(`${this.url.href}?${query}`);
    let lost: unknown;
    const attempts = retry ? 1 + this.context.confirmRetries : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await delay(Math.min(2000, 100 * 2 ** (attempt - 2)));
      let exchange: HttpExchange;
      try {
        exchange = await this.context.call('DELETE', url, { accept: 'application/json' });
      } catch (error) {
        if (!retry || !(error instanceof SiteToSiteConnectionError)) throw error;
        lost = error;
        continue;
      }
      if (exchange.status === 404) {
        const error = await errorFrom(exchange, `confirm of transaction ${this.id}`, false);
        // A Sluice server says when it let the transaction expire (nothing committed). Otherwise a
        // 404 after a lost answer is ambiguous: a server without a memory of finished
        // transactions (NiFi) may have committed before forgetting it.
        if (
          lost !== undefined &&
          !(error instanceof SiteToSiteHttpError && error.responseCode === ResponseCode.CANCEL_TRANSACTION)
        )
          throw new CommitOutcomeUnknownError(
            `transaction ${this.id}: the answer to the confirm was lost and the server no longer knows the transaction; it may or may not have committed`,
            { cause: lost },
          );
        throw error;
      }
      if (exchange.status !== 200 && exchange.status !== 400)
        throw await errorFrom(exchange, `confirm of transaction ${this.id}`, false);
      let text: string;
      try {
        text = await readText(exchange.body, 64 * 1024);
      } catch (error) {
        exchange.dispose();
        if (!retry || !(error instanceof SiteToSiteConnectionError)) throw error;
        lost = error;
        continue;
      }
      exchange.dispose();
      return { status: exchange.status, entity: parseTransactionResult(parseJson(text)) };
    }
    throw new CommitOutcomeUnknownError(
      `transaction ${this.id}: no answer to the confirm after ${attempts} attempt(s); the server may or may not have committed`,
      { cause: lost },
    );
  }

  /**
   * Cancels the transaction on the server (`responseCode=15`): it discards or rolls back what it
   * holds. A transaction the server no longer knows counts as cancelled.
   * @throws {SiteToSiteError} when the server cannot be reached or refuses.
   */
  async cancel(): Promise<void> {
    this.stopKeepAlive();
    this.markClosed();
    try {
      const { status, entity } = await this.finish(`responseCode=${ResponseCode.CANCEL_TRANSACTION}`, false);
      if (status !== 200)
        throw new SiteToSiteHttpError(`cancel of transaction ${this.id}: ${status}`, status, entity?.responseCode);
    } catch (error) {
      if (error instanceof TransactionNotFoundError) return;
      throw error;
    }
  }

  /** Marks the transaction as finished locally (no more calls allowed). */
  protected abstract markClosed(): void;
}

/**
 * A push transaction to a remote input port: `send` once, then `confirm` (or `cancel`).
 * The remote holds the data uncommitted until `confirm`.
 */
export class SendTransaction extends Transaction {
  #state: 'open' | 'sending' | 'sent' | 'confirming' | 'done' = 'open';
  #summary: SendSummary | undefined;

  protected markClosed(): void {
    this.#state = 'done';
  }

  /**
   * Streams `packets` to the remote and compares its CRC32 with ours.
   * @throws {BadChecksumError} on a mismatch (the server was told and discarded the data).
   * @throws {DestinationFullError} if the port's destination filled up; other
   * {@link SiteToSiteError}s on refusals, lost connections and malformed answers.
   */
  async send(packets: AsyncIterable<DataPacket> | Iterable<DataPacket>): Promise<SendSummary> {
    if (this.#state !== 'open') throw new Error(`transaction ${this.id}: send() runs once, on an open transaction`);
    this.#state = 'sending';
    const crc = new Crc32();
    let flowFiles = 0;
    let bytes = 0;
    // Counted as they are encoded; a synchronous source stays synchronous (cheaper per packet).
    const countedSync = function* (source: Iterable<DataPacket>): Generator<DataPacket> {
      for (const packet of source) {
        flowFiles++;
        bytes += packet.size;
        yield packet;
      }
    };
    const countedAsync = async function* (source: AsyncIterable<DataPacket>): AsyncGenerator<DataPacket> {
      for await (const packet of source) {
        flowFiles++;
        bytes += packet.size;
        yield packet;
      }
    };
    const counted = isSync(packets) ? countedSync(packets) : countedAsync(packets);
    const body = encodeDataPackets(counted, { compressed: this.context.compression, crc });
    let remote: string;
    try {
      const exchange = await this.context.call(
        'POST',
        new URL(this.transitUri),
        { 'content-type': 'application/octet-stream', accept: 'text/plain' },
        body,
      );
      if (exchange.status !== 202) throw await errorFrom(exchange, `sending to transaction ${this.id}`, false);
      try {
        remote = (await readText(exchange.body, 1024)).trim();
      } finally {
        exchange.dispose();
      }
    } catch (error) {
      this.#state = 'done';
      this.stopKeepAlive();
      throw error;
    }
    const local = crc.toString();
    if (remote !== local) {
      this.#state = 'done';
      await this.finish(`responseCode=${ResponseCode.BAD_CHECKSUM}`, false).catch(() => undefined);
      throw new BadChecksumError(
        `transaction ${this.id}: the server computed CRC32 ${remote || '(none)'} over the data but we sent ${local}; it discarded the data`,
        local,
        remote,
      );
    }
    this.#state = 'sent';
    this.#summary = { flowFiles, bytes, checksum: local };
    return this.#summary;
  }

  /**
   * Tells the server to commit (`responseCode=12`); resolve means the data is committed there.
   * @throws {CommitOutcomeUnknownError} when the answer was lost even after retries.
   * @throws {TransactionNotFoundError} when the transaction had expired (nothing committed).
   */
  async confirm(): Promise<SendResult> {
    const summary = this.#summary;
    if (this.#state !== 'sent' || summary === undefined)
      throw new Error(`transaction ${this.id}: confirm() needs a completed send()`);
    this.#state = 'confirming';
    try {
      const { status, entity } = await this.finish(`responseCode=${ResponseCode.CONFIRM_TRANSACTION}`, true);
      const code = entity?.responseCode;
      if (
        status !== 200 ||
        (code !== ResponseCode.TRANSACTION_FINISHED && code !== ResponseCode.TRANSACTION_FINISHED_BUT_DESTINATION_FULL)
      )
        throw new SiteToSiteProtocolError(
          `confirm of transaction ${this.id}: expected TRANSACTION_FINISHED but got ${status} with response code ${code ?? 'none'}`,
        );
      return {
        transactionId: this.id,
        ...summary,
        destinationFull: code === ResponseCode.TRANSACTION_FINISHED_BUT_DESTINATION_FULL,
        transitUri: this.transitUri,
      };
    } finally {
      this.#state = 'done';
    }
  }
}

/**
 * A pull transaction from a remote output port: read `packets()` once, then `confirm` (or
 * `cancel`). The remote holds what it sent until `confirm` (or its TTL) decides.
 */
export class ReceiveTransaction extends Transaction {
  #state: 'open' | 'receiving' | 'received' | 'empty' | 'confirming' | 'done' = 'open';
  readonly #crc = new Crc32();
  #flowFiles = 0;
  #bytes = 0;

  protected markClosed(): void {
    this.#state = 'done';
  }

  /** FlowFiles received so far. */
  get flowFiles(): number {
    return this.#flowFiles;
  }

  /**
   * The packets the remote sends (none when it has no data). Each packet's content must be read
   * (or skipped) before the next one.
   * @throws {SiteToSiteCodecError} on malformed data; {@link SiteToSiteConnectionError} when cut.
   */
  async *packets(): AsyncGenerator<ReceivedDataPacket> {
    if (this.#state !== 'open') throw new Error(`transaction ${this.id}: packets() runs once, on an open transaction`);
    this.#state = 'receiving';
    let exchange: HttpExchange | undefined;
    try {
      exchange = await this.context.call('GET', new URL(this.transitUri), { accept: 'application/octet-stream' });
      if (exchange.status === 200) {
        await readText(exchange.body, 1024 * 1024);
        this.#state = 'empty';
        this.stopKeepAlive();
        return;
      }
      if (exchange.status !== 202) throw await errorFrom(exchange, `receiving from transaction ${this.id}`, false);
      const packets = decodeDataPackets(exchange.body, {
        compressed: this.context.compression,
        crc: this.#crc,
        limits: this.context.decodeLimits,
      });
      try {
        for await (const packet of packets) {
          this.#flowFiles++;
          this.#bytes += packet.size;
          yield packet;
        }
      } catch (error) {
        if (error instanceof SiteToSiteCodecError) throw error;
        throw new SiteToSiteConnectionError(
          `receiving from transaction ${this.id}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      this.#state = 'received';
    } finally {
      exchange?.dispose();
      if (this.#state === 'receiving') {
        // Failed, or the consumer stopped early: this transaction cannot be confirmed.
        this.#state = 'done';
        this.stopKeepAlive();
      }
    }
  }

  /**
   * Sends our CRC32 with the confirm (`responseCode=12&checksum=...`); resolve means the server
   * verified it and committed (removed the data from its port). Nothing to do after an empty pull.
   * @throws {BadChecksumError} when the server's checksum differs (it rolled back: the data will
   * come again); {@link CommitOutcomeUnknownError} when the answer was lost even after retries.
   */
  async confirm(): Promise<ReceiveResult> {
    const checksum = this.#crc.toString();
    const result = {
      transactionId: this.id,
      flowFiles: this.#flowFiles,
      bytes: this.#bytes,
      checksum,
      transitUri: this.transitUri,
    };
    if (this.#state === 'empty') {
      this.#state = 'done';
      return result;
    }
    if (this.#state !== 'received') throw new Error(`transaction ${this.id}: confirm() needs all packets read`);
    this.#state = 'confirming';
    try {
      const { status, entity } = await this.finish(
        `responseCode=${ResponseCode.CONFIRM_TRANSACTION}&checksum=${encodeURIComponent(checksum)}`,
        true,
      );
      if (status === 400 && entity?.responseCode === ResponseCode.BAD_CHECKSUM)
        throw new BadChecksumError(
          `transaction ${this.id}: our CRC32 ${checksum} differs from the server's; it rolled back and will send the data again`,
          checksum,
          undefined,
        );
      if (status !== 200 || entity?.responseCode !== ResponseCode.CONFIRM_TRANSACTION)
        throw new SiteToSiteProtocolError(
          `confirm of transaction ${this.id}: expected CONFIRM_TRANSACTION but got ${status} with response code ${entity?.responseCode ?? 'none'}`,
        );
      return result;
    } finally {
      this.#state = 'done';
    }
  }
}

/**
 * The Site-to-Site HTTP client for one remote instance or cluster.
 *
 * @example
 * const client = new SiteToSiteClient({ url: 'http://core:8080', token });
 * const port = await client.resolvePortId('from-edge', 'send');
 * const result = await client.send(port, [{ attributes: new Map([['filename', 'a.txt']]), size: 2, content: Buffer.from('hi') }]);
 */
export class SiteToSiteClient {
  readonly #bases: readonly string[];
  readonly #options: SiteToSiteClientOptions;
  readonly #agents: { http: Agent; https: Agent } | undefined;
  readonly #selector: PeerSelector;
  readonly #context: TransactionContext;
  #details: { value: SiteToSiteDetails; at: number } | undefined;

  /** @throws {TypeError} when a URL is not an http(s) URL. */
  constructor(options: SiteToSiteClientOptions) {
    const urls = (typeof options.url === 'string' ? [options.url] : options.url)
      .flatMap((u) => u.split(','))
      .map((u) => u.trim())
      .filter((u) => u !== '');
    if (urls.length === 0) throw new TypeError('a Site-to-Site client needs at least one remote URL');
    this.#bases = [...new Set(urls.map(resolveBaseUrl))];
    this.#options = options;
    this.#agents =
      options.agent === undefined
        ? { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true, ...options.tls }) }
        : undefined;
    this.#selector = new PeerSelector({
      fetchPeers: () => (options.usePeers === false ? Promise.resolve(this.#bases.map(peerOfBase)) : this.peers()),
      cacheMs: options.peerCacheMs ?? 60_000,
    });
    this.#context = {
      call: (method, url, extra, body) => this.#call(method, url, extra, body),
      compression: options.compression === true,
      decodeLimits: options.decodeLimits ?? {},
      confirmRetries: options.confirmRetries ?? 3,
      keepAliveMs: options.keepAliveIntervalMs,
      logger: options.logger,
    };
  }

  /** The REST base URLs in use, resolved (e.g. `http://host:8080/nifi-api`). */
  get baseUrls(): readonly string[] {
    return this.#bases;
  }

  #headers(extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
    const o = this.#options;
    const headers: OutgoingHttpHeaders = { [HEADERS.protocolVersion]: String(PROTOCOL_VERSION), ...extra };
    if (o.compression === true) headers[HEADERS.useCompression] = 'true';
    const expiration = o.requestExpirationMs ?? 30_000;
    if (expiration > 0) headers[HEADERS.requestExpiration] = String(expiration);
    if ((o.batchCount ?? 0) > 0) headers[HEADERS.batchCount] = String(o.batchCount);
    if ((o.batchSize ?? 0) > 0) headers[HEADERS.batchSize] = String(o.batchSize);
    if ((o.batchDurationMs ?? 0) > 0) headers[HEADERS.batchDuration] = String(o.batchDurationMs);
    if (o.token !== undefined) headers['authorization'] = `Bearer ${o.token}`;
    return headers;
  }

  #call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: URL,
    extra?: OutgoingHttpHeaders,
    body?: AsyncIterable<Uint8Array>,
  ): Promise<HttpExchange> {
    const agent = this.#options.agent ?? (url.protocol === 'https:' ? this.#agents?.https : this.#agents?.http);
    return httpCall({
      method,
      url,
      headers: this.#headers(extra),
      ...(body === undefined ? {} : { body }),
      agent,
      timeoutMs: this.#options.timeoutMs ?? 30_000,
    });
  }

  async #getJson(base: string, path: string, what: string): Promise<unknown> {
    const exchange = await this.#call('GET', new URL(`${base}${path}`), { accept: 'application/json' });
    if (exchange.status !== 200) throw await errorFrom(exchange, what, false);
    try {
      const text = await readText(exchange.body);
      const json = parseJson(text);
      if (json === undefined)
        throw new SiteToSiteProtocolError(
          `${what}: ${base} answered with something other than JSON; is it a Site-to-Site endpoint?`,
        );
      return json;
    } finally {
      exchange.dispose();
    }
  }

  async #firstAnswer<T>(fetch: (base: string) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const base of this.#bases) {
      try {
        return await fetch(base);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /**
   * `GET /nifi-api/site-to-site` from the first URL that answers (cached for `detailsCacheMs`).
   * @throws {SiteToSiteError} when none answers (the last URL's error).
   */
  async details(): Promise<SiteToSiteDetails> {
    const cached = this.#details;
    if (cached !== undefined && Date.now() - cached.at < (this.#options.detailsCacheMs ?? 30_000)) return cached.value;
    const value = await this.#firstAnswer(async (base) =>
      parseControllerEntity(await this.#getJson(base, '/site-to-site', 'site-to-site details')),
    );
    this.#details = { value, at: Date.now() };
    return value;
  }

  /**
   * `GET /nifi-api/site-to-site/peers` from the first URL that answers (not cached; the
   * selection caches).
   */
  async peers(): Promise<PeerStatus[]> {
    return this.#firstAnswer(async (base) => parsePeersEntity(await this.#getJson(base, '/site-to-site/peers', 'peer list')));
  }

  /**
   * The id of the remote port called `nameOrId` (an id is accepted as is when listed), input ports
   * for `send`, output ports for `receive`.
   * @throws {UnknownPortError} when the remote lists no such port to us.
   */
  async resolvePortId(nameOrId: string, direction: TransferDirection): Promise<string> {
    const details = await this.details();
    const ports = direction === 'send' ? details.inputPorts : details.outputPorts;
    const port = ports.find((p) => p.id === nameOrId) ?? ports.find((p) => p.name === nameOrId);
    if (port === undefined)
      throw new UnknownPortError(
        `the remote lists no ${direction === 'send' ? 'input' : 'output'} port "${nameOrId}" that we may use`,
        404,
        ResponseCode.UNKNOWN_PORT,
      );
    return port.id;
  }

  #baseFor(peer: PeerStatus): string {
    const scheme = peer.secure ? 'https' : 'http';
    const host = peer.hostname.includes(':') && !peer.hostname.startsWith('[') ? `[${peer.hostname}]` : peer.hostname;
    const configured = this.#bases.find((base) => {
      const u = new URL(base);
      return (
        u.protocol === `${scheme}:` && u.hostname === host && Number(u.port || (scheme === 'https' ? 443 : 80)) === peer.port
      );
    });
    if (configured !== undefined) return configured;
    const path = new URL(this.#bases[0] ?? 'http://localhost/nifi-api').pathname;
    return `${scheme}://${host}:${peer.port}${path}`;
  }

  /** Chooses the peer for the next transaction (weighted by load, penalized peers skipped). */
  async selectPeer(direction: TransferDirection): Promise<PeerStatus> {
    return this.#selector.select(direction);
  }

  /** Skips `peer` for the penalty period (call after a failure that is the peer's fault). */
  penalize(peer: PeerStatus, ms: number = this.#options.penaltyMs ?? 30_000): void {
    this.#selector.penalize(peer, ms);
    this.#options.logger?.debug(`Site-to-Site peer ${peer.hostname}:${peer.port} penalized for ${ms} ms`);
  }

  async #open(direction: TransferDirection, portId: string, peer: PeerStatus): Promise<{ url: URL; ttl: number }> {
    const base = this.#baseFor(peer);
    const kind = direction === 'send' ? 'input-ports' : 'output-ports';
    const url = new URL(`${base}/data-transfer/${kind}/${encodeURIComponent(portId)}/transactions`);
    const exchange = await this.#call('POST', url, { accept: 'application/json' });
    if (exchange.status !== 201) throw await errorFrom(exchange, `opening a transaction on port ${portId}`, true);
    try {
      await readText(exchange.body, 64 * 1024);
    } finally {
      exchange.dispose();
    }
    const intent = exchange.headers[HEADERS.locationUriIntent];
    const location = exchange.headers.location;
    if (intent !== LOCATION_URI_INTENT_TRANSACTION || location === undefined || location === '')
      throw new SiteToSiteProtocolError('the server created a transaction without a transaction-url Location');
    if (exchange.headers[HEADERS.protocolVersion] === undefined)
      throw new SiteToSiteProtocolError("the server didn't confirm the protocol version");
    const ttl = Number(exchange.headers[HEADERS.serverTransactionTtl]);
    if (!Number.isInteger(ttl) || ttl <= 0)
      throw new SiteToSiteProtocolError(`the server sent no usable ${HEADERS.serverTransactionTtl}`);
    return { url: new URL(location, url), ttl };
  }

  /**
   * Opens a push transaction on remote input port `portId` with the given peer (or one chosen by
   * load).
   * @throws {UnknownPortError} (404), {@link DestinationFullError} or {@link PortNotRunningError}
   * (503), {@link UnauthorizedError} (401), {@link ForbiddenError} (403), or connection errors.
   */
  async createSendTransaction(portId: string, peer?: PeerStatus): Promise<SendTransaction> {
    const { url, ttl } = await this.#open('send', portId, peer ?? (await this.selectPeer('send')));
    return new SendTransaction(this.#context, url, ttl);
  }

  /** Opens a pull transaction on remote output port `portId`; errors as {@link createSendTransaction}. */
  async createReceiveTransaction(portId: string, peer?: PeerStatus): Promise<ReceiveTransaction> {
    const { url, ttl } = await this.#open('receive', portId, peer ?? (await this.selectPeer('receive')));
    return new ReceiveTransaction(this.#context, url, ttl);
  }

  #blame(peer: PeerStatus, error: unknown): void {
    const peerFault =
      error instanceof SiteToSiteConnectionError ||
      error instanceof CommitOutcomeUnknownError ||
      (error instanceof SiteToSiteHttpError && error.status >= 500 && error.status !== 503);
    if (peerFault) this.penalize(peer);
  }

  /**
   * One whole push: chooses a peer, opens a transaction, streams `packets`, compares checksums
   * and confirms. When it resolves the remote has committed: commit locally. When it throws,
   * roll back locally (it cancelled on the remote where it could). With no packets it contacts
   * nobody.
   * @throws {DestinationFullError} remote full (yield); {@link BadChecksumError} data damaged
   * (retry); {@link CommitOutcomeUnknownError} confirm unanswered (roll back, maybe a duplicate);
   * any other {@link SiteToSiteError}.
   */
  async send(portId: string, packets: AsyncIterable<DataPacket> | Iterable<DataPacket>): Promise<SendResult> {
    // Peek: with nothing to send, open no transaction (a server answers an empty send with 400).
    const rest = await peeked(packets);
    if (rest === undefined)
      return { transactionId: '', flowFiles: 0, bytes: 0, checksum: '0', destinationFull: false, transitUri: '' };
    const peer = await this.selectPeer('send');
    let transaction: SendTransaction | undefined;
    try {
      transaction = await this.createSendTransaction(portId, peer);
      await transaction.send(rest);
      return await transaction.confirm();
    } catch (error) {
      if (transaction !== undefined && !(error instanceof CommitOutcomeUnknownError) && !(error instanceof BadChecksumError))
        await transaction.cancel().catch(() => undefined);
      this.#blame(peer, error);
      throw error;
    }
  }

  /**
   * One whole pull: opens a transaction on output port `portId`, hands each packet to
   * `onPacket` (which must stage it, reading its content, without committing), then confirms.
   * When it resolves, commit what was staged. On {@link CommitOutcomeUnknownError} commit too
   * (at-least-once); on any other error discard what was staged. `onEnd` runs after the last
   * packet and before the confirm (finish staging there: a failure then still cancels).
   */
  async receive(
    portId: string,
    onPacket: (packet: ReceivedDataPacket) => Promise<void> | void,
    onEnd?: () => Promise<void> | void,
  ): Promise<ReceiveResult> {
    const peer = await this.selectPeer('receive');
    let transaction: ReceiveTransaction | undefined;
    try {
      transaction = await this.createReceiveTransaction(portId, peer);
      for await (const packet of transaction.packets()) await onPacket(packet);
      await onEnd?.();
      return await transaction.confirm();
    } catch (error) {
      if (transaction !== undefined && !(error instanceof CommitOutcomeUnknownError) && !(error instanceof BadChecksumError))
        await transaction.cancel().catch(() => undefined);
      this.#blame(peer, error);
      throw error;
    }
  }

  /** Closes idle connections of the client's own agents. */
  close(): void {
    this.#agents?.http.destroy();
    this.#agents?.https.destroy();
  }
}

function isSync<T>(items: AsyncIterable<T> | Iterable<T>): items is Iterable<T> {
  return Symbol.iterator in items && !(Symbol.asyncIterator in items);
}

/**
 * `items` with its first item already taken (and put back in front), or undefined when it has none.
 * A synchronous source stays synchronous.
 */
async function peeked<T>(items: AsyncIterable<T> | Iterable<T>): Promise<AsyncIterable<T> | Iterable<T> | undefined> {
  if (isSync(items)) {
    const iterator = items[Symbol.iterator]();
    const first = iterator.next();
    if (first.done === true) return undefined;
    return (function* (): Generator<T> {
      yield first.value;
      try {
        for (let next = iterator.next(); next.done !== true; next = iterator.next()) yield next.value;
      } finally {
        iterator.return?.();
      }
    })();
  }
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) return undefined;
  return (async function* (): AsyncGenerator<T> {
    yield first.value;
    try {
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
  })();
}

function peerOfBase(base: string): PeerStatus {
  const url = new URL(base);
  const secure = url.protocol === 'https:';
  return { hostname: url.hostname, port: Number(url.port || (secure ? 443 : 80)), secure, flowFileCount: 0 };
}
