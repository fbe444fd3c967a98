import type { StateBatch, StateOp, StateStore } from '../repository/types.ts';
import { assertWellFormed, compareKeys, prefixUpperBound } from './key-order.ts';

/** Options of {@link StateStore.scan}. */
export interface ScanOptions {
  prefix?: string;
  start?: string;
  end?: string;
  limit?: number;
  reverse?: boolean;
}

type Changes = StateBatch['changes'];

interface StagedEntry {
  seq: number;
  /** undefined: staged delete. */
  value: string | undefined;
}

/** Staged, not yet applied changes of one component. */
interface ComponentOverlay {
  /** Seq of the latest staged clear not yet applied, 0 if none: base rows are then invisible. */
  clearSeq: number;
  /** Latest staged change per key, newer than `clearSeq`. */
  entries: Map<string, StagedEntry>;
}

/**
 * The staging logic shared by the state stores: {@link StateStore.stage} keeps an in-memory overlay
 * of committed but not yet durable changes that reads merge over the persisted base;
 * {@link StateStore.apply} persists changes and removes the overlay entries it covered (a key staged
 * again by a later transaction keeps its newer entry).
 */
export abstract class OverlayStateStore implements StateStore {
  readonly #overlay = new Map<string, ComponentOverlay>();

  /** The persisted value of a key. */
  protected abstract baseGet(componentId: string, key: string): string | undefined;
  /**
   * Persisted entries with lower <= key < upper (bounds optional), in key order (descending when
   * `reverse`), at most `limit` if given. Iterated lazily when the overlay must be merged in.
   */
  protected abstract baseRange(
    componentId: string,
    lower: string | undefined,
    upper: string | undefined,
    reverse: boolean,
    limit: number | undefined,
  ): Iterable<readonly [string, string]>;
  /** Number of persisted keys of a component. */
  protected abstract baseCount(componentId: string): number;
  /** Persists the batch atomically together with the new applied seq (the last batch's). */
  protected abstract persist(batch: readonly StateBatch[]): void;

  abstract appliedSeq(): number;
  abstract sync(): void;
  abstract close(): void;

  /** @throws {TypeError} when a key or value has a lone surrogate (nothing is staged then). */
  stage(seq: number, changes: Changes): void {
    for (const change of changes) for (const op of change.ops) validateOp(op);
    for (const { componentId, ops } of changes) {
      let overlay = this.#overlay.get(componentId);
      if (overlay === undefined) {
        overlay = { clearSeq: 0, entries: new Map() };
        this.#overlay.set(componentId, overlay);
      }
      for (const op of ops) {
        if (op.op === 'clear') {
          overlay.clearSeq = seq;
          overlay.entries.clear();
        } else {
          overlay.entries.set(op.key, { seq, value: op.op === 'set' ? op.value : undefined });
        }
      }
    }
  }

  apply(seq: number, changes: Changes): void {
    this.applyBatch([{ seq, changes }]);
  }

  /**
   * Persists durable transactions in one go. Transactions at or below {@link appliedSeq} are
   * skipped, so replaying a journal twice is harmless.
   * @throws {TypeError} when a key or value has a lone surrogate.
   */
  applyBatch(batch: readonly StateBatch[]): void {
    let last = this.appliedSeq();
    const fresh: StateBatch[] = [];
    for (const item of batch) {
      if (item.seq <= last) continue;
      for (const change of item.changes) for (const op of change.ops) validateOp(op);
      fresh.push(item);
      last = item.seq;
    }
    if (fresh.length === 0) return;
    this.persist(fresh);
    for (const item of fresh) this.#settle(item);
  }

  get(componentId: string, key: string): string | undefined {
    const overlay = this.#overlay.get(componentId);
    if (overlay !== undefined) {
      const entry = overlay.entries.get(key);
      if (entry !== undefined) return entry.value;
      if (overlay.clearSeq > 0) return undefined;
    }
    return this.baseGet(componentId, key);
  }

  /** @throws {RangeError} when `limit` is negative or not an integer. */
  scan(componentId: string, options: ScanOptions = {}): Array<[string, string]> {
    const { prefix, start, end, limit, reverse = false } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new RangeError(`scan limit ${limit}`);
    if (limit === 0) return [];
    let lower = start;
    let upper = end;
    if (prefix !== undefined && prefix !== '') {
      if (lower === undefined || compareKeys(prefix, lower) > 0) lower = prefix;
      const bound = prefixUpperBound(prefix);
      if (bound !== undefined && (upper === undefined || compareKeys(bound, upper) < 0)) upper = bound;
    }
    if (lower !== undefined && upper !== undefined && compareKeys(lower, upper) >= 0) return [];

    const overlay = this.#overlay.get(componentId);
    if (overlay === undefined) {
      const out: Array<[string, string]> = [];
      for (const [k, v] of this.baseRange(componentId, lower, upper, reverse, limit)) out.push([k, v]);
      return out;
    }
    return this.#mergedScan(componentId, overlay, lower, upper, reverse, limit ?? Number.POSITIVE_INFINITY);
  }

  count(componentId: string): number {
    const overlay = this.#overlay.get(componentId);
    if (overlay === undefined) return this.baseCount(componentId);
    if (overlay.clearSeq > 0) {
      let n = 0;
      for (const entry of overlay.entries.values()) if (entry.value !== undefined) n++;
      return n;
    }
    let n = this.baseCount(componentId);
    for (const [key, entry] of overlay.entries) {
      const persisted = this.baseGet(componentId, key) !== undefined;
      if (entry.value !== undefined && !persisted) n++;
      else if (entry.value === undefined && persisted) n--;
    }
    return n;
  }

  /** Number of components with staged changes not yet applied (for tests and diagnostics). */
  stagedComponents(): number {
    return this.#overlay.size;
  }

  #mergedScan(
    componentId: string,
    overlay: ComponentOverlay,
    lower: string | undefined,
    upper: string | undefined,
    reverse: boolean,
    limit: number,
  ): Array<[string, string]> {
    const staged: string[] = [];
    for (const key of overlay.entries.keys()) {
      if (lower !== undefined && compareKeys(key, lower) < 0) continue;
      if (upper !== undefined && compareKeys(key, upper) >= 0) continue;
      staged.push(key);
    }
    staged.sort(reverse ? (a, b) => compareKeys(b, a) : compareKeys);
    const dir = reverse ? -1 : 1;
    const out: Array<[string, string]> = [];
    let si = 0;
    const base =
      overlay.clearSeq > 0 ? undefined : this.baseRange(componentId, lower, upper, reverse, undefined)[Symbol.iterator]();
    try {
      let next = base?.next();
      while (out.length < limit) {
        const baseRow = next === undefined || next.done === true ? undefined : next.value;
        const stagedKey = staged[si];
        if (baseRow === undefined && stagedKey === undefined) break;
        const order = baseRow === undefined ? 1 : stagedKey === undefined ? -1 : dir * compareKeys(baseRow[0], stagedKey);
        if (order < 0 && baseRow !== undefined) {
          out.push([baseRow[0], baseRow[1]]);
          next = base?.next();
          continue;
        }
        if (stagedKey === undefined) break;
        // The staged entry wins over a persisted row of the same key.
        if (order === 0) next = base?.next();
        si++;
        const value = overlay.entries.get(stagedKey)?.value;
        if (value !== undefined) out.push([stagedKey, value]);
      }
    } finally {
      base?.return?.();
    }
    return out;
  }

  #settle(item: StateBatch): void {
    for (const { componentId, ops } of item.changes) {
      const overlay = this.#overlay.get(componentId);
      if (overlay === undefined) continue;
      for (const op of ops) {
        if (op.op === 'clear') {
          if (overlay.clearSeq !== 0 && overlay.clearSeq <= item.seq) overlay.clearSeq = 0;
        } else {
          const entry = overlay.entries.get(op.key);
          if (entry !== undefined && entry.seq <= item.seq) overlay.entries.delete(op.key);
        }
      }
      if (overlay.clearSeq === 0 && overlay.entries.size === 0) this.#overlay.delete(componentId);
    }
  }
}

function validateOp(op: StateOp): void {
  if (op.op === 'clear') return;
  assertWellFormed(op.key, 'key');
  if (op.op === 'set') assertWellFormed(op.value, 'value');
}
