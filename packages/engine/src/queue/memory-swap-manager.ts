import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import type { SwapRef } from '../repository/types.ts';
import type { SwapManager } from './types.ts';

/**
 * A {@link SwapManager} that keeps swapped batches in memory: for an engine running with
 * repositories off (nothing survives a restart anyway) and for tests. Queues still bound their own
 * structures; the batches simply live here instead of on disk.
 */
export class MemorySwapManager implements SwapManager {
  readonly #files = new Map<string, FlowFileRecord[]>();
  #next = 0;
  #flowFiles = 0;

  /** Batches currently held. */
  get fileCount(): number {
    return this.#files.size;
  }

  /** FlowFiles currently held across all batches. */
  get flowFileCount(): number {
    return this.#flowFiles;
  }

  swapOut(queueId: string, flowFiles: readonly FlowFileRecord[]): SwapRef {
    const batch = flowFiles.slice();
    const file = `${queueId}-${++this.#next}.swap`;
    let bytes = 0;
    const resources = new Map<string, number>();
    for (const ff of batch) {
      bytes += ff.size;
      if (ff.claim !== null) resources.set(ff.claim.resourceId, (resources.get(ff.claim.resourceId) ?? 0) + 1);
    }
    this.#files.set(file, batch);
    this.#flowFiles += batch.length;
    return { file, queueId, count: batch.length, bytes, resourceCounts: [...resources] };
  }

  /** @throws {Error} when the batch is unknown (already swapped in or discarded). */
  swapIn(swap: SwapRef): FlowFileRecord[] {
    const batch = this.#get(swap);
    this.#files.delete(swap.file);
    this.#flowFiles -= batch.length;
    return batch;
  }

  /** @throws {Error} when the batch is unknown. */
  peek(swap: SwapRef): FlowFileRecord[] {
    return this.#get(swap).slice();
  }

  /** Forgets the batch; discarding an unknown one does nothing. */
  discard(swap: SwapRef): void {
    const batch = this.#files.get(swap.file);
    if (batch === undefined) return;
    this.#files.delete(swap.file);
    this.#flowFiles -= batch.length;
  }

  #get(swap: SwapRef): FlowFileRecord[] {
    const batch = this.#files.get(swap.file);
    if (batch === undefined) throw new Error(`swap file ${swap.file} of queue ${swap.queueId} not found`);
    return batch;
  }
}
