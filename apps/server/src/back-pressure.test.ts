import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';

setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function flow(threshold: number): FlowDocumentInput {
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'back pressure',
      processors: [
        {
          id: 'source',
          name: 'Fast source',
          type: 'GenerateFlowFile',
          properties: { fileSize: '100 B', batchSize: '1000' },
          scheduling: { period: '0 sec' },
          state: 'RUNNING',
        },
        { id: 'sink', name: 'Stopped sink', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
      ],
      connections: [
        {
          id: 'queue',
          source: { id: 'source' },
          destination: { id: 'sink' },
          relationships: ['success'],
          backPressureObjectThreshold: threshold,
          backPressureDataSizeThreshold: '0 B',
        },
      ],
    },
  };
}

function rssMb(): number {
  gc();
  return process.memoryUsage().rss / 1024 / 1024;
}

describe('back pressure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-backpressure-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds a queue at its threshold with the source unscheduled, and keeps memory flat with 1,000,000 queued', {
    timeout: 240_000,
  }, async () => {
    const engine = await Engine.open({ dataDir: join(dir, 'data'), registry: standardRegistry(), logLevel: 'ERROR' });
    try {
      await engine.applyFlow(flow(10_000));
      const queue = () => engine.connection('queue')?.queue.size().count ?? 0;
      const source = engine.component('source');
      if (source === undefined) throw new Error('no source');
      const tasks = () => source.stats.tasks.sum(Date.now());

      // The queue fills to its threshold (a soft limit: the batch in flight may overshoot) and stays.
      await until(() => queue() >= 10_000, 30_000, 'the queue to reach its threshold');
      await sleep(300);
      const heldAt = queue();
      const tasksWhenFull = tasks();
      await sleep(1500);
      expect(heldAt).toBeGreaterThanOrEqual(10_000);
      expect(heldAt).toBeLessThanOrEqual(10_000 + 1000);
      expect(queue()).toBe(heldAt);
      expect(tasks()).toBe(tasksWhenFull); // the source was not triggered while the queue was full
      expect(engine.status().connections.find((c) => c.id === 'queue')?.full).toBe(true);

      // Lift the threshold (applied live, no restart of anything): a million FlowFiles pile up
      // behind the stopped sink and swap to disk, while memory stays flat.
      await engine.applyFlow(flow(0));
      const samples: Array<[number, number]> = [];
      for (const target of [200_000, 500_000, 800_000, 1_000_000]) {
        await until(() => queue() >= target, 180_000, `${target} FlowFiles queued`);
        if (target === 1_000_000) await engine.stopComponent('source');
        samples.push([queue(), rssMb()]);
      }
      const size = engine.connection('queue')?.queue.size();
      expect(size?.count).toBeGreaterThanOrEqual(1_000_000);
      expect(size?.swappedCount).toBeGreaterThan(900_000);
      const [first, last] = [samples[0], samples[samples.length - 1]];
      console.log(`back pressure: RSS by queued count ${samples.map(([n, r]) => `${n}: ${r.toFixed(0)} MB`).join(', ')}`);
      // 800,000 more FlowFiles queued cost less memory than a few thousand in-memory records.
      expect((last?.[1] ?? 0) - (first?.[1] ?? 0)).toBeLessThan(120);
      expect(last?.[1]).toBeLessThan(600);
    } finally {
      await engine.shutdown();
    }
  });
});
