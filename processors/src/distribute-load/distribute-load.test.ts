import { activeRelationships } from '@sluice/api';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributeLoad } from './index.ts';

describe('DistributeLoad', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const order = (r: TestRunner, relationships: readonly string[]): string[] =>
    relationships
      .flatMap((rel) => r.transferred(rel).map((f) => [Number(f.attribute('n')), rel] as const))
      .sort((a, b) => a[0] - b[0])
      .map(([, rel]) => rel);

  it('has one relationship per property, named 1..N as in NiFi', () => {
    expect([...activeRelationships(DistributeLoad, { 1: '1', 2: '1', 3: '1' })].sort()).toEqual(['1', '2', '3']);
  });

  it('sends FlowFiles round robin over equal weights; a new run starts the rotation again', async () => {
    runner = await TestRunner.create(DistributeLoad, { properties: { 1: '1', 2: '1', 3: '1' } });
    for (let i = 0; i < 4; i++) await runner.enqueue('', { n: String(i) });
    await runner.run();
    for (let i = 4; i < 7; i++) await runner.enqueue('', { n: String(i) });
    await runner.run();
    expect(order(runner, ['1', '2', '3'])).toEqual(['1', '2', '3', '1', '1', '2', '3']);
    expect(runner.transferred('2')[0]?.attribute('distribute.load.relationship')).toBe('2');
  });

  it('continues the rotation from one trigger to the next while it runs', async () => {
    runner = await TestRunner.create(DistributeLoad, { properties: { 1: '1', 2: '1', 3: '1' } });
    // A trigger takes at most 1000 FlowFiles: the 1001st is handled by the second trigger.
    for (let i = 0; i < 1001; i++) await runner.enqueue('', { n: String(i) });
    await runner.run(2);
    const sequence = order(runner, ['1', '2', '3']);
    expect(sequence).toHaveLength(1001);
    expect(sequence[999]).toBe('1');
    expect(sequence[1000]).toBe('2');
  });

  it('honours weights, interleaved rather than in bursts', async () => {
    runner = await TestRunner.create(DistributeLoad, { properties: { 1: '5', 2: '1', 3: '1' } });
    for (let i = 0; i < 14; i++) await runner.enqueue('', { n: String(i) });
    await runner.run();
    const sequence = order(runner, ['1', '2', '3']);
    expect(sequence.slice(0, 7)).toEqual(['1', '1', '2', '1', '3', '1', '1']);
    expect(runner.transferred('1')).toHaveLength(10);
    expect(runner.transferred('2')).toHaveLength(2);
    expect(runner.transferred('3')).toHaveLength(2);
  });

  it('accepts named relationships as well as numbers', async () => {
    runner = await TestRunner.create(DistributeLoad, { properties: { east: '1', west: '3' } });
    for (let i = 0; i < 8; i++) await runner.enqueue('', { n: String(i) });
    await runner.run();
    expect(runner.transferred('east')).toHaveLength(2);
    expect(runner.transferred('west')).toHaveLength(6);
  });

  it('is invalid without relationships, with a bad weight or a bad name', async () => {
    runner = await TestRunner.create(DistributeLoad);
    expect(runner.validationErrors()).toEqual([expect.stringMatching(/^add at least one relationship/)]);
    await runner.close();
    runner = await TestRunner.create(DistributeLoad, { properties: { 1: 'two', 2: '0', Big: '1' } });
    expect(runner.validationErrors()).toEqual([
      'property "1": weight "two" must be a whole number from 1 to 1000000',
      'property "2": weight "0" must be a whole number from 1 to 1000000',
      expect.stringMatching(/^property "Big": a relationship name must start with a lowercase letter or digit/),
    ]);
  });
});
