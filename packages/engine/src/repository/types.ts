import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';

/** A batch of queued FlowFiles written to disk so memory stays flat whatever the backlog. */
export interface SwapRef {
  /** File name inside `<dataDir>/flowfile-repository/swap/`. */
  readonly file: string;
  readonly queueId: string;
  readonly count: number;
  readonly bytes: number;
  /** Claimant counts of the content these FlowFiles reference: [resourceId, count]. */
  readonly resourceCounts: readonly (readonly [string, number])[];
}

/** One change to a component's key-value state. */
export type StateOp =
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'clear' };

/** The state changes of one transaction (`seq`), as {@link StateStore.applyBatch} receives them. */
export interface StateBatch {
  readonly seq: number;
  readonly changes: readonly { componentId: string; ops: readonly StateOp[] }[];
}

/**
 * One change recorded by the FlowFile repository. A session commit is a list of these, written as
 * one transaction: after a crash either all of it is recovered or none of it.
 */
export type RepositoryRecord =
  /**
   * The FlowFile now sits in `queueId` (created, moved, or changed). With `full: false` only the
   * queue changed since the last record of this FlowFile, and the record omits attributes and content.
   */
  | {
      readonly type: 'put';
      readonly queueId: string;
      readonly flowFile: FlowFileRecord;
      readonly full: boolean;
      /** The FlowFile as {@link FlowFileRepository.encodeFlowFiles} encoded it ahead of the commit (full puts). */
      readonly encoded?: Uint8Array | undefined;
    }
  /** The FlowFile's life ended (dropped, expired, sent away). */
  | { readonly type: 'delete'; readonly uuid: string }
  /** These FlowFiles left memory for a swap file; recovery finds them through `swap`. */
  | { readonly type: 'swap-out'; readonly swap: SwapRef; readonly uuids: readonly string[] }
  /** The swap file's FlowFiles are back in memory, in `swap.queueId`. */
  | { readonly type: 'swap-in'; readonly swap: SwapRef }
  /** A swap file's FlowFiles were dropped without being read back (queue emptied). */
  | { readonly type: 'swap-drop'; readonly swap: SwapRef }
  /** State of one component changed; applied to the state store once this transaction is durable. */
  | { readonly type: 'state'; readonly componentId: string; readonly ops: readonly StateOp[] };

/** What recovery found: every committed FlowFile in its queue, in commit order. */
export interface RecoveredState {
  readonly queues: ReadonlyMap<string, readonly FlowFileRecord[]>;
  readonly swaps: ReadonlyMap<string, readonly SwapRef[]>;
  /** Transactions replayed from journals, torn or corrupt tail frames dropped, and the time taken. */
  readonly report: {
    readonly snapshotRecords: number;
    readonly journalTransactions: number;
    readonly droppedTailBytes: number;
    readonly durationMs: number;
    /**
     * Records that could not be placed: a partial put of an unknown FlowFile, a malformed record in
     * a CRC-valid frame, FlowFiles of an unreadable swap file. Optional so hand-built states omit it.
     */
    readonly skippedRecords?: number;
    /** What recovery could not restore and why, for a bulletin (empty when all went well). */
    readonly warnings?: readonly string[];
  };
}

/** The committed state of one queue, as a checkpoint writes it. */
export interface QueueSnapshot {
  readonly queueId: string;
  /** Every committed FlowFile of the queue held in memory (queued or taken by a running session). */
  readonly flowFiles: Iterable<FlowFileRecord>;
  readonly swaps: readonly SwapRef[];
}

/** Options of the FlowFile repository. Defaults in parentheses. */
export interface FlowFileRepositoryOptions {
  /** `<dataDir>/flowfile-repository`. */
  readonly directory: string;
  /** `process`: data is in the OS before a commit resolves (survives kill -9); `power`: fsynced too. */
  readonly durability: 'process' | 'power';
  /** Checkpoint at least this often, in ms (20 s, as NiFi). */
  readonly checkpointIntervalMs?: number;
  /** Checkpoint early when the journal grows past this many bytes (64 MiB). */
  readonly checkpointJournalBytes?: number;
  /** Gives the committed state of every queue at the instant it is called (synchronously). */
  readonly snapshot: () => Iterable<QueueSnapshot>;
  /** Receives state changes once their transaction is durable, and again during recovery replay. */
  readonly stateStore: StateStore;
  /**
   * Group-commit hooks. `beforeWrite` runs synchronously right before a group's journal write and
   * `afterWrite` right after it succeeds (the engine writes the provenance journal there: a crash
   * between the two can lose the events of a commit, never invent events for a commit that did not
   * happen); `beforeSync` runs before the fsync in `power` mode (content and provenance fsynced).
   */
  readonly flushHooks?: { beforeWrite?(): void; afterWrite?(): void; beforeSync?(): Promise<void> };
  /**
   * Background failures nobody awaits: a timer-driven checkpoint that failed, a journal write that
   * failed and is being retried (commits then wait), a state store apply or `afterDurable` callback
   * that threw, an fsync that failed (the repository then refuses further commits).
   */
  readonly onError?: (error: Error) => void;
}

/**
 * The FlowFile repository: a write-ahead journal of session commits with group commit, periodic
 * checkpoints and swap files. Every frame is length-prefixed with a CRC32; recovery stops at the
 * first torn or corrupt frame and drops the rest of that journal.
 */
export interface FlowFileRepository {
  /** Loads the last checkpoint and replays the journal. Call once, before any commit. */
  recover(): Promise<RecoveredState>;
  /**
   * Records one transaction. Encoding happens now, synchronously; the returned promise resolves
   * when the transaction is durable (the write of its group, plus fsync in `power` mode).
   * Transactions become durable in the order they were committed.
   */
  commit(records: readonly RepositoryRecord[]): Promise<void>;
  /** Like {@link commit} without a promise: for commits nobody waits on (the hot path). */
  commitNoWait(records: readonly RepositoryRecord[]): void;
  /**
   * Encodes FlowFiles ahead of a commit, in the order given, for `encoded` of their full puts. Only
   * repositories that encode offer it: a session of tens of thousands of FlowFiles encodes them in
   * slices, letting the event loop run in between, and the commit itself then only copies bytes.
   * @throws {TypeError} when an id is too long to encode (the commit would refuse it too).
   */
  encodeFlowFiles?(flowFiles: readonly FlowFileRecord[]): Uint8Array[];
  /** Registers a callback for when everything committed so far is durable (used to release content). */
  afterDurable(callback: () => void): void;
  /** Writes FlowFiles to a new swap file (synchronously) and returns its reference. */
  writeSwapFile(queueId: string, flowFiles: readonly FlowFileRecord[]): SwapRef;
  /** Reads a swap file back (synchronously). @throws {Error} naming the file if it is missing or corrupt. */
  readSwapFile(swap: SwapRef): FlowFileRecord[];
  /** Writes a checkpoint now and truncates the journal. */
  checkpoint(): Promise<void>;
  /** Flushes what is pending, writes a last checkpoint and closes files. */
  close(): Promise<void>;
  /**
   * `journalBytes`: size of the current journal; `swapFiles`: swap files on disk (or in memory);
   * `lastCheckpointMs`: how long the last checkpoint took; `lastCheckpointAt`: when it finished
   * (epoch ms, 0 = none yet); `transactions`: commits since the repository was opened.
   */
  stats(): {
    journalBytes: number;
    swapFiles: number;
    lastCheckpointMs: number;
    lastCheckpointAt: number;
    transactions: number;
  };
}

/**
 * Per-component key-value state, durable and scalable to millions of keys (range scans by key).
 * Changes arrive twice: {@link StateStore.stage} when a session commits (reads see them at once) and
 * {@link StateStore.apply} once that commit is durable in the journal (they are then persisted).
 */
export interface StateStore {
  /** Makes a committed transaction's changes visible to reads before it is durable. */
  stage(seq: number, changes: readonly { componentId: string; ops: readonly StateOp[] }[]): void;
  get(componentId: string, key: string): string | undefined;
  scan(
    componentId: string,
    options?: { prefix?: string; start?: string; end?: string; limit?: number; reverse?: boolean },
  ): Array<[string, string]>;
  count(componentId: string): number;
  /** Applies the state changes of one durable transaction; `seq` increases with each call. */
  apply(seq: number, changes: readonly { componentId: string; ops: readonly StateOp[] }[]): void;
  /**
   * Applies several durable transactions at once, in order, atomically (one database transaction);
   * the FlowFile repository prefers it to {@link StateStore.apply} for a commit group.
   */
  applyBatch?(batch: readonly StateBatch[]): void;
  /** The highest transaction sequence applied (recovery replays only later ones). */
  appliedSeq(): number;
  /** Makes applied changes durable against power loss (called before a checkpoint drops journals). */
  sync(): void;
  close(): void;
}
