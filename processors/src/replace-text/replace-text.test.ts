import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplaceText } from './index.ts';

describe('ReplaceText', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (properties: Record<string, string>, durable = false): Promise<TestRunner> => {
    runner = await TestRunner.create(ReplaceText, { properties, durable });
    return runner;
  };

  const replace = async (
    properties: Record<string, string>,
    content: string | Uint8Array,
    attributes: Record<string, string> = {},
  ): Promise<string | undefined> => {
    const r = runner ?? (await create(properties));
    await r.enqueue(content, attributes);
    await r.run();
    const out = r.transferred('success').at(-1);
    return out?.text();
  };

  it('by default (Regex Replace, (?s)(^.*$) -> $1, line by line) leaves the text as it was', async () => {
    expect(await replace({}, 'one\r\ntwo\nthree')).toBe('one\r\ntwo\nthree');
  });

  it('replaces regex matches on every line with back-references, keeping each terminator', async () => {
    const text = await replace({ searchValue: '(\\w+)=(\\d+)', replacementValue: '$2:$1' }, 'a=1 b=2\r\nc=3\nno match\rd=4');
    expect(text).toBe('1:a 2:b\r\n3:c\nno match\r4:d');
  });

  it('evaluates Expression Language in the replacement; dollars from attributes stay literal', async () => {
    const text = await replace({ searchValue: 'PRICE', replacementValue: '${currency}$0 (${filename})' }, 'cost: PRICE', {
      currency: 'US$1',
      filename: 'p.txt',
    });
    expect(text).toBe('cost: US$1PRICE (p.txt)');
  });

  it('evaluates the search value per FlowFile, and understands (?i)', async () => {
    const r = await create({ searchValue: '(?i)${word}', replacementValue: '*' });
    await r.enqueue('Cat cat CAT dog', { word: 'cat' });
    await r.enqueue('Cat cat CAT dog', { word: 'dog' });
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['* * * dog', 'Cat cat CAT *']);
  });

  it('Literal Replace takes the search and the replacement literally', async () => {
    expect(await replace({ strategy: 'Literal Replace', searchValue: '(.*)', replacementValue: '$1' }, 'a(.*)b(.*)')).toBe(
      'a$1b$1',
    );
  });

  it('Prepend, Append and Surround per line, or on the entire text', async () => {
    const r = await create({ strategy: 'Prepend', replacementValue: '> ' });
    await r.enqueue('a\nb\n');
    await r.run();
    await r.setProperty('strategy', 'Append');
    await r.setProperty('replacementValue', ';');
    await r.enqueue('a\r\nb');
    await r.run();
    await r.setProperty('strategy', 'Surround');
    await r.setProperty('prependText', '[');
    await r.setProperty('appendText', ']');
    await r.enqueue('a\nb');
    await r.run();
    await r.setProperty('evaluationMode', 'Entire text');
    await r.enqueue('a\nb\n');
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['> a\n> b\n', 'a;\r\nb;', '[a]\n[b]', '[a\nb\n]']);
  });

  it('Always Replace replaces each line, or everything', async () => {
    const r = await create({ strategy: 'Always Replace', replacementValue: '${filename}' });
    await r.enqueue('x\ny\n', { filename: 'f' });
    await r.run();
    await r.setProperty('evaluationMode', 'Entire text');
    await r.enqueue('x\ny\n', { filename: 'g' });
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['f\nf\n', 'g']);
  });

  it('Substitute Variables fills ${attribute} references and leaves unknown ones', async () => {
    expect(await replace({ strategy: 'Substitute Variables' }, 'Hello ${name}, ${missing} ${name}!', { name: 'Kim' })).toBe(
      'Hello Kim, ${missing} Kim!',
    );
  });

  it('applies only to the chosen lines', async () => {
    const r = await create({ strategy: 'Prepend', replacementValue: '#' });
    const results: string[] = [];
    for (const lineMode of ['First-Line', 'Last-Line', 'Except-First-Line', 'Except-Last-Line']) {
      await r.setProperty('lineMode', lineMode);
      await r.enqueue('a\nb\nc\n');
      await r.run();
      results.push(r.transferred('success').at(-1)?.text() ?? '');
    }
    expect(results).toEqual(['#a\nb\nc\n', 'a\nb\n#c\n', 'a\n#b\n#c\n', '#a\n#b\nc\n']);
  });

  it('Entire text: a regex can span lines; larger content than the buffer goes to failure', async () => {
    const r = await create({
      evaluationMode: 'Entire text',
      searchValue: '(?s)BEGIN.*END',
      replacementValue: '[cut]',
      maxBufferSize: '64 B',
    });
    await r.enqueue('keep\nBEGIN\nsecret\nEND\nkeep');
    await r.enqueue('x'.repeat(100));
    await r.run();
    expect(r.transferred('success')[0]?.text()).toBe('keep\n[cut]\nkeep');
    const failed = r.transferred('failure')[0];
    expect(failed?.attribute('replacetext.failure.reason')).toMatch(/larger than Maximum Buffer Size \(64 B\)/);
    expect(failed?.text()).toBe('x'.repeat(100));
  });

  it('Line-by-Line: a line longer than the buffer sends the FlowFile to failure, unchanged', async () => {
    const r = await create({ maxBufferSize: '16 B', searchValue: 'a', replacementValue: 'b' });
    const content = `short\n${'a'.repeat(40)}\nshort`;
    await r.enqueue(content);
    await r.run();
    const failed = r.transferred('failure')[0];
    expect(failed?.attribute('replacetext.failure.reason')).toMatch(/a line is longer than Maximum Buffer Size/);
    expect(failed?.text()).toBe(content);
  });

  it('sends invalid UTF-8 to failure instead of writing replacement characters', async () => {
    const r = await create({ searchValue: 'a', replacementValue: 'b' });
    await r.enqueue(Buffer.from([0x61, 0x0a, 0xc3, 0x28, 0x0a]));
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('replacetext.failure.reason')).toBe('the content is not valid UTF-8');
  });

  it('reads and writes other character sets', async () => {
    const r = await create({ characterSet: 'UTF-16BE', searchValue: 'ü', replacementValue: 'ue' });
    const utf16be = Buffer.from('grüße\nmüde', 'utf16le').swap16();
    await r.enqueue(utf16be);
    await r.run();
    expect(r.transferred('success')[0]?.content().equals(Buffer.from('grueße\nmuede', 'utf16le').swap16())).toBe(true);
    await r.setProperty('characterSet', 'ISO-8859-1');
    await r.setProperty('replacementValue', '€');
    await r.enqueue(Buffer.from('grün', 'latin1'));
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('replacetext.failure.reason')).toMatch(/ISO-8859-1 cannot encode/);
  });

  it('refuses an invalid regular expression or flag before it starts', async () => {
    const r = await create({ searchValue: '(unclosed' });
    expect(r.validationErrors().join('\n')).toMatch(/Search Value: not a valid regular expression/);
    await r.setProperty('searchValue', '(?x)a b');
    expect(r.validationErrors().join('\n')).toMatch(/inline flag "x" is not supported/);
  });

  it('streams a large file line by line in bounded memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') throw new Error('no gc');
    const line = 'id=12345 status=ok value=some text here\n';
    const count = 600_000; // ~24 MB
    const r = await create({ searchValue: 'status=ok', replacementValue: 'status=OK' }, true);
    await r.enqueue(Buffer.from(line.repeat(count)));
    gc();
    const live = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = live();
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, live() - before);
    }, 20);
    try {
      await r.run();
    } finally {
      clearInterval(sampler);
    }
    const out = r.transferred('success')[0];
    expect(out?.size).toBe(line.length * count);
    expect(out?.text().slice(0, line.length)).toBe('id=12345 status=OK value=some text here\n');
    expect(peak).toBeLessThan(12 * 1024 * 1024);
  });
});
