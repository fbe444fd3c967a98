import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { uuidv7 } from '../flowfile/uuid.ts';
import { stateChanges } from './record-codec.ts';
import { describeSwap } from './swap-file.ts';
import type { FlowFileRepository, RecoveredState, RepositoryRecord, StateBatch, StateStore, SwapRef } from './types.ts';

/** Options of {@link VolatileFlowFileRepository}. */
export interface VolatileFlowFileRepositoryOptions {
  /** Receives state changes as the durable repository would hand them over (none if omitted). */
  readonly stateStore?: StateStore;
  /** `beforeWrite` runs where the durable repository would write its journal (once per group). */
  readonly flushHooks?: { beforeWrite?(): void; afterWrite?(): void; beforeSync?(): Promise<void> };
  /** Receives what a hook, the state store or an `afterDurable` callback threw. */
  readonly onError?: (error: Error) => void;
}

interface Group {
  transactions: number;
  resolve: (() => void) | undefined;
  promise: Promise<void> | undefined;
  state: StateBatch[];
  callbacks: Array<() => void>;
}

function newGroup(): Group {
  return { transactions: 0, resolve: undefined, promise: undefined, state: [], callbacks: [] };
}

/**
 * A FlowFile repository that keeps nothing on disk (NiFi's VolatileFlowFileRepository): commits
 * resolve at the next turn of the event loop (setImmediate, one promise per group, like the
 * durable repository's group commit), swap files are held in memory, and {@link recover} finds
 * nothing. For tests of other modules and for benchmarking the engine with repositories off.
 */
export class VolatileFlowFileRepository implements FlowFileRepository {
  readonly #options: VolatileFlowFileRepositoryOptions;
  readonly #swaps = new Map<string, { queueId: string; flowFiles: readonly FlowFileRecord[] }>();
  #group: Group = newGroup();
  #scheduled = false;
  #seq = 0;
  #transactions = 0;
  #closed = false;

  constructor(options: VolatileFlowFileRepositoryOptions = {}) {
    this.#options = options;
  }

  async recover(): Promise<RecoveredState> {
    this.#seq = this.#options.stateStore?.appliedSeq() ?? 0;
    return {
      queues: new Map(),
      swaps: new Map(),
      report: { snapshotRecords: 0, journalTransactions: 0, droppedTailBytes: 0, durationMs: 0, skippedRecords: 0, warnings: [] },
    };
  }

  /** @throws {Error} after {@link close}; (TypeError) when a state op has a malformed key. */
  commit(records: readonly RepositoryRecord[]): Promise<void> {
    const group = this.#group;
    this.#append(records);
    if (group.promise === undefined) {
      group.promise = new Promise<void>((resolve) => {
        group.resolve = resolve;
      });
    }
    return group.promise;
  }

  /** @throws {Error} like {@link commit}. */
  commitNoWait(records: readonly RepositoryRecord[]): void {
    this.#append(records);
  }

  afterDurable(callback: () => void): void {
    this.#group.callbacks.push(callback);
    this.#schedule();
  }

  writeSwapFile(queueId: string, flowFiles: readonly FlowFileRecord[]): SwapRef {
    const file = `${uuidv7()}.swap`;
    this.#swaps.set(file, { queueId, flowFiles: flowFiles.slice() });
    return describeSwap(file, queueId, flowFiles);
  }

  /** @throws {Error} naming the swap file when it is unknown (dropped or swapped in). */
  readSwapFile(swap: SwapRef): FlowFileRecord[] {
    const held = this.#swaps.get(swap.file);
    if (held === undefined) throw new Error(`swap file ${swap.file} is missing`);
    return held.flowFiles.slice();
  }

  async checkpoint(): Promise<void> {}

  async close(): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => this.afterDurable(resolve));
    this.#closed = true;
  }

  stats(): { journalBytes: number; swapFiles: number; lastCheckpointMs: number; lastCheckpointAt: number; transactions: number } {
    return {
      journalBytes: 0,
      swapFiles: this.#swaps.size,
      lastCheckpointMs: 0,
      lastCheckpointAt: 0,
      transactions: this.#transactions,
    };
  }

  #append(records: readonly RepositoryRecord[]): void {
    if (this.#closed) throw new Error('FlowFile repository is closed');
    if (records.length > 0) {
      const seq = this.#seq + 1;
      const changes = stateChanges(records);
      if (changes !== undefined) {
        this.#options.stateStore?.stage(seq, changes);
        this.#group.state.push({ seq, changes });
      }
      this.#seq = seq;
      this.#transactions++;
      this.#group.transactions++;
      // A swapped-in or dropped batch is gone for good: nothing can replay it.
      for (const r of records) if (r.type === 'swap-in' || r.type === 'swap-drop') this.#swaps.delete(r.swap.file);
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const group = this.#group;
    this.#group = newGroup();
    if (group.transactions > 0) {
      this.#guard(() => this.#options.flushHooks?.beforeWrite?.());
      this.#guard(() => this.#options.flushHooks?.afterWrite?.());
    }
    const store = this.#options.stateStore;
    if (store !== undefined && group.state.length > 0) {
      this.#guard(() => {
        if (store.applyBatch !== undefined) store.applyBatch(group.state);
        else for (const item of group.state) store.apply(item.seq, item.changes);
      });
    }
    group.resolve?.();
    if (group.callbacks.length > 0) {
      // Queued after the resolution's reactions, so code awaiting the commit runs first.
      queueMicrotask(() => {
        for (const callback of group.callbacks) this.#guard(callback);
      });
    }
  };

  #guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
