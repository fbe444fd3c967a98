import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type ContentData,
  type ContentSource,
  ContentTooLargeError,
  type FlowFile,
  type FlowFileFilter,
  type MergeOptions,
  type ProcessSession,
  type ProvenanceReporter,
  type SessionState,
  type StateScan,
  type TransitOptions,
} from '@sluice/api';
import type { ConnectionRuntime } from '../components/connection.ts';
import type { ProcessorNode } from '../components/processor-node.ts';
import type { ContentRepository } from '../content/types.ts';
import type { ContentClaim } from '../flowfile/claim.ts';
import { type Attributes, FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { uuidv7 } from '../flowfile/uuid.ts';
import type { ProvenanceEventInput, ProvenanceEventType, ProvenanceRepository } from '../provenance/types.ts';
import type { FlowFileRepository, RepositoryRecord, StateOp, StateStore } from '../repository/types.ts';

/** Thrown when a processor misuses the session; the framework rolls back and reports it. */
export class FlowFileHandlingError extends Error {
  override readonly name = 'FlowFileHandlingError';
}

/** Marks "transferred back to the queue it came from". */
const SELF = Symbol('self');
/** Marks "removed". */
const REMOVED = Symbol('removed');
type Destination = string | typeof SELF | typeof REMOVED;

const DEFAULT_MAX_READ = 64 * 1024 * 1024;
/** Sessions holding at least this many FlowFiles encode them in slices before committing. */
export const SLICED_COMMIT_RECORDS = 10_000;
/** FlowFiles encoded between two turns of the event loop (about 10-20 ms of work). */
const ENCODE_SLICE = 2_000;
/** FlowFiles planned (journal records, events, queue moves) between two turns of the event loop. */
const PLAN_SLICE = 5_000;
const COPY_CHUNK = 1024 * 1024;

/** What the session needs from the engine. */
export interface SessionHost {
  readonly content: ContentRepository;
  readonly flowFiles: FlowFileRepository;
  readonly provenance: ProvenanceRepository;
  readonly state: StateStore;
  /** Whether provenance events are produced at all (off for benchmarks of the bare engine). */
  readonly provenanceEnabled: boolean;
  /**
   * Puts committed FlowFiles into their queues once the transaction that moved them is durable
   * (until then they are "in transit": not in any queue in memory, but in every checkpoint).
   */
  place(puts: ReadonlyArray<readonly [ConnectionRuntime, FlowFileRecord]>): void;
}

interface SessionRecord {
  /** The version taken from a queue; null for FlowFiles created in this session. */
  readonly original: FlowFileRecord | null;
  current: FlowFileRecord;
  readonly source: ConnectionRuntime | null;
  destination: Destination | undefined;
  contentModified: boolean;
  /** An event other than ATTRIBUTES_MODIFIED was reported or derived for it. */
  hasEvent: boolean;
  /** Types of the events a processor reported for it (no scan of every event per FlowFile at commit). */
  reported: ProvenanceEventType[] | null;
  /** How it came to exist in this session. */
  readonly origin: 'queue' | 'create' | 'fork' | 'join' | 'clone';
  readonly parents: readonly string[];
  /** The version {@link encoded} holds, encoded ahead of a large commit (see prepareCommit). */
  encodedVersion: FlowFileRecord | undefined;
  encoded: Uint8Array | undefined;
}

/** An event a processor reported. Every field is always present (V8 keeps one object shape). */
interface ReportedEvent {
  readonly type: ProvenanceEventType;
  readonly uuid: string;
  /** SEND keeps the attributes of the moment it was reported (NiFi). */
  readonly snapshot: FlowFileRecord | undefined;
  readonly transitUri: string | undefined;
  readonly details: string | undefined;
  readonly durationMs: number | undefined;
  readonly sourceSystemFlowFileId: string | undefined;
  readonly alternateIdentifierUri: string | undefined;
  readonly relationship: string | undefined;
  readonly force: boolean;
}

/** What a derived event adds to the common fields. */
interface EventExtra {
  readonly parentUuids?: readonly string[];
  readonly childUuids?: readonly string[];
  readonly details?: string;
  readonly reported?: ReportedEvent;
}

/** What a commit writes and moves, worked out from the session's records (see #planRecord). */
interface CommitPlan {
  readonly now: number;
  /** The wiring it was planned with: a rewire of the flow meanwhile makes it stale. */
  readonly outgoing: ProcessorNode['outgoing'];
  readonly retried: Map<string, FlowFileRecord>;
  readonly walRecords: RepositoryRecord[];
  readonly events: ProvenanceEventInput[];
  /** A FlowFile's DROP is its last event: after what the processor reported (a PutFile's SEND). */
  readonly drops: ProvenanceEventInput[];
  readonly puts: Array<[ConnectionRuntime, FlowFileRecord]>;
  readonly requeues: Map<ConnectionRuntime, FlowFileRecord[]>;
  readonly acks: Map<ConnectionRuntime, FlowFileRecord[]>;
  readonly forks: Map<string, string[]>;
  readonly releaseAfterDurable: string[];
  readonly attributeOnly: SessionRecord[];
  outCount: number;
  outBytes: number;
}

/**
 * The transaction of one processor invocation (NiFi's StandardProcessSession): tracks every
 * FlowFile taken or created, buffers state changes and provenance, and on commit writes one
 * FlowFile-repository transaction, the provenance events, the queue moves and the content
 * reference changes together. Provenance FORK/JOIN/CLONE/DROP/CREATE/CONTENT_MODIFIED/
 * ATTRIBUTES_MODIFIED events are derived here from what the processor did.
 */
export class StandardProcessSession implements ProcessSession {
  readonly #node: ProcessorNode;
  readonly #host: SessionHost;
  #records = new Map<string, SessionRecord>();
  #events: ReportedEvent[] = [];
  /** Content resources this session holds a claimant on (written or cloned here). */
  #held: string[] = [];
  #stateOps: StateOp[] = [];
  #stateOverlay: Map<string, string | null> | undefined;
  #stateCleared = false;
  #counters: Map<string, number> | undefined;
  /** Whether this session ever took or created a FlowFile (explicit commits do not reset it). */
  #worked = false;
  #bytesRead = 0;
  #bytesWritten = 0;
  /** The plan of a large commit, made in slices by {@link prepareCommit}. */
  #prepared: CommitPlan | undefined;
  readonly provenance: ProvenanceReporter;
  readonly state: SessionState;

  constructor(node: ProcessorNode, host: SessionHost) {
    this.#node = node;
    this.#host = host;
    this.provenance = this.#createReporter();
    this.state = this.#createState();
  }

  /**
   * Whether the session took or created any FlowFile, including work already committed explicitly
   * (a source that awaits its commit is not idle: no bored-yield for it).
   */
  get didWork(): boolean {
    return this.#worked;
  }

  /** Number of FlowFiles this session holds (taken or created) and not yet committed. */
  get pending(): number {
    return this.#records.size;
  }

  // ---- taking FlowFiles -------------------------------------------------------------------

  get(): FlowFile | undefined {
    const incoming = this.#node.incoming;
    const n = incoming.length;
    for (let i = 0; i < n; i++) {
      const connection = incoming[(this.#node.pollCursor + i) % n];
      if (connection === undefined) continue;
      const flowFile = connection.queue.poll();
      if (flowFile !== undefined) {
        this.#node.pollCursor = (this.#node.pollCursor + i + 1) % n;
        this.#take(flowFile, connection);
        return flowFile;
      }
    }
    return undefined;
  }

  getBatch(max: number, filter?: FlowFileFilter): FlowFile[] {
    const out: FlowFile[] = [];
    const incoming = this.#node.incoming;
    const n = incoming.length;
    for (let i = 0; i < n && out.length < max; i++) {
      const connection = incoming[(this.#node.pollCursor + i) % n];
      if (connection === undefined) continue;
      const batch = connection.queue.pollBatch(max - out.length, filter);
      for (const flowFile of batch) {
        this.#take(flowFile, connection);
        out.push(flowFile);
      }
    }
    if (n > 0) this.#node.pollCursor = (this.#node.pollCursor + 1) % n;
    return out;
  }

  #take(flowFile: FlowFileRecord, connection: ConnectionRuntime): void {
    this.#records.set(flowFile.uuid, {
      original: flowFile,
      current: flowFile,
      source: connection,
      destination: undefined,
      contentModified: false,
      hasEvent: false,
      reported: null,
      origin: 'queue',
      parents: [],
      encodedVersion: undefined,
      encoded: undefined,
    });
    this.#worked = true;
  }

  queueSize(): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    for (const c of this.#node.incoming) {
      const size = c.queue.size();
      count += size.count - size.inFlightCount;
      bytes += size.bytes;
    }
    return { count, bytes };
  }

  // ---- creating ---------------------------------------------------------------------------

  create(parent?: FlowFile | readonly FlowFile[]): FlowFile {
    const now = Date.now();
    const uuid = uuidv7(now);
    if (parent === undefined) {
      const attributes = new Map([
        ['uuid', uuid],
        ['filename', uuid],
        ['path', './'],
      ]);
      return this.#add(new FlowFileRecord(uuid, attributes, null, now, now), 'create', []);
    }
    const parents = isFlowFileList(parent) ? parent.map((p) => this.#record(p).current) : [this.#record(parent).current];
    if (parents.length === 0) throw new FlowFileHandlingError('create() was given an empty list of parents');
    const first = parents[0];
    if (first === undefined) throw new FlowFileHandlingError('create() was given an empty list of parents');
    const attributes = new Map(parents.length === 1 ? first.attributes : intersectAttributes(parents));
    attributes.set('uuid', uuid);
    let lineageStart = first.lineageStartDate;
    for (const p of parents) lineageStart = Math.min(lineageStart, p.lineageStartDate);
    const record = new FlowFileRecord(uuid, attributes, null, now, lineageStart);
    return this.#add(
      record,
      parents.length === 1 && !isFlowFileList(parent) ? 'fork' : 'join',
      parents.map((p) => p.uuid),
    );
  }

  /**
   * A new FlowFile keeping the identity another instance gave it (Site-to-Site carries the uuid so
   * a lineage search finds it on both sides). Report RECEIVE for it: no CREATE is derived then.
   * @throws {FlowFileHandlingError} when the session already holds a FlowFile with this uuid.
   */
  adopt(uuid: string): FlowFile {
    if (this.#records.has(uuid)) throw new FlowFileHandlingError(`FlowFile ${uuid} is already in this session`);
    const now = Date.now();
    const attributes = new Map([
      ['uuid', uuid],
      ['filename', uuid],
      ['path', './'],
    ]);
    return this.#add(new FlowFileRecord(uuid, attributes, null, now, now), 'create', []);
  }

  clone(flowFile: FlowFile, range?: { offset: number; size: number }): FlowFile {
    const source = this.#record(flowFile).current;
    const now = Date.now();
    const uuid = uuidv7(now);
    let claim = source.claim;
    if (range !== undefined) {
      if (range.offset < 0 || range.size < 0 || range.offset + range.size > source.size) {
        throw new FlowFileHandlingError(`clone range ${range.offset}+${range.size} is outside content of ${source.size} bytes`);
      }
      claim =
        claim === null || range.size === 0
          ? null
          : { resourceId: claim.resourceId, offset: claim.offset + range.offset, length: range.size };
    }
    if (claim !== null) this.#hold(claim.resourceId);
    const attributes = new Map(source.attributes);
    attributes.set('uuid', uuid);
    const record = new FlowFileRecord(uuid, attributes, claim, source.entryDate, source.lineageStartDate);
    // NiFi: a clone of the whole content is a CLONE; a clone of a part of it (a split) is a child
    // of a FORK, one FORK event per parent listing every such child.
    const whole = range === undefined || (range.offset === 0 && range.size === source.size);
    return this.#add(record, whole ? 'clone' : 'fork', [source.uuid]);
  }

  #add(record: FlowFileRecord, origin: SessionRecord['origin'], parents: readonly string[]): FlowFileRecord {
    this.#records.set(record.uuid, {
      original: null,
      current: record,
      source: null,
      destination: undefined,
      contentModified: false,
      hasEvent: false,
      reported: null,
      origin,
      parents,
      encodedVersion: undefined,
      encoded: undefined,
    });
    this.#worked = true;
    return record;
  }

  #hold(resourceId: string): void {
    this.#host.content.claimant(resourceId);
    this.#held.push(resourceId);
  }

  /** The session's record of a FlowFile, refusing stale versions and strangers. */
  #record(flowFile: FlowFile): SessionRecord {
    const record = this.#records.get(flowFile.uuid);
    if (record === undefined) {
      throw new FlowFileHandlingError(`FlowFile ${flowFile.uuid} does not belong to this session (take it with get() first)`);
    }
    if (record.current !== flowFile) {
      throw new FlowFileHandlingError(
        `FlowFile ${flowFile.uuid} is not the most recent version; use the FlowFile the last session call returned`,
      );
    }
    if (record.destination === REMOVED) throw new FlowFileHandlingError(`FlowFile ${flowFile.uuid} was already removed`);
    return record;
  }

  #update(record: SessionRecord, next: FlowFileRecord): FlowFileRecord {
    record.current = next;
    return next;
  }

  // ---- attributes -------------------------------------------------------------------------

  putAttribute(flowFile: FlowFile, key: string, value: string): FlowFile {
    const record = this.#record(flowFile);
    if (key === 'uuid' || record.current.attributes.get(key) === value) return record.current;
    const attributes = new Map(record.current.attributes);
    attributes.set(key, String(value));
    return this.#update(record, record.current.with({ attributes }));
  }

  putAllAttributes(flowFile: FlowFile, values: Readonly<Record<string, string>> | ReadonlyMap<string, string>): FlowFile {
    const record = this.#record(flowFile);
    const entries: Iterable<[string, string]> = values instanceof Map ? values.entries() : Object.entries(values);
    let attributes: Map<string, string> | undefined;
    for (const [key, value] of entries) {
      if (key === 'uuid') continue;
      const current = (attributes ?? record.current.attributes).get(key);
      if (current === value) continue;
      attributes ??= new Map(record.current.attributes);
      attributes.set(key, String(value));
    }
    return attributes === undefined ? record.current : this.#update(record, record.current.with({ attributes }));
  }

  removeAttributes(flowFile: FlowFile, keys: Iterable<string> | RegExp): FlowFile {
    const record = this.#record(flowFile);
    let attributes: Map<string, string> | undefined;
    const drop = (key: string): void => {
      if (key === 'uuid' || !(attributes ?? record.current.attributes).has(key)) return;
      attributes ??= new Map(record.current.attributes);
      attributes.delete(key);
    };
    if (keys instanceof RegExp) {
      for (const key of [...record.current.attributes.keys()]) {
        keys.lastIndex = 0;
        if (keys.test(key)) drop(key);
      }
    } else {
      for (const key of keys) drop(key);
    }
    return attributes === undefined ? record.current : this.#update(record, record.current.with({ attributes }));
  }

  // ---- content ----------------------------------------------------------------------------

  read(flowFile: FlowFile, options?: { maxBytes?: number; offset?: number; length?: number }): Buffer {
    const current = this.#record(flowFile).current;
    const offset = options?.offset ?? 0;
    const length = options?.length ?? current.size - offset;
    if (offset < 0 || length < 0 || offset + length > current.size) {
      throw new FlowFileHandlingError(`read range ${offset}+${length} is outside content of ${current.size} bytes`);
    }
    const max = options?.maxBytes ?? DEFAULT_MAX_READ;
    if (length > max) throw new ContentTooLargeError(length, max);
    if (current.claim === null || length === 0) return Buffer.alloc(0);
    this.#bytesRead += length;
    return offset === 0 && length === current.size
      ? this.#host.content.read(current.claim)
      : this.#host.content.read(current.claim, offset, length);
  }

  /**
   * The whole contents of several FlowFiles, read with one read per run of contents that lie back
   * to back in one resource file (small FlowFiles written one after another usually do). Each
   * buffer may be a view into a shared one. Runs are cut at `runBytes`.
   */
  readEach(flowFiles: readonly FlowFile[], runBytes = 1024 * 1024): Buffer[] {
    const claims = flowFiles.map((flowFile) => this.#record(flowFile).current.claim);
    const out = new Array<Buffer>(claims.length);
    let i = 0;
    while (i < claims.length) {
      const first = claims[i];
      if (first === null || first === undefined) {
        out[i++] = Buffer.alloc(0);
        continue;
      }
      let end = i + 1;
      let length = first.length;
      for (; end < claims.length; end++) {
        const next = claims[end];
        if (
          next === null ||
          next === undefined ||
          next.resourceId !== first.resourceId ||
          next.offset !== first.offset + length ||
          length + next.length > runBytes
        )
          break;
        length += next.length;
      }
      const bytes =
        end === i + 1
          ? this.#host.content.read(first)
          : this.#host.content.read({ resourceId: first.resourceId, offset: first.offset, length });
      this.#bytesRead += length;
      let at = 0;
      for (let k = i; k < end; k++) {
        const n = claims[k]?.length ?? 0;
        out[k] = end === i + 1 ? bytes : bytes.subarray(at, at + n);
        at += n;
      }
      i = end;
    }
    return out;
  }

  readStream(flowFile: FlowFile, range?: { offset: number; size: number }): Readable {
    const current = this.#record(flowFile).current;
    if (range !== undefined && (range.offset < 0 || range.size < 0 || range.offset + range.size > current.size)) {
      throw new FlowFileHandlingError(`read range ${range.offset}+${range.size} is outside content of ${current.size} bytes`);
    }
    if (current.claim === null) return Readable.from([]);
    this.#bytesRead += range?.size ?? current.size;
    return this.#host.content.readStream(current.claim, range?.offset, range?.size);
  }

  write(flowFile: FlowFile, data: ContentData): FlowFile {
    const record = this.#record(flowFile);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const claim = bytes.length === 0 ? null : this.#host.content.write(bytes);
    return this.#setContent(record, claim);
  }

  async writeStream(flowFile: FlowFile, source: ContentSource): Promise<FlowFile> {
    const record = this.#record(flowFile);
    const claim = await this.#host.content.writeStream(source);
    // Re-check: the processor must not have changed this FlowFile while the stream was written.
    return this.#setContent(this.#record(record.current), claim.length === 0 ? null : claim);
  }

  /**
   * Sets the contents of several FlowFiles with one write: `contents[i]` becomes the content of
   * `flowFiles[i]`; they share one stretch of a resource file (gathered in memory first: for small
   * contents). Returns the new versions, in order.
   */
  writeEach(flowFiles: readonly FlowFile[], contents: readonly Uint8Array[]): FlowFile[] {
    if (flowFiles.length !== contents.length) throw new RangeError('writeEach needs one content per FlowFile');
    const records = flowFiles.map((flowFile) => this.#record(flowFile));
    let total = 0;
    for (const content of contents) total += content.byteLength;
    const claim = total === 0 ? null : this.#host.content.write(Buffer.concat(contents, total));
    if (claim === null) return records.map((record) => this.#setContent(record, null));
    let offset = claim.offset;
    return records.map((record, i) => {
      const length = contents[i]?.byteLength ?? 0;
      const own = length === 0 ? null : { resourceId: claim.resourceId, offset, length };
      offset += length;
      return this.#setContent(record, own);
    });
  }

  #setContent(record: SessionRecord, claim: ContentClaim | null): FlowFileRecord {
    if (claim !== null) {
      this.#hold(claim.resourceId);
      this.#bytesWritten += claim.length;
    }
    record.contentModified = true;
    return this.#update(record, record.current.with({ claim }));
  }

  append(flowFile: FlowFile, data: ContentData): FlowFile {
    const record = this.#record(flowFile);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.length === 0) return record.current;
    const writer = this.#host.content.openWriter();
    try {
      const claim = record.current.claim;
      if (claim !== null) {
        for (let offset = 0; offset < claim.length; offset += COPY_CHUNK) {
          writer.write(this.#host.content.read(claim, offset, Math.min(COPY_CHUNK, claim.length - offset)));
        }
      }
      writer.write(bytes);
      return this.#setContent(record, writer.close());
    } catch (e) {
      writer.abort();
      throw e;
    }
  }

  async merge(sources: readonly FlowFile[], destination: FlowFile, options?: MergeOptions): Promise<FlowFile> {
    const sourceRecords = sources.map((s) => this.#record(s).current);
    const target = this.#record(destination);
    const toBytes = (d: ContentData | undefined): Uint8Array | undefined =>
      d === undefined ? undefined : typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
    const header = toBytes(options?.header);
    const footer = toBytes(options?.footer);
    const demarcator = toBytes(options?.demarcator);
    const writer = this.#host.content.openWriter();
    try {
      if (header !== undefined && header.length > 0) await writer.writeAsync(header);
      let first = true;
      for (const source of sourceRecords) {
        if (!first && demarcator !== undefined && demarcator.length > 0) await writer.writeAsync(demarcator);
        first = false;
        const claim = source.claim;
        if (claim === null) continue;
        for (let offset = 0; offset < claim.length; offset += COPY_CHUNK) {
          await writer.writeAsync(this.#host.content.read(claim, offset, Math.min(COPY_CHUNK, claim.length - offset)));
        }
        this.#bytesRead += claim.length;
      }
      if (footer !== undefined && footer.length > 0) await writer.writeAsync(footer);
      let claim: ContentClaim | null = null;
      if (writer.length === 0) writer.abort();
      else claim = writer.close();
      return this.#setContent(this.#record(target.current), claim);
    } catch (e) {
      writer.abort();
      throw e;
    }
  }

  async importFrom(path: string, flowFile: FlowFile): Promise<FlowFile> {
    const record = this.#record(flowFile);
    const handle = await open(path, 'r');
    try {
      const claim = await this.#host.content.writeStream(handle.createReadStream({ autoClose: false }));
      return this.#setContent(this.#record(record.current), claim.length === 0 ? null : claim);
    } finally {
      await handle.close();
    }
  }

  async exportTo(flowFile: FlowFile, path: string): Promise<void> {
    const current = this.#record(flowFile).current;
    await pipeline(this.readStream(current), createWriteStream(path));
  }

  // ---- routing ----------------------------------------------------------------------------

  transfer(flowFiles: FlowFile | readonly FlowFile[], relationship?: string): void {
    if (relationship !== undefined && !this.#node.relationships.has(relationship)) {
      throw new FlowFileHandlingError(
        `${this.#node.type} has no relationship "${relationship}" (it has: ${[...this.#node.relationships].join(', ') || 'none'})`,
      );
    }
    const list = isFlowFileList(flowFiles) ? flowFiles : [flowFiles];
    for (const flowFile of list) {
      const record = this.#record(flowFile);
      if (relationship === undefined) {
        if (record.source === null) {
          throw new FlowFileHandlingError(`FlowFile ${flowFile.uuid} was created in this session; transfer it to a relationship`);
        }
        record.destination = SELF;
      } else {
        record.destination = relationship;
      }
    }
  }

  remove(flowFiles: FlowFile | readonly FlowFile[]): void {
    const list = isFlowFileList(flowFiles) ? flowFiles : [flowFiles];
    for (const flowFile of list) this.#record(flowFile).destination = REMOVED;
  }

  penalize(flowFile: FlowFile): FlowFile {
    const record = this.#record(flowFile);
    return this.#update(record, record.current.with({ penaltyExpiration: Date.now() + this.#node.scheduling.penaltyMs }));
  }

  adjustCounter(name: string, delta: number): void {
    this.#counters ??= new Map();
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + delta);
  }

  // ---- provenance -------------------------------------------------------------------------

  #createReporter(): ProvenanceReporter {
    const report = (
      type: ProvenanceEventType,
      flowFile: FlowFile,
      transitUri: string | undefined,
      details: string | undefined,
      options?: TransitOptions,
      relationship?: string,
      alternateIdentifierUri?: string,
    ): void => {
      const record = this.#record(flowFile);
      record.hasEvent = true;
      if (record.reported === null) record.reported = [type];
      else record.reported.push(type);
      this.#events.push({
        type,
        uuid: flowFile.uuid,
        snapshot: type === 'SEND' ? record.current : undefined,
        transitUri,
        details: details ?? options?.details,
        durationMs: options?.durationMs,
        sourceSystemFlowFileId: options?.sourceSystemFlowFileId,
        alternateIdentifierUri,
        relationship,
        force: options?.force ?? false,
      });
    };
    return {
      receive: (flowFile, transitUri, options) => report('RECEIVE', flowFile, transitUri, undefined, options),
      fetch: (flowFile, transitUri, options) => report('FETCH', flowFile, transitUri, undefined, options),
      send: (flowFile, transitUri, options) => report('SEND', flowFile, transitUri, undefined, options),
      upload: (flowFile, transitUri, options) => report('UPLOAD', flowFile, transitUri, undefined, options),
      invokeRemoteProcess: (flowFile, transitUri, details) => report('REMOTE_INVOCATION', flowFile, transitUri, details),
      associate: (flowFile, namespace, identifier) =>
        report('ADDINFO', flowFile, undefined, undefined, undefined, undefined, `${namespace}:${identifier}`),
      route: (flowFile, relationship, details) => report('ROUTE', flowFile, undefined, details, undefined, relationship),
      create: (flowFile, details) => report('CREATE', flowFile, undefined, details),
      modifyContent: (flowFile, details) => report('CONTENT_MODIFIED', flowFile, undefined, details),
      modifyAttributes: (flowFile, details) => report('ATTRIBUTES_MODIFIED', flowFile, undefined, details),
    };
  }

  // ---- state ------------------------------------------------------------------------------

  #createState(): SessionState {
    const store = (): StateStore => this.#host.state;
    const id = (): string => this.#node.id;
    const overlay = (): Map<string, string | null> => {
      this.#stateOverlay ??= new Map();
      return this.#stateOverlay;
    };
    const merged = (options?: StateScan): Array<[string, string]> => {
      const base = this.#stateCleared ? [] : store().scan(id(), { ...options, limit: undefined });
      const map = new Map(base);
      for (const [k, v] of this.#stateOverlay ?? []) {
        if (options?.prefix !== undefined && !k.startsWith(options.prefix)) continue;
        if (options?.start !== undefined && k < options.start) continue;
        if (options?.end !== undefined && k >= options.end) continue;
        if (v === null) map.delete(k);
        else map.set(k, v);
      }
      const rows = [...map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      if (options?.reverse === true) rows.reverse();
      return options?.limit === undefined ? rows : rows.slice(0, options.limit);
    };
    return {
      get: (key) => {
        const pending = this.#stateOverlay?.get(key);
        if (pending !== undefined) return pending ?? undefined;
        return this.#stateCleared ? undefined : store().get(id(), key);
      },
      scan: (options) =>
        this.#stateOverlay === undefined && !this.#stateCleared ? store().scan(id(), options) : merged(options),
      count: () => (this.#stateOverlay === undefined && !this.#stateCleared ? store().count(id()) : merged().length),
      set: (key, value) => {
        overlay().set(key, value);
        this.#stateOps.push({ op: 'set', key, value });
      },
      delete: (key) => {
        overlay().set(key, null);
        this.#stateOps.push({ op: 'delete', key });
      },
      clear: () => {
        this.#stateOverlay = new Map();
        this.#stateCleared = true;
        this.#stateOps.push({ op: 'clear' });
      },
    };
  }

  // ---- commit / rollback --------------------------------------------------------------------

  async commit(): Promise<void> {
    if (this.commitsInSlices) await this.prepareCommit();
    const durable = this.#commit(true);
    if (durable !== undefined) await durable;
  }

  /** Whether the commit should be prepared with {@link prepareCommit} first (a large session). */
  get commitsInSlices(): boolean {
    return this.#records.size >= SLICED_COMMIT_RECORDS && this.#host.flowFiles.encodeFlowFiles !== undefined;
  }

  /**
   * Prepares a large session's commit a slice at a time, with a turn of the event loop in between,
   * so that committing tens of thousands of FlowFiles (a SplitText of a large file) does not stop
   * everything else for seconds: encodes the FlowFile versions the journal will hold (and the
   * attribute JSON the provenance events carry), then plans the journal records, events and queue
   * moves. The commit that follows applies the plan as one atomic transaction (planned again if the
   * flow was rewired meanwhile). Nothing but this session's own FlowFiles is read; the processor
   * must not use the session until the commit is done.
   * @throws {FlowFileHandlingError} when a FlowFile was not routed; TypeError when one cannot be encoded.
   */
  async prepareCommit(): Promise<void> {
    const flowFiles = this.#host.flowFiles;
    if (flowFiles.encodeFlowFiles === undefined) return;
    this.#checkRouted();
    const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
    // The loops live in plain methods (optimized like any hot code); this one only takes turns.
    const records = [...this.#records.values()];
    for (let from = 0; from < records.length; from += ENCODE_SLICE) {
      this.#encodeAhead(records, from, Math.min(records.length, from + ENCODE_SLICE));
      await turn();
    }
    // Then the plan (journal records, events, queue moves), a slice at a time too.
    const plan = this.#newPlan(Date.now());
    // Retries may have taken records out (children of a FlowFile going back to its queue).
    const planned = plan.retried.size === 0 ? records : [...this.#records.values()];
    for (let from = 0; from < planned.length; from += PLAN_SLICE) {
      this.#planRange(plan, planned, from, Math.min(planned.length, from + PLAN_SLICE));
      await turn();
    }
    this.#prepared = plan;
  }

  /** Encodes the versions of records[from, to) the journal will hold whole, and their attribute JSON. */
  #encodeAhead(records: readonly SessionRecord[], from: number, to: number): void {
    const outgoing = this.#node.outgoing;
    const encoding: SessionRecord[] = [];
    const versions: FlowFileRecord[] = [];
    for (let i = from; i < to; i++) {
      const record = records[i];
      if (record === undefined) continue;
      const { destination, original, current } = record;
      // Provenance events carry the attribute JSON (cached on the version): computed here too.
      current.attributesJson();
      // Encoded: only versions written whole, going to a queue (not removed, not auto-terminated), new or changed.
      const terminated =
        destination === undefined ||
        destination === REMOVED ||
        (typeof destination === 'string' && (outgoing.get(destination)?.length ?? 0) === 0);
      if (terminated || !changed(original, current)) continue;
      encoding.push(record);
      versions.push(current);
    }
    const bytes = this.#host.flowFiles.encodeFlowFiles?.(versions) ?? [];
    for (let i = 0; i < encoding.length; i++) {
      const record = encoding[i];
      if (record === undefined) continue;
      record.encodedVersion = versions[i];
      record.encoded = bytes[i];
    }
  }

  #planRange(plan: CommitPlan, records: readonly SessionRecord[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const record = records[i];
      if (record !== undefined) this.#planRecord(plan, record);
    }
  }

  /** The framework's commit after onTrigger: durable at the next group flush, nobody waits. */
  commitInternal(): void {
    this.#commit(false);
  }

  /** @throws {FlowFileHandlingError} when a FlowFile of the session was neither transferred nor removed. */
  #checkRouted(): void {
    for (const record of this.#records.values()) {
      if (record.destination === undefined) {
        const what = record.origin === 'queue' ? 'taken from a queue' : 'created';
        throw new FlowFileHandlingError(
          `FlowFile ${record.current.uuid} (${what} in this session) was neither transferred nor removed; ${this.#node.type} must route every FlowFile it handles`,
        );
      }
    }
  }

  /** A plan for the records about to be visited (retries applied first: they take records out). */
  #newPlan(now: number): CommitPlan {
    return {
      now,
      outgoing: this.#node.outgoing,
      retried: this.#applyRetries(now),
      walRecords: [],
      events: [],
      drops: [],
      puts: [],
      requeues: new Map(),
      acks: new Map(),
      forks: new Map(),
      releaseAfterDurable: [],
      attributeOnly: [],
      outCount: 0,
      outBytes: 0,
    };
  }

  /** What committing one FlowFile of the session takes: journal records, events, queue moves. */
  #planRecord(plan: CommitPlan, record: SessionRecord): void {
    const { now, walRecords, events } = plan;
    const node = this.#node;
    const provenance = this.#host.provenanceEnabled;
    const { original, source, destination } = record;
    const current = record.current;
    // The taken version's reference ends with this transaction, whatever happens to the FlowFile.
    if (original !== null && source !== null && original.claim !== null) plan.releaseAfterDurable.push(original.claim.resourceId);
    const reverted = plan.retried.get(current.uuid);
    if (reverted !== undefined && source !== null) {
      walRecords.push({ type: 'put', queueId: source.id, flowFile: reverted, full: true, encoded: undefined });
      addTo(plan.requeues, source, reverted);
      return;
    }
    // A FlowFile going back to its own queue is requeued (it is still in flight there), not acknowledged.
    if (original !== null && source !== null && destination !== SELF) addTo(plan.acks, source, original);
    if (provenance) {
      if (record.origin === 'fork' && record.parents[0] !== undefined) addTo(plan.forks, record.parents[0], current.uuid);
      if (record.origin === 'clone' && record.parents[0] !== undefined) {
        const parent = this.#records.get(record.parents[0]);
        if (parent !== undefined) events.push(this.#event('CLONE', parent.current, parent, now, { childUuids: [current.uuid] }));
      }
    }
    const terminated =
      destination === REMOVED || (typeof destination === 'string' && (plan.outgoing.get(destination)?.length ?? 0) === 0);
    if (terminated) {
      if (original !== null) walRecords.push({ type: 'delete', uuid: current.uuid });
      if (provenance) {
        this.#deriveEvents(record, events, now, true, plan.attributeOnly);
        const details =
          destination === REMOVED ? `Removed by ${node.name}` : `Auto-Terminated by ${String(destination)} Relationship`;
        plan.drops.push(this.#event('DROP', current, record, now, { details }));
      }
      return;
    }
    if (provenance) this.#deriveEvents(record, events, now, false, plan.attributeOnly);
    if (destination === SELF) {
      if (source !== null) {
        const full = changed(original, current);
        walRecords.push({
          type: 'put',
          queueId: source.id,
          flowFile: current,
          full,
          encoded: full && record.encodedVersion === current ? record.encoded : undefined,
        });
        addTo(plan.requeues, source, current);
      }
      return;
    }
    const connections = plan.outgoing.get(String(destination)) ?? [];
    for (let i = 0; i < connections.length; i++) {
      const connection = connections[i];
      if (connection === undefined) continue;
      let flowFile = current;
      if (i > 0) {
        // Each further connection of the relationship gets a clone (NiFi: CLONE, same content).
        const cloneId = uuidv7(now);
        const attributes = new Map(current.attributes);
        attributes.set('uuid', cloneId);
        flowFile = new FlowFileRecord(cloneId, attributes, current.claim, current.entryDate, current.lineageStartDate);
        if (provenance) events.push(this.#event('CLONE', current, record, now, { childUuids: [cloneId] }));
      }
      const full = i > 0 || changed(original, flowFile);
      const encoded = full && i === 0 && record.encodedVersion === flowFile ? record.encoded : undefined;
      walRecords.push({ type: 'put', queueId: connection.id, flowFile, full, encoded });
      plan.puts.push([connection, flowFile]);
      plan.outCount++;
      plan.outBytes += flowFile.size;
    }
  }

  #commit(wait: boolean): Promise<void> | undefined {
    this.#checkRouted();
    const node = this.#node;
    const host = this.#host;
    const provenance = host.provenanceEnabled;
    // A plan prepared in slices holds unless the flow was rewired meanwhile (then it is made again).
    let plan = this.#prepared;
    this.#prepared = undefined;
    if (plan === undefined || plan.outgoing !== node.outgoing) {
      plan = this.#newPlan(Date.now());
      for (const record of this.#records.values()) this.#planRecord(plan, record);
    }
    const { now, retried, walRecords, events, drops, puts, requeues, acks, forks, releaseAfterDurable, attributeOnly } = plan;
    const { outCount, outBytes } = plan;
    if (provenance) {
      for (const [parent, children] of forks) {
        const parentRecord = this.#records.get(parent);
        if (parentRecord !== undefined)
          events.push(this.#event('FORK', parentRecord.current, parentRecord, now, { childUuids: children }));
      }
      for (const event of this.#events) {
        const record = this.#records.get(event.uuid);
        if (record !== undefined && !retried.has(event.uuid)) events.push(this.#explicitEvent(event, record, now));
      }
      // ATTRIBUTES_MODIFIED only for FlowFiles no other event covers (FORK, CLONE, ... name them too; NiFi).
      if (attributeOnly.length > 0) {
        const covered = new Set([...events, ...drops].map((e) => e.flowFileUuid));
        for (const record of attributeOnly) {
          if (!covered.has(record.current.uuid)) events.push(this.#event('ATTRIBUTES_MODIFIED', record.current, record, now));
        }
      }
      for (const drop of drops) events.push(drop);
    }
    if (this.#stateOps.length > 0) walRecords.push({ type: 'state', componentId: node.id, ops: this.#stateOps });

    // The repository may refuse the transaction (it encodes and stages state now): before anything
    // else changes, so that a refusal leaves the session intact for the rollback.
    let durable: Promise<void> | undefined;
    if (walRecords.length > 0) {
      if (wait) durable = host.flowFiles.commit(walRecords);
      else host.flowFiles.commitNoWait(walRecords);
    }

    // Content references: every version placed in a queue claims its resource first; then this
    // session's holds go, and (once the transaction is durable) the taken versions' references.
    const content = host.content;
    for (const [, flowFile] of puts) if (flowFile.claim !== null) content.claimant(flowFile.claim.resourceId);
    for (const [, flowFiles] of requeues)
      for (const flowFile of flowFiles) if (flowFile.claim !== null) content.claimant(flowFile.claim.resourceId);
    for (const resourceId of this.#held) content.release(resourceId);

    if (events.length > 0) host.provenance.append(events);
    if (releaseAfterDurable.length > 0) {
      host.flowFiles.afterDurable(() => {
        for (const resourceId of releaseAfterDurable) content.release(resourceId);
      });
    }

    // Queue moves happen now, before the journal write: the journal is one ordered stream, so a
    // downstream commit can never be recovered without this one.
    const stats = node.stats;
    let inCount = 0;
    let inBytes = 0;
    for (const [connection, originals] of acks) {
      connection.queue.acknowledge(originals);
      let bytes = 0;
      for (const f of originals) bytes += f.size;
      connection.outCount.add(originals.length, now);
      connection.outBytes.add(bytes, now);
      inCount += originals.length;
      inBytes += bytes;
    }
    for (const [connection, flowFile] of puts) {
      connection.inCount.add(1, now);
      connection.inBytes.add(flowFile.size, now);
    }
    // Downstream sees the FlowFiles only once this transaction is durable (NiFi writes the journal
    // before changes take effect): no side effect ever acts on data a crash could take back.
    if (puts.length > 0) host.place(puts);
    for (const [connection, flowFiles] of requeues) connection.queue.requeue(flowFiles);
    if (inCount > 0) {
      stats.inCount.add(inCount, now);
      stats.inBytes.add(inBytes, now);
    }
    if (outCount > 0) {
      stats.outCount.add(outCount, now);
      stats.outBytes.add(outBytes, now);
    }
    if (this.#bytesRead > 0) stats.readBytes.add(this.#bytesRead, now);
    if (this.#bytesWritten > 0) stats.writtenBytes.add(this.#bytesWritten, now);
    if (this.#counters !== undefined) {
      for (const [name, delta] of this.#counters) stats.counters.set(name, (stats.counters.get(name) ?? 0) + delta);
    }
    this.#reset();
    return durable ?? (wait ? Promise.resolve() : undefined);
  }

  /**
   * Applies per-relationship retry (NiFi 1.16+): a FlowFile from a queue routed to a retried
   * relationship goes back to its queue as it came in, with `retryCount.<id>` raised and a backoff
   * (penalty on the FlowFile, or a yield of the processor). Its provenance events are discarded and
   * children created from it in this session never happened. Returns the reverted versions by uuid.
   */
  #applyRetries(now: number): Map<string, FlowFileRecord> {
    const out = new Map<string, FlowFileRecord>();
    const retry = this.#node.retry;
    if (retry === undefined || retry.relationships.size === 0) return out;
    const attribute = `retryCount.${this.#node.id}`;
    let yieldMs = 0;
    for (const record of this.#records.values()) {
      const destination = record.destination;
      if (record.original === null || typeof destination !== 'string' || !retry.relationships.has(destination)) continue;
      const attempts = Number(record.original.attributes.get(attribute) ?? '0');
      if (!(attempts < retry.count)) continue;
      const base = retry.backoff === 'penalize' ? this.#node.scheduling.penaltyMs : this.#node.scheduling.yieldMs;
      const backoff = Math.min(retry.maxBackoffMs, 2 ** attempts * base);
      const attributes = new Map(record.original.attributes);
      attributes.set(attribute, String(attempts + 1));
      const penaltyExpiration = retry.backoff === 'penalize' ? now + backoff : record.original.penaltyExpiration;
      if (retry.backoff === 'yield') yieldMs = Math.max(yieldMs, backoff);
      out.set(record.current.uuid, record.original.with({ attributes, penaltyExpiration }));
    }
    if (out.size > 0) {
      for (const [uuid, record] of this.#records) {
        if (record.original === null && record.parents.some((p) => out.has(p))) this.#records.delete(uuid);
      }
      if (yieldMs > 0) this.#node.yieldUntil = Math.max(this.#node.yieldUntil, now + yieldMs);
    }
    return out;
  }

  /**
   * Derived events for one FlowFile: CREATE (unless RECEIVE/FETCH/CREATE was reported), JOIN, and
   * for FlowFiles taken from a queue CONTENT_MODIFIED, or else, when only attributes changed, a
   * candidate for ATTRIBUTES_MODIFIED in `attributeOnly` (emitted by the caller only if no other event
   * of the commit names the FlowFile; NiFi). A FlowFile whose life ends here gets no modification events.
   */
  #deriveEvents(
    record: SessionRecord,
    events: ProvenanceEventInput[],
    now: number,
    terminal: boolean,
    attributeOnly: SessionRecord[],
  ): void {
    const current = record.current;
    if (record.origin === 'create') {
      if (!hasReported(record, 'RECEIVE', 'FETCH', 'CREATE')) events.push(this.#event('CREATE', current, record, now));
    } else if (record.origin === 'join') {
      events.push(this.#event('JOIN', current, record, now, { parentUuids: record.parents }));
    } else if (record.origin === 'queue' && !terminal && record.original !== null) {
      if (record.contentModified) {
        if (!hasReported(record, 'CONTENT_MODIFIED')) events.push(this.#event('CONTENT_MODIFIED', current, record, now));
      } else if (!record.hasEvent && !attributesEqual(record.original.attributes, current.attributes)) {
        attributeOnly.push(record); // decided once every other event of the commit is known
      }
    }
  }

  /**
   * Builds an event as one object literal with every field present: events built by spreading
   * optional parts fall into V8's slow dictionary mode and cost ~1 µs more each on the hot path.
   */
  #event(
    type: ProvenanceEventType,
    flowFile: FlowFileRecord,
    record: SessionRecord,
    now: number,
    extra?: EventExtra,
  ): ProvenanceEventInput {
    const original = record.original;
    const node = this.#node;
    const reported = extra?.reported;
    return {
      eventType: type,
      eventTime: now,
      eventDurationMs: reported?.durationMs,
      flowFileUuid: flowFile.uuid,
      fileSize: flowFile.size,
      previousFileSize: original?.size,
      lineageStartDate: flowFile.lineageStartDate,
      flowFileEntryDate: flowFile.entryDate,
      componentId: node.id,
      componentType: node.type,
      componentName: node.name,
      transitUri: reported?.transitUri,
      sourceSystemFlowFileId: reported?.sourceSystemFlowFileId,
      alternateIdentifierUri: reported?.alternateIdentifierUri,
      details: extra?.details ?? reported?.details,
      relationship: reported?.relationship,
      sourceQueueId: record.source?.id,
      parentUuids: extra?.parentUuids,
      childUuids: extra?.childUuids,
      attributesJson: flowFile.attributesJson(),
      previousAttributesJson:
        original === null || original.attributes === flowFile.attributes ? undefined : original.attributesJson(),
      contentClaim: flowFile.claim,
      previousContentClaim: original?.claim,
    };
  }

  #explicitEvent(event: ReportedEvent, record: SessionRecord, now: number): ProvenanceEventInput {
    return this.#event(event.type, event.snapshot ?? record.current, record, now, { reported: event });
  }

  rollback(penalize = false): void {
    const now = Date.now();
    const penaltyMs = this.#node.scheduling.penaltyMs;
    const requeues = new Map<ConnectionRuntime, FlowFileRecord[]>();
    const forced: ProvenanceEventInput[] = [];
    if (this.#host.provenanceEnabled) {
      for (const event of this.#events) {
        const record = this.#records.get(event.uuid);
        if (event.force && record !== undefined) forced.push(this.#explicitEvent(event, record, now));
      }
    }
    for (const record of this.#records.values()) {
      if (record.original === null || record.source === null) continue;
      const back = penalize ? record.original.with({ penaltyExpiration: now + penaltyMs }) : record.original;
      addTo(requeues, record.source, back);
    }
    for (const resourceId of this.#held) this.#host.content.release(resourceId);
    if (forced.length > 0) this.#host.provenance.append(forced);
    this.#reset();
    for (const [connection, flowFiles] of requeues) connection.queue.requeue(flowFiles);
  }

  #reset(): void {
    this.#records = new Map();
    this.#events = [];
    this.#held = [];
    this.#stateOps = [];
    this.#stateOverlay = undefined;
    this.#stateCleared = false;
    this.#counters = undefined;
    this.#bytesRead = 0;
    this.#bytesWritten = 0;
    this.#prepared = undefined;
  }
}

function isFlowFileList(value: FlowFile | readonly FlowFile[]): value is readonly FlowFile[] {
  return Array.isArray(value);
}

function intersectAttributes(parents: readonly FlowFileRecord[]): Attributes {
  const [first, ...rest] = parents;
  const out = new Map<string, string>();
  if (first === undefined) return out;
  for (const [key, value] of first.attributes) {
    if (rest.every((p) => p.attributes.get(key) === value)) out.set(key, value);
  }
  return out;
}

function attributesEqual(a: Attributes, b: Attributes): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function changed(original: FlowFileRecord | null, current: FlowFileRecord): boolean {
  return (
    original === null ||
    original.attributes !== current.attributes ||
    original.claim !== current.claim ||
    original.penaltyExpiration !== current.penaltyExpiration
  );
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** Whether a processor reported an event of one of `types` for the FlowFile of `record`. */
function hasReported(record: SessionRecord, ...types: ProvenanceEventType[]): boolean {
  return record.reported?.some((t) => types.includes(t)) === true;
}
