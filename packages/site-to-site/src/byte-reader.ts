/**
 * A pull-based reader over a stream of byte chunks. It hands out exact-length reads for framing
 * (lengths, headers) and bounded partial reads for content, counting every byte it consumes so
 * errors can say where they happened. Chunks are read through an offset, never re-concatenated as
 * a whole, so a long stream costs memory for its largest field only.
 */
export class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  #chunks: Buffer[] = [];
  /** Bytes of `#chunks[0]` already consumed. */
  #head = 0;
  #buffered = 0;
  #offset = 0;
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes already buffered and readable without waiting. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * The first buffered chunk and where its unread bytes start, for parsing in place (then
   * {@link skip} what was parsed). Undefined when nothing is buffered.
   */
  peekChunk(): { readonly chunk: Buffer; readonly start: number } | undefined {
    const chunk = this.#chunks[0];
    return chunk === undefined ? undefined : { chunk, start: this.#head };
  }

  async #pull(): Promise<boolean> {
    if (this.#ended) return false;
    for (;;) {
      const next = await this.#iterator.next();
      if (next.done === true) {
        this.#ended = true;
        return false;
      }
      const value = next.value;
      if (value.length === 0) continue;
      this.#chunks.push(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length));
      this.#buffered += value.length;
      return true;
    }
  }

  /** Waits until `n` bytes are buffered; false when the stream ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.#buffered < n) if (!(await this.#pull())) return false;
    return true;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return this.#buffered === 0 && !(await this.ensure(1));
  }

  /** Exactly `n` bytes if they are already buffered, else undefined (nothing consumed). */
  takeBuffered(n: number): Buffer | undefined {
    if (this.#buffered < n) return undefined;
    return this.#consume(n);
  }

  /** Exactly `n` bytes, or undefined when the stream ends first (what was buffered stays unread). */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.ensure(n))) return undefined;
    return this.#consume(n);
  }

  /** Between 1 and `max` bytes already buffered, without waiting; undefined when none is. */
  takeSomeBuffered(max: number): Buffer | undefined {
    const first = this.#chunks[0];
    if (first === undefined) return undefined;
    return this.#consume(Math.min(max, first.length - this.#head));
  }

  /** Between 1 and `max` bytes, or undefined at the end of the stream. */
  async readSome(max: number): Promise<Buffer | undefined> {
    if (this.#buffered === 0 && !(await this.#pull())) return undefined;
    return this.takeSomeBuffered(max);
  }

  /** Consumes `n` buffered bytes without returning them. */
  skip(n: number): void {
    if (n > this.#buffered) throw new RangeError(`ByteReader: cannot skip ${n} of ${this.#buffered} buffered bytes`);
    this.#offset += n;
    this.#buffered -= n;
    while (n > 0) {
      const first = this.#chunks[0];
      if (first === undefined) break;
      const available = first.length - this.#head;
      if (n < available) {
        this.#head += n;
        return;
      }
      n -= available;
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  /** Stops reading the source (lets it release sockets or files). */
  async close(): Promise<void> {
    this.#ended = true;
    this.#chunks = [];
    this.#head = 0;
    this.#buffered = 0;
    await this.#iterator.return?.();
  }

  #consume(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.skip(n);
      return out;
    }
    // The field spans chunks: copy just this field into one buffer.
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) throw new Error('ByteReader: buffered byte count is out of step');
      const take = Math.min(chunk.length - this.#head, n - at);
      chunk.copy(out, at, this.#head, this.#head + take);
      at += take;
      this.skip(take);
    }
    return out;
  }
}
