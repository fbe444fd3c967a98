import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { MemoryStateStore } from '../state/memory-state-store.ts';
import { FileFlowFileRepository } from './file-flowfile-repository.ts';
import type { FlowFileRepositoryOptions, QueueSnapshot, RecoveredState, RepositoryRecord, StateStore, SwapRef } from './types.ts';

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'sluice-repo-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;

/** A typical FlowFile: 5 attributes, a claim in a shared resource. */
export function makeFlowFile(uuid?: string, extra: Record<string, string> = {}): FlowFileRecord {
  const id = uuid ?? `00000000-0000-7000-8000-${(counter++).toString(16).padStart(12, '0')}`;
  const attributes = new Map<string, string>([
    ['uuid', id],
    ['filename', `file-${id.slice(-6)}.txt`],
    ['path', './'],
    ['mime.type', 'text/plain'],
    ['source', 'test'],
    ...Object.entries(extra),
  ]);
  const now = 1_764_131_212_000;
  return new FlowFileRecord(id, attributes, { resourceId: `res-${counter % 7}`, offset: counter * 10, length: 10 }, now, now);
}

/**
 * What the engine's queues would hold, kept by applying the same records the repository journals:
 * the `snapshot` callback for checkpoints, and the expected result of a recovery.
 */
export class Model {
  readonly queues = new Map<string, Map<string, FlowFileRecord>>();
  readonly swaps = new Map<string, SwapRef[]>();

  apply(records: readonly RepositoryRecord[]): void {
    for (const r of records) {
      if (r.type === 'put') {
        this.#remove(r.flowFile.uuid);
        this.#queue(r.queueId).set(r.flowFile.uuid, r.flowFile);
      } else if (r.type === 'delete') {
        this.#remove(r.uuid);
      } else if (r.type === 'swap-out') {
        for (const uuid of r.uuids) this.#remove(uuid);
        this.swaps.set(r.swap.queueId, [...(this.swaps.get(r.swap.queueId) ?? []), r.swap]);
      } else if (r.type === 'swap-in' || r.type === 'swap-drop') {
        this.swaps.set(
          r.swap.queueId,
          (this.swaps.get(r.swap.queueId) ?? []).filter((s) => s.file !== r.swap.file),
        );
      }
    }
  }

  /** Adds swapped-in FlowFiles back (the caller read them). */
  swappedIn(queueId: string, flowFiles: readonly FlowFileRecord[]): void {
    for (const ff of flowFiles) this.#queue(queueId).set(ff.uuid, ff);
  }

  snapshot = (): Iterable<QueueSnapshot> => {
    const out: QueueSnapshot[] = [];
    const ids = new Set([...this.queues.keys(), ...this.swaps.keys()]);
    for (const queueId of ids) {
      out.push({ queueId, flowFiles: this.queues.get(queueId)?.values() ?? [], swaps: this.swaps.get(queueId) ?? [] });
    }
    return out;
  };

  /** Queue id -> uuids in order (non-empty queues only). */
  layout(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [q, m] of this.queues) if (m.size > 0) out[q] = [...m.keys()];
    return out;
  }

  #queue(id: string): Map<string, FlowFileRecord> {
    let q = this.queues.get(id);
    if (q === undefined) {
      q = new Map();
      this.queues.set(id, q);
    }
    return q;
  }

  #remove(uuid: string): void {
    for (const q of this.queues.values()) q.delete(uuid);
  }
}

/** Queue id -> uuids of a recovered state. */
export function layoutOf(state: RecoveredState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [q, list] of state.queues) if (list.length > 0) out[q] = list.map((f) => f.uuid);
  return out;
}

/** Opens and recovers a repository over `dir` with a model as its snapshot source. */
export async function openRepo(
  dir: string,
  options: Partial<FlowFileRepositoryOptions> & { model?: Model; stateStore?: StateStore } = {},
): Promise<{ repo: FileFlowFileRepository; state: RecoveredState; model: Model; store: StateStore }> {
  const model = options.model ?? new Model();
  const store = options.stateStore ?? new MemoryStateStore();
  const repo = new FileFlowFileRepository({
    durability: 'process',
    // Tests abandon instances to simulate crashes: their timers must not checkpoint later.
    checkpointIntervalMs: 3_600_000,
    ...options,
    directory: dir,
    snapshot: model.snapshot,
    stateStore: store,
  });
  const state = await repo.recover();
  // As the engine does: the queues now hold what was recovered, and checkpoints snapshot that.
  if (options.model === undefined) {
    for (const [q, list] of state.queues) model.queues.set(q, new Map(list.map((f) => [f.uuid, f])));
    for (const [q, list] of state.swaps) model.swaps.set(q, [...list]);
  }
  return { repo, state, model, store };
}
