import { defineService } from '@sluice/api';
import { jsonTreeReaderFactory, RECORD_READER_API, type RecordReaderFactory } from '../records/index.ts';
import { maxRecordChars, maxRecordSizeProperty, sampleSizeProperty } from '../records/properties.ts';

/** Reads records from JSON: an array of objects, one object, or a sequence of objects (NiFi's JsonTreeReader). */
export const JsonTreeReader = defineService({
  type: 'JsonTreeReader',
  description:
    'Reads records from JSON content: a top-level array of objects, a single object, or objects one after another. The content is parsed incrementally, one record at a time, so files of any size stream through. Malformed JSON, an array element that is not an object, or invalid UTF-8 is an error naming the record, line and column. Field names such as __proto__ stay ordinary data.',
  tags: ['json', 'record', 'reader', 'parse'],
  provides: [RECORD_READER_API],
  properties: {
    schemaSampleSize: sampleSizeProperty,
    maxRecordSize: maxRecordSizeProperty,
  },
  enable(context): RecordReaderFactory {
    return jsonTreeReaderFactory({
      sampleSize: context.getProperty('schemaSampleSize').asInteger() ?? 1000,
      maxRecordChars: maxRecordChars(context.getProperty('maxRecordSize')),
    });
  },
});
