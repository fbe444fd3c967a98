import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { EvaluateJsonPath } from './index.ts';

const ORDER = JSON.stringify({
  id: 42,
  customer: { name: 'Ann', vip: true, note: null },
  items: [
    { sku: 'a', qty: 2 },
    { sku: 'b', qty: 5 },
  ],
});

describe('EvaluateJsonPath', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const attributes = (properties: Record<string, string>) =>
    TestRunner.create(EvaluateJsonPath, { properties: { destination: 'flowfile-attribute', ...properties } });

  it('puts scalar results into attributes and keeps the content', async () => {
    runner = await attributes({ id: '$.id', name: '$.customer.name', vip: '$.customer.vip', note: '$.customer.note' });
    await runner.enqueue(ORDER);
    await runner.run();
    runner.assertAllTransferred('matched', 1);
    const out = runner.transferred('matched')[0];
    expect(out?.attribute('id')).toBe('42');
    expect(out?.attribute('name')).toBe('Ann');
    expect(out?.attribute('vip')).toBe('true');
    expect(out?.attribute('note')).toBe('');
    expect(out?.text()).toBe(ORDER);
  });

  it('writes json results, arrays for paths that can match several values, and null as asked', async () => {
    runner = await attributes({
      returnType: 'json',
      customer: '$.customer',
      skus: '$.items[*].sku',
      big: '$.items[?(@.qty > 3)].sku',
      name: '$.customer.name',
    });
    await runner.enqueue(ORDER);
    await runner.run();
    const out = runner.transferred('matched')[0];
    expect(JSON.parse(out?.attribute('customer') ?? '')).toEqual({ name: 'Ann', vip: true, note: null });
    expect(out?.attribute('skus')).toBe('["a","b"]');
    expect(out?.attribute('big')).toBe('["b"]');
    expect(out?.attribute('name')).toBe('"Ann"');

    await runner.setProperty('returnType', 'scalar');
    await runner.setProperty('customer', undefined);
    await runner.setProperty('skus', undefined);
    await runner.setProperty('big', undefined);
    await runner.setProperty('note', '$.customer.note');
    await runner.setProperty('nullValueRepresentation', 'the string null');
    await runner.enqueue(ORDER);
    await runner.run();
    expect(runner.transferred('matched')[1]?.attribute('note')).toBe('null');
  });

  it.each([
    ['ignore', ''],
    ['warn', ''],
    ['skip', undefined],
  ] as const)(
    'with path-not-found behaviour %s, a missing path gives %j and the FlowFile still matches',
    async (behavior, expected) => {
      runner = await attributes({ missing: '$.nope', none: '$.items[?(@.qty > 100)]', pathNotFoundBehavior: behavior });
      await runner.enqueue(ORDER);
      await runner.run();
      const out = runner.transferred('matched')[0];
      expect(out?.attribute('missing')).toBe(expected);
      expect(out?.attribute('none')).toBe(expected);
      const warnings = runner.logsAt('WARN').filter((l) => l.componentType === 'EvaluateJsonPath');
      expect(warnings).toHaveLength(behavior === 'warn' ? 2 : 0);
    },
  );

  it('replaces the content with the result of the single path, or routes to unmatched', async () => {
    runner = await TestRunner.create(EvaluateJsonPath, { properties: { items: '$.items' } });
    await runner.enqueue(ORDER);
    await runner.enqueue('{"other": 1}');
    await runner.run();
    const out = runner.transferred('matched')[0];
    expect(JSON.parse(out?.text() ?? '')).toEqual([
      { sku: 'a', qty: 2 },
      { sku: 'b', qty: 5 },
    ]);
    expect(out?.attribute('mime.type')).toBe('application/json');
    expect(runner.transferred('unmatched').map((f) => f.text())).toEqual(['{"other": 1}']);
  });

  it('writes a scalar result as plain text with return type scalar', async () => {
    runner = await TestRunner.create(EvaluateJsonPath, { properties: { name: '$.customer.name', returnType: 'scalar' } });
    await runner.enqueue(ORDER);
    await runner.run();
    const out = runner.transferred('matched')[0];
    expect(out?.text()).toBe('Ann');
    expect(out?.attribute('mime.type')).toBe('text/plain');
  });

  it.each([
    ['malformed JSON', '{"id": 1,', /^content is not valid JSON: /],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), /^content is not valid UTF-8$/],
    ['an empty content', '', /^content is not valid JSON: /],
  ])('sends %s to failure with the reason', async (_what, content, reason) => {
    runner = await attributes({ id: '$.id' });
    const input = await runner.enqueue(content, { keep: 'me' });
    await runner.run();
    runner.assertAllTransferred('failure', 1);
    const out = runner.transferred('failure')[0];
    expect(out?.uuid).toBe(input.uuid);
    expect(out?.attribute('evaluatejsonpath.failure.reason')).toMatch(reason);
    expect(out?.attribute('keep')).toBe('me');
    expect(out?.attribute('id')).toBeUndefined();
  });

  it('sends content larger than Maximum JSON Size to failure without parsing it', async () => {
    runner = await attributes({ id: '$.id', maxJsonSize: '16 B' });
    await runner.enqueue(ORDER);
    await runner.run();
    expect(runner.transferred('failure')[0]?.attribute('evaluatejsonpath.failure.reason')).toMatch(
      /^content of .* is larger than Maximum JSON Size \(16 B\)$/,
    );
  });

  it('sends an object where a scalar is wanted to failure', async () => {
    runner = await attributes({ customer: '$.customer' });
    await runner.enqueue(ORDER);
    await runner.run();
    expect(runner.transferred('failure')[0]?.attribute('evaluatejsonpath.failure.reason')).toBe(
      'JSONPath $.customer found an object, which is not a scalar; use Return Type json',
    );
  });

  it("reads keys such as __proto__ and constructor only as the document's own keys", async () => {
    runner = await attributes({ proto: '$.__proto__.x', ctor: '$.constructor' });
    await runner.enqueue('{"__proto__": {"x": "own"}}');
    await runner.run();
    const out = runner.transferred('matched')[0];
    expect(out?.attribute('proto')).toBe('own');
    expect(out?.attribute('ctor')).toBe('');
  });

  it('is invalid without paths, with an invalid path, with several paths for content, or a path for uuid', async () => {
    runner = await TestRunner.create(EvaluateJsonPath);
    expect(runner.validationErrors()).toEqual(['add at least one JSONPath (a property whose value is a path like $.id)']);
    await runner.close();
    runner = await TestRunner.create(EvaluateJsonPath, { properties: { a: '$.a', b: '$.b' } });
    expect(runner.validationErrors()).toEqual([
      'destination flowfile-content takes exactly one JSONPath, but 2 are configured; remove the others or use flowfile-attribute',
    ]);
    await runner.close();
    runner = await attributes({ broken: '$.items[', uuid: '$.id' });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "broken": not a valid JSONPath/),
      'property "uuid": the uuid attribute cannot be changed',
    ]);
  });
});
