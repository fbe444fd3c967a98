import type { Readable } from 'node:stream';
import { SchemaInference } from './schema.ts';
import type { RecordObject, RecordReader } from './types.ts';

/**
 * Turns a record generator into a {@link RecordReader}: reads ahead up to `sampleSize` records to
 * infer the schema (so a writer knows the columns before the first record), then yields the
 * buffered records and the rest as they are parsed, widening the schema as it goes. The content
 * stream is destroyed when iteration ends early or fails.
 * @throws {RecordFormatError} (rejects) when a record within the sample is malformed.
 */
export async function startReader(
  content: Readable,
  records: AsyncGenerator<RecordObject, void, undefined>,
  sampleSize: number,
  schema: SchemaInference = new SchemaInference(),
): Promise<RecordReader> {
  const buffered: RecordObject[] = [];
  let exhausted = false;
  try {
    while (buffered.length < sampleSize) {
      const next = await records.next();
      if (next.done === true) {
        exhausted = true;
        break;
      }
      schema.observe(next.value);
      buffered.push(next.value);
    }
  } catch (e) {
    content.destroy();
    throw e;
  }
  let count = 0;
  let started = false;
  async function* iterate(): AsyncGenerator<RecordObject> {
    try {
      for (const record of buffered.splice(0)) {
        count++;
        yield record;
      }
      if (exhausted) return;
      for (;;) {
        const next = await records.next();
        if (next.done === true) return;
        schema.observe(next.value);
        count++;
        yield next.value;
      }
    } finally {
      await records.return(undefined);
      content.destroy();
    }
  }
  return {
    schema,
    get recordCount() {
      return count;
    },
    [Symbol.asyncIterator]() {
      if (started) throw new Error('a record reader can be iterated only once');
      started = true;
      return iterate();
    },
  };
}
