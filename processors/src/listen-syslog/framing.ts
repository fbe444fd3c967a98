/** One frame of a syslog TCP stream; `truncatedFrom` is set when it was cut to the maximum size. */
export interface Frame {
  readonly data: Buffer;
  /** The frame's real length (octet counting) or -1 (newline framing: unknown), when truncated. */
  readonly truncatedFrom?: number;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const MAX_COUNT_DIGITS = 10;

/**
 * Splits a syslog TCP stream into messages (RFC 6587): octet counting ("<length> <message>") when a
 * frame starts with a digit, else non-transparent framing (messages end with a newline; a CR before
 * it is dropped). Each frame is decided on its own, so a sender may mix them. Messages longer than
 * `maxBytes` are cut to it (flagged) and the rest skipped, so one huge line cannot exhaust memory.
 */
export class SyslogFramer {
  readonly #maxBytes: number;
  readonly #emit: (frame: Frame) => void;
  #parts: Buffer[] = [];
  #size = 0;
  /** 'start': deciding the framing of the next frame. */
  #mode: 'start' | 'count' | 'octets' | 'line' = 'start';
  #countText = '';
  #remaining = 0;
  #declared = 0;
  #skipping = false;

  constructor(maxBytes: number, emit: (frame: Frame) => void) {
    this.#maxBytes = maxBytes;
    this.#emit = emit;
  }

  /** Feeds bytes as they arrive. */
  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#mode === 'start') {
        const c = chunk[i] ?? 0;
        if (c === NEWLINE || c === 0x0d || c === 0) {
          i++; // stray line ends between frames
          continue;
        }
        this.#mode = c >= 0x30 && c <= 0x39 ? 'count' : 'line';
        this.#countText = '';
        continue;
      }
      if (this.#mode === 'count') {
        const c = chunk[i] ?? 0;
        if (c >= 0x30 && c <= 0x39 && this.#countText.length < MAX_COUNT_DIGITS) {
          this.#countText += String.fromCharCode(c);
          i++;
          continue;
        }
        if (c === SPACE && this.#countText.length > 0) {
          i++;
          this.#declared = Number(this.#countText);
          this.#remaining = this.#declared;
          this.#mode = 'octets';
          if (this.#remaining === 0) this.#finish();
          continue;
        }
        // Not an octet count after all: the digits begin a newline-framed message.
        this.#append(Buffer.from(this.#countText, 'latin1'));
        this.#mode = 'line';
        continue;
      }
      if (this.#mode === 'octets') {
        const n = Math.min(this.#remaining, chunk.length - i);
        this.#append(chunk.subarray(i, i + n));
        this.#remaining -= n;
        i += n;
        if (this.#remaining === 0) this.#finish();
        continue;
      }
      const end = chunk.indexOf(NEWLINE, i);
      if (end < 0) {
        this.#append(chunk.subarray(i));
        return;
      }
      this.#append(chunk.subarray(i, end));
      i = end + 1;
      this.#finish();
    }
  }

  /** The connection ended: a last unterminated line is a message; a cut-off counted frame is flagged. */
  end(): void {
    if (this.#mode === 'line' && (this.#size > 0 || this.#skipping)) this.#finish();
    else if (this.#mode === 'octets' && (this.#size > 0 || this.#skipping)) {
      this.#declared = Math.max(this.#declared, this.#size + this.#remaining);
      this.#skipping = true;
      this.#finish();
    } else if (this.#mode === 'count' && this.#countText !== '') {
      this.#append(Buffer.from(this.#countText, 'latin1'));
      this.#mode = 'line';
      this.#finish();
    }
  }

  #append(data: Buffer): void {
    if (data.length === 0) return;
    const room = this.#maxBytes - this.#size;
    if (data.length > room) {
      this.#skipping = true;
      if (room > 0) {
        this.#parts.push(Buffer.from(data.subarray(0, room)));
        this.#size += room;
      }
      return;
    }
    // Copied: the socket may reuse its buffer.
    this.#parts.push(Buffer.from(data));
    this.#size += data.length;
  }

  #finish(): void {
    let data = this.#parts.length === 1 ? (this.#parts[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#parts, this.#size);
    if (this.#mode === 'line' && data.length > 0 && data[data.length - 1] === 0x0d) data = data.subarray(0, -1);
    if (this.#skipping) this.#emit({ data, truncatedFrom: this.#mode === 'octets' ? this.#declared : -1 });
    else this.#emit({ data });
    this.#parts = [];
    this.#size = 0;
    this.#skipping = false;
    this.#mode = 'start';
  }
}
