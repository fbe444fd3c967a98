/** Bytes buffered in a channel before the producer is asked to wait. */
const HIGH_WATER = 256 * 1024;

/**
 * A byte stream fed by a producer and consumed as an async iterable (by `session.writeStream`),
 * so several outputs can be written at once while one input is read. The producer pushes, and
 * awaits {@link Channel.drained} now and then so that no output buffers without bound.
 */
export class Channel implements AsyncIterable<Uint8Array> {
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #closed = false;
  #failure: { readonly error: unknown } | undefined;
  #consumerWake: (() => void) | undefined;
  #producerWake: (() => void) | undefined;

  /** Bytes waiting to be consumed. */
  get buffered(): number {
    return this.#bytes;
  }

  /** Queues bytes. The channel keeps the buffer: the caller must not change it afterwards. */
  push(chunk: Uint8Array): void {
    if (this.#closed || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    this.#wakeConsumer();
  }

  /** Resolves once the consumer has taken what was buffered (at once when little is buffered). */
  async drained(): Promise<void> {
    while (this.#bytes >= HIGH_WATER && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#producerWake = resolve;
      });
    }
  }

  /** No more bytes: the consumer finishes once it has taken what is buffered. */
  close(): void {
    this.#closed = true;
    this.#wakeConsumer();
    this.#wakeProducer();
  }

  /** Ends the stream with an error: the consumer (and so its writeStream) rejects with it. */
  fail(error: unknown): void {
    this.#failure = { error };
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#chunks.length > 0) {
        const chunk = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
        this.#chunks = [];
        this.#bytes = 0;
        this.#wakeProducer();
        if (chunk !== undefined) yield chunk;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        this.#consumerWake = resolve;
      });
    }
  }

  #wakeConsumer(): void {
    const wake = this.#consumerWake;
    this.#consumerWake = undefined;
    wake?.();
  }

  #wakeProducer(): void {
    const wake = this.#producerWake;
    this.#producerWake = undefined;
    wake?.();
  }
}
