/**
 * Entry point of QueryRecord's SQLite worker thread. It owns one temporary database at a time
 * holding a FlowFile's records in the table FLOWFILE, runs queries on it and hands result rows back
 * in batches, one batch per request (so results never pile up in memory). Running SQLite here keeps
 * a slow or endless query off the engine's event loop; QueryRecord terminates the thread when a
 * query overruns its timeout.
 */
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  type FromWorker,
  PLACEHOLDER_COLUMN,
  parseToWorker,
  type ResultColumn,
  type SqlValue,
  type ToWorker,
} from './sqlite-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker must run in a worker thread');

/** The table every query reads. */
const TABLE = 'FLOWFILE';

let db: Database.Database | undefined;
let columnNames: string[] = [];
let insert: Database.Statement | undefined;
let rows: IterableIterator<unknown> | undefined;

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function closeQuery(): void {
  rows?.return?.();
  rows = undefined;
}

function closeDatabase(): void {
  closeQuery();
  insert = undefined;
  db?.close();
  db = undefined;
}

function prepareInsert(database: Database.Database): void {
  insert = database.prepare(
    columnNames.length === 0
      ? `INSERT INTO ${TABLE} DEFAULT VALUES`
      : `INSERT INTO ${TABLE} (${columnNames.map(quote).join(', ')}) VALUES (${columnNames.map(() => '?').join(', ')})`,
  );
}

function open(columns: readonly string[]): void {
  closeDatabase();
  // An empty file name is a private temporary database: in memory until it outgrows the cache, then
  // spilled to a temporary file, so a large FlowFile does not have to fit in RAM.
  const database = new Database('');
  database.pragma('journal_mode = OFF');
  database.pragma('synchronous = OFF');
  database.pragma('cache_size = -32768');
  // A table needs a column: records without fields get a placeholder, which QueryRecord leaves out of results.
  const definitions = columns.length === 0 ? [quote(PLACEHOLDER_COLUMN)] : columns.map(quote);
  database.exec(`CREATE TABLE ${TABLE} (${definitions.join(', ')})`);
  columnNames = [...columns];
  db = database;
  prepareInsert(database);
}

function database(): Database.Database {
  if (db === undefined) throw new Error('no FlowFile is open');
  return db;
}

function batch(iterator: IterableIterator<unknown>, size: number): { rows: unknown[][]; done: boolean } {
  const out: unknown[][] = [];
  while (out.length < size) {
    const next = iterator.next();
    if (next.done === true) {
      rows = undefined;
      return { rows: out, done: true };
    }
    out.push(Array.isArray(next.value) ? next.value : [next.value]);
  }
  return { rows: out, done: false };
}

let batchSize = 1000;

function handle(message: ToWorker): FromWorker {
  switch (message.op) {
    case 'open':
      open(message.columns);
      return { id: message.id, ok: true };
    case 'add-columns': {
      const d = database();
      closeQuery();
      for (const column of message.columns) d.exec(`ALTER TABLE ${TABLE} ADD COLUMN ${quote(column)}`);
      columnNames.push(...message.columns);
      prepareInsert(d);
      return { id: message.id, ok: true };
    }
    case 'insert': {
      const d = database();
      const statement = insert;
      if (statement === undefined) throw new Error('no FlowFile is open');
      d.transaction((values: readonly (readonly SqlValue[])[]) => {
        for (const row of values) statement.run(...row);
      })(message.rows);
      return { id: message.id, ok: true };
    }
    case 'query': {
      closeQuery();
      const statement = database().prepare(message.sql);
      if (!statement.reader) throw new Error('the query must return rows (SELECT ...)');
      if (!statement.readonly) throw new Error('the query must not change data');
      statement.raw(true);
      const columns: ResultColumn[] = statement.columns().map((c) => ({
        name: c.name,
        origin: c.table === TABLE && c.column !== null ? c.column : null,
      }));
      batchSize = Math.max(1, message.batchSize);
      const iterator = statement.iterate();
      rows = iterator;
      return { id: message.id, ok: true, columns, ...batch(iterator, batchSize) };
    }
    case 'next': {
      if (rows === undefined) return { id: message.id, ok: true, rows: [], done: true };
      return { id: message.id, ok: true, ...batch(rows, batchSize) };
    }
    case 'close':
      closeDatabase();
      return { id: message.id, ok: true };
  }
}

port.on('message', (raw: unknown) => {
  let id = -1;
  try {
    const message = parseToWorker(raw);
    id = message.id;
    port.postMessage(handle(message));
  } catch (e) {
    port.postMessage({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
// Ready: the main thread starts its request timeouts only now (loading the worker's code may be slow on a busy host).
port.postMessage({ id: 0, ok: true });
