/**
 * The record API shared by record reader/writer services and the processors that use them (in this
 * and other groups): interfaces, the `provides` strings, and the JSON/CSV implementations.
 */
export { type CsvReadOptions, parseCsv, typedValue } from './csv-reader.ts';
export { type CsvWriteOptions, csvWriterFactory } from './csv-writer.ts';
export { errorMessage, readRecords, type WrittenRecords, writeRecordsTo } from './flowfile-records.ts';
export { parseJsonLines, parseJsonTree } from './json-reader.ts';
export { type JsonWriteOptions, jsonWriterFactory } from './json-writer.ts';
export { csvReaderFactory, type JsonReaderOptions, jsonLinesReaderFactory, jsonTreeReaderFactory } from './readers.ts';
export { SchemaInference, typeOf, widen } from './schema.ts';
export {
  getField,
  newRecord,
  RECORD_READER_API,
  RECORD_WRITER_API,
  type RecordField,
  type RecordFieldType,
  RecordFormatError,
  type RecordObject,
  type RecordPosition,
  type RecordReader,
  type RecordReaderFactory,
  type RecordSchema,
  type RecordSetWriterFactory,
  type RecordValue,
  type RecordWriter,
} from './types.ts';
export { decodeUtf8, Utf8Error } from './utf8.ts';
