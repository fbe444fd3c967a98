/**
 * Messages between QueryRecord and its SQLite worker thread. Both sides parse what they receive:
 * a message is `unknown` until these guards have checked it.
 */

/** The column of a FLOWFILE table made for records without any field (a table needs one). */
export const PLACEHOLDER_COLUMN = '_sluice_no_fields';

/** A value stored in the FLOWFILE table. */
export type SqlValue = null | number | string;

/** A column of a query result; `origin` is the FLOWFILE column it comes straight from, if any. */
export interface ResultColumn {
  readonly name: string;
  readonly origin: string | null;
}

/** Main thread → worker. */
export type ToWorker =
  | { readonly id: number; readonly op: 'open'; readonly columns: readonly string[] }
  | { readonly id: number; readonly op: 'add-columns'; readonly columns: readonly string[] }
  | { readonly id: number; readonly op: 'insert'; readonly rows: readonly (readonly SqlValue[])[] }
  | { readonly id: number; readonly op: 'query'; readonly sql: string; readonly batchSize: number }
  | { readonly id: number; readonly op: 'next' }
  | { readonly id: number; readonly op: 'close' };

/** Worker → main thread: a reply to the request with the same id. */
export type FromWorker =
  | {
      readonly id: number;
      readonly ok: true;
      readonly columns?: readonly ResultColumn[];
      readonly rows?: readonly (readonly unknown[])[];
      readonly done?: boolean;
    }
  | { readonly id: number; readonly ok: false; readonly error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isRows = (v: unknown): v is unknown[][] => Array.isArray(v) && v.every((r) => Array.isArray(r));
const isSqlValue = (v: unknown): v is SqlValue => v === null || typeof v === 'number' || typeof v === 'string';

/** Checks a message received by the worker. @throws {Error} when it is not a {@link ToWorker}. */
export function parseToWorker(raw: unknown): ToWorker {
  if (!isObject(raw) || typeof raw.id !== 'number') throw new Error('malformed message to the SQLite worker');
  const { id, op } = raw;
  switch (op) {
    case 'open':
    case 'add-columns':
      if (isStrings(raw.columns)) return { id, op, columns: raw.columns };
      break;
    case 'insert':
      if (isRows(raw.rows) && raw.rows.every((r) => r.every(isSqlValue)))
        return { id, op, rows: raw.rows.map((r) => r.filter(isSqlValue)) };
      break;
    case 'query':
      if (typeof raw.sql === 'string' && typeof raw.batchSize === 'number')
        return { id, op, sql: raw.sql, batchSize: raw.batchSize };
      break;
    case 'next':
    case 'close':
      return { id, op };
  }
  throw new Error(`malformed "${String(op)}" message to the SQLite worker`);
}

/** Checks a message received from the worker. @throws {Error} when it is not a {@link FromWorker}. */
export function parseFromWorker(raw: unknown): FromWorker {
  if (!isObject(raw) || typeof raw.id !== 'number') throw new Error('malformed message from the SQLite worker');
  if (raw.ok === false && typeof raw.error === 'string') return { id: raw.id, ok: false, error: raw.error };
  if (raw.ok !== true) throw new Error('malformed message from the SQLite worker');
  const reply: { id: number; ok: true; columns?: ResultColumn[]; rows?: unknown[][]; done?: boolean } = { id: raw.id, ok: true };
  if (raw.columns !== undefined) {
    if (!Array.isArray(raw.columns)) throw new Error('malformed result columns from the SQLite worker');
    reply.columns = raw.columns.map((c: unknown) => {
      if (!isObject(c) || typeof c.name !== 'string' || !(c.origin === null || typeof c.origin === 'string')) {
        throw new Error('malformed result column from the SQLite worker');
      }
      return { name: c.name, origin: c.origin };
    });
  }
  if (raw.rows !== undefined) {
    if (!isRows(raw.rows)) throw new Error('malformed result rows from the SQLite worker');
    reply.rows = raw.rows;
  }
  if (typeof raw.done === 'boolean') reply.done = raw.done;
  return reply;
}
