import type { Writable } from 'node:stream';
import { BufferedOutput } from './output.ts';
import type { RecordObject, RecordSetWriterFactory, RecordWriter } from './types.ts';

/** How JSON output is laid out. */
export interface JsonWriteOptions {
  /** `array`: one JSON array of all records; `lines`: one object per line (NDJSON). */
  readonly grouping: 'array' | 'lines';
  /** Indent the array output (ignored for lines, which must stay one per line). */
  readonly pretty: boolean;
}

/** A factory of JSON record writers (also ExecuteSQL's default writer). */
export function jsonWriterFactory(options: JsonWriteOptions): RecordSetWriterFactory {
  return {
    mimeType: options.grouping === 'lines' ? 'application/x-ndjson' : 'application/json',
    createWriter: (out) => new JsonWriter(out, options),
  };
}

class JsonWriter implements RecordWriter {
  readonly #output: BufferedOutput;
  readonly #options: JsonWriteOptions;
  #count = 0;

  constructor(out: Writable, options: JsonWriteOptions) {
    this.#output = new BufferedOutput(out);
    this.#options = options;
  }

  get recordCount(): number {
    return this.#count;
  }

  write(record: RecordObject): Promise<void> | undefined {
    const first = this.#count === 0;
    this.#count++;
    if (this.#options.grouping === 'lines') return this.#output.push(`${JSON.stringify(record)}\n`);
    if (this.#options.pretty) {
      const body = JSON.stringify(record, null, 2).replace(/\n/g, '\n  ');
      return this.#output.push(`${first ? '[\n  ' : ',\n  '}${body}`);
    }
    return this.#output.push(`${first ? '[' : ','}${JSON.stringify(record)}`);
  }

  async finish(): Promise<number> {
    if (this.#options.grouping === 'array') {
      this.#output.push(this.#count === 0 ? '[]' : this.#options.pretty ? '\n]' : ']');
    }
    await this.#output.end();
    return this.#count;
  }
}
