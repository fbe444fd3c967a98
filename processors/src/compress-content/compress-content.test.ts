import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CompressContent } from './index.ts';

const text = 'The quick brown fox jumps over the lazy dog. '.repeat(2000);

describe('CompressContent', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (properties: Record<string, string>, durable = false): Promise<TestRunner> => {
    runner = await TestRunner.create(CompressContent, { properties, durable });
    return runner;
  };

  it.each([
    ['gzip', gunzipSync, 'application/gzip', '.gz'],
    ['deflate', inflateSync, 'application/deflate', '.deflate'],
    ['brotli', brotliDecompressSync, 'application/x-brotli', '.br'],
  ] as const)(
    'compresses with %s: standard decoders read it back; mime.type and filename updated',
    async (format, decode, mime, ext) => {
      const r = await create({ mode: 'compress', format, level: '6', updateFilename: 'true' });
      await r.enqueue(text, { filename: 'log.txt' });
      await r.run();
      r.assertAllTransferred('success', 1);
      const out = r.transferred('success')[0];
      expect(out?.size).toBeLessThan(text.length / 10);
      expect(decode(out?.content() ?? Buffer.alloc(0)).toString()).toBe(text);
      expect(out?.attribute('mime.type')).toBe(mime);
      expect(out?.attribute('filename')).toBe(`log.txt${ext}`);
      const events = await r.provenanceEvents('CONTENT_MODIFIED');
      expect(events).toHaveLength(1);
      expect(events[0]?.details).toMatch(new RegExp(`compressed with ${format}`));
    },
  );

  it.each([
    ['gzip', gzipSync(text), 'log.txt.gz'],
    ['deflate', deflateSync(text), 'log.txt.zlib'],
    ['brotli', brotliCompressSync(text), 'log.txt.br'],
  ] as const)('decompresses %s, removing mime.type and the extension', async (format, compressed, filename) => {
    const r = await create({ mode: 'decompress', format, updateFilename: 'true' });
    await r.enqueue(compressed, { filename, 'mime.type': 'application/whatever' });
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(out?.text()).toBe(text);
    expect(out?.attribute('mime.type')).toBeUndefined();
    expect(out?.attribute('filename')).toBe('log.txt');
  });

  it('keeps the filename unless told to update it (the default, as NiFi)', async () => {
    const r = await create({ mode: 'compress', format: 'gzip' });
    await r.enqueue('abc', { filename: 'a.txt' });
    await r.run();
    expect(r.transferred('success')[0]?.attribute('filename')).toBe('a.txt');
  });

  it('decompresses by mime.type: known types, unknown types passed unchanged, a missing one to failure', async () => {
    const r = await create({ mode: 'decompress', format: 'use mime.type attribute' });
    await r.enqueue(gzipSync('from gzip'), { 'mime.type': 'application/gzip' });
    await r.enqueue(brotliCompressSync('from brotli'), { 'mime.type': 'application/x-brotli' });
    await r.enqueue(deflateSync('from deflate'), { 'mime.type': 'application/zlib' });
    await r.enqueue('plain text', { 'mime.type': 'text/plain' });
    await r.enqueue(gzipSync('no type'));
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['from gzip', 'from brotli', 'from deflate', 'plain text']);
    expect(r.transferred('success')[3]?.attribute('mime.type')).toBe('text/plain');
    const failed = r.transferred('failure');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attribute('compress.failure.reason')).toMatch(/no mime\.type/);
  });

  it('round-trips large content through the durable repository (streamed)', async () => {
    const large = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = (i % 97) + ((i >> 12) % 7);
    const r = await create({ mode: 'compress', format: 'gzip', level: '1' }, true);
    await r.enqueue(large);
    await r.run();
    const compressed = r.transferred('success')[0]?.content() ?? Buffer.alloc(0);
    expect(gunzipSync(compressed).equals(large)).toBe(true);
  });

  it('sends corrupt and truncated data to failure, content unchanged, with the zlib error', async () => {
    const r = await create({ mode: 'decompress', format: 'gzip' });
    const truncated = gzipSync(text).subarray(0, 200);
    await r.enqueue('this is not gzip at all');
    await r.enqueue(truncated);
    await r.run();
    r.assertAllTransferred('failure', 2);
    const [notGzip, cut] = r.transferred('failure');
    expect(notGzip?.attribute('compress.failure.reason')).toMatch(/could not decompress the gzip data: .*header/);
    expect(notGzip?.text()).toBe('this is not gzip at all');
    expect(cut?.attribute('compress.failure.reason')).toMatch(/could not decompress the gzip data: .*end of file/);
    expect(cut?.content().equals(truncated)).toBe(true);
  });

  describe('decompression bombs', () => {
    // 200 MB of zeros: about 200 KB of gzip (ratio ~1000:1), and far less as brotli.
    const zeros = Buffer.alloc(200 * 1024 * 1024);
    const gzipBomb = gzipSync(zeros, { level: 9 });
    const brotliBomb = brotliCompressSync(Buffer.alloc(50 * 1024 * 1024));

    it('stops a gzip bomb at the ratio limit, quickly, leaving the FlowFile unchanged', async () => {
      const r = await create({ mode: 'decompress', format: 'gzip' }, true);
      await r.enqueue(gzipBomb, { filename: 'bomb.gz' });
      const started = Date.now();
      await r.run();
      const elapsed = Date.now() - started;
      r.assertAllTransferred('failure', 1);
      const out = r.transferred('failure')[0];
      expect(out?.attribute('compress.failure.reason')).toMatch(/more than Maximum Compression Ratio.*decompression bomb/);
      expect(out?.content().equals(gzipBomb)).toBe(true);
      // Stopped after ~100 x 200 KB = 20 MB of the 200 MB: far from the whole expansion.
      expect(elapsed).toBeLessThan(10_000);
    });

    it('stops a gzip bomb of a few KB (8 MB of zeros)', async () => {
      const small = gzipSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 });
      expect(small.length).toBeLessThan(10 * 1024);
      const r = await create({ mode: 'decompress', format: 'gzip' });
      await r.enqueue(small);
      await r.run();
      r.assertAllTransferred('failure', 1);
      expect(r.transferred('failure')[0]?.attribute('compress.failure.reason')).toMatch(/exceeds 1\.00 MB/);
    });

    it('stops a brotli bomb of a few KB', async () => {
      expect(brotliBomb.length).toBeLessThan(8 * 1024);
      const r = await create({ mode: 'decompress', format: 'brotli' });
      await r.enqueue(brotliBomb);
      await r.run();
      r.assertAllTransferred('failure', 1);
      expect(r.transferred('failure')[0]?.attribute('compress.failure.reason')).toMatch(/exceeds 1\.00 MB/);
    });

    it('enforces Maximum Decompressed Size when the ratio check is off', async () => {
      const r = await create({ mode: 'decompress', format: 'gzip', maxRatio: '0', maxDecompressedSize: '5 MB' });
      await r.enqueue(gzipBomb);
      await r.enqueue(gzipSync(Buffer.alloc(4 * 1024 * 1024)));
      await r.run();
      expect(r.transferred('failure')[0]?.attribute('compress.failure.reason')).toMatch(
        /larger than Maximum Decompressed Size \(5\.00 MB\)/,
      );
      expect(r.transferred('success')[0]?.size).toBe(4 * 1024 * 1024);
    });

    it('lets legitimately compressible data through below the ratio', async () => {
      const r = await create({ mode: 'decompress', format: 'gzip', maxRatio: '2000' });
      await r.enqueue(gzipSync(Buffer.alloc(20 * 1024 * 1024)));
      await r.run();
      r.assertAllTransferred('success', 1);
      expect(r.transferred('success')[0]?.size).toBe(20 * 1024 * 1024);
    });
  });

  it('validates: mime.type detection only for decompression, levels per format', async () => {
    const r = await create({ mode: 'compress', format: 'use mime.type attribute' });
    expect(r.validationErrors().join('\n')).toMatch(/only works for decompression/);
    await r.setProperty('format', 'gzip');
    await r.setProperty('level', '11');
    expect(r.validationErrors().join('\n')).toMatch(/above the maximum of 9 for gzip/);
    await r.setProperty('format', 'brotli');
    expect(r.validationErrors()).toEqual([]);
  });
});
