import type { Writable } from 'node:stream';
import { BufferedOutput } from './output.ts';
import {
  RecordFormatError,
  type RecordObject,
  type RecordSchema,
  type RecordSetWriterFactory,
  type RecordWriter,
} from './types.ts';

/** How CSV output is laid out. */
export interface CsvWriteOptions {
  readonly header: boolean;
  readonly delimiter: string;
  readonly quote: string;
  /** `minimal`: quote only when needed; `all`: every value; `non-numeric`: all but numbers and booleans. */
  readonly quoteMode: 'minimal' | 'all' | 'non-numeric';
  readonly recordSeparator: string;
}

/** A factory of CSV record writers. */
export function csvWriterFactory(options: CsvWriteOptions): RecordSetWriterFactory {
  return { mimeType: 'text/csv', createWriter: (out, schema) => new CsvWriter(out, schema, options) };
}

class CsvWriter implements RecordWriter {
  readonly #output: BufferedOutput;
  readonly #options: CsvWriteOptions;
  readonly #schema: RecordSchema;
  /** Fixed at the first write (or at finish): the schema's fields then. */
  #columns: readonly string[] | undefined;
  #known: ReadonlySet<string> = new Set();
  #count = 0;
  readonly #needsQuotes: RegExp;

  constructor(out: Writable, schema: RecordSchema, options: CsvWriteOptions) {
    this.#output = new BufferedOutput(out);
    this.#options = options;
    this.#schema = schema;
    const special = [options.delimiter, options.quote, '\n', '\r'].map((c) => c.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&'));
    // Leading or trailing blanks are quoted too, so a reader that trims gives them back.
    this.#needsQuotes = new RegExp(`[${special.join('')}]|^\\s|\\s$`);
  }

  get recordCount(): number {
    return this.#count;
  }

  #start(): readonly string[] {
    const columns = this.#schema.fields.map((f) => f.name);
    this.#columns = columns;
    this.#known = new Set(columns);
    if (this.#options.header && columns.length > 0) {
      this.#output.push(
        columns.map((c) => this.#quote(c, this.#options.quoteMode !== 'minimal')).join(this.#options.delimiter) +
          this.#options.recordSeparator,
      );
    }
    return columns;
  }

  write(record: RecordObject): Promise<void> | undefined {
    const columns = this.#columns ?? this.#start();
    this.#count++;
    for (const name of Object.keys(record)) {
      if (!this.#known.has(name)) {
        throw new RecordFormatError(
          `record ${this.#count} has field "${name}", which is not one of the CSV columns (${columns.join(', ')}); the columns are the fields of the records read ahead to infer the schema, raise the reader's Schema Inference Sample Size`,
          { record: this.#count },
        );
      }
    }
    const cells: string[] = [];
    for (const name of columns) cells.push(this.#cell(Object.hasOwn(record, name) ? record[name] : null));
    return this.#output.push(cells.join(this.#options.delimiter) + this.#options.recordSeparator);
  }

  #cell(value: unknown): string {
    if (value === null || value === undefined) return '';
    if (typeof value === 'number' || typeof value === 'boolean') {
      const text = String(value);
      return this.#options.quoteMode === 'all' ? this.#quote(text, true) : text;
    }
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return this.#quote(text, this.#options.quoteMode !== 'minimal');
  }

  #quote(text: string, always: boolean): string {
    if (!always && !this.#needsQuotes.test(text) && text !== '') return text;
    if (!always && text === '') return '""'; // distinguishes an empty string from null
    const q = this.#options.quote;
    return q + text.split(q).join(q + q) + q;
  }

  async finish(): Promise<number> {
    if (this.#columns === undefined) this.#start();
    await this.#output.end();
    return this.#count;
  }
}
