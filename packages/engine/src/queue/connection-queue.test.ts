import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { ContentClaim } from '../flowfile/claim.ts';
import { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { uuidv7 } from '../flowfile/uuid.ts';
import {
  ConnectionQueue,
  type ConnectionQueueOptions,
  MemorySwapManager,
  type PrioritizerName,
  type QueueListener,
  type QueueSettings,
} from './index.ts';

const T0 = 1_700_000_000_000;

function flowFile(
  options: { entryDate?: number; size?: number; attributes?: Record<string, string>; penaltyExpiration?: number } = {},
): FlowFileRecord {
  const id = uuidv7();
  const entryDate = options.entryDate ?? T0;
  const attributes = new Map([
    ['uuid', id],
    ['filename', 'x'],
  ]);
  for (const [k, v] of Object.entries(options.attributes ?? {})) attributes.set(k, v);
  const claim: ContentClaim | null = options.size === undefined ? null : { resourceId: 'r1', offset: 0, length: options.size };
  return new FlowFileRecord(id, attributes, claim, entryDate, entryDate, options.penaltyExpiration ?? 0);
}

/** FlowFiles tagged with `n` = 0..count-1 so order is easy to read back. */
function numbered(count: number, extra: (i: number) => Parameters<typeof flowFile>[0] = () => ({})): FlowFileRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const opts = extra(i) ?? {};
    return flowFile({ ...opts, attributes: { n: String(i), ...opts.attributes } });
  });
}

const n = (ff: FlowFileRecord | undefined): number => Number(ff?.getAttribute('n'));

function settings(overrides: Partial<QueueSettings> = {}): QueueSettings {
  return {
    backPressureObjectThreshold: 10_000,
    backPressureDataSizeThreshold: 1024 ** 3,
    expirationMs: 0,
    prioritizers: [],
    ...overrides,
  };
}

class Clock {
  t = T0;
  readonly now = (): number => this.t;
}

class Recorder implements QueueListener {
  readonly events: string[] = [];
  dataAvailable(queueId: string): void {
    this.events.push(`data:${queueId}`);
  }
  spaceAvailable(queueId: string): void {
    this.events.push(`space:${queueId}`);
  }
  eligibleAt(queueId: string, at: number): void {
    this.events.push(`at:${queueId}:${at - T0}`);
  }
  take(): string[] {
    return this.events.splice(0);
  }
}

function makeQueue(
  overrides: Partial<QueueSettings> = {},
  options: Partial<ConnectionQueueOptions> = {},
): { q: ConnectionQueue; clock: Clock; swap: MemorySwapManager; listener: Recorder } {
  const clock = new Clock();
  const swap = new MemorySwapManager();
  const listener = new Recorder();
  const q = new ConnectionQueue('q', settings(overrides), { swap, listener, now: clock.now, ...options });
  return { q, clock, swap, listener };
}

function drain(q: ConnectionQueue): FlowFileRecord[] {
  const out: FlowFileRecord[] = [];
  for (let ff = q.poll(); ff !== undefined; ff = q.poll()) out.push(ff);
  q.acknowledge(out);
  return out;
}

describe('ConnectionQueue order', () => {
  it('delivers first in, first out by default', () => {
    const { q } = makeQueue();
    const ffs = numbered(100);
    for (const ff of ffs.slice(0, 40)) q.put(ff);
    q.putAll(ffs.slice(40));
    expect(drain(q).map(n)).toEqual(ffs.map(n));
    expect(q.isEmpty()).toBe(true);
    expect(q.size().count).toBe(0);
  });

  it('treats FirstInFirstOut like no prioritizer', () => {
    const { q } = makeQueue({ prioritizers: ['FirstInFirstOut', 'NewestFlowFileFirst'] });
    q.putAll(numbered(5, (i) => ({ entryDate: T0 + i })));
    expect(drain(q).map(n)).toEqual([0, 1, 2, 3, 4]);
  });

  it('OldestFlowFileFirst and NewestFlowFileFirst order by entry date, ties by arrival', () => {
    const dates = [5, 1, 4, 1, 3];
    const oldest = makeQueue({ prioritizers: ['OldestFlowFileFirst'] }).q;
    oldest.putAll(numbered(5, (i) => ({ entryDate: T0 + (dates[i] ?? 0) })));
    expect(drain(oldest).map(n)).toEqual([1, 3, 4, 2, 0]);
    const newest = makeQueue({ prioritizers: ['NewestFlowFileFirst'] }).q;
    newest.putAll(numbered(5, (i) => ({ entryDate: T0 + (dates[i] ?? 0) })));
    expect(drain(newest).map(n)).toEqual([0, 2, 4, 1, 3]);
  });

  it('PriorityAttribute: integers numerically, then strings in unicode order, then FlowFiles without it', () => {
    const priorities = ['10', 'abc', undefined, '2', 'B', ' 7 ', '-5', undefined, '', '2', '99999999999'];
    const { q } = makeQueue({ prioritizers: ['PriorityAttribute'] });
    q.putAll(
      numbered(priorities.length, (i) => {
        const p = priorities[i];
        return p === undefined ? {} : { attributes: { priority: p } };
      }),
    );
    const order = drain(q).map((ff) => ff.getAttribute('priority'));
    expect(order).toEqual(['-5', '2', '2', ' 7 ', '10', '99999999999', '', 'B', 'abc', undefined, undefined]);
  });

  it('PriorityAttribute keeps arrival order among equal priorities', () => {
    const { q } = makeQueue({ prioritizers: ['PriorityAttribute'] });
    q.putAll(numbered(6, (i) => ({ attributes: { priority: i % 2 === 0 ? '1' : '0' } })));
    expect(drain(q).map(n)).toEqual([1, 3, 5, 0, 2, 4]);
  });

  it('chains prioritizers: the first decides, the second breaks its ties', () => {
    const spec: [string | undefined, number][] = [
      ['2', 3],
      ['1', 9],
      ['2', 1],
      [undefined, 0],
      ['1', 2],
      ['2', 1],
    ];
    const make = (prioritizers: PrioritizerName[]): number[] => {
      const { q } = makeQueue({ prioritizers });
      q.putAll(
        numbered(spec.length, (i) => {
          const [p, d] = spec[i] ?? [undefined, 0];
          const attributes: Record<string, string> = p === undefined ? {} : { priority: p };
          return { entryDate: T0 + d, attributes };
        }),
      );
      return drain(q).map(n);
    };
    expect(make(['PriorityAttribute', 'OldestFlowFileFirst'])).toEqual([4, 1, 2, 5, 0, 3]);
    expect(make(['PriorityAttribute', 'NewestFlowFileFirst'])).toEqual([1, 4, 0, 2, 5, 3]);
    expect(make(['OldestFlowFileFirst', 'PriorityAttribute'])).toEqual([3, 2, 5, 4, 0, 1]);
  });

  it('updateSettings re-orders what is queued', () => {
    const { q } = makeQueue();
    q.putAll(numbered(6, (i) => ({ attributes: { priority: String(6 - i) } })));
    expect(q.poll()).toBeDefined(); // n=0 in flight, keeps its place if requeued
    q.updateSettings(settings({ prioritizers: ['PriorityAttribute'] }));
    expect(q.list(0, 10).map((r) => n(r.flowFile))).toEqual([5, 4, 3, 2, 1]);
    expect(n(q.poll())).toBe(5);
    q.updateSettings(settings({ prioritizers: [] }));
    expect(q.list(0, 10).map((r) => n(r.flowFile))).toEqual([1, 2, 3, 4]);
    q.updateSettings(settings({ prioritizers: ['NewestFlowFileFirst', 'PriorityAttribute'] }));
    expect(n(q.poll())).toBe(4); // equal entry dates: the priority decides
  });

  it('rejects invalid settings and leaves the queue as it was', () => {
    const { q } = makeQueue();
    expect(() => q.updateSettings(settings({ backPressureObjectThreshold: -1 }))).toThrow(RangeError);
    expect(() => q.updateSettings(settings({ expirationMs: Number.NaN }))).toThrow(RangeError);
    const bogus: PrioritizerName[] = JSON.parse('["Bogus"]');
    expect(() => q.updateSettings(settings({ prioritizers: bogus }))).toThrow(/unknown prioritizer/);
    expect(q.settings.backPressureObjectThreshold).toBe(10_000);
    expect(() => new ConnectionQueue('x', settings(), { swap: new MemorySwapManager(), swapThreshold: 0 })).toThrow(RangeError);
  });
});

describe('ConnectionQueue penalties', () => {
  it('holds penalized FlowFiles until their penalty expires', () => {
    const { q, clock, listener } = makeQueue();
    const [a, b] = numbered(2);
    if (!a || !b) throw new Error('setup');
    q.put(a.with({ penaltyExpiration: T0 + 1000 }));
    expect(listener.take()).toEqual(['at:q:1000']);
    expect(q.hasEligible()).toBe(false);
    expect(q.poll()).toBeUndefined();
    expect(q.nextEligibleAt()).toBe(T0 + 1000);
    expect(q.isEmpty()).toBe(false);
    expect(q.size()).toMatchObject({ count: 1, activeCount: 1, penalizedCount: 1 });

    q.put(b);
    expect(listener.take()).toEqual(['data:q']);
    expect(q.nextEligibleAt()).toBeUndefined();
    expect(n(q.poll())).toBe(1);
    expect(q.poll()).toBeUndefined();
    expect(listener.take()).toEqual(['at:q:1000']);

    clock.t = T0 + 999;
    expect(q.hasEligible()).toBe(false);
    clock.t = T0 + 1000;
    expect(q.hasEligible()).toBe(true);
    expect(q.nextEligibleAt()).toBeUndefined();
    expect(n(q.poll())).toBe(0);
    expect(q.size().penalizedCount).toBe(0);
  });

  it('returns an expired penalty to its arrival position (FIFO)', () => {
    const { q, clock } = makeQueue();
    const ffs = numbered(4, (i) => ({ penaltyExpiration: i === 0 ? T0 + 10 : 0 }));
    q.putAll(ffs);
    expect(n(q.poll())).toBe(1);
    clock.t = T0 + 10;
    expect([q.poll(), q.poll(), q.poll()].map(n)).toEqual([0, 2, 3]);
  });

  it('reports only an earlier penalty expiry to eligibleAt', () => {
    const { q, listener } = makeQueue();
    q.put(flowFile({ penaltyExpiration: T0 + 500 }));
    q.put(flowFile({ penaltyExpiration: T0 + 900 }));
    q.put(flowFile({ penaltyExpiration: T0 + 100 }));
    expect(listener.take()).toEqual(['at:q:500', 'at:q:100']);
    expect(q.nextEligibleAt()).toBe(T0 + 100);
  });
});

describe('ConnectionQueue in flight and back pressure', () => {
  it('counts FlowFiles in flight until acknowledged', () => {
    const { q, listener } = makeQueue({ backPressureObjectThreshold: 3 });
    q.putAll(numbered(3));
    expect(q.isFull()).toBe(true);
    const taken = q.pollBatch(2);
    expect(taken.map(n)).toEqual([0, 1]);
    expect(q.isFull()).toBe(true);
    expect(q.size()).toMatchObject({ count: 3, activeCount: 1, inFlightCount: 2 });
    expect(q.isEmpty()).toBe(false);
    listener.take();
    q.acknowledge([taken[0]?.uuid ?? '']);
    expect(q.isFull()).toBe(false);
    expect(listener.take()).toEqual(['space:q']);
    q.acknowledge(taken.slice(1));
    expect(listener.take()).toEqual([]);
    expect(q.size()).toMatchObject({ count: 1, inFlightCount: 0 });
  });

  it('requeue returns FlowFiles to their place and keeps them counted', () => {
    const { q, listener } = makeQueue({ backPressureObjectThreshold: 5 });
    q.putAll(numbered(5));
    const first = q.pollBatch(3);
    expect(q.poll()).toBeDefined(); // n=3
    listener.take();
    q.requeue([...first].reverse());
    expect(q.isFull()).toBe(true);
    expect(listener.take()).toEqual([]); // n=4 was still eligible: no transition
    const again = q.pollBatch(10);
    expect(again.map(n)).toEqual([0, 1, 2, 4]);
    expect(q.size().inFlightCount).toBe(5);
  });

  it('requeue of a penalized version waits for the penalty', () => {
    const { q, clock, listener } = makeQueue();
    q.putAll(numbered(2));
    const a = q.poll();
    const b = q.poll();
    if (!a || !b) throw new Error('setup');
    listener.take();
    q.requeue([a.with({ penaltyExpiration: T0 + 30_000 }), b]);
    expect(listener.take()).toEqual(['data:q']);
    expect(n(q.poll())).toBe(1);
    expect(q.poll()).toBeUndefined();
    clock.t = T0 + 30_000;
    const back = q.poll();
    expect(n(back)).toBe(0);
    expect(back?.penaltyExpiration).toBe(T0 + 30_000);
  });

  it('refuses to acknowledge or requeue what it did not hand out', () => {
    const { q } = makeQueue();
    const [a, b] = numbered(2);
    if (!a || !b) throw new Error('setup');
    q.putAll([a, b]);
    const taken = q.poll();
    expect(() => q.acknowledge([b])).toThrow(/not taken from it/);
    expect(() => q.requeue([b])).toThrow(/not taken from it/);
    expect(() => q.acknowledge([taken ?? a, 'nope'])).toThrow(/nope/);
    expect(q.size()).toMatchObject({ count: 1, inFlightCount: 0 });
  });

  it('back pressure by count, by size, and disabled at 0', () => {
    const byCount = makeQueue({ backPressureObjectThreshold: 2, backPressureDataSizeThreshold: 0 }).q;
    byCount.put(flowFile({ size: 10 ** 9 }));
    expect(byCount.isFull()).toBe(false);
    byCount.put(flowFile());
    expect(byCount.isFull()).toBe(true);

    const bySize = makeQueue({ backPressureObjectThreshold: 0, backPressureDataSizeThreshold: 1000 }).q;
    bySize.putAll(numbered(50, () => ({ size: 10 })));
    expect(bySize.isFull()).toBe(false);
    bySize.put(flowFile({ size: 500 }));
    expect(bySize.isFull()).toBe(true);
    expect(bySize.size().bytes).toBe(1000);

    const none = makeQueue({ backPressureObjectThreshold: 0, backPressureDataSizeThreshold: 0 }).q;
    none.putAll(numbered(50_000, () => ({ size: 1_000_000 })));
    expect(none.isFull()).toBe(false);
    expect(none.size().bytes).toBe(50_000 * 1_000_000);
  });

  it('calls the listener once per transition', () => {
    const { q, listener } = makeQueue({ backPressureObjectThreshold: 10 });
    q.putAll(numbered(4));
    q.put(flowFile());
    q.putAll(numbered(6));
    expect(listener.take()).toEqual(['data:q']);
    expect(q.isFull()).toBe(true);
    const all = q.pollBatch(100);
    expect(listener.take()).toEqual([]);
    q.acknowledge(all);
    expect(listener.take()).toEqual(['space:q']);
    q.put(flowFile());
    expect(listener.take()).toEqual(['data:q']);

    q.putAll(numbered(20));
    listener.take();
    q.drop(1);
    expect(listener.take()).toEqual([]); // 20 left: still full
    q.drop(15);
    expect(listener.take()).toEqual(['space:q']);
    q.putAll(numbered(10));
    q.updateSettings(settings({ backPressureObjectThreshold: 100 }));
    expect(listener.take()).toEqual(['space:q']);
  });

  it('requeue into an empty queue says data is available', () => {
    const { q, listener } = makeQueue();
    q.putAll(numbered(3));
    const all = q.pollBatch(3);
    listener.take();
    q.requeue(all);
    expect(listener.take()).toEqual(['data:q']);
  });
});

describe('ConnectionQueue pollBatch filter', () => {
  it('takes accepted FlowFiles and leaves rejected ones in place', () => {
    const { q } = makeQueue();
    q.putAll(numbered(10));
    const odd = q.pollBatch(3, (ff) => ({ accept: n(ff) % 2 === 1, continue: true }));
    expect(odd.map(n)).toEqual([1, 3, 5]);
    const stop = q.pollBatch(10, (ff) => ({ accept: true, continue: n(ff) < 2 }));
    expect(stop.map(n)).toEqual([0, 2]);
    const rejectStop = q.pollBatch(10, (ff) => ({ accept: n(ff) !== 6, continue: n(ff) !== 6 }));
    expect(rejectStop.map(n)).toEqual([4]);
    expect(q.pollBatch(10).map(n)).toEqual([6, 7, 8, 9]);
  });

  it('undoes the batch when the filter throws', () => {
    const { q } = makeQueue({ prioritizers: ['PriorityAttribute'] });
    q.putAll(numbered(5, (i) => ({ attributes: { priority: String(i) } })));
    expect(() =>
      q.pollBatch(10, (ff) => {
        if (n(ff) === 3) throw new Error('boom');
        return { accept: n(ff) !== 1, continue: true };
      }),
    ).toThrow('boom');
    expect(q.size()).toMatchObject({ count: 5, inFlightCount: 0, activeCount: 5 });
    expect(q.pollBatch(10).map(n)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('ConnectionQueue expiration', () => {
  it('removes expired FlowFiles on poll and reports them through onExpired', () => {
    const reported: number[][] = [];
    const { q, clock } = makeQueue({ expirationMs: 1000 }, { onExpired: (ffs) => reported.push(ffs.map((ff) => n(ff))) });
    q.putAll(numbered(5, (i) => ({ entryDate: i % 2 === 0 ? T0 - 2000 : T0 })));
    expect(q.size().count).toBe(5);
    expect(n(q.poll())).toBe(1);
    expect(reported).toEqual([[0]]);
    expect(q.pollBatch(10).map(n)).toEqual([3]);
    expect(reported).toEqual([[0], [2, 4]]);
    expect(q.size()).toMatchObject({ count: 2, inFlightCount: 2 });
    clock.t = T0 + 1000;
    q.putAll(numbered(1));
    expect(q.poll()).toBeDefined(); // age 1000 is not > 1000
    expect(q.expire()).toEqual([]);
  });

  it('expire() removes every expired FlowFile in memory and hands out those polls held', () => {
    const { q, clock, listener } = makeQueue(
      { expirationMs: 1000, backPressureObjectThreshold: 6 },
      { swapThreshold: 4, swapBatchSize: 2 },
    );
    q.putAll(numbered(7, (i) => ({ entryDate: T0 + i * 100, penaltyExpiration: i === 1 ? T0 + 60_000 : 0 })));
    expect(q.isFull()).toBe(true);
    clock.t = T0 + 1250; // n=0,1,2 are older than 1000 ms
    listener.take();
    expect(n(q.poll())).toBe(3); // n=0, n=2 removed on the way and held (no onExpired)
    expect(q.size().count).toBe(5);
    expect(listener.take()).toEqual(['space:q']);
    clock.t = T0 + 1550;
    const expired = q.expire().map(n);
    expect(expired.sort()).toEqual([0, 1, 2, 4, 5]);
    expect(q.expire()).toEqual([]);
    expect(q.size()).toMatchObject({ count: 2, inFlightCount: 1 });
    expect(n(q.poll())).toBe(6);
  });

  it('never expires when expirationMs is 0', () => {
    const { q, clock } = makeQueue();
    q.putAll(numbered(3, () => ({ entryDate: 0 })));
    clock.t = T0 * 2;
    expect(q.expire()).toEqual([]);
    expect(q.pollBatch(10)).toHaveLength(3);
  });
});

describe('ConnectionQueue swapping', () => {
  it('swaps beyond the threshold and keeps FIFO order and counts', () => {
    const { q, swap } = makeQueue({ backPressureObjectThreshold: 0 }, { swapThreshold: 20, swapBatchSize: 10 });
    const ffs = numbered(55, () => ({ size: 3 }));
    for (const ff of ffs.slice(0, 25)) q.put(ff);
    q.putAll(ffs.slice(25));
    expect(q.size()).toEqual({
      count: 55,
      bytes: 165,
      activeCount: 20,
      swappedCount: 35,
      inFlightCount: 0,
      penalizedCount: 0,
    });
    expect(q.swapFileCount).toBe(3);
    expect(swap.flowFileCount).toBe(30);
    expect(q.inMemoryCount).toBe(25);

    const out: number[] = [];
    for (let ff = q.poll(); ff !== undefined; ff = q.poll()) {
      out.push(n(ff));
      expect(q.inMemoryCount).toBeLessThanOrEqual(30);
      q.acknowledge([ff]);
    }
    expect(out).toEqual(ffs.map(n));
    expect(q.size()).toEqual({ count: 0, bytes: 0, activeCount: 0, swappedCount: 0, inFlightCount: 0, penalizedCount: 0 });
    expect(swap.fileCount).toBe(0);
  });

  it('keeps memory bounded while a backlog grows and drains in batches', () => {
    const { q, swap } = makeQueue({ backPressureObjectThreshold: 0 }, { swapThreshold: 20, swapBatchSize: 10 });
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 50; round++) {
      q.putAll(numbered(37).map((ff) => ff.with({ attributes: new Map([['n', String(next++)]]) })));
      const batch = q.pollBatch(round % 3 === 0 ? 50 : 13);
      out.push(...batch.map(n));
      q.acknowledge(batch);
      expect(q.inMemoryCount).toBeLessThanOrEqual(30);
    }
    for (let batch = q.pollBatch(7); batch.length > 0; batch = q.pollBatch(7)) {
      out.push(...batch.map(n));
      q.acknowledge(batch);
      expect(q.inMemoryCount).toBeLessThanOrEqual(30);
    }
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(q.isEmpty()).toBe(true);
    expect(swap.fileCount).toBe(0);
  });

  it('moves the buffer to memory when no swap file is left', () => {
    const { q, swap } = makeQueue({}, { swapThreshold: 20, swapBatchSize: 10 });
    q.putAll(numbered(25));
    expect(swap.fileCount).toBe(0);
    expect(q.size().swappedCount).toBe(5);
    expect(q.pollBatch(10).map(n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(q.pollBatch(15).map(n)).toEqual(Array.from({ length: 15 }, (_, i) => i + 10));
  });

  it('does not prioritize arrivals at a swapped queue until they are swapped in (NiFi)', () => {
    const { q } = makeQueue({ prioritizers: ['PriorityAttribute'] }, { swapThreshold: 4, swapBatchSize: 2 });
    q.putAll(numbered(8, (i) => ({ attributes: { priority: String(10 - i) } })));
    // In memory: n=0..3 (priorities 10..7); swapped: n=4..7 (6..3), better but not yet seen.
    expect(q.pollBatch(3).map(n)).toEqual([3, 2, 1]);
    // Memory fell to the low mark (4 - 2): the first swap file (n=4,5) came in and is prioritized.
    expect(q.pollBatch(8).map(n)).toEqual([5, 4, 0, 7, 6]);
  });

  it('swaps in when memory holds only penalized FlowFiles', () => {
    const { q } = makeQueue({}, { swapThreshold: 4, swapBatchSize: 2 });
    q.putAll(numbered(7, (i) => ({ penaltyExpiration: i < 3 ? T0 + 1000 : 0 })));
    expect(q.pollBatch(10).map(n)).toEqual([3, 4, 5, 6]);
    expect(q.hasEligible()).toBe(false);
    expect(q.nextEligibleAt()).toBe(T0 + 1000);
  });

  it('snapshot holds everything in memory, the originals in flight, and the swap refs', () => {
    const { q } = makeQueue({}, { swapThreshold: 20, swapBatchSize: 10 });
    const ffs = numbered(55);
    q.putAll(ffs);
    const taken = q.pollBatch(3);
    const snap = q.snapshot();
    expect(snap.queueId).toBe('q');
    const inSnapshot = [...snap.flowFiles];
    expect(inSnapshot).toHaveLength(25);
    expect(inSnapshot.slice(0, 3)).toEqual(taken);
    expect(inSnapshot.map(n)).toEqual([...Array.from({ length: 20 }, (_, i) => i), 50, 51, 52, 53, 54]);
    expect(snap.swaps.map((s) => s.count)).toEqual([10, 10, 10]);
    // The originals as taken: a session's changes are not committed until it acknowledges.
    expect([...q.snapshot().flowFiles][0]).toBe(taken[0]);
    q.acknowledge(taken);
    expect([...q.snapshot().flowFiles]).toHaveLength(22);
  });

  it('restores a snapshot: FlowFiles first, then the swap files', () => {
    const { q, swap } = makeQueue({}, { swapThreshold: 20, swapBatchSize: 10 });
    q.putAll(numbered(50, () => ({ size: 2 })));
    const taken = q.pollBatch(2);
    expect(taken).toHaveLength(2);
    const snap = q.snapshot();
    const listener = new Recorder();
    const restored = new ConnectionQueue('q', settings(), { swap, listener, swapThreshold: 20, swapBatchSize: 10 });
    restored.restore([...snap.flowFiles], snap.swaps);
    expect(listener.take()).toEqual(['data:q']);
    expect(restored.size()).toMatchObject({ count: 50, bytes: 100, activeCount: 20, swappedCount: 30 });
    expect(drain(restored).map(n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => restored.restore([], [])).not.toThrow();
    restored.put(flowFile());
    expect(() => restored.restore([], [])).toThrow(/empty queue/);
  });

  it('restores more FlowFiles than the threshold by swapping the overflow out', () => {
    const swap = new MemorySwapManager();
    const q = new ConnectionQueue('q', settings(), { swap, swapThreshold: 20, swapBatchSize: 10 });
    const ref = swap.swapOut(
      'q',
      numbered(10, (i) => ({ attributes: { n: String(100 + i) } })),
    );
    q.restore(numbered(45), [ref]);
    expect(q.size()).toMatchObject({ count: 55, activeCount: 20, swappedCount: 35 });
    expect(q.swapFileCount).toBe(3);
    const order = drain(q).map(n);
    expect(order.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(order.slice(20, 30)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
    expect(order.slice(30)).toEqual(Array.from({ length: 25 }, (_, i) => 20 + i));
  });

  it('surfaces a swap-in failure without losing the swap file', () => {
    class FlakySwap extends MemorySwapManager {
      fail = true;
      override swapIn(ref: Parameters<MemorySwapManager['swapIn']>[0]) {
        if (this.fail) throw new Error('disk on fire');
        return super.swapIn(ref);
      }
    }
    const swap = new FlakySwap();
    const q = new ConnectionQueue('q', settings(), { swap, swapThreshold: 4, swapBatchSize: 2 });
    q.putAll(numbered(8));
    expect(q.pollBatch(4).map(n)).toEqual([0, 1, 2, 3]);
    expect(() => q.poll()).toThrow('disk on fire');
    expect(q.hasEligible()).toBe(true); // so the component polls and sees the error
    expect(() => q.pollBatch(3)).toThrow('disk on fire');
    expect(q.size()).toMatchObject({ count: 8, inFlightCount: 4, swappedCount: 4 });
    swap.fail = false;
    expect(q.pollBatch(10).map(n)).toEqual([4, 5, 6, 7]);
  });
});

describe('ConnectionQueue listing and drop', () => {
  it('lists pages in delivery order across memory, penalized, swap files and buffer', () => {
    const { q } = makeQueue({}, { swapThreshold: 20, swapBatchSize: 10 });
    q.putAll(numbered(55, (i) => ({ penaltyExpiration: i === 2 ? T0 + 5 : 0 })));
    const all = q.list(0, 1000);
    expect(all.map((r) => r.position)).toEqual(Array.from({ length: 55 }, (_, i) => i + 1));
    const expectOrder = [
      0,
      1,
      ...Array.from({ length: 17 }, (_, i) => i + 3),
      2,
      ...Array.from({ length: 35 }, (_, i) => i + 20),
    ];
    expect(all.map((r) => n(r.flowFile))).toEqual(expectOrder);
    expect(all[19]).toMatchObject({ position: 20, penalized: true, swapped: false });
    expect(all[20]).toMatchObject({ position: 21, penalized: false, swapped: true, enqueuedAt: T0 });
    const paged: number[] = [];
    for (let offset = 0; offset < 60; offset += 7) paged.push(...q.list(offset, 7).map((r) => n(r.flowFile)));
    expect(paged).toEqual(expectOrder);
    expect(q.list(33, 4).map((r) => r.position)).toEqual([34, 35, 36, 37]);
    expect(q.list(100, 10)).toEqual([]);
    expect(q.list(0, 0)).toEqual([]);
    // Listing changes nothing.
    expect(q.size()).toMatchObject({ count: 55, activeCount: 20, swappedCount: 35 });
  });

  it('finds a FlowFile wherever it waits', () => {
    const { q } = makeQueue({}, { swapThreshold: 20, swapBatchSize: 10 });
    const ffs = numbered(55);
    q.putAll(ffs);
    const taken = q.poll();
    expect(q.find(ffs[5]?.uuid ?? '')).toMatchObject({ position: 5, swapped: false });
    expect(q.find(ffs[33]?.uuid ?? '')).toMatchObject({ position: 33, swapped: true });
    expect(q.find(ffs[54]?.uuid ?? '')).toMatchObject({ position: 54, swapped: true });
    expect(q.find(taken?.uuid ?? '')).toBeUndefined();
    expect(q.find('nope')).toBeUndefined();
  });

  it('drops in batches, swap files whole, and leaves FlowFiles in flight alone', () => {
    const { q, swap } = makeQueue({}, { swapThreshold: 20, swapBatchSize: 10 });
    q.putAll(numbered(55, () => ({ size: 1 })));
    const taken = q.pollBatch(2);
    const dropped: number[] = [];
    const sizes: [number, number][] = [];
    while (!q.isEmpty()) {
      const r = q.drop(15);
      sizes.push([r.active.length, r.swapped.reduce((s, b) => s + b.flowFiles.length, 0)]);
      dropped.push(...r.active.map(n), ...r.swapped.flatMap((b) => b.flowFiles.map(n)));
    }
    expect(sizes).toEqual([
      [15, 0],
      [8, 0],
      [0, 10],
      [0, 10],
      [0, 10],
    ]);
    expect(dropped.sort((a, b) => a - b)).toEqual(Array.from({ length: 53 }, (_, i) => i + 2));
    expect(swap.fileCount).toBe(0);
    expect(q.size()).toMatchObject({ count: 2, bytes: 2, inFlightCount: 2 });
    q.acknowledge(taken);
    expect(q.size().count).toBe(0);
    q.putAll(numbered(3));
    expect(q.drop(100).active).toHaveLength(3);
    expect(q.drop(100)).toEqual({ active: [], swapped: [] });
  });

  it('drops a swap file larger than the batch when nothing else is left', () => {
    const { q } = makeQueue({}, { swapThreshold: 4, swapBatchSize: 3 });
    q.putAll(numbered(7));
    expect(q.drop(4).active).toHaveLength(4);
    const r = q.drop(2);
    expect(r.active).toHaveLength(0);
    expect(r.swapped[0]?.flowFiles.map(n)).toEqual([4, 5, 6]);
    expect(q.isEmpty()).toBe(true);
  });
});

describe('ConnectionQueue at scale', () => {
  it('moves 1,000,000 FlowFiles through default thresholds with bounded memory', () => {
    const swap = new MemorySwapManager();
    const q = new ConnectionQueue('big', settings({ backPressureObjectThreshold: 0 }), { swap });
    const total = 1_000_000;
    const attributes = new Map([['filename', 'x']]);
    const claim: ContentClaim = { resourceId: 'r1', offset: 0, length: 10 };
    let maxInMemory = 0;
    let putMs = 0;
    for (let i = 0; i < total; i += 1000) {
      const batch: FlowFileRecord[] = [];
      for (let j = i; j < i + 1000; j++) batch.push(new FlowFileRecord(uuidv7(), attributes, claim, j, j));
      const t = performance.now();
      q.putAll(batch);
      putMs += performance.now() - t;
      maxInMemory = Math.max(maxInMemory, q.inMemoryCount);
    }
    // Expose gc without a command-line flag, to read the heap of live objects only.
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    if (typeof gc === 'function') gc();
    const heapWhenFull = process.memoryUsage().heapUsed;
    expect(q.size()).toMatchObject({ count: total, bytes: total * 10, activeCount: 20_000, swappedCount: 980_000 });
    expect(q.swapFileCount).toBe(98);
    const swappedWhenFull = swap.flowFileCount;

    const queueHeap = heapWhenFull;
    const filled = performance.now();
    let expected = 0;
    let ordered = true;
    for (let batch = q.pollBatch(1000); batch.length > 0; batch = q.pollBatch(1000)) {
      for (const ff of batch) if (ff.entryDate !== expected++) ordered = false;
      q.acknowledge(batch);
      maxInMemory = Math.max(maxInMemory, q.inMemoryCount);
    }
    const drained = performance.now();
    expect(ordered).toBe(true);
    expect(expected).toBe(total);
    expect(q.size().count).toBe(0);
    expect(swap.fileCount).toBe(0);
    expect(maxInMemory).toBeLessThanOrEqual(30_000);
    console.log(
      `1M FlowFiles: putAll ${putMs.toFixed(0)} ms, pollBatch+acknowledge ${(drained - filled).toFixed(0)} ms; ` +
        `max queued in memory ${maxInMemory}; heapUsed when full ${(queueHeap / 2 ** 20).toFixed(0)} MiB ` +
        `(the MemorySwapManager holds the other ${swappedWhenFull} records)` +
        (typeof gc === 'function' ? ' (after gc)' : ' (no gc exposed)'),
    );
  });
});
