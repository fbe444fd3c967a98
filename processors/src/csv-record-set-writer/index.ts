import { boolean, choice, defineService, string, type ValidationContext } from '@sluice/api';
import { csvWriterFactory, RECORD_WRITER_API, type RecordSetWriterFactory } from '../records/index.ts';
import { oneCharacter, parseCharacter } from '../records/properties.ts';

/** Writes records as CSV (NiFi's CSVRecordSetWriter). */
export const CSVRecordSetWriter = defineService({
  type: 'CSVRecordSetWriter',
  description:
    'Writes records as CSV (mime.type text/csv), streamed. The columns are the schema\'s fields: for JSON input, the fields of the records the reader read ahead (its Schema Inference Sample Size); a record with a field outside them is an error rather than a silently dropped value. Null is written as an empty value and an empty string as ""; objects and arrays as JSON text.',
  tags: ['csv', 'tsv', 'delimited', 'record', 'writer', 'serialize'],
  provides: [RECORD_WRITER_API],
  properties: {
    includeHeader: boolean({
      displayName: 'Include Header Line',
      description: 'Write the column names as the first line.',
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
      description: 'The character that quotes values; a quote inside a value is doubled.',
      default: '"',
      required: true,
      validate: oneCharacter,
    }),
    quoteMode: choice(
      [
        {
          value: 'minimal',
          displayName: 'Quote Minimal',
          description: 'Quote values containing the separator, a quote, a line break or leading/trailing blanks.',
        },
        { value: 'all', displayName: 'Quote All Values', description: 'Quote every value (null stays empty and unquoted).' },
        { value: 'non-numeric', displayName: 'Quote Non-Numeric Values', description: 'Quote all but numbers and booleans.' },
      ],
      { displayName: 'Quote Mode', description: 'When values are quoted.', default: 'minimal', required: true },
    ),
    recordSeparator: choice(
      [
        { value: 'lf', displayName: 'LF (\\n)' },
        { value: 'crlf', displayName: 'CRLF (\\r\\n, as RFC 4180)' },
      ],
      { displayName: 'Record Separator', description: 'What ends each line.', default: 'lf', required: true },
    ),
  },
  validate: (context) => problems(context),
  enable(context): RecordSetWriterFactory {
    // The engine does not run a service's cross-property validation before enabling it (yet).
    const invalid = problems(context);
    if (invalid.length > 0) throw new Error(invalid.join('; '));
    const mode = context.getProperty('quoteMode').asString();
    return csvWriterFactory({
      header: context.getProperty('includeHeader').asBoolean() !== false,
      delimiter: parseCharacter(context.getProperty('delimiter').asString() ?? '') ?? ',',
      quote: parseCharacter(context.getProperty('quote').asString() ?? '') ?? '"',
      quoteMode: mode === 'all' || mode === 'non-numeric' ? mode : 'minimal',
      recordSeparator: context.getProperty('recordSeparator').asString() === 'crlf' ? '\r\n' : '\n',
    });
  },
});

/** Settings that are fine one by one but not together. */
function problems(context: ValidationContext<'delimiter' | 'quote'>): string[] {
  const delimiter = parseCharacter(context.getProperty('delimiter').asString() ?? '');
  const quote = parseCharacter(context.getProperty('quote').asString() ?? '');
  return delimiter !== undefined && delimiter === quote ? ['Value Separator and Quote Character must differ'] : [];
}
