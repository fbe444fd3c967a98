import type { StateBatch } from '../repository/types.ts';
import { compareKeys } from './key-order.ts';
import { OverlayStateStore } from './overlay-state-store.ts';

interface ComponentState {
  values: Map<string, string>;
  /** Keys in key order, rebuilt on demand after a key was added or removed. */
  sorted: string[] | undefined;
}

/**
 * State held in memory only: the same staging and scan semantics as {@link SqliteStateStore}, lost
 * on restart. For tests and for running with repositories off. Scans sort keys on demand (cached
 * until a key is added or removed).
 */
export class MemoryStateStore extends OverlayStateStore {
  readonly #components = new Map<string, ComponentState>();
  #appliedSeq = 0;

  appliedSeq(): number {
    return this.#appliedSeq;
  }

  sync(): void {}

  close(): void {}

  protected baseGet(componentId: string, key: string): string | undefined {
    return this.#components.get(componentId)?.values.get(key);
  }

  protected baseCount(componentId: string): number {
    return this.#components.get(componentId)?.values.size ?? 0;
  }

  protected *baseRange(
    componentId: string,
    lower: string | undefined,
    upper: string | undefined,
    reverse: boolean,
    limit: number | undefined,
  ): Iterable<readonly [string, string]> {
    const state = this.#components.get(componentId);
    if (state === undefined) return;
    if (state.sorted === undefined) state.sorted = Array.from(state.values.keys()).sort(compareKeys);
    const keys = state.sorted;
    const from = lower === undefined ? 0 : lowerBound(keys, lower);
    const to = upper === undefined ? keys.length : lowerBound(keys, upper);
    const max = limit ?? Number.POSITIVE_INFINITY;
    let emitted = 0;
    for (let i = reverse ? to - 1 : from; reverse ? i >= from : i < to; i += reverse ? -1 : 1) {
      if (emitted >= max) return;
      const key = keys[i];
      if (key === undefined) return;
      const value = state.values.get(key);
      if (value === undefined) continue;
      emitted++;
      yield [key, value];
    }
  }

  protected persist(batch: readonly StateBatch[]): void {
    for (const { seq, changes } of batch) {
      for (const { componentId, ops } of changes) {
        let state = this.#components.get(componentId);
        for (const op of ops) {
          if (op.op === 'clear') {
            this.#components.delete(componentId);
            state = undefined;
            continue;
          }
          if (state === undefined) {
            if (op.op === 'delete') continue;
            state = { values: new Map(), sorted: undefined };
            this.#components.set(componentId, state);
          }
          if (op.op === 'set') {
            if (!state.values.has(op.key)) state.sorted = undefined;
            state.values.set(op.key, op.value);
          } else if (state.values.delete(op.key)) {
            state.sorted = undefined;
          }
        }
      }
      this.#appliedSeq = seq;
    }
  }
}

/** Index of the first key >= target. */
function lowerBound(keys: readonly string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const key = keys[mid];
    if (key !== undefined && compareKeys(key, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
