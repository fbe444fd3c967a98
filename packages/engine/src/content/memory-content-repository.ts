import { Readable } from 'node:stream';
import type { ContentClaim } from '../flowfile/claim.ts';
import { ReferenceCounts } from './reference-counts.ts';
import {
  ContentNotFoundError,
  type ContentRepository,
  ContentRepositoryFullError,
  type ContentRepositoryStats,
  type ContentWriter,
} from './types.ts';

/** Options of {@link MemoryContentRepository}. Defaults in parentheses. */
export interface MemoryContentRepositoryOptions {
  /** A resource takes appends until it reaches this size (1 MiB). */
  readonly maxAppendableSize?: number;
  /** Refuse new content while live content would exceed this many bytes (unbounded). */
  readonly maxBytes?: number;
  /** As `ContentRepositoryOptions.releaseGraceMs` (10 s). */
  readonly releaseGraceMs?: number;
  /** Called when writes stop or resume because of `maxBytes`. */
  readonly onWatermark?: (full: boolean, message: string) => void;
}

/** The options that can be changed at run time. */
export type MemoryContentRepositorySettings = Pick<
  MemoryContentRepositoryOptions,
  'maxAppendableSize' | 'maxBytes' | 'releaseGraceMs'
>;

const MiB = 1024 * 1024;

class MemoryResource {
  count = 0;
  size = 0;
  open = true;
  lastWriteMs: number;
  data: Buffer;

  constructor(
    readonly id: string,
    capacity: number,
    now: number,
  ) {
    this.data = Buffer.allocUnsafe(capacity);
    this.lastWriteMs = now;
  }

  append(chunk: Uint8Array): void {
    const end = this.size + chunk.byteLength;
    if (end > this.data.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, this.data.length * 2));
      this.data.copy(grown, 0, 0, this.size);
      this.data = grown;
    }
    this.data.set(chunk, this.size);
    this.size = end;
  }
}

function failedStream(error: Error): Readable {
  return new Readable({
    read() {
      this.destroy(error);
    },
  });
}

function checkSettings(settings: MemoryContentRepositorySettings): void {
  const { maxAppendableSize, maxBytes, releaseGraceMs } = settings;
  if (maxAppendableSize !== undefined && !(Number.isSafeInteger(maxAppendableSize) && maxAppendableSize > 0)) {
    throw new RangeError(`maxAppendableSize must be a positive integer, got ${maxAppendableSize}`);
  }
  if (maxBytes !== undefined && !(maxBytes >= 0)) throw new RangeError(`maxBytes must be non-negative, got ${maxBytes}`);
  if (releaseGraceMs !== undefined && !(Number.isFinite(releaseGraceMs) && releaseGraceMs >= 0)) {
    throw new RangeError(`releaseGraceMs must be a non-negative number, got ${releaseGraceMs}`);
  }
}

/**
 * A volatile content repository: the same claim, reference-counting and release semantics as
 * {@link FileContentRepository} with content held in memory. For tests of other modules and for
 * benchmarking the engine with repositories off. Released content is dropped (no archive); "full"
 * means live content would exceed `maxBytes`.
 */
export class MemoryContentRepository implements ContentRepository {
  readonly #resources = new Map<string, MemoryResource>();
  readonly #refs = new ReferenceCounts<MemoryResource>({
    live: (id) => this.#resources.get(id),
    graceMs: () => this.#grace,
    releaseNow: (r) => this.#drop(r),
  });
  readonly #onWatermark: ((full: boolean, message: string) => void) | undefined;
  #maxAppendable: number;
  #maxBytes: number;
  #grace: number;
  #current: MemoryResource | null = null;
  #counter = 0;
  #liveBytes = 0;
  #full = false;
  #closed = false;

  /** @throws {RangeError} for invalid options. */
  constructor(options: MemoryContentRepositoryOptions = {}) {
    checkSettings(options);
    this.#maxAppendable = options.maxAppendableSize ?? MiB;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#grace = options.releaseGraceMs ?? 10_000;
    this.#onWatermark = options.onWatermark;
  }

  /** Changes settings at run time (a test can force "full" by lowering `maxBytes`). @throws {RangeError} */
  configure(settings: MemoryContentRepositorySettings): void {
    checkSettings(settings);
    this.#maxAppendable = settings.maxAppendableSize ?? this.#maxAppendable;
    this.#maxBytes = settings.maxBytes ?? this.#maxBytes;
    this.#grace = settings.releaseGraceMs ?? this.#grace;
    this.#updateFull();
  }

  /** Nothing is gathered: memory content is complete when `write` returns. */
  flush(): void {}

  write(data: Uint8Array): ContentClaim {
    const now = this.#admit(data.byteLength);
    return this.#store([data], data.byteLength, now);
  }

  async writeStream(source: AsyncIterable<Uint8Array>): Promise<ContentClaim> {
    const writer = this.openWriter();
    try {
      for await (const chunk of source) await writer.writeAsync(chunk);
      return writer.close();
    } catch (error) {
      writer.abort();
      throw error;
    }
  }

  openWriter(): ContentWriter {
    this.#admit(0);
    let chunks: Buffer[] = [];
    let length = 0;
    let state: 'open' | 'closed' | 'aborted' = 'open';
    const check = (): void => {
      if (state !== 'open') throw new Error(`ContentWriter is already ${state}`);
    };
    const write = (chunk: Uint8Array): void => {
      check();
      this.#admit(length + chunk.byteLength);
      chunks.push(Buffer.from(chunk));
      length += chunk.byteLength;
    };
    return {
      write,
      writeAsync: async (chunk) => write(chunk),
      get length() {
        return length;
      },
      close: () => {
        check();
        state = 'closed';
        const claim = this.#store(chunks, length, Date.now());
        chunks = [];
        return claim;
      },
      abort: () => {
        if (state !== 'open') return;
        state = 'aborted';
        chunks = [];
      },
    };
  }

  /** @throws {ContentRepositoryFullError} when `extra` more bytes would pass `maxBytes`. */
  #admit(extra: number): number {
    if (this.#closed) throw new Error('Content repository is closed');
    if (this.#full || this.#liveBytes + extra > this.#maxBytes) throw new ContentRepositoryFullError(this.#fullMessage(extra));
    return Date.now();
  }

  #fullMessage(extra: number): string {
    return (
      `Memory content repository is full: ${this.#liveBytes} bytes live${extra > 0 ? ` + ${extra} new` : ''}, ` +
      `limit ${this.#maxBytes}. New content is refused until content is released or maxBytes is raised.`
    );
  }

  /** Full = no room left at all; a write is refused as soon as it does not fit (see {@link #admit}). */
  #updateFull(): void {
    const full = this.#liveBytes >= this.#maxBytes;
    if (full === this.#full) return;
    this.#full = full;
    this.#onWatermark?.(
      full,
      full ? this.#fullMessage(0) : `Memory content repository accepts content again: ${this.#liveBytes} bytes live.`,
    );
  }

  #store(chunks: readonly Uint8Array[], total: number, now: number): ContentClaim {
    let r: MemoryResource;
    let own = false;
    if (total > this.#maxAppendable) {
      r = this.#create(total, now);
      own = true;
    } else {
      // Sized for a full resource at once: growing by doubling copied every byte about twice.
      r = this.#current ?? this.#create(this.#maxAppendable, now);
      this.#current = r;
    }
    const offset = r.size;
    for (const chunk of chunks) r.append(chunk);
    r.lastWriteMs = now;
    this.#liveBytes += total;
    this.#updateFull();
    if (own) this.#seal(r, now);
    else if (r.size >= this.#maxAppendable) {
      this.#current = null;
      this.#seal(r, now);
    }
    return { resourceId: r.id, offset, length: total };
  }

  #create(capacity: number, now: number): MemoryResource {
    const r = new MemoryResource(`${now}-${this.#counter++}`, capacity, now);
    this.#resources.set(r.id, r);
    return r;
  }

  #seal(r: MemoryResource, now: number): void {
    r.open = false;
    if (r.count === 0) this.#refs.unreferenced(r, now);
  }

  #drop(r: MemoryResource): void {
    this.#resources.delete(r.id);
    this.#refs.forget(r);
    this.#liveBytes -= r.size;
    if (this.#full) this.#updateFull();
  }

  read(claim: ContentClaim, offset?: number, length?: number): Buffer {
    const [r, start, count] = this.#locate(claim, offset, length);
    if (r === null) throw this.#gone(claim);
    return Buffer.from(r.data.subarray(start, start + count));
  }

  readStream(claim: ContentClaim, offset?: number, length?: number): Readable {
    const [r, start, count] = this.#locate(claim, offset, length);
    if (r === null) return failedStream(this.#gone(claim));
    // A copy: the stream must not change if the resource is dropped meanwhile.
    return Readable.from(count === 0 ? [] : [Buffer.from(r.data.subarray(start, start + count))]);
  }

  /** The resource (null when gone) and absolute range. @throws {RangeError} for a range outside the claim. */
  #locate(claim: ContentClaim, offset: number | undefined, length: number | undefined): [MemoryResource | null, number, number] {
    const from = offset ?? 0;
    const count = length ?? claim.length - from;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(count) || from < 0 || count < 0 || from + count > claim.length) {
      throw new RangeError(
        `Range (offset ${from}, length ${count}) is outside the claim on resource ${claim.resourceId} ` +
          `(offset ${claim.offset}, length ${claim.length})`,
      );
    }
    const r = this.#resources.get(claim.resourceId);
    const start = claim.offset + from;
    if (r === undefined || r.size < claim.offset + claim.length) return [null, start, count];
    return [r, start, count];
  }

  #gone(claim: ContentClaim): ContentNotFoundError {
    return new ContentNotFoundError(
      `Content of resource ${claim.resourceId} (offset ${claim.offset}, length ${claim.length}) is gone: it was released ` +
        '(the memory content repository keeps no archive) or never existed',
    );
  }

  isAvailable(claim: ContentClaim): boolean {
    const r = this.#resources.get(claim.resourceId);
    return r !== undefined && r.size >= claim.offset + claim.length;
  }

  claimant(resourceId: string): void {
    if (!this.#refs.claim(resourceId)) {
      throw new ContentNotFoundError(`Cannot claim resource ${resourceId}: it was released or never existed`);
    }
  }

  release(resourceId: string): void {
    this.#refs.release(resourceId);
  }

  claimantCount(resourceId: string): number {
    return this.#refs.count(resourceId);
  }

  async sync(): Promise<void> {}

  isFull(): boolean {
    return this.#full;
  }

  /**
   * Sets the counts of the resources named; ids that do not exist here (content of an earlier
   * process) are remembered so their releases balance; sealed resources left at zero are dropped.
   */
  async recover(counts: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, count] of counts) {
      if (!(Number.isSafeInteger(count) && count > 0)) continue;
      const r = this.#resources.get(id);
      if (r !== undefined) r.count = count;
      else this.#refs.setPhantom(id, count);
    }
    for (const r of [...this.#resources.values()]) {
      if (!r.open && r.count === 0) this.#drop(r);
    }
  }

  async housekeeping(): Promise<void> {
    this.#refs.processPending(Date.now());
  }

  stats(): ContentRepositoryStats {
    const limited = Number.isFinite(this.#maxBytes);
    return {
      resourceFiles: this.#resources.size,
      liveBytes: this.#liveBytes,
      archivedFiles: 0,
      archivedBytes: 0,
      diskUsage: limited && this.#maxBytes > 0 ? Math.min(1, this.#liveBytes / this.#maxBytes) : 0,
      diskFreeBytes: limited ? Math.max(0, this.#maxBytes - this.#liveBytes) : Number.MAX_SAFE_INTEGER,
      full: this.#full,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#refs.close();
  }
}
