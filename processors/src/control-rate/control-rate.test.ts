import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlRate } from './index.ts';

describe('ControlRate', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it('lets Maximum Rate FlowFiles through per period and keeps the rest queued, yielding', async () => {
    runner = await TestRunner.create(ControlRate, {
      properties: { rateControlCriteria: 'flowfile count', maximumRate: '3', timeDuration: '1 hour' },
    });
    for (let i = 0; i < 10; i++) await runner.enqueue(String(i));
    await runner.run(3);
    expect(runner.transferred('success').map((f) => f.text())).toEqual(['0', '1', '2']);
    expect(runner.queued()).toBe(7);
    expect(runner.engine.component('under-test')?.yieldUntil ?? 0).toBeGreaterThan(Date.now());
    // Nothing was dropped or penalized: the waiting FlowFiles are as they arrived.
    expect(runner.inputQueue().every((f) => !f.penalized)).toBe(true);
  });

  it('counts bytes of content with the data rate, letting an oversize FlowFile pass alone', async () => {
    runner = await TestRunner.create(ControlRate, { properties: { maximumRate: '10 B', timeDuration: '1 hour' } });
    await runner.enqueue('aaaa');
    await runner.enqueue('bbbb');
    await runner.enqueue('cccc');
    await runner.run();
    expect(runner.transferred('success').map((f) => f.text())).toEqual(['aaaa', 'bbbb']);
    await runner.close();

    runner = await TestRunner.create(ControlRate, { properties: { maximumRate: '10 B', timeDuration: '1 hour' } });
    await runner.enqueue('x'.repeat(50));
    await runner.enqueue('y');
    await runner.run();
    expect(runner.transferred('success').map((f) => f.size)).toEqual([50]);
    expect(runner.queued()).toBe(1);
  });

  it('gives each value of the grouping attribute its own allowance', async () => {
    runner = await TestRunner.create(ControlRate, {
      properties: {
        rateControlCriteria: 'flowfile count',
        maximumRate: '2',
        timeDuration: '1 hour',
        groupingAttribute: 'tenant',
      },
    });
    for (const tenant of ['a', 'a', 'a', 'b', 'b', 'b', 'a']) await runner.enqueue(tenant, { tenant });
    await runner.enqueue('none');
    await runner.run();
    expect(runner.transferred('success').map((f) => f.text())).toEqual(['a', 'a', 'b', 'b', 'none']);
    expect(runner.inputQueue().map((f) => f.text())).toEqual(['a', 'b', 'a']);
  });

  it('sums a numeric attribute, and sends FlowFiles with a missing or bad value to failure', async () => {
    runner = await TestRunner.create(ControlRate, {
      properties: {
        rateControlCriteria: 'attribute value',
        rateControlledAttribute: 'records',
        maximumRate: '100',
        timeDuration: '1 hour',
      },
    });
    await runner.enqueue('1', { records: '60' });
    await runner.enqueue('2', { records: 'many' });
    await runner.enqueue('3');
    await runner.enqueue('4', { records: '30.5' });
    await runner.enqueue('5', { records: '20' });
    await runner.run();
    expect(runner.transferred('success').map((f) => f.text())).toEqual(['1', '4']);
    expect(runner.transferred('failure').map((f) => [f.text(), f.attribute('controlrate.failure.reason')])).toEqual([
      ['2', 'attribute "records" is "many", not a number of 0 or more'],
      ['3', 'attribute "records" is missing'],
    ]);
    expect(runner.inputQueue().map((f) => f.text())).toEqual(['5']);
  });

  it('holds a running flow to the rate: 15 FlowFiles at 5 per second take at least two seconds', async () => {
    runner = await TestRunner.create(ControlRate, {
      properties: { rateControlCriteria: 'flowfile count', maximumRate: '5', timeDuration: '1 sec' },
      scheduling: { yieldDuration: '50 ms' },
    });
    for (let i = 0; i < 15; i++) await runner.enqueue(String(i));
    const started = Date.now();
    await runner.engine.startComponent('under-test');
    const r = runner;
    const deadline = Date.now() + 20_000;
    let seenAfterOneSecond: number | undefined;
    while (r.transferred('success').length < 15 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (seenAfterOneSecond === undefined && Date.now() - started >= 900) seenAfterOneSecond = r.transferred('success').length;
    }
    const elapsed = Date.now() - started;
    await r.engine.stopComponent('under-test');
    expect(r.transferred('success')).toHaveLength(15);
    // Three windows are needed: the first and the second start at least a second apart each.
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    // Within the first window, at most one allowance went through.
    expect(seenAfterOneSecond ?? 0).toBeLessThanOrEqual(5);
  });

  it('is invalid when Maximum Rate does not fit the criteria, or the attribute is not named', async () => {
    runner = await TestRunner.create(ControlRate, { properties: { maximumRate: '100' } });
    expect(runner.validationErrors()).toEqual([
      'property "maximumRate": "100" is not a data size above 0; write e.g. "1 MB" for data rate',
    ]);
    await runner.setProperty('rateControlCriteria', 'flowfile count');
    await runner.setProperty('maximumRate', '1.5');
    expect(runner.validationErrors()).toEqual([
      'property "maximumRate": "1.5" is not a whole number above 0; write e.g. "100" for flowfile count',
    ]);
    await runner.setProperty('rateControlCriteria', 'attribute value');
    await runner.setProperty('maximumRate', '0');
    expect(runner.validationErrors()).toEqual([
      'property "maximumRate": "0" is not a number above 0; write e.g. "5000" for attribute value',
      'property "rateControlledAttribute": is required with the attribute value criteria; name the numeric attribute',
    ]);
  });
});
