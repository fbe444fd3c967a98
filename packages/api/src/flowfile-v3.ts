/**
 * NiFi's FlowFile packaging v3 (`application/flowfile-v3`, FlowFilePackagerV3): a stream of
 * packages, each `"NiFiFF3"`, an attribute count, attributes as (key, value) pairs, an 8-byte
 * big-endian content length, then the content. Counts and string lengths are "field lengths": two
 * bytes big-endian below 65,535, else `FF FF` and four bytes big-endian. Used by ListenHTTP,
 * MergeContent ("FlowFile Stream v3") and Site-to-Site interchange. Content is streamed both ways.
 */

import { isUtf8 } from 'node:buffer';

const MAGIC = Buffer.from('NiFiFF3', 'latin1');

/** MIME type of a FlowFile v3 stream. */
export const FLOWFILE_V3_MIME_TYPE = 'application/flowfile-v3';

/** A malformed FlowFile v3 stream: says what was wrong and at which byte. */
export class FlowFileV3Error extends Error {
  override readonly name = 'FlowFileV3Error';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset} of the FlowFile v3 stream)`);
  }
}

function fieldLength(n: number): Buffer {
  if (n < 0xffff) {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(n, 0);
    return b;
  }
  const b = Buffer.allocUnsafe(6);
  b.writeUInt16BE(0xffff, 0);
  b.writeUInt32BE(n, 2);
  return b;
}

/**
 * The header of one package (magic, attributes, content length). Write it, then exactly
 * `contentLength` bytes of content.
 */
export function packFlowFileV3Header(attributes: Iterable<readonly [string, string]>, contentLength: number): Buffer {
  if (!Number.isSafeInteger(contentLength) || contentLength < 0)
    throw new RangeError(`content length ${contentLength} is not a byte count`);
  const parts: Buffer[] = [MAGIC];
  const pairs = [...attributes];
  parts.push(fieldLength(pairs.length));
  for (const [key, value] of pairs) {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value ?? '', 'utf8');
    parts.push(fieldLength(k.length), k, fieldLength(v.length), v);
  }
  const length = Buffer.allocUnsafe(8);
  length.writeBigUInt64BE(BigInt(contentLength), 0);
  parts.push(length);
  return Buffer.concat(parts);
}

/** One whole package in memory (small content; stream large content with the header function). */
export function packFlowFileV3(attributes: Iterable<readonly [string, string]>, content: Uint8Array): Buffer {
  return Buffer.concat([packFlowFileV3Header(attributes, content.length), content]);
}

/** One unpacked FlowFile: its attributes, and its content as a stream to consume before the next. */
export interface UnpackedFlowFile {
  readonly attributes: Map<string, string>;
  readonly size: number;
  /** The content; must be read to its end (or the unpacker skips it) before asking for the next FlowFile. */
  readonly content: AsyncIterable<Uint8Array>;
}

/** Limits that keep a hostile stream from exhausting memory. */
export interface UnpackLimits {
  /** Most attributes per FlowFile (100,000). */
  readonly maxAttributes?: number;
  /** Most bytes of one attribute key or value (16 MiB). */
  readonly maxFieldBytes?: number;
  /** Most bytes of all attribute keys and values of one FlowFile (64 MiB). */
  readonly maxAttributeBytes?: number;
}

/**
 * Reads a FlowFile v3 stream package by package, without holding any content in memory.
 * @throws {FlowFileV3Error} on a bad magic header, a truncated package or a limit exceeded.
 */
export async function* unpackFlowFileV3(
  source: AsyncIterable<Uint8Array>,
  limits: UnpackLimits = {},
): AsyncGenerator<UnpackedFlowFile> {
  const maxAttributes = limits.maxAttributes ?? 100_000;
  const maxField = limits.maxFieldBytes ?? 16 * 1024 * 1024;
  const maxTotal = limits.maxAttributeBytes ?? 64 * 1024 * 1024;
  const iterator = source[Symbol.asyncIterator]();
  // Unconsumed input as a list of chunks (joined only when a field spans chunks), so a large
  // attribute arriving in many small chunks is copied once, not once per chunk.
  const chunks: Buffer[] = [];
  let available = 0;
  let offset = 0; // bytes consumed so far
  let done = false;

  const fill = async (need: number): Promise<boolean> => {
    while (available < need && !done) {
      const next = await iterator.next();
      if (next.done === true) done = true;
      else if (next.value.length > 0) {
        chunks.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        available += next.value.length;
      }
    }
    return available >= need;
  };
  /** Up to `n` bytes from the front, without copying when the first chunk suffices. */
  const front = (n: number): Buffer => {
    const first = chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) chunks.shift();
      else chunks[0] = first.subarray(n);
      available -= n;
      offset += n;
      return out;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const chunk = chunks[0];
      if (chunk === undefined) break;
      const take = Math.min(chunk.length, n - got);
      parts.push(chunk.subarray(0, take));
      if (take === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(take);
      got += take;
    }
    available -= got;
    offset += got;
    return Buffer.concat(parts, got);
  };
  const take = async (n: number, what: string): Promise<Buffer> => {
    if (!(await fill(n))) throw new FlowFileV3Error(`stream ended inside ${what}`, offset + available);
    return front(n);
  };
  const text = async (n: number, what: string): Promise<string> => {
    const bytes = await take(n, what);
    if (!isUtf8(bytes)) throw new FlowFileV3Error(`${what} is not valid UTF-8`, offset - n);
    return bytes.toString('utf8');
  };
  const readField = async (what: string): Promise<number> => {
    const short = (await take(2, what)).readUInt16BE(0);
    return short < 0xffff ? short : (await take(4, what)).readUInt32BE(0);
  };

  for (;;) {
    if (!(await fill(1))) return; // clean end between packages
    const magic = await take(MAGIC.length, 'the "NiFiFF3" header');
    if (!magic.equals(MAGIC))
      throw new FlowFileV3Error('not a FlowFile v3 package: missing the "NiFiFF3" header', offset - MAGIC.length);
    const count = await readField('the attribute count');
    if (count > maxAttributes)
      throw new FlowFileV3Error(`${count} attributes is more than the limit of ${maxAttributes}`, offset);
    const attributes = new Map<string, string>();
    let totalBytes = 0;
    for (let i = 0; i < count; i++) {
      const keyLength = await readField(`attribute ${i + 1}'s key length`);
      if (keyLength > maxField)
        throw new FlowFileV3Error(`an attribute key of ${keyLength} bytes is more than the limit`, offset);
      const key = await text(keyLength, `attribute ${i + 1}'s key`);
      const valueLength = await readField(`attribute "${key}"'s value length`);
      if (valueLength > maxField)
        throw new FlowFileV3Error(`attribute "${key}" has a value of ${valueLength} bytes, more than the limit`, offset);
      totalBytes += keyLength + valueLength;
      if (totalBytes > maxTotal) throw new FlowFileV3Error(`attributes of more than ${maxTotal} bytes in one FlowFile`, offset);
      attributes.set(key, await text(valueLength, `attribute "${key}"'s value`));
    }
    const length = (await take(8, 'the content length')).readBigUInt64BE(0);
    if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw new FlowFileV3Error(`content length ${length} is too large`, offset - 8);
    const size = Number(length);
    let remaining = size;
    let consumed = false;
    const content: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: async function* () {
        if (consumed) throw new Error('the content of this FlowFile was already read');
        consumed = true;
        while (remaining > 0) {
          if (available === 0 && !(await fill(1)))
            throw new FlowFileV3Error(`stream ended with ${remaining} bytes of content missing`, offset);
          const chunk = front(Math.min(remaining, chunks[0]?.length ?? 0));
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    yield { attributes, size, content };
    // Skip whatever content the consumer did not read (none of it, or the rest after it stopped).
    consumed = true;
    while (remaining > 0) {
      if (available === 0 && !(await fill(1)))
        throw new FlowFileV3Error(`stream ended with ${remaining} bytes of content missing`, offset);
      remaining -= front(Math.min(remaining, chunks[0]?.length ?? 0)).length;
    }
  }
}
