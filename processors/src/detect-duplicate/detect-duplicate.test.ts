import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributedMapCache } from '../distributed-map-cache/index.ts';
import { DetectDuplicate } from './index.ts';

describe('DetectDuplicate', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = (properties: Record<string, string> = {}, cache: Record<string, string> = {}) =>
    TestRunner.create(DetectDuplicate, {
      properties: { cacheService: 'cache', ...properties },
      services: { cache: { type: DistributedMapCache, properties: cache } },
    });

  it('routes the first FlowFile of an identifier to non-duplicate and later ones to duplicate', async () => {
    runner = await create({ flowFileDescription: 'first seen as ${filename}' });
    await runner.enqueue('1', { 'hash.value': 'aaa', filename: 'one' });
    await runner.enqueue('2', { 'hash.value': 'bbb', filename: 'two' });
    await runner.enqueue('3', { 'hash.value': 'aaa', filename: 'three' });
    await runner.run();
    expect(runner.transferred('non-duplicate').map((f) => f.text())).toEqual(['1', '2']);
    const duplicates = runner.transferred('duplicate');
    expect(duplicates.map((f) => f.text())).toEqual(['3']);
    expect(duplicates[0]?.attribute('original.flowfile.description')).toBe('first seen as one');
    // The cache outlives a stop and start of the processor.
    await runner.enqueue('4', { 'hash.value': 'bbb' });
    await runner.run();
    expect(runner.transferred('duplicate').map((f) => f.text())).toEqual(['3', '4']);
  });

  it('forgets identifiers older than the age off duration', async () => {
    runner = await create({ ageOffDuration: '1 sec' });
    await runner.enqueue('1', { 'hash.value': 'k' });
    await runner.enqueue('2', { 'hash.value': 'k' });
    await runner.run();
    expect(runner.transferred('duplicate').map((f) => f.text())).toEqual(['2']);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await runner.enqueue('3', { 'hash.value': 'k' });
    await runner.enqueue('4', { 'hash.value': 'k' });
    await runner.run();
    // Aged off: "3" counts as new again and starts a new age; "4" is its duplicate.
    expect(runner.transferred('non-duplicate').map((f) => f.text())).toEqual(['1', '3']);
    expect(runner.transferred('duplicate').map((f) => f.text())).toEqual(['2', '4']);
  });

  it('only looks identifiers up when told not to cache them', async () => {
    runner = await create({ cacheIdentifier: 'false' });
    await runner.enqueue('1', { 'hash.value': 'k' });
    await runner.enqueue('2', { 'hash.value': 'k' });
    await runner.run();
    expect(runner.transferred('non-duplicate')).toHaveLength(2);
  });

  it('uses any identifier expression', async () => {
    runner = await create({ cacheEntryIdentifier: '${customer}-${order}' });
    await runner.enqueue('1', { customer: 'c', order: '1' });
    await runner.enqueue('2', { customer: 'c', order: '2' });
    await runner.enqueue('3', { customer: 'c', order: '1' });
    await runner.run();
    expect(runner.transferred('duplicate').map((f) => f.text())).toEqual(['3']);
  });

  it('sends FlowFiles whose identifier is empty or cannot be evaluated to failure, saying why', async () => {
    runner = await create({ cacheEntryIdentifier: '${id:toNumber()}' });
    await runner.enqueue('no id');
    await runner.enqueue('bad id', { id: 'x' });
    await runner.run();
    const failed = runner.transferred('failure');
    expect(failed.map((f) => [f.text(), f.attribute('detectduplicate.failure.reason')])).toEqual([
      ['no id', 'Cache Entry Identifier evaluated to an empty value'],
      ['bad id', expect.stringMatching(/^property "cacheEntryIdentifier": .*"x"/)],
    ]);
  });

  it('is invalid without a cache service, or with one that does not exist', async () => {
    runner = await TestRunner.create(DetectDuplicate);
    expect(runner.validationErrors()).toEqual(['property "cacheService": is required']);
    await runner.setProperty('cacheService', 'nowhere');
    expect(runner.validationErrors()).toEqual([
      'property "cacheService": refers to controller service "nowhere", which does not exist',
    ]);
  });
});
