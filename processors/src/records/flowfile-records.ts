import { PassThrough } from 'node:stream';
import type { FlowFile, ProcessSession } from '@sluice/api';
import type { RecordReader, RecordReaderFactory, RecordSchema, RecordSetWriterFactory, RecordWriter } from './types.ts';

/** The result of writing records into a FlowFile. */
export interface WrittenRecords {
  /** The FlowFile's new version. */
  readonly flowFile: FlowFile;
  readonly recordCount: number;
}

/**
 * Replaces a FlowFile's content with what `produce` writes through a record writer, streamed into
 * the content repository (never held whole). If `produce` or the writer throws, the FlowFile is
 * left untouched and the error is rethrown.
 */
export async function writeRecordsTo(
  session: ProcessSession,
  flowFile: FlowFile,
  factory: RecordSetWriterFactory,
  schema: RecordSchema,
  produce: (writer: RecordWriter) => Promise<void>,
): Promise<WrittenRecords> {
  const out = new PassThrough();
  const writing = session.writeStream(flowFile, out);
  // If the repository stops reading (disk full), a writer waiting for 'drain' must not wait forever.
  writing.catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
  try {
    const writer = factory.createWriter(out, schema);
    await produce(writer);
    const recordCount = await writer.finish();
    return { flowFile: await writing, recordCount };
  } catch (e) {
    out.destroy(e instanceof Error ? e : new Error(String(e)));
    await writing.catch(() => undefined);
    throw e;
  }
}

/**
 * Starts reading a FlowFile's records with a reader service (content decoded as UTF-8, streamed).
 * @throws {RecordFormatError} when the content is malformed within the reader's schema sample.
 */
export function readRecords(session: ProcessSession, flowFile: FlowFile, factory: RecordReaderFactory): Promise<RecordReader> {
  return factory.read(session.readStream(flowFile));
}

/** The message of an error, for a FlowFile attribute. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
