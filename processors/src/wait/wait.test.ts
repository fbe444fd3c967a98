import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributedMapCache, type MapCache } from '../distributed-map-cache/index.ts';
import { notifySignal } from '../notify/signal.ts';
import { Wait } from './index.ts';

describe('Wait', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (properties: Record<string, string> = {}): Promise<{ r: TestRunner; cache: MapCache }> => {
    const r = await TestRunner.create(Wait, {
      properties: { releaseSignalIdentifier: '${batch}', cacheService: 'cache', ...properties },
      services: { cache: { type: DistributedMapCache } },
      // Waiting FlowFiles are penalized; with no penalty each run looks at them again.
      scheduling: { penaltyDuration: '0 ms' },
    });
    runner = r;
    const cache = [...r.engine.services()].find((s) => s.id === 'cache')?.instance as MapCache;
    return { r, cache };
  };

  /** What Notify does for one FlowFile. */
  const notify = (cache: MapCache, id: string, counter = 'default', delta = 1, attributes: Record<string, string> = {}) =>
    notifySignal(cache, id, [{ counter, delta }], new Map(Object.entries(attributes)));

  it('holds FlowFiles in the queue, penalized, until the signal arrives, then releases them', async () => {
    const { r, cache } = await create();
    const input = await r.enqueue('payload', { batch: 'b1' });
    await r.run();
    expect(r.transferred('success')).toEqual([]);
    const waiting = r.inputQueue();
    expect(waiting.map((f) => f.uuid)).toEqual([input.uuid]);
    expect(Number(waiting[0]?.attribute('wait.start.timestamp'))).toBeGreaterThan(Date.now() - 60_000);

    await notify(cache, 'b1', 'default', 1, { 'result.rows': '10' });
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(out?.uuid).toBe(input.uuid);
    expect(out?.text()).toBe('payload');
    // The counts as they were when the FlowFile was released (before the release used them).
    expect(out?.attribute('wait.counter.default')).toBe('1');
    expect(out?.attribute('wait.counter.total')).toBe('1');
    expect(out?.attribute('result.rows')).toBe('10');
    expect(out?.attribute('wait.start.timestamp')).toBeUndefined();
    // The signal was used up, and is gone.
    expect(await cache.containsKey('b1')).toBe(false);
  });

  it('releases one FlowFile per target reached, taking the target off the counter', async () => {
    const { r, cache } = await create({ targetSignalCount: '2' });
    for (let i = 0; i < 3; i++) await r.enqueue(String(i), { batch: 'b' });
    await notify(cache, 'b', 'default', 3);
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['0']);
    expect(r.queued()).toBe(2);
    await notify(cache, 'b', 'default', 1);
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['0', '1']);
    expect(r.queued()).toBe(1);
  });

  it('waits for a named counter when one is given, else for the total of all counters', async () => {
    const { r, cache } = await create({ targetSignalCount: '3', signalCounterName: 'ok' });
    await r.enqueue('x', { batch: 'b' });
    await notify(cache, 'b', 'failed', 5);
    await notify(cache, 'b', 'ok', 2);
    await r.run();
    expect(r.transferred('success')).toEqual([]);
    await notify(cache, 'b', 'ok', 1);
    await r.run();
    expect(r.transferred('success')).toHaveLength(1);
    await r.close();

    const total = await create({ targetSignalCount: '3' });
    await total.r.enqueue('x', { batch: 'b' });
    await notify(total.cache, 'b', 'failed', 1);
    await notify(total.cache, 'b', 'ok', 2);
    await total.r.run();
    const out = total.r.transferred('success')[0];
    expect(out?.attribute('wait.counter.ok')).toBe('2');
    expect(out?.attribute('wait.counter.failed')).toBe('1');
    expect(out?.attribute('wait.counter.total')).toBe('3');
    // Used up entirely, the signal was removed.
    expect(await total.cache.containsKey('b')).toBe(false);

    // Waiting for the total, what a release used goes into the "consumed" counter (as NiFi does):
    // 4 signals release one FlowFile (target 3) and leave 1 towards the next.
    await notify(total.cache, 'b', 'ok', 4);
    await total.r.enqueue('y', { batch: 'b' });
    await total.r.enqueue('z', { batch: 'b' });
    await total.r.run();
    expect(total.r.transferred('success').map((f) => f.text())).toEqual(['x', 'y']);
    expect(total.r.transferred('success')[1]?.attribute('wait.counter.total')).toBe('4');
    await notify(total.cache, 'b', 'ok', 2);
    await total.r.run();
    const last = total.r.transferred('success')[2];
    expect(last?.text()).toBe('z');
    expect(last?.attribute('wait.counter.consumed')).toBe('-3');
    expect(last?.attribute('wait.counter.ok')).toBe('6');
    expect(last?.attribute('wait.counter.total')).toBe('3');
  });

  it('releases every waiting FlowFile while the count is reached with a releasable count of 0', async () => {
    const { r, cache } = await create({ targetSignalCount: '2', releasableFlowFileCount: '0' });
    for (let i = 0; i < 4; i++) await r.enqueue(String(i), { batch: 'b' });
    await notify(cache, 'b', 'default', 1);
    await r.run();
    expect(r.transferred('success')).toEqual([]);
    await notify(cache, 'b', 'default', 1);
    await r.run();
    expect(r.transferred('success')).toHaveLength(4);
    // The signal stays for FlowFiles still to come.
    await r.enqueue('late', { batch: 'b' });
    await r.run();
    expect(r.transferred('success')).toHaveLength(5);
  });

  it("copies the signal's attributes, keeping the FlowFile's own or replacing them as configured", async () => {
    const { r, cache } = await create();
    await r.enqueue('', { batch: 'b', color: 'red' });
    await notify(cache, 'b', 'default', 1, { color: 'blue', shape: 'round' });
    await r.run();
    expect([r.transferred('success')[0]?.attribute('color'), r.transferred('success')[0]?.attribute('shape')]).toEqual([
      'red',
      'round',
    ]);
    await r.setProperty('attributeCopyMode', 'replace');
    await r.enqueue('', { batch: 'c', color: 'red' });
    await notify(cache, 'c', 'default', 1, { color: 'blue' });
    await r.run();
    expect(r.transferred('success')[1]?.attribute('color')).toBe('blue');
  });

  it('sends FlowFiles that waited longer than the expiration duration to expired', async () => {
    const { r } = await create({ expirationDuration: '1 sec' });
    await r.enqueue('old', { batch: 'b', 'wait.start.timestamp': String(Date.now() - 5000) });
    await r.enqueue('new', { batch: 'b' });
    await r.run();
    const expired = r.transferred('expired');
    expect(expired.map((f) => f.text())).toEqual(['old']);
    expect(expired[0]?.attribute('wait.start.timestamp')).toBeUndefined();
    expect(r.inputQueue().map((f) => f.text())).toEqual(['new']);
  });

  it('sends FlowFiles with no identifier, a bad target or a foreign cache entry to failure', async () => {
    const { r, cache } = await create({ targetSignalCount: '${target}' });
    await cache.put('foreign', '[1,2,3]');
    await r.enqueue('no id', { target: '1' });
    await r.enqueue('bad target', { batch: 'b', target: 'two' });
    await r.enqueue('foreign', { batch: 'foreign', target: '1' });
    await r.run();
    expect(r.transferred('failure').map((f) => [f.text(), f.attribute('wait.failure.reason')])).toEqual([
      ['no id', 'Release Signal Identifier evaluated to an empty value'],
      ['bad target', 'Target Signal Count "two" is not a whole number of 1 or more'],
      ['foreign', 'the cache entry of signal "foreign" is not a signal object'],
    ]);
  });

  it('is invalid with a literal target below 1', async () => {
    runner = await TestRunner.create(Wait, {
      properties: { releaseSignalIdentifier: 'x', cacheService: 'cache', targetSignalCount: '0' },
      services: { cache: { type: DistributedMapCache } },
    });
    expect(runner.validationErrors()).toEqual(['property "targetSignalCount": "0" is not a whole number of 1 or more']);
  });
});
