import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteOnContent } from './index.ts';

describe('RouteOnContent', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it('by default needs the whole content to match a rule', async () => {
    runner = await TestRunner.create(RouteOnContent, { properties: { digits: '\\d+', word: '[a-z]+' } });
    await runner.enqueue('12345');
    await runner.enqueue('hello');
    await runner.enqueue('hello 123');
    await runner.run();
    expect(runner.transferred('digits').map((f) => f.text())).toEqual(['12345']);
    expect(runner.transferred('word').map((f) => f.text())).toEqual(['hello']);
    expect(runner.transferred('unmatched').map((f) => f.text())).toEqual(['hello 123']);
    expect(runner.transferred('word')[0]?.attribute('RouteOnContent.Route')).toBe('word');
    const routes = await runner.provenanceEvents('ROUTE');
    expect(routes.map((e) => e.relationship).sort()).toEqual(['digits', 'unmatched', 'word']);
  });

  it('with "contain match" routes to every matching rule, cloning for extra matches', async () => {
    runner = await TestRunner.create(RouteOnContent, {
      properties: { matchRequirement: 'content must contain match', error: 'ERROR', disk: 'disk (full|failed)', none: 'xyz' },
    });
    const input = await runner.enqueue('12:00 ERROR disk full\n12:01 retry');
    await runner.run();
    const error = runner.transferred('error');
    const disk = runner.transferred('disk');
    expect(error).toHaveLength(1);
    expect(disk).toHaveLength(1);
    expect(error[0]?.uuid).toBe(input.uuid);
    expect(disk[0]?.uuid).not.toBe(input.uuid);
    expect(disk[0]?.text()).toBe('12:00 ERROR disk full\n12:01 retry');
    expect(runner.transferred('none')).toEqual([]);
    expect((await runner.provenanceEvents('CLONE')).map((e) => e.flowFileUuid)).toEqual([input.uuid]);
  });

  it('evaluates Expression Language in rules per FlowFile', async () => {
    runner = await TestRunner.create(RouteOnContent, {
      properties: { matchRequirement: 'content must contain match', mine: 'order=${order}' },
    });
    await runner.enqueue('order=42 ok', { order: '42' });
    await runner.enqueue('order=42 ok', { order: '7' });
    await runner.run();
    expect(runner.transferred('mine')).toHaveLength(1);
    expect(runner.transferred('unmatched')).toHaveLength(1);
  });

  it('searches only the first Content Buffer Size bytes', async () => {
    runner = await TestRunner.create(RouteOnContent, {
      properties: { matchRequirement: 'content must contain match', bufferSize: '10 B', tail: 'needle' },
    });
    await runner.enqueue(`${'x'.repeat(20)}needle`);
    await runner.enqueue('needle');
    await runner.run();
    expect(runner.transferred('tail')).toHaveLength(1);
    expect(runner.transferred('unmatched')[0]?.size).toBe(26);
  });

  it('decodes the chosen character set, and reads invalid UTF-8 as U+FFFD instead of failing', async () => {
    runner = await TestRunner.create(RouteOnContent, {
      properties: { matchRequirement: 'content must contain match', accent: 'café', replacement: '\\uFFFD' },
    });
    await runner.enqueue(Buffer.from('café', 'utf8'));
    await runner.enqueue(Buffer.from([0x61, 0xff, 0x62]));
    await runner.run();
    expect(runner.transferred('accent')).toHaveLength(1);
    expect(runner.transferred('replacement')[0]?.content()).toEqual(Buffer.from([0x61, 0xff, 0x62]));

    await runner.setProperty('characterSet', 'ISO-8859-1');
    await runner.enqueue(Buffer.from('café', 'latin1'));
    await runner.run();
    expect(runner.transferred('accent')).toHaveLength(2);
  });

  it('sends a FlowFile whose computed expression is not a regex to failure, saying why', async () => {
    runner = await TestRunner.create(RouteOnContent, {
      properties: { matchRequirement: 'content must contain match', dynamic: '${pattern}' },
    });
    await runner.enqueue('abc', { pattern: 'b' });
    const bad = await runner.enqueue('abc', { pattern: '(' });
    await runner.run();
    expect(runner.transferred('dynamic')).toHaveLength(1);
    const failed = runner.transferred('failure');
    expect(failed.map((f) => f.uuid)).toEqual([bad.uuid]);
    expect(failed[0]?.attribute('routeoncontent.failure.reason')).toMatch(/"dynamic".*"\(" is not a valid regular expression/);
    expect(failed[0]?.penalized).toBe(true);
  });

  it('is invalid without rules, with a broken literal regex, a reserved name or an unknown character set', async () => {
    runner = await TestRunner.create(RouteOnContent);
    expect(runner.validationErrors()).toEqual(['add at least one rule (a property whose value is a regular expression)']);
    await runner.close();
    runner = await TestRunner.create(RouteOnContent, { properties: { broken: '(', unmatched: 'x', characterSet: 'klingon' } });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "characterSet": "klingon" is not a character set/),
      expect.stringMatching(/^property "broken": not a valid regular expression/),
      'property "unmatched": "unmatched" is the name of a RouteOnContent relationship; give the rule another name',
    ]);
  });
});
