import { newRecord, RecordFormatError, type RecordObject, type RecordValue } from './types.ts';
import { Utf8Error } from './utf8.ts';

/** How a CSV text is laid out. */
export interface CsvReadOptions {
  /** Field separator (one character). */
  readonly delimiter: string;
  /** Quote character (one character). */
  readonly quote: string;
  /** Escape character inside quoted fields ('' for none; a doubled quote always works). */
  readonly escape: string;
  /** Whether the first line names the columns (else they are column_1, column_2, ...). */
  readonly header: boolean;
  /** Trim whitespace around unquoted fields and around quoted ones. */
  readonly trim: boolean;
  /** Turn unquoted numbers and true/false into numbers and booleans, and empty unquoted fields into null. */
  readonly typed: boolean;
  /** The longest record (in characters) held in memory; a longer one is an error. */
  readonly maxRecordChars: number;
}

/** Column names of a CSV text, resolved once the header (or the first record) is read. */
export interface CsvColumns {
  names: readonly string[] | undefined;
}

enum State {
  /** At the start of a field. */
  FieldStart,
  /** Inside an unquoted field. */
  Unquoted,
  /** Inside a quoted field. */
  Quoted,
  /** Just after an escape character inside a quoted field. */
  Escaped,
  /** Just read a quote inside a quoted field: a second quote is a literal one, anything else ends it. */
  QuoteInQuoted,
  /** After the closing quote: only whitespace, a delimiter or the end of the line may follow. */
  AfterQuoted,
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/**
 * Parses RFC 4180 CSV incrementally: quoted fields may hold delimiters, quotes (doubled, or after
 * the escape character) and line breaks; lines end with CRLF, LF or CR; empty lines are skipped.
 * Only the record being read is held in memory. `columns` is filled once the header is read.
 * @throws {RecordFormatError} naming the record, line and column of the first problem (an
 * unterminated quote, text after a closing quote, more values than columns, invalid UTF-8).
 */
export async function* parseCsv(
  text: AsyncIterable<string>,
  options: CsvReadOptions,
  columns: CsvColumns = { names: undefined },
): AsyncGenerator<RecordObject> {
  const delimiter = options.delimiter.charCodeAt(0);
  const quote = options.quote.charCodeAt(0);
  const escapeChar = options.escape === '' ? -1 : options.escape.charCodeAt(0);
  let state: State = State.FieldStart;
  let line = 1;
  let column = 1;
  let records = 0; // data records completed
  let recordLine = 1;
  let recordChars = 0;
  let fields: string[] = [];
  let quoted: boolean[] = [];
  let parts: string[] = []; // earlier pieces of the current field
  let quoteLine = 0;
  let quoteColumn = 0;
  let header = options.header;
  let names: readonly string[] | undefined;
  // A record ended on a CR that was the last character of a chunk: a LF starting the next one belongs to it.
  let afterCr = false;

  const recordNumber = (): number => records + 1;
  const fail = (message: string, at: { line: number; column: number } = { line, column }): RecordFormatError =>
    new RecordFormatError(`${message} (record ${recordNumber()}, line ${at.line}, column ${at.column})`, {
      record: recordNumber(),
      line: at.line,
      column: at.column,
    });

  const endField = (piece: string, isQuoted: boolean): void => {
    const value = parts.length === 0 ? piece : parts.join('') + piece;
    parts = [];
    fields.push(isQuoted || !options.trim ? value : value.trim());
    quoted.push(isQuoted);
  };

  /** Ends a line: returns the record, or undefined for the header and blank lines. */
  const endRecord = (): RecordObject | undefined => {
    const values = fields;
    const wasQuoted = quoted;
    fields = [];
    quoted = [];
    recordChars = 0;
    if (values.length === 1 && values[0] === '' && wasQuoted[0] !== true) return undefined; // blank line
    if (header) {
      header = false;
      names = headerNames(values);
      columns.names = names;
      return undefined;
    }
    if (names === undefined) {
      names = values.map((_, k) => `column_${k + 1}`);
      columns.names = names;
    }
    if (values.length > names.length) {
      throw new RecordFormatError(
        `record ${recordNumber()} at line ${recordLine} has ${values.length} values but there are ${names.length} columns`,
        { record: recordNumber(), line: recordLine },
      );
    }
    const record = newRecord();
    for (let k = 0; k < names.length; k++) {
      const name = names[k] ?? '';
      const raw = values[k];
      record[name] = raw === undefined ? null : options.typed && wasQuoted[k] !== true ? typedValue(raw) : raw;
    }
    records++;
    return record;
  };

  const headerNames = (values: readonly string[]): string[] => {
    const seen = new Set<string>();
    return values.map((value, k) => {
      const name = value === '' ? `column_${k + 1}` : value;
      if (seen.has(name)) {
        throw new RecordFormatError(`the header names column "${name}" twice (line ${recordLine})`, { line: recordLine });
      }
      seen.add(name);
      return name;
    });
  };

  try {
    for await (const s of text) {
      const n = s.length;
      let start = 0; // start of the current field's piece in s
      let i = 0;
      if (afterCr) {
        afterCr = false;
        if (s.charCodeAt(0) === 0x0a) {
          i = 1;
          start = 1;
        }
      }
      while (i < n) {
        const c = s.charCodeAt(i);
        switch (state) {
          case State.FieldStart:
            if (fields.length === 0 && parts.length === 0) recordLine = line;
            if (c === quote) {
              state = State.Quoted;
              quoteLine = line;
              quoteColumn = column;
              start = i + 1;
              break;
            }
            if (options.trim && (c === 0x20 || c === 0x09)) {
              start = i + 1;
              break;
            }
            start = i;
            state = State.Unquoted;
            continue; // look at this character again as part of the field
          case State.Unquoted:
            if (c === delimiter) {
              endField(s.slice(start, i), false);
              state = State.FieldStart;
              start = i + 1;
            } else if (c === 0x0a || c === 0x0d) {
              endField(s.slice(start, i), false);
              state = State.FieldStart;
              if (c === 0x0d) {
                if (i + 1 === n) afterCr = true;
                else if (s.charCodeAt(i + 1) === 0x0a) i++;
              }
              const record = endRecord();
              line++;
              column = 1;
              i++;
              start = i;
              if (record !== undefined) yield record;
              continue;
            }
            break;
          case State.Quoted:
            if (c === quote) {
              parts.push(s.slice(start, i));
              state = State.QuoteInQuoted;
            } else if (c === escapeChar) {
              parts.push(s.slice(start, i));
              state = State.Escaped;
            } else if (c === 0x0a || (c === 0x0d && s.charCodeAt(i + 1) !== 0x0a)) {
              line++;
              column = 0;
            }
            break;
          case State.Escaped:
            start = i; // the escaped character is kept literally
            state = State.Quoted;
            if (c === 0x0a) {
              line++;
              column = 0;
            }
            break;
          case State.QuoteInQuoted:
            if (c === quote) {
              // A doubled quote: keep one.
              start = i;
              state = State.Quoted;
              break;
            }
            state = State.AfterQuoted;
            continue;
          case State.AfterQuoted:
            if (c === delimiter) {
              endField('', true);
              state = State.FieldStart;
              start = i + 1;
            } else if (c === 0x0a || c === 0x0d) {
              endField('', true);
              state = State.FieldStart;
              if (c === 0x0d) {
                if (i + 1 === n) afterCr = true;
                else if (s.charCodeAt(i + 1) === 0x0a) i++;
              }
              const record = endRecord();
              line++;
              column = 1;
              i++;
              start = i;
              if (record !== undefined) yield record;
              continue;
            } else if (!(c === 0x20 || c === 0x09)) {
              throw fail(`unexpected ${JSON.stringify(s[i])} after the closing quote of a field`);
            }
            break;
        }
        i++;
        column++;
        if (++recordChars > options.maxRecordChars) {
          throw new RecordFormatError(
            `record ${recordNumber()} starting at line ${recordLine} is longer than the maximum record size of ${options.maxRecordChars} characters${
              state === State.Quoted ? ` (is the quote at line ${quoteLine}, column ${quoteColumn} unterminated?)` : ''
            }`,
            { record: recordNumber(), line: recordLine },
          );
        }
      }
      // Keep the unfinished piece of the current field for the next chunk.
      if (state === State.Unquoted || state === State.Quoted) parts.push(s.slice(start, n));
    }
  } catch (e) {
    if (e instanceof Utf8Error) throw fail(`${e.message}`);
    throw e;
  }
  // End of input. (Read through a function: the compiler's narrowing does not follow the loop's states.)
  const final = (): State => state;
  switch (final()) {
    case State.Quoted:
    case State.Escaped:
      throw fail(`unterminated quoted field: the quote at line ${quoteLine}, column ${quoteColumn} is never closed`, {
        line: quoteLine,
        column: quoteColumn,
      });
    case State.Unquoted:
      endField('', false);
      break;
    case State.QuoteInQuoted:
    case State.AfterQuoted:
      endField('', true);
      break;
    case State.FieldStart:
      if (fields.length === 0) return;
      endField('', false);
      break;
  }
  const record = endRecord();
  if (record !== undefined) yield record;
}

/** An unquoted value as a number, boolean or null where it unambiguously is one. */
export function typedValue(raw: string): RecordValue {
  if (raw === '') return null;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  // Leading zeros (zip codes), exponents and integers beyond 2^53 stay text: converting would change them.
  if (NUMBER.test(raw)) {
    const n = Number(raw);
    if (!raw.includes('.') && !Number.isSafeInteger(n)) return raw;
    return n;
  }
  return raw;
}
