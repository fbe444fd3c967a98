import type { Readable } from 'node:stream';
import type { ContentClaim } from '../flowfile/claim.ts';

/** Thrown when content cannot be written because the disk is above its watermark. */
export class ContentRepositoryFullError extends Error {
  override readonly name = 'ContentRepositoryFullError';
}

/** Thrown when a claim's bytes are gone (deleted after archive retention, or never existed). */
export class ContentNotFoundError extends Error {
  override readonly name = 'ContentNotFoundError';
}

/** Builds one piece of content from several writes (append, merge, streamed writes). */
export interface ContentWriter {
  /** Appends bytes synchronously. */
  write(chunk: Uint8Array): void;
  /**
   * Appends bytes; resolves when the bytes are handed to the OS (use for large streamed content).
   * The chunk may be written without a copy: do not change it until the promise resolves.
   */
  writeAsync(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly length: number;
  /** Finishes the content and returns its claim. @throws {Error} while `writeAsync` calls are pending. */
  close(): ContentClaim;
  /** Gives up; the bytes written are never referenced. */
  abort(): void;
}

/** Options of the file-system content repository. Defaults in parentheses. */
export interface ContentRepositoryOptions {
  /** Directory of the repository: `<dataDir>/content`. */
  readonly directory: string;
  /** `power`: {@link ContentRepository.sync} fsyncs written files; `process`: it does nothing. */
  readonly durability: 'process' | 'power';
  /** A resource file takes appends until it reaches this size (1 MiB). */
  readonly maxAppendableSize?: number;
  /** Keep released resource files for replay and content viewing (true). */
  readonly archiveEnabled?: boolean;
  /** Delete archived files older than this, in ms (3 hours, NiFi's shipped value). */
  readonly archiveMaxAgeMs?: number;
  /** Delete the oldest archived files while the archive is larger than this, in bytes (unbounded). */
  readonly archiveMaxBytes?: number;
  /** Delete the oldest archived files while the disk is fuller than this fraction (0.90). */
  readonly archiveMaxUsage?: number;
  /** Refuse new content while the disk is fuller than this fraction (0.95)... */
  readonly diskWatermark?: number;
  /** ...or has less free space than this, in bytes (100 MiB). */
  readonly minFreeBytes?: number;
  /** How often archive cleanup and the disk check run, in ms (30 s; tests use less). */
  readonly housekeepingIntervalMs?: number;
  /** Called when writes stop or resume because of the watermark (for a loud bulletin). */
  readonly onWatermark?: (full: boolean, message: string) => void;
  /**
   * How long a resource file stays in the live area after its last write when nobody claims it,
   * in ms (10 s). Content returned by `write`/`close` has no claimant yet; this grace keeps a file
   * whose only contents are still in an uncommitted session from being archived before the session
   * calls {@link ContentRepository.claimant}. 0 = released at the next timer tick (enough when the
   * caller claims synchronously after writing).
   */
  readonly releaseGraceMs?: number;
  /** Called for failures off the caller's path (housekeeping, archiving, background deletes). */
  readonly onError?: (message: string, error: unknown) => void;
}

/** The options that can be changed at run time (see `FileContentRepository.configure`). */
export type ContentRepositorySettings = Partial<
  Pick<
    ContentRepositoryOptions,
    | 'maxAppendableSize'
    | 'archiveEnabled'
    | 'archiveMaxAgeMs'
    | 'archiveMaxBytes'
    | 'archiveMaxUsage'
    | 'diskWatermark'
    | 'minFreeBytes'
    | 'housekeepingIntervalMs'
    | 'releaseGraceMs'
  >
>;

/** Sizes for status and system diagnostics. */
export interface ContentRepositoryStats {
  readonly resourceFiles: number;
  readonly liveBytes: number;
  readonly archivedFiles: number;
  readonly archivedBytes: number;
  readonly diskUsage: number;
  readonly diskFreeBytes: number;
  readonly full: boolean;
}

/**
 * The content repository: immutable content in shared, reference-counted resource files.
 *
 * Reference counting is per resource file. The session calls {@link ContentRepository.claimant} for
 * each FlowFile version that starts pointing at a resource and {@link ContentRepository.release} once
 * a version that pointed at it is gone for good (after the FlowFile repository made that durable).
 * A resource file whose count is zero and that takes no more appends is archived (or deleted) by
 * housekeeping; until then its bytes stay readable.
 */
export interface ContentRepository {
  /** Stores bytes as new content. @throws {ContentRepositoryFullError} above the watermark. */
  write(data: Uint8Array): ContentClaim;
  /**
   * Hands content that `write` gathered in memory to the OS. Called before every FlowFile journal
   * write (so a journal record never names unwritten bytes); reads and syncs flush by themselves.
   * @throws the write's error (the bytes stay gathered for the next try).
   */
  flush(): void;
  /** Stores a stream as new content without holding it in memory. */
  writeStream(source: AsyncIterable<Uint8Array>): Promise<ContentClaim>;
  /** A writer for content built from several pieces. */
  openWriter(): ContentWriter;
  /** Reads a claim (or a range within it) fully. @throws {ContentNotFoundError} */
  read(claim: ContentClaim, offset?: number, length?: number): Buffer;
  /** Streams a claim (or a range within it). The stream errors with ContentNotFoundError if gone. */
  readStream(claim: ContentClaim, offset?: number, length?: number): Readable;
  /** Whether a claim's bytes can still be read (live or archived). */
  isAvailable(claim: ContentClaim): boolean;
  /**
   * One more FlowFile version points into this resource. Call it for new content before the next
   * `await` where possible (see `releaseGraceMs`). An archived resource is moved back to the live
   * area (provenance replay). @throws {ContentNotFoundError} if the resource is neither live nor archived.
   */
  claimant(resourceId: string): void;
  /** One FlowFile version that pointed into this resource is gone. @throws {Error} naming the resource when its count is already 0. */
  release(resourceId: string): void;
  /** Current claimant count of a resource (for diagnostics and tests). */
  claimantCount(resourceId: string): number;
  /** Makes every write so far durable against power loss (no-op in `process` durability). */
  sync(): Promise<void>;
  /** Whether the watermark currently stops writes. */
  isFull(): boolean;
  /**
   * After a restart: sets the claimant counts from the recovered FlowFiles; resource files nobody
   * references are archived (or deleted) right away, so no orphan stays in the live area.
   */
  recover(counts: ReadonlyMap<string, number>): Promise<void>;
  /** Runs archive cleanup and the disk check now (also runs on a timer). */
  housekeeping(): Promise<void>;
  stats(): ContentRepositoryStats;
  close(): Promise<void>;
}
