import { defineService } from '@sluice/api';
import { jsonLinesReaderFactory, RECORD_READER_API, type RecordReaderFactory } from '../records/index.ts';
import { maxRecordChars, maxRecordSizeProperty, sampleSizeProperty } from '../records/properties.ts';

/** Reads newline-delimited JSON (NDJSON / JSON Lines): one object per line. */
export const JsonLinesReader = defineService({
  type: 'JsonLinesReader',
  description:
    'Reads records from newline-delimited JSON (NDJSON, JSON Lines): one JSON object per line; blank lines are skipped and CRLF line ends are accepted. Lines are parsed as they stream in. A line that is not a JSON object, malformed JSON or invalid UTF-8 is an error naming the line and column.',
  tags: ['json', 'ndjson', 'jsonl', 'record', 'reader', 'parse'],
  provides: [RECORD_READER_API],
  properties: {
    schemaSampleSize: sampleSizeProperty,
    maxRecordSize: maxRecordSizeProperty,
  },
  enable(context): RecordReaderFactory {
    return jsonLinesReaderFactory({
      sampleSize: context.getProperty('schemaSampleSize').asInteger() ?? 1000,
      maxRecordChars: maxRecordChars(context.getProperty('maxRecordSize')),
    });
  },
});
