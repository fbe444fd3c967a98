import Database from 'better-sqlite3';
import type { StateBatch } from '../repository/types.ts';
import { OverlayStateStore } from './overlay-state-store.ts';

type Db = Database.Database;
type Stmt = Database.Statement<unknown[]>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS state (
  component TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (component, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name TEXT NOT NULL PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('applied_seq', 0);
`;

/**
 * Per-component state in an SQLite database (WAL mode, synchronous NORMAL): one row per key in a
 * WITHOUT ROWID table keyed by (component, key), so range scans walk the primary-key B-tree in
 * UTF-8 byte order (BINARY collation) and scale to millions of keys. Each {@link apply} or
 * {@link applyBatch} is one SQLite transaction that also records the applied seq; {@link sync}
 * checkpoints the WAL so applied changes survive power loss.
 *
 * @throws {Error} from the constructor when the database cannot be opened or is not a state store.
 */
export class SqliteStateStore extends OverlayStateStore {
  readonly #db: Db;
  readonly #getStmt: Stmt;
  readonly #countStmt: Stmt;
  readonly #upsertStmt: Stmt;
  readonly #insertStmt: Stmt;
  readonly #updateStmt: Stmt;
  readonly #deleteStmt: Stmt;
  readonly #clearStmt: Stmt;
  readonly #setSeqStmt: Stmt;
  /** Range statements indexed by (has lower, has upper, descending). */
  readonly #rangeStmts: Stmt[] = [];
  /** Row counts of components, kept exact across applies once loaded (COUNT(*) walks the B-tree). */
  readonly #counts = new Map<string, number>();
  #appliedSeq: number;
  #closed = false;

  constructor(path: string) {
    super();
    this.#db = new Database(path);
    try {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.exec(SCHEMA);
      this.#getStmt = this.#db.prepare('SELECT value FROM state WHERE component = ? AND key = ?').pluck();
      this.#countStmt = this.#db.prepare('SELECT count(*) FROM state WHERE component = ?').pluck();
      this.#upsertStmt = this.#db.prepare(
        'INSERT INTO state (component, key, value) VALUES (?, ?, ?) ON CONFLICT (component, key) DO UPDATE SET value = excluded.value',
      );
      this.#insertStmt = this.#db.prepare('INSERT OR IGNORE INTO state (component, key, value) VALUES (?, ?, ?)');
      this.#updateStmt = this.#db.prepare('UPDATE state SET value = ? WHERE component = ? AND key = ?');
      this.#deleteStmt = this.#db.prepare('DELETE FROM state WHERE component = ? AND key = ?');
      this.#clearStmt = this.#db.prepare('DELETE FROM state WHERE component = ?');
      this.#setSeqStmt = this.#db.prepare("UPDATE meta SET value = ? WHERE name = 'applied_seq'");
      for (let i = 0; i < 8; i++) {
        const hasLower = (i & 1) !== 0;
        const hasUpper = (i & 2) !== 0;
        const desc = (i & 4) !== 0;
        this.#rangeStmts.push(
          this.#db
            .prepare(
              'SELECT key, value FROM state WHERE component = ?' +
                (hasLower ? ' AND key >= ?' : '') +
                (hasUpper ? ' AND key < ?' : '') +
                ` ORDER BY key ${desc ? 'DESC' : 'ASC'} LIMIT ?`,
            )
            .raw(),
        );
      }
      const seq = this.#db.prepare("SELECT value FROM meta WHERE name = 'applied_seq'").pluck().get();
      if (typeof seq !== 'number' && typeof seq !== 'bigint') throw new Error(`state store ${path}: applied seq missing`);
      this.#appliedSeq = Number(seq);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  appliedSeq(): number {
    return this.#appliedSeq;
  }

  /** Checkpoints the WAL into the database file with fsyncs. @throws {Error} if a reader blocks it. */
  sync(): void {
    const result = this.#db.pragma('wal_checkpoint(FULL)');
    const row: unknown = Array.isArray(result) ? result[0] : undefined;
    if (typeof row === 'object' && row !== null && Reflect.get(row, 'busy') === 1) {
      throw new Error('state store: WAL checkpoint blocked by a reader');
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  protected baseGet(componentId: string, key: string): string | undefined {
    const value: unknown = this.#getStmt.get(componentId, key);
    return typeof value === 'string' ? value : undefined;
  }

  protected baseCount(componentId: string): number {
    const cached = this.#counts.get(componentId);
    if (cached !== undefined) return cached;
    const n = Number(this.#countStmt.get(componentId));
    this.#counts.set(componentId, n);
    return n;
  }

  protected baseRange(
    componentId: string,
    lower: string | undefined,
    upper: string | undefined,
    reverse: boolean,
    limit: number | undefined,
  ): Iterable<readonly [string, string]> {
    const stmt = this.#rangeStmts[(lower === undefined ? 0 : 1) | (upper === undefined ? 0 : 2) | (reverse ? 4 : 0)];
    if (stmt === undefined) return [];
    const params: Array<string | number> = [componentId];
    if (lower !== undefined) params.push(lower);
    if (upper !== undefined) params.push(upper);
    // SQLite reads LIMIT -1 as no limit.
    params.push(limit ?? -1);
    if (limit !== undefined) return this.#rows(stmt.all(...params));
    return this.#lazyRows(stmt.iterate(...params));
  }

  protected persist(batch: readonly StateBatch[]): void {
    const counts = this.#counts;
    try {
      this.#db.transaction(() => {
        for (const { changes } of batch) {
          for (const { componentId, ops } of changes) {
            // Exact counts are maintained only once known (loaded by count() or set by a clear).
            let n = counts.get(componentId);
            for (const op of ops) {
              if (op.op === 'clear') {
                this.#clearStmt.run(componentId);
                n = 0;
              } else if (op.op === 'delete') {
                const removed = this.#deleteStmt.run(componentId, op.key).changes;
                if (n !== undefined) n -= removed;
              } else if (n === undefined) {
                this.#upsertStmt.run(componentId, op.key, op.value);
              } else if (this.#insertStmt.run(componentId, op.key, op.value).changes === 1) {
                n++;
              } else {
                this.#updateStmt.run(op.value, componentId, op.key);
              }
            }
            if (n !== undefined) counts.set(componentId, n);
          }
        }
        const last = batch[batch.length - 1];
        if (last !== undefined) this.#setSeqStmt.run(last.seq);
      })();
    } catch (error) {
      // Counts may have been changed for a rolled-back transaction.
      counts.clear();
      throw error;
    }
    const last = batch[batch.length - 1];
    if (last !== undefined) this.#appliedSeq = last.seq;
  }

  #rows(rows: unknown[]): Array<readonly [string, string]> {
    const out: Array<readonly [string, string]> = [];
    for (const row of rows) out.push(toPair(row));
    return out;
  }

  *#lazyRows(rows: IterableIterator<unknown>): Iterable<readonly [string, string]> {
    for (const row of rows) yield toPair(row);
  }
}

function toPair(row: unknown): readonly [string, string] {
  if (Array.isArray(row)) {
    const [key, value]: unknown[] = row;
    if (typeof key === 'string' && typeof value === 'string') return [key, value];
  }
  throw new Error('state store: malformed row');
}
