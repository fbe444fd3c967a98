import Database from 'better-sqlite3';
import { BLOCK_EVENTS, blockOf } from './index-schema.ts';
import { sqlNumber, sqlRow } from './indexer-protocol.ts';

/** Where an event's record lies in its segment. */
export interface Pointer {
  readonly eventId: number;
  readonly off: number;
  readonly len: number;
}

/** Indexed criteria of a search; all given ones must match. */
export interface CandidateFilter {
  readonly uuid?: string | undefined;
  readonly component?: number | undefined;
  readonly type?: number | undefined;
  readonly filenameHash?: number | undefined;
  readonly startTime?: number | undefined;
  readonly endTime?: number | undefined;
}

type Param = string | number;

/** Per-segment facts the indexer recorded (retention reads the newest event time). */
export interface SegmentIndexInfo {
  readonly lastId: number;
  readonly minTime: number;
  readonly maxTime: number;
}

function pointers(rows: unknown[]): Pointer[] {
  const out = new Array<Pointer>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = sqlRow(rows[i]);
    out[i] = { eventId: sqlNumber(r[0], 'event_id'), off: sqlNumber(r[1], 'off'), len: sqlNumber(r[2], 'len') };
  }
  return out;
}

/**
 * The main thread's read-only connection to the provenance index (WAL lets it read while the
 * worker writes). Answers the SQL half of queries synchronously; records are then read from the
 * segments. @throws on SQLite errors.
 */
export class IndexReader {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement<Param[]>>();

  constructor(dbPath: string) {
    this.#db = new Database(dbPath, { readonly: true, fileMustExist: true });
    this.#db.pragma('cache_size = -8192');
  }

  /** The interned key of a component id, if the index has seen it. */
  componentKey(componentId: string): number | undefined {
    const v = this.#stmt('SELECT id FROM components WHERE name = ?').pluck().get(componentId);
    return v === undefined ? undefined : sqlNumber(v, 'component id');
  }

  /** Where an indexed event lies. */
  pointer(eventId: number): Pointer | undefined {
    const rows = this.#stmt('SELECT event_id, off, len FROM events WHERE event_id = ?').raw().all(eventId);
    return pointers(rows)[0];
  }

  /** The indexed events naming a FlowFile (as itself, a parent or a child), oldest first, at most `limit`. */
  flowFileEvents(uuid: string, limit: number): Pointer[] {
    const sql =
      'SELECT e.event_id, e.off, e.len FROM flowfile_events f JOIN events e ON e.event_id = f.event_id WHERE f.uuid = ? ORDER BY f.event_id LIMIT ?';
    return pointers(this.#stmt(sql).raw().all(uuid, limit));
  }

  /** The smallest indexed id. */
  minEventId(): number | undefined {
    const v = this.#stmt('SELECT min(event_id) FROM events').pluck().get();
    return v === null || v === undefined ? undefined : sqlNumber(v, 'min(event_id)');
  }

  /** The largest indexed id. */
  maxEventId(): number | undefined {
    const v = this.#stmt('SELECT max(event_id) FROM events').pluck().get();
    return v === null || v === undefined ? undefined : sqlNumber(v, 'max(event_id)');
  }

  /**
   * The id range that can hold events of a time range (event time is nearly monotonic in the id;
   * the min/max time of each id block makes this exact). Undefined when no event can match.
   */
  idRange(startTime: number | undefined, endTime: number | undefined): { lo: number; hi: number } | undefined {
    const lo = this.#stmt('SELECT min(block) FROM time_blocks WHERE max_time >= ?')
      .pluck()
      .get(startTime ?? Number.MIN_SAFE_INTEGER);
    const hi = this.#stmt('SELECT max(block) FROM time_blocks WHERE min_time <= ?')
      .pluck()
      .get(endTime ?? Number.MAX_SAFE_INTEGER);
    if (lo === null || hi === null || lo === undefined || hi === undefined) return undefined;
    return { lo: sqlNumber(lo, 'block') * BLOCK_EVENTS, hi: (sqlNumber(hi, 'block') + 1) * BLOCK_EVENTS - 1 };
  }

  /** Up to `limit` events matching the filter with ids in [lo, hi], newest first. */
  candidates(filter: CandidateFilter, lo: number, hi: number, limit: number): Pointer[] {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (clause: string, value: Param | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    if (filter.uuid !== undefined) {
      add('f.uuid = ?', filter.uuid);
      add('f.event_id >= ?', lo);
      add('f.event_id <= ?', hi);
      add('e.component = ?', filter.component);
      add('e.type = ?', filter.type);
      add('e.fhash = ?', filter.filenameHash);
      add('e.time >= ?', filter.startTime);
      add('e.time <= ?', filter.endTime);
      params.push(limit);
      const sql = `SELECT e.event_id, e.off, e.len FROM flowfile_events f JOIN events e ON e.event_id = f.event_id WHERE ${where.join(' AND ')} ORDER BY f.event_id DESC LIMIT ?`;
      return pointers(
        this.#stmt(sql)
          .raw()
          .all(...params),
      );
    }
    if (filter.filenameHash !== undefined) return this.#byFilename(filter, filter.filenameHash, lo, hi, limit);
    let index = '';
    if (filter.component !== undefined) index = 'INDEXED BY events_component';
    else if (filter.type !== undefined) index = 'INDEXED BY events_type';
    add('component = ?', filter.component);
    add('type = ?', filter.type);
    add('event_id >= ?', lo);
    add('event_id <= ?', hi);
    add('time >= ?', filter.startTime);
    add('time <= ?', filter.endTime);
    params.push(limit);
    const sql = `SELECT event_id, off, len FROM events ${index} WHERE ${where.join(' AND ')} ORDER BY event_id DESC LIMIT ?`;
    return pointers(
      this.#stmt(sql)
        .raw()
        .all(...params),
    );
  }

  /** The filename index is keyed by (id block, hash): probe the blocks newest first. */
  #byFilename(filter: CandidateFilter, hash: number, lo: number, hi: number, limit: number): Pointer[] {
    const where = ['fblock = ?', 'fhash = ?', 'event_id >= ?', 'event_id <= ?'];
    const fixed: Param[] = [];
    if (filter.component !== undefined) {
      where.push('component = ?');
      fixed.push(filter.component);
    }
    if (filter.type !== undefined) {
      where.push('type = ?');
      fixed.push(filter.type);
    }
    if (filter.startTime !== undefined) {
      where.push('time >= ?');
      fixed.push(filter.startTime);
    }
    if (filter.endTime !== undefined) {
      where.push('time <= ?');
      fixed.push(filter.endTime);
    }
    const stmt = this.#stmt(
      `SELECT event_id, off, len FROM events INDEXED BY events_filename WHERE ${where.join(' AND ')} ORDER BY event_id DESC LIMIT ?`,
    ).raw();
    const out: Pointer[] = [];
    const first = Math.max(lo, this.minEventId() ?? Number.MAX_SAFE_INTEGER);
    const last = Math.min(hi, this.maxEventId() ?? -1);
    for (let block = blockOf(last); block >= blockOf(first) && out.length < limit; block--) {
      const rows = stmt.all(block, hash, first, last, ...fixed, limit - out.length);
      for (const p of pointers(rows)) out.push(p);
    }
    return out;
  }

  /** What the indexer recorded about each segment. */
  segmentInfo(): Map<number, SegmentIndexInfo> {
    const out = new Map<number, SegmentIndexInfo>();
    for (const raw of this.#stmt('SELECT first_id, last_id, min_time, max_time FROM segments').raw().all()) {
      const r = sqlRow(raw);
      out.set(sqlNumber(r[0], 'first_id'), {
        lastId: sqlNumber(r[1], 'last_id'),
        minTime: sqlNumber(r[2], 'min_time'),
        maxTime: sqlNumber(r[3], 'max_time'),
      });
    }
    return out;
  }

  /** The oldest event time among indexed events. */
  oldestTime(): number | null {
    const v = this.#stmt('SELECT min(min_time) FROM segments').pluck().get();
    return v === null || v === undefined ? null : sqlNumber(v, 'min_time');
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #stmt(sql: string): Database.Statement<Param[]> {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.#db.prepare<Param[]>(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }
}
