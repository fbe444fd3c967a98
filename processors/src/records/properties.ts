import { dataSize, integer, type PropertyValue } from '@sluice/api';

/** `Max Record Size`, shared by the readers: what a single record may occupy in memory. */
export const maxRecordSizeProperty = dataSize({
  displayName: 'Max Record Size',
  description:
    'The largest single record (its text) the reader holds in memory. Content is streamed record by record; a longer record (or an unterminated quote that would swallow the rest of the content) is an error instead of an unbounded buffer.',
  default: '10 MB',
  min: 1024,
  max: 1024 * 1024 * 1024,
  required: true,
});

/** `Schema Inference Sample Size`, shared by the JSON readers. */
export const sampleSizeProperty = integer({
  displayName: 'Schema Inference Sample Size',
  description:
    'Records read ahead to learn the field names before the first record is handed out. Writers that need every column up front (CSV) take the columns from this sample; fields first seen later widen the schema afterwards.',
  default: '1000',
  min: 1,
  max: 100_000,
  required: true,
});

/** Reads a data-size property as a character limit. */
export function maxRecordChars(value: PropertyValue): number {
  return value.asDataSize() ?? 10 * 1024 * 1024;
}

const ESCAPES: Readonly<Record<string, string>> = { '\\t': '\t', '\\n': '\n', '\\r': '\r', '\\\\': '\\' };

/** A one-character property value, where `\t` may be written for a tab; undefined when it is not one character. */
export function parseCharacter(value: string): string | undefined {
  const unescaped = Object.hasOwn(ESCAPES, value) ? ESCAPES[value] : value;
  return unescaped !== undefined && [...unescaped].length === 1 && unescaped.length === 1 ? unescaped : undefined;
}

/** Validator of one-character properties (delimiters, quotes). */
export function oneCharacter(value: string): string | undefined {
  const c = parseCharacter(value);
  if (c === undefined) return `"${value}" must be exactly one character (write \\t for a tab)`;
  if (c === '\n' || c === '\r') return 'a line break cannot be used here: it separates records';
  return undefined;
}
