import { fstatSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ByteWriter } from './byte-codec.ts';

/**
 * The frame is the unit of every file of the FlowFile repository:
 * `[u32 LE payload length][u32 LE CRC32 of the payload][payload]`. A reader stops at the first
 * frame whose length does not fit the file or whose CRC does not match (a torn or corrupt tail).
 */
export const FRAME_HEADER_BYTES = 8;
/** Larger lengths are treated as corruption (no frame we write comes near it). */
export const MAX_FRAME_BYTES = 1 << 30;
/** First 8 bytes of a journal; the digit is the format version (as in the other magics). */
export const JOURNAL_MAGIC = Buffer.from('SLUICEJ1', 'latin1');
/** First 8 bytes of a snapshot. */
export const SNAPSHOT_MAGIC = Buffer.from('SLUICES1', 'latin1');
/** First 8 bytes of a swap file. */
export const SWAP_MAGIC = Buffer.from('SLUICEW1', 'latin1');
/** Length of every magic. */
export const MAGIC_BYTES = 8;
/** A journal frame's payload starts with the transaction seq (u32 high, u32 low, LE), then records. */
export const SEQ_BYTES = 8;

const TWO_32 = 0x1_0000_0000;
const INITIAL_CAPACITY = 8 << 20;

/**
 * Pending journal frames of a commit group, encoded into one growing buffer so a flush is one
 * write. A frame is opened with {@link beginFrame}, filled through the {@link ByteWriter} methods
 * and sealed (length, CRC) by {@link endFrame}, or dropped by {@link abortFrame}.
 */
export class JournalBuffer extends ByteWriter {
  #frameStart = -1;

  constructor() {
    super(INITIAL_CAPACITY);
  }

  get byteLength(): number {
    return this.pos;
  }

  beginFrame(seq: number): void {
    this.ensure(FRAME_HEADER_BYTES + SEQ_BYTES);
    this.#frameStart = this.pos;
    this.pos += FRAME_HEADER_BYTES;
    this.u32(Math.floor(seq / TWO_32));
    this.u32(seq % TWO_32);
  }

  endFrame(): void {
    const start = this.#frameStart;
    const payload = start + FRAME_HEADER_BYTES;
    this.buf.writeUInt32LE(this.pos - payload, start);
    this.buf.writeUInt32LE(crc32(this.buf.subarray(payload, this.pos)), start + 4);
    this.#frameStart = -1;
  }

  abortFrame(): void {
    if (this.#frameStart >= 0) this.pos = this.#frameStart;
    this.#frameStart = -1;
  }

  /** The sealed frames (valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    // Give back memory after a burst (e.g. a power-mode group that grew during a slow fsync).
    if (this.buf.length > 4 * INITIAL_CAPACITY) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }
}

/** Builds a single frame: write the payload through the {@link ByteWriter} methods, then {@link finish}. */
export class FrameWriter extends ByteWriter {
  constructor(capacity = 1 << 16) {
    super(capacity, FRAME_HEADER_BYTES);
  }

  /** The frame (header + payload); valid until the writer is reset or written to again. */
  finish(): Buffer {
    const length = this.pos - FRAME_HEADER_BYTES;
    this.buf.writeUInt32LE(length, 0);
    this.buf.writeUInt32LE(crc32(this.buf.subarray(FRAME_HEADER_BYTES, this.pos)), 4);
    return this.buf.subarray(0, this.pos);
  }

  /** Starts a new frame in the same memory. */
  reset(): void {
    this.pos = FRAME_HEADER_BYTES;
  }
}

/** The seq of a journal frame payload. */
export function payloadSeq(payload: Buffer): number {
  return payload.readUInt32LE(0) * TWO_32 + payload.readUInt32LE(4);
}

/** One frame (header + UTF-8 payload) in a new buffer. */
export function encodeFrame(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  out.write(text, FRAME_HEADER_BYTES, 'utf8');
  out.writeUInt32LE(length, 0);
  out.writeUInt32LE(crc32(out.subarray(FRAME_HEADER_BYTES)), 4);
  return out;
}

/** Writes all of `data` at `position` (writeSync may write less than asked). */
export function writeFully(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    done += writeSync(fd, data, done, data.length - done, position + done);
  }
}

/**
 * Reads frames of a file sequentially through a reusable buffer (files may be far larger than
 * memory should hold at once). Synchronous: recovery runs before anything else.
 */
export class FrameReader {
  readonly #fd: number;
  readonly #size: number;
  #buf: Buffer;
  /** File offset of #buf[0], and of the end of the valid bytes in #buf. */
  #bufStart: number;
  #bufEnd: number;
  #pos: number;
  /** Bytes after the last good frame when reading stopped at a bad one. */
  droppedBytes = 0;
  /** Why reading stopped early, if it did. */
  problem: string | undefined;

  constructor(fd: number, start: number) {
    this.#fd = fd;
    this.#size = fstatSync(fd).size;
    this.#buf = Buffer.allocUnsafe(1 << 20);
    this.#bufStart = start;
    this.#bufEnd = start;
    this.#pos = start;
  }

  /** File offset of the next frame (the end of the good frames once next() returned undefined). */
  get position(): number {
    return this.#pos;
  }

  /**
   * The next frame's payload (a view valid until the following call), or undefined at the end of
   * the file or at the first torn or corrupt frame (then `droppedBytes` > 0 and `problem` is set).
   */
  next(): Buffer | undefined {
    if (this.#pos >= this.#size) return undefined;
    if (!this.#fill(FRAME_HEADER_BYTES)) return this.#stop('short frame header');
    const at = this.#pos - this.#bufStart;
    const length = this.#buf.readUInt32LE(at);
    const crc = this.#buf.readUInt32LE(at + 4);
    if (length === 0 || length > MAX_FRAME_BYTES || this.#pos + FRAME_HEADER_BYTES + length > this.#size) {
      return this.#stop(`bad frame length ${length}`);
    }
    if (!this.#fill(FRAME_HEADER_BYTES + length)) return this.#stop('short read');
    const from = this.#pos - this.#bufStart + FRAME_HEADER_BYTES;
    const payload = this.#buf.subarray(from, from + length);
    if (crc32(payload) !== crc) return this.#stop('CRC mismatch');
    this.#pos += FRAME_HEADER_BYTES + length;
    return payload;
  }

  #stop(problem: string): undefined {
    this.problem = `${problem} at offset ${this.#pos}`;
    this.droppedBytes = this.#size - this.#pos;
    this.#pos = this.#size;
    return undefined;
  }

  /** Makes bytes [pos, pos + n) available in the buffer; false if the file ends first. */
  #fill(n: number): boolean {
    if (this.#pos + n <= this.#bufEnd) return true;
    const keep = this.#bufEnd - this.#pos;
    if (n > this.#buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(n, this.#buf.length * 2));
      this.#buf.copy(bigger, 0, this.#pos - this.#bufStart, this.#bufEnd - this.#bufStart);
      this.#buf = bigger;
    } else {
      this.#buf.copy(this.#buf, 0, this.#pos - this.#bufStart, this.#bufEnd - this.#bufStart);
    }
    this.#bufStart = this.#pos;
    this.#bufEnd = this.#pos + keep;
    while (this.#bufEnd < this.#pos + n) {
      const room = this.#buf.length - (this.#bufEnd - this.#bufStart);
      const read = readSync(this.#fd, this.#buf, this.#bufEnd - this.#bufStart, room, this.#bufEnd);
      if (read === 0) return false;
      this.#bufEnd += read;
    }
    return true;
  }
}
