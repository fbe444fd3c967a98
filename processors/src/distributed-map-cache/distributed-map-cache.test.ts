import { appendFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRunner } from '@sluice/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DetectDuplicate } from '../detect-duplicate/index.ts';
import { DistributedMapCache, type MapCache } from './index.ts';

describe('DistributedMapCache', () => {
  let runner: TestRunner | undefined;
  let root: string;
  let elsewhere: string;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-mapcache-')));
    elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-mapcache-outside-')));
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  /** A runner whose DetectDuplicate uses (and so opens) the cache; returns the cache object itself. */
  const start = async (cache: Record<string, string> = {}): Promise<MapCache> => {
    runner = await TestRunner.create(DetectDuplicate, {
      properties: { cacheService: 'cache' },
      services: { cache: { type: DistributedMapCache, properties: cache } },
      fileRoots: [root],
    });
    // onScheduled opens the cache (and loads its file); a run with no input does nothing else.
    await runner.run();
    const node = [...runner.engine.services()].find((s) => s.id === 'cache');
    return node?.instance as MapCache;
  };

  it('gets, puts, removes and answers containsKey', async () => {
    const cache = await start();
    expect(await cache.get('a')).toBeUndefined();
    await cache.put('a', '1');
    expect(await cache.get('a')).toBe('1');
    expect(await cache.containsKey('a')).toBe(true);
    expect(await cache.putIfAbsent('a', '2')).toBe(false);
    expect(await cache.putIfAbsent('b', '2')).toBe(true);
    expect(await cache.get('b')).toBe('2');
    expect(await cache.remove('a')).toBe(true);
    expect(await cache.remove('a')).toBe(false);
    expect(await cache.containsKey('a')).toBe(false);
    // Keys that are traps for plain objects are ordinary keys here.
    await cache.put('__proto__', 'p');
    expect(await cache.get('__proto__')).toBe('p');
    expect(await cache.get('constructor')).toBeUndefined();
  });

  it('replaces only at the revision that was read (compare and set)', async () => {
    const cache = await start();
    expect(await cache.replace('k', 'first', undefined)).toBe(true);
    expect(await cache.replace('k', 'again', undefined)).toBe(false);
    const read = await cache.fetch('k');
    expect(read?.value).toBe('first');
    await cache.put('k', 'someone else');
    expect(await cache.replace('k', 'mine', read?.revision)).toBe(false);
    const fresh = await cache.fetch('k');
    expect(await cache.replace('k', 'mine', fresh?.revision)).toBe(true);
    expect(await cache.get('k')).toBe('mine');
    // Compare and delete: a stale revision leaves the entry alone.
    expect(await cache.remove('k', fresh?.revision)).toBe(false);
    expect(await cache.remove('k', (await cache.fetch('k'))?.revision)).toBe(true);
    expect(await cache.containsKey('k')).toBe(false);
  });

  it('evicts the least recently used entry beyond the maximum (or the oldest with FIFO)', async () => {
    let cache = await start({ maxEntries: '2' });
    await cache.put('a', '1');
    await cache.put('b', '2');
    await cache.get('a');
    await cache.put('c', '3');
    expect([await cache.get('a'), await cache.get('b'), await cache.get('c')]).toEqual(['1', undefined, '3']);
    await runner?.close();

    cache = await start({ maxEntries: '2', evictionStrategy: 'FIFO' });
    await cache.put('a', '1');
    await cache.put('b', '2');
    await cache.get('a');
    await cache.put('c', '3');
    expect([await cache.get('a'), await cache.get('b'), await cache.get('c')]).toEqual([undefined, '2', '3']);
  });

  it('expires entries after their time to live, or the default one', async () => {
    const cache = await start({ entryTimeToLive: '1 sec' });
    await cache.put('default', 'x');
    await cache.put('own', 'y', { ttlMs: 60_000 });
    expect(await cache.get('default')).toBe('x');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await cache.get('default')).toBeUndefined();
    expect(await cache.putIfAbsent('default', 'again')).toBe(true);
    expect(await cache.get('own')).toBe('y');
  });

  it('keeps its entries across a restart in its persistence file', async () => {
    const file = join(root, 'cache', 'entries.journal');
    let cache = await start({ persistenceFile: file });
    await cache.put('kept', 'v1');
    await cache.put('gone', 'v2');
    await cache.remove('gone');
    await cache.put('short', 'v3', { ttlMs: 1 });
    await runner?.close(); // disabling flushes the journal

    cache = await start({ persistenceFile: file });
    expect(await cache.get('kept')).toBe('v1');
    expect(await cache.get('gone')).toBeUndefined();
    expect(await cache.get('short')).toBeUndefined();
    // Revisions go on from where they were: an old revision never matches a newer write.
    const before = await cache.fetch('kept');
    await cache.put('kept', 'v4');
    expect((await cache.fetch('kept'))?.revision).toBeGreaterThan(before?.revision ?? Number.POSITIVE_INFINITY);
  });

  it('ignores a line cut short by a crash, with a warning', async () => {
    const file = join(root, 'entries.journal');
    writeFileSync(file, `${JSON.stringify(['a', '1', 1, 0])}\n${JSON.stringify(['b', '2', 2, 0])}\n`);
    appendFileSync(file, '["c","3",3,');
    const cache = await start({ persistenceFile: file });
    expect(await cache.get('a')).toBe('1');
    expect(await cache.get('b')).toBe('2');
    expect(await cache.get('c')).toBeUndefined();
    expect(runner?.logsAt('WARN').map((l) => l.message)).toEqual([expect.stringMatching(/ignored 1 unreadable line/)]);
  });

  it('rewrites its journal so the file stays small under many updates of few keys', async () => {
    const file = join(root, 'entries.journal');
    const cache = await start({ persistenceFile: file });
    for (let i = 0; i < 40_000; i++) await cache.put(`k${i % 10}`, String(i));
    await runner?.close();
    // 40,000 lines of ~25 bytes would be ~1 MB; a compacted journal holds ~10 lines plus the last changes.
    expect(statSync(file).size).toBeLessThan(400_000);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(15_000);

    const reopened = await start({ persistenceFile: file });
    expect(await reopened.get('k9')).toBe('39999');
    expect(await reopened.get('k0')).toBe('39990');
  });

  it('refuses a persistence file outside the allowed directories, so its processors cannot start', async () => {
    runner = await TestRunner.create(DetectDuplicate, {
      properties: { cacheService: 'cache' },
      services: { cache: { type: DistributedMapCache, properties: { persistenceFile: join(elsewhere, 'x.journal') } } },
      fileRoots: [root],
    });
    await expect(runner.run()).rejects.toThrow(/outside the directories file processors may use/);
  });

  it('is invalid with a maximum of 0 entries', async () => {
    await expect(
      TestRunner.create(DetectDuplicate, {
        properties: { cacheService: 'cache' },
        services: { cache: { type: DistributedMapCache, properties: { maxEntries: '0' } } },
      }),
    ).rejects.toThrow('property "maxEntries": 0 is below the minimum of 1');
  });
});
