import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackFlowFileV3 } from '@sluice/api';
import { TestRunner } from '@sluice/testing';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MergeContent } from './index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `condition` holds (generous timeout: the machine may be loaded). */
async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function unpack(content: Buffer): Promise<Array<{ attributes: Map<string, string>; text: string }>> {
  const out: Array<{ attributes: Map<string, string>; text: string }> = [];
  for await (const item of unpackFlowFileV3(
    (async function* () {
      yield content;
    })(),
  )) {
    const parts: Buffer[] = [];
    for await (const chunk of item.content) parts.push(Buffer.from(chunk));
    out.push({ attributes: item.attributes, text: Buffer.concat(parts).toString() });
  }
  return out;
}

describe('MergeContent', () => {
  let runner: TestRunner | undefined;
  let root: string;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-merge-')));
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  const create = async (properties: Record<string, string>, durable = false): Promise<TestRunner> => {
    runner = await TestRunner.create(MergeContent, {
      properties,
      durable,
      fileRoots: [root],
      autoTerminate: [],
    });
    return runner;
  };

  describe('bin packing', () => {
    it('merges full bins in queue order and leaves the rest queued until its bin is ready', async () => {
      const r = await create({ minEntries: '3', maxEntries: '3' });
      const inputs = [];
      for (let i = 0; i < 7; i++) inputs.push(await r.enqueue(`part${i}`, { filename: `f${i}`, batch: 'b1' }));
      await r.run();
      const merged = r.transferred('merged');
      expect(merged.map((m) => m.text())).toEqual(['part0part1part2', 'part3part4part5']);
      expect(merged.map((m) => m.attribute('merge.count'))).toEqual(['3', '3']);
      expect(merged.map((m) => m.attribute('merge.reason'))).toEqual([
        'MAX_ENTRIES_THRESHOLD_REACHED',
        'MAX_ENTRIES_THRESHOLD_REACHED',
      ]);
      expect(merged[0]?.attribute('batch')).toBe('b1');
      expect(merged[0]?.attribute('filename')).toBe(merged[0]?.uuid);
      const originals = r.transferred('original');
      expect(originals.map((o) => o.uuid)).toEqual(inputs.slice(0, 6).map((i) => i.uuid));
      expect(originals[0]?.attribute('merge.uuid')).toBe(merged[0]?.uuid);
      // The seventh waits in the input queue, not in a session: nothing is in flight.
      expect(r.inputQueue().map((f) => f.uuid)).toEqual([inputs[6]?.uuid]);
      const joins = await r.provenanceEvents('JOIN');
      expect(joins).toHaveLength(2);
      expect(joins[0]?.flowFileUuid).toBe(merged[0]?.uuid);
      expect(joins[0]?.parentUuids).toEqual(inputs.slice(0, 3).map((i) => i.uuid));
    });

    it('merges whatever is waiting once the minimums are met (the default of 1)', async () => {
      const r = await create({});
      for (let i = 0; i < 5; i++) await r.enqueue(String(i));
      await r.run();
      expect(r.transferred('merged').map((m) => [m.text(), m.attribute('merge.reason')])).toEqual([
        ['01234', 'MIN_THRESHOLDS_REACHED'],
      ]);
    });

    it('respects Maximum Group Size, and gives an oversized FlowFile a bin of its own', async () => {
      const r = await create({ maxSize: '10 B', minEntries: '1' });
      await r.enqueue('aaaa');
      await r.enqueue('bbbb');
      await r.enqueue('cccc');
      await r.enqueue('dddddddddddddddd');
      await r.enqueue('ee');
      await r.run();
      expect(r.transferred('merged').map((m) => m.text())).toEqual(['aaaabbbb', 'cccc', 'dddddddddddddddd', 'ee']);
    });

    it('waits for Minimum Group Size', async () => {
      const r = await create({ minSize: '10 B' });
      await r.enqueue('12345');
      await r.run();
      expect(r.transferred('merged')).toHaveLength(0);
      await r.enqueue('67890');
      await r.run();
      expect(r.transferred('merged').map((m) => m.text())).toEqual(['1234567890']);
    });

    it('bins by the correlation attribute', async () => {
      const r = await create({ correlationAttribute: 'sensor', minEntries: '2' });
      await r.enqueue('a1', { sensor: 'a' });
      await r.enqueue('b1', { sensor: 'b' });
      await r.enqueue('x1');
      await r.enqueue('a2', { sensor: 'a' });
      await r.enqueue('x2');
      await r.run();
      expect(
        r
          .transferred('merged')
          .map((m) => m.text())
          .sort(),
      ).toEqual(['a1a2', 'x1x2']);
      expect(r.inputQueue().map((f) => f.text())).toEqual(['b1']);
    });

    it('merges the oldest bin as it is when Maximum number of Bins is reached', async () => {
      const r = await create({ correlationAttribute: 'g', minEntries: '10', maxBins: '2' });
      await r.enqueue('a', { g: '1' });
      await r.enqueue('b', { g: '2' });
      await r.enqueue('c', { g: '3' });
      await r.run();
      const merged = r.transferred('merged');
      expect(merged.map((m) => [m.text(), m.attribute('merge.reason')])).toEqual([['a', 'BIN_MANAGER_FULL']]);
      expect(r.inputQueue()).toHaveLength(2);
    });

    it('merges a bin below the minimums once it is older than Max Bin Age', async () => {
      const r = await create({ minEntries: '100', maxBinAge: '500 ms' });
      await r.engine.startComponent('under-test');
      const started = Date.now();
      await r.enqueue('x');
      await r.enqueue('y');
      await until(() => r.transferred('merged').length === 1, 'the bin to time out');
      const waited = Date.now() - started;
      await r.engine.stopComponent('under-test');
      const merged = r.transferred('merged')[0];
      expect(merged?.text()).toBe('xy');
      expect(merged?.attribute('merge.reason')).toBe('TIMEOUT');
      expect(waited).toBeGreaterThanOrEqual(450);
      expect(Number(merged?.attribute('merge.bin.age'))).toBeGreaterThanOrEqual(450);
    });

    it('keeps a bin across stop and start: nothing lost, nothing duplicated', async () => {
      const r = await create({ minEntries: '10', maxEntries: '10' }, true);
      await r.engine.startComponent('under-test');
      for (let i = 0; i < 4; i++) await r.enqueue(`<${i}>`);
      await sleep(300);
      await r.engine.stopComponent('under-test');
      expect(r.transferred('merged')).toHaveLength(0);
      expect(r.inputQueue().map((f) => f.text())).toEqual(['<0>', '<1>', '<2>', '<3>']);
      for (let i = 4; i < 12; i++) await r.enqueue(`<${i}>`);
      await r.engine.startComponent('under-test');
      await until(() => r.transferred('merged').length === 1, 'the bin to fill');
      await r.engine.stopComponent('under-test');
      expect(r.transferred('merged')[0]?.text()).toBe('<0><1><2><3><4><5><6><7><8><9>');
      expect(r.transferred('original')).toHaveLength(10);
      expect(r.inputQueue().map((f) => f.text())).toEqual(['<10>', '<11>']);
    });

    it('Keep All Unique Attributes keeps non-conflicting attributes of any entry', async () => {
      const r = await create({ attributeStrategy: 'Keep All Unique Attributes' });
      await r.enqueue('1', { shared: 's', onlyA: 'a', conflict: '1' });
      await r.enqueue('2', { shared: 's', onlyB: 'b', conflict: '2' });
      await r.run();
      const merged = r.transferred('merged')[0];
      expect(merged?.attribute('shared')).toBe('s');
      expect(merged?.attribute('onlyA')).toBe('a');
      expect(merged?.attribute('onlyB')).toBe('b');
      expect(merged?.attribute('conflict')).toBeUndefined();
    });

    it('Keep Only Common Attributes keeps only what all share', async () => {
      const r = await create({});
      await r.enqueue('1', { shared: 's', onlyA: 'a' });
      await r.enqueue('2', { shared: 's', onlyB: 'b' });
      await r.run();
      const merged = r.transferred('merged')[0];
      expect(merged?.attribute('shared')).toBe('s');
      expect(merged?.attribute('onlyA')).toBeUndefined();
    });
  });

  describe('formats', () => {
    it('binary concatenation with header, footer and demarcator as text (Expression Language)', async () => {
      const r = await create({
        delimiterStrategy: 'Text',
        header: '[${kind}:',
        demarcator: ',',
        footer: ']',
      });
      await r.enqueue('1', { kind: 'nums' });
      await r.enqueue('2', { kind: 'nums' });
      await r.enqueue('3', { kind: 'nums' });
      await r.run();
      expect(r.transferred('merged')[0]?.text()).toBe('[nums:1,2,3]');
    });

    it('binary concatenation with delimiters read from files under an allowed root', async () => {
      writeFileSync(join(root, 'header.txt'), 'HEAD\n');
      writeFileSync(join(root, 'sep.txt'), '\n--\n');
      const r = await create({
        delimiterStrategy: 'Filename',
        header: join(root, 'header.txt'),
        demarcator: join(root, 'sep.txt'),
      });
      await r.enqueue('a');
      await r.enqueue('b');
      await r.run();
      expect(r.transferred('merged')[0]?.text()).toBe('HEAD\na\n--\nb');
      // A missing delimiter file: the FlowFiles go to failure with the reason.
      await r.setProperty('footer', join(root, 'missing.txt'));
      await r.enqueue('c');
      await r.run();
      const failed = r.transferred('failure');
      expect(failed.map((f) => f.text())).toEqual(['c']);
      expect(failed[0]?.attribute('merge.failure.reason')).toMatch(/ENOENT.*missing\.txt/);
    });

    it('FlowFile Stream v3 keeps every FlowFile with its attributes (NiFi-compatible)', async () => {
      const r = await create({ mergeFormat: 'FlowFile Stream, v3' });
      const a = await r.enqueue('first content', { filename: 'a.txt', color: 'red' });
      const b = await r.enqueue('', { filename: 'b.txt' });
      const c = await r.enqueue('third', { filename: 'c.txt', 'name with spaces': 'é' });
      await r.run();
      const merged = r.transferred('merged')[0];
      expect(merged?.attribute('mime.type')).toBe('application/flowfile-v3');
      expect(merged?.attribute('filename')).toBe(`${merged?.uuid}.pkg`);
      const unpacked = await unpack(merged?.content() ?? Buffer.alloc(0));
      expect(unpacked.map((u) => u.text)).toEqual(['first content', '', 'third']);
      expect(unpacked.map((u) => u.attributes.get('uuid'))).toEqual([a.uuid, b.uuid, c.uuid]);
      expect(unpacked[0]?.attributes.get('color')).toBe('red');
      expect(unpacked[2]?.attributes.get('name with spaces')).toBe('é');
    });

    it('ZIP: one entry per FlowFile named by filename; the archive unzips to the same bytes', async () => {
      const r = await create({ mergeFormat: 'ZIP', compressionLevel: '6' });
      const binary = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 13) % 256));
      await r.enqueue('hello zip', { filename: 'hello.txt' });
      await r.enqueue(binary, { filename: 'data.bin' });
      await r.enqueue('again', { filename: 'hello.txt' });
      await r.enqueue('escape', { filename: '../../etc/passwd' });
      await r.enqueue('', { filename: 'empty' });
      await r.run();
      const merged = r.transferred('merged')[0];
      expect(merged?.attribute('mime.type')).toBe('application/zip');
      expect(merged?.attribute('filename')?.endsWith('.zip')).toBe(true);
      const files = unzipSync(new Uint8Array(merged?.content() ?? Buffer.alloc(0)));
      expect(Object.keys(files)).toEqual(['hello.txt', 'data.bin', 'hello-1.txt', 'etc/passwd', 'empty']);
      expect(Buffer.from(files['hello.txt'] ?? []).toString()).toBe('hello zip');
      expect(Buffer.from(files['data.bin'] ?? []).equals(binary)).toBe(true);
      expect(Buffer.from(files['hello-1.txt'] ?? []).toString()).toBe('again');
      expect(files.empty).toHaveLength(0);
    });

    it('ZIP streams large entries through the durable repository, stored (level 0) or deflated', async () => {
      const large = Buffer.alloc(3 * 1024 * 1024 + 7);
      for (let i = 0; i < large.length; i++) large[i] = (i * 7 + (i >> 10)) % 256;
      for (const level of ['0', '1']) {
        const r = await create({ mergeFormat: 'ZIP', compressionLevel: level }, true);
        await r.enqueue(large, { filename: 'large.bin' });
        await r.enqueue('small', { filename: 'small.txt' });
        await r.run();
        const files = unzipSync(new Uint8Array(r.transferred('merged')[0]?.content() ?? Buffer.alloc(0)));
        expect(Buffer.from(files['large.bin'] ?? []).equals(large)).toBe(true);
        expect(Buffer.from(files['small.txt'] ?? []).toString()).toBe('small');
        await r.close();
        runner = undefined;
      }
    });
  });

  describe('defragment', () => {
    const fragment = (id: string, index: number, count: number, extra: Record<string, string> = {}) => ({
      'fragment.identifier': id,
      'fragment.index': String(index),
      'fragment.count': String(count),
      'segment.original.filename': 'whole.txt',
      ...extra,
    });

    it('rebuilds bundles in fragment.index order, however the fragments arrive', async () => {
      const r = await create({ mergeStrategy: 'Defragment' });
      await r.enqueue('C', fragment('x', 3, 3));
      await r.enqueue('2', fragment('y', 2, 2));
      await r.enqueue('A', fragment('x', 1, 3));
      await r.enqueue('1', fragment('y', 1, 2));
      await r.enqueue('B', fragment('x', 2, 3));
      await r.run();
      const merged = r.transferred('merged');
      expect(merged.map((m) => m.text()).sort()).toEqual(['12', 'ABC']);
      expect(merged.every((m) => m.attribute('filename') === 'whole.txt')).toBe(true);
      expect(merged.every((m) => m.attribute('merge.reason') === 'ALL_FRAGMENTS_RECEIVED')).toBe(true);
    });

    it('waits for missing fragments, and sends an incomplete bundle to failure after Max Bin Age', async () => {
      const r = await create({ mergeStrategy: 'Defragment', maxBinAge: '400 ms' });
      await r.engine.startComponent('under-test');
      await r.enqueue('A', fragment('x', 1, 3));
      await r.enqueue('C', fragment('x', 3, 3));
      await until(() => r.transferred('failure').length === 2, 'the bundle to time out');
      await r.engine.stopComponent('under-test');
      expect(r.transferred('merged')).toHaveLength(0);
      const reason = r.transferred('failure')[0]?.attribute('merge.failure.reason');
      expect(reason).toBe('bundle x: only 2 of 3 fragments arrived within Max Bin Age');
    });

    it('fails FlowFiles without fragment attributes, and bundles that disagree or repeat an index', async () => {
      const r = await create({ mergeStrategy: 'Defragment' });
      await r.enqueue('no attributes');
      await r.enqueue('bad index', fragment('z', 1, 2, { 'fragment.index': 'one' }));
      await r.enqueue('p', fragment('p', 1, 2));
      await r.enqueue('q', fragment('p', 2, 3));
      await r.enqueue('d1', fragment('d', 1, 3));
      await r.enqueue('d1 again', fragment('d', 1, 3));
      await r.run();
      const reasons = r.transferred('failure').map((f) => `${f.text()}: ${f.attribute('merge.failure.reason')}`);
      expect(reasons).toEqual([
        'no attributes: Defragment needs the fragment.identifier attribute, which is missing',
        'bad index: fragment.index ("one") and fragment.count ("2") must be whole numbers, the count at least 1',
        'p: bundle p: fragments disagree on fragment.count (2 and 3)',
        'q: bundle p: fragments disagree on fragment.count (2 and 3)',
        'd1: bundle d: fragment.index 1 appears more than once',
        'd1 again: bundle d: fragment.index 1 appears more than once',
      ]);
      expect(r.transferred('merged')).toHaveLength(0);
    });
  });

  it('explains contradictory limits', async () => {
    const r = await create({ minEntries: '10', maxEntries: '5', minSize: '2 KB', maxSize: '1 KB' });
    const errors = r.validationErrors().join('\n');
    expect(errors).toMatch(/Minimum Number of Entries \(10\) is above Maximum Number of Entries \(5\)/);
    expect(errors).toMatch(/Minimum Group Size \(2\.00 KB\) is above Maximum Group Size \(1\.00 KB\)/);
  });
});
