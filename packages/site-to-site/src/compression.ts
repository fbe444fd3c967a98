/**
 * NiFi's Site-to-Site compression framing (`remote/io/CompressionOutputStream.java` and
 * `CompressionInputStream.java`), which is not gzip. One compression stream is a run of chunks:
 *
 *   chunk 1:        "SYNC" int32 originalLength int32 compressedLength <zlib bytes>
 *   chunk 2..n:  01 "SYNC" int32 originalLength int32 compressedLength <zlib bytes>
 *   end:         00
 *
 * Integers are big-endian. Each chunk is compressed alone by `java.util.zip.Deflater` at level 1
 * with its default zlib wrapper (header + Adler-32), so the bytes are a zlib stream, not raw
 * deflate. A writer fills chunks of up to 64 KiB; NiFi's own writer also cuts a chunk at every
 * flush (about every 8 KiB of content), so a reader must take any chunk size up to its limit.
 * A stream with no data at all is the single byte 00. In Site-to-Site every packet is its own
 * compression stream (AbstractTransaction opens and closes one per packet).
 */
import { promisify } from 'node:util';
import { deflate, deflateSync, inflate, inflateSync } from 'node:zlib';
import { ByteReader } from './byte-reader.ts';
import { SiteToSiteCodecError } from './errors.ts';

/** Chunk size NiFi's CompressionOutputStream uses (DEFAULT_BUFFER_SIZE, 64 KiB). */
export const COMPRESSION_CHUNK_BYTES = 64 * 1024;
/** The smallest chunk size NiFi's writer accepts (MIN_BUFFER_SIZE, 8 KiB). */
export const MIN_COMPRESSION_CHUNK_BYTES = 8 * 1024;
/** Default limit on one chunk's original length when reading (1 MiB, 16 times what NiFi writes). */
export const DEFAULT_MAX_CHUNK_BYTES = 1024 * 1024;

const SYNC = Buffer.from('SYNC', 'latin1');
const END = Buffer.of(0);
// Below this size a chunk is (de)compressed on the event loop: a level-1 deflate of 16 KiB takes
// tens of microseconds, less than a round trip to the libuv pool. Larger chunks go to the pool so
// the event loop never stalls on them.
const INLINE_BYTES = 16 * 1024;
const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

/** Limits that keep a hostile compressed stream from exhausting memory. */
export interface DecompressLimits {
  /** Largest original (uncompressed) length one chunk may claim (default 1 MiB). */
  readonly maxChunkBytes?: number;
}

async function deflateChunk(data: Buffer): Promise<Buffer> {
  return data.length <= INLINE_BYTES ? deflateSync(data, { level: 1 }) : deflateAsync(data, { level: 1 });
}

function chunkHeader(first: boolean, originalLength: number, compressedLength: number): Buffer {
  const header = Buffer.allocUnsafe(first ? 12 : 13);
  let at = 0;
  if (!first) header[at++] = 1;
  SYNC.copy(header, at);
  header.writeInt32BE(originalLength, at + 4);
  header.writeInt32BE(compressedLength, at + 8);
  return header;
}

/**
 * Compresses a byte stream into one NiFi compression stream, chunk by chunk: memory use is one
 * chunk whatever the input size.
 * @param chunkBytes chunk size (default 64 KiB, as NiFi; at least 8 KiB).
 * @throws {RangeError} if `chunkBytes` is below NiFi's minimum of 8 KiB.
 */
export async function* compressStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  chunkBytes: number = COMPRESSION_CHUNK_BYTES,
): AsyncGenerator<Buffer> {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_COMPRESSION_CHUNK_BYTES || chunkBytes > 0x7fffffff)
    throw new RangeError(`compression chunk size ${chunkBytes} must be at least ${MIN_COMPRESSION_CHUNK_BYTES} bytes`);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let first = true;
  const emit = async function* (data: Buffer): AsyncGenerator<Buffer> {
    const compressed = await deflateChunk(data);
    yield chunkHeader(first, data.length, compressed.length);
    yield compressed;
    first = false;
  };
  // Takes exactly `n` pending bytes out as one buffer (copying only when they span pieces).
  const takePending = (n: number): Buffer => {
    const head = pending[0];
    let out: Buffer;
    if (head !== undefined && head.length >= n) {
      out = head.subarray(0, n);
      if (head.length === n) pending.shift();
      else pending[0] = head.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const piece = pending[0];
        if (piece === undefined) break;
        const take = Math.min(piece.length, n - at);
        piece.copy(out, at, 0, take);
        at += take;
        if (take === piece.length) pending.shift();
        else pending[0] = piece.subarray(take);
      }
    }
    pendingBytes -= n;
    return out;
  };
  for await (const data of source) {
    if (data.length === 0) continue;
    // Copy: the caller may reuse its buffer once we ask for the next one.
    pending.push(Buffer.from(data));
    pendingBytes += data.length;
    while (pendingBytes >= chunkBytes) yield* emit(takePending(chunkBytes));
  }
  if (pendingBytes > 0) yield* emit(takePending(pendingBytes));
  pending = [];
  yield END;
}

function readInt32(bytes: Buffer): number {
  return bytes.readInt32BE(0);
}

/**
 * Reads one compression stream from `reader` and yields its decompressed chunks, consuming the
 * stream's bytes up to and including its end marker and nothing after. An end of input right
 * after a chunk also ends the stream (NiFi's reader accepts it).
 * @throws {SiteToSiteCodecError} on a missing "SYNC", a length out of range, bad zlib data, a
 * chunk whose size differs from the length it claims, a bad continuation byte, or a truncation.
 */
export async function* decompressBlock(reader: ByteReader, limits: DecompressLimits = {}): AsyncGenerator<Buffer> {
  const maxChunk = limits.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  // Worst-case zlib expansion for incompressible data (zlib's deflateBound) plus slack.
  const maxCompressed = maxChunk + (maxChunk >>> 12) + (maxChunk >>> 14) + (maxChunk >>> 25) + 64;
  const fail = (detail: string, field: string, offset: number): SiteToSiteCodecError =>
    new SiteToSiteCodecError(detail, field, offset, 'compressed stream');
  const need = async (n: number, field: string): Promise<Buffer> => {
    const at = reader.offset;
    const bytes = await reader.read(n);
    if (bytes === undefined) throw fail(`the stream ended after ${reader.buffered} of ${n} bytes`, field, at);
    return bytes;
  };

  let chunk = 0;
  for (;;) {
    chunk++;
    const headerAt = reader.offset;
    if (chunk === 1) {
      // A writer closed without data writes only the end marker.
      if (!(await reader.ensure(1))) throw fail('the stream ended before the first chunk', 'chunk 1 "SYNC" header', headerAt);
      const lead = reader.takeBuffered(1);
      if (lead !== undefined && lead[0] === 0) return;
      const rest = await need(3, 'chunk 1 "SYNC" header');
      const sync = Buffer.concat([lead ?? Buffer.alloc(0), rest]);
      if (!sync.equals(SYNC))
        throw fail(`expected "SYNC" but found 0x${sync.toString('hex')}`, 'chunk 1 "SYNC" header', headerAt);
    } else {
      const sync = await need(4, `chunk ${chunk} "SYNC" header`);
      if (!sync.equals(SYNC))
        throw fail(`expected "SYNC" but found 0x${sync.toString('hex')}`, `chunk ${chunk} "SYNC" header`, headerAt);
    }
    const originalAt = reader.offset;
    const originalLength = readInt32(await need(4, `chunk ${chunk} original length`));
    if (originalLength < 0 || originalLength > maxChunk)
      throw fail(
        `a chunk of ${originalLength} bytes is outside 0..${maxChunk} (the limit on one chunk)`,
        `chunk ${chunk} original length`,
        originalAt,
      );
    const compressedAt = reader.offset;
    const compressedLength = readInt32(await need(4, `chunk ${chunk} compressed length`));
    if (compressedLength < 0 || compressedLength > maxCompressed)
      throw fail(
        `a compressed chunk of ${compressedLength} bytes is outside 0..${maxCompressed} for at most ${maxChunk} bytes of data`,
        `chunk ${chunk} compressed length`,
        compressedAt,
      );
    const dataAt = reader.offset;
    const compressed = await need(compressedLength, `chunk ${chunk} compressed data`);
    let data: Buffer;
    try {
      const options = { maxOutputLength: Math.max(1, originalLength) };
      data = compressed.length <= INLINE_BYTES ? inflateSync(compressed, options) : await inflateAsync(compressed, options);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw fail(`chunk is not valid zlib data or is longer than it claims: ${reason}`, `chunk ${chunk} compressed data`, dataAt);
    }
    if (data.length !== originalLength)
      throw fail(
        `chunk decompressed to ${data.length} bytes but claims ${originalLength}`,
        `chunk ${chunk} compressed data`,
        dataAt,
      );
    const markerAt = reader.offset;
    const marker = await reader.read(1);
    if (marker !== undefined && marker[0] !== 0 && marker[0] !== 1)
      throw fail(
        `expected 0 (end) or 1 (more) after a chunk but found ${marker[0]}`,
        `chunk ${chunk} continuation byte`,
        markerAt,
      );
    if (data.length > 0) yield data;
    if (marker === undefined || marker[0] === 0) return;
  }
}

/**
 * Decompresses exactly one NiFi compression stream.
 * @throws {SiteToSiteCodecError} as {@link decompressBlock}, and when bytes follow the end marker.
 */
export async function* decompressStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: DecompressLimits = {},
): AsyncGenerator<Buffer> {
  const reader = new ByteReader(source);
  try {
    yield* decompressBlock(reader, limits);
    if (!(await reader.atEnd()))
      throw new SiteToSiteCodecError(
        'bytes follow the end of the compression stream',
        'end marker',
        reader.offset,
        'compressed stream',
      );
  } finally {
    await reader.close();
  }
}
