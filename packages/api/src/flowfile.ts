/**
 * The FlowFile as a processor sees it: immutable attributes plus a handle on content that only the
 * session can read. Every change made through a {@link ProcessSession} returns a new version; the
 * old object stays valid but stale (passing a stale version back to the session is an error).
 */
export interface FlowFile {
  /** Time-ordered UUIDv7, identical to the `uuid` attribute. */
  readonly uuid: string;
  /** Content length in bytes. */
  readonly size: number;
  /** Epoch ms when this FlowFile entered this instance. */
  readonly entryDate: number;
  /** Epoch ms of the entry of its oldest ancestor: end-to-end latency is `now - lineageStartDate`. */
  readonly lineageStartDate: number;
  /** Epoch ms before which the FlowFile is penalized (0 when it is not). */
  readonly penaltyExpiration: number;
  /** All attributes, including the core ones. Never contains `__proto__`-style traps: it is a Map. */
  readonly attributes: ReadonlyMap<string, string>;
  /** Shorthand for `attributes.get(name)`. */
  getAttribute(name: string): string | undefined;
}

/** Attribute names every FlowFile carries or that the framework interprets. */
export const CoreAttributes = {
  UUID: 'uuid',
  FILENAME: 'filename',
  PATH: 'path',
  ABSOLUTE_PATH: 'absolute.path',
  MIME_TYPE: 'mime.type',
  PRIORITY: 'priority',
  DISCARD_REASON: 'discard.reason',
  ALTERNATE_IDENTIFIER: 'alternate.identifier',
} as const;

/** Attribute names that must never be used as keys of plain objects. */
export const FORBIDDEN_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
