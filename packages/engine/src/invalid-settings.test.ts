import { describe, expect, it } from 'vitest';
import { connection, Discard, flow, processor, sourceProcessor, useHarness } from './integration.test-helper.ts';

// A stopped processor with an unparseable schedule or retry backoff is invalid, like one with a
// bad property: the flow applies, the processor says why it cannot start, and fixing it works.
const h = useHarness();

describe('invalid scheduling and retry settings', () => {
  it('apply as an invalid, stopped processor instead of failing half-way', async () => {
    const engine = await h.open('volatile', [sourceProcessor(), Discard]);
    const document = (period: string, maxBackoff: string) =>
      flow({
        processors: [
          processor({ id: 'src', type: 'MakeTestData', scheduling: { period } }),
          processor({ id: 'sink', type: 'Discard', retry: { relationships: [], maxBackoff } }),
        ],
        connections: [connection('c', 'src', 'sink', ['success'])],
      });
    await engine.applyFlow(document('1 sec', '10 mins'));
    await engine.applyFlow(document('every now and then', 'soon'));
    expect(engine.component('src')?.validationErrors.join(' ')).toContain('scheduling period');
    expect(engine.component('sink')?.validationErrors.join(' ')).toContain('retry max backoff');
    await expect(engine.startComponent('src')).rejects.toThrow(/cannot|invalid|period/i);
    await engine.applyFlow(document('1 sec', '10 mins'));
    expect(engine.component('src')?.validationErrors).toEqual([]);
    expect(engine.component('sink')?.validationErrors).toEqual([]);
  });
});
