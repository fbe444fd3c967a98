import { boolean, defineProcessor, service } from '@sluice/api';
import {
  errorMessage,
  RECORD_READER_API,
  RECORD_WRITER_API,
  type RecordReaderFactory,
  type RecordSetWriterFactory,
  readRecords,
  writeRecordsTo,
} from '../records/index.ts';

/** FlowFiles converted per trigger; each is streamed, so this bounds the time of one trigger, not memory. */
const BATCH = 20;

/** Converts records from one format to another with a reader and a writer (NiFi's ConvertRecord). */
export const ConvertRecord = defineProcessor({
  type: 'ConvertRecord',
  description:
    'Converts the records of each FlowFile from one format to another: the Record Reader parses the content (JSON, NDJSON, CSV) and the Record Writer writes it (JSON, NDJSON, CSV). Records stream through one at a time. Content the reader cannot parse (malformed JSON or CSV, invalid UTF-8) or a record the writer cannot hold goes to failure, with its original content untouched and record.error saying what is wrong and where.',
  tags: ['record', 'convert', 'format', 'json', 'csv', 'ndjson', 'schema'],
  input: 'required',
  properties: {
    recordReader: service(RECORD_READER_API, {
      displayName: 'Record Reader',
      description: 'The controller service that parses the incoming content.',
      required: true,
    }),
    recordWriter: service(RECORD_WRITER_API, {
      displayName: 'Record Writer',
      description: 'The controller service that writes the records out.',
      required: true,
    }),
    includeZeroRecordFlowFiles: boolean({
      displayName: 'Include Zero Record FlowFiles',
      description: 'Send a FlowFile with no records to success (written in the new format); when false it is dropped.',
      default: 'true',
      required: true,
    }),
  },
  relationships: {
    success: 'FlowFiles whose records were converted',
    failure: 'FlowFiles whose content could not be read or written, unchanged, with record.error',
  },
  writesAttributes: {
    'record.count': 'The number of records written',
    'mime.type': "The writer's MIME type",
    'record.error': 'On failure: why (the record, line and column of malformed input)',
  },
  supportsBatching: true,
  async onTrigger(session, context) {
    // The engine checked that these services provide the record reader/writer APIs.
    const readerFactory = context.getService<RecordReaderFactory>('recordReader');
    const writerFactory = context.getService<RecordSetWriterFactory>('recordWriter');
    const includeEmpty = context.getProperty('includeZeroRecordFlowFiles').asBoolean() !== false;
    for (const flowFile of session.getBatch(BATCH)) {
      try {
        const reader = await readRecords(session, flowFile, readerFactory);
        const written = await writeRecordsTo(session, flowFile, writerFactory, reader.schema, async (writer) => {
          for await (const record of reader) {
            const wait = writer.write(record);
            if (wait !== undefined) await wait;
          }
        });
        if (written.recordCount === 0 && !includeEmpty) {
          session.remove(written.flowFile);
          continue;
        }
        const converted = session.putAllAttributes(written.flowFile, {
          'record.count': String(written.recordCount),
          'mime.type': writerFactory.mimeType,
        });
        session.transfer(converted, 'success');
      } catch (e) {
        const reason = errorMessage(e);
        context.logger.warn(`cannot convert FlowFile ${flowFile.uuid}: ${reason}`);
        session.transfer(session.putAttribute(flowFile, 'record.error', reason), 'failure');
      }
    }
  },
});
