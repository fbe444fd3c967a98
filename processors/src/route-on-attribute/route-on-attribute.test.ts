import { activeRelationships } from '@sluice/api';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteOnAttribute } from './index.ts';

const LARGE = '${size:toNumber():gt(100)}';
const CSV = "${filename:endsWith('.csv')}";

describe('RouteOnAttribute', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  /** The relationships the engine gave the processor under test. */
  const relationships = (r: TestRunner): string[] => [...(r.engine.component('under-test')?.relationships ?? [])].sort();

  describe('route to property name', () => {
    it('sends each FlowFile to the rule it matches, or to unmatched, with ROUTE events', async () => {
      runner = await TestRunner.create(RouteOnAttribute, { properties: { large: LARGE, csv: CSV } });
      expect(relationships(runner)).toEqual(['csv', 'large', 'unmatched']);
      const big = await runner.enqueue('x', { size: '500', filename: 'a.txt' });
      const table = await runner.enqueue('x', { size: '5', filename: 'b.csv' });
      const neither = await runner.enqueue('x', { size: '5', filename: 'c.txt' });
      await runner.run();
      expect(runner.transferred('large').map((f) => f.uuid)).toEqual([big.uuid]);
      expect(runner.transferred('csv').map((f) => f.uuid)).toEqual([table.uuid]);
      expect(runner.transferred('unmatched').map((f) => f.uuid)).toEqual([neither.uuid]);
      expect(runner.transferred('large')[0]?.attribute('RouteOnAttribute.Route')).toBe('large');
      expect(runner.transferred('unmatched')[0]?.attribute('RouteOnAttribute.Route')).toBe('unmatched');
      const routes = await runner.provenanceEvents('ROUTE');
      expect(new Map(routes.map((e) => [e.flowFileUuid, e.relationship]))).toEqual(
        new Map([
          [big.uuid, 'large'],
          [table.uuid, 'csv'],
          [neither.uuid, 'unmatched'],
        ]),
      );
    });

    it('sends a FlowFile matching two rules to both: the original and a clone (CLONE event)', async () => {
      runner = await TestRunner.create(RouteOnAttribute, { properties: { large: LARGE, csv: CSV } });
      const input = await runner.enqueue('same content', { size: '500', filename: 'big.csv' });
      await runner.run();
      const [large] = runner.transferred('large');
      const [csv] = runner.transferred('csv');
      expect(runner.transferred('unmatched')).toHaveLength(0);
      // The original goes to the first matching rule (configuration order), a clone to the next.
      expect(large?.uuid).toBe(input.uuid);
      expect(csv?.uuid).not.toBe(input.uuid);
      expect(csv?.attribute('uuid')).toBe(csv?.uuid);
      expect(csv?.text()).toBe('same content');
      expect(csv?.attribute('filename')).toBe('big.csv');
      expect(large?.attribute('RouteOnAttribute.Route')).toBe('large');
      expect(csv?.attribute('RouteOnAttribute.Route')).toBe('csv');
      const clones = await runner.provenanceEvents('CLONE');
      expect(clones).toHaveLength(1);
      expect(clones[0]?.flowFileUuid).toBe(input.uuid);
      expect(clones[0]?.childUuids).toEqual([csv?.uuid]);
      const routes = await runner.provenanceEvents('ROUTE');
      expect(routes.map((e) => [e.flowFileUuid, e.relationship]).sort()).toEqual(
        [
          [input.uuid, 'large'],
          [csv?.uuid, 'csv'],
        ].sort(),
      );
    });

    it('has no "matched" relationship', async () => {
      runner = await TestRunner.create(RouteOnAttribute, { properties: { large: LARGE } });
      expect(relationships(runner)).toEqual(['large', 'unmatched']);
      expect(() => runner?.transferred('matched')).toThrow(/no captured relationship "matched"/);
    });
  });

  describe.each([
    ['match-all', ['unmatched', 'matched', 'unmatched', 'unmatched']],
    ['match-any', ['unmatched', 'matched', 'matched', 'matched']],
  ] as const)('%s', (strategy, expected) => {
    it('routes to matched or unmatched by its rule', async () => {
      runner = await TestRunner.create(RouteOnAttribute, { properties: { strategy, large: LARGE, csv: CSV } });
      expect(relationships(runner)).toContain('matched');
      const inputs = [
        await runner.enqueue('', { size: '5', filename: 'a.txt' }),
        await runner.enqueue('', { size: '500', filename: 'b.csv' }),
        await runner.enqueue('', { size: '500', filename: 'c.txt' }),
        await runner.enqueue('', { size: '5', filename: 'd.csv' }),
      ];
      await runner.run();
      const matched = new Set(runner.transferred('matched').map((f) => f.uuid));
      const unmatched = new Set(runner.transferred('unmatched').map((f) => f.uuid));
      expect(inputs.map((f) => (matched.has(f.uuid) ? 'matched' : unmatched.has(f.uuid) ? 'unmatched' : 'lost'))).toEqual(
        expected,
      );
      for (const f of runner.transferred('matched')) expect(f.attribute('RouteOnAttribute.Route')).toBe('matched');
      // No clones under these strategies: every FlowFile goes to exactly one place.
      expect(await runner.provenanceEvents('CLONE')).toHaveLength(0);
      expect((await runner.provenanceEvents('ROUTE')).map((e) => e.relationship).sort()).toEqual([...expected].sort());
    });
  });

  it('declares "matched" only for match-all and match-any', () => {
    expect(activeRelationships(RouteOnAttribute, { strategy: 'route-to-property', a: LARGE }).has('matched')).toBe(false);
    expect(activeRelationships(RouteOnAttribute, { a: LARGE }).has('matched')).toBe(false);
    expect(activeRelationships(RouteOnAttribute, { strategy: 'match-all', a: LARGE }).has('matched')).toBe(true);
    expect(activeRelationships(RouteOnAttribute, { strategy: 'match-any', a: LARGE }).has('matched')).toBe(true);
  });

  it('accepts "matched" in the configuration only under match-all and match-any (validation)', async () => {
    runner = await TestRunner.create(RouteOnAttribute, {
      properties: { strategy: 'match-any', large: LARGE },
      autoTerminate: ['matched', 'unmatched'],
    });
    expect(runner.validationErrors()).toEqual([]);
    await runner.close();
    runner = await TestRunner.create(RouteOnAttribute, { properties: { large: LARGE }, autoTerminate: ['matched'] });
    expect(runner.validationErrors()).toEqual(['auto-terminates unknown relationship "matched"']);
  });

  it('refuses a rule that is not a boolean expression', async () => {
    runner = await TestRunner.create(RouteOnAttribute, { properties: { byName: '${filename}' } });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "byName": invalid expression: .*not true\/false/),
    ]);
    await expect(runner.run()).rejects.toThrow(/byName/);
  });

  it('refuses a rule that does not parse', async () => {
    runner = await TestRunner.create(RouteOnAttribute, { properties: { broken: "${filename:equals('x')" } });
    expect(runner.validationErrors()).toEqual([expect.stringMatching(/^property "broken": invalid expression/)]);
  });

  it('is invalid without rules', async () => {
    runner = await TestRunner.create(RouteOnAttribute);
    expect(runner.validationErrors()).toEqual(['add at least one rule (a property whose value is a boolean expression)']);
    await runner.enqueue('x');
    await expect(runner.run()).rejects.toThrow(/add at least one rule/);
    expect(runner.queued()).toBe(1);
  });

  it('refuses a rule named like one of its fixed relationships', async () => {
    runner = await TestRunner.create(RouteOnAttribute, { properties: { unmatched: LARGE } });
    expect(runner.validationErrors()).toEqual([
      'property "unmatched": "unmatched" is the name of a RouteOnAttribute relationship; give the rule another name',
    ]);
  });

  it('leaves a FlowFile whose rule fails at run time in the queue, penalized, and routes the rest', async () => {
    runner = await TestRunner.create(RouteOnAttribute, { properties: { big: '${x:toNumber():gt(1)}' } });
    const two = await runner.enqueue('', { x: '2' });
    const bad = await runner.enqueue('', { x: 'abc' });
    const zero = await runner.enqueue('', { x: '0' });
    await runner.run();
    expect(runner.transferred('big').map((f) => f.uuid)).toEqual([two.uuid]);
    expect(runner.transferred('unmatched').map((f) => f.uuid)).toEqual([zero.uuid]);
    // Not lost, not misrouted: back in the queue, unchanged and penalized.
    const queued = runner.inputQueue();
    expect(queued.map((f) => [f.uuid, f.penalized])).toEqual([[bad.uuid, true]]);
    expect(queued[0]?.attribute('RouteOnAttribute.Route')).toBeUndefined();
    const errors = runner.logsAt('ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/could not evaluate the rules for 1 FlowFile/);
    expect(errors[0]?.message).toContain(bad.uuid);
    expect(errors[0]?.message).toContain('property "big"');
    expect(runner.engine.bulletins.list({ componentId: 'under-test' })).toEqual([
      expect.objectContaining({ level: 'ERROR', message: expect.stringContaining(bad.uuid) }),
    ]);
    // No provenance for the FlowFile that was not routed.
    expect((await runner.provenanceEvents()).filter((e) => e.flowFileUuid === bad.uuid)).toEqual([]);
    // While penalized it is not taken again.
    await runner.run();
    expect(runner.queued()).toBe(1);
    expect(runner.logsAt('ERROR')).toHaveLength(1);
  });

  it('routes the FlowFile once the penalty is over and its attribute is fixed upstream (penalty respected)', async () => {
    runner = await TestRunner.create(RouteOnAttribute, {
      properties: { big: '${x:toNumber():gt(1)}' },
      scheduling: { penaltyDuration: '50 ms' },
    });
    await runner.enqueue('', { x: 'abc' });
    await runner.run();
    expect(runner.inputQueue()[0]?.penalized).toBe(true);
    await new Promise((r) => setTimeout(r, 80));
    await runner.run();
    // Still failing: still in the queue, penalized again, nothing routed.
    expect(runner.inputQueue()[0]?.penalized).toBe(true);
    expect(runner.transferred('big')).toHaveLength(0);
    expect(runner.transferred('unmatched')).toHaveLength(0);
    expect(runner.logsAt('ERROR')).toHaveLength(2);
  });

  it('routes a whole batch in one run', async () => {
    runner = await TestRunner.create(RouteOnAttribute, { properties: { even: "${n:toNumber():mod(2):equals('0')}" } });
    for (let i = 0; i < 100; i++) await runner.enqueue('', { n: String(i) });
    await runner.run();
    expect(runner.transferred('even')).toHaveLength(50);
    expect(runner.transferred('unmatched')).toHaveLength(50);
    expect(runner.queued()).toBe(0);
  });
});
