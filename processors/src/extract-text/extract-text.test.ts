import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ExtractText } from './index.ts';

describe('ExtractText', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const captured = (r: TestRunner, prefix: string): Record<string, string> =>
    Object.fromEntries(
      [...(r.transferred('matched')[0]?.attributes ?? new Map<string, string>())].filter(
        ([k]) => k === prefix || k.startsWith(`${prefix}.`),
      ),
    );

  it('puts capture groups into attributes: the first group as the name, .0 the match, .1 .2 the groups', async () => {
    runner = await TestRunner.create(ExtractText, { properties: { date: '(\\d{4})-(\\d{2})-(\\d{2})', nothing: 'zzz' } });
    const input = await runner.enqueue('created 2024-05-06, updated 2024-06-07');
    await runner.run();
    runner.assertAllTransferred('matched', 1);
    expect(runner.transferred('matched')[0]?.uuid).toBe(input.uuid);
    expect(captured(runner, 'date')).toEqual({
      date: '2024',
      'date.0': '2024-05-06',
      'date.1': '2024',
      'date.2': '05',
      'date.3': '06',
    });
    expect(captured(runner, 'nothing')).toEqual({});
    expect(runner.transferred('matched')[0]?.text()).toBe('created 2024-05-06, updated 2024-06-07');
  });

  it('routes FlowFiles no rule matches to unmatched, unchanged', async () => {
    runner = await TestRunner.create(ExtractText, { properties: { id: 'id=(\\d+)' } });
    const input = await runner.enqueue('no identifier here', { keep: 'me' });
    await runner.run();
    runner.assertAllTransferred('unmatched', 1);
    expect(runner.transferred('unmatched')[0]?.attributes).toEqual(input.attributes);
  });

  it('uses the whole match as the value when there are no groups, and can leave out group 0', async () => {
    runner = await TestRunner.create(ExtractText, {
      properties: { word: '[A-Z]+', opt: 'a(x)?(b)', includeCaptureGroupZero: 'false' },
    });
    await runner.enqueue('hello WORLD ab');
    await runner.run();
    expect(captured(runner, 'word')).toEqual({ word: 'WORLD' });
    // The optional group matched nothing and is left out.
    expect(captured(runner, 'opt')).toEqual({ opt: 'b', 'opt.2': 'b' });
  });

  it('captures every match with repeating capture groups, numbering on', async () => {
    runner = await TestRunner.create(ExtractText, {
      properties: { kv: '(\\w+)=(\\w+)', repeatingCaptureGroups: 'true', includeCaptureGroupZero: 'false' },
    });
    await runner.enqueue('a=1 b=2 c=3');
    await runner.run();
    expect(captured(runner, 'kv')).toEqual({
      kv: 'a',
      'kv.1': 'a',
      'kv.2': '1',
      'kv.3': 'b',
      'kv.4': '2',
      'kv.5': 'c',
      'kv.6': '3',
    });
  });

  it('names attributes after named groups, and requires every group to be named', async () => {
    runner = await TestRunner.create(ExtractText, {
      properties: { d: '(?<year>\\d{4})-(?<month>\\d{2})', namedGroups: 'true', includeCaptureGroupZero: 'false' },
    });
    await runner.enqueue('on 2024-05');
    await runner.run();
    expect(captured(runner, 'd')).toEqual({ d: '2024', 'd.year': '2024', 'd.month': '05' });

    await runner.setProperty('d', '(?<year>\\d{4})-(\\d{2})');
    expect(runner.validationErrors()).toEqual([
      'property "d": has 2 capture group(s) but 1 named one(s); with Enable Named Groups every capture group must be named, like (?<year>\\d{4})',
    ]);
  });

  it('applies the flags', async () => {
    runner = await TestRunner.create(ExtractText, {
      properties: { line: '^b([^\\n]*)$', multi: 'x.y', caseInsensitive: 'true', multiline: 'true', dotAll: 'true' },
    });
    await runner.enqueue('a\nBee\nX\nY');
    await runner.run();
    expect(captured(runner, 'line')).toEqual({ line: 'ee', 'line.0': 'Bee', 'line.1': 'ee' });
    expect(captured(runner, 'multi')).toEqual({ multi: 'X\nY', 'multi.0': 'X\nY' });
  });

  it('cuts captures at the maximum length and searches only the buffer', async () => {
    runner = await TestRunner.create(ExtractText, {
      properties: { all: '(x+)(y*)', maxCaptureLength: '5', bufferSize: '8 B' },
    });
    await runner.enqueue(`${'x'.repeat(8)}yyyy`);
    await runner.run();
    expect(captured(runner, 'all')).toEqual({ all: 'xxxxx', 'all.0': 'xxxxx', 'all.1': 'xxxxx' });
  });

  it('reads invalid UTF-8 as U+FFFD rather than failing', async () => {
    runner = await TestRunner.create(ExtractText, { properties: { around: 'a(.)b' } });
    await runner.enqueue(Buffer.from([0x61, 0xc3, 0x62]));
    await runner.run();
    expect(captured(runner, 'around')['around.1']).toBe('\uFFFD');
  });

  it('is invalid without rules, with a broken regex, a rule for uuid, or a regex the flags reject', async () => {
    runner = await TestRunner.create(ExtractText);
    expect(runner.validationErrors()).toEqual(['add at least one rule (a property whose value is a regular expression)']);
    await runner.close();
    runner = await TestRunner.create(ExtractText, { properties: { broken: '(', uuid: 'x' } });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "broken": not a valid regular expression/),
      'property "uuid": the uuid attribute cannot be changed; give the rule another name',
    ]);
    await runner.close();
    // \- is fine without the u flag and an error with it.
    runner = await TestRunner.create(ExtractText, { properties: { dash: 'a\\-b', unicode: 'true' } });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "dash": not a valid regular expression with these flags/),
    ]);
  });
});
