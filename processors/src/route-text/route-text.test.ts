import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteText } from './index.ts';

const LOG = ['INFO start', 'WARN disk 80%', 'ERROR disk full', 'INFO done', 'ERROR net down'].join('\n');

describe('RouteText', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const texts = (r: TestRunner, relationship: string): string[] => r.transferred(relationship).map((f) => f.text());

  it('routes each line to every rule it matches, keeps line endings, and passes the original on', async () => {
    runner = await TestRunner.create(RouteText, {
      properties: { matchingStrategy: 'starts-with', errors: 'ERROR', problems: 'WARN' },
    });
    const input = await runner.enqueue(`${LOG}\n`, { source: 'app' });
    await runner.run();
    expect(texts(runner, 'errors')).toEqual(['ERROR disk full\nERROR net down\n']);
    expect(texts(runner, 'problems')).toEqual(['WARN disk 80%\n']);
    expect(texts(runner, 'unmatched')).toEqual(['INFO start\nINFO done\n']);
    expect(runner.transferred('original').map((f) => f.uuid)).toEqual([input.uuid]);
    const errors = runner.transferred('errors')[0];
    expect(errors?.attribute('RouteText.Route')).toBe('errors');
    expect(errors?.attribute('source')).toBe('app');
    const forks = await runner.provenanceEvents('FORK');
    expect(forks.map((e) => e.flowFileUuid)).toEqual([input.uuid]);
    expect(forks[0]?.childUuids).toHaveLength(3);
  });

  it('copies a line into each relationship whose rule it matches', async () => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'contains', disk: 'disk', error: 'ERROR' } });
    await runner.enqueue(LOG);
    await runner.run();
    expect(texts(runner, 'disk')).toEqual(['WARN disk 80%\nERROR disk full\n']);
    // The last line had no line break, and keeps having none.
    expect(texts(runner, 'error')).toEqual(['ERROR disk full\nERROR net down']);
  });

  it.each([
    ['match-all', ['ERROR disk full\n', 'ERROR net down'], ['INFO start\n', 'WARN disk 80%\n', 'INFO done\n']],
    ['match-any', ['WARN disk 80%\n', 'ERROR disk full\n', 'ERROR net down'], ['INFO start\n', 'INFO done\n']],
  ])('with %s routes lines to matched or unmatched', async (routingStrategy, matched, unmatched) => {
    runner = await TestRunner.create(RouteText, {
      properties: { routingStrategy, matchingStrategy: 'contains-regex', error: '^ERROR', disk: 'disk|net' },
    });
    await runner.enqueue(LOG);
    await runner.run();
    expect(texts(runner, 'matched')).toEqual([matched.join('')]);
    expect(texts(runner, 'unmatched')).toEqual([unmatched.join('')]);
  });

  it.each([
    ['starts-with', 'info', ['INFO start', 'INFO done']],
    ['ends-with', 'FULL', ['ERROR disk full']],
    ['equals', 'info DONE', ['INFO done']],
    ['matches-regex', 'error \\w+ \\w+', ['ERROR disk full', 'ERROR net down']],
  ])('matching strategy %s (ignoring case)', async (matchingStrategy, rule, lines) => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy, ignoreCase: 'true', rule } });
    await runner.enqueue(`${LOG}\n`);
    await runner.run();
    expect(texts(runner, 'rule')).toEqual([lines.map((l) => `${l}\n`).join('')]);
  });

  it('tests lines without surrounding whitespace (or with it, when asked), handling CRLF', async () => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'equals', exact: 'x' } });
    await runner.enqueue('  x  \r\nx\r\ny\r\n');
    await runner.run();
    expect(texts(runner, 'exact')).toEqual(['  x  \r\nx\r\n']);
    await runner.setProperty('ignoreWhitespace', 'false');
    await runner.enqueue('  x  \r\nx\r\n');
    await runner.run();
    expect(texts(runner, 'exact')[1]).toBe('x\r\n');
  });

  it('evaluates "satisfies expression" per line with ${line} and ${lineNo}, which win over attributes', async () => {
    runner = await TestRunner.create(RouteText, {
      properties: {
        matchingStrategy: 'satisfies-expression',
        even: '${lineNo:mod(2):equals(0)}',
        long: '${line:length():gt(${limit})}',
      },
    });
    await runner.enqueue('a\nbbbbbb\nccc\ndddddddd\n', { limit: '4', line: 'attribute', lineNo: '99' });
    await runner.run();
    expect(texts(runner, 'even')).toEqual(['bbbbbb\ndddddddd\n']);
    expect(texts(runner, 'long')).toEqual(['bbbbbb\ndddddddd\n']);
    expect(texts(runner, 'unmatched')).toEqual(['a\nccc\n']);
  });

  it('evaluates text rules once per FlowFile against its attributes', async () => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'starts-with', mine: '${host}:' } });
    await runner.enqueue('web1: up\ndb1: down\nweb1: slow\n', { host: 'web1' });
    await runner.run();
    expect(texts(runner, 'mine')).toEqual(['web1: up\nweb1: slow\n']);
  });

  it('splits each relationship by group with a Grouping Regular Expression', async () => {
    runner = await TestRunner.create(RouteText, {
      properties: { matchingStrategy: 'contains', disk: 'disk', groupingRegex: '(\\w+) .*' },
    });
    await runner.enqueue(`${LOG}\nWARN disk 90%\n`);
    await runner.run();
    const disk = runner.transferred('disk').map((f) => [f.attribute('RouteText.Group'), f.text()]);
    expect(disk).toEqual([
      ['WARN', 'WARN disk 80%\nWARN disk 90%\n'],
      ['ERROR', 'ERROR disk full\n'],
    ]);
    const unmatched = runner
      .transferred('unmatched')
      .map((f) => f.attribute('RouteText.Group'))
      .sort();
    expect(unmatched).toEqual(['ERROR', 'INFO']);
  });

  it('routes an empty content to original only', async () => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'contains', x: 'x' } });
    await runner.enqueue('');
    await runner.run();
    runner.assertAllTransferred('original', 1);
  });

  it.each([false, true])(
    'streams large content into several outputs at once, intact (durable repositories: %s)',
    async (durable) => {
      runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'starts-with', a: 'a' }, durable });
      const lines: string[] = [];
      for (let i = 0; i < 60_000; i++) lines.push(`${i % 3 === 0 ? 'b' : 'a'}${String(i).padStart(20, '0')}\n`);
      await runner.enqueue(lines.join(''));
      await runner.run();
      expect(texts(runner, 'a')).toEqual([lines.filter((l) => l.startsWith('a')).join('')]);
      expect(texts(runner, 'unmatched')).toEqual([lines.filter((l) => l.startsWith('b')).join('')]);
    },
  );

  it('copies invalid UTF-8 bytes unchanged while matching the readable part', async () => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'starts-with', ok: 'ok' } });
    const bytes = Buffer.concat([Buffer.from('ok '), Buffer.from([0xff, 0xfe]), Buffer.from('\nbad\n')]);
    await runner.enqueue(bytes);
    await runner.run();
    expect(runner.transferred('ok')[0]?.content()).toEqual(Buffer.concat([Buffer.from('ok '), Buffer.from([0xff, 0xfe, 0x0a])]));
  });

  it('sends the input to failure, with no line FlowFiles, when a rule cannot be evaluated for a line', async () => {
    runner = await TestRunner.create(RouteText, {
      properties: { matchingStrategy: 'satisfies-expression', big: '${line:toNumber():gt(10)}' },
    });
    const input = await runner.enqueue('5\n20\nnot a number\n30\n');
    await runner.run();
    runner.assertAllTransferred('failure', 1);
    const failed = runner.transferred('failure')[0];
    expect(failed?.uuid).toBe(input.uuid);
    expect(failed?.attribute('routetext.failure.reason')).toMatch(/"big".*not a number/);
    expect(failed?.text()).toBe('5\n20\nnot a number\n30\n');
  });

  it('sends the input to failure when a rule is not boolean or a computed regex does not compile', async () => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'satisfies-expression', what: '${line}' } });
    await runner.enqueue('hello\n');
    await runner.run();
    expect(runner.transferred('failure')[0]?.attribute('routetext.failure.reason')).toBe(
      'rule "what" gave "hello" for line 1, not true or false',
    );
    await runner.close();
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'contains-regex', computed: '${pattern}' } });
    await runner.enqueue('x\n', { pattern: '[' });
    await runner.run();
    expect(runner.transferred('failure')[0]?.attribute('routetext.failure.reason')).toMatch(
      /^rule "computed": "\[" is not a valid regular expression/,
    );
  });

  it('is invalid without rules, a matching strategy, with a broken regex or a reserved rule name', async () => {
    runner = await TestRunner.create(RouteText, { properties: { matchingStrategy: 'contains' } });
    expect(runner.validationErrors()).toEqual([expect.stringMatching(/^add at least one rule/)]);
    await runner.close();
    runner = await TestRunner.create(RouteText, { properties: { x: 'y' } });
    expect(runner.validationErrors()).toEqual(['property "matchingStrategy": is required']);
    await runner.close();
    runner = await TestRunner.create(RouteText, {
      properties: { matchingStrategy: 'matches-regex', broken: '(', original: 'x' },
    });
    expect(runner.validationErrors()).toEqual([
      'property "original": "original" is the name of a RouteText relationship; give the rule another name',
    ]);
    await runner.setProperty('original', undefined);
    expect(runner.validationErrors()).toEqual([expect.stringMatching(/^property "broken": not a valid regular expression/)]);
  });
});
