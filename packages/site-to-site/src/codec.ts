/**
 * The Site-to-Site FlowFile codec, version 1 (NiFi's `remote/codec/StandardFlowFileCodec.java`),
 * the same for the RAW and HTTP transports. One data packet is:
 *
 *   int32 attributeCount
 *   attributeCount x ( int32 keyLength, key (UTF-8), int32 valueLength, value (UTF-8) )
 *   int64 contentLength
 *   contentLength bytes of content
 *
 * all integers big-endian (Java's DataOutputStream), at most 25,000 attributes per packet. In an
 * HTTP body packets are simply concatenated; with compression on, each packet is wrapped in its own
 * NiFi compression stream (see compression.ts). Both directions stream: a packet's content is never
 * held in memory, so a 2 GB FlowFile costs one chunk of buffer.
 */
import { isUtf8 } from 'node:buffer';
import { ByteReader } from './byte-reader.ts';
import { COMPRESSION_CHUNK_BYTES, compressStream, type DecompressLimits, decompressBlock } from './compression.ts';
import { type Crc32, tapCrc } from './crc32.ts';
import { SiteToSiteCodecError } from './errors.ts';

/** NiFi's limit on attributes in one packet (StandardFlowFileCodec.MAX_NUM_ATTRIBUTES). */
export const MAX_ATTRIBUTES_PER_PACKET = 25_000;

const INT32_MAX = 0x7fffffff;
const TWO_32 = 0x1_0000_0000;
// Output is gathered into writes of this size; bigger content chunks pass through uncopied.
const WRITE_BYTES = 64 * 1024;
const PASS_THROUGH_BYTES = 16 * 1024;

/** One FlowFile to send: its attributes, and exactly `size` bytes of content. */
export interface DataPacket {
  /** Attributes as (key, value) pairs; a `Map` works. */
  readonly attributes: Iterable<readonly [string, string]>;
  /** Content length in bytes; the content must yield exactly this many. */
  readonly size: number;
  /**
   * The content, whole or as a stream (a Node `Readable` is one). Streamed chunks must not be
   * reused by their producer after being handed over (Node streams never do).
   */
  readonly content: Uint8Array | AsyncIterable<Uint8Array>;
}

/** One FlowFile received: attributes, and its content as a stream to read before the next packet. */
export interface ReceivedDataPacket {
  readonly attributes: Map<string, string>;
  readonly size: number;
  /**
   * The content. Read it to its end (or not at all: the decoder then skips it) before asking for
   * the next packet; it can be read once.
   */
  readonly content: AsyncIterable<Uint8Array>;
}

/** Limits that keep a hostile packet stream from exhausting memory. */
export interface DecodeLimits extends DecompressLimits {
  /** Most attributes per packet (default and NiFi's limit: 25,000). */
  readonly maxAttributes?: number;
  /** Most bytes in one attribute key or value (default 16 MiB). */
  readonly maxFieldBytes?: number;
  /** Most bytes of all attribute keys and values of one packet together (default 64 MiB). */
  readonly maxAttributeBytes?: number;
}

/** How a packet stream is encoded. */
export interface EncodeOptions {
  /** Wrap each packet in NiFi's compression framing (the `use-compression` handshake property). */
  readonly compressed?: boolean;
  /** Checksum to update with the uncompressed encoded bytes. */
  readonly crc?: Crc32;
  /** Compression chunk size (default 64 KiB). */
  readonly chunkBytes?: number;
}

/** How a packet stream is decoded. */
export interface DecodeOptions {
  /** Each packet is wrapped in NiFi's compression framing. */
  readonly compressed?: boolean;
  /** Checksum to update with the uncompressed encoded bytes. */
  readonly crc?: Crc32;
  readonly limits?: DecodeLimits;
}

/**
 * The bytes before a packet's content: attribute count, attributes, content length.
 * @throws {RangeError} for more than 25,000 attributes, a field longer than 2 GiB, or a size that is
 * not a byte count.
 */
export function encodeDataPacketHeader(attributes: Iterable<readonly [string, string]>, size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`content size ${size} is not a byte count`);
  const pairs = Array.isArray(attributes) ? attributes : [...attributes];
  if (pairs.length > MAX_ATTRIBUTES_PER_PACKET)
    throw new RangeError(
      `${pairs.length} attributes is more than the ${MAX_ATTRIBUTES_PER_PACKET} a Site-to-Site packet may carry`,
    );
  const lengths = new Array<number>(pairs.length * 2);
  let total = 4 + 8;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    if (pair === undefined) continue;
    const keyLength = Buffer.byteLength(pair[0], 'utf8');
    const valueLength = Buffer.byteLength(pair[1] ?? '', 'utf8');
    if (keyLength > INT32_MAX || valueLength > INT32_MAX) throw new RangeError(`attribute "${pair[0]}" is longer than 2 GiB`);
    lengths[2 * i] = keyLength;
    lengths[2 * i + 1] = valueLength;
    total += 8 + keyLength + valueLength;
  }
  const header = Buffer.allocUnsafe(total);
  let at = header.writeInt32BE(pairs.length, 0);
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    if (pair === undefined) continue;
    const keyLength = lengths[2 * i] ?? 0;
    const valueLength = lengths[2 * i + 1] ?? 0;
    at = header.writeInt32BE(keyLength, at);
    at += header.write(pair[0], at, keyLength, 'utf8');
    at = header.writeInt32BE(valueLength, at);
    at += header.write(pair[1] ?? '', at, valueLength, 'utf8');
  }
  // int64 without BigInt: the size is a safe integer, so the high word fits 21 bits.
  at = header.writeUInt32BE(Math.floor(size / TWO_32), at);
  header.writeUInt32BE(size % TWO_32, at);
  return header;
}

async function* packetBytes(packet: DataPacket, index: number, crc: Crc32 | undefined): AsyncGenerator<Uint8Array> {
  const header = encodeDataPacketHeader(packet.attributes, packet.size);
  crc?.update(header);
  yield header;
  const content = packet.content;
  if (content instanceof Uint8Array) {
    if (content.length !== packet.size)
      throw new RangeError(`packet ${index} declares ${packet.size} bytes of content but has ${content.length}`);
    crc?.update(content);
    if (content.length > 0) yield content;
    return;
  }
  let sent = 0;
  for await (const chunk of content) {
    sent += chunk.length;
    if (sent > packet.size) throw new RangeError(`packet ${index} declares ${packet.size} bytes of content but has more`);
    crc?.update(chunk);
    if (chunk.length > 0) yield chunk;
  }
  if (sent !== packet.size) throw new RangeError(`packet ${index} declares ${packet.size} bytes of content but has only ${sent}`);
}

/**
 * Gathers small pieces into larger writes; big pieces go out as they are. Writes wait in `ready`.
 * With `crc`, every write is added to it as it goes out (the output is the encoded stream).
 */
class WriteGatherer {
  #buffer: Buffer = Buffer.allocUnsafe(WRITE_BYTES);
  #used = 0;
  readonly #crc: Crc32 | undefined;
  /** Writes ready to go out, in order. */
  ready: Buffer[] = [];

  constructor(crc: Crc32 | undefined) {
    this.#crc = crc;
  }

  push(piece: Uint8Array): void {
    if (piece.length >= PASS_THROUGH_BYTES) {
      this.flush();
      const out = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
      this.#crc?.update(out);
      this.ready.push(out);
      return;
    }
    if (this.#used + piece.length > WRITE_BYTES) this.flush();
    this.#buffer.set(piece, this.#used);
    this.#used += piece.length;
  }

  /**
   * Writes a packet header straight into the buffer (as {@link encodeDataPacketHeader} would
   * encode it); false, writing nothing, when it might not fit in one write or is invalid (use
   * encodeDataPacketHeader then: it says what is wrong).
   */
  pushHeader(pairs: readonly (readonly [string, string])[], size: number): boolean {
    if (!Number.isSafeInteger(size) || size < 0 || pairs.length > MAX_ATTRIBUTES_PER_PACKET) return false;
    // At most 3 bytes of UTF-8 per UTF-16 code unit.
    let bound = 12;
    for (const pair of pairs) bound += 8 + 3 * (pair[0].length + (pair[1] ?? '').length);
    if (bound > WRITE_BYTES) return false;
    if (this.#used + bound > WRITE_BYTES) this.flush();
    const b = this.#buffer;
    let at = b.writeInt32BE(pairs.length, this.#used);
    for (const pair of pairs) {
      const keyLength = b.write(pair[0], at + 4, 'utf8');
      b.writeInt32BE(keyLength, at);
      at += 4 + keyLength;
      const valueLength = b.write(pair[1] ?? '', at + 4, 'utf8');
      b.writeInt32BE(valueLength, at);
      at += 4 + valueLength;
    }
    at = b.writeUInt32BE(Math.floor(size / TWO_32), at);
    this.#used = b.writeUInt32BE(size % TWO_32, at);
    return true;
  }

  flush(): void {
    if (this.#used === 0) return;
    const out = this.#buffer.subarray(0, this.#used);
    this.#crc?.update(out);
    this.ready.push(out);
    // The emitted buffer may still be queued on a socket: start a fresh one.
    this.#buffer = Buffer.allocUnsafe(WRITE_BYTES);
    this.#used = 0;
  }

  /** Takes the writes ready so far. */
  take(): Buffer[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }
}

/**
 * Encodes packets into the body of a Site-to-Site transfer, streaming each packet's content.
 * Packets from a synchronous iterable whose content is in memory are encoded without waiting
 * between them: the stream yields only once a write's worth is gathered.
 * @throws {RangeError} when a packet's content is not exactly its declared size, or its header is
 * invalid (see {@link encodeDataPacketHeader}); the stream is then unusable.
 */
export async function* encodeDataPackets(
  packets: AsyncIterable<DataPacket> | Iterable<DataPacket>,
  options: EncodeOptions = {},
): AsyncGenerator<Buffer> {
  const crc = options.crc;
  const compressed = options.compressed === true;
  // Uncompressed, the output is the encoded stream: checksummed as it goes out, a write at a time.
  const out = new WriteGatherer(compressed ? undefined : crc);
  let index = 0;
  /** Encodes a packet whose content is in memory (uncompressed); false for any other packet. */
  const inMemory = (packet: DataPacket): boolean => {
    const content = packet.content;
    if (compressed || !(content instanceof Uint8Array)) return false;
    index++;
    if (content.length !== packet.size)
      throw new RangeError(`packet ${index} declares ${packet.size} bytes of content but has ${content.length}`);
    const attributes = packet.attributes;
    const pairs = Array.isArray(attributes) ? (attributes as (readonly [string, string])[]) : [...attributes];
    if (!out.pushHeader(pairs, packet.size)) out.push(encodeDataPacketHeader(pairs, packet.size));
    if (content.length > 0) out.push(content);
    return true;
  };
  async function* streamed(packet: DataPacket): AsyncGenerator<Buffer> {
    index++;
    const bytes = packetBytes(packet, index, compressed ? crc : undefined);
    const framed = compressed ? compressStream(bytes, options.chunkBytes ?? COMPRESSION_CHUNK_BYTES) : bytes;
    for await (const piece of framed) {
      out.push(piece);
      if (out.ready.length > 0) yield* out.take();
    }
  }
  if (Symbol.iterator in packets && !(Symbol.asyncIterator in packets)) {
    for (const packet of packets) {
      if (!inMemory(packet)) yield* streamed(packet);
      if (out.ready.length > 0) yield* out.take();
    }
  } else {
    for await (const packet of packets) {
      if (!inMemory(packet)) yield* streamed(packet);
      if (out.ready.length > 0) yield* out.take();
    }
  }
  out.flush();
  yield* out.take();
}

interface Header {
  readonly attributes: Map<string, string>;
  readonly size: number;
}

interface Limits {
  readonly maxAttributes: number;
  readonly maxField: number;
  readonly maxAttributeBytes: number;
}

function utf8(buffer: Buffer, start: number, end: number): string | undefined {
  const text = buffer.toString('utf8', start, end);
  // Decoding replaces bad sequences with U+FFFD; only then is a (rarer) exact check needed.
  if (text.includes('\uFFFD') && !isUtf8(buffer.subarray(start, end))) return undefined;
  return text;
}

/**
 * Parses a packet header in place when all of it is in the first buffered chunk (the common case:
 * network reads are much bigger than headers). Undefined when it is not, or when anything is wrong:
 * the careful path then reads it again and reports exactly what.
 */
function parseHeaderInPlace(reader: ByteReader, limits: Limits): Header | undefined {
  const peeked = reader.peekChunk();
  if (peeked === undefined) return undefined;
  const { chunk, start } = peeked;
  const end = chunk.length;
  let at = start;
  if (end - at < 4) return undefined;
  const count = chunk.readInt32BE(at);
  at += 4;
  if (count < 0 || count > limits.maxAttributes) return undefined;
  const attributes = new Map<string, string>();
  let attributeBytes = 0;
  for (let i = 0; i < count; i++) {
    if (end - at < 4) return undefined;
    const keyLength = chunk.readInt32BE(at);
    at += 4;
    if (keyLength < 0 || keyLength > limits.maxField || end - at < keyLength + 4) return undefined;
    const key = utf8(chunk, at, at + keyLength);
    at += keyLength;
    const valueLength = chunk.readInt32BE(at);
    at += 4;
    if (key === undefined || valueLength < 0 || valueLength > limits.maxField || end - at < valueLength) return undefined;
    const value = utf8(chunk, at, at + valueLength);
    at += valueLength;
    attributeBytes += keyLength + valueLength;
    if (value === undefined || attributeBytes > limits.maxAttributeBytes) return undefined;
    attributes.set(key, value);
  }
  if (end - at < 8) return undefined;
  const high = chunk.readInt32BE(at);
  const size = high * TWO_32 + chunk.readUInt32BE(at + 4);
  if (high < 0 || !Number.isSafeInteger(size)) return undefined;
  reader.skip(at + 8 - start);
  return { attributes, size };
}

/** Reads a packet header field by field, waiting for bytes as needed; throws precise errors. */
async function readHeader(reader: ByteReader, limits: Limits, index: number, base: number): Promise<Header> {
  const where = (): number => base + reader.offset;
  const fail = (detail: string, field: string, offset: number): SiteToSiteCodecError =>
    new SiteToSiteCodecError(`packet ${index}: ${detail}`, field, offset);
  const bytes = async (n: number, field: string): Promise<Buffer> => {
    const at = where();
    const got = reader.takeBuffered(n) ?? (await reader.read(n));
    if (got === undefined) throw fail(`the stream ended after ${reader.buffered} of ${n} bytes`, field, at);
    return got;
  };
  const text = async (n: number, field: string): Promise<string> => {
    const at = where();
    const raw = await bytes(n, field);
    if (!isUtf8(raw)) throw fail('not valid UTF-8', field, at);
    return raw.toString('utf8');
  };
  let attributeBytes = 0;
  const lengthOf = async (field: string): Promise<number> => {
    const at = where();
    const length = (await bytes(4, field)).readInt32BE(0);
    if (length < 0) throw fail(`negative length ${length}`, field, at);
    if (length > limits.maxField)
      throw fail(`${length} bytes is more than the limit of ${limits.maxField} for one field`, field, at);
    attributeBytes += length;
    if (attributeBytes > limits.maxAttributeBytes)
      throw fail(`attributes take more than the limit of ${limits.maxAttributeBytes} bytes`, field, at);
    return length;
  };

  const countAt = where();
  const count = (await bytes(4, 'attribute count')).readInt32BE(0);
  if (count < 0) throw fail(`negative attribute count ${count}`, 'attribute count', countAt);
  if (count > limits.maxAttributes)
    throw fail(`${count} attributes is more than the limit of ${limits.maxAttributes}`, 'attribute count', countAt);
  const attributes = new Map<string, string>();
  for (let i = 1; i <= count; i++) {
    const key = await text(await lengthOf(`attribute ${i} key length`), `attribute ${i} key`);
    const name = `attribute ${i} ("${key.slice(0, 64)}") value`;
    attributes.set(key, await text(await lengthOf(`${name} length`), name));
  }
  const sizeAt = where();
  const sizeBytes = await bytes(8, 'content length');
  const high = sizeBytes.readInt32BE(0);
  if (high < 0) throw fail('negative content length', 'content length', sizeAt);
  const size = high * TWO_32 + sizeBytes.readUInt32BE(4);
  if (!Number.isSafeInteger(size)) throw fail(`content length ${size} is too large`, 'content length', sizeAt);
  return { attributes, size };
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A packet's content: an async iterable (and its own iterator) over the reader, read once. */
class PacketContent implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  #remaining: number;
  #started = false;
  /** The decoder moved on: what is left was skipped. */
  #finished = false;

  constructor(
    readonly reader: ByteReader,
    readonly size: number,
    readonly index: number,
    readonly base: number,
  ) {
    this.#remaining = size;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#finished) throw new Error(`the content of packet ${this.index} is gone: the decoder moved on to the next packet`);
    if (this.#started) throw new Error(`the content of packet ${this.index} was already read`);
    this.#started = true;
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#remaining === 0 || this.#finished) return DONE;
    const chunk = this.reader.takeSomeBuffered(this.#remaining) ?? (await this.#more());
    this.#remaining -= chunk.length;
    return { done: false, value: chunk };
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    return DONE;
  }

  async #more(): Promise<Buffer> {
    const at = this.base + this.reader.offset;
    const chunk = await this.reader.readSome(this.#remaining);
    if (chunk === undefined)
      throw new SiteToSiteCodecError(
        `packet ${this.index}: the stream ended with ${this.#remaining} of ${this.size} content bytes missing`,
        'content',
        at,
      );
    return chunk;
  }

  /**
   * All of the content at once when it is already buffered in one piece and nothing was read yet
   * (small packets usually are), without waiting; undefined otherwise (read it as a stream).
   */
  takeWhole(): Buffer | undefined {
    if (this.#started || this.#finished) return undefined;
    if (this.#remaining === 0) {
      this.#started = true;
      return Buffer.alloc(0);
    }
    const peeked = this.reader.peekChunk();
    if (peeked === undefined || peeked.chunk.length - peeked.start < this.#remaining) return undefined;
    this.#started = true;
    const chunk = this.reader.takeSomeBuffered(this.#remaining);
    if (chunk === undefined) return undefined;
    this.#remaining -= chunk.length;
    return chunk;
  }

  /** Like {@link finish} when nothing is left to skip (no waiting); false when something is. */
  finishedAlready(): boolean {
    if (this.#remaining > 0) return false;
    this.#finished = true;
    return true;
  }

  /** Skips whatever was not read; the reader is then at the next packet. */
  async finish(): Promise<void> {
    this.#finished = true;
    while (this.#remaining > 0) {
      const chunk = this.reader.takeSomeBuffered(this.#remaining) ?? (await this.#more());
      this.#remaining -= chunk.length;
    }
  }
}

/**
 * The whole content of a received packet when the decoder already holds all of it in one piece and
 * none was read yet (then the content counts as read); undefined otherwise: read `content` as usual.
 */
export function takeBufferedContent(packet: ReceivedDataPacket): Buffer | undefined {
  return packet.content instanceof PacketContent ? packet.content.takeWhole() : undefined;
}

function limitsOf(limits: DecodeLimits): Limits {
  return {
    maxAttributes: limits.maxAttributes ?? MAX_ATTRIBUTES_PER_PACKET,
    maxField: limits.maxFieldBytes ?? 16 * 1024 * 1024,
    maxAttributeBytes: limits.maxAttributeBytes ?? 64 * 1024 * 1024,
  };
}

/**
 * Decodes the body of a Site-to-Site transfer into packets, one at a time, streaming content.
 * @throws {SiteToSiteCodecError} on a malformed packet or compression frame: which field, at which
 * byte. The stream is abandoned there.
 */
export async function* decodeDataPackets(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<ReceivedDataPacket> {
  const limits = limitsOf(options.limits ?? {});
  const crc = options.crc;
  let index = 0;
  if (options.compressed !== true) {
    const reader = new ByteReader(crc === undefined ? source : tapCrc(source, crc));
    try {
      // Waits only when the buffered bytes run out (small packets come many to a network read).
      while (reader.buffered > 0 || !(await reader.atEnd())) {
        index++;
        const header = parseHeaderInPlace(reader, limits) ?? (await readHeader(reader, limits, index, 0));
        const content = new PacketContent(reader, header.size, index, 0);
        yield { attributes: header.attributes, size: header.size, content };
        if (!content.finishedAlready()) await content.finish();
      }
    } finally {
      await reader.close();
    }
    return;
  }
  const raw = new ByteReader(source);
  let base = 0; // uncompressed bytes before the current packet, for error offsets
  try {
    while (!(await raw.atEnd())) {
      const block = decompressBlock(raw, options.limits ?? {});
      const inner = new ByteReader(crc === undefined ? block : tapCrc(block, crc));
      // A compression stream with no data (only its end marker): nothing to decode.
      if (await inner.atEnd()) continue;
      index++;
      const header = parseHeaderInPlace(inner, limits) ?? (await readHeader(inner, limits, index, base));
      const content = new PacketContent(inner, header.size, index, base);
      yield { attributes: header.attributes, size: header.size, content };
      await content.finish();
      if (!(await inner.atEnd()))
        throw new SiteToSiteCodecError(
          `packet ${index}: bytes follow the packet inside its compression stream`,
          'end of packet',
          base + inner.offset,
        );
      base += inner.offset;
    }
  } finally {
    await raw.close();
  }
}
