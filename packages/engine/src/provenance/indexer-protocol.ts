import { isObject, own } from '../util/parse.ts';

/*
 * Messages between the repository (main thread) and its indexer worker. Both sides parse what
 * they receive: a message is `unknown` until narrowed here.
 */

/** What the worker is started with. */
export interface IndexerInit {
  readonly directory: string;
  readonly dbPath: string;
  /** The segment being written and its valid length after tail recovery. */
  readonly lastSegment: number;
  readonly end: number;
  /** The id the next appended event gets (the index must not hold ids at or above it). */
  readonly nextId: number;
}

/** Main thread → worker. */
export type ToIndexer =
  /** Data up to `end` of segment `segment` (ids up to `lastId`) is in the OS and may be indexed. */
  | { readonly type: 'written'; readonly segment: number; readonly end: number; readonly lastId: number }
  /** Delete the index rows of these (fully indexed) segments; `nextFirstId` is the first id kept. */
  | {
      readonly type: 'retain';
      readonly requestId: number;
      readonly segments: readonly { readonly firstId: number; readonly path: string }[];
      readonly nextFirstId: number;
    }
  | { readonly type: 'stop' };

/** Worker → main thread. */
export type FromIndexer =
  | { readonly type: 'ready'; readonly indexedId: number }
  /** Every event up to `indexedId` is searchable; `caughtUp` when the worker has nothing left it knows of. */
  | { readonly type: 'progress'; readonly indexedId: number; readonly caughtUp: boolean }
  | { readonly type: 'retained'; readonly requestId: number }
  | { readonly type: 'log'; readonly level: 'WARN' | 'ERROR'; readonly message: string };

function num(value: object, key: string): number {
  const v = own(value, key);
  if (typeof v !== 'number') throw new TypeError(`provenance indexer message: ${key} is not a number`);
  return v;
}

function str(value: object, key: string): string {
  const v = own(value, key);
  if (typeof v !== 'string') throw new TypeError(`provenance indexer message: ${key} is not a string`);
  return v;
}

/** Narrows the worker's start data. @throws {TypeError} when malformed. */
export function parseInit(value: unknown): IndexerInit {
  if (!isObject(value)) throw new TypeError('provenance indexer: workerData is not an object');
  return {
    directory: str(value, 'directory'),
    dbPath: str(value, 'dbPath'),
    lastSegment: num(value, 'lastSegment'),
    end: num(value, 'end'),
    nextId: num(value, 'nextId'),
  };
}

/** Narrows a message to the worker. @throws {TypeError} when malformed. */
export function parseToIndexer(value: unknown): ToIndexer {
  if (!isObject(value)) throw new TypeError('provenance indexer message is not an object');
  const type = own(value, 'type');
  switch (type) {
    case 'written':
      return { type, segment: num(value, 'segment'), end: num(value, 'end'), lastId: num(value, 'lastId') };
    case 'retain': {
      const list = own(value, 'segments');
      if (!Array.isArray(list)) throw new TypeError('provenance indexer message: segments is not an array');
      const segments = list.map((s: unknown) => {
        if (!isObject(s)) throw new TypeError('provenance indexer message: segment is not an object');
        return { firstId: num(s, 'firstId'), path: str(s, 'path') };
      });
      return { type, requestId: num(value, 'requestId'), segments, nextFirstId: num(value, 'nextFirstId') };
    }
    case 'stop':
      return { type };
    default:
      throw new TypeError(`provenance indexer message: unknown type ${String(type)}`);
  }
}

/** Narrows a message from the worker. @throws {TypeError} when malformed. */
export function parseFromIndexer(value: unknown): FromIndexer {
  if (!isObject(value)) throw new TypeError('provenance indexer message is not an object');
  const type = own(value, 'type');
  switch (type) {
    case 'ready':
      return { type, indexedId: num(value, 'indexedId') };
    case 'progress':
      return { type, indexedId: num(value, 'indexedId'), caughtUp: own(value, 'caughtUp') === true };
    case 'retained':
      return { type, requestId: num(value, 'requestId') };
    case 'log': {
      const level = own(value, 'level');
      return { type, level: level === 'ERROR' ? 'ERROR' : 'WARN', message: str(value, 'message') };
    }
    default:
      throw new TypeError(`provenance indexer message: unknown type ${String(type)}`);
  }
}

/** A number from a SQLite result (better-sqlite3 returns numbers unless safeIntegers is on). @throws {TypeError} otherwise. */
export function sqlNumber(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`provenance index: ${what} is not a number`);
}

/** A row of a `raw()` statement. @throws {TypeError} when it is not an array. */
export function sqlRow(value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) throw new TypeError('provenance index: row is not an array');
  return value;
}
