import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { SplitText } from './index.ts';

/** The garbage collector, so memory checks measure what is live rather than what GC has not swept yet. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('gc is not available');
  return () => gc();
}

describe('SplitText', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (properties: Record<string, string>, durable = false): Promise<TestRunner> => {
    runner = await TestRunner.create(SplitText, { properties, durable });
    return runner;
  };

  /** The splits' claims as the engine stores them (to check they are slices of the input's). */
  const splitClaims = (r: TestRunner) => r.transferred('splits').map((f) => f.claim);

  it('splits one line per FlowFile, any terminator, without trailing newlines; empty lines are not emitted', async () => {
    const r = await create({ lineCount: '1' });
    const input = await r.enqueue('alpha\nbravo\r\ncharlie\rdelta\n\n\necho', { filename: 'in.txt' });
    await r.run();
    const splits = r.transferred('splits');
    expect(splits.map((s) => s.text())).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    const id = splits[0]?.attribute('fragment.identifier');
    for (const [i, s] of splits.entries()) {
      expect(s.attribute('fragment.identifier')).toBe(id);
      expect(s.attribute('fragment.index')).toBe(String(i + 1));
      expect(s.attribute('fragment.count')).toBe('5');
      expect(s.attribute('segment.original.filename')).toBe('in.txt');
      expect(s.attribute('text.line.count')).toBe('1');
      expect(s.attribute('fragment.size')).toBe(String(s.size));
      expect(s.attribute('filename')).toBe('in.txt');
    }
    const original = r.transferred('original');
    expect(original.map((o) => o.uuid)).toEqual([input.uuid]);
    expect(original[0]?.attribute('fragment.count')).toBe('5');
    expect(original[0]?.attribute('fragment.identifier')).toBe(id);
  });

  it('is zero-copy: every split points into the input content claim', async () => {
    const r = await create({ lineCount: '2' });
    await r.enqueue('l1\nl2\nl3\nl4\nl5\n');
    const input = r.engine.listQueue('input', 0, 1)[0]?.flowFile.claim;
    await r.run();
    expect(r.transferred('splits').map((s) => s.text())).toEqual(['l1\nl2', 'l3\nl4', 'l5']);
    const claims = splitClaims(r);
    expect(claims).toEqual([
      { resourceId: input?.resourceId, offset: (input?.offset ?? 0) + 0, length: 5 },
      { resourceId: input?.resourceId, offset: (input?.offset ?? 0) + 6, length: 5 },
      { resourceId: input?.resourceId, offset: (input?.offset ?? 0) + 12, length: 2 },
    ]);
    // One FORK event for the input, naming every split as its child (NiFi's ranged-clone rule).
    const forks = await r.provenanceEvents('FORK');
    expect(forks).toHaveLength(1);
    expect(forks[0]?.flowFileUuid).toBe(r.transferred('original')[0]?.uuid);
    expect([...(forks[0]?.childUuids ?? [])].sort()).toEqual(
      r
        .transferred('splits')
        .map((f) => f.uuid)
        .sort(),
    );
    expect(await r.provenanceEvents('CLONE')).toHaveLength(0);
  });

  it('keeps terminators when told to: the splits concatenate back to the input byte for byte', async () => {
    const text = 'a\r\nb\n\nc\rd\n\n\nlast';
    const r = await create({ lineCount: '2', removeTrailingNewlines: 'false' });
    await r.enqueue(text);
    await r.run();
    const splits = r.transferred('splits');
    expect(splits.map((s) => s.text()).join('')).toBe(text);
    expect(splits.map((s) => s.attribute('text.line.count'))).toEqual(['2', '2', '2', '2']);
  });

  it('ends a split before the line that would exceed Maximum Fragment Size; an oversized line stands alone', async () => {
    const r = await create({ lineCount: '0', maxFragmentSize: '10 B' });
    await r.enqueue('aaa\nbbb\nccc\nthis line is long\nd\n');
    await r.run();
    expect(r.transferred('splits').map((s) => s.text())).toEqual(['aaa\nbbb', 'ccc', 'this line is long', 'd']);
  });

  it('applies both limits together', async () => {
    const r = await create({ lineCount: '3', maxFragmentSize: '8 B' });
    await r.enqueue('1\n2\n3\n4\n55555\n6\n');
    await r.run();
    expect(r.transferred('splits').map((s) => s.text())).toEqual(['1\n2\n3', '4\n55555', '6']);
  });

  it('copies the header lines into every split', async () => {
    const r = await create({ lineCount: '2', headerLineCount: '1' });
    await r.enqueue('id,name\n1,a\n2,b\n3,c\n');
    await r.run();
    const splits = r.transferred('splits');
    expect(splits.map((s) => s.text())).toEqual(['id,name\n1,a\n2,b', 'id,name\n3,c']);
    expect(splits.map((s) => s.attribute('text.line.count'))).toEqual(['2', '1']);
  });

  it('finds a header by its marker characters', async () => {
    const r = await create({ lineCount: '1', headerMarker: '#' });
    await r.enqueue('# generated\n# v2\nx\ny\n');
    await r.run();
    expect(r.transferred('splits').map((s) => s.text())).toEqual(['# generated\n# v2\nx', '# generated\n# v2\ny']);
  });

  it('counts the header in Maximum Fragment Size', async () => {
    const r = await create({ lineCount: '0', maxFragmentSize: '12 B', headerLineCount: '1' });
    await r.enqueue('hdr\n11\n22\n33\n');
    await r.run();
    expect(r.transferred('splits').map((s) => s.text())).toEqual(['hdr\n11\n22', 'hdr\n33']);
  });

  it('sends an input with fewer lines than the header to failure', async () => {
    const r = await create({ lineCount: '1', headerLineCount: '3' });
    await r.enqueue('only\ntwo\n');
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('splittext.failure.reason')).toBe(
      'the content has 2 line(s), fewer than Header Line Count (3)',
    );
  });

  it('handles empty content and content without a final newline', async () => {
    const r = await create({ lineCount: '1' });
    await r.enqueue('');
    await r.enqueue('single');
    await r.run();
    expect(r.transferred('splits').map((s) => s.text())).toEqual(['single']);
    expect(r.transferred('original').map((o) => o.attribute('fragment.count'))).toEqual(['0', '1']);
  });

  it('needs a line count or a size', async () => {
    const r = await create({ lineCount: '0' });
    expect(r.validationErrors().join('\n')).toMatch(/Maximum Fragment Size must be set/);
  });

  it('splits a ~50 MB file streaming, in bounded memory, every split a slice of its claim', async () => {
    const line = `${'x'.repeat(99)}\n`;
    const lines = 500_000;
    let content: Buffer | undefined = Buffer.from(line.repeat(lines));
    const r = await create({ lineCount: '10000' }, true);
    await r.enqueue(content);
    const parentClaim = r.engine.listQueue('input', 0, 1)[0]?.flowFile.claim;
    content = undefined;
    const gc = collector();
    gc();
    const live = (): number => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = live();
    let peak = 0;
    // Sampled with a collection each time: what is measured is memory held, not garbage not yet swept
    // (streaming 50 MB allocates 50 MB of 64 KB chunks in total, all short-lived).
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, live() - before);
    }, 20);
    try {
      await r.run();
    } finally {
      clearInterval(sampler);
    }
    const splits = r.transferred('splits');
    expect(splits).toHaveLength(50);
    expect(splits.every((s) => s.attribute('text.line.count') === '10000')).toBe(true);
    // The 50 MB never came into memory: growth stays well below the content size.
    expect(peak).toBeLessThan(16 * 1024 * 1024);
    const claims = splitClaims(r);
    expect(new Set(claims.map((c) => c?.resourceId))).toEqual(new Set([parentClaim?.resourceId]));
    expect(claims.reduce((sum, c) => sum + (c?.length ?? 0), 0)).toBe(50 * (10_000 * 100 - 1));
    expect(splits[49]?.text()).toBe(line.repeat(10_000).slice(0, -1));
  });
});
