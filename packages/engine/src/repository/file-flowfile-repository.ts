import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { uuidv7 } from '../flowfile/uuid.ts';
import { FrameReader, JOURNAL_MAGIC, JournalBuffer, MAGIC_BYTES, payloadSeq, SEQ_BYTES, writeFully } from './frame-codec.ts';
import { decodeRecords, isSwapFileName, RecordEncoder, type ReplayOp, stateChanges } from './record-codec.ts';
import { Replayer } from './replay.ts';
import { type CapturedQueue, readSnapshot, syncDirectory, writeSnapshot } from './snapshot-file.ts';
import { decodeSwapFile, describeSwap, encodeSwapFile } from './swap-file.ts';
import type {
  FlowFileRepository,
  FlowFileRepositoryOptions,
  RecoveredState,
  RepositoryRecord,
  StateBatch,
  SwapRef,
} from './types.ts';

/** A group is flushed at the next tick, or at once when its frames pass this size. */
const FLUSH_BYTES = 4 << 20;
const DEFAULT_CHECKPOINT_INTERVAL_MS = 20_000;
const DEFAULT_CHECKPOINT_JOURNAL_BYTES = 64 << 20;
/** Delay before retrying a failed journal write (disk full): commits wait meanwhile. */
const WRITE_RETRY_MS = 1_000;
/** Recovery hands replayed state changes to the store in batches of this many transactions. */
const STATE_REPLAY_BATCH = 1_000;
const JOURNAL_NAME = /^(\d+)\.journal$/;

class Deferred {
  readonly promise: Promise<void>;
  resolve: () => void = () => {};
  reject: (error: Error) => void = () => {};
  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Transactions committed since the previous flush; they become durable together. */
interface Group {
  lastSeq: number;
  frames: boolean;
  /** Shared by every commit() of the group: one promise per group, not per transaction. */
  deferred: Deferred | undefined;
  state: StateBatch[];
  callbacks: Array<() => void>;
  /** Internal waiters (checkpoint, close): unlike callbacks they also hear of a failed sync. */
  waiters: Deferred[];
}

interface JournalFile {
  readonly number: number;
  readonly path: string;
}

function newGroup(): Group {
  return { lastSeq: 0, frames: false, deferred: undefined, state: [], callbacks: [], waiters: [] };
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/**
 * The durable FlowFile repository: a write-ahead journal of transactions with group commit,
 * periodic checkpoints (snapshot + journal truncation) and swap files, under `options.directory`:
 *
 *   journals/<n>.journal   `SLUICEJ1`, then frames [u32 len][u32 crc32][u32 seq hi][u32 seq lo][records]
 *                          (see record-codec.ts);
 *                          <n> increases with each journal (the seq it was opened at, or more)
 *   snapshot               `SLUICES1`, then frames (see writeSnapshot); `snapshot.partial` while written
 *   swap/<uuid>.swap       `SLUICEW1`, then one frame of FlowFiles (see encodeSwapFile)
 *
 * Call {@link recover} once before anything else. Commits are encoded synchronously and written by
 * one `writeSync` per group (plus `fdatasync` in `power` mode); groups become durable, apply their
 * state changes and resolve in commit order.
 */
export class FileFlowFileRepository implements FlowFileRepository {
  readonly #options: FlowFileRepositoryOptions;
  readonly #power: boolean;
  readonly #journalDir: string;
  readonly #swapDir: string;
  readonly #snapshotPath: string;
  readonly #partialPath: string;
  readonly #checkpointIntervalMs: number;
  readonly #checkpointJournalBytes: number;

  #recovered = false;
  #closed = false;
  /** A failed fsync: nothing after it can be called durable any more. */
  #fatal: Error | undefined;

  #seq = 0;
  #fd = -1;
  #journalNumber = 0;
  #journalSize = 0;
  /** Every journal on disk, oldest first; the last is the current one. */
  #journals: JournalFile[] = [];
  /** Journals rotated away whose descriptors a power-mode flush may still fsync. */
  #retiredFds: number[] = [];
  /** After a failed write whose torn bytes could not be truncated, the next write starts a journal. */
  #needsNewJournal = false;

  readonly #pending = new JournalBuffer();
  #group: Group = newGroup();
  /** Groups written early (pending frames passed FLUSH_BYTES) and not completed yet, in order. */
  #written: Group[] = [];
  #scheduled = false;
  /** A power-mode flush is between its write and its completion. */
  #flushing = false;
  #retryTimer: NodeJS.Timeout | undefined;
  /** State changes whose apply failed; retried, in order, before later ones. */
  #stateBacklog: StateBatch[] = [];

  /** Swap files on disk. */
  readonly #swapFiles = new Set<string>();
  /** Swap files swapped in or dropped, deletable once a checkpoint covers `seq`. */
  #releasedSwaps: Array<{ file: string; seq: number }> = [];
  readonly #encoder = new RecordEncoder();

  #checkpointTimer: NodeJS.Timeout | undefined;
  #checkpointChain: Promise<void> = Promise.resolve();
  /** Checkpoints requested and not finished (a background one is not queued behind another). */
  #checkpointsInFlight = 0;
  #lastCheckpointSeq = 0;
  #lastCheckpointMs = 0;
  #lastCheckpointAt = 0;
  #transactions = 0;

  constructor(options: FlowFileRepositoryOptions) {
    this.#options = options;
    this.#power = options.durability === 'power';
    this.#journalDir = join(options.directory, 'journals');
    this.#swapDir = join(options.directory, 'swap');
    this.#snapshotPath = join(options.directory, 'snapshot');
    this.#partialPath = join(options.directory, 'snapshot.partial');
    this.#checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#checkpointJournalBytes = options.checkpointJournalBytes ?? DEFAULT_CHECKPOINT_JOURNAL_BYTES;
  }

  /**
   * Loads the snapshot, replays the journals after it, hands replayed state changes newer than the
   * state store's applied seq to the store, deletes orphan swap files and opens a new journal.
   * A torn or corrupt frame ends the replay of its journal (counted in `droppedTailBytes`).
   * @throws {Error} when called twice, or when the snapshot itself is corrupt (never the result of
   *   a crash: a checkpoint renames only a complete, fsynced snapshot).
   */
  async recover(): Promise<RecoveredState> {
    if (this.#recovered || this.#closed) throw new Error('FlowFile repository: recover() may be called only once');
    const started = performance.now();
    mkdirSync(this.#journalDir, { recursive: true });
    mkdirSync(this.#swapDir, { recursive: true });
    // A partial snapshot is an interrupted checkpoint: the previous snapshot and journals hold all.
    rmSync(this.#partialPath, { force: true });

    const replayer = new Replayer((swap) => this.readSwapFile(swap));
    let snapshotSeq = 0;
    let snapshotRecords = 0;
    if (existsSync(this.#snapshotPath)) {
      const loaded = readSnapshot(this.#snapshotPath, replayer);
      snapshotSeq = loaded.seq;
      snapshotRecords = loaded.records;
    }

    const store = this.#options.stateStore;
    const appliedAtStart = store.appliedSeq();
    let lastReplayed = snapshotSeq;
    let lastState = appliedAtStart;
    let maxSeq = snapshotSeq;
    let journalTransactions = 0;
    let droppedTailBytes = 0;
    let stateBatch: StateBatch[] = [];
    const journals = this.#listJournals();
    for (const journal of journals) {
      const fd = openSync(journal.path, 'r');
      try {
        const magic = Buffer.alloc(MAGIC_BYTES);
        const got = readSync(fd, magic, 0, MAGIC_BYTES, 0);
        if (got < MAGIC_BYTES || !magic.equals(JOURNAL_MAGIC)) {
          // Killed while creating the file, or not ours: nothing in it can be trusted.
          const size = fstatSync(fd).size;
          droppedTailBytes += size;
          if (size > 0) replayer.warnings.push(`journal ${journal.path} has no valid header; ignored`);
          continue;
        }
        const reader = new FrameReader(fd, MAGIC_BYTES);
        for (let payload = reader.next(); payload !== undefined; payload = reader.next()) {
          const seq = payloadSeq(payload);
          if (seq > maxSeq) maxSeq = seq;
          const replayRecords = seq > lastReplayed;
          const replayState = seq > lastState;
          if (!replayRecords && !replayState) continue;
          let ops: ReplayOp[];
          try {
            ops = decodeRecords(payload, SEQ_BYTES);
          } catch (error) {
            replayer.skippedRecords++;
            replayer.warnings.push(`transaction ${seq} in ${journal.path} skipped: ${String(error)}`);
            continue;
          }
          if (replayState) {
            const changes: Array<StateBatch['changes'][number]> = [];
            for (const op of ops) if (op.t === 'state') changes.push({ componentId: op.componentId, ops: op.ops });
            if (changes.length > 0) stateBatch.push({ seq, changes });
            lastState = seq;
            if (stateBatch.length >= STATE_REPLAY_BATCH) {
              this.#applyReplayedState(stateBatch);
              stateBatch = [];
            }
          }
          if (replayRecords) {
            replayer.apply(seq, ops);
            lastReplayed = seq;
            journalTransactions++;
          }
        }
        if (reader.droppedBytes > 0) {
          droppedTailBytes += reader.droppedBytes;
          replayer.warnings.push(`journal ${journal.path}: ${reader.problem}; ${reader.droppedBytes} bytes dropped`);
        }
      } finally {
        closeSync(fd);
      }
    }
    this.#applyReplayedState(stateBatch);
    const { queues, swaps } = replayer.result();

    // Swap files no replay can need: written but never journaled, or released before the snapshot.
    for (const name of readdirSync(this.#swapDir)) {
      if (!name.endsWith('.swap')) continue;
      if (replayer.mentionedSwapFiles.has(name)) this.#swapFiles.add(name);
      else rmSync(join(this.#swapDir, name), { force: true });
    }
    this.#releasedSwaps = replayer.releasedSwaps;

    this.#seq = Math.max(maxSeq, snapshotSeq, store.appliedSeq());
    this.#lastCheckpointSeq = journals.length === 0 ? this.#seq : -1;
    this.#journals = journals;
    const lastNumber = journals.at(-1)?.number ?? 0;
    this.#openJournal(Math.max(this.#seq + 1, lastNumber + 1));
    this.#recovered = true;
    this.#checkpointTimer = setInterval(() => this.#backgroundCheckpoint(true), this.#checkpointIntervalMs);
    this.#checkpointTimer.unref();

    return {
      queues,
      swaps,
      report: {
        snapshotRecords,
        journalTransactions,
        droppedTailBytes,
        durationMs: performance.now() - started,
        skippedRecords: replayer.skippedRecords,
        warnings: replayer.warnings,
      },
    };
  }

  /**
   * @throws {Error} before {@link recover}, after {@link close}, after a failed fsync, or (TypeError)
   *   when a state op has a malformed key; nothing of the transaction is recorded then.
   */
  commit(records: readonly RepositoryRecord[]): Promise<void> {
    // The group this transaction joins, even if an early flush writes it within #append.
    const group = this.#group;
    this.#append(records);
    if (group.deferred === undefined) group.deferred = new Deferred();
    return group.deferred.promise;
  }

  /** @throws {Error} like {@link commit}. */
  commitNoWait(records: readonly RepositoryRecord[]): void {
    this.#append(records);
  }

  encodeFlowFiles(flowFiles: readonly FlowFileRecord[]): Uint8Array[] {
    return this.#encoder.encodeFlowFiles(flowFiles);
  }

  afterDurable(callback: () => void): void {
    this.#group.callbacks.push(callback);
    this.#schedule();
  }

  /** @throws {Error} before {@link recover}, or when the file cannot be written (nothing is left behind). */
  writeSwapFile(queueId: string, flowFiles: readonly FlowFileRecord[]): SwapRef {
    this.#assertOpen();
    const file = `${uuidv7()}.swap`;
    const path = join(this.#swapDir, file);
    const data = encodeSwapFile(queueId, flowFiles);
    const fd = openSync(path, 'wx');
    try {
      writeFully(fd, data, 0);
      if (this.#power) fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw error;
    }
    closeSync(fd);
    if (this.#power) syncDirectory(this.#swapDir);
    this.#swapFiles.add(file);
    return describeSwap(file, queueId, flowFiles);
  }

  readSwapFile(swap: SwapRef): FlowFileRecord[] {
    if (!isSwapFileName(swap.file)) throw new Error(`invalid swap file name ${JSON.stringify(swap.file)}`);
    const path = join(this.#swapDir, swap.file);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (error) {
      throw new Error(`swap file ${path} cannot be read: ${String(error)}`, { cause: error });
    }
    return decodeSwapFile(path, data, swap);
  }

  /**
   * Writes a checkpoint now (after any running one). Safe to kill at any point: until the new
   * snapshot is renamed into place the previous one and all journals are kept.
   * @throws {Error} before {@link recover} or when the snapshot cannot be written.
   */
  checkpoint(): Promise<void> {
    if (!this.#recovered) return Promise.reject(new Error('FlowFile repository: checkpoint() before recover()'));
    this.#checkpointsInFlight++;
    const run = this.#checkpointChain
      .catch(() => {})
      .then(() => this.#checkpoint())
      .finally(() => {
        this.#checkpointsInFlight--;
      });
    this.#checkpointChain = run;
    return run;
  }

  /** Flushes, writes a last checkpoint, closes files. The state store stays open (the caller owns it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (!this.#recovered) {
      this.#closed = true;
      return;
    }
    clearInterval(this.#checkpointTimer);
    try {
      if (this.#fatal === undefined) {
        await this.checkpoint();
        await this.#waitDurable();
      }
    } finally {
      this.#closed = true;
      clearTimeout(this.#retryTimer);
      for (const fd of this.#retiredFds) closeSync(fd);
      this.#retiredFds = [];
      if (this.#fd >= 0) closeSync(this.#fd);
      this.#fd = -1;
    }
  }

  stats(): { journalBytes: number; swapFiles: number; lastCheckpointMs: number; lastCheckpointAt: number; transactions: number } {
    return {
      journalBytes: this.#journalSize,
      swapFiles: this.#swapFiles.size,
      lastCheckpointMs: this.#lastCheckpointMs,
      lastCheckpointAt: this.#lastCheckpointAt,
      transactions: this.#transactions,
    };
  }

  // ---- commit and group flush ----

  #assertOpen(): void {
    if (!this.#recovered) throw new Error('FlowFile repository: recover() must be called first');
    if (this.#closed) throw new Error('FlowFile repository is closed');
    if (this.#fatal !== undefined) {
      throw new Error(`FlowFile repository failed and accepts no commits: ${this.#fatal.message}`, { cause: this.#fatal });
    }
  }

  #append(records: readonly RepositoryRecord[]): void {
    this.#assertOpen();
    if (records.length === 0) {
      this.#schedule();
      return;
    }
    const seq = this.#seq + 1;
    const changes = stateChanges(records);
    const pending = this.#pending;
    // Encoding (over-long ids) and staging (malformed state keys) may throw: then nothing is recorded.
    pending.beginFrame(seq);
    try {
      this.#encoder.encode(pending, records);
      if (changes !== undefined) this.#options.stateStore.stage(seq, changes);
    } catch (error) {
      pending.abortFrame();
      throw error;
    }
    pending.endFrame();
    this.#seq = seq;
    this.#transactions++;
    for (const r of records) {
      if (r.type === 'swap-in' || r.type === 'swap-drop') this.#releasedSwaps.push({ file: r.swap.file, seq });
    }
    const group = this.#group;
    group.lastSeq = seq;
    group.frames = true;
    if (changes !== undefined) group.state.push({ seq, changes });
    if (this.#pending.byteLength >= FLUSH_BYTES) this.#flushEarly();
    else this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing || this.#retryTimer !== undefined) return;
    this.#scheduled = true;
    setImmediate(this.#onTick);
  }

  readonly #onTick = (): void => {
    this.#scheduled = false;
    if (this.#fd < 0) return;
    if (this.#power) {
      if (!this.#flushing) void this.#powerFlush();
      return;
    }
    const group = this.#writeGroup();
    if (group !== undefined) this.#written.push(group);
    this.#completeWritten();
  };

  /** Pending frames passed FLUSH_BYTES: write them now so memory stays bounded. */
  #flushEarly(): void {
    if (this.#retryTimer !== undefined) return;
    if (this.#power) {
      // The write happens synchronously, before powerFlush's first await.
      if (!this.#flushing) void this.#powerFlush();
      return;
    }
    const group = this.#writeGroup();
    if (group !== undefined) this.#written.push(group);
    // Completion (state, promises, callbacks) stays on the tick: never re-enter the caller.
    this.#schedule();
  }

  #completeWritten(): void {
    for (let group = this.#written.shift(); group !== undefined; group = this.#written.shift()) this.#complete(group);
  }

  async #powerFlush(): Promise<void> {
    this.#flushing = true;
    let inFlight: Group | undefined;
    try {
      while (this.#fatal === undefined) {
        const next = this.#group;
        if (!next.frames && next.callbacks.length === 0 && next.waiters.length === 0 && next.deferred === undefined) break;
        inFlight = this.#writeGroup();
        if (inFlight === undefined) break;
        // The journal just written (writeGroup may have started a new one); a checkpoint may
        // rotate again while we wait, but this descriptor stays open until the group is durable.
        const fd = this.#fd;
        if (inFlight.frames) {
          await this.#options.flushHooks?.beforeSync?.();
          await fdatasyncAsync(fd);
        }
        const group = inFlight;
        inFlight = undefined;
        this.#complete(group);
      }
    } catch (error) {
      this.#fail(toError(error), inFlight);
    } finally {
      this.#flushing = false;
    }
    // Commits made while the last completion ran callbacks.
    const rest = this.#group;
    if (this.#fatal === undefined && (rest.frames || rest.callbacks.length > 0 || rest.waiters.length > 0)) this.#schedule();
  }

  /**
   * Writes the pending group's frames with one write (after `beforeWrite`) and starts a new group.
   * On failure the frames stay pending, torn bytes are cut off, and a retry is scheduled.
   */
  #writeGroup(): Group | undefined {
    const group = this.#group;
    if (group.frames) {
      // A failed write is retried by its timer only.
      if (this.#retryTimer !== undefined) return undefined;
      try {
        if (this.#needsNewJournal) this.#rotateJournal();
        this.#options.flushHooks?.beforeWrite?.();
        const data = this.#pending.view();
        writeFully(this.#fd, data, this.#journalSize);
        this.#journalSize += data.length;
      } catch (error) {
        this.#writeFailed(toError(error));
        return undefined;
      }
      try {
        this.#options.flushHooks?.afterWrite?.();
      } catch (error) {
        this.#report(toError(error));
      }
      this.#pending.reset();
    }
    this.#group = newGroup();
    return group;
  }

  #writeFailed(error: Error): void {
    try {
      ftruncateSync(this.#fd, this.#journalSize);
    } catch {
      // Torn bytes would hide every later frame of this journal from replay: start a new one.
      this.#needsNewJournal = true;
    }
    this.#report(new Error(`FlowFile repository: journal write failed, retrying: ${error.message}`, { cause: error }));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#onTick();
    }, WRITE_RETRY_MS);
  }

  /** The group is durable: apply its state, resolve its commits, run its callbacks. */
  #complete(group: Group): void {
    if (group.state.length > 0 || this.#stateBacklog.length > 0) this.#applyState(group.state);
    group.deferred?.resolve();
    for (const waiter of group.waiters) waiter.resolve();
    // Queued after the resolution's reactions, so code awaiting the commit runs first.
    if (group.callbacks.length > 0) queueMicrotask(() => this.#runCallbacks(group.callbacks));
    if (this.#journalSize >= this.#checkpointJournalBytes) this.#backgroundCheckpoint(false);
  }

  #runCallbacks(callbacks: ReadonlyArray<() => void>): void {
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        this.#report(toError(error));
      }
    }
  }

  #applyState(batch: readonly StateBatch[]): void {
    const store = this.#options.stateStore;
    const applied = store.appliedSeq();
    const items = [...this.#stateBacklog, ...batch].filter((item) => item.seq > applied);
    this.#stateBacklog = [];
    if (items.length === 0) return;
    try {
      if (store.applyBatch !== undefined) store.applyBatch(items);
      else for (const item of items) if (item.seq > store.appliedSeq()) store.apply(item.seq, item.changes);
    } catch (error) {
      this.#stateBacklog = items;
      this.#report(new Error(`FlowFile repository: state store apply failed: ${toError(error).message}`, { cause: error }));
    }
  }

  #applyReplayedState(batch: readonly StateBatch[]): void {
    if (batch.length === 0) return;
    const store = this.#options.stateStore;
    if (store.applyBatch !== undefined) store.applyBatch(batch);
    else for (const item of batch) if (item.seq > store.appliedSeq()) store.apply(item.seq, item.changes);
  }

  #fail(error: Error, inFlight: Group | undefined): void {
    this.#fatal = error;
    const failure = new Error(`FlowFile repository: sync failed, commits are not durable: ${error.message}`, { cause: error });
    this.#report(failure);
    const failed = inFlight === undefined ? [...this.#written, this.#group] : [inFlight, ...this.#written, this.#group];
    for (const group of failed) {
      group.deferred?.reject(failure);
      for (const waiter of group.waiters) waiter.reject(failure);
    }
    this.#written = [];
    this.#group = newGroup();
  }

  #report(error: Error): void {
    this.#options.onError?.(error);
  }

  /** Resolves once everything committed so far is durable; rejects if that can no longer happen. */
  #waitDurable(): Promise<void> {
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
    const waiter = new Deferred();
    this.#group.waiters.push(waiter);
    this.#schedule();
    return waiter.promise;
  }

  // ---- journals ----

  #listJournals(): JournalFile[] {
    const out: JournalFile[] = [];
    for (const name of readdirSync(this.#journalDir)) {
      const match = JOURNAL_NAME.exec(name);
      if (match?.[1] !== undefined) out.push({ number: Number(match[1]), path: join(this.#journalDir, name) });
    }
    return out.sort((a, b) => a.number - b.number);
  }

  /** Creates journal `number` and makes it current; the previous descriptor is retired, not closed. */
  #openJournal(number: number): void {
    const path = join(this.#journalDir, `${number}.journal`);
    const fd = openSync(path, 'wx');
    try {
      writeFully(fd, JOURNAL_MAGIC, 0);
      if (this.#power) syncDirectory(this.#journalDir);
    } catch (error) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw error;
    }
    if (this.#fd >= 0) this.#retiredFds.push(this.#fd);
    this.#fd = fd;
    this.#journalNumber = number;
    this.#journalSize = JOURNAL_MAGIC.length;
    this.#journals.push({ number, path });
    this.#needsNewJournal = false;
  }

  #rotateJournal(): void {
    this.#openJournal(Math.max(this.#seq + 1, this.#journalNumber + 1));
  }

  // ---- checkpoints ----

  #backgroundCheckpoint(timer: boolean): void {
    if (this.#checkpointsInFlight > 0 || this.#closed || this.#fatal !== undefined) return;
    // Nothing changed since the last one: keep the disk quiet.
    if (timer && this.#seq === this.#lastCheckpointSeq) return;
    this.checkpoint().catch((error: unknown) => {
      this.#report(new Error(`FlowFile repository checkpoint failed: ${toError(error).message}`, { cause: error }));
    });
  }

  async #checkpoint(): Promise<void> {
    if (this.#closed) throw new Error('FlowFile repository is closed');
    const started = performance.now();
    // (1) Get what is pending into the journal, so the old journals are complete.
    await this.#waitDurable();

    // (2) Synchronously: capture every queue and rotate, so the snapshot holds exactly the
    // transactions up to `covered`. Frames still pending land in the new journal; replay skips
    // their records by seq but they still carry state changes for the state store.
    const covered = this.#seq;
    const queues: CapturedQueue[] = [];
    for (const q of this.#options.snapshot()) {
      queues.push({ queueId: q.queueId, flowFiles: Array.from(q.flowFiles), swaps: [...q.swaps] });
    }
    const oldJournals = this.#journals.slice();
    this.#rotateJournal();

    // (3) Write snapshot.partial, fsync, rename over snapshot, fsync the directory.
    try {
      await writeSnapshot(this.#partialPath, this.#snapshotPath, this.#options.directory, covered, queues);
    } catch (error) {
      rmSync(this.#partialPath, { force: true });
      throw error;
    }

    // (4) State changes up to `covered` applied, then made durable, before their journals go.
    await this.#waitDurable();
    if (this.#stateBacklog.length > 0) throw new Error('state store has changes it failed to apply; journals kept');
    this.#options.stateStore.sync();
    for (const fd of this.#retiredFds) closeSync(fd);
    this.#retiredFds = [];

    // (5) Old journals, then swap files released before the rotation point.
    for (const journal of oldJournals) rmSync(journal.path, { force: true });
    this.#journals = this.#journals.filter((j) => !oldJournals.includes(j));
    const keep: Array<{ file: string; seq: number }> = [];
    for (const released of this.#releasedSwaps) {
      if (released.seq > covered) {
        keep.push(released);
        continue;
      }
      rmSync(join(this.#swapDir, released.file), { force: true });
      this.#swapFiles.delete(released.file);
    }
    this.#releasedSwaps = keep;

    this.#lastCheckpointSeq = covered;
    this.#lastCheckpointMs = performance.now() - started;
    this.#lastCheckpointAt = Date.now();
  }
}
