import {
  closeSync,
  createReadStream,
  fdatasync,
  fstatSync,
  mkdirSync,
  open as openCallback,
  openSync,
  readSync,
  renameSync,
  statfsSync,
  unlinkSync,
  write as writeCallback,
  writeSync,
  writev as writevCallback,
  writevSync,
} from 'node:fs';
import {
  mkdir as mkdirAsync,
  open as openAsync,
  readdir,
  rename as renameAsync,
  stat as statAsync,
  unlink as unlinkAsync,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ContentClaim } from '../flowfile/claim.ts';
import { ReferenceCounts } from './reference-counts.ts';
import {
  ContentNotFoundError,
  type ContentRepository,
  ContentRepositoryFullError,
  type ContentRepositoryOptions,
  type ContentRepositorySettings,
  type ContentRepositoryStats,
  type ContentWriter,
} from './types.ts';

/**
 * Resource files are spread over this many section directories. NiFi uses 1,024 and creates them
 * up front; creating a directory costs ~1.5 ms on slow disks, so fewer, created on first use, while
 * still keeping each directory small (1 TB of 1 MiB files is ~32,000 per section).
 */
const SECTIONS = 32;
/**
 * Open read descriptors kept (least recently used closed first). A miss costs an open (~3 µs); 128
 * covers the heads of many queues reading different files, well within common fd limits (1024).
 */
const MAX_READ_FDS = 128;
/** A writer keeps content up to this size in memory, then spills to a file of its own. */
const WRITER_BUFFER_BYTES = 64 * 1024;
/**
 * Streamed chunks below this size are copied into one buffer and written together: one async write
 * per 256 KiB. A write's trip through the thread pool costs more than copying the chunk: batching
 * the sixteen 64 KiB network reads of a MiB took about 10 % less CPU and 10-30 % less time per MiB
 * streamed than writing each (512 KiB batches did no better).
 */
const ASYNC_BATCH_BYTES = 256 * 1024;
/**
 * Small contents written into the appendable file are gathered up to this many bytes and handed to
 * the OS with one `write` (at the latest before the FlowFile journal that references them is
 * written, see {@link FileContentRepository.flush}); one `write` per 100-byte content cost more than
 * everything else a commit does with it.
 */
const GATHER_BYTES = 64 * 1024;
/** Contents up to this size are gathered; larger ones are written at once. */
const GATHER_MAX_CONTENT = 16 * 1024;
/**
 * Empty resource files created ahead of need, off the event loop: a new file costs an `open` with
 * O_CREAT|O_EXCL (up to ~1.3 ms on slow disks), paid otherwise synchronously by every content above
 * the appendable size and every writer that spills (each received 1 MiB FlowFile).
 */
const SPARE_FILES = 8;
/** The disk is looked at no more often than this from write paths (statfs is a syscall). */
const DISK_CHECK_INTERVAL_MS = 1000;
/** Most archived files deleted synchronously from a write path when the disk fills up. */
const MAX_SYNC_ARCHIVE_DELETES = 1000;
/** Parallel file operations during recovery and archive cleanup. */
const IO_CONCURRENCY = 32;
const MiB = 1024 * 1024;
const RESOURCE_ID = /^\d+-\d+$/;

const DEFAULTS = {
  maxAppendableSize: MiB,
  archiveEnabled: true,
  archiveMaxAgeMs: 3 * 60 * 60 * 1000,
  archiveMaxBytes: Number.POSITIVE_INFINITY,
  archiveMaxUsage: 0.9,
  diskWatermark: 0.95,
  minFreeBytes: 100 * MiB,
  housekeepingIntervalMs: 30_000,
  releaseGraceMs: 10_000,
} as const;

type Settings = { -readonly [K in keyof ContentRepositorySettings]-?: NonNullable<ContentRepositorySettings[K]> };

/** A resource file in the live area (current appendable file, a writer's file, or sealed). */
class Resource {
  /** FlowFile versions pointing into this file. */
  count = 0;
  /** Bytes written (or, for a writer's file, handed to the OS so far). */
  size = 0;
  /** Takes more bytes: the current appendable file or a writer's file. Released only once false. */
  open = true;
  /** Write descriptor; kept after sealing until a pending fdatasync (power mode) is done. */
  writeFd = -1;
  lastWriteMs: number;
  /** Async writes in flight: the write descriptor must outlive them. */
  inflight = 0;
  /** Power mode: written since the last sync. */
  dirty = false;
  /** fdatasyncs in flight on writeFd. */
  syncing = 0;
  /** The writer gave up; delete the file as soon as nothing is in flight. */
  discarded = false;

  constructor(
    readonly id: string,
    readonly sectionDir: string,
    readonly path: string,
    now: number,
  ) {
    this.lastWriteMs = now;
  }
}

/** What a writer may do inside its repository (kept off the repository's public surface). */
interface WriterHost {
  /** Checks that writes are allowed. @throws {ContentRepositoryFullError} */
  admit(): void;
  /** Stores buffered content like `write`. */
  appendChunks(chunks: readonly Uint8Array[], total: number): ContentClaim;
  /** A resource file of the writer's own. */
  createResource(): Resource;
  writeAt(r: Resource, chunks: readonly Uint8Array[], total: number, position: number): void;
  writeAtAsync(r: Resource, chunks: Uint8Array[], total: number, position: number): Promise<void>;
  /** The writer is done; its own file (if any) takes no more bytes. */
  closed(writer: FileContentWriter, r: Resource | null): void;
  /** The writer gave up; its own file (if any) is deleted. */
  aborted(writer: FileContentWriter, r: Resource | null): void;
}

/** An empty resource file created ahead of need, with its write descriptor. */
interface Spare {
  readonly id: string;
  readonly sectionDir: string;
  readonly path: string;
  readonly fd: number;
}

/** A cached read descriptor. */
interface ReadFd {
  readonly fd: number;
  used: number;
}

/** A released resource file kept for replay and content viewing. */
interface ArchivedFile {
  readonly id: string;
  readonly path: string;
  readonly size: number;
  readonly archivedMs: number;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** For scans: a file that vanished meanwhile is skipped, other errors propagate. */
function ignoreMissing(error: unknown): undefined {
  if (errorCode(error) === 'ENOENT') return undefined;
  throw error;
}

function isDiskFullCode(code: string | undefined): boolean {
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A stream that fails on its first read (for content that is gone). */
function failedStream(error: Error): Readable {
  return new Readable({
    read() {
      this.destroy(error);
    },
  });
}

/** A plain descriptor (not a FileHandle: that would close it when garbage collected). */
function openFdAsync(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => openCallback(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/** Writes all of `data` at `position`, retrying short writes. */
async function writeFullyAsync(fd: number, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const n = await new Promise<number>((resolve, reject) =>
      writeCallback(fd, data, done, data.byteLength - done, position + done, (error, written) =>
        error ? reject(error) : resolve(written),
      ),
    );
    done += n;
  }
}

async function writevFullyAsync(fd: number, chunks: Uint8Array[], total: number, position: number): Promise<void> {
  const n = await new Promise<number>((resolve, reject) =>
    writevCallback(fd, chunks, position, (error, written) => (error ? reject(error) : resolve(written))),
  );
  if (n < total) await writeFullyAsync(fd, Buffer.concat(chunks, total).subarray(n), position + n);
}

function writeFullySync(fd: number, data: Uint8Array, position: number): void {
  let done = writeSync(fd, data, 0, data.byteLength, position);
  while (done < data.byteLength) done += writeSync(fd, data, done, data.byteLength - done, position + done);
}

function writevFullySync(fd: number, chunks: readonly Uint8Array[], total: number, position: number): void {
  const n = writevSync(fd, chunks, position);
  if (n < total) writeFullySync(fd, Buffer.concat(chunks, total).subarray(n), position + n);
}

/** Runs `task` over `items` with at most IO_CONCURRENCY in flight. */
async function forEachConcurrently<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IO_CONCURRENCY, items.length) }, worker));
}

function validateSettings(settings: ContentRepositorySettings): void {
  const positive = (name: string, value: number | undefined, allowZero: boolean): void => {
    if (value === undefined) return;
    const ok = value === Number.POSITIVE_INFINITY || (Number.isFinite(value) && (allowZero ? value >= 0 : value > 0));
    if (!ok)
      throw new RangeError(
        `Content repository option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`,
      );
  };
  const fraction = (name: string, value: number | undefined): void => {
    if (value === undefined) return;
    if (!(Number.isFinite(value) && value > 0 && value <= 1)) {
      throw new RangeError(`Content repository option ${name} must be a fraction in (0, 1], got ${value}`);
    }
  };
  positive('maxAppendableSize', settings.maxAppendableSize, false);
  if (settings.maxAppendableSize === Number.POSITIVE_INFINITY) throw new RangeError('maxAppendableSize must be finite');
  positive('archiveMaxAgeMs', settings.archiveMaxAgeMs, true);
  positive('archiveMaxBytes', settings.archiveMaxBytes, true);
  positive('minFreeBytes', settings.minFreeBytes, true);
  positive('housekeepingIntervalMs', settings.housekeepingIntervalMs, false);
  positive('releaseGraceMs', settings.releaseGraceMs, true);
  fraction('archiveMaxUsage', settings.archiveMaxUsage);
  fraction('diskWatermark', settings.diskWatermark);
}

/**
 * The durable content repository: contents appended into shared resource files under
 * `<directory>/<section>/<resourceId>`, reference counted per file, released files archived to
 * `<directory>/<section>/archive/` (same partition, so archiving is a rename) and deleted by
 * retention. Writes stop with {@link ContentRepositoryFullError} above the disk watermark.
 *
 * Claim contract: content returned by {@link write}, {@link writeStream} or a writer's `close` has no
 * claimant. The caller calls {@link claimant} for it; until then it is protected only by
 * `releaseGraceMs` (and, when archiving, `claimant` restores a file that was archived meanwhile).
 */
export class FileContentRepository implements ContentRepository {
  readonly #dir: string;
  readonly #power: boolean;
  readonly #settings: Settings;
  readonly #onWatermark: ((full: boolean, message: string) => void) | undefined;
  readonly #onError: ((message: string, error: unknown) => void) | undefined;

  readonly #live = new Map<string, Resource>();
  /** Recovered counts of resources whose file is gone: kept so releases balance. */
  readonly #refs = new ReferenceCounts<Resource>({
    live: (id) => this.#live.get(id),
    graceMs: () => this.#settings.releaseGraceMs,
    releaseNow: (r, now) => this.#releaseNow(r, now),
  });
  /** Oldest first (insertion = archive time). */
  readonly #archive = new Map<string, ArchivedFile>();
  readonly #writers = new Set<FileContentWriter>();
  /** Cached read descriptors; `used` stamps make it an LRU without reordering the map on hits. */
  readonly #readFds = new Map<string, ReadFd>();
  #readStamp = 0;

  readonly #sectionReady = new Uint8Array(SECTIONS);
  readonly #archiveReady = new Uint8Array(SECTIONS);
  #counter = 0;
  #current: Resource | null = null;
  #liveBytes = 0;
  #archivedBytes = 0;

  #dirty: Resource[] = [];
  #dirtyDirs = new Set<string>();

  /** Empty files ready to become resources (see SPARE_FILES); never content, never in `#live`. */
  #spares: Spare[] = [];
  /** Ids of spares, ready or being created: recovery leaves these files alone. */
  readonly #spareIds = new Set<string>();
  /** Spares being created (close waits for them, then deletes the spares). */
  readonly #spareOpens = new Set<Promise<void>>();

  /** Contents gathered for one write into `#gatherTarget`, starting at file position `#gatherStart`. */
  #gather: Buffer = Buffer.allocUnsafeSlow(GATHER_BYTES);
  #gathered = 0;
  #gatherTarget: Resource | null = null;
  #gatherStart = 0;
  #flushScheduled = false;
  readonly #flushSoon = (): void => {
    this.#flushScheduled = false;
    try {
      this.flush();
    } catch (error) {
      // Kept gathered: the next flush (the journal's, or a write's) tries again and fails loudly.
      this.#report('Could not write gathered content (kept in memory, will retry)', error);
    }
  };
  #syncTail: Promise<void> = Promise.resolve();

  #nextDiskCheckMs = 0;
  #diskUsage = 0;
  #diskFree = 0;
  #full = false;
  #fullMessage = '';
  #closed = false;
  #recovered = false;

  readonly #host: WriterHost = {
    admit: () => {
      this.#admit();
    },
    appendChunks: (chunks, total) => this.#appendChunks(chunks, total),
    createResource: () => this.#createResource(Date.now()),
    writeAt: (r, chunks, total, position) => this.#writevAt(r, chunks, total, position, Date.now()),
    writeAtAsync: (r, chunks, total, position) => this.#writeAtAsync(r, chunks, total, position),
    closed: (writer, r) => {
      this.#writers.delete(writer);
      if (r !== null) this.#seal(r, Date.now());
    },
    aborted: (writer, r) => this.#abortWriter(writer, r),
  };

  #housekeepingTimer: NodeJS.Timeout | null = null;
  #housekeepingRun: Promise<void> | null = null;

  /** @throws {RangeError} for invalid options; errors of `mkdir` if the directory cannot be created. */
  constructor(options: ContentRepositoryOptions) {
    validateSettings(options);
    this.#dir = options.directory;
    this.#power = options.durability === 'power';
    this.#onWatermark = options.onWatermark;
    this.#onError = options.onError;
    this.#settings = {
      maxAppendableSize: options.maxAppendableSize ?? DEFAULTS.maxAppendableSize,
      archiveEnabled: options.archiveEnabled ?? DEFAULTS.archiveEnabled,
      archiveMaxAgeMs: options.archiveMaxAgeMs ?? DEFAULTS.archiveMaxAgeMs,
      archiveMaxBytes: options.archiveMaxBytes ?? DEFAULTS.archiveMaxBytes,
      archiveMaxUsage: options.archiveMaxUsage ?? DEFAULTS.archiveMaxUsage,
      diskWatermark: options.diskWatermark ?? DEFAULTS.diskWatermark,
      minFreeBytes: options.minFreeBytes ?? DEFAULTS.minFreeBytes,
      housekeepingIntervalMs: options.housekeepingIntervalMs ?? DEFAULTS.housekeepingIntervalMs,
      releaseGraceMs: options.releaseGraceMs ?? DEFAULTS.releaseGraceMs,
    };
    mkdirSync(this.#dir, { recursive: true });
    this.#checkDisk(Date.now());
    this.#startHousekeepingTimer();
  }

  /**
   * Changes settings at run time (e.g. an operator raising the watermark, or a test forcing "full"
   * by setting `minFreeBytes` above the real free space). The disk is checked again at once.
   * @throws {RangeError} for invalid values.
   */
  configure(settings: ContentRepositorySettings): void {
    validateSettings(settings);
    const s = this.#settings;
    const intervalBefore = s.housekeepingIntervalMs;
    s.maxAppendableSize = settings.maxAppendableSize ?? s.maxAppendableSize;
    s.archiveEnabled = settings.archiveEnabled ?? s.archiveEnabled;
    s.archiveMaxAgeMs = settings.archiveMaxAgeMs ?? s.archiveMaxAgeMs;
    s.archiveMaxBytes = settings.archiveMaxBytes ?? s.archiveMaxBytes;
    s.archiveMaxUsage = settings.archiveMaxUsage ?? s.archiveMaxUsage;
    s.diskWatermark = settings.diskWatermark ?? s.diskWatermark;
    s.minFreeBytes = settings.minFreeBytes ?? s.minFreeBytes;
    s.housekeepingIntervalMs = settings.housekeepingIntervalMs ?? s.housekeepingIntervalMs;
    s.releaseGraceMs = settings.releaseGraceMs ?? s.releaseGraceMs;
    if (s.housekeepingIntervalMs !== intervalBefore && !this.#closed) this.#startHousekeepingTimer();
    if (!this.#closed) this.#checkDisk(Date.now());
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  write(data: Uint8Array): ContentClaim {
    const now = this.#admit();
    const length = data.byteLength;
    if (length > this.#settings.maxAppendableSize) {
      const r = this.#createResource(now);
      try {
        this.#writeAt(r, data, 0, now);
      } finally {
        this.#seal(r, now);
      }
      return { resourceId: r.id, offset: 0, length };
    }
    const r = this.#current ?? this.#openAppendable(now);
    const offset = r.size;
    if (length <= GATHER_MAX_CONTENT) this.#gatherInto(r, data, now);
    else {
      this.#flushFor(r);
      this.#writeAt(r, data, offset, now);
    }
    if (r.size >= this.#settings.maxAppendableSize) this.#sealCurrent(now);
    return { resourceId: r.id, offset, length };
  }

  /**
   * Hands every gathered content to the OS (one `write`). The FlowFile repository calls this
   * before each journal write, so no journal record ever names bytes that were not written; reads,
   * syncs and sealing a file flush too. On failure the bytes stay gathered (and the error is thrown):
   * nothing a session was given a claim for is dropped.
   */
  flush(): void {
    const r = this.#gatherTarget;
    if (r === null || this.#gathered === 0) return;
    try {
      writeFullySync(r.writeFd, this.#gather.subarray(0, this.#gathered), this.#gatherStart);
    } catch (error) {
      throw isDiskFullCode(errorCode(error)) ? this.#diskFull(error) : error;
    }
    this.#gathered = 0;
    this.#gatherTarget = null;
    r.inflight--;
    if (r.inflight === 0) {
      this.#closeWriteFd(r);
      this.#afterInflight(r);
    }
  }

  #flushFor(r: Resource): void {
    if (this.#gatherTarget === r) this.flush();
  }

  /** Appends a small content to the gathered bytes of `r` (flushing first what cannot join them). */
  #gatherInto(r: Resource, data: Uint8Array, now: number): void {
    const length = data.byteLength;
    if (this.#gatherTarget !== null && (this.#gatherTarget !== r || this.#gathered + length > GATHER_BYTES)) this.flush();
    if (this.#gatherTarget === null) {
      this.#gatherTarget = r;
      this.#gatherStart = r.size;
      // The descriptor stays open (and a discarded file in place) until the bytes are written.
      r.inflight++;
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flushSoon);
      }
    }
    this.#gather.set(data, this.#gathered);
    this.#gathered += length;
    r.size += length;
    this.#liveBytes += length;
    r.lastWriteMs = now;
    if (this.#power && !r.dirty) this.#markDirty(r);
  }

  async writeStream(source: AsyncIterable<Uint8Array>): Promise<ContentClaim> {
    const writer = this.#openFileWriter();
    try {
      for await (const chunk of source) await writer.writeAsync(chunk);
      // The last batch asynchronously too (close would write it synchronously).
      await writer.drain();
      return writer.close();
    } catch (error) {
      writer.abort();
      throw error;
    }
  }

  openWriter(): ContentWriter {
    return this.#openFileWriter();
  }

  #openFileWriter(): FileContentWriter {
    this.#admit();
    const writer = new FileContentWriter(this.#host);
    this.#writers.add(writer);
    return writer;
  }

  #admit(): number {
    const now = Date.now();
    if (now >= this.#nextDiskCheckMs) this.#checkDisk(now);
    if (this.#closed) throw new Error(`Content repository ${this.#dir} is closed`);
    if (this.#full) throw new ContentRepositoryFullError(this.#fullMessage);
    return now;
  }

  /** Stores a writer's buffered content as one content, like {@link write}. */
  #appendChunks(chunks: readonly Uint8Array[], total: number): ContentClaim {
    if (this.#closed) throw new Error(`Content repository ${this.#dir} is closed`);
    const now = Date.now();
    if (total > this.#settings.maxAppendableSize) {
      const r = this.#createResource(now);
      try {
        this.#writevAt(r, chunks, total, 0, now);
      } finally {
        this.#seal(r, now);
      }
      return { resourceId: r.id, offset: 0, length: total };
    }
    const r = this.#current ?? this.#openAppendable(now);
    const offset = r.size;
    this.#flushFor(r);
    this.#writevAt(r, chunks, total, offset, now);
    if (r.size >= this.#settings.maxAppendableSize) this.#sealCurrent(now);
    return { resourceId: r.id, offset, length: total };
  }

  /** Asynchronous write to a writer's own file, at a position the writer reserved. */
  async #writeAtAsync(r: Resource, chunks: Uint8Array[], total: number, position: number): Promise<void> {
    r.inflight++;
    try {
      const only = chunks.length === 1 ? chunks[0] : undefined;
      if (only !== undefined) await writeFullyAsync(r.writeFd, only, position);
      else await writevFullyAsync(r.writeFd, chunks, total, position);
      const end = position + total;
      if (end > r.size) {
        this.#liveBytes += end - r.size;
        r.size = end;
      }
      r.lastWriteMs = Date.now();
      // Marked after the write: a sync that ran while it was in flight did not cover it.
      this.#markDirty(r);
    } catch (error) {
      throw this.#writeFailure(r, error);
    } finally {
      r.inflight--;
      if (r.inflight === 0) this.#afterInflight(r);
    }
  }

  #abortWriter(writer: FileContentWriter, r: Resource | null): void {
    this.#writers.delete(writer);
    if (r === null) return;
    r.open = false;
    r.discarded = true;
    r.dirty = false;
    if (r.inflight === 0) this.#afterInflight(r);
  }

  #afterInflight(r: Resource): void {
    if (!r.discarded) return;
    if (this.#live.get(r.id) === r) {
      this.#live.delete(r.id);
      this.#liveBytes -= r.size;
    }
    this.#refs.forget(r);
    this.#closeReadFd(r.id);
    this.#closeWriteFd(r);
    try {
      unlinkSync(r.path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.#report(`Could not delete aborted content file ${r.path}`, error);
    }
  }

  #openAppendable(now: number): Resource {
    const r = this.#createResource(now);
    this.#current = r;
    return r;
  }

  #sealCurrent(now: number): void {
    const r = this.#current;
    if (r === null) return;
    this.#current = null;
    this.#seal(r, now);
  }

  #createResource(now: number): Resource {
    const spare = this.#spares.pop();
    if (spare !== undefined) {
      this.#spareIds.delete(spare.id);
      this.#refillSpares();
      const r = new Resource(spare.id, spare.sectionDir, spare.path, now);
      r.writeFd = spare.fd;
      this.#live.set(r.id, r);
      if (this.#power) this.#dirtyDirs.add(spare.sectionDir);
      return r;
    }
    this.#refillSpares();
    for (;;) {
      const counter = this.#counter++;
      const id = `${now}-${counter}`;
      const section = counter % SECTIONS;
      const sectionDir = join(this.#dir, String(section));
      if (this.#sectionReady[section] === 0) {
        mkdirSync(sectionDir, { recursive: true });
        this.#sectionReady[section] = 1;
        if (this.#power) this.#dirtyDirs.add(this.#dir);
      }
      const path = join(sectionDir, id);
      let fd: number;
      try {
        // O_EXCL: an id reused after a clock step back must not overwrite older content.
        fd = openSync(path, 'wx');
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EEXIST') continue;
        if (code === 'ENOENT') {
          // The section directory was removed behind our back: recreate it on the next try.
          this.#sectionReady[section] = 0;
          continue;
        }
        if (isDiskFullCode(code)) throw this.#diskFull(error);
        throw error;
      }
      const r = new Resource(id, sectionDir, path, now);
      r.writeFd = fd;
      this.#live.set(id, r);
      if (this.#power) this.#dirtyDirs.add(sectionDir);
      return r;
    }
  }

  /** Starts creating spare files in the background, all at once, up to SPARE_FILES ready or on their way. */
  #refillSpares(): void {
    while (!this.#closed && !this.#full && this.#spares.length + this.#spareOpens.size < SPARE_FILES) {
      const opening: Promise<void> = this.#openSpare().finally(() => this.#spareOpens.delete(opening));
      this.#spareOpens.add(opening);
    }
  }

  /** Creates one spare; on any error (a full disk, say) none: #createResource then opens files itself and reports. */
  async #openSpare(): Promise<void> {
    // Same ids and rules as #createResource: the counter and O_EXCL keep them unique.
    const counter = this.#counter++;
    const id = `${Date.now()}-${counter}`;
    const section = counter % SECTIONS;
    const sectionDir = join(this.#dir, String(section));
    const path = join(sectionDir, id);
    this.#spareIds.add(id);
    let fd: number;
    try {
      if (this.#sectionReady[section] === 0) {
        await mkdirAsync(sectionDir, { recursive: true });
        this.#sectionReady[section] = 1;
        if (this.#power) this.#dirtyDirs.add(this.#dir);
      }
      fd = await openFdAsync(path, 'wx');
    } catch (error) {
      this.#spareIds.delete(id);
      // The section directory was removed behind our back: recreated on the next try.
      if (errorCode(error) === 'ENOENT') this.#sectionReady[section] = 0;
      return;
    }
    const spare = { id, sectionDir, path, fd };
    if (this.#closed) this.#deleteSpare(spare);
    else this.#spares.push(spare);
  }

  #deleteSpare(spare: Spare): void {
    this.#spareIds.delete(spare.id);
    try {
      closeSync(spare.fd);
      unlinkSync(spare.path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.#report(`Could not delete unused content file ${spare.path}`, error);
    }
  }

  #writeAt(r: Resource, data: Uint8Array, position: number, now: number): void {
    try {
      writeFullySync(r.writeFd, data, position);
    } catch (error) {
      throw this.#writeFailure(r, error);
    }
    const end = position + data.byteLength;
    if (end > r.size) {
      this.#liveBytes += end - r.size;
      r.size = end;
    }
    r.lastWriteMs = now;
    if (this.#power && !r.dirty) this.#markDirty(r);
  }

  #writevAt(r: Resource, chunks: readonly Uint8Array[], total: number, position: number, now: number): void {
    try {
      writevFullySync(r.writeFd, chunks, total, position);
    } catch (error) {
      throw this.#writeFailure(r, error);
    }
    const end = position + total;
    if (end > r.size) {
      this.#liveBytes += end - r.size;
      r.size = end;
    }
    r.lastWriteMs = now;
    if (this.#power && !r.dirty) this.#markDirty(r);
  }

  /**
   * A failed write may leave a torn tail, so the file takes no more appends (claims never cover the
   * torn bytes). Disk-full errors become ContentRepositoryFullError and stop writes until space returns.
   */
  #writeFailure(r: Resource, error: unknown): unknown {
    if (r === this.#current) this.#sealCurrent(Date.now());
    return isDiskFullCode(errorCode(error)) ? this.#diskFull(error) : error;
  }

  #diskFull(error: unknown): ContentRepositoryFullError {
    const message =
      `Content repository ${this.#dir} is full: the disk refused a write (${errorCode(error) ?? 'no space'}). ` +
      'New content is refused until space is freed: free disk space, or move the content repository to a larger disk.';
    this.#setFull(true, message);
    // Full until the next regular disk check says otherwise (space may come back: archive cleanup,
    // an operator freeing space), so a burst of failing writes does not flap the bulletin.
    this.#nextDiskCheckMs = Date.now() + DISK_CHECK_INTERVAL_MS;
    return new ContentRepositoryFullError(message, { cause: error });
  }

  #markDirty(r: Resource): void {
    if (!this.#power || r.dirty || r.discarded) return;
    r.dirty = true;
    this.#dirty.push(r);
  }

  /** The file takes no more bytes; with no claimant it is released (after the grace). */
  #seal(r: Resource, now: number): void {
    try {
      this.#flushFor(r);
    } catch (error) {
      // Still gathered (its descriptor stays open): the journal's next flush retries and fails loudly.
      this.#report(`Could not write gathered content to ${r.path} (kept in memory, will retry)`, error);
    }
    r.open = false;
    this.#closeWriteFd(r);
    if (r.count === 0) this.#refs.unreferenced(r, now);
  }

  #closeWriteFd(r: Resource): void {
    if (r.writeFd < 0 || r.open || r.dirty || r.syncing > 0 || r.inflight > 0) return;
    const fd = r.writeFd;
    r.writeFd = -1;
    try {
      closeSync(fd);
    } catch (error) {
      this.#report(`Could not close content file ${r.path}`, error);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reference counting and release

  claimant(resourceId: string): void {
    if (this.#refs.claim(resourceId)) return;
    const archived = this.#archive.get(resourceId);
    if (archived !== undefined) {
      this.#restore(archived, 1);
      return;
    }
    throw new ContentNotFoundError(
      `Cannot claim resource ${resourceId}: its file is neither live nor archived in content repository ${this.#dir}`,
    );
  }

  release(resourceId: string): void {
    this.#refs.release(resourceId);
  }

  claimantCount(resourceId: string): number {
    return this.#refs.count(resourceId);
  }

  /** Moves a file out of the live area: into the archive, or deleted when archiving is off. */
  #releaseNow(r: Resource, now: number): void {
    this.#live.delete(r.id);
    this.#liveBytes -= r.size;
    this.#refs.forget(r);
    this.#closeReadFd(r.id);
    // Nobody needs garbage to be durable.
    r.dirty = false;
    this.#closeWriteFd(r);
    if (this.#settings.archiveEnabled) {
      let archivePath: string;
      try {
        archivePath = this.#archivePath(r.id, r.sectionDir);
        renameSync(r.path, archivePath);
      } catch (error) {
        // Left in the live area (still readable there); the next recovery releases it again.
        if (errorCode(error) !== 'ENOENT') this.#report(`Could not archive content file ${r.path}`, error);
        return;
      }
      this.#addArchived({ id: r.id, path: archivePath, size: r.size, archivedMs: now });
    } else {
      try {
        unlinkSync(r.path);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') this.#report(`Could not delete content file ${r.path}`, error);
      }
    }
  }

  #archivePath(id: string, sectionDir: string): string {
    const section = this.#sectionOf(id);
    const dir = join(sectionDir, 'archive');
    if (this.#archiveReady[section] === 0) {
      mkdirSync(dir, { recursive: true });
      this.#archiveReady[section] = 1;
    }
    return join(dir, id);
  }

  #addArchived(file: ArchivedFile): void {
    this.#archive.set(file.id, file);
    this.#archivedBytes += file.size;
  }

  #removeArchived(file: ArchivedFile): void {
    this.#archive.delete(file.id);
    this.#archivedBytes -= file.size;
    this.#closeReadFd(file.id);
  }

  /** A claimant for archived content (provenance replay, or a late claim): back into the live area. */
  #restore(file: ArchivedFile, count: number): void {
    const sectionDir = join(this.#dir, String(this.#sectionOf(file.id)));
    const path = join(sectionDir, file.id);
    try {
      renameSync(file.path, path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        this.#removeArchived(file);
        throw new ContentNotFoundError(`Cannot claim resource ${file.id}: its archived file ${file.path} is gone`, {
          cause: error,
        });
      }
      throw error;
    }
    this.#removeArchived(file);
    const r = new Resource(file.id, sectionDir, path, file.archivedMs);
    r.open = false;
    r.size = file.size;
    r.count = count;
    this.#live.set(r.id, r);
    this.#liveBytes += r.size;
  }

  #sectionOf(id: string): number {
    const dash = id.lastIndexOf('-');
    const counter = Number(id.slice(dash + 1));
    return Number.isSafeInteger(counter) && counter >= 0 ? counter % SECTIONS : 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  read(claim: ContentClaim, offset?: number, length?: number): Buffer {
    const from = offset ?? 0;
    const count = length ?? claim.length - from;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(count) || from < 0 || count < 0 || from + count > claim.length) {
      throw this.#rangeError(claim, from, count);
    }
    if (this.#gatherTarget?.id === claim.resourceId) this.flush();
    const fd = this.#readFd(claim.resourceId);
    const buffer = Buffer.allocUnsafe(count);
    const position = claim.offset + from;
    let done = 0;
    while (done < count) {
      const n = readSync(fd, buffer, done, count - done, position + done);
      if (n === 0) {
        throw new ContentNotFoundError(
          `Content of resource ${claim.resourceId} (offset ${claim.offset}, length ${claim.length}) is truncated: ` +
            `the file ends at ${position + done}`,
        );
      }
      done += n;
    }
    return buffer;
  }

  readStream(claim: ContentClaim, offset?: number, length?: number): Readable {
    const from = offset ?? 0;
    const count = length ?? claim.length - from;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(count) || from < 0 || count < 0 || from + count > claim.length) {
      throw this.#rangeError(claim, from, count);
    }
    let fd: number;
    let path: string;
    try {
      if (this.#gatherTarget?.id === claim.resourceId) this.flush();
      [fd, path] = this.#openForRead(claim.resourceId);
    } catch (error) {
      return failedStream(error instanceof Error ? error : new Error(String(error)));
    }
    const start = claim.offset + from;
    const end = start + count;
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (error) {
      closeSync(fd);
      return failedStream(error instanceof Error ? error : new Error(String(error)));
    }
    if (size < end) {
      closeSync(fd);
      return failedStream(
        new ContentNotFoundError(
          `Content of resource ${claim.resourceId} is truncated: the file ends at ${size}, the range at ${end}`,
        ),
      );
    }
    if (count === 0) {
      closeSync(fd);
      return Readable.from([]);
    }
    return createReadStream(path, { fd, start, end: end - 1, autoClose: true, highWaterMark: 64 * 1024 });
  }

  isAvailable(claim: ContentClaim): boolean {
    const end = claim.offset + claim.length;
    const r = this.#live.get(claim.resourceId);
    if (r !== undefined) return r.size >= end;
    const archived = this.#archive.get(claim.resourceId);
    if (archived !== undefined) return archived.size >= end;
    if (this.#refs.hasPhantom(claim.resourceId)) return false;
    // Not known to this run (e.g. before recover): ask the file system.
    try {
      const [fd] = this.#openForRead(claim.resourceId);
      try {
        return fstatSync(fd).size >= end;
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
  }

  #rangeError(claim: ContentClaim, offset: number, length: number): RangeError {
    return new RangeError(
      `Range (offset ${offset}, length ${length}) is outside the claim on resource ${claim.resourceId} ` +
        `(offset ${claim.offset}, length ${claim.length})`,
    );
  }

  /** A cached read descriptor (LRU), opened on a miss. */
  #readFd(id: string): number {
    const cached = this.#readFds.get(id);
    if (cached !== undefined) {
      cached.used = ++this.#readStamp;
      return cached.fd;
    }
    if (this.#closed) throw new Error(`Content repository ${this.#dir} is closed`);
    const [fd] = this.#openForRead(id);
    if (this.#readFds.size >= MAX_READ_FDS) this.#evictReadFds();
    this.#readFds.set(id, { fd, used: ++this.#readStamp });
    return fd;
  }

  /**
   * Closes the least recently used descriptors: those in the oldest quarter of the stamp range (at
   * least one), so the scan over the cache runs once per many misses rather than on each.
   */
  #evictReadFds(): void {
    let oldest = Number.POSITIVE_INFINITY;
    let newest = 0;
    for (const entry of this.#readFds.values()) {
      if (entry.used < oldest) oldest = entry.used;
      if (entry.used > newest) newest = entry.used;
    }
    const threshold = oldest + (newest - oldest) / 4;
    for (const [id, entry] of this.#readFds) {
      if (entry.used <= threshold) {
        this.#readFds.delete(id);
        closeSync(entry.fd);
      }
    }
  }

  #closeReadFd(id: string): void {
    const entry = this.#readFds.get(id);
    if (entry === undefined) return;
    this.#readFds.delete(id);
    closeSync(entry.fd);
  }

  /** Opens a resource for reading: the live file, else the archived one. @throws {ContentNotFoundError} */
  #openForRead(id: string): [number, string] {
    const candidates: string[] = [];
    const r = this.#live.get(id);
    const archived = this.#archive.get(id);
    if (r !== undefined) candidates.push(r.path);
    if (archived !== undefined) candidates.push(archived.path);
    if (r === undefined && archived === undefined) {
      // Never build paths from ids that are not ours (no `..` games with crafted claims).
      if (!RESOURCE_ID.test(id)) throw new ContentNotFoundError(`Content resource ${id} does not exist (not a resource id)`);
      const sectionDir = join(this.#dir, String(this.#sectionOf(id)));
      candidates.push(join(sectionDir, id), join(sectionDir, 'archive', id));
    } else if (r !== undefined && archived === undefined) {
      // A file archived by another path (should not happen) is still found.
      candidates.push(join(r.sectionDir, 'archive', id));
    }
    for (const path of candidates) {
      try {
        return [openSync(path, 'r'), path];
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
      }
    }
    throw new ContentNotFoundError(
      `Content of resource ${id} is gone: it is neither in the live area nor in the archive of ${this.#dir} ` +
        `(archived content is deleted after ${Math.round(this.#settings.archiveMaxAgeMs / 60_000)} min or when the archive is over its size or disk-usage limit)`,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Durability

  async sync(): Promise<void> {
    this.flush();
    if (!this.#power) return;
    const run = (): Promise<void> => this.#syncNow();
    const result = this.#syncTail.then(run, run);
    this.#syncTail = result.catch(() => undefined);
    return result;
  }

  async #syncNow(): Promise<void> {
    const files = this.#dirty;
    const dirs = this.#dirtyDirs;
    this.#dirty = [];
    this.#dirtyDirs = new Set();
    const targets: Resource[] = [];
    for (const r of files) {
      if (!r.dirty || r.writeFd < 0) continue;
      r.dirty = false;
      r.syncing++;
      targets.push(r);
    }
    const errors: unknown[] = [];
    await forEachConcurrently(targets, async (r) => {
      try {
        await fdatasyncAsync(r.writeFd);
      } catch (error) {
        errors.push(error);
        // Try again next time.
        this.#markDirty(r);
      } finally {
        r.syncing--;
        this.#closeWriteFd(r);
        if (r.discarded && r.inflight === 0) this.#afterInflight(r);
      }
    });
    await forEachConcurrently([...dirs], async (dir) => {
      let handle: Awaited<ReturnType<typeof openAsync>> | undefined;
      try {
        handle = await openAsync(dir, 'r');
        await handle.sync();
      } catch (error) {
        errors.push(error);
        this.#dirtyDirs.add(dir);
      } finally {
        await handle?.close();
      }
    });
    if (errors.length > 0) {
      throw new Error(`Content repository ${this.#dir}: ${errors.length} fsync(s) failed`, { cause: errors[0] });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Disk watermark and archive retention

  isFull(): boolean {
    return this.#full;
  }

  #checkDisk(now: number): void {
    this.#nextDiskCheckMs = now + DISK_CHECK_INTERVAL_MS;
    if (!this.#readDisk()) return;
    const s = this.#settings;
    if (this.#archive.size > 0 && (this.#diskUsage > s.archiveMaxUsage || this.#overWatermark())) {
      // Free archive space first: going full may be avoided altogether.
      const files = this.#archiveOverUsage(MAX_SYNC_ARCHIVE_DELETES);
      for (const file of files) {
        this.#removeArchived(file);
        try {
          unlinkSync(file.path);
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') this.#report(`Could not delete archived content file ${file.path}`, error);
        }
      }
      if (files.length > 0 && !this.#readDisk()) return;
    }
    this.#applyWatermark();
  }

  #readDisk(): boolean {
    try {
      const s = statfsSync(this.#dir);
      const used = s.blocks - s.bfree;
      const capacity = used + s.bavail;
      this.#diskUsage = capacity > 0 ? used / capacity : 0;
      this.#diskFree = s.bavail * s.bsize;
      return true;
    } catch (error) {
      this.#report(`Could not read disk usage of ${this.#dir}`, error);
      return false;
    }
  }

  #overWatermark(): boolean {
    return this.#diskUsage > this.#settings.diskWatermark || this.#diskFree < this.#settings.minFreeBytes;
  }

  #applyWatermark(): void {
    const s = this.#settings;
    const state = `disk ${percent(this.#diskUsage)} used (watermark ${percent(s.diskWatermark)}), ${formatBytes(this.#diskFree)} free (minimum ${formatBytes(s.minFreeBytes)})`;
    if (this.#overWatermark()) {
      this.#setFull(
        true,
        `Content repository ${this.#dir} is full: ${state}. New content is refused until space is freed` +
          `${this.#archive.size > 0 ? '' : ' (the archive is already empty)'}: free disk space, move the content repository ` +
          'to a larger disk, or raise diskWatermark / lower minFreeBytes.',
      );
    } else if (this.#full) {
      this.#setFull(false, `Content repository ${this.#dir} accepts content again: ${state}.`);
    }
  }

  #setFull(full: boolean, message: string): void {
    const changed = full !== this.#full;
    this.#full = full;
    if (full) this.#fullMessage = message;
    if (!changed) return;
    try {
      this.#onWatermark?.(full, message);
    } catch (error) {
      this.#report('The content repository watermark callback threw', error);
    }
  }

  /** Oldest archived files to delete so disk usage gets back under archiveMaxUsage and the watermark. */
  #archiveOverUsage(limit: number): ArchivedFile[] {
    const s = this.#settings;
    const out: ArchivedFile[] = [];
    // Project usage from the bytes freed; statfs is read again once they are deleted.
    const capacity = this.#diskUsage < 1 ? this.#diskFree / (1 - this.#diskUsage) : Number.POSITIVE_INFINITY;
    let freed = 0;
    for (const file of this.#archive.values()) {
      if (out.length >= limit) break;
      const free = this.#diskFree + freed;
      const usage = Number.isFinite(capacity) && capacity > 0 ? 1 - free / capacity : this.#diskUsage;
      if (usage <= s.archiveMaxUsage && usage <= s.diskWatermark && free >= s.minFreeBytes) break;
      out.push(file);
      freed += file.size;
    }
    return out;
  }

  housekeeping(): Promise<void> {
    if (this.#housekeepingRun !== null) return this.#housekeepingRun;
    const run = this.#housekeepingNow().finally(() => {
      this.#housekeepingRun = null;
    });
    this.#housekeepingRun = run;
    return run;
  }

  async #housekeepingNow(): Promise<void> {
    if (this.#closed) return;
    const now = Date.now();
    this.#refs.processPending(now);
    const s = this.#settings;
    const doomed: ArchivedFile[] = [];
    // Age: the index is in archive order, so the expired files are at its head.
    for (const file of this.#archive.values()) {
      if (now - file.archivedMs <= s.archiveMaxAgeMs) break;
      doomed.push(file);
    }
    for (const file of doomed) this.#removeArchived(file);
    // Size: oldest first.
    for (const file of this.#archive.values()) {
      if (this.#archivedBytes <= s.archiveMaxBytes) break;
      this.#removeArchived(file);
      doomed.push(file);
    }
    await this.#unlinkAll(doomed);
    // Disk usage.
    if (this.#archive.size > 0 && this.#readDisk()) {
      const overUsage = this.#archiveOverUsage(Number.POSITIVE_INFINITY);
      for (const file of overUsage) this.#removeArchived(file);
      await this.#unlinkAll(overUsage);
    }
    if (!this.#closed) this.#checkDisk(Date.now());
  }

  async #unlinkAll(files: readonly ArchivedFile[]): Promise<void> {
    await forEachConcurrently(files, async (file) => {
      try {
        await unlinkAsync(file.path);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') this.#report(`Could not delete archived content file ${file.path}`, error);
      }
    });
  }

  #startHousekeepingTimer(): void {
    if (this.#housekeepingTimer !== null) clearInterval(this.#housekeepingTimer);
    this.#housekeepingTimer = setInterval(() => {
      this.housekeeping().catch((error: unknown) => this.#report('Content repository housekeeping failed', error));
    }, this.#settings.housekeepingIntervalMs);
    this.#housekeepingTimer.unref();
  }

  #report(message: string, error: unknown): void {
    this.#onError?.(message, error);
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery, stats, close

  async recover(counts: ReadonlyMap<string, number>): Promise<void> {
    if (this.#recovered) throw new Error('Content repository recover() may be called only once');
    this.#recovered = true;
    const liveFound: { id: string; sectionDir: string; path: string; size: number }[] = [];
    const archiveFound: { id: string; path: string; size: number; ctimeMs: number }[] = [];
    let sections: string[];
    try {
      sections = (await readdir(this.#dir, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && /^\d+$/.test(entry.name) && Number(entry.name) < SECTIONS)
        .map((entry) => entry.name);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      sections = [];
    }
    await forEachConcurrently(sections, async (name) => {
      const sectionDir = join(this.#dir, name);
      this.#sectionReady[Number(name)] = 1;
      const entries = (await readdir(sectionDir, { withFileTypes: true }).catch(ignoreMissing)) ?? [];
      for (const entry of entries) {
        // Files of this run (written before recover, or spares) are already known; anything else is not ours.
        if (entry.isFile() && RESOURCE_ID.test(entry.name) && !this.#live.has(entry.name) && !this.#spareIds.has(entry.name)) {
          const path = join(sectionDir, entry.name);
          const st = await statAsync(path).catch(ignoreMissing);
          if (st !== undefined) liveFound.push({ id: entry.name, sectionDir, path, size: st.size });
        } else if (entry.isDirectory() && entry.name === 'archive') {
          this.#archiveReady[Number(name)] = 1;
          const archiveDir = join(sectionDir, 'archive');
          for (const archived of (await readdir(archiveDir).catch(ignoreMissing)) ?? []) {
            if (!RESOURCE_ID.test(archived) || this.#archive.has(archived)) continue;
            const path = join(archiveDir, archived);
            // ctime changes on rename, so it is the archive time.
            const st = await statAsync(path).catch(ignoreMissing);
            if (st !== undefined) archiveFound.push({ id: archived, path, size: st.size, ctimeMs: st.ctimeMs });
          }
        }
      }
    });
    archiveFound.sort((a, b) => a.ctimeMs - b.ctimeMs);
    for (const file of archiveFound)
      this.#addArchived({ id: file.id, path: file.path, size: file.size, archivedMs: file.ctimeMs });

    const now = Date.now();
    const orphans: Resource[] = [];
    const empty: string[] = [];
    for (const found of liveFound) {
      // lastWriteMs 0: no session of this run can hold unclaimed content in a pre-crash file.
      const r = new Resource(found.id, found.sectionDir, found.path, 0);
      r.open = false;
      r.size = found.size;
      const count = counts.get(found.id) ?? 0;
      if (count > 0) {
        r.count = count;
        this.#live.set(r.id, r);
        this.#liveBytes += r.size;
      } else if (found.size === 0) {
        // Nothing to keep for replay (e.g. a spare file left by a crash): deleted, not archived.
        empty.push(found.path);
      } else {
        orphans.push(r);
      }
    }
    await this.#releaseOrphans(orphans, now);
    await forEachConcurrently(empty, async (path) => {
      await unlinkAsync(path).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') this.#report(`Could not delete empty content file ${path}`, error);
      });
    });

    for (const [id, count] of counts) {
      if (!(count > 0) || !Number.isSafeInteger(count)) continue;
      const r = this.#live.get(id);
      if (r !== undefined) {
        // Pre-crash files got their counts above; a file of this run keeps its own count.
        continue;
      }
      const archived = this.#archive.get(id);
      if (archived !== undefined) {
        try {
          this.#restore(archived, count);
          continue;
        } catch (error) {
          this.#report(`Could not restore archived content ${id} that recovered FlowFiles reference`, error);
        }
      }
      // The file is gone: reads fail with ContentNotFoundError, releases still balance.
      this.#refs.setPhantom(id, count);
    }
    this.#checkDisk(Date.now());
  }

  /** Files nobody references after a crash: archived (or deleted) in parallel. */
  async #releaseOrphans(orphans: readonly Resource[], now: number): Promise<void> {
    await forEachConcurrently(orphans, async (r) => {
      try {
        if (this.#settings.archiveEnabled) {
          const archivePath = this.#archivePath(r.id, r.sectionDir);
          await renameAsync(r.path, archivePath);
          this.#addArchived({ id: r.id, path: archivePath, size: r.size, archivedMs: now });
        } else {
          await unlinkAsync(r.path);
        }
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') this.#report(`Could not release orphaned content file ${r.path}`, error);
      }
    });
  }

  stats(): ContentRepositoryStats {
    if (!this.#closed && Date.now() >= this.#nextDiskCheckMs) this.#checkDisk(Date.now());
    return {
      resourceFiles: this.#live.size,
      liveBytes: this.#liveBytes,
      archivedFiles: this.#archive.size,
      archivedBytes: this.#archivedBytes,
      diskUsage: this.#diskUsage,
      diskFreeBytes: this.#diskFree,
      full: this.#full,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#housekeepingTimer !== null) clearInterval(this.#housekeepingTimer);
    this.#refs.close();
    this.#housekeepingTimer = null;
    // Unfinished content was never committed: writers give up (their files go).
    for (const writer of [...this.#writers]) writer.abort();
    try {
      this.flush();
    } catch (error) {
      this.#report('Could not write gathered content at close', error);
    }
    await this.#housekeepingRun?.catch(() => undefined);
    await Promise.all(this.#spareOpens);
    for (const spare of this.#spares) this.#deleteSpare(spare);
    this.#spares = [];
    await this.#syncTail;
    // No session is in flight at close (the engine stopped them), so unreferenced files need no
    // grace: a clean shutdown leaves only content that queued FlowFiles reference.
    const now = Date.now();
    for (const r of [...this.#live.values()]) {
      if (r.count === 0) {
        r.open = false;
        this.#releaseNow(r, now);
      }
    }
    this.#current = null;
    for (const r of this.#live.values()) {
      r.open = false;
      r.dirty = false;
      this.#closeWriteFd(r);
    }
    for (const entry of this.#readFds.values()) closeSync(entry.fd);
    this.#readFds.clear();
  }
}

/**
 * A writer of one content: keeps up to 64 KiB in memory (then written into the shared appendable
 * file at `close`, in one synchronous step, so it never interleaves with other writes), and beyond
 * that spills into a resource file of its own that `writeAsync` fills with asynchronous writes.
 */
class FileContentWriter implements ContentWriter {
  readonly #host: WriterHost;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #resource: Resource | null = null;
  /** Once spilled: the buffer `#chunks` are copied into (see ASYNC_BATCH_BYTES), and its bytes used. */
  #batch: Buffer | null = null;
  #batchUsed = 0;
  /** A batch buffer whose write is done, for reuse. */
  #freeBatch: Buffer | null = null;
  /** Bytes assigned to the own file (written or in flight): the next write's position. */
  #filePosition = 0;
  #length = 0;
  #state: 'open' | 'closed' | 'aborted' = 'open';
  #inflight = 0;
  #failure: unknown = undefined;

  constructor(host: WriterHost) {
    this.#host = host;
  }

  get length(): number {
    return this.#length;
  }

  write(chunk: Uint8Array): void {
    this.#check();
    this.#host.admit();
    const size = chunk.byteLength;
    if (this.#resource === null && this.#buffered + size <= WRITER_BUFFER_BYTES) {
      // Copied: the caller may reuse its buffer once write returns.
      this.#chunks.push(Buffer.from(chunk));
      this.#buffered += size;
      this.#length += size;
      return;
    }
    const r = this.#spill();
    this.#flushSync(r);
    this.#host.writeAt(r, [chunk], size, this.#filePosition);
    this.#filePosition += size;
    this.#length += size;
  }

  async writeAsync(chunk: Uint8Array): Promise<void> {
    this.#check();
    this.#host.admit();
    const size = chunk.byteLength;
    if (this.#resource === null && this.#buffered + size <= WRITER_BUFFER_BYTES) {
      this.#chunks.push(Buffer.from(chunk));
      this.#buffered += size;
      this.#length += size;
      return;
    }
    // The bytes held in memory so far join the first asynchronous write.
    const r = this.#spill(false);
    this.#length += size;
    if (size < ASYNC_BATCH_BYTES) {
      this.#hold(chunk);
      if (this.#buffered < ASYNC_BATCH_BYTES) return;
      await this.#flushAsync(r);
      return;
    }
    // Positions are reserved now, so writes not awaited in between still land in order.
    const pending = this.#flushAsync(r);
    const position = this.#filePosition;
    this.#filePosition += size;
    await Promise.all([pending, this.#track(this.#host.writeAtAsync(r, [chunk], size, position))]);
  }

  /** Writes what is held in memory, asynchronously (when the content has a file of its own). */
  async drain(): Promise<void> {
    this.#check();
    if (this.#resource !== null) await this.#flushAsync(this.#resource);
  }

  close(): ContentClaim {
    this.#check();
    if (this.#inflight > 0) {
      throw new Error('ContentWriter.close() while writeAsync() calls are still pending: await them first');
    }
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.abort();
      throw failure;
    }
    const r = this.#resource;
    try {
      if (r === null) {
        const claim = this.#host.appendChunks(this.#chunks, this.#buffered);
        this.#state = 'closed';
        this.#chunks = [];
        this.#host.closed(this, null);
        return claim;
      }
      this.#flushSync(r);
    } catch (error) {
      this.abort();
      throw error;
    }
    this.#state = 'closed';
    this.#host.closed(this, r);
    return { resourceId: r.id, offset: 0, length: this.#length };
  }

  abort(): void {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#chunks = [];
    this.#buffered = 0;
    this.#host.aborted(this, this.#resource);
  }

  #check(): void {
    if (this.#state !== 'open') throw new Error(`ContentWriter is already ${this.#state}`);
  }

  /**
   * The own file, created on first need; with `flush`, the buffered bytes are written at once
   * (synchronous: at most 64 KiB), else they wait for the next write.
   */
  #spill(flush = true): Resource {
    if (this.#resource !== null) return this.#resource;
    const r = this.#host.createResource();
    this.#resource = r;
    if (!flush) return r;
    try {
      this.#flushSync(r);
    } catch (error) {
      this.abort();
      throw error;
    }
    return r;
  }

  /** Copies a chunk into the batch buffer, for the next write. */
  #hold(chunk: Uint8Array): void {
    const size = chunk.byteLength;
    let batch = this.#batch;
    if (batch === null || batch.length - this.#batchUsed < size) {
      batch = this.#freeBatch ?? Buffer.allocUnsafeSlow(ASYNC_BATCH_BYTES);
      this.#freeBatch = null;
      this.#batch = batch;
      this.#batchUsed = 0;
    }
    const at = this.#batchUsed;
    batch.set(chunk, at);
    this.#batchUsed = at + size;
    const last = this.#chunks.at(-1);
    // Back to back in the batch with the previous piece: one piece.
    if (last !== undefined && last.buffer === batch.buffer && last.byteOffset + last.byteLength === batch.byteOffset + at) {
      this.#chunks[this.#chunks.length - 1] = batch.subarray(at - last.byteLength, at + size);
    } else this.#chunks.push(batch.subarray(at, at + size));
    this.#buffered += size;
  }

  #flushSync(r: Resource): void {
    if (this.#buffered === 0) return;
    const chunks = this.#chunks;
    const total = this.#buffered;
    this.#chunks = [];
    this.#buffered = 0;
    // Written when writeAt returns: free for the next chunks.
    this.#freeBatch = this.#batch ?? this.#freeBatch;
    this.#batch = null;
    this.#host.writeAt(r, chunks, total, this.#filePosition);
    this.#filePosition += total;
  }

  #flushAsync(r: Resource): Promise<void> {
    if (this.#buffered === 0) return Promise.resolve();
    const chunks = this.#chunks;
    const total = this.#buffered;
    this.#chunks = [];
    this.#buffered = 0;
    // Its bytes are in flight: the next chunks go into another one (this one is free once written).
    const batch = this.#batch;
    this.#batch = null;
    const position = this.#filePosition;
    this.#filePosition += total;
    const write = this.#host.writeAtAsync(r, chunks, total, position);
    if (batch === null) return this.#track(write);
    return this.#track(
      write.then(() => {
        this.#freeBatch = batch;
      }),
    );
  }

  #track(write: Promise<void>): Promise<void> {
    this.#inflight++;
    return write.then(
      () => {
        this.#inflight--;
      },
      (error: unknown) => {
        this.#inflight--;
        this.#failure ??= error;
        throw error;
      },
    );
  }
}
