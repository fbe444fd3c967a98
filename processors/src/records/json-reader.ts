import { lineAndColumn, locateJsonError } from './json-error.ts';
import { RecordFormatError, type RecordObject } from './types.ts';
import { Utf8Error } from './utf8.ts';

/** Limits of the JSON parsers. */
export interface JsonParseOptions {
  /** The longest record (in characters) held in memory; a longer one is an error. */
  readonly maxRecordChars: number;
}

enum State {
  /** Expecting a top-level array or object, or the end. */
  Top,
  /** Just after `[`: a record or `]`. */
  ArrayStart,
  /** After a `,` inside the array: a record. */
  Element,
  /** Inside a record's braces. */
  InRecord,
  /** After a record inside the array: `,` or `]`. */
  AfterElement,
}

/**
 * Parses JSON records incrementally: a top-level array of objects, a single object, or a sequence
 * of them separated by whitespace. Only one record's text is held at a time; each is handed to
 * `JSON.parse` (so `__proto__` stays an ordinary key).
 * @throws {RecordFormatError} naming the record, line and column of the first problem.
 */
export async function* parseJsonTree(text: AsyncIterable<string>, options: JsonParseOptions): AsyncGenerator<RecordObject> {
  let state: State = State.Top;
  let inArray = false;
  let line = 1;
  let column = 1;
  let records = 0;
  // The record being scanned.
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: string[] = [];
  let partsLength = 0;
  let startLine = 0;
  let startColumn = 0;

  const where = (): string => `line ${line}, column ${column}`;
  const unexpected = (found: string, expected: string): RecordFormatError =>
    new RecordFormatError(`expected ${expected} but found ${describe(found)} at ${where()}`, {
      record: records + 1,
      line,
      column,
    });

  try {
    for await (const s of text) {
      const n = s.length;
      let i = 0;
      let recordStart = state === State.InRecord ? 0 : -1;
      while (i < n) {
        if (state === State.InRecord) {
          let complete = false;
          for (; i < n; i++) {
            const c = s.charCodeAt(i);
            if (c === 0x0a) {
              line++;
              column = 0;
            }
            column++;
            if (inString) {
              if (escaped) escaped = false;
              else if (c === 0x5c) escaped = true;
              else if (c === 0x22) inString = false;
              continue;
            }
            if (c === 0x22) inString = true;
            else if (c === 0x7b || c === 0x5b) depth++;
            else if (c === 0x7d || c === 0x5d) {
              depth--;
              if (depth === 0) {
                complete = true;
                i++;
                break;
              }
            }
          }
          if (!complete) break;
          const body = s.slice(recordStart, i);
          const recordText = parts.length === 0 ? body : parts.join('') + body;
          if (partsLength + body.length > options.maxRecordChars) throw tooLarge(records + 1, startLine, options.maxRecordChars);
          parts = [];
          partsLength = 0;
          recordStart = -1;
          records++;
          state = inArray ? State.AfterElement : State.Top;
          yield parseRecord(recordText, records, startLine, startColumn);
          continue;
        }
        const c = s.charCodeAt(i);
        if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
          if (c === 0x0a) {
            line++;
            column = 1;
          } else column++;
          i++;
          continue;
        }
        const ch = s[i] ?? '';
        switch (state) {
          case State.Top:
            if (ch === '[') {
              inArray = true;
              state = State.ArrayStart;
              column++;
              i++;
              continue;
            }
            if (ch !== '{') throw unexpected(ch, 'a JSON array or object');
            break;
          case State.ArrayStart:
            if (ch === ']') {
              inArray = false;
              state = State.Top;
              column++;
              i++;
              continue;
            }
            if (ch !== '{') throw notAnObject(ch, records + 1, line, column);
            break;
          case State.Element:
            if (ch === ']') throw unexpected(ch, `record ${records + 1} after ','`);
            if (ch !== '{') throw notAnObject(ch, records + 1, line, column);
            break;
          case State.AfterElement:
            if (ch === ',') {
              state = State.Element;
            } else if (ch === ']') {
              inArray = false;
              state = State.Top;
            } else throw unexpected(ch, `',' or ']' after record ${records}`);
            column++;
            i++;
            continue;
        }
        // A record starts here.
        state = State.InRecord;
        depth = 0;
        inString = false;
        escaped = false;
        recordStart = i;
        startLine = line;
        startColumn = column;
      }
      if (state === State.InRecord) {
        const rest = s.slice(recordStart);
        parts.push(rest);
        partsLength += rest.length;
        if (partsLength > options.maxRecordChars) throw tooLarge(records + 1, startLine, options.maxRecordChars);
      }
    }
  } catch (e) {
    if (e instanceof Utf8Error) {
      throw new RecordFormatError(`${e.message} (line ${line}, record ${records + 1})`, {
        record: records + 1,
        line,
        byteOffset: e.byteOffset,
      });
    }
    throw e;
  }
  if (state === State.InRecord) {
    throw new RecordFormatError(
      `record ${records + 1} starting at line ${startLine}, column ${startColumn} is not terminated: the input ended inside it`,
      { record: records + 1, line: startLine, column: startColumn },
    );
  }
  if (inArray) {
    throw new RecordFormatError(`the input ended inside the JSON array (expected ']' after record ${records})`, {
      record: records,
      line,
      column,
    });
  }
}

/**
 * Parses newline-delimited JSON (NDJSON): one object per line; blank lines are skipped. Only one
 * line is held at a time.
 * @throws {RecordFormatError} naming the line (and column) of the first problem.
 */
export async function* parseJsonLines(text: AsyncIterable<string>, options: JsonParseOptions): AsyncGenerator<RecordObject> {
  let line = 0; // lines completed
  let records = 0;
  let parts: string[] = [];
  let partsLength = 0;
  const handle = (raw: string): RecordObject | undefined => {
    line++;
    const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (body.trim() === '') return undefined;
    records++;
    if (body.length > options.maxRecordChars) throw tooLarge(records, line, options.maxRecordChars);
    return parseRecord(body, records, line, 1);
  };
  try {
    for await (const s of text) {
      let start = 0;
      for (;;) {
        const nl = s.indexOf('\n', start);
        if (nl < 0) break;
        const piece = s.slice(start, nl);
        const raw = parts.length === 0 ? piece : parts.join('') + piece;
        parts = [];
        partsLength = 0;
        start = nl + 1;
        const record = handle(raw);
        if (record !== undefined) yield record;
      }
      if (start < s.length) {
        const rest = s.slice(start);
        parts.push(rest);
        partsLength += rest.length;
        if (partsLength > options.maxRecordChars) throw tooLarge(records + 1, line + 1, options.maxRecordChars);
      }
    }
  } catch (e) {
    if (e instanceof Utf8Error) {
      throw new RecordFormatError(`${e.message} (line ${line + 1})`, { line: line + 1, byteOffset: e.byteOffset });
    }
    throw e;
  }
  if (parts.length > 0) {
    const record = handle(parts.join(''));
    if (record !== undefined) yield record;
  }
}

/** Parses one record's text, which must be a JSON object. */
function parseRecord(text: string, record: number, line: number, column: number): RecordObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const problem = locateJsonError(text);
    const at = lineAndColumn(text, problem?.offset ?? 0, { line, column });
    const why = problem?.message ?? (e instanceof Error ? e.message : String(e));
    throw new RecordFormatError(`malformed JSON in record ${record} at line ${at.line}, column ${at.column}: ${why}`, {
      record,
      line: at.line,
      column: at.column,
    });
  }
  if (!isRecordObject(value)) {
    throw new RecordFormatError(`record ${record} at line ${line} is ${kind(value)}, not a JSON object`, {
      record,
      line,
      column,
    });
  }
  return value;
}

function isRecordObject(value: unknown): value is RecordObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function describe(ch: string): string {
  return ch === '' ? 'the end of the input' : JSON.stringify(ch);
}

function notAnObject(ch: string, record: number, line: number, column: number): RecordFormatError {
  const what =
    ch === '"'
      ? 'a string'
      : ch === '['
        ? 'an array'
        : /[-\d]/.test(ch)
          ? 'a number'
          : ch === 't' || ch === 'f'
            ? 'a boolean'
            : ch === 'n'
              ? 'null'
              : `${JSON.stringify(ch)}`;
  return new RecordFormatError(`record ${record} at line ${line}, column ${column} is ${what}, not a JSON object`, {
    record,
    line,
    column,
  });
}

function tooLarge(record: number, line: number, max: number): RecordFormatError {
  return new RecordFormatError(
    `record ${record} starting at line ${line} is longer than the maximum record size of ${max} characters (raise Max Record Size if it is legitimate)`,
    { record, line },
  );
}
