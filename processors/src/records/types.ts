import type { Readable, Writable } from 'node:stream';

/** The `provides` string of record reader services (JsonTreeReader, JsonLinesReader, CSVReader). */
export const RECORD_READER_API = 'record-reader';
/** The `provides` string of record writer services (JsonRecordSetWriter, CSVRecordSetWriter). */
export const RECORD_WRITER_API = 'record-writer';

/** A value inside a record: anything JSON can express. */
export type RecordValue = null | boolean | number | string | readonly RecordValue[] | RecordObject;

/**
 * One record: a JSON-like object. Readers create records with a null prototype or with
 * `JSON.parse`, so a field named `__proto__` or `constructor` is plain data. Read fields with
 * {@link getField}, never `record[name]`: on a `JSON.parse` object a missing `constructor` field
 * would otherwise return Object's constructor.
 */
export interface RecordObject {
  readonly [field: string]: RecordValue;
}

/** The type of a field as inferred from the values seen. */
export type RecordFieldType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'object' | 'array' | 'mixed';

/** A field of a record schema. */
export interface RecordField {
  readonly name: string;
  /** The type of every non-null value seen (`mixed` when they differ, `null` when all were null). */
  readonly type: RecordFieldType;
  /** Whether a null value was seen. */
  readonly nullable: boolean;
}

/** Field names and simple types, in the order fields were first seen. */
export interface RecordSchema {
  readonly fields: readonly RecordField[];
}

/**
 * Records being read from one FlowFile's content. Iterate it once; records are yielded as they are
 * parsed, so content of any size streams through. Iteration throws a {@link RecordFormatError} at
 * the first malformed record.
 */
export interface RecordReader extends AsyncIterable<RecordObject> {
  /**
   * The schema inferred from the records read so far: at least the reader's sample (or a CSV
   * header); fields first seen later are appended and types widen as records are read.
   */
  readonly schema: RecordSchema;
  /** Records yielded so far. */
  readonly recordCount: number;
}

/** What a record reader service provides. */
export interface RecordReaderFactory {
  /**
   * Starts reading records from content. Resolves once the schema sample has been read.
   * @throws {RecordFormatError} when the content is malformed within the sample.
   */
  read(content: Readable): Promise<RecordReader>;
}

/** Writes records to one output. */
export interface RecordWriter {
  /**
   * Writes one record. Returns a promise when the output is full: await it before writing more.
   * @throws {RecordFormatError} when the record cannot be written in this format.
   */
  write(record: RecordObject): Promise<void> | undefined;
  /** Writes what the format needs after the last record and ends the output; resolves with the record count. */
  finish(): Promise<number>;
  /** Records written so far. */
  readonly recordCount: number;
}

/** What a record writer service provides. */
export interface RecordSetWriterFactory {
  /** The MIME type of what the writers produce (for the `mime.type` attribute). */
  readonly mimeType: string;
  /** A writer over `out`; `schema` gives the columns of formats that need them up front (CSV). */
  createWriter(out: Writable, schema: RecordSchema): RecordWriter;
}

/** Where in the content a {@link RecordFormatError} happened (1-based lines, columns and records). */
export interface RecordPosition {
  readonly record?: number;
  readonly line?: number;
  readonly column?: number;
  readonly byteOffset?: number;
}

/** Malformed content or a record a format cannot hold; the message names the record and position. */
export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
  constructor(
    message: string,
    readonly position: RecordPosition = {},
  ) {
    super(message);
  }
}

/** A field's value, or undefined when the record has no such own field. */
export function getField(record: RecordObject, name: string): RecordValue | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** A record object with a null prototype, so any field name is data. */
export function newRecord(): Record<string, RecordValue> {
  return Object.create(null);
}
