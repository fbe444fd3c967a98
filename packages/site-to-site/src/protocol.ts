/**
 * Site-to-Site HTTP protocol facts shared by the client and the server: header names
 * (`remote/protocol/http/HttpHeaders.java`), response codes (`remote/protocol/ResponseCode.java`)
 * and the JSON entities NiFi exchanges (ControllerEntity, PeersEntity, TransactionResultEntity),
 * with parsers for what arrives from the other side.
 */
import { SiteToSiteProtocolError } from './errors.ts';

/** The only HTTP transport protocol version (it maps to transaction protocol version 5). */
export const PROTOCOL_VERSION = 1;

/** HTTP header names, lower case as Node reports them. */
export const HEADERS = {
  protocolVersion: 'x-nifi-site-to-site-protocol-version',
  serverTransactionTtl: 'x-nifi-site-to-site-server-transaction-ttl',
  useCompression: 'x-nifi-site-to-site-use-compression',
  requestExpiration: 'x-nifi-site-to-site-request-expiration',
  batchCount: 'x-nifi-site-to-site-batch-count',
  batchSize: 'x-nifi-site-to-site-batch-size',
  batchDuration: 'x-nifi-site-to-site-batch-duration',
  locationUriIntent: 'x-location-uri-intent',
} as const;

/** Value of `x-location-uri-intent` when `Location` is a transaction URL. */
export const LOCATION_URI_INTENT_TRANSACTION = 'transaction-url';

/** Site-to-Site response codes (on the RAW wire `R`,`C`,code; in HTTP as JSON or query values). */
export const ResponseCode = {
  PROPERTIES_OK: 1,
  UNKNOWN_PROPERTY_NAME: 230,
  ILLEGAL_PROPERTY_VALUE: 231,
  MISSING_PROPERTY: 232,
  CONTINUE_TRANSACTION: 10,
  FINISH_TRANSACTION: 11,
  CONFIRM_TRANSACTION: 12,
  TRANSACTION_FINISHED: 13,
  TRANSACTION_FINISHED_BUT_DESTINATION_FULL: 14,
  CANCEL_TRANSACTION: 15,
  BAD_CHECKSUM: 19,
  MORE_DATA: 20,
  NO_MORE_DATA: 21,
  UNKNOWN_PORT: 200,
  PORT_NOT_IN_VALID_STATE: 201,
  PORTS_DESTINATION_FULL: 202,
  UNAUTHORIZED: 240,
  ABORT: 250,
  UNRECOGNIZED_RESPONSE_CODE: 254,
  END_OF_STREAM: 255,
} as const;

/** NiFi's TransactionResultEntity: the JSON body of transaction calls and of most errors. */
export interface TransactionResult {
  readonly responseCode: number;
  readonly message?: string;
  readonly flowFileSent: number;
}

/** A port as listed by `GET /nifi-api/site-to-site` (the fields of NiFi's PortDTO a client uses). */
export interface RemotePort {
  readonly id: string;
  readonly name: string;
  readonly comments?: string;
  /** "RUNNING", "STOPPED" or "DISABLED". */
  readonly state?: string;
}

/** What `GET /nifi-api/site-to-site` tells about a remote instance (NiFi's ControllerDTO). */
export interface SiteToSiteDetails {
  readonly id: string;
  readonly name: string;
  readonly comments?: string;
  /** The HTTP(S) port for Site-to-Site; absent when the server hides it from old clients. */
  readonly remoteSiteHttpListeningPort?: number;
  /** The RAW socket port; absent when RAW is disabled (always, for Sluice). */
  readonly remoteSiteListeningPort?: number;
  readonly siteToSiteSecure: boolean;
  readonly inputPorts: readonly RemotePort[];
  readonly outputPorts: readonly RemotePort[];
}

/** One peer of a remote instance (NiFi's PeerDTO). */
export interface PeerStatus {
  readonly hostname: string;
  readonly port: number;
  readonly secure: boolean;
  /** FlowFiles queued on that peer: the load used for weighting. */
  readonly flowFileCount: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** Parses a JSON text, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads a TransactionResultEntity; undefined when the body is not one (e.g. a plain-text error). */
export function parseTransactionResult(body: unknown): TransactionResult | undefined {
  if (!isRecord(body)) return undefined;
  const responseCode = optionalInt(body['responseCode']);
  if (responseCode === undefined) return undefined;
  const message = optionalString(body['message']);
  const flowFileSent = optionalInt(body['flowFileSent']) ?? 0;
  return message === undefined ? { responseCode, flowFileSent } : { responseCode, message, flowFileSent };
}

function parsePorts(value: unknown, what: string): RemotePort[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SiteToSiteProtocolError(`site-to-site details: ${what} is not a list`);
  const ports: RemotePort[] = [];
  for (const item of value) {
    if (!isRecord(item)) continue;
    const id = optionalString(item['id']);
    const name = optionalString(item['name']);
    if (id === undefined || name === undefined) continue;
    const comments = optionalString(item['comments']);
    const state = optionalString(item['state']);
    ports.push({ id, name, ...(comments === undefined ? {} : { comments }), ...(state === undefined ? {} : { state }) });
  }
  return ports;
}

/**
 * Reads NiFi's ControllerEntity (`{"controller": {...}}`).
 * @throws {SiteToSiteProtocolError} when the body is not one.
 */
export function parseControllerEntity(body: unknown): SiteToSiteDetails {
  const controller = isRecord(body) ? body['controller'] : undefined;
  if (!isRecord(controller))
    throw new SiteToSiteProtocolError('the remote is not a Site-to-Site endpoint: no "controller" object in its answer');
  const id = optionalString(controller['id']) ?? '';
  const name = optionalString(controller['name']) ?? '';
  const comments = optionalString(controller['comments']);
  const httpPort = optionalInt(controller['remoteSiteHttpListeningPort']);
  const rawPort = optionalInt(controller['remoteSiteListeningPort']);
  return {
    id,
    name,
    ...(comments === undefined ? {} : { comments }),
    ...(httpPort === undefined ? {} : { remoteSiteHttpListeningPort: httpPort }),
    ...(rawPort === undefined ? {} : { remoteSiteListeningPort: rawPort }),
    siteToSiteSecure: controller['siteToSiteSecure'] === true,
    inputPorts: parsePorts(controller['inputPorts'], 'inputPorts'),
    outputPorts: parsePorts(controller['outputPorts'], 'outputPorts'),
  };
}

/**
 * Reads NiFi's PeersEntity (`{"peers": [{hostname, port, secure, flowFileCount}]}`).
 * @throws {SiteToSiteProtocolError} when the body is not one.
 */
export function parsePeersEntity(body: unknown): PeerStatus[] {
  const peers = isRecord(body) ? body['peers'] : undefined;
  if (!Array.isArray(peers)) throw new SiteToSiteProtocolError('the remote sent no "peers" list');
  const out: PeerStatus[] = [];
  for (const item of peers) {
    if (!isRecord(item)) continue;
    const hostname = optionalString(item['hostname']);
    const port = optionalInt(item['port']);
    if (hostname === undefined || hostname === '' || port === undefined || port <= 0 || port > 65535) continue;
    out.push({
      hostname,
      port,
      secure: item['secure'] === true,
      flowFileCount: Math.max(0, optionalInt(item['flowFileCount']) ?? 0),
    });
  }
  return out;
}
