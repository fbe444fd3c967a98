import { boolean, defineService, string, type ValidationContext } from '@sluice/api';
import { csvReaderFactory, RECORD_READER_API, type RecordReaderFactory } from '../records/index.ts';
import { maxRecordChars, maxRecordSizeProperty, oneCharacter, parseCharacter } from '../records/properties.ts';

/** Reads CSV (RFC 4180) records (NiFi's CSVReader). */
export const CSVReader = defineService({
  type: 'CSVReader',
  description:
    'Reads records from CSV as described by RFC 4180: quoted fields may contain the delimiter, quotes (doubled, or after the escape character) and line breaks; lines end with CRLF, LF or CR; empty lines are skipped. The header line names the fields (else column_1, column_2, ...). A record with more values than columns, an unterminated quote, text after a closing quote or invalid UTF-8 is an error naming the record, line and column.',
  tags: ['csv', 'tsv', 'delimited', 'record', 'reader', 'parse'],
  provides: [RECORD_READER_API],
  properties: {
    header: boolean({
      displayName: 'Treat First Line as Header',
      description: 'The first line names the columns. When false, columns are named column_1, column_2, ...',
      default: 'true',
      required: true,
    }),
    delimiter: string({
      displayName: 'Value Separator',
      description: 'The character between values (\\t for a tab).',
      default: ',',
      required: true,
      validate: oneCharacter,
    }),
    quote: string({
      displayName: 'Quote Character',
      description: 'The character that quotes values containing separators, quotes or line breaks.',
      default: '"',
      required: true,
      validate: oneCharacter,
    }),
    escape: string({
      displayName: 'Escape Character',
      description:
        'A character that makes the next character inside a quoted value literal (e.g. \\\\). Empty: none; a doubled quote character always stands for one quote.',
      validate: oneCharacter,
    }),
    trim: boolean({
      displayName: 'Trim Fields',
      description: 'Remove spaces and tabs around values (and around quoted values, whose content is kept as is).',
      default: 'true',
      required: true,
    }),
    typed: boolean({
      displayName: 'Infer Value Types',
      description:
        'Turn unquoted values into numbers (42, -1.5; not 007, exponents or integers beyond 2^53, which stay text), booleans (true, false) and null (empty). When false every value is a string. Quoted values are always strings.',
      default: 'true',
      required: true,
    }),
    maxRecordSize: maxRecordSizeProperty,
  },
  validate: (context) => problems(context),
  enable(context): RecordReaderFactory {
    // The engine does not run a service's cross-property validation before enabling it (yet).
    const invalid = problems(context);
    if (invalid.length > 0) throw new Error(invalid.join('; '));
    const char = (name: 'delimiter' | 'quote' | 'escape', fallback: string): string =>
      parseCharacter(context.getProperty(name).asString() ?? '') ?? fallback;
    return csvReaderFactory({
      header: context.getProperty('header').asBoolean() !== false,
      delimiter: char('delimiter', ','),
      quote: char('quote', '"'),
      escape: char('escape', ''),
      trim: context.getProperty('trim').asBoolean() !== false,
      typed: context.getProperty('typed').asBoolean() !== false,
      maxRecordChars: maxRecordChars(context.getProperty('maxRecordSize')),
    });
  },
});

/** Settings that are fine one by one but not together. */
function problems(context: ValidationContext<'delimiter' | 'quote' | 'escape'>): string[] {
  const char = (name: 'delimiter' | 'quote' | 'escape'): string | undefined =>
    parseCharacter(context.getProperty(name).asString() ?? '');
  const delimiter = char('delimiter');
  const quote = char('quote');
  const escapeChar = char('escape');
  const out: string[] = [];
  if (delimiter !== undefined && delimiter === quote) out.push('Value Separator and Quote Character must differ');
  if (escapeChar !== undefined && escapeChar === delimiter) out.push('Escape Character and Value Separator must differ');
  return out;
}
