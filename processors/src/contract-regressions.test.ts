/**
 * Regressions for two contract bugs found while testing the standard processors: dynamic properties
 * creating relationships regardless of strategy, and Expression Language not seeing fileSize.
 */
import { activeRelationships } from '@sluice/api';
import { TestRunner } from '@sluice/testing';
import { describe, expect, it } from 'vitest';
import { RouteOnAttribute } from './route-on-attribute/index.ts';
import { UpdateAttribute } from './update-attribute/index.ts';

describe('contract regressions', () => {
  // packages/api/src/processor.ts, activeRelationships (line 104): every dynamic property becomes a
  // relationship whenever `createsRelationship` is true, whatever the strategy. RouteOnAttribute under
  // "match-all"/"match-any" therefore gets a relationship per rule that nothing is ever sent to, and a
  // real flow is invalid until each is connected or auto-terminated. The contract needs a condition
  // (e.g. `createsRelationship: { dependsOn: { property: 'strategy', values: ['route-to-property'] } }`).
  it('RouteOnAttribute has a relationship per rule only under "route to property name"', () => {
    const rule = '${x:equals(1)}';
    expect([...activeRelationships(RouteOnAttribute, { strategy: 'match-all', a: rule })].sort()).toEqual([
      'matched',
      'unmatched',
    ]);
  });

  // packages/engine/src/properties/configured-property.ts line 74: an EL name is looked up in the
  // attributes, variables and environment only. NiFi also resolves the FlowFile's fileSize, entryDate
  // and lineageStartDate (so `${fileSize:gt(1024)}` is a common RouteOnAttribute rule); here they are
  // null. The TestRunner JSDoc example (packages/testing/src/test-runner.ts line 57, `${size:gt(5)}`)
  // relies on something similar and gives "false".
  it('Expression Language sees fileSize like NiFi', async () => {
    const runner = await TestRunner.create(UpdateAttribute, { properties: { bytes: '${fileSize}' } });
    try {
      await runner.enqueue('hello');
      await runner.run();
      expect(runner.transferred('success')[0]?.attribute('bytes')).toBe('5');
    } finally {
      await runner.close();
    }
  });
});
