import { cpSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../state/memory-state-store.ts';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';
import { FileFlowFileRepository } from './file-flowfile-repository.ts';
import { layoutOf, type Model, makeFlowFile, openRepo, tempDir } from './test-support.test-helper.ts';
import type { RepositoryRecord, StateBatch, StateStore } from './types.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

function journalFiles(d: string): string[] {
  return readdirSync(join(d, 'journals'))
    .filter((f) => f.endsWith('.journal'))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
    .map((f) => join(d, 'journals', f));
}

/** Commits through the repository and the model alike. */
function committer(repo: FileFlowFileRepository, model: Model) {
  return (records: RepositoryRecord[]): Promise<void> => {
    model.apply(records);
    return repo.commit(records);
  };
}

describe('FileFlowFileRepository', () => {
  it('recovers full and partial puts, deletes and moves in commit order', async () => {
    const d = dir();
    const { repo, model, state } = await openRepo(d);
    expect(state.queues.size).toBe(0);
    const commit = committer(repo, model);
    const [a, b, c, e] = [makeFlowFile(), makeFlowFile(), makeFlowFile(), makeFlowFile()];
    await commit([
      { type: 'put', queueId: 'q1', flowFile: a, full: true },
      { type: 'put', queueId: 'q1', flowFile: b, full: true },
      { type: 'put', queueId: 'q1', flowFile: c, full: true },
    ]);
    // b moves to q2 (partial), a is changed in place (full put: goes to the end), c is deleted.
    const a2 = a.with({ attributes: new Map([...a.attributes, ['changed', 'yes']]) });
    await commit([{ type: 'put', queueId: 'q2', flowFile: b, full: false }]);
    await commit([
      { type: 'put', queueId: 'q1', flowFile: a2, full: true },
      { type: 'delete', uuid: c.uuid },
    ]);
    await commit([{ type: 'put', queueId: 'q1', flowFile: e, full: true }]);
    await commit([{ type: 'put', queueId: 'q2', flowFile: e, full: false }]);
    // Crash: no close.
    const again = await openRepo(d);
    expect(layoutOf(again.state)).toEqual(model.layout());
    expect(layoutOf(again.state)).toEqual({ q1: [a.uuid], q2: [b.uuid, e.uuid] });
    const recoveredA = again.state.queues.get('q1')?.[0];
    expect(recoveredA?.getAttribute('changed')).toBe('yes');
    expect(recoveredA?.claim).toEqual(a.claim);
    expect(recoveredA?.entryDate).toBe(a.entryDate);
    expect(again.state.queues.get('q2')?.[0]?.attributes).toEqual(b.attributes);
    expect(again.state.report.journalTransactions).toBe(5);
    expect(again.state.report.droppedTailBytes).toBe(0);
    await again.repo.close();
    await repo.close().catch(() => {});
  });

  it('resolves many commits of one tick in order, runs afterDurable after them, writes once per group', async () => {
    const d = dir();
    let writes = 0;
    const { repo } = await openRepo(d, { flushHooks: { beforeWrite: () => void writes++, beforeSync: async () => {} } });
    const order: string[] = [];
    const promises: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      promises.push(
        repo.commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]).then(() => {
          order.push(`c${i}`);
        }),
      );
      if (i === 99) repo.afterDurable(() => order.push('durable@100'));
    }
    repo.commitNoWait([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]);
    repo.afterDurable(() => order.push('durable@end'));
    await Promise.all(promises);
    await new Promise<void>((resolve) => repo.afterDurable(resolve));
    expect(order.filter((o) => o.startsWith('c'))).toEqual(Array.from({ length: 200 }, (_, i) => `c${i}`));
    // Callbacks run after the group's promises are resolved (their reactions run later, as microtasks).
    expect(order.indexOf('durable@100')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('durable@end')).toBe(order.length - 1);
    expect(writes).toBe(1);
    expect(repo.stats().transactions).toBe(201);
    await repo.close();
  });

  it('writes a group early when it passes 4 MiB, still resolving in order', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    const big = 'x'.repeat(64 * 1024);
    const done: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      const ff = makeFlowFile(undefined, { payload: big });
      all.push(repo.commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]).then(() => void done.push(i)));
    }
    // More than 4 MiB is already in the journal before the tick.
    expect(repo.stats().journalBytes).toBeGreaterThan(4 << 20);
    await Promise.all(all);
    expect(done).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const again = await openRepo(d);
    expect(again.state.queues.get('q')?.length).toBe(100);
    await again.repo.close();
    await repo.close();
  });

  it('power mode: runs beforeSync before resolving and recovers', async () => {
    const d = dir();
    const events: string[] = [];
    let syncing: () => void = () => undefined;
    const firstSync = new Promise<void>((resolve) => {
      syncing = resolve;
    });
    const { repo, model } = await openRepo(d, {
      durability: 'power',
      flushHooks: {
        beforeWrite: () => void events.push('write'),
        beforeSync: async () => {
          events.push('sync');
          syncing();
          await new Promise((r) => setTimeout(r, 5));
        },
      },
    });
    const commit = committer(repo, model);
    const first = commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]).then(
      () => void events.push('c1'),
    );
    // Committed while the first group is being synced: a second group.
    await firstSync;
    const second = commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]).then(
      () => void events.push('c2'),
    );
    await Promise.all([first, second]);
    // One write and one sync per group; each commit resolves after its group's sync.
    expect(events.filter((e) => e === 'write').length).toBe(2);
    expect(events.indexOf('c1')).toBeGreaterThan(events.indexOf('sync'));
    expect(events.indexOf('c2')).toBe(events.length - 1);
    expect(events.lastIndexOf('sync')).toBeGreaterThan(events.lastIndexOf('write'));
    await repo.checkpoint();
    await commit([{ type: 'put', queueId: 'r', flowFile: makeFlowFile(), full: true }]);
    const again = await openRepo(d, { durability: 'power' });
    expect(layoutOf(again.state)).toEqual(model.layout());
    await again.repo.close();
    await repo.close();
  });

  it('checkpoint, more commits, recover; old journals are deleted', async () => {
    const d = dir();
    const { repo, model } = await openRepo(d);
    const commit = committer(repo, model);
    const ffs = Array.from({ length: 50 }, () => makeFlowFile());
    for (const ff of ffs) await commit([{ type: 'put', queueId: 'a', flowFile: ff, full: true }]);
    expect(journalFiles(d).length).toBe(1);
    await repo.checkpoint();
    expect(existsSync(join(d, 'snapshot'))).toBe(true);
    expect(existsSync(join(d, 'snapshot.partial'))).toBe(false);
    expect(journalFiles(d).length).toBe(1);
    expect(repo.stats().lastCheckpointAt).toBeGreaterThan(0);
    for (const ff of ffs.slice(0, 10)) await commit([{ type: 'put', queueId: 'b', flowFile: ff, full: false }]);
    for (const ff of ffs.slice(10, 20)) await commit([{ type: 'delete', uuid: ff.uuid }]);
    const again = await openRepo(d);
    expect(again.state.report.snapshotRecords).toBe(50);
    expect(again.state.report.journalTransactions).toBe(20);
    expect(layoutOf(again.state)).toEqual(model.layout());
    await again.repo.close();
    // close() checkpointed: nothing to replay.
    const third = await openRepo(d);
    expect(third.state.report.journalTransactions).toBe(0);
    expect(layoutOf(third.state)).toEqual(model.layout());
    await third.repo.close();
    await repo.close().catch(() => {});
  });

  it('checkpoints by itself when the journal grows past checkpointJournalBytes', async () => {
    const d = dir();
    const { repo, model } = await openRepo(d, { checkpointJournalBytes: 16 * 1024 });
    const commit = committer(repo, model);
    for (let i = 0; i < 200; i++) await commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]);
    // The checkpoint runs in the background: wait for it (bounded) rather than a fixed time.
    for (let waited = 0; repo.stats().lastCheckpointAt === 0 && waited < 5000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(repo.stats().lastCheckpointAt).toBeGreaterThan(0);
    expect(repo.stats().journalBytes).toBeLessThan(64 * 1024);
    // One repository per directory at a time (the engine holds a lock): closed before reopening.
    await repo.close();
    const again = await openRepo(d);
    expect(layoutOf(again.state)).toEqual(model.layout());
    await again.repo.close();
  });

  it('recovers when killed mid-checkpoint: partial snapshot left behind', async () => {
    const d = dir();
    const { repo, model } = await openRepo(d);
    const commit = committer(repo, model);
    for (let i = 0; i < 20; i++) await commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]);
    await repo.checkpoint();
    for (let i = 0; i < 20; i++) await commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]);
    // The next checkpoint died while writing: a torn partial snapshot, the old snapshot and journals.
    const snapshot = readFileSync(join(d, 'snapshot'));
    writeFileSync(join(d, 'snapshot.partial'), snapshot.subarray(0, snapshot.length - 7));
    const again = await openRepo(d);
    expect(layoutOf(again.state)).toEqual(model.layout());
    expect(existsSync(join(d, 'snapshot.partial'))).toBe(false);
    await again.repo.close();
    await repo.close().catch(() => {});
  });

  it('recovers when killed mid-checkpoint: snapshot renamed, old journals not yet deleted', async () => {
    const d = dir();
    const { repo, model } = await openRepo(d, { stateStore: new MemoryStateStore() });
    const commit = committer(repo, model);
    const ffs = Array.from({ length: 30 }, () => makeFlowFile());
    for (const ff of ffs) await commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]);
    const before = journalFiles(d).map((p) => [p, readFileSync(p)] as const);
    await repo.checkpoint();
    for (const ff of ffs.slice(0, 5)) await commit([{ type: 'put', queueId: 'r', flowFile: ff, full: false }]);
    for (const [p, data] of before) writeFileSync(p, data);
    expect(journalFiles(d).length).toBe(2);
    const again = await openRepo(d);
    // Transactions in the old journal are covered by the snapshot: not replayed twice.
    expect(again.state.report.journalTransactions).toBe(5);
    expect(layoutOf(again.state)).toEqual(model.layout());
    await again.repo.close();
    await repo.close().catch(() => {});
  });

  it('drops a torn tail (kill -9 mid-write) and counts it', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    const ffs = Array.from({ length: 10 }, () => makeFlowFile());
    for (const ff of ffs) await repo.commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]);
    const [journal] = journalFiles(d);
    const size = statSync(journal!).size;
    truncateSync(journal!, size - 25);
    const again = await openRepo(d);
    expect(again.state.queues.get('q')?.map((f) => f.uuid)).toEqual(ffs.slice(0, 9).map((f) => f.uuid));
    expect(again.state.report.droppedTailBytes).toBeGreaterThan(0);
    expect(again.state.report.journalTransactions).toBe(9);
    expect(again.state.report.warnings?.join()).toMatch(/bytes dropped/);
    // New commits go to a new journal and survive the next recovery, after the torn one.
    const more = makeFlowFile();
    await again.repo.commit([{ type: 'put', queueId: 'q', flowFile: more, full: true }]);
    const third = await openRepo(d);
    expect(third.state.queues.get('q')?.map((f) => f.uuid)).toEqual([...ffs.slice(0, 9), more].map((f) => f.uuid));
    await third.repo.close();
    await again.repo.close().catch(() => {});
    await repo.close().catch(() => {});
  });

  it('stops at a flipped byte (CRC mismatch) and counts the dropped bytes', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    const ffs = Array.from({ length: 10 }, () => makeFlowFile());
    for (const ff of ffs) await repo.commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]);
    const [journal] = journalFiles(d);
    const data = readFileSync(journal!);
    // Flip a byte inside the 6th frame's payload: find the 6th frame by walking the lengths.
    let pos = 8;
    for (let i = 0; i < 5; i++) pos += 8 + data.readUInt32LE(pos);
    const frameStart = pos;
    data[pos + 40] = (data[pos + 40] ?? 0) ^ 0x20;
    writeFileSync(journal!, data);
    const again = await openRepo(d);
    expect(again.state.queues.get('q')?.map((f) => f.uuid)).toEqual(ffs.slice(0, 5).map((f) => f.uuid));
    expect(again.state.report.droppedTailBytes).toBe(data.length - frameStart);
    expect(again.state.report.warnings?.join()).toMatch(/CRC mismatch/);
    await again.repo.close();
    await repo.close().catch(() => {});
  });

  it('skips and counts a partial put of an unknown FlowFile', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    await repo.commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: false }]);
    const again = await openRepo(d);
    expect(again.state.queues.size).toBe(0);
    expect(again.state.report.skippedRecords).toBe(1);
    await again.repo.close();
    await repo.close();
  });

  it('swap-out, swap-in and swap-drop survive recovery, also twice in a row', async () => {
    const d = dir();
    const first = await openRepo(d);
    const batch1 = Array.from({ length: 100 }, () => makeFlowFile());
    const batch2 = Array.from({ length: 100 }, () => makeFlowFile());
    const tail = Array.from({ length: 5 }, () => makeFlowFile());
    let commit = committer(first.repo, first.model);
    for (const ff of [...batch1, ...batch2, ...tail]) await commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]);
    const swap1 = first.repo.writeSwapFile('q', batch1);
    const swap2 = first.repo.writeSwapFile('q', batch2);
    expect(swap1.count).toBe(100);
    expect(swap1.bytes).toBe(1000);
    expect(swap1.resourceCounts.reduce((n, [, c]) => n + c, 0)).toBe(100);
    expect(first.repo.stats().swapFiles).toBe(2);
    await commit([{ type: 'swap-out', swap: swap1, uuids: batch1.map((f) => f.uuid) }]);
    await commit([{ type: 'swap-out', swap: swap2, uuids: batch2.map((f) => f.uuid) }]);

    // Crash; the next process recovers the swap refs without reading the files.
    const second = await openRepo(d);
    expect(second.state.queues.get('q')?.map((f) => f.uuid)).toEqual(tail.map((f) => f.uuid));
    expect(second.state.swaps.get('q')?.map((s) => s.file)).toEqual([swap1.file, swap2.file]);
    expect(second.state.swaps.get('q')?.[0]).toEqual(swap1);
    expect(second.repo.stats().swapFiles).toBe(2);

    // It swaps batch 1 back in and drops batch 2.
    commit = committer(second.repo, second.model);
    const back = second.repo.readSwapFile(swap1);
    expect(back.map((f) => f.uuid)).toEqual(batch1.map((f) => f.uuid));
    second.model.swappedIn('q', back);
    await commit([{ type: 'swap-in', swap: swap1 }]);
    await commit([{ type: 'swap-drop', swap: swap2 }]);
    const expected = { q: [...tail, ...batch1].map((f) => f.uuid) };
    expect(second.model.layout()).toEqual(expected);

    // Crash, recover, crash again before any checkpoint, recover again: the swap file read by
    // the first replay must still be there for the second.
    const third = await openRepo(d);
    expect(layoutOf(third.state)).toEqual(expected);
    expect(third.state.swaps.size).toBe(0);
    const fourth = await openRepo(d);
    expect(layoutOf(fourth.state)).toEqual(expected);
    expect(fourth.state.report.warnings).toEqual([]);

    // After a checkpoint the released swap files are gone.
    await fourth.repo.checkpoint();
    expect(readdirSync(join(d, 'swap'))).toEqual([]);
    expect(fourth.repo.stats().swapFiles).toBe(0);
    const fifth = await openRepo(d);
    expect(layoutOf(fifth.state)).toEqual(expected);
    await fifth.repo.close();
  });

  it('keeps swap refs through a checkpoint snapshot', async () => {
    const d = dir();
    const { repo, model } = await openRepo(d);
    const commit = committer(repo, model);
    const batch = Array.from({ length: 10 }, () => makeFlowFile());
    for (const ff of batch) await commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]);
    const swap = repo.writeSwapFile('q', batch);
    await commit([{ type: 'swap-out', swap, uuids: batch.map((f) => f.uuid) }]);
    await repo.checkpoint();
    const rec = await openRepo(d);
    expect(rec.state.swaps.get('q')).toEqual([swap]);
    expect(rec.state.report.journalTransactions).toBe(0);
    expect(rec.repo.readSwapFile(swap).length).toBe(10);
    await rec.repo.close();
    await repo.close();
  });

  it('detects a corrupt or missing swap file and names it', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    const swap = repo.writeSwapFile('q', [makeFlowFile(), makeFlowFile()]);
    const path = join(d, 'swap', swap.file);
    const data = readFileSync(path);
    data[data.length - 10] = (data[data.length - 10] ?? 0) ^ 1;
    writeFileSync(path, data);
    expect(() => repo.readSwapFile(swap)).toThrow(new RegExp(`${swap.file}.*CRC mismatch`));
    writeFileSync(path, data.subarray(0, 30));
    expect(() => repo.readSwapFile(swap)).toThrow(new RegExp(`${swap.file}.*corrupt`));
    expect(() => repo.readSwapFile({ ...swap, file: 'nope.swap' })).toThrow(/nope\.swap/);
    expect(() => repo.readSwapFile({ ...swap, file: '../snapshot' })).toThrow(/invalid swap file name/);
    await repo.close();
  });

  it('reports FlowFiles of an unreadable swap file at recovery instead of failing', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    const batch = [makeFlowFile(), makeFlowFile()];
    for (const ff of batch) await repo.commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]);
    const swap = repo.writeSwapFile('q', batch);
    await repo.commit([{ type: 'swap-out', swap, uuids: batch.map((f) => f.uuid) }]);
    await repo.commit([{ type: 'swap-in', swap }]);
    writeFileSync(join(d, 'swap', swap.file), 'garbage');
    const rec = await openRepo(d);
    expect(rec.state.queues.size).toBe(0);
    expect(rec.state.report.skippedRecords).toBe(2);
    expect(rec.state.report.warnings?.join()).toContain(swap.file);
    await rec.repo.close();
    await repo.close();
  });

  it('deletes orphan swap files at recovery', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    const kept = repo.writeSwapFile('q', [makeFlowFile()]);
    await repo.commit([{ type: 'swap-out', swap: kept, uuids: [] }]);
    const orphan = repo.writeSwapFile('q', [makeFlowFile()]); // never journaled (killed before commit)
    writeFileSync(join(d, 'swap', 'junk.swap'), 'junk');
    const rec = await openRepo(d);
    expect(readdirSync(join(d, 'swap')).sort()).toEqual([kept.file]);
    expect(existsSync(join(d, 'swap', orphan.file))).toBe(false);
    expect(rec.repo.stats().swapFiles).toBe(1);
    await rec.repo.close();
    await repo.close().catch(() => {});
  });

  it('refuses use before recover and after close', async () => {
    const d = dir();
    const repo = new FileFlowFileRepository({
      directory: d,
      durability: 'process',
      snapshot: () => [],
      stateStore: new MemoryStateStore(),
    });
    expect(() => repo.commitNoWait([])).toThrow(/recover/);
    await expect(repo.checkpoint()).rejects.toThrow(/recover/);
    await repo.recover();
    await expect(repo.recover()).rejects.toThrow(/once/);
    await repo.close();
    expect(() => repo.commitNoWait([{ type: 'delete', uuid: 'x' }])).toThrow(/closed/);
  });

  it('rejects a corrupt snapshot loudly', async () => {
    const d = dir();
    const { repo, model } = await openRepo(d);
    await committer(repo, model)([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]);
    await repo.close();
    const snapshot = readFileSync(join(d, 'snapshot'));
    writeFileSync(join(d, 'snapshot'), snapshot.subarray(0, snapshot.length - 3));
    await expect(openRepo(d)).rejects.toThrow(/snapshot .* is corrupt/);
  });
});

/** A state store that records what the repository applies. */
class RecordingStore extends MemoryStateStore {
  readonly applied: number[] = [];
  override applyBatch(batch: readonly StateBatch[]): void {
    for (const b of batch) if (b.seq > this.appliedSeq()) this.applied.push(b.seq);
    super.applyBatch(batch);
  }
}

describe('FileFlowFileRepository state records', () => {
  const stateTx = (n: number): RepositoryRecord[] => [
    { type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true },
    {
      type: 'state',
      componentId: 'counter',
      ops: [
        { op: 'set', key: 'n', value: String(n) },
        { op: 'set', key: `k${n}`, value: 'x' },
      ],
    },
  ];

  it('stages state at commit, applies it after the flush', async () => {
    const d = dir();
    const store = new RecordingStore();
    const { repo, model } = await openRepo(d, { stateStore: store });
    const p = committer(repo, model)(stateTx(1));
    expect(store.get('counter', 'n')).toBe('1');
    expect(store.stagedComponents()).toBe(1);
    expect(store.appliedSeq()).toBe(0);
    await p;
    expect(store.applied).toEqual([1]);
    expect(store.stagedComponents()).toBe(0);
    expect(store.get('counter', 'n')).toBe('1');
    // A state op with a lone surrogate is refused before anything is journaled.
    expect(() =>
      repo.commitNoWait([{ type: 'state', componentId: 'c', ops: [{ op: 'set', key: '\uD800', value: '' }] }]),
    ).toThrow(TypeError);
    await repo.close();
    const again = await openRepo(d, { stateStore: store });
    expect(again.state.queues.get('q')?.length).toBe(1);
    await again.repo.close();
  });

  it('replays only transactions newer than the store has applied', async () => {
    const d = dir();
    const storePath = join(d, 'state.db');
    const sqlite = new SqliteStateStore(storePath);
    const { repo } = await openRepo(join(d, 'repo'), { stateStore: sqlite });
    for (let i = 1; i <= 5; i++) await repo.commit(stateTx(i));
    expect(sqlite.appliedSeq()).toBe(5);
    // Crash; the same store already has everything: nothing is re-applied.
    const same = new RecordingStore();
    same.apply(5, []);
    same.applied.length = 0;
    const r1 = await openRepo(join(d, 'repo'), { stateStore: same });
    expect(same.applied).toEqual([]);
    await r1.repo.close().catch(() => {});
    // A store that lags (lost its last writes) gets only the later transactions.
    const lagging = new RecordingStore();
    lagging.apply(3, []);
    lagging.applied.length = 0;
    const d2 = dir();
    const r2a = await openRepo(d2, { stateStore: new MemoryStateStore() });
    for (let i = 1; i <= 5; i++) await r2a.repo.commit(stateTx(i));
    const r2 = await openRepo(d2, { stateStore: lagging });
    expect(lagging.applied).toEqual([4, 5]);
    expect(lagging.get('counter', 'n')).toBe('5');
    expect(lagging.get('counter', 'k3')).toBeUndefined();
    expect(lagging.get('counter', 'k4')).toBe('x');
    // New transactions continue after the highest seq seen.
    await r2.repo.commit(stateTx(6));
    expect(lagging.applied).toEqual([4, 5, 6]);
    await r2.repo.close();
    sqlite.close();
    await repo.close().catch(() => {});
  });

  it('keeps state across a checkpoint and sees staged changes before apply', async () => {
    const d = dir();
    const sqlite = new SqliteStateStore(join(d, 'state.db'));
    const { repo } = await openRepo(join(d, 'repo'), { stateStore: sqlite, durability: 'power' });
    await repo.commit(stateTx(1));
    await repo.checkpoint();
    repo.commitNoWait([{ type: 'state', componentId: 'counter', ops: [{ op: 'clear' }] }]);
    repo.commitNoWait([{ type: 'state', componentId: 'counter', ops: [{ op: 'set', key: 'after', value: 'clear' }] }]);
    expect(sqlite.scan('counter')).toEqual([['after', 'clear']]);
    expect(sqlite.count('counter')).toBe(1);
    await new Promise<void>((r) => repo.afterDurable(r));
    expect(sqlite.stagedComponents()).toBe(0);
    expect(sqlite.scan('counter')).toEqual([['after', 'clear']]);
    await repo.close();
    sqlite.close();
    const reopened: StateStore = new SqliteStateStore(join(d, 'state.db'));
    expect(reopened.scan('counter')).toEqual([['after', 'clear']]);
    reopened.close();
  });
});

describe('FileFlowFileRepository failures', () => {
  it('retries a failed journal write: commits wait, nothing is lost or torn', async () => {
    const d = dir();
    const errors: Error[] = [];
    let failures = 1;
    const { repo, model } = await openRepo(d, {
      onError: (error) => errors.push(error),
      flushHooks: {
        beforeWrite: () => {
          if (failures-- > 0) throw new Error('ENOSPC: no space left on device');
        },
        beforeSync: async () => {},
      },
    });
    const commit = committer(repo, model);
    const started = performance.now();
    const ff = makeFlowFile();
    await commit([{ type: 'put', queueId: 'q', flowFile: ff, full: true }]);
    expect(performance.now() - started).toBeGreaterThan(900);
    expect(errors.map((e) => e.message).join()).toMatch(/journal write failed, retrying: ENOSPC/);
    const again = await openRepo(d);
    expect(layoutOf(again.state)).toEqual({ q: [ff.uuid] });
    expect(again.state.report.droppedTailBytes).toBe(0);
    await again.repo.close();
    await repo.close().catch(() => {});
  });

  it('power mode: a failed sync rejects the group and refuses later commits', async () => {
    const d = dir();
    const errors: Error[] = [];
    const { repo } = await openRepo(d, {
      durability: 'power',
      onError: (error) => errors.push(error),
      flushHooks: {
        beforeWrite: () => {},
        beforeSync: async () => {
          throw new Error('EIO: i/o error');
        },
      },
    });
    await expect(repo.commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }])).rejects.toThrow(
      /sync failed.*EIO/,
    );
    expect(errors.length).toBe(1);
    expect(() => repo.commitNoWait([{ type: 'delete', uuid: 'x' }])).toThrow(/accepts no commits/);
    await repo.close();
  });

  it('refuses an over-long id without recording anything', async () => {
    const d = dir();
    const { repo } = await openRepo(d);
    expect(() => repo.commitNoWait([{ type: 'put', queueId: 'q'.repeat(70_000), flowFile: makeFlowFile(), full: true }])).toThrow(
      TypeError,
    );
    const ok = makeFlowFile();
    await repo.commit([{ type: 'put', queueId: 'q', flowFile: ok, full: true }]);
    const again = await openRepo(d);
    expect(layoutOf(again.state)).toEqual({ q: [ok.uuid] });
    expect(again.state.report.journalTransactions).toBe(1);
    await again.repo.close();
    await repo.close().catch(() => {});
  });
});

describe('FileFlowFileRepository directory copy', () => {
  it('recovers from a copy of a live directory (what a kill leaves behind)', async () => {
    const d = dir();
    const { repo, model } = await openRepo(d, { checkpointJournalBytes: 8 * 1024 });
    const commit = committer(repo, model);
    for (let i = 0; i < 300; i++) {
      const ff = makeFlowFile();
      await commit([{ type: 'put', queueId: `q${i % 3}`, flowFile: ff, full: true }]);
      if (i % 4 === 0) await commit([{ type: 'put', queueId: 'moved', flowFile: ff, full: false }]);
      if (i % 5 === 0) await commit([{ type: 'delete', uuid: ff.uuid }]);
    }
    await new Promise<void>((r) => repo.afterDurable(r));
    const copy = dir();
    cpSync(d, copy, { recursive: true });
    const rec = await openRepo(copy);
    expect(layoutOf(rec.state)).toEqual(model.layout());
    await rec.repo.close();
    await repo.close();
  });
});
