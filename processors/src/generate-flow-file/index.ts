import { randomBytes } from 'node:crypto';
import { boolean, choice, dataSize, defineProcessor, integer, string } from '@sluice/api';

/** Creates FlowFiles with random or custom content: the test and demo source (NiFi's GenerateFlowFile). */
export const GenerateFlowFile = defineProcessor({
  type: 'GenerateFlowFile',
  description:
    'Creates FlowFiles with random bytes or custom text, for testing and demos. Each user-added property becomes an attribute (Expression Language allowed).',
  tags: ['test', 'random', 'generate', 'source'],
  input: 'forbidden',
  properties: {
    fileSize: dataSize({
      displayName: 'File Size',
      description: 'Size of random content (ignored when Custom Text is set).',
      default: '0 B',
      required: true,
    }),
    batchSize: integer({
      displayName: 'Batch Size',
      description: 'FlowFiles created per trigger.',
      default: '1',
      required: true,
      min: 1,
      max: 100_000,
    }),
    dataFormat: choice(['Binary', 'Text'], {
      displayName: 'Data Format',
      description: 'Random bytes, or random letters and digits.',
      default: 'Text',
    }),
    uniqueFlowFiles: boolean({
      displayName: 'Unique FlowFiles',
      description: 'New random content for every FlowFile (slower) instead of once per batch.',
      default: 'false',
    }),
    customText: string({
      displayName: 'Custom Text',
      description:
        'Content to use instead of random bytes; Expression Language is evaluated per FlowFile against its attributes (e.g. ${uuid}).',
      expression: 'flowfile',
    }),
    mimeType: string({ displayName: 'Mime Type', description: 'Value of the mime.type attribute (not set when empty).' }),
  },
  dynamicProperties: {
    description: 'Each property becomes an attribute of every FlowFile; the value may use Expression Language.',
    expression: 'flowfile',
  },
  relationships: { success: 'Every FlowFile created' },
  writesAttributes: { 'mime.type': 'When Mime Type is set' },
  defaultSchedule: { period: '1 min' },
  supportsBatching: true,
  async onTrigger(session, context) {
    const batch = context.getProperty('batchSize').asInteger() ?? 1;
    const custom = context.getProperty('customText');
    const unique = context.getProperty('uniqueFlowFiles').asBoolean() === true;
    const text = context.getProperty('dataFormat').asString() === 'Text';
    const size = context.getProperty('fileSize').asDataSize() ?? 0;
    const mimeType = context.getProperty('mimeType').asString();
    const dynamic = context.dynamicProperties;
    let shared: Buffer | undefined;
    for (let i = 0; i < batch; i++) {
      let flowFile = session.create();
      if (dynamic.size > 0 || (mimeType !== undefined && mimeType !== '')) {
        const attributes = new Map<string, string>();
        for (const [name, value] of dynamic) attributes.set(name, value.evaluate(flowFile) ?? '');
        if (mimeType !== undefined && mimeType !== '') attributes.set('mime.type', mimeType);
        flowFile = session.putAllAttributes(flowFile, attributes);
      }
      let content: Buffer | string;
      if (custom.isSet) {
        content = custom.evaluate(flowFile) ?? '';
      } else if (unique || shared === undefined) {
        content = randomContent(size, text);
        if (!unique) shared = content;
      } else {
        content = shared;
      }
      if (content.length > ASYNC_WRITE_BYTES) {
        // Large content is written asynchronously: a synchronous write throttled by the kernel's
        // dirty-page writeback would stall the whole event loop.
        const bytes = typeof content === 'string' ? Buffer.from(content) : content;
        flowFile = await session.writeStream(flowFile, once(bytes));
      } else if (content.length > 0) {
        flowFile = session.write(flowFile, content);
      }
      session.transfer(flowFile, 'success');
    }
  },
});

const ASYNC_WRITE_BYTES = 64 * 1024;

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomContent(size: number, text: boolean): Buffer {
  const bytes = randomBytes(size);
  if (text) for (let i = 0; i < size; i++) bytes[i] = ALPHANUMERIC.charCodeAt((bytes[i] ?? 0) % ALPHANUMERIC.length);
  return bytes;
}
