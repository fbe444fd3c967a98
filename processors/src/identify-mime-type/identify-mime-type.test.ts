import { gzipSync } from 'node:zlib';
import { packFlowFileV3 } from '@sluice/api';
import { TestRunner } from '@sluice/testing';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { IdentifyMimeType } from './index.ts';

const tar = (): Buffer => {
  const block = Buffer.alloc(1024);
  block.write('hello.txt', 0, 'latin1');
  block.write('ustar\u000000', 257, 'latin1');
  return block;
};

describe('IdentifyMimeType', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const identify = async (
    content: Uint8Array | string,
    filename?: string,
    properties: Record<string, string> = {},
  ): Promise<{ type: string | undefined; extension: string | undefined }> => {
    runner ??= await TestRunner.create(IdentifyMimeType, { properties });
    await runner.enqueue(content, filename === undefined ? {} : { filename });
    await runner.run();
    const out = runner.transferred('success').at(-1);
    return { type: out?.attribute('mime.type'), extension: out?.attribute('mime.extension') };
  };

  it.each<[string, Uint8Array | string, string, string]>([
    ['JSON object', '  {"a": [1, 2, {"b": null}]}', 'application/json', '.json'],
    ['JSON array', '[1,2,3]', 'application/json', '.json'],
    ['NDJSON', '{"a":1}\n{"a":2}\n{"a":3}\n', 'application/x-ndjson', '.ndjson'],
    ['XML', '<?xml version="1.0"?><root><a/></root>', 'application/xml', '.xml'],
    ['bare XML', '<order id="1"><item/></order>', 'application/xml', '.xml'],
    ['HTML', '<!DOCTYPE html><html><body>hi</body></html>', 'text/html', '.html'],
    ['SVG', '<svg xmlns="http://www.w3.org/2000/svg"></svg>', 'image/svg+xml', '.svg'],
    ['CSV', 'id,name,city\n1,"Kim, J",Seoul\n2,Lee,Busan\n', 'text/csv', '.csv'],
    ['TSV', 'id\tname\n1\tKim\n2\tLee\n', 'text/tab-separated-values', '.tsv'],
    ['plain text', 'just some words\nand more words.\n', 'text/plain', '.txt'],
    ['PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n', 'latin1'), 'application/pdf', '.pdf'],
    ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'image/png', '.png'],
    ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]), 'image/jpeg', '.jpg'],
    ['GIF', Buffer.from('GIF89a\u0001\u0000', 'latin1'), 'image/gif', '.gif'],
    ['ZIP', zipSync({ 'a.txt': Buffer.from('x') }), 'application/zip', '.zip'],
    ['GZIP', gzipSync('hello'), 'application/gzip', '.gz'],
    ['BZIP2', Buffer.from('BZh91AY&SY', 'latin1'), 'application/x-bzip2', '.bz2'],
    ['TAR', tar(), 'application/x-tar', '.tar'],
    ['FlowFile v3', packFlowFileV3([['a', 'b']], Buffer.from('x')), 'application/flowfile-v3', '.pkg'],
    ['binary', Buffer.from([0x00, 0x01, 0x02, 0xfe, 0x80, 0x81]), 'application/octet-stream', ''],
    ['invalid UTF-8', Buffer.from([0x68, 0x69, 0xc3, 0x28, 0x20, 0x61]), 'application/octet-stream', ''],
    ['empty content', '', 'application/octet-stream', ''],
  ])('identifies %s', async (_name, content, type, extension) => {
    expect(await identify(content)).toEqual({ type, extension });
  });

  it('judges a large JSON document by its start, and text cut mid-character is still text', async () => {
    const big = `{"items": [${Array.from({ length: 3000 }, (_, i) => `{"n": ${i}, "name": "한국어 ${i}"}`).join(',')}]}`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(16 * 1024);
    expect(await identify(big)).toEqual({ type: 'application/json', extension: '.json' });
    expect(await identify('가'.repeat(5000))).toEqual({ type: 'text/plain', extension: '.txt' });
  });

  it('lets the filename refine a generic answer but not override the bytes', async () => {
    expect(await identify('key: value\nother: 2\n', 'config.yaml')).toEqual({ type: 'application/yaml', extension: '.yaml' });
    expect(await identify(zipSync({ 'word/document.xml': Buffer.from('<w/>') }), 'report.docx')).toEqual({
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      extension: '.docx',
    });
    // The bytes say PNG: a misleading name does not change that.
    expect(await identify(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'photo.txt')).toEqual({
      type: 'image/png',
      extension: '.png',
    });
  });

  it('ignores the filename when told to', async () => {
    runner = await TestRunner.create(IdentifyMimeType, { properties: { useFilename: 'false' } });
    expect(await identify('key: value\n', 'config.yaml')).toEqual({ type: 'text/plain', extension: '.txt' });
  });

  it('passes a batch through, content untouched', async () => {
    runner = await TestRunner.create(IdentifyMimeType);
    for (let i = 0; i < 5; i++) await runner.enqueue(`{"i": ${i}}`);
    await runner.run();
    runner.assertAllTransferred('success', 5);
    expect(runner.transferred('success').map((f) => f.text())).toEqual([0, 1, 2, 3, 4].map((i) => `{"i": ${i}}`));
  });
});
