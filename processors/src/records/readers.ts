import type { Readable } from 'node:stream';
import { type CsvColumns, type CsvReadOptions, parseCsv } from './csv-reader.ts';
import { type JsonParseOptions, parseJsonLines, parseJsonTree } from './json-reader.ts';
import { startReader } from './reader-support.ts';
import { SchemaInference } from './schema.ts';
import type { RecordReader, RecordReaderFactory } from './types.ts';
import { decodeUtf8 } from './utf8.ts';

/** Options of the JSON readers. */
export interface JsonReaderOptions extends JsonParseOptions {
  /** Records read ahead to infer the schema before the first is handed out. */
  readonly sampleSize: number;
}

/** A reader of a JSON array of objects, a single object, or a sequence of objects. */
export function jsonTreeReaderFactory(options: JsonReaderOptions): RecordReaderFactory {
  return {
    read: (content: Readable): Promise<RecordReader> =>
      startReader(content, parseJsonTree(decodeUtf8(content), options), options.sampleSize),
  };
}

/** A reader of newline-delimited JSON (one object per line). */
export function jsonLinesReaderFactory(options: JsonReaderOptions): RecordReaderFactory {
  return {
    read: (content: Readable): Promise<RecordReader> =>
      startReader(content, parseJsonLines(decodeUtf8(content), options), options.sampleSize),
  };
}

/** A reader of CSV; the schema's fields are the header's columns (or column_1... without a header). */
export function csvReaderFactory(options: CsvReadOptions): RecordReaderFactory {
  return {
    async read(content: Readable): Promise<RecordReader> {
      const columns: CsvColumns = { names: undefined };
      const records = parseCsv(decodeUtf8(content), options, columns);
      // Read ahead one record: by then the header is known, and the columns are the schema even
      // when values are missing or null.
      const schema = new SchemaInference();
      const reader = await startReader(content, records, 1, schema);
      if (columns.names !== undefined) schema.declare(columns.names);
      return reader;
    },
  };
}
