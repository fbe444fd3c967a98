import { afterAll, describe, expect, it } from 'vitest';
import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { MemoryStateStore } from '../state/memory-state-store.ts';
import { FileFlowFileRepository } from './file-flowfile-repository.ts';
import { JournalBuffer } from './frame-codec.ts';
import { RecordEncoder } from './record-codec.ts';
import { makeFlowFile, openRepo, tempDir } from './test-support.test-helper.ts';
import type { RepositoryRecord } from './types.ts';

const figures: string[] = [];
afterAll(() => {
  if (figures.length > 0) console.log(`[flowfile repository performance]\n${figures.join('\n')}`);
});

function cachedFlowFiles(n: number): FlowFileRecord[] {
  const out: FlowFileRecord[] = [];
  for (let i = 0; i < n; i++) {
    const ff = makeFlowFile();
    ff.attributesJson();
    out.push(ff);
  }
  return out;
}

function puts(flowFiles: readonly FlowFileRecord[], queueId = 'q'): RepositoryRecord[] {
  return flowFiles.map((flowFile) => ({ type: 'put', queueId, flowFile, full: true }));
}

// About 25 s of CPU on a 2-core box, so opt-in:
//   SLUICE_PERF=1 npx vitest run --project engine packages/engine/src/repository/repository.perf.test.ts
describe.runIf(process.env.SLUICE_PERF === '1')('FlowFile repository performance', () => {
  it('encodes a 100-put transaction quickly', () => {
    const tx = puts(cachedFlowFiles(100));
    const buffer = new JournalBuffer();
    const encoder = new RecordEncoder();
    const encode = (seq: number): void => {
      buffer.beginFrame(seq);
      encoder.encode(buffer, tx);
      buffer.endFrame();
      if (buffer.byteLength > 4 << 20) buffer.reset();
    };
    for (let i = 0; i < 2000; i++) encode(i);
    const rounds = 20_000;
    const t = performance.now();
    for (let i = 0; i < rounds; i++) encode(i);
    const perRecordUs = ((performance.now() - t) * 1000) / (rounds * 100);
    buffer.reset();
    encode(1);
    const bytes = buffer.byteLength / 100;
    figures.push(
      `encode (binary records + CRC32 frame, 100 full puts/tx, attribute JSON cached): ${perRecordUs.toFixed(3)} µs/record, ` +
        `${bytes.toFixed(0)} bytes/record`,
    );
    expect(perRecordUs).toBeLessThan(2);
  });

  it('commits and flushes in process and power mode, then replays', { timeout: 120_000 }, async () => {
    for (const durability of ['process', 'power'] as const) {
      const { dir, cleanup } = tempDir();
      try {
        const { repo } = await openRepo(dir, { durability, checkpointJournalBytes: 2 ** 40 });
        const flowFiles = cachedFlowFiles(100_000);
        const txs: RepositoryRecord[][] = [];
        for (let i = 0; i < flowFiles.length; i += 100) txs.push(puts(flowFiles.slice(i, i + 100)));
        const rounds = durability === 'process' ? 10 : 3;
        const t = performance.now();
        let last: Promise<void> = Promise.resolve();
        for (let r = 0; r < rounds; r++) {
          for (let i = 0; i < txs.length; i++) {
            const tx = txs[i] ?? [];
            if (i % 50 === 49) {
              last = repo.commit(tx);
              // Let the group flush (the engine yields between batches the same way).
              await new Promise((resolve) => setImmediate(resolve));
            } else repo.commitNoWait(tx);
          }
        }
        await last;
        await new Promise<void>((resolve) => repo.afterDurable(resolve));
        const seconds = (performance.now() - t) / 1000;
        const records = rounds * flowFiles.length;
        figures.push(
          `commit+flush (${durability}): ${Math.round(records / seconds).toLocaleString('en')} records/s ` +
            `(${records.toLocaleString('en')} records in ${(seconds * 1000).toFixed(0)} ms, journal ${(repo.stats().journalBytes / 2 ** 20).toFixed(0)} MiB)`,
        );
        if (durability === 'process') {
          const started = performance.now();
          const rec = new FileFlowFileRepository({
            directory: dir,
            durability,
            snapshot: () => [],
            stateStore: new MemoryStateStore(),
          });
          const state = await rec.recover();
          const replaySeconds = (performance.now() - started) / 1000;
          expect(state.queues.get('q')?.length).toBe(100_000);
          figures.push(
            `recovery replay: ${Math.round(records / replaySeconds).toLocaleString('en')} records/s ` +
              `(${records.toLocaleString('en')} put records, ${state.report.journalTransactions} transactions, ${(replaySeconds * 1000).toFixed(0)} ms)`,
          );
          expect(records / replaySeconds).toBeGreaterThan(100_000);
        }
      } finally {
        cleanup();
      }
    }
  });

  it('recovers 1,000,000 queued FlowFiles (99 swap files + 10,000 in memory)', { timeout: 300_000 }, async () => {
    const { dir, cleanup } = tempDir();
    try {
      // Killed before any checkpoint: the snapshot source of this first process is never used.
      const { repo } = await openRepo(dir, { checkpointJournalBytes: 2 ** 40 });
      let t = performance.now();
      const batch: FlowFileRecord[] = [];
      for (let s = 0; s < 100; s++) {
        const flowFiles = cachedFlowFiles(10_000);
        for (let i = 0; i < flowFiles.length; i += 100) {
          repo.commitNoWait(puts(flowFiles.slice(i, i + 100)));
        }
        if (s < 99) {
          const swap = repo.writeSwapFile('q', flowFiles);
          await repo.commit([{ type: 'swap-out', swap, uuids: flowFiles.map((f) => f.uuid) }]);
        } else batch.push(...flowFiles);
      }
      await new Promise<void>((resolve) => repo.afterDurable(resolve));
      const buildMs = performance.now() - t;

      // Killed without a checkpoint: replay 1M puts and 99 swap-outs from the journal.
      t = performance.now();
      const r1 = await openRepo(dir);
      const journalMs = performance.now() - t;
      expect(r1.state.queues.get('q')?.length).toBe(10_000);
      expect(r1.state.swaps.get('q')?.length).toBe(99);
      const total = (r1.state.swaps.get('q') ?? []).reduce((n, s) => n + s.count, 0) + 10_000;
      expect(total).toBe(1_000_000);

      // After a checkpoint: the snapshot has 10,000 records and 99 swap refs.
      t = performance.now();
      await r1.repo.checkpoint();
      const checkpointMs = performance.now() - t;
      t = performance.now();
      const r2 = await openRepo(dir);
      const snapshotMs = performance.now() - t;
      expect(r2.state.queues.get('q')?.map((f) => f.uuid)).toEqual(batch.map((f) => f.uuid));
      expect(r2.state.swaps.get('q')?.length).toBe(99);
      t = performance.now();
      const swapped = r2.repo.readSwapFile(
        r2.state.swaps.get('q')?.[0] ?? { file: 'x.swap', queueId: 'q', count: 0, bytes: 0, resourceCounts: [] },
      );
      const readSwapMs = performance.now() - t;
      expect(swapped.length).toBe(10_000);
      figures.push(
        `1M queued FlowFiles: built in ${buildMs.toFixed(0)} ms; recovery from journal only ${journalMs.toFixed(0)} ms; ` +
          `checkpoint ${checkpointMs.toFixed(0)} ms; recovery from snapshot ${snapshotMs.toFixed(0)} ms; ` +
          `one swap file (10,000) read back in ${readSwapMs.toFixed(0)} ms`,
      );
      expect(journalMs).toBeLessThan(10_000);
      expect(snapshotMs).toBeLessThan(10_000);
      await r2.repo.close();
    } finally {
      cleanup();
    }
  });
});
