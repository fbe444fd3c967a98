import { createHash } from 'node:crypto';
import { boolean, choice, defineProcessor, type FlowFile, type ProcessSession } from '@sluice/api';

const BATCH = 100;
/** Content up to this size is hashed from one in-memory read; larger content is streamed. */
const IN_MEMORY_LIMIT = 256 * 1024;

/** The algorithms offered, by the name NiFi shows (and puts in the attribute name), with node:crypto's name. */
const ALGORITHMS: ReadonlyArray<{ readonly value: string; readonly node: string; readonly description: string }> = [
  { value: 'SHA-256', node: 'sha256', description: 'SHA-2, 256-bit digest (the default).' },
  { value: 'SHA-512', node: 'sha512', description: 'SHA-2, 512-bit digest.' },
  { value: 'SHA-1', node: 'sha1', description: 'SHA-1: broken for collision resistance; for compatibility only.' },
  { value: 'MD5', node: 'md5', description: 'MD5: broken for collision resistance; for compatibility only.' },
  { value: 'SHA3-256', node: 'sha3-256', description: 'SHA-3, 256-bit digest.' },
  { value: 'BLAKE2b-512', node: 'blake2b512', description: 'BLAKE2b, 512-bit digest.' },
];

/** Hashes FlowFile content into an attribute (NiFi's CryptographicHashContent). */
export const CryptographicHashContent = defineProcessor({
  type: 'CryptographicHashContent',
  description:
    'Computes a cryptographic hash of the content and writes it, as lowercase hex, to the attribute content_<algorithm> (for example content_SHA-256). Large content is streamed, a chunk at a time, so the event loop is never held for long.',
  tags: ['content', 'hash', 'sha', 'sha-256', 'md5', 'blake2', 'checksum', 'integrity'],
  input: 'required',
  properties: {
    algorithm: choice(
      ALGORITHMS.map((a) => ({ value: a.value, displayName: a.value, description: a.description })),
      { displayName: 'Hash Algorithm', description: 'The hash function to apply.', default: 'SHA-256', required: true },
    ),
    failWhenEmpty: boolean({
      displayName: 'Fail if the content is empty',
      description: 'Route FlowFiles with empty content to failure instead of hashing the empty input.',
      default: 'false',
    }),
  },
  relationships: {
    success: 'FlowFiles whose content was hashed',
    failure: 'FlowFiles whose content could not be read, or was empty when that is not allowed; hash.failure.reason says why',
  },
  writesAttributes: {
    'content_<algorithm>': 'The hex digest of the content, e.g. content_SHA-256',
    'hash.failure.reason': 'Why the FlowFile went to failure',
  },
  supportsBatching: true,
  async onTrigger(session, context) {
    const name = context.getProperty('algorithm').asString() ?? 'SHA-256';
    const algorithm = ALGORITHMS.find((a) => a.value === name);
    // The choice property is validated before start; this only guards a flow edited behind our back.
    if (algorithm === undefined) throw new Error(`unknown hash algorithm "${name}"`);
    const failWhenEmpty = context.getProperty('failWhenEmpty').asBoolean() === true;
    for (const flowFile of session.getBatch(BATCH)) {
      if (failWhenEmpty && flowFile.size === 0) {
        session.transfer(session.putAttribute(flowFile, 'hash.failure.reason', 'the content is empty'), 'failure');
        continue;
      }
      let digest: string;
      try {
        digest = await hash(session, flowFile, algorithm.node);
      } catch (e) {
        const reason = `could not read the content: ${e instanceof Error ? e.message : String(e)}`;
        context.logger.warn(`FlowFile ${flowFile.uuid}: ${reason}`);
        session.transfer(session.putAttribute(flowFile, 'hash.failure.reason', reason), 'failure');
        continue;
      }
      session.transfer(session.putAttribute(flowFile, `content_${algorithm.value}`, digest), 'success');
    }
  },
});

async function hash(session: ProcessSession, flowFile: FlowFile, algorithm: string): Promise<string> {
  const digest = createHash(algorithm);
  if (flowFile.size <= IN_MEMORY_LIMIT) {
    digest.update(session.read(flowFile));
  } else {
    // Each chunk is hashed between reads, so other work runs in between (no multi-second stall on a GB file).
    for await (const chunk of session.readStream(flowFile)) {
      if (!(chunk instanceof Uint8Array)) throw new Error('the content stream produced a non-binary chunk');
      digest.update(chunk);
    }
  }
  return digest.digest('hex');
}
