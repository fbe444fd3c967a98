import fs from 'node:fs';
import Database from 'better-sqlite3';
import { own } from '../util/parse.ts';
import { decodeIndexFields, filenameHash } from './event-codec.ts';
import { blockOf, SCHEMA_SQL, SCHEMA_VERSION, TABLES } from './index-schema.ts';
import type { FromIndexer, IndexerInit, ToIndexer } from './indexer-protocol.ts';
import { sqlNumber } from './indexer-protocol.ts';
import { FRAME_HEADER_BYTES, type Frame, FrameReader, frameRecordsValid, listSegments, SEGMENT_HEADER_BYTES } from './journal.ts';

/** Events per index transaction: large enough to amortize the commit, small enough to answer messages often. */
const BATCH_EVENTS = 16_384;
/** Rows deleted per transaction by retention, so queries and indexing interleave. */
const DELETE_CHUNK = 20_000;

type Retain = Extract<ToIndexer, { type: 'retain' }>;

/** Columns of an `events` row, in insert order. */
const EVENT_COLUMNS = 8;
/** Rows per multi-row INSERT: one statement call (and one crossing into SQLite) inserts this many. */
const ROWS_PER_INSERT = 64;

type EventRow = [number, number, number, number, number | null, number | null, number, number];

/** `(?, ?, ...), (?, ?, ...)...`: `rows` groups of `columns` placeholders. */
function placeholders(rows: number, columns: number): string {
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => row).join(', ');
}

function prepareStatements(db: Database.Database) {
  const insertEvents = 'INSERT OR IGNORE INTO events (event_id, time, type, component, fblock, fhash, off, len) VALUES ';
  const insertFlowFiles = 'INSERT OR IGNORE INTO flowfile_events (uuid, event_id) VALUES ';
  return {
    insertEventRows: db.prepare<unknown[]>(insertEvents + placeholders(ROWS_PER_INSERT, EVENT_COLUMNS)),
    insertFlowFileRows: db.prepare<unknown[]>(insertFlowFiles + placeholders(ROWS_PER_INSERT, 2)),
    // OR IGNORE, not OR REPLACE: ids are never indexed twice (the position commits with the rows),
    // and REPLACE's conflict handling cost ~12% of indexing throughput.
    insertEvent: db.prepare<[number, number, number, number, number | null, number | null, number, number]>(
      'INSERT OR IGNORE INTO events (event_id, time, type, component, fblock, fhash, off, len) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertFlowFile: db.prepare<[string, number]>('INSERT OR IGNORE INTO flowfile_events (uuid, event_id) VALUES (?, ?)'),
    deleteFlowFile: db.prepare<[string, number]>('DELETE FROM flowfile_events WHERE uuid = ? AND event_id = ?'),
    insertComponent: db.prepare<[string]>('INSERT INTO components (name) VALUES (?) ON CONFLICT (name) DO NOTHING'),
    componentId: db.prepare<[string]>('SELECT id FROM components WHERE name = ?').pluck(),
    timeBlock: db.prepare<[number, number, number]>(
      'INSERT INTO time_blocks (block, min_time, max_time) VALUES (?, ?, ?) ON CONFLICT (block) DO UPDATE SET ' +
        'min_time = min(min_time, excluded.min_time), max_time = max(max_time, excluded.max_time)',
    ),
    segment: db.prepare<[number, number, number, number]>(
      'INSERT INTO segments (first_id, last_id, min_time, max_time) VALUES (?, ?, ?, ?) ON CONFLICT (first_id) DO UPDATE SET ' +
        'last_id = max(last_id, excluded.last_id), min_time = min(min_time, excluded.min_time), max_time = max(max_time, excluded.max_time)',
    ),
    setMeta: db.prepare<[string, number]>('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    getMeta: db.prepare<[string]>('SELECT value FROM meta WHERE key = ?').pluck(),
    deleteEvents: db.prepare<[number, number]>('DELETE FROM events WHERE event_id >= ? AND event_id < ?'),
  };
}

interface Range {
  min: number;
  max: number;
}

/**
 * The indexer that runs in the worker thread: tails the journal segments up to what the main thread
 * reported written and indexes their events into SQLite in batched transactions, persisting its
 * position in the same transactions. Also deletes the rows of segments that retention removes.
 * Throws (crashing the worker, which the repository reports) on SQLite or I/O errors.
 */
export class Indexer {
  readonly #init: IndexerInit;
  readonly #post: (message: FromIndexer) => void;
  readonly #db: Database.Database;
  readonly #reader = new FrameReader(8 << 20);
  readonly #components = new Map<string, number>();
  /** Rows of the batch being indexed, gathered into multi-row inserts (flushed before it commits). */
  readonly #eventRows: unknown[] = [];
  readonly #flowFileRows: unknown[] = [];
  readonly #retains: Retain[] = [];
  readonly #stmt: ReturnType<typeof prepareStatements>;
  /** Position: the next frame to read. */
  #segment = 0;
  #offset = 0;
  #indexedId = 0;
  /** What the main thread reported written. */
  #limitSegment: number;
  #limitEnd: number;
  #limitId: number;
  #fd = -1;
  #fdSegment = -1;
  /** Size of a finished (rolled-over) segment. */
  #fdSize = -1;
  #scheduled = false;
  #stopped = false;
  #onStopped: (() => void) | undefined;

  constructor(init: IndexerInit, post: (message: FromIndexer) => void) {
    this.#init = init;
    this.#post = post;
    this.#limitSegment = init.lastSegment;
    this.#limitEnd = init.end;
    this.#limitId = init.nextId - 1;
    this.#db = this.#openDatabase();
    this.#stmt = prepareStatements(this.#db);
    this.#recover();
  }

  /** The last indexed id. */
  get indexedId(): number {
    return this.#indexedId;
  }

  /** Handles a message of the main thread. */
  handle(message: ToIndexer, onStopped: () => void): void {
    if (this.#stopped) return;
    switch (message.type) {
      case 'written':
        if (message.lastId > this.#limitId || message.segment > this.#limitSegment) {
          this.#limitSegment = message.segment;
          this.#limitEnd = message.end;
          this.#limitId = message.lastId;
        }
        break;
      case 'retain':
        this.#retains.push(message);
        break;
      case 'stop':
        this.#stopped = true;
        this.#onStopped = onStopped;
        break;
    }
    this.schedule();
  }

  /** Runs pending work soon, letting messages in between batches. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#run());
  }

  /** Closes the database (the position is already persisted with the last batch). */
  close(): void {
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
    if (this.#db.open) this.#db.close();
  }

  /** Opens (creating) the index; an unreadable one is deleted and rebuilt, since the journal is the record. */
  #openDatabase(): Database.Database {
    try {
      return this.#tryOpenDatabase();
    } catch (error) {
      const code = error instanceof Error ? own(error, 'code') : undefined;
      if (code !== 'SQLITE_NOTADB' && !(typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) throw error;
      this.#post({
        type: 'log',
        level: 'WARN',
        message: `provenance index is unreadable (${String(code)}): rebuilding it from the journal`,
      });
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(this.#init.dbPath + suffix, { force: true });
      return this.#tryOpenDatabase();
    }
  }

  #tryOpenDatabase(): Database.Database {
    const db = new Database(this.#init.dbPath);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -16384');
      // Truncate the WAL after checkpoints: it counts towards the size limit.
      db.pragma('journal_size_limit = 8388608');
      db.exec(SCHEMA_SQL);
      const version = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('schema');
      if (version !== undefined && version !== SCHEMA_VERSION) {
        this.#post({
          type: 'log',
          level: 'WARN',
          message: `provenance index schema ${String(version)} is outdated: rebuilding it from the journal`,
        });
        for (const table of TABLES) db.exec(`DROP TABLE IF EXISTS ${table}`);
        db.exec(SCHEMA_SQL);
      }
      db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Reconciles the persisted position with the journal as recovery left it. */
  #recover(): void {
    const s = this.#stmt;
    const meta = (key: string): number => {
      const v = s.getMeta.get(key);
      return v === undefined ? 0 : sqlNumber(v, key);
    };
    let segment = meta('segment');
    let offset = meta('offset');
    let indexedId = meta('indexed_id');
    const { lastSegment, end, nextId } = this.#init;
    const segments = listSegments(this.#init.directory);
    const first = segments[0]?.firstId ?? lastSegment;

    this.#db.transaction(() => {
      if (indexedId >= nextId || segment > lastSegment || (segment === lastSegment && offset > end)) {
        // The index is ahead of the journal: its tail was torn (power loss) after being indexed.
        // The ids will be assigned again, so their rows must go; flowfile_events has no id index,
        // hence a full scan on this rare path.
        s.deleteEvents.run(nextId, Number.MAX_SAFE_INTEGER);
        this.#db.prepare('DELETE FROM flowfile_events WHERE event_id >= ?').run(nextId);
        this.#db.prepare('UPDATE segments SET last_id = ? WHERE last_id >= ?').run(nextId - 1, nextId);
        this.#db.prepare('DELETE FROM segments WHERE first_id >= ?').run(nextId);
        this.#post({
          type: 'log',
          level: 'WARN',
          message: `provenance index was ahead of the journal: dropped events from ${nextId}`,
        });
        segment = lastSegment;
        offset = end;
        indexedId = nextId - 1;
      }
      if (segment === 0) {
        segment = first;
        offset = SEGMENT_HEADER_BYTES;
      } else if (!segments.some((x) => x.firstId === segment)) {
        // Its segment was deleted (retention): continue with the next one.
        segment = segments.find((x) => x.firstId > segment)?.firstId ?? lastSegment;
        offset = SEGMENT_HEADER_BYTES;
      }
      // Rows below the oldest segment are left over from a retention interrupted by a crash.
      s.deleteEvents.run(0, first);
      this.#savePosition(segment, offset, indexedId);
    })();
    this.#segment = segment;
    this.#offset = offset;
    this.#indexedId = indexedId;
  }

  #savePosition(segment: number, offset: number, indexedId: number): void {
    this.#stmt.setMeta.run('segment', segment);
    this.#stmt.setMeta.run('offset', offset);
    this.#stmt.setMeta.run('indexed_id', indexedId);
  }

  #run(): void {
    try {
      this.#step();
    } catch (error) {
      // better-sqlite3's SqliteError loses its message when a worker error is cloned to the main
      // thread: rethrow as a plain Error that keeps the message and the SQLite code.
      const code = error instanceof Error ? own(error, 'code') : undefined;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(typeof code === 'string' ? `${message} (${code})` : message);
    }
  }

  #step(): void {
    this.#scheduled = false;
    if (this.#stopped) {
      this.close();
      this.#onStopped?.();
      return;
    }
    const retain = this.#retains.shift();
    if (retain !== undefined) {
      this.#retain(retain);
      this.#post({ type: 'retained', requestId: retain.requestId });
      this.schedule();
      return;
    }
    const more = this.#indexBatch();
    // Once everything reported written is consumed (even frames skipped as corrupt), report the
    // writer's id, so that waitForIndex never waits on events that cannot be indexed.
    if (!more && this.#indexedId < this.#limitId) this.#indexedId = this.#limitId;
    this.#post({ type: 'progress', indexedId: this.#indexedId, caughtUp: !more });
    if (more) this.schedule();
  }

  /** Whether the position is before the end of what is known to be written. */
  #hasWork(): boolean {
    return this.#segment < this.#limitSegment || this.#offset < this.#limitEnd;
  }

  /** Indexes up to a batch of events in one transaction; returns whether work remains. */
  #indexBatch(): boolean {
    if (!this.#hasWork()) return false;
    const blocks = new Map<number, Range>();
    const segments = new Map<number, Range & { last: number }>();
    let events = 0;
    this.#db.transaction(() => {
      // Rows left by a batch whose transaction failed were rolled back: start clean.
      this.#eventRows.length = 0;
      this.#flowFileRows.length = 0;
      while (events < BATCH_EVENTS && this.#hasWork()) {
        const fd = this.#open(this.#segment);
        const finished = this.#segment < this.#limitSegment;
        const end = finished ? this.#fdSize : this.#limitEnd;
        if (this.#offset >= end) {
          if (finished) this.#nextSegment();
          else break;
          continue;
        }
        const frame = this.#reader.read(fd, this.#offset, end);
        if (typeof frame === 'string' || frame.firstId <= this.#indexedId || !frameRecordsValid(frame)) {
          this.#post({
            type: 'log',
            level: 'ERROR',
            message: `provenance journal segment ${this.#segment}: ${typeof frame === 'string' ? frame : 'invalid'} frame at byte ${this.#offset}, skipped ${end - this.#offset} bytes`,
          });
          // Frames end where the writer's writes ended, so indexing resumes cleanly after `end`.
          if (finished) this.#nextSegment();
          else this.#offset = end;
          continue;
        }
        this.#indexFrame(frame, blocks, segments);
        events += frame.count;
        this.#offset = frame.next;
        this.#indexedId = frame.firstId + frame.count - 1;
      }
      this.#flushRows();
      for (const [block, r] of blocks) this.#stmt.timeBlock.run(block, r.min, r.max);
      for (const [first, r] of segments) this.#stmt.segment.run(first, r.last, r.min, r.max);
      this.#savePosition(this.#segment, this.#offset, this.#indexedId);
    })();
    return this.#hasWork();
  }

  #indexFrame(frame: Frame, blocks: Map<number, Range>, segments: Map<number, Range & { last: number }>): void {
    const s = this.#stmt;
    const buf = frame.buf;
    const fileBase = frame.offset + FRAME_HEADER_BYTES - frame.eventsAt;
    let p = frame.eventsAt;
    let minTime = Number.POSITIVE_INFINITY;
    let maxTime = Number.NEGATIVE_INFINITY;
    const eventRows = this.#eventRows;
    const flowFileRows = this.#flowFileRows;
    for (let i = 0; i < frame.count; i++) {
      const len = buf.readUInt32LE(p);
      const id = frame.firstId + i;
      const f = decodeIndexFields(buf, p, len);
      // NOT NULL columns: a NaN time would fail the insert and stop indexing for good.
      const time = Number.isFinite(f.time) ? f.time : 0;
      const filename = f.filename;
      eventRows.push(
        id,
        time,
        f.type,
        this.#componentKey(f.componentId),
        filename === undefined ? null : blockOf(id),
        filename === undefined ? null : filenameHash(filename),
        fileBase + p,
        len,
      );
      if (eventRows.length === ROWS_PER_INSERT * EVENT_COLUMNS) {
        s.insertEventRows.run(eventRows);
        eventRows.length = 0;
      }
      flowFileRows.push(f.flowFileUuid, id);
      for (const uuid of f.parentUuids) flowFileRows.push(uuid, id);
      for (const uuid of f.childUuids) flowFileRows.push(uuid, id);
      while (flowFileRows.length >= ROWS_PER_INSERT * 2) {
        s.insertFlowFileRows.run(flowFileRows.slice(0, ROWS_PER_INSERT * 2));
        flowFileRows.splice(0, ROWS_PER_INSERT * 2);
      }
      const block = blockOf(id);
      const r = blocks.get(block);
      if (r === undefined) blocks.set(block, { min: time, max: time });
      else {
        if (time < r.min) r.min = time;
        if (time > r.max) r.max = time;
      }
      if (time < minTime) minTime = time;
      if (time > maxTime) maxTime = time;
      p += len;
    }
    if (frame.count === 0) return;
    const last = frame.firstId + frame.count - 1;
    const r = segments.get(this.#segment);
    if (r === undefined) segments.set(this.#segment, { min: minTime, max: maxTime, last });
    else {
      r.min = Math.min(r.min, minTime);
      r.max = Math.max(r.max, maxTime);
      r.last = Math.max(r.last, last);
    }
  }

  /** Inserts the rows still gathered (fewer than a multi-row insert takes), one per statement. */
  #flushRows(): void {
    const s = this.#stmt;
    const events = this.#eventRows;
    for (let at = 0; at < events.length; at += EVENT_COLUMNS)
      s.insertEvent.run(...(events.slice(at, at + EVENT_COLUMNS) as EventRow));
    events.length = 0;
    const flowFiles = this.#flowFileRows;
    for (let at = 0; at < flowFiles.length; at += 2) s.insertFlowFile.run(...(flowFiles.slice(at, at + 2) as [string, number]));
    flowFiles.length = 0;
  }

  #componentKey(name: string): number {
    const cached = this.#components.get(name);
    if (cached !== undefined) return cached;
    this.#stmt.insertComponent.run(name);
    const id = sqlNumber(this.#stmt.componentId.get(name), 'component id');
    this.#components.set(name, id);
    return id;
  }

  /** Opens the segment at the position (and learns its size once it is finished). */
  #open(segment: number): number {
    if (this.#fdSegment !== segment) {
      if (this.#fd >= 0) fs.closeSync(this.#fd);
      this.#fd = -1;
      this.#reader.invalidate();
      const found = listSegments(this.#init.directory).find((x) => x.firstId === segment);
      // A segment the writer reported and that is gone is an environment fault: fail loudly.
      if (found === undefined) throw new Error(`provenance journal segment ${segment} is missing from ${this.#init.directory}`);
      this.#fd = fs.openSync(found.path, 'r');
      this.#fdSegment = segment;
      this.#fdSize = -1;
    }
    if (this.#fdSize < 0 && segment < this.#limitSegment) this.#fdSize = fs.fstatSync(this.#fd).size;
    return this.#fd;
  }

  #nextSegment(): void {
    const next = listSegments(this.#init.directory).find((x) => x.firstId > this.#segment);
    this.#segment = next === undefined ? this.#limitSegment : Math.min(next.firstId, this.#limitSegment);
    this.#offset = SEGMENT_HEADER_BYTES;
  }

  /**
   * Deletes the index rows of segments about to be deleted: flowfile_events rows are found by
   * reading the segments (that table is keyed by uuid), events rows by id range. Chunked.
   */
  #retain(request: Retain): void {
    const s = this.#stmt;
    const reader = new FrameReader(8 << 20);
    let pending = 0;
    let tx = false;
    const begin = (): void => {
      if (!tx) this.#db.exec('BEGIN');
      tx = true;
    };
    const commit = (): void => {
      if (tx) this.#db.exec('COMMIT');
      tx = false;
      pending = 0;
    };
    try {
      for (const segment of request.segments) {
        let fd: number;
        try {
          fd = fs.openSync(segment.path, 'r');
        } catch {
          continue;
        }
        try {
          const size = fs.fstatSync(fd).size;
          let pos = SEGMENT_HEADER_BYTES;
          for (;;) {
            const frame = reader.read(fd, pos, size);
            if (typeof frame === 'string' || !frameRecordsValid(frame)) break;
            begin();
            let p = frame.eventsAt;
            for (let i = 0; i < frame.count; i++) {
              const len = frame.buf.readUInt32LE(p);
              const id = frame.firstId + i;
              const f = decodeIndexFields(frame.buf, p, len);
              s.deleteFlowFile.run(f.flowFileUuid, id);
              for (const uuid of f.parentUuids) s.deleteFlowFile.run(uuid, id);
              for (const uuid of f.childUuids) s.deleteFlowFile.run(uuid, id);
              pending += 1 + f.parentUuids.length + f.childUuids.length;
              p += len;
            }
            if (pending >= DELETE_CHUNK) commit();
            pos = frame.next;
          }
        } finally {
          fs.closeSync(fd);
          reader.invalidate();
        }
      }
      commit();
      const from = request.segments[0]?.firstId ?? request.nextFirstId;
      for (let lo = from; lo < request.nextFirstId; lo += DELETE_CHUNK) {
        this.#db.transaction(() => s.deleteEvents.run(lo, Math.min(lo + DELETE_CHUNK, request.nextFirstId)))();
      }
      this.#db.transaction(() => {
        // Rows below the first retained id may predate `from` (left by an interrupted retention).
        s.deleteEvents.run(0, from);
        this.#db.prepare('DELETE FROM time_blocks WHERE block < ?').run(blockOf(request.nextFirstId));
        this.#db.prepare('DELETE FROM segments WHERE first_id < ?').run(request.nextFirstId);
      })();
    } finally {
      if (tx) this.#db.exec('ROLLBACK');
    }
  }
}
