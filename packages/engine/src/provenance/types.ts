import type { ContentClaim } from '../flowfile/claim.ts';
import type { LogSink } from '../logging.ts';

/** The 18 provenance event types of NiFi (reference/nifi.md §1.4). */
export const PROVENANCE_EVENT_TYPES = [
  'CREATE',
  'RECEIVE',
  'FETCH',
  'SEND',
  'UPLOAD',
  'REMOTE_INVOCATION',
  'DOWNLOAD',
  'DROP',
  'EXPIRE',
  'FORK',
  'JOIN',
  'CLONE',
  'CONTENT_MODIFIED',
  'ATTRIBUTES_MODIFIED',
  'ROUTE',
  'ADDINFO',
  'REPLAY',
  'UNKNOWN',
] as const;
export type ProvenanceEventType = (typeof PROVENANCE_EVENT_TYPES)[number];

/**
 * An event as the session hands it to the repository. Attribute maps arrive as JSON object text
 * (the FlowFile's cached form) so the hot path never serializes them twice.
 */
export interface ProvenanceEventInput {
  readonly eventType: ProvenanceEventType;
  readonly eventTime: number;
  readonly eventDurationMs?: number;
  readonly flowFileUuid: string;
  readonly fileSize: number;
  readonly previousFileSize?: number;
  readonly lineageStartDate: number;
  readonly flowFileEntryDate: number;
  readonly componentId: string;
  readonly componentType: string;
  readonly componentName?: string;
  readonly transitUri?: string;
  readonly sourceSystemFlowFileId?: string;
  readonly alternateIdentifierUri?: string;
  readonly details?: string;
  readonly relationship?: string;
  /** Connection the FlowFile was taken from (replay re-queues there). */
  readonly sourceQueueId?: string;
  readonly parentUuids?: readonly string[];
  readonly childUuids?: readonly string[];
  /** All attributes after the event, as JSON object text. */
  readonly attributesJson: string;
  /** Attributes before the event (JSON object text), when they differ from after. */
  readonly previousAttributesJson?: string;
  readonly contentClaim?: ContentClaim | null;
  readonly previousContentClaim?: ContentClaim | null;
}

/** A stored event, as queries return it. */
export interface ProvenanceEventRecord {
  readonly eventId: number;
  readonly eventType: ProvenanceEventType;
  readonly eventTime: number;
  readonly eventDurationMs: number | null;
  readonly flowFileUuid: string;
  readonly fileSize: number;
  readonly previousFileSize: number | null;
  readonly lineageStartDate: number;
  readonly flowFileEntryDate: number;
  readonly componentId: string;
  readonly componentType: string;
  readonly componentName: string | null;
  readonly transitUri: string | null;
  readonly sourceSystemFlowFileId: string | null;
  readonly alternateIdentifierUri: string | null;
  readonly details: string | null;
  readonly relationship: string | null;
  readonly sourceQueueId: string | null;
  readonly parentUuids: readonly string[];
  readonly childUuids: readonly string[];
  readonly attributes: ReadonlyMap<string, string>;
  readonly previousAttributes: ReadonlyMap<string, string>;
  readonly contentClaim: ContentClaim | null;
  readonly previousContentClaim: ContentClaim | null;
}

/** Search criteria; all given criteria must match. Results newest first. */
export interface ProvenanceQuery {
  readonly componentId?: string;
  readonly eventType?: ProvenanceEventType;
  /**
   * Events of this FlowFile, including (as NiFi does) the events that name it as a parent or a child:
   * searching a split's uuid finds the FORK that created it, searching a merged input finds the JOIN.
   */
  readonly flowFileUuid?: string;
  /** Exact match on the `filename` attribute. */
  readonly filename?: string;
  /**
   * Exact match of an attribute value (after the event). Not indexed: the candidates selected by the
   * other criteria are read newest first and filtered, at most {@link ATTRIBUTE_SCAN_LIMIT} of them per
   * call: about 1.2 s per 1,000,000 events scanned (2-vCPU VM), so combine it with an indexed
   * criterion or a time range, which bring it down to milliseconds.
   */
  readonly attribute?: { readonly name: string; readonly value: string };
  readonly startTime?: number;
  readonly endTime?: number;
  /** Default 1,000; at most 10,000. */
  readonly limit?: number;
  /** Only events with an id below this (for paging newest-first). */
  readonly beforeEventId?: number;
}

/** A lineage graph: FlowFile nodes and event nodes joined by links, as NiFi draws it. */
export interface LineageGraph {
  readonly nodes: readonly LineageNode[];
  readonly links: readonly { readonly source: string; readonly target: string }[];
  /** True when the graph was cut at `maxNodes`; expand from its edge to see more. */
  readonly truncated: boolean;
}

export type LineageNode =
  | { readonly kind: 'flowfile'; readonly id: string; readonly uuid: string }
  | {
      readonly kind: 'event';
      readonly id: string;
      readonly eventId: number;
      readonly eventType: ProvenanceEventType;
      readonly eventTime: number;
      readonly flowFileUuid: string;
      readonly componentId: string;
      readonly componentName: string | null;
      readonly parentUuids: readonly string[];
      readonly childUuids: readonly string[];
    };

/** Options of the provenance repository. Defaults in parentheses. */
export interface ProvenanceRepositoryOptions {
  /** `<dataDir>/provenance-repository`. */
  readonly directory: string;
  readonly durability: 'process' | 'power';
  /** Delete events older than this, in ms (30 days). */
  readonly maxAgeMs?: number;
  /** Delete the oldest events while storage exceeds this, in bytes (10 GiB). */
  readonly maxBytes?: number;
  /** How often retention runs, in ms (60 s). */
  readonly retentionIntervalMs?: number;
  /** Roll the journal over to a new segment file past this size, in bytes (64 MiB). */
  readonly rolloverBytes?: number;
  /**
   * Roll over a non-empty segment older than this, in ms (10 min, as NiFi), so that age-based
   * retention can delete whole files even when few events arrive.
   */
  readonly rolloverMs?: number;
  /** Where warnings go (torn journal tails dropped, corrupt frames skipped, indexer failures). */
  readonly log?: LogSink;
}

/**
 * How many candidate events an `attribute` criterion reads at most per search call: attributes are
 * not indexed, so such a search scans the newest events first and stops here.
 */
export const ATTRIBUTE_SCAN_LIMIT = 1_000_000;

/**
 * The provenance repository. Appends are synchronous and cheap (the hot path): events are framed
 * into an append-only journal that is the storage of record, made durable with the session's
 * commit. A worker thread indexes them in SQLite, off the hot path. Queries see an event once it
 * is indexed; {@link ProvenanceRepository.waitForIndex} waits for that.
 */
export interface ProvenanceRepository {
  /** Loads state after a restart (re-indexes journal tails the index had not reached). */
  open(): Promise<void>;
  /** Assigns ids and appends events; returns the first id assigned. Durable at the next {@link flush}. */
  append(events: readonly ProvenanceEventInput[]): number;
  /** Writes appended events to the journal (synchronously), as part of a group commit. */
  flush(): void;
  /** fsyncs the journal (power durability). */
  sync(): Promise<void>;
  /** Resolves when every event appended so far is searchable. */
  waitForIndex(): Promise<void>;
  search(query: ProvenanceQuery): ProvenanceEventRecord[];
  getEvent(eventId: number): ProvenanceEventRecord | undefined;
  /** The lineage of a FlowFile: its events and those of its ancestors and descendants. */
  lineage(flowFileUuid: string, options?: { maxNodes?: number }): LineageGraph;
  /** Parents (for a JOIN/FORK/CLONE/REPLAY event) of an event's FlowFile, as a graph to merge in. */
  expandParents(eventId: number): LineageGraph;
  expandChildren(eventId: number): LineageGraph;
  /** Runs retention now (age and size). */
  enforceRetention(): Promise<void>;
  stats(): { events: number; oldestEventTime: number | null; bytes: number; indexLag: number };
  /** Events appended but not yet indexed; cheap enough to call on every scheduling decision. */
  indexLag(): number;
  close(): Promise<void>;
}
