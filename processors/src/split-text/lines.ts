/**
 * Line scanning for SplitText: finds line terminators (\n, \r\n and a lone \r, as NiFi) in a
 * stream of chunks and reports each line's byte positions, never holding more than one chunk.
 */

/** Receives each line: where its content ends (before the terminator) and where the line ends (after it). */
export type LineHandler = (contentEnd: number, lineEnd: number) => void;

const LF = 0x0a;
const CR = 0x0d;

/** Scans chunks of a byte stream that starts at `base`, calling `onLine` for every line. */
export class LineScanner {
  #position: number;
  /** Absolute position of a \r that ended the previous chunk (it may be the first half of \r\n). */
  #pendingCr = -1;
  #lineStart: number;
  readonly #onLine: LineHandler;

  constructor(base: number, onLine: LineHandler) {
    this.#position = base;
    this.#lineStart = base;
    this.#onLine = onLine;
  }

  /** Bytes scanned so far, as an absolute position. */
  get position(): number {
    return this.#position;
  }

  push(chunk: Uint8Array): void {
    const base = this.#position;
    const length = chunk.length;
    if (length === 0) return;
    let i = 0;
    if (this.#pendingCr >= 0) {
      const crlf = chunk[0] === LF;
      this.#line(this.#pendingCr, this.#pendingCr + (crlf ? 2 : 1));
      this.#pendingCr = -1;
      if (crlf) i = 1;
    }
    // indexOf is a memchr: each terminator kind is searched once per stretch, not byte by byte.
    let nextLf = chunk.indexOf(LF, i);
    let nextCr = chunk.indexOf(CR, i);
    while (nextLf >= 0 || nextCr >= 0) {
      if (nextCr >= 0 && (nextLf < 0 || nextCr < nextLf)) {
        if (nextCr === length - 1) {
          this.#pendingCr = base + nextCr;
          break;
        }
        const crlf = chunk[nextCr + 1] === LF;
        const end = nextCr + (crlf ? 2 : 1);
        this.#line(base + nextCr, base + end);
        if (crlf) nextLf = chunk.indexOf(LF, end);
        nextCr = chunk.indexOf(CR, end);
      } else {
        this.#line(base + nextLf, base + nextLf + 1);
        nextLf = chunk.indexOf(LF, nextLf + 1);
      }
    }
    this.#position = base + length;
  }

  /** Ends the stream: reports a final \r and a last line without terminator. */
  end(): void {
    if (this.#pendingCr >= 0) {
      this.#line(this.#pendingCr, this.#pendingCr + 1);
      this.#pendingCr = -1;
    }
    if (this.#lineStart < this.#position) this.#line(this.#position, this.#position);
  }

  #line(contentEnd: number, lineEnd: number): void {
    this.#lineStart = lineEnd;
    this.#onLine(contentEnd, lineEnd);
  }
}
