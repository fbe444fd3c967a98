import type { Writable } from 'node:stream';

const FLUSH_AT = 64 * 1024;

/**
 * Collects small strings and writes them to a Writable in chunks of about 64 KiB, honouring
 * back-pressure: `push` returns a promise when the stream is full. A destroyed stream rejects the
 * pending promise instead of leaving the writer waiting forever.
 */
export class BufferedOutput {
  readonly #out: Writable;
  #parts: string[] = [];
  #length = 0;

  constructor(out: Writable) {
    this.#out = out;
  }

  /** Appends text; returns a promise to await when the stream asks the writer to wait. */
  push(text: string): Promise<void> | undefined {
    this.#parts.push(text);
    this.#length += text.length;
    return this.#length >= FLUSH_AT ? this.flush() : undefined;
  }

  /** Writes what is buffered; returns a promise when the stream is full. */
  flush(): Promise<void> | undefined {
    if (this.#length === 0) return undefined;
    const chunk = Buffer.from(this.#parts.join(''), 'utf8');
    this.#parts = [];
    this.#length = 0;
    if (this.#out.destroyed) return Promise.reject(this.#out.errored ?? new Error('the output was closed'));
    return this.#out.write(chunk) ? undefined : drained(this.#out);
  }

  /** Flushes and ends the stream. */
  async end(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.#out.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', closed);
      out.off('error', failed);
      resolve();
    };
    const closed = (): void => {
      out.off('drain', done);
      out.off('error', failed);
      reject(out.errored ?? new Error('the output was closed before it drained'));
    };
    const failed = (e: Error): void => {
      out.off('drain', done);
      out.off('close', closed);
      reject(e);
    };
    out.on('drain', done);
    out.on('close', closed);
    out.on('error', failed);
  });
}
