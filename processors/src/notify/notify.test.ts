import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributedMapCache, type MapCache } from '../distributed-map-cache/index.ts';
import { Notify } from './index.ts';
import { parseSignal } from './signal.ts';

describe('Notify', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (properties: Record<string, string> = {}): Promise<{ r: TestRunner; cache: MapCache }> => {
    const r = await TestRunner.create(Notify, {
      properties: { releaseSignalIdentifier: '${batch}', cacheService: 'cache', ...properties },
      services: { cache: { type: DistributedMapCache } },
    });
    runner = r;
    const cache = [...r.engine.services()].find((s) => s.id === 'cache')?.instance as MapCache;
    return { r, cache };
  };

  const signal = async (cache: MapCache, id: string) => {
    const text = await cache.get(id);
    return text === undefined ? undefined : parseSignal(id, text);
  };

  it('counts FlowFiles into the signal of their identifier, and marks them notified', async () => {
    const { r, cache } = await create();
    await r.enqueue('1', { batch: 'b1' });
    await r.enqueue('2', { batch: 'b1' });
    await r.enqueue('3', { batch: 'b2' });
    await r.run();
    r.assertAllTransferred('success', 3);
    expect(r.transferred('success').every((f) => f.attribute('notified') === 'true')).toBe(true);
    expect((await signal(cache, 'b1'))?.counts).toEqual(new Map([['default', 2]]));
    expect((await signal(cache, 'b2'))?.counts).toEqual(new Map([['default', 1]]));
    await r.enqueue('4', { batch: 'b1' });
    await r.run();
    expect((await signal(cache, 'b1'))?.counts).toEqual(new Map([['default', 3]]));
  });

  it('uses counter names and deltas from attributes; a delta of 0 resets the counter', async () => {
    const { r, cache } = await create({ signalCounterName: '${outcome}', signalCounterDelta: '${n}' });
    await r.enqueue('', { batch: 'b', outcome: 'ok', n: '5' });
    await r.enqueue('', { batch: 'b', outcome: 'failed', n: '2' });
    await r.enqueue('', { batch: 'b', outcome: 'ok', n: '-1' });
    await r.run();
    expect((await signal(cache, 'b'))?.counts).toEqual(
      new Map([
        ['ok', 4],
        ['failed', 2],
      ]),
    );
    await r.enqueue('', { batch: 'b', outcome: 'ok', n: '0' });
    await r.run();
    expect((await signal(cache, 'b'))?.counts).toEqual(
      new Map([
        ['ok', 0],
        ['failed', 2],
      ]),
    );
  });

  it('stores the attributes matching Attribute Cache Regex with the signal', async () => {
    const { r, cache } = await create({ attributeCacheRegex: 'result\\..*' });
    await r.enqueue('', { batch: 'b', 'result.rows': '10', 'result.file': 'a.csv', other: 'x' });
    await r.run();
    expect((await signal(cache, 'b'))?.attributes).toEqual(
      new Map([
        ['result.rows', '10'],
        ['result.file', 'a.csv'],
      ]),
    );
  });

  it('sends FlowFiles with no identifier, a bad delta, or a signal entry that is not a signal to failure', async () => {
    const { r, cache } = await create({ signalCounterDelta: '${n}' });
    await cache.put('foreign', 'not json');
    await r.enqueue('no id', { n: '1' });
    await r.enqueue('bad delta', { batch: 'b', n: '1.5' });
    await r.enqueue('foreign', { batch: 'foreign', n: '1' });
    await r.enqueue('fine', { batch: 'b', n: '1' });
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['fine']);
    const failed = r.transferred('failure');
    expect(failed.map((f) => [f.text(), f.attribute('notified'), f.attribute('notify.failure.reason')])).toEqual([
      ['no id', 'false', 'Release Signal Identifier evaluated to an empty value'],
      ['bad delta', 'false', 'Signal Counter Delta "1.5" is not a whole number'],
      [
        'foreign',
        'false',
        expect.stringMatching(/^could not update signal "foreign": the cache entry of signal "foreign" is not JSON/),
      ],
    ]);
    expect(await cache.get('foreign')).toBe('not json');
  });

  it('is invalid without an identifier or with a literal delta that is not a whole number', async () => {
    runner = await TestRunner.create(Notify, {
      properties: { cacheService: 'cache', signalCounterDelta: 'one' },
      services: { cache: { type: DistributedMapCache } },
    });
    expect(runner.validationErrors()).toEqual([
      'property "releaseSignalIdentifier": is required',
      'property "signalCounterDelta": "one" is not a whole number',
    ]);
  });
});
