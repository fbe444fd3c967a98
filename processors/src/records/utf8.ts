import { isUtf8 } from 'node:buffer';

/** Content that is not valid UTF-8; `byteOffset` is where the first bad sequence starts. */
export class Utf8Error extends Error {
  override readonly name = 'Utf8Error';
  constructor(readonly byteOffset: number) {
    super(`invalid UTF-8 at byte offset ${byteOffset}`);
  }
}

/**
 * Decodes a byte stream as UTF-8, chunk by chunk (a character split across chunks is carried
 * over). A leading byte order mark is dropped. At the first invalid sequence it yields the valid
 * text before it, then throws a {@link Utf8Error}, so a parser can say which line was bad.
 */
export async function* decodeUtf8(source: AsyncIterable<unknown>): AsyncGenerator<string> {
  let carry: Buffer | undefined;
  let offset = 0; // bytes before `carry`
  let first = true;
  for await (const chunk of source) {
    let bytes = toBuffer(chunk);
    if (carry !== undefined) {
      bytes = Buffer.concat([carry, bytes]);
      carry = undefined;
    }
    if (first && bytes.length > 0) {
      if (bytes.length < 3 && isBomPrefix(bytes)) {
        carry = bytes;
        continue;
      }
      first = false;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3);
        offset += 3;
      }
    }
    const end = completeLength(bytes);
    const complete = bytes.subarray(0, end);
    if (!isUtf8(complete)) {
      const bad = firstInvalid(complete);
      if (bad > 0) yield complete.toString('utf8', 0, bad);
      throw new Utf8Error(offset + bad);
    }
    if (end < bytes.length) carry = Buffer.from(bytes.subarray(end));
    offset += end;
    if (complete.length > 0) yield complete.toString('utf8');
  }
  if (carry !== undefined && carry.length > 0) {
    if (first && isBomPrefix(carry) && carry.length < 3) throw new Utf8Error(offset);
    const bad = firstInvalid(carry);
    if (bad > 0) yield carry.toString('utf8', 0, bad);
    throw new Utf8Error(offset + Math.min(bad, carry.length));
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError('expected a stream of bytes');
}

function isBomPrefix(bytes: Buffer): boolean {
  const bom = [0xef, 0xbb, 0xbf];
  for (let i = 0; i < bytes.length && i < 3; i++) if (bytes[i] !== bom[i]) return false;
  return true;
}

/** The length of `bytes` without a trailing, incomplete (but so far plausible) multi-byte sequence. */
function completeLength(bytes: Buffer): number {
  const n = bytes.length;
  // Look back over at most 3 continuation bytes for the lead byte of the last sequence.
  for (let back = 1; back <= Math.min(4, n); back++) {
    const b = bytes[n - back] ?? 0;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Offset of the first invalid sequence (bytes.length when there is none but the tail is cut). */
function firstInvalid(bytes: Buffer): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = b & 0x07;
    } else return i;
    if (i + need >= n) return i; // cut short
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k] ?? 0;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}
