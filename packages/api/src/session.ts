import type { Readable } from 'node:stream';
import type { FlowFile } from './flowfile.ts';

/** Content that can be written in one call. Strings are written as UTF-8. */
export type ContentData = Uint8Array | string;

/** A source of content to stream into the repository without holding it in memory. */
export type ContentSource = AsyncIterable<Uint8Array> | Readable;

/** Options for {@link ProvenanceReporter} events that record an exchange with another system. */
export interface TransitOptions {
  /** Free text recorded with the event. */
  readonly details?: string;
  /** How long the exchange took, in ms. */
  readonly durationMs?: number;
  /** For `receive`: the identifier the remote system gave this data. */
  readonly sourceSystemFlowFileId?: string;
  /** For `send`: record the event even if the session later rolls back (data already left). */
  readonly force?: boolean;
}

/**
 * Explicit provenance events. FORK, JOIN, CLONE, DROP, CONTENT_MODIFIED, ATTRIBUTES_MODIFIED and
 * CREATE are emitted by the session itself from what the processor did; a processor reports the
 * events only it can know about: where data came from and where it went.
 */
export interface ProvenanceReporter {
  receive(flowFile: FlowFile, transitUri: string, options?: TransitOptions): void;
  fetch(flowFile: FlowFile, transitUri: string, options?: TransitOptions): void;
  send(flowFile: FlowFile, transitUri: string, options?: TransitOptions): void;
  upload(flowFile: FlowFile, transitUri: string, options?: TransitOptions): void;
  invokeRemoteProcess(flowFile: FlowFile, transitUri: string, details?: string): void;
  associate(flowFile: FlowFile, alternateIdentifierNamespace: string, alternateIdentifier: string): void;
  route(flowFile: FlowFile, relationship: string, details?: string): void;
  create(flowFile: FlowFile, details?: string): void;
  modifyContent(flowFile: FlowFile, details?: string): void;
  modifyAttributes(flowFile: FlowFile, details?: string): void;
}

/** Range options for {@link SessionState.scan}; keys compare as UTF-8 strings. */
export interface StateScan {
  readonly prefix?: string;
  /** Inclusive lower bound. */
  readonly start?: string;
  /** Exclusive upper bound. */
  readonly end?: string;
  readonly limit?: number;
  readonly reverse?: boolean;
}

/** Read access to a component's state (also available outside a session). */
export interface StateReader {
  get(key: string): string | undefined;
  scan(options?: StateScan): Array<[key: string, value: string]>;
  /** Number of keys this component holds. */
  count(): number;
}

/**
 * A component's key-value state as seen inside a session. Writes are buffered in the session and
 * committed atomically with it (and discarded on rollback); reads see the session's own writes.
 */
export interface SessionState extends StateReader {
  set(key: string, value: string): void;
  delete(key: string): void;
  /** Removes every key of this component. */
  clear(): void;
}

/** Options for {@link ProcessSession.merge}. */
export interface MergeOptions {
  readonly header?: ContentData;
  readonly footer?: ContentData;
  readonly demarcator?: ContentData;
}

/** Selects FlowFiles for {@link ProcessSession.getBatch}: accept, and whether to keep looking. */
export type FlowFileFilter = (flowFile: FlowFile) => { accept: boolean; continue: boolean };

/**
 * The unit of work of one processor invocation. Everything done through a session (FlowFiles
 * taken, created, changed, routed; state changed; provenance) takes effect together when the
 * framework commits it after `onTrigger` returns, or not at all if `onTrigger` throws. Every FlowFile
 * taken or created must be transferred or removed before the session ends, or the framework rolls
 * the session back and reports the processor.
 *
 * Methods that change a FlowFile return its new version; use that version from then on.
 */
export interface ProcessSession {
  /** Takes the next FlowFile from the incoming queues (highest priority first), if any. */
  get(): FlowFile | undefined;
  /** Takes up to `max` FlowFiles (optionally those a filter accepts). */
  getBatch(max: number, filter?: FlowFileFilter): FlowFile[];
  /** What is queued for this processor right now (all incoming connections). */
  queueSize(): { count: number; bytes: number };

  /** A new FlowFile; with parents it inherits their attributes (the first parent's) and lineage. */
  create(parent?: FlowFile | readonly FlowFile[]): FlowFile;
  /** A copy pointing at the same content (or a byte range of it) without copying bytes. */
  clone(flowFile: FlowFile, range?: { offset: number; size: number }): FlowFile;

  putAttribute(flowFile: FlowFile, key: string, value: string): FlowFile;
  putAllAttributes(flowFile: FlowFile, attributes: Readonly<Record<string, string>> | ReadonlyMap<string, string>): FlowFile;
  /** Removes attributes by name or pattern; `uuid` is never removed. */
  removeAttributes(flowFile: FlowFile, keys: Iterable<string> | RegExp): FlowFile;

  /**
   * The content (or `length` bytes from `offset`) in memory. Refuses to read more than `maxBytes`
   * (default 64 MiB) with a ContentTooLargeError: stream large content with {@link readStream}.
   */
  read(flowFile: FlowFile, options?: { maxBytes?: number; offset?: number; length?: number }): Buffer;
  /** Streams the content (or a byte range of it). */
  readStream(flowFile: FlowFile, range?: { offset: number; size: number }): Readable;
  /** Replaces the content. */
  write(flowFile: FlowFile, data: ContentData): FlowFile;
  /** Replaces the content by streaming from a source; never holds the whole content in memory. */
  writeStream(flowFile: FlowFile, source: ContentSource): Promise<FlowFile>;
  /** Appends to the content (copy-on-write: the previous content is untouched). */
  append(flowFile: FlowFile, data: ContentData): FlowFile;
  /** Sets `destination`'s content to the sources' contents, in order, with optional framing. */
  merge(sources: readonly FlowFile[], destination: FlowFile, options?: MergeOptions): Promise<FlowFile>;
  /** Replaces the content with a file's bytes. */
  importFrom(path: string, flowFile: FlowFile): Promise<FlowFile>;
  /** Writes the content to a file (the file is created or replaced). */
  exportTo(flowFile: FlowFile, path: string): Promise<void>;

  /** Routes to a relationship; without one, returns the FlowFile to the queue it came from. */
  transfer(flowFile: FlowFile, relationship?: string): void;
  transfer(flowFiles: readonly FlowFile[], relationship?: string): void;
  /** Ends a FlowFile's life here (DROP). */
  remove(flowFile: FlowFile | readonly FlowFile[]): void;
  /** Makes a FlowFile ineligible for processing for the processor's penalty duration. */
  penalize(flowFile: FlowFile): FlowFile;

  readonly provenance: ProvenanceReporter;
  /** This component's state; changes commit with the session. */
  readonly state: SessionState;
  /** Adds to a named counter shown in status. */
  adjustCounter(name: string, delta: number): void;

  /**
   * Commits now (instead of when `onTrigger` returns) and resolves once the commit is durable in the
   * repositories. Sources must await this before acknowledging data to the system it came from.
   * The session can be used again afterwards for more work.
   */
  commit(): Promise<void>;
  /** Undoes everything since the last commit; taken FlowFiles go back to their queues. */
  rollback(penalize?: boolean): void;
}
