import { boolean, choice, defineService } from '@sluice/api';
import { jsonWriterFactory, RECORD_WRITER_API, type RecordSetWriterFactory } from '../records/index.ts';

/** Writes records as JSON: one array, or one object per line (NiFi's JsonRecordSetWriter). */
export const JsonRecordSetWriter = defineService({
  type: 'JsonRecordSetWriter',
  description:
    'Writes records as JSON, streamed: either one array of objects (mime.type application/json) or one object per line (NDJSON, mime.type application/x-ndjson).',
  tags: ['json', 'ndjson', 'record', 'writer', 'serialize'],
  provides: [RECORD_WRITER_API],
  properties: {
    outputGrouping: choice(
      [
        { value: 'array', displayName: 'Array', description: 'One JSON array holding every record.' },
        { value: 'one-line-per-object', displayName: 'One Line Per Object', description: 'NDJSON: one object per line.' },
      ],
      { displayName: 'Output Grouping', description: 'How records are laid out.', default: 'array', required: true },
    ),
    prettyPrint: boolean({
      displayName: 'Pretty Print JSON',
      description: 'Indent the array output (one-line-per-object output is never indented).',
      default: 'false',
      required: true,
    }),
  },
  enable(context): RecordSetWriterFactory {
    return jsonWriterFactory({
      grouping: context.getProperty('outputGrouping').asString() === 'one-line-per-object' ? 'lines' : 'array',
      pretty: context.getProperty('prettyPrint').asBoolean() === true,
    });
  },
});
