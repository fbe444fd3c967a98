import { describe, expect, it } from 'vitest';
import type { ContentClaim } from '../flowfile/claim.ts';
import { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { uuidv7 } from '../flowfile/uuid.ts';
import { ConnectionQueue, MemorySwapManager, type PrioritizerName, type QueueListener } from './index.ts';

// Throughput of put + poll + acknowledge. Figures are logged; the floors only catch pathologies
// (an O(n) step on the hot path), not a slow CI machine. Targets on the dev VM: 2,000,000/s FIFO
// batched, 500,000/s with a prioritizer.

const BATCH = 1000;
const claim: ContentClaim = { resourceId: 'r1', offset: 0, length: 100 };

/**
 * Records to cycle through. A FIFO queue acknowledges each long before it is put again; a
 * prioritized one may keep a record indefinitely, so it gets a record per put (a uuid is queued once).
 * Attribute maps are shared per priority value to keep the pool small.
 */
function pool(batches: number, priority: boolean): FlowFileRecord[][] {
  const maps = Array.from({ length: 1000 }, (_, p) => {
    const m = new Map([['filename', 'x']]);
    if (priority) m.set('priority', String(p));
    return m;
  });
  return Array.from({ length: batches }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => {
      const attributes = maps[(b * 7919 + i * 104729) % 1000] ?? new Map<string, string>();
      const entryDate = 1_700_000_000_000 + ((b * BATCH + i * 7) % 5000);
      return new FlowFileRecord(uuidv7(), attributes, claim, entryDate, entryDate);
    }),
  );
}

const listener: QueueListener = { dataAvailable() {}, spaceAvailable() {} };

function run(
  name: string,
  options: { prioritizers?: PrioritizerName[]; backlog: number; total: number; batched: boolean; swapThreshold?: number },
): number {
  const priority = options.prioritizers?.includes('PriorityAttribute') ?? false;
  const prioritized = (options.prioritizers?.length ?? 0) > 0;
  const rounds = Math.ceil(options.total / BATCH);
  const warmup = 200;
  const backlogBatches = Math.ceil(options.backlog / BATCH);
  const batches = pool(prioritized ? backlogBatches + warmup + rounds : backlogBatches + 20, priority);
  const q = new ConnectionQueue(
    'perf',
    {
      backPressureObjectThreshold: 10_000,
      backPressureDataSizeThreshold: 1024 ** 3,
      expirationMs: 0,
      prioritizers: options.prioritizers ?? [],
    },
    { swap: new MemorySwapManager(), listener, swapThreshold: options.swapThreshold },
  );
  let next = 0;
  const nextBatch = (): FlowFileRecord[] => {
    const b = batches[next++ % batches.length];
    if (b === undefined) throw new Error('pool');
    return b;
  };
  for (let i = 0; i < options.backlog; i += BATCH) q.putAll(nextBatch());
  // Warm up the JIT on the same path before timing.
  const cycle = (): void => {
    const input = nextBatch();
    if (options.batched) {
      q.putAll(input);
      const taken = q.pollBatch(BATCH);
      q.acknowledge(taken);
    } else {
      for (const ff of input) q.put(ff);
      for (let i = 0; i < BATCH; i++) {
        const ff = q.poll();
        if (ff !== undefined) q.acknowledge([ff]);
      }
    }
  };
  for (let i = 0; i < warmup; i++) cycle();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) cycle();
  const seconds = (performance.now() - start) / 1000;
  const rate = (rounds * BATCH) / seconds;
  expect(q.size().count).toBe(options.backlog);
  console.log(
    `${name}: ${(rate / 1e6).toFixed(2)} M FlowFiles/s (put + poll + acknowledge, backlog ${options.backlog}, ${
      options.batched ? `batches of ${BATCH}` : 'one call per FlowFile'
    })`,
  );
  return rate;
}

describe('ConnectionQueue throughput', () => {
  it('FIFO', () => {
    expect(run('FIFO, batched, empty queue', { backlog: 0, total: 1_000_000, batched: true })).toBeGreaterThan(200_000);
    expect(run('FIFO, batched, 10k backlog', { backlog: 10_000, total: 1_000_000, batched: true })).toBeGreaterThan(200_000);
    expect(run('FIFO, one call each', { backlog: 10_000, total: 1_000_000, batched: false })).toBeGreaterThan(100_000);
    expect(
      run('FIFO, batched, 100k backlog swapping (20k/10k)', { backlog: 100_000, total: 1_000_000, batched: true }),
    ).toBeGreaterThan(100_000);
  });

  it('with prioritizers', () => {
    expect(
      run('PriorityAttribute, batched, 10k backlog', {
        prioritizers: ['PriorityAttribute'],
        backlog: 10_000,
        total: 300_000,
        batched: true,
      }),
    ).toBeGreaterThan(50_000);
    expect(
      run('OldestFlowFileFirst, batched, 10k backlog', {
        prioritizers: ['OldestFlowFileFirst'],
        backlog: 10_000,
        total: 300_000,
        batched: true,
      }),
    ).toBeGreaterThan(50_000);
    expect(
      run('PriorityAttribute+OldestFlowFileFirst, batched, 10k backlog', {
        prioritizers: ['PriorityAttribute', 'OldestFlowFileFirst'],
        backlog: 10_000,
        total: 300_000,
        batched: true,
      }),
    ).toBeGreaterThan(50_000);
    expect(
      run('PriorityAttribute, one call each, 10k backlog', {
        prioritizers: ['PriorityAttribute'],
        backlog: 10_000,
        total: 300_000,
        batched: false,
      }),
    ).toBeGreaterThan(25_000);
  });
});
