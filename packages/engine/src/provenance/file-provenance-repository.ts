import fs from 'node:fs';
import path from 'node:path';
import type { LogSink } from '../logging.ts';
import { decodeRecord, decodeSummary, type EventSummary, eventTypeIndex, filenameHash } from './event-codec.ts';
import { type CandidateFilter, IndexReader } from './index-reader.ts';
import { INDEX_FILE } from './index-schema.ts';
import { IndexerClient } from './indexer-client.ts';
import { JournalWriter, SegmentFiles } from './journal.ts';
import { computeLineage, expandChildren, expandParents, type LineageSource } from './lineage.ts';
import { attributeNeedle, matchesUnindexed, searchLimit } from './query.ts';
import {
  ATTRIBUTE_SCAN_LIMIT,
  type LineageGraph,
  type ProvenanceEventInput,
  type ProvenanceEventRecord,
  type ProvenanceQuery,
  type ProvenanceRepository,
  type ProvenanceRepositoryOptions,
} from './types.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULTS = {
  maxAgeMs: 30 * DAY_MS,
  maxBytes: 10 * 1024 ** 3,
  retentionIntervalMs: 60_000,
  rolloverBytes: 64 * 1024 ** 2,
  rolloverMs: 10 * 60_000,
};
/** Candidates fetched per SQL round when results are filtered after decoding. */
const FILTER_PAGE = 1_000;

type State = 'new' | 'opening' | 'open' | 'closed';

/**
 * The durable provenance repository (NiFi's write-ahead provenance repository, with SQLite as the
 * index). It owns `options.directory`: journal segments (the storage of record) and the index database.
 *
 * - `append` encodes events into frames in memory on the calling thread (0.5-1 µs per event);
 *   `flush` writes them with one write (~0.25 µs per event; survives kill -9); `sync` fdatasyncs
 *   them (power loss).
 * - A worker thread tails the segments and indexes the events in SQLite; queries see an event once
 *   it is indexed ({@link FileProvenanceRepository.waitForIndex}). Queries run synchronously on the
 *   calling thread through a read-only connection plus positional reads of the segments.
 * - Retention deletes whole oldest segments by age and total size, index rows first (in the worker).
 *
 * Methods other than `open` throw an Error when the repository is not open. A crashed indexer is
 * logged and rejects `waitForIndex`; appends keep working (the journal stays the record, and the
 * next open indexes what was missed).
 */
export class FileProvenanceRepository implements ProvenanceRepository {
  readonly #directory: string;
  readonly #dbPath: string;
  readonly #maxAgeMs: number;
  readonly #maxBytes: number;
  readonly #retentionIntervalMs: number;
  readonly #log: LogSink | undefined;
  readonly #journal: JournalWriter;
  readonly #files: SegmentFiles;
  readonly #indexer: IndexerClient;
  #reader: IndexReader | undefined;
  #state: State = 'new';
  #timer: NodeJS.Timeout | undefined;
  #retaining: Promise<void> | undefined;

  constructor(options: ProvenanceRepositoryOptions) {
    this.#directory = options.directory;
    this.#dbPath = path.join(options.directory, INDEX_FILE);
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULTS.maxAgeMs;
    this.#maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    this.#retentionIntervalMs = options.retentionIntervalMs ?? DEFAULTS.retentionIntervalMs;
    this.#log = options.log;
    this.#indexer = new IndexerClient(options.log);
    this.#journal = new JournalWriter({
      directory: options.directory,
      rolloverBytes: options.rolloverBytes ?? DEFAULTS.rolloverBytes,
      rolloverMs: options.rolloverMs ?? DEFAULTS.rolloverMs,
      power: options.durability === 'power',
      onWritten: (segment, end, lastId) => this.#indexer.written(segment, end, lastId),
      onBackgroundError: (error) => this.#warn('provenance journal: a large batch of events could not be written yet', error),
    });
    this.#files = new SegmentFiles(this.#journal.segments);
  }

  /**
   * Recovers the journal (drops a torn tail), starts the indexer, which re-indexes what the index
   * had not reached, and starts the retention timer. Resolves before the catch-up indexing ends.
   * @throws when the directory or the index cannot be opened, or when called twice.
   */
  async open(): Promise<void> {
    if (this.#state !== 'new') throw new Error('provenance repository: open() may be called once');
    this.#state = 'opening';
    try {
      const tail = this.#journal.open();
      if (tail.droppedBytes > 0) {
        this.#warn(
          `provenance journal: dropped a torn or corrupt tail of ${tail.droppedBytes} bytes; events continue at id ${tail.nextId}`,
        );
      }
      await this.#indexer.start({
        directory: this.#directory,
        dbPath: this.#dbPath,
        lastSegment: this.#journal.current.firstId,
        end: tail.end,
        nextId: tail.nextId,
      });
      this.#reader = new IndexReader(this.#dbPath);
      if (this.#state !== 'opening') throw new Error('provenance repository was closed while opening');
      this.#state = 'open';
    } catch (error) {
      this.#state = 'closed';
      this.#reader?.close();
      await this.#indexer.stop();
      this.#journal.close();
      throw error;
    }
    this.#timer = setInterval(() => {
      this.enforceRetention().catch((error: unknown) => this.#warn('provenance retention failed', error));
    }, this.#retentionIntervalMs);
    this.#timer.unref();
  }

  /**
   * Assigns ids and encodes the events (all or none). Durable at the next {@link flush}.
   * @throws {TypeError} for an unknown event type; Error when not open.
   */
  append(events: readonly ProvenanceEventInput[]): number {
    this.#assertOpen();
    return this.#journal.append(events);
  }

  /** Writes appended events to the journal with one write. @throws on I/O errors (the events stay pending). */
  flush(): void {
    this.#assertOpen();
    this.#journal.flush();
  }

  /** fdatasyncs the journal (`power` durability); call after {@link flush}. */
  async sync(): Promise<void> {
    this.#assertOpen();
    await this.#journal.sync();
  }

  /** Flushes, then resolves once everything appended so far is searchable. @throws the indexer's failure. */
  waitForIndex(): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new Error('provenance repository is not open'));
    this.#journal.flush();
    return this.#indexer.waitFor(this.#journal.nextId - 1);
  }

  /**
   * Indexed events matching all criteria, newest (highest id) first. The most selective indexed
   * criterion drives the query (uuid, then filename, component, type, then time alone); an
   * `attribute` criterion reads at most {@link ATTRIBUTE_SCAN_LIMIT} candidates.
   * @throws {TypeError} for an unknown event type.
   */
  search(query: ProvenanceQuery): ProvenanceEventRecord[] {
    const reader = this.#open();
    const limit = searchLimit(query);
    if (limit === 0) return [];
    let lo = 0;
    let hi = query.beforeEventId === undefined ? Number.MAX_SAFE_INTEGER : query.beforeEventId - 1;
    if (query.startTime !== undefined || query.endTime !== undefined) {
      const range = reader.idRange(query.startTime, query.endTime);
      if (range === undefined) return [];
      lo = range.lo;
      hi = Math.min(hi, range.hi);
    }
    let component: number | undefined;
    if (query.componentId !== undefined) {
      component = reader.componentKey(query.componentId);
      if (component === undefined) return [];
    }
    const filter: CandidateFilter = {
      uuid: query.flowFileUuid,
      component,
      type: query.eventType === undefined ? undefined : eventTypeIndex(query.eventType),
      filenameHash: query.filename === undefined ? undefined : filenameHash(query.filename),
      startTime: query.startTime,
      endTime: query.endTime,
    };
    const filtered = query.filename !== undefined || query.attribute !== undefined;
    const needle = attributeNeedle(query);
    const needleBytes = needle === undefined ? undefined : Buffer.from(needle, 'utf8');
    const page = filtered ? Math.max(limit, FILTER_PAGE) : limit;
    const out: ProvenanceEventRecord[] = [];
    let scanned = 0;
    while (lo <= hi) {
      const candidates = reader.candidates(filter, lo, hi, page);
      for (const p of candidates) {
        const buf = this.#files.read(p.eventId, p.off, p.len);
        if (buf === undefined) continue;
        // The attribute value must occur in the record's bytes before the record is worth parsing.
        if (needleBytes !== undefined && buf.subarray(0, p.len).indexOf(needleBytes) < 0) continue;
        const record = this.#decode(buf, p.len, p.eventId);
        if (record === undefined || (filtered && !matchesUnindexed(record, query))) continue;
        out.push(record);
        if (out.length >= limit) return out;
      }
      const last = candidates.at(-1);
      if (candidates.length < page || last === undefined) break;
      hi = last.eventId - 1;
      scanned += candidates.length;
      if (query.attribute !== undefined && scanned >= ATTRIBUTE_SCAN_LIMIT) break;
    }
    return out;
  }

  /** An indexed event, or undefined (unknown id, not indexed yet, or deleted by retention). */
  getEvent(eventId: number): ProvenanceEventRecord | undefined {
    const p = this.#open().pointer(eventId);
    if (p === undefined) return undefined;
    const buf = this.#files.read(p.eventId, p.off, p.len);
    return buf === undefined ? undefined : this.#decode(buf, p.len, p.eventId);
  }

  /** See {@link computeLineage}. */
  lineage(flowFileUuid: string, options?: { maxNodes?: number }): LineageGraph {
    return computeLineage(this.#lineageSource(), flowFileUuid, options?.maxNodes);
  }

  /** See {@link expandParents}. */
  expandParents(eventId: number): LineageGraph {
    return expandParents(this.#lineageSource(), eventId);
  }

  /** See {@link expandChildren}. */
  expandChildren(eventId: number): LineageGraph {
    return expandChildren(this.#lineageSource(), eventId);
  }

  /**
   * Deletes the oldest segments (index rows first, in the worker) while the oldest segment's newest
   * event is older than maxAgeMs or storage exceeds maxBytes. Never deletes the segment being
   * written or one not fully indexed. Concurrent calls share one run.
   */
  enforceRetention(): Promise<void> {
    this.#assertOpen();
    if (this.#retaining === undefined) {
      this.#retaining = this.#retain().finally(() => {
        this.#retaining = undefined;
      });
    }
    return this.#retaining;
  }

  /** Event count (retained, including not yet indexed), oldest indexed event time, bytes on disk, index lag. */
  indexLag(): number {
    return this.#state === 'open' ? Math.max(0, this.#journal.nextId - 1 - this.#indexer.indexedId) : 0;
  }

  stats(): { events: number; oldestEventTime: number | null; bytes: number; indexLag: number } {
    const reader = this.#open();
    const segments = this.#journal.segments;
    const first = segments[0]?.firstId ?? this.#journal.nextId;
    return {
      events: this.#journal.nextId - first,
      oldestEventTime: reader.oldestTime(),
      bytes: this.#segmentBytes() + this.#indexBytes(),
      indexLag: Math.max(0, this.#journal.nextId - 1 - this.#indexer.indexedId),
    };
  }

  /** Flushes, stops the retention timer and the indexer (after its current batch), closes files. */
  async close(): Promise<void> {
    if (this.#state !== 'open') {
      // Closing while opening makes open() fail and clean up.
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    clearInterval(this.#timer);
    await this.#retaining?.catch(() => undefined);
    try {
      this.#journal.close();
    } finally {
      // The worker's connection must close last: only a writer checkpoints and removes the WAL.
      this.#reader?.close();
      this.#files.close();
      await this.#indexer.stop();
    }
  }

  async #retain(): Promise<void> {
    const reader = this.#open();
    this.#journal.rollIfIdle();
    const segments = this.#journal.segments;
    if (segments.length < 2) return;
    const info = reader.segmentInfo();
    const indexedId = this.#indexer.indexedId;
    const cutoff = Date.now() - this.#maxAgeMs;
    const indexBytes = this.#indexBytes();
    const first = segments[0]?.firstId ?? 0;
    const totalEvents = Math.max(1, this.#journal.writtenId + 1 - first);
    let total = this.#segmentBytes() + indexBytes;
    let count = 0;
    for (let i = 0; i + 1 < segments.length; i++) {
      const s = segments[i];
      const next = segments[i + 1];
      if (s === undefined || next === undefined || next.firstId - 1 > indexedId) break;
      // No info: a segment whose rows an interrupted retention already deleted (or only corrupt frames).
      const newest = info.get(s.firstId)?.maxTime ?? Number.NEGATIVE_INFINITY;
      if (newest >= cutoff && total <= this.#maxBytes) break;
      // The index file does not shrink, but its freed pages are reused: count the segment's share.
      total -= s.bytes + (indexBytes * (next.firstId - s.firstId)) / totalEvents;
      count++;
    }
    if (count === 0) return;
    const doomed = segments.slice(0, count);
    const keep = segments[count];
    if (keep === undefined) return;
    await this.#indexer.retain(
      doomed.map((s) => ({ firstId: s.firstId, path: s.path })),
      keep.firstId,
    );
    if (this.#state !== 'open') return;
    for (const s of doomed) this.#files.forget(s.firstId);
    this.#journal.deleteOldest(count);
  }

  #lineageSource(): LineageSource {
    const reader = this.#open();
    const summaries = new Map<number, EventSummary>();
    const summary = (eventId: number, off: number, len: number): EventSummary | undefined => {
      const cached = summaries.get(eventId);
      if (cached !== undefined) return cached;
      const buf = this.#files.read(eventId, off, len);
      if (buf === undefined) return undefined;
      try {
        const s = decodeSummary(buf, 0, len, eventId);
        summaries.set(eventId, s);
        return s;
      } catch (error) {
        this.#warn(`provenance event ${eventId} is corrupt`, error);
        return undefined;
      }
    };
    return {
      eventsOf: (uuid, limit) => {
        const out: EventSummary[] = [];
        for (const p of reader.flowFileEvents(uuid, limit)) {
          const s = summary(p.eventId, p.off, p.len);
          if (s !== undefined) out.push(s);
        }
        return out;
      },
      event: (eventId) => {
        const p = reader.pointer(eventId);
        return p === undefined ? undefined : summary(p.eventId, p.off, p.len);
      },
    };
  }

  #decode(buf: Buffer, len: number, eventId: number): ProvenanceEventRecord | undefined {
    try {
      return decodeRecord(buf, 0, len, eventId);
    } catch (error) {
      this.#warn(`provenance event ${eventId} is corrupt`, error);
      return undefined;
    }
  }

  #segmentBytes(): number {
    let n = 0;
    for (const s of this.#journal.segments) n += s.bytes;
    return n;
  }

  #indexBytes(): number {
    let n = 0;
    for (const suffix of ['', '-wal']) {
      try {
        n += fs.statSync(this.#dbPath + suffix).size;
      } catch {
        // The WAL file comes and goes with checkpoints.
      }
    }
    return n;
  }

  #open(): IndexReader {
    this.#assertOpen();
    const reader = this.#reader;
    if (reader === undefined) throw new Error('provenance repository is not open');
    return reader;
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new Error('provenance repository is not open');
  }

  #warn(message: string, error?: unknown): void {
    this.#log?.({ time: Date.now(), level: 'WARN', message, ...(error === undefined ? {} : { error }) });
  }
}
