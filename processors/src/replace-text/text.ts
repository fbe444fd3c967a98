/**
 * Character sets and line streaming for ReplaceText: decodes a byte stream in a chosen charset
 * (invalid input is an error, never U+FFFD), hands over one line at a time with its terminator,
 * and encodes the output back in the same charset.
 */

/** Character sets ReplaceText can read and write. */
export const CHARSETS: readonly string[] = ['UTF-8', 'UTF-16LE', 'UTF-16BE', 'ISO-8859-1', 'US-ASCII'];

/** Thrown when content cannot be processed as text (bad encoding, a line over the buffer limit). */
export class TextError extends Error {
  override readonly name = 'TextError';
}

/** Encodes and decodes one character set. */
export interface Charset {
  readonly name: string;
  /** A streaming decoder: `decode(chunk, true)` while more follows, `decode(undefined, false)` at the end. */
  decoder(): (chunk: Uint8Array | undefined, more: boolean) => string;
  encode(text: string): Buffer;
}

/** The charset of a name from {@link CHARSETS}. @throws {TextError} for another name. */
export function charset(name: string): Charset {
  switch (name) {
    case 'UTF-8':
      return textDecoderCharset(name, 'utf-8', (t) => Buffer.from(t, 'utf8'));
    case 'UTF-16LE':
      return textDecoderCharset(name, 'utf-16le', (t) => Buffer.from(t, 'utf16le'));
    case 'UTF-16BE':
      return textDecoderCharset(name, 'utf-16be', (t) => Buffer.from(t, 'utf16le').swap16());
    case 'ISO-8859-1':
      return {
        name,
        // Every byte is a character: nothing can be invalid, and nothing spans chunks.
        decoder: () => (chunk) =>
          chunk === undefined ? '' : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('latin1'),
        encode: (text) => {
          for (let i = 0; i < text.length; i++) {
            if (text.charCodeAt(i) > 0xff)
              throw new TextError(`the result contains "${text[i]}", which ISO-8859-1 cannot encode`);
          }
          return Buffer.from(text, 'latin1');
        },
      };
    case 'US-ASCII':
      return {
        name,
        decoder: () => (chunk) => {
          if (chunk === undefined) return '';
          for (let i = 0; i < chunk.length; i++) {
            if ((chunk[i] ?? 0) > 0x7f)
              throw new TextError(`the content is not valid US-ASCII (byte 0x${(chunk[i] ?? 0).toString(16)})`);
          }
          return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('latin1');
        },
        encode: (text) => {
          for (let i = 0; i < text.length; i++) {
            if (text.charCodeAt(i) > 0x7f) throw new TextError(`the result contains "${text[i]}", which US-ASCII cannot encode`);
          }
          return Buffer.from(text, 'latin1');
        },
      };
    default:
      throw new TextError(`character set "${name}" is not supported; use one of ${CHARSETS.join(', ')}`);
  }
}

function textDecoderCharset(name: string, label: string, encode: (text: string) => Buffer): Charset {
  return {
    name,
    decoder: () => {
      const decoder = new TextDecoder(label, { fatal: true, ignoreBOM: true });
      return (chunk, more) => {
        try {
          return decoder.decode(chunk, { stream: more });
        } catch {
          throw new TextError(`the content is not valid ${name}`);
        }
      };
    },
    encode,
  };
}

/** One line of text and the terminator that ended it ("" for a last line without one). */
export interface Line {
  readonly text: string;
  readonly ending: string;
}

/**
 * Splits decoded text chunks into lines (\n, \r\n, a lone \r), refusing a line longer than
 * `maxLength` characters (the Maximum Buffer Size in Line-by-Line mode).
 */
export class LineSplitter {
  #pending = '';
  readonly #maxLength: number;

  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  /** The complete lines in `text` (after what came before); a trailing partial line is kept. */
  push(text: string): Line[] {
    const out: Line[] = [];
    const buffer = this.#pending + text;
    let start = 0;
    for (;;) {
      const lf = buffer.indexOf('\n', start);
      const cr = buffer.indexOf('\r', start);
      if (lf < 0 && cr < 0) break;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        // A \r at the very end may be the first half of \r\n: wait for the next chunk.
        if (cr === buffer.length - 1) break;
        const crlf = buffer.charCodeAt(cr + 1) === 0x0a;
        out.push({ text: buffer.slice(start, cr), ending: crlf ? '\r\n' : '\r' });
        start = cr + (crlf ? 2 : 1);
      } else {
        out.push({ text: buffer.slice(start, lf), ending: '\n' });
        start = lf + 1;
      }
    }
    this.#pending = buffer.slice(start);
    if (this.#pending.length > this.#maxLength) {
      throw new TextError(`a line is longer than Maximum Buffer Size (${this.#maxLength} characters)`);
    }
    for (const line of out) {
      if (line.text.length > this.#maxLength) {
        throw new TextError(`a line is longer than Maximum Buffer Size (${this.#maxLength} characters)`);
      }
    }
    return out;
  }

  /** The last line, if the text did not end with a terminator. */
  end(): Line[] {
    const rest = this.#pending;
    this.#pending = '';
    if (rest === '') return [];
    if (rest.endsWith('\r')) return [{ text: rest.slice(0, -1), ending: '\r' }];
    return [{ text: rest, ending: '' }];
  }
}
