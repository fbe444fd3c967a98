import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { TransformJSON } from './index.ts';

describe('TransformJSON', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (properties: Record<string, string>): Promise<TestRunner> => {
    runner = await TestRunner.create(TransformJSON, { properties });
    return runner;
  };

  it('replaces the content with the expression result and sets mime.type', async () => {
    const r = await create({ expression: '{ "total": $sum(orders.(price * qty)), "names": orders.name }' });
    await r.enqueue(
      JSON.stringify({
        orders: [
          { name: 'a', price: 2, qty: 3 },
          { name: 'b', price: 5, qty: 1 },
        ],
      }),
      { 'mime.type': 'text/plain' },
    );
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(JSON.parse(out?.text() ?? '')).toEqual({ total: 11, names: ['a', 'b'] });
    expect(out?.attribute('mime.type')).toBe('application/json');
  });

  it('gives the expression the attributes as $attributes', async () => {
    const r = await create({ expression: '{ "id": id, "source": $attributes.filename, "n": $number($attributes.n) }' });
    await r.enqueue('{"id": 7}', { filename: 'in.json', n: '42' });
    await r.run();
    expect(JSON.parse(r.transferred('success')[0]?.text() ?? '')).toEqual({ id: 7, source: 'in.json', n: 42 });
  });

  it('pretty-prints when asked', async () => {
    const r = await create({ expression: '$', prettyPrint: 'true' });
    await r.enqueue('{"a":{"b":1}}');
    await r.run();
    expect(r.transferred('success')[0]?.text()).toBe('{\n  "a": {\n    "b": 1\n  }\n}');
  });

  it('handles an undefined result as configured', async () => {
    const r = await create({ expression: 'missing' });
    await r.enqueue('{"a": 1}');
    await r.run();
    expect(r.transferred('success')[0]?.text()).toBe('null');
    await r.setProperty('whenUndefined', 'empty');
    await r.enqueue('{"a": 1}');
    await r.run();
    expect(r.transferred('success')[1]?.size).toBe(0);
    await r.setProperty('whenUndefined', 'failure');
    await r.enqueue('{"a": 1}');
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('transformjson.failure.reason')).toMatch(/matched nothing/);
  });

  it('sends malformed JSON, invalid UTF-8 and oversized content to failure, unchanged', async () => {
    const r = await create({ expression: '$', maxInputSize: '1 KB' });
    await r.enqueue('{"a": [1, 2');
    await r.enqueue(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    await r.enqueue(JSON.stringify({ big: 'x'.repeat(2000) }));
    await r.run();
    r.assertAllTransferred('failure', 3);
    const reasons = r.transferred('failure').map((f) => f.attribute('transformjson.failure.reason'));
    expect(reasons[0]).toMatch(/not valid JSON/);
    expect(reasons[1]).toBe('the content is not valid UTF-8');
    expect(reasons[2]).toMatch(/larger than Maximum Input Size \(1\.00 KB\)/);
    expect(r.transferred('failure')[0]?.text()).toBe('{"a": [1, 2');
  });

  it("sends evaluation errors to failure with JSONata's message", async () => {
    const r = await create({ expression: '$number(a) + "x"' });
    await r.enqueue('{"a": "1"}');
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('transformjson.failure.reason')).toMatch(
      /T2002: The right side of the "\+" operator must evaluate to a number \(at character 12\)/,
    );
  });

  it('stops a long evaluation at the time limit, and deep recursion at the depth limit', async () => {
    // A million steps: seconds of work, held on the event loop, without the limit.
    const r = await create({ expression: '$sum([1..1000].($sum([1..1000].($ * 2))))', timeLimit: '200 ms' });
    await r.enqueue('{}');
    const started = Date.now();
    await r.run();
    expect(Date.now() - started).toBeLessThan(6000);
    expect(r.transferred('failure')[0]?.attribute('transformjson.failure.reason')).toMatch(
      /D1012: Evaluation timeout after 200 milliseconds/,
    );

    await r.setProperty('expression', '($f := function($n) { 1 + $f($n + 1) }; $f(0))');
    await r.setProperty('timeLimit', '10 sec');
    await r.enqueue('{}');
    await r.run();
    expect(r.transferred('failure')[1]?.attribute('transformjson.failure.reason')).toMatch(/D1011|stack/i);
  });

  it('refuses to start with an expression that does not compile, saying where', async () => {
    const r = await create({ expression: '{ "a": }' });
    expect(r.validationErrors().join('\n')).toMatch(/not a valid JSONata expression: .*at character/);
    await expect(r.run()).rejects.toThrow(/cannot run/);
  });

  it("does not let attributes named __proto__ reach the expression's prototype", async () => {
    const r = await create({ expression: '$attributes.polluted' });
    await r.enqueue('{}', { __proto__: 'x', polluted: 'own' });
    await r.run();
    expect(r.transferred('success')[0]?.text()).toBe('"own"');
  });
});
