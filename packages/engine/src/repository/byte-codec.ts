/** Strings written by {@link ByteWriter.str16} take at most this many UTF-8 bytes; 0xffff marks "none". */
export const MAX_STR16_BYTES = 0xfffe;
const NONE16 = 0xffff;

/**
 * Appends little-endian numbers and length-prefixed UTF-8 strings to a growing buffer. Callers
 * reserve room with {@link ensure} (3 bytes per UTF-16 unit of a string is always enough), so the
 * individual writes need no bounds checks of their own.
 */
export class ByteWriter {
  buf: Buffer;
  pos: number;

  constructor(capacity: number, start = 0) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.pos = start;
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(value: number): void {
    this.buf[this.pos++] = value;
  }

  u16(value: number): void {
    this.pos = this.buf.writeUInt16LE(value, this.pos);
  }

  u32(value: number): void {
    this.pos = this.buf.writeUInt32LE(value, this.pos);
  }

  f64(value: number): void {
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  /** u16 byte length + UTF-8. @throws {TypeError} when longer than {@link MAX_STR16_BYTES} bytes. */
  str16(text: string): void {
    const n = this.buf.write(text, this.pos + 2, 'utf8');
    if (n > MAX_STR16_BYTES) throw new TypeError(`string of ${n} bytes is too long for the journal: ${text.slice(0, 60)}…`);
    this.buf.writeUInt16LE(n, this.pos);
    this.pos += 2 + n;
  }

  /** The "no string" marker read back as undefined by {@link ByteReader.optStr16}. */
  none16(): void {
    this.u16(NONE16);
  }

  /** Pre-encoded bytes of a {@link str16} (see {@link encodeStr16}). */
  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** u32 byte length + UTF-8. */
  text32(text: string): void {
    const n = this.buf.write(text, this.pos + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4 + n;
  }
}

/** A string in {@link ByteWriter.str16} form, for values written over and over (queue ids). */
export function encodeStr16(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_STR16_BYTES) throw new TypeError(`string of ${bytes.length} bytes is too long for the journal`);
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16LE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** Thrown by {@link ByteReader} when a record runs past its frame (a malformed record). */
export class TruncatedRecordError extends TypeError {
  override readonly name = 'TruncatedRecordError';
}

/** Reads what {@link ByteWriter} wrote, within [pos, end) of a buffer. */
export class ByteReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new TruncatedRecordError(`record truncated at byte ${this.pos}`);
  }

  u8(): number {
    this.#need(1);
    return this.buf.readUInt8(this.pos++);
  }

  u16(): number {
    this.#need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.#need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  str16(): string {
    const value = this.optStr16();
    if (value === undefined) throw new TypeError(`missing string at byte ${this.pos - 2}`);
    return value;
  }

  optStr16(): string | undefined {
    const n = this.u16();
    if (n === NONE16) return undefined;
    this.#need(n);
    const value = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return value;
  }

  text32(): string {
    const n = this.u32();
    this.#need(n);
    const value = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return value;
  }
}
