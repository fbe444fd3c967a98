import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateOp } from '../repository/types.ts';
import { compareKeys, prefixUpperBound } from './key-order.ts';
import { MemoryStateStore } from './memory-state-store.ts';
import type { OverlayStateStore } from './overlay-state-store.ts';
import { SqliteStateStore } from './sqlite-state-store.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-state-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'state.db');
}

const factories: Array<[string, () => OverlayStateStore]> = [
  ['MemoryStateStore', () => new MemoryStateStore()],
  [
    'SqliteStateStore',
    () => {
      const store = new SqliteStateStore(tempDb());
      cleanups.unshift(() => store.close());
      return store;
    },
  ],
];

let seq = 0;
/** Stages and applies one transaction. */
function commit(store: OverlayStateStore, componentId: string, ops: StateOp[]): number {
  seq = Math.max(seq, store.appliedSeq()) + 1;
  store.stage(seq, [{ componentId, ops }]);
  store.apply(seq, [{ componentId, ops }]);
  return seq;
}
const set = (key: string, value: string): StateOp => ({ op: 'set', key, value });

describe.each(factories)('%s', (_name, create) => {
  it('sets, gets, deletes and clears, per component', () => {
    const store = create();
    commit(store, 'a', [set('x', '1'), set('y', '2')]);
    commit(store, 'b', [set('x', 'other')]);
    expect(store.get('a', 'x')).toBe('1');
    expect(store.get('b', 'x')).toBe('other');
    expect(store.count('a')).toBe(2);
    commit(store, 'a', [{ op: 'delete', key: 'x' }, set('y', '3')]);
    expect(store.get('a', 'x')).toBeUndefined();
    expect(store.get('a', 'y')).toBe('3');
    expect(store.count('a')).toBe(1);
    commit(store, 'a', [{ op: 'clear' }, set('z', '9')]);
    expect(store.scan('a')).toEqual([['z', '9']]);
    expect(store.count('a')).toBe(1);
    expect(store.count('b')).toBe(1);
    expect(store.count('none')).toBe(0);
  });

  it('makes staged changes visible before apply, and keeps newer staged changes after an older apply', () => {
    const store = create();
    const base = store.appliedSeq();
    store.stage(base + 1, [{ componentId: 'c', ops: [set('k', 'v1'), set('gone', 'x')] }]);
    store.stage(base + 2, [{ componentId: 'c', ops: [set('k', 'v2'), { op: 'delete', key: 'gone' }] }]);
    expect(store.get('c', 'k')).toBe('v2');
    expect(store.get('c', 'gone')).toBeUndefined();
    expect(store.count('c')).toBe(1);
    expect(store.appliedSeq()).toBe(base);
    store.apply(base + 1, [{ componentId: 'c', ops: [set('k', 'v1'), set('gone', 'x')] }]);
    // The older transaction is persisted, but the read still sees the newer staged value.
    expect(store.get('c', 'k')).toBe('v2');
    expect(store.get('c', 'gone')).toBeUndefined();
    expect(store.count('c')).toBe(1);
    expect(store.scan('c')).toEqual([['k', 'v2']]);
    expect(store.stagedComponents()).toBe(1);
    store.apply(base + 2, [{ componentId: 'c', ops: [set('k', 'v2'), { op: 'delete', key: 'gone' }] }]);
    expect(store.stagedComponents()).toBe(0);
    expect(store.get('c', 'k')).toBe('v2');
    expect(store.appliedSeq()).toBe(base + 2);
    // Applying an old seq again changes nothing (replay).
    store.apply(base + 1, [{ componentId: 'c', ops: [set('k', 'stale')] }]);
    expect(store.get('c', 'k')).toBe('v2');
  });

  it('hides persisted keys behind a staged clear, but shows keys staged after it', () => {
    const store = create();
    commit(store, 'c', [set('a', '1'), set('b', '2'), set('c', '3')]);
    const s = store.appliedSeq();
    store.stage(s + 1, [{ componentId: 'c', ops: [{ op: 'clear' }] }]);
    store.stage(s + 2, [{ componentId: 'c', ops: [set('b', 'new')] }]);
    expect(store.get('c', 'a')).toBeUndefined();
    expect(store.scan('c')).toEqual([['b', 'new']]);
    expect(store.count('c')).toBe(1);
    store.apply(s + 1, [{ componentId: 'c', ops: [{ op: 'clear' }] }]);
    expect(store.scan('c')).toEqual([['b', 'new']]);
    store.apply(s + 2, [{ componentId: 'c', ops: [set('b', 'new')] }]);
    expect(store.scan('c')).toEqual([['b', 'new']]);
    expect(store.count('c')).toBe(1);
  });

  it('scans by prefix, start, end, limit and in reverse', () => {
    const store = create();
    const keys = ['a', 'b/1', 'b/2', 'b/3', 'b0', 'c', 'ca', 'd'];
    commit(
      store,
      's',
      keys.map((k) => set(k, k.toUpperCase())),
    );
    const k = (rows: Array<[string, string]>): string[] => rows.map(([key]) => key);
    expect(k(store.scan('s'))).toEqual(keys);
    expect(store.scan('s', { prefix: 'b/' })).toEqual([
      ['b/1', 'B/1'],
      ['b/2', 'B/2'],
      ['b/3', 'B/3'],
    ]);
    expect(k(store.scan('s', { prefix: 'b/', reverse: true }))).toEqual(['b/3', 'b/2', 'b/1']);
    expect(k(store.scan('s', { prefix: 'b/', limit: 2, reverse: true }))).toEqual(['b/3', 'b/2']);
    expect(k(store.scan('s', { start: 'b0', end: 'd' }))).toEqual(['b0', 'c', 'ca']);
    expect(k(store.scan('s', { start: 'b0', end: 'd', reverse: true, limit: 2 }))).toEqual(['ca', 'c']);
    expect(k(store.scan('s', { prefix: 'c', start: 'c0' }))).toEqual(['ca']);
    expect(k(store.scan('s', { prefix: 'b', end: 'b/3' }))).toEqual(['b/1', 'b/2']);
    expect(store.scan('s', { start: 'd', end: 'a' })).toEqual([]);
    expect(store.scan('s', { limit: 0 })).toEqual([]);
    expect(() => store.scan('s', { limit: -1 })).toThrow(RangeError);
  });

  it('merges staged changes into scans, honouring limit and direction', () => {
    const store = create();
    commit(
      store,
      'm',
      ['k1', 'k2', 'k3', 'k4', 'k5'].map((key) => set(key, 'db')),
    );
    const s = store.appliedSeq();
    store.stage(s + 1, [
      {
        componentId: 'm',
        ops: [{ op: 'delete', key: 'k2' }, set('k3', 'staged'), set('k35', 'staged'), { op: 'delete', key: 'k1' }],
      },
    ]);
    expect(store.scan('m')).toEqual([
      ['k3', 'staged'],
      ['k35', 'staged'],
      ['k4', 'db'],
      ['k5', 'db'],
    ]);
    expect(store.scan('m', { limit: 2 })).toEqual([
      ['k3', 'staged'],
      ['k35', 'staged'],
    ]);
    expect(store.scan('m', { reverse: true, limit: 3 })).toEqual([
      ['k5', 'db'],
      ['k4', 'db'],
      ['k35', 'staged'],
    ]);
    expect(store.scan('m', { start: 'k2', end: 'k4' })).toEqual([
      ['k3', 'staged'],
      ['k35', 'staged'],
    ]);
    expect(store.count('m')).toBe(4);
  });

  it('orders keys by UTF-8 bytes (code points), the same as compareKeys', () => {
    const store = create();
    // U+FF5E (fullwidth tilde) < U+1F600 (emoji) in code point and UTF-8 order, but not in UTF-16.
    const keys = ['z', '\uFF5E', '😀', 'é', 'a', '\u{10FFFF}', '\uE000'];
    commit(
      store,
      'u',
      keys.map((key) => set(key, key)),
    );
    const expected = [...keys].sort(compareKeys);
    expect(expected).toEqual(['a', 'z', 'é', '\uE000', '\uFF5E', '😀', '\u{10FFFF}']);
    expect(store.scan('u').map(([key]) => key)).toEqual(expected);
    expect(store.scan('u', { reverse: true }).map(([key]) => key)).toEqual([...expected].reverse());
    expect(store.scan('u', { start: '\uFF5E' }).map(([key]) => key)).toEqual(['\uFF5E', '😀', '\u{10FFFF}']);
    // Buffer comparison of UTF-8 agrees.
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(byBytes).toEqual(expected);
  });

  it('refuses keys with lone surrogates', () => {
    const store = create();
    expect(() => store.stage(1, [{ componentId: 'c', ops: [set('\uDC00', 'x')] }])).toThrow(TypeError);
    expect(store.stagedComponents()).toBe(0);
  });
});

describe('key order helpers', () => {
  it('computes the prefix upper bound', () => {
    expect(prefixUpperBound('ab')).toBe('ac');
    expect(prefixUpperBound('a\u{10FFFF}')).toBe('b');
    expect(prefixUpperBound('\uD7FF')).toBe('\uE000');
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('\u{10FFFF}')).toBeUndefined();
  });
});

describe('SqliteStateStore', () => {
  it('persists values and the applied seq across reopen, and syncs', () => {
    const path = tempDb();
    const store = new SqliteStateStore(path);
    store.apply(7, [{ componentId: 'c', ops: [set('k', 'v')] }]);
    store.stage(8, [{ componentId: 'c', ops: [set('staged', 'only')] }]);
    store.sync();
    store.close();
    const again = new SqliteStateStore(path);
    expect(again.appliedSeq()).toBe(7);
    expect(again.get('c', 'k')).toBe('v');
    // Staged but never applied: gone with the process (the journal replays it).
    expect(again.get('c', 'staged')).toBeUndefined();
    again.close();
  });

  it('scales to a million keys in one component', { timeout: 120_000 }, () => {
    const store = new SqliteStateStore(tempDb());
    cleanups.unshift(() => store.close());
    const key = (i: number): string => `key-${String(i).padStart(7, '0')}`;
    let t = performance.now();
    const batch = 10_000;
    let s = 0;
    for (let start = 0; start < 1_000_000; start += batch) {
      const ops: StateOp[] = [];
      for (let i = start; i < start + batch; i++) ops.push(set(key(i), `value-${i}`));
      s++;
      store.stage(s, [{ componentId: 'big', ops }]);
      store.apply(s, [{ componentId: 'big', ops }]);
    }
    const applyMs = performance.now() - t;
    t = performance.now();
    const mid = store.scan('big', { start: key(500_000), limit: 100 });
    const scanMs = performance.now() - t;
    expect(mid.length).toBe(100);
    expect(mid[0]).toEqual([key(500_000), 'value-500000']);
    expect(mid[99]?.[0]).toBe(key(500_099));
    t = performance.now();
    const reverse = store.scan('big', { end: key(500_000), limit: 100, reverse: true });
    const reverseMs = performance.now() - t;
    expect(reverse[0]?.[0]).toBe(key(499_999));
    t = performance.now();
    const prefixed = store.scan('big', { prefix: 'key-07777' });
    const prefixMs = performance.now() - t;
    expect(prefixed.length).toBe(100);
    // With staged changes merged in.
    store.stage(s + 1, [{ componentId: 'big', ops: [{ op: 'delete', key: key(500_001) }, set(`${key(500_001)}x`, 'new')] }]);
    t = performance.now();
    const merged = store.scan('big', { start: key(500_000), limit: 100 });
    const mergedMs = performance.now() - t;
    expect(merged[1]).toEqual([`${key(500_001)}x`, 'new']);
    expect(merged.length).toBe(100);
    t = performance.now();
    const n = store.count('big');
    const countMs = performance.now() - t;
    expect(n).toBe(1_000_000);
    t = performance.now();
    for (let i = 0; i < 10_000; i++) store.get('big', key((i * 97) % 1_000_000));
    const getUs = ((performance.now() - t) / 10_000) * 1000;
    t = performance.now();
    store.sync();
    const syncMs = performance.now() - t;
    console.log(
      `[state] 1M keys applied in ${applyMs.toFixed(0)} ms (${Math.round(1_000_000 / (applyMs / 1000))} keys/s, batches of ${batch}); ` +
        `scan 100 mid ${scanMs.toFixed(2)} ms, reverse ${reverseMs.toFixed(2)} ms, prefix ${prefixMs.toFixed(2)} ms, ` +
        `merged ${mergedMs.toFixed(2)} ms; count ${countMs.toFixed(1)} ms; get ${getUs.toFixed(1)} µs; sync ${syncMs.toFixed(0)} ms`,
    );
    expect(scanMs).toBeLessThan(50);
  });
});
