import { compile } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { context } from './context.test-helper.ts';

function rate(run: () => void, iterations: number): number {
  for (let i = 0; i < 50_000; i++) run();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) run();
  return iterations / ((performance.now() - start) / 1000);
}

describe('evaluation speed', () => {
  it('evaluates a chained expression well over a million times per second', () => {
    const template = compile("${filename:toUpper():append('.x')}");
    const ctx = context({ filename: 'report.final.csv' });
    let out = '';
    const perSecond = rate(() => {
      out = template.evaluate(ctx);
    }, 1_000_000);
    expect(out).toBe('REPORT.FINAL.CSV.x');
    // The target is 1,000,000/s; the assertion keeps headroom for slow, shared CI machines.
    expect(perSecond).toBeGreaterThan(500_000);
    console.log(`\${filename:toUpper():append('.x')}: ${Math.round(perSecond).toLocaleString('en-US')} evaluations/s`);
  });

  it('returns the precomputed string for a literal template', () => {
    const template = compile('plain text, $${escaped}');
    const ctx = context();
    const first = template.evaluate(ctx);
    expect(template.evaluate(ctx)).toBe(first);
    expect(first).toBe('plain text, ${escaped}');
    expect(rate(() => template.evaluate(ctx), 1_000_000)).toBeGreaterThan(5_000_000);
  });
});
