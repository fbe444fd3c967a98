/** Base class of every Site-to-Site failure, so callers can catch the family at once. */
export class SiteToSiteError extends Error {
  override readonly name: string = 'SiteToSiteError';
}

/**
 * A malformed frame: a packet (codec v1) or a compression block that breaks the format. Says which
 * field was wrong and at which byte of which stream; the reader stops there and nothing crashes.
 */
export class SiteToSiteCodecError extends SiteToSiteError {
  override readonly name: string = 'SiteToSiteCodecError';
  constructor(
    readonly detail: string,
    /** The field being read, e.g. "attribute 3's key length". */
    readonly field: string,
    /** Byte offset of the field in `stream`. */
    readonly offset: number,
    /** Which stream the offset counts in: the packet stream or the compressed stream. */
    readonly stream: 'packet stream' | 'compressed stream' = 'packet stream',
  ) {
    super(`${detail} (${field}, at byte ${offset} of the ${stream})`);
  }
}

/**
 * The remote answered with an HTTP error. `status` is the HTTP status and `responseCode` the
 * Site-to-Site response code from the body (NiFi's TransactionResultEntity), when it sent one.
 */
export class SiteToSiteHttpError extends SiteToSiteError {
  override readonly name: string = 'SiteToSiteHttpError';
  constructor(
    message: string,
    readonly status: number,
    readonly responseCode: number | undefined,
  ) {
    super(message);
  }
}

/**
 * The remote port's destination is full (503, PORTS_DESTINATION_FULL). Not a failure of the
 * remote: the caller rolls back and yields, then tries again.
 */
export class DestinationFullError extends SiteToSiteHttpError {
  override readonly name: string = 'DestinationFullError';
}

/** The remote port exists but is stopped or invalid (503, PORT_NOT_IN_VALID_STATE). */
export class PortNotRunningError extends SiteToSiteHttpError {
  override readonly name: string = 'PortNotRunningError';
}

/** No such port on the remote (404, UNKNOWN_PORT), or none by the name asked for. */
export class UnknownPortError extends SiteToSiteHttpError {
  override readonly name: string = 'UnknownPortError';
}

/** The remote no longer knows the transaction: it expired (TTL) or never existed (404). */
export class TransactionNotFoundError extends SiteToSiteHttpError {
  override readonly name: string = 'TransactionNotFoundError';
}

/** The remote needs a client identity and got none or an unknown one (401). */
export class UnauthorizedError extends SiteToSiteHttpError {
  override readonly name: string = 'UnauthorizedError';
}

/** The client identity is known but not allowed to use this port or endpoint (403). */
export class ForbiddenError extends SiteToSiteHttpError {
  override readonly name: string = 'ForbiddenError';
}

/**
 * The two ends computed different CRC32 checksums: the data was damaged on the way. The
 * transaction was cancelled on the remote (nothing committed there); roll back and retry.
 */
export class BadChecksumError extends SiteToSiteError {
  override readonly name: string = 'BadChecksumError';
  constructor(
    message: string,
    readonly localChecksum: string,
    readonly remoteChecksum: string | undefined,
  ) {
    super(message);
  }
}

/** The connection failed or was cut before a full answer arrived. */
export class SiteToSiteConnectionError extends SiteToSiteError {
  override readonly name: string = 'SiteToSiteConnectionError';
}

/** No byte moved for longer than the configured timeout. */
export class SiteToSiteTimeoutError extends SiteToSiteConnectionError {
  override readonly name: string = 'SiteToSiteTimeoutError';
}

/**
 * A confirm was sent but no definite answer came back, even after retries: the remote may or may
 * not have committed. To stay at-least-once, a sender rolls back (the data is sent again, maybe a
 * duplicate) and a receiver commits what it received (the remote may send it again).
 */
export class CommitOutcomeUnknownError extends SiteToSiteError {
  override readonly name: string = 'CommitOutcomeUnknownError';
}

/** Every known peer is penalized or none could be listed; yield and try later. */
export class NoPeerAvailableError extends SiteToSiteError {
  override readonly name: string = 'NoPeerAvailableError';
}

/** The remote answered something the protocol does not allow (missing header, odd JSON). */
export class SiteToSiteProtocolError extends SiteToSiteError {
  override readonly name: string = 'SiteToSiteProtocolError';
}
