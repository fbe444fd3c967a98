import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { SplitJson } from './index.ts';

describe('SplitJson', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (properties: Record<string, string>): Promise<TestRunner> => {
    runner = await TestRunner.create(SplitJson, { properties });
    return runner;
  };

  it('splits the selected array into one FlowFile per element with fragment attributes', async () => {
    const r = await create({ path: '$.items' });
    const input = await r.enqueue(JSON.stringify({ items: [{ id: 1 }, 'two', 3, true, null, [5, 6]] }), {
      filename: 'batch.json',
      source: 'sensor',
    });
    await r.run();
    const splits = r.transferred('split');
    expect(splits.map((s) => s.text())).toEqual(['{"id":1}', 'two', '3', 'true', '', '[5,6]']);
    const id = splits[0]?.attribute('fragment.identifier');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    for (const [i, s] of splits.entries()) {
      expect(s.attribute('fragment.identifier')).toBe(id);
      expect(s.attribute('fragment.index')).toBe(String(i));
      expect(s.attribute('fragment.count')).toBe('6');
      expect(s.attribute('segment.original.filename')).toBe('batch.json');
      expect(s.attribute('source')).toBe('sensor');
    }
    const original = r.transferred('original');
    expect(original.map((o) => o.uuid)).toEqual([input.uuid]);
    expect(original[0]?.attribute('fragment.count')).toBe('6');
    const forks = await r.provenanceEvents('FORK');
    expect(forks).toHaveLength(1);
    expect(forks[0]?.childUuids).toHaveLength(6);
  });

  it('splits a top-level array with $, and writes null as configured', async () => {
    const r = await create({ path: '$', nullValue: 'the string null' });
    await r.enqueue('[null, {"a": "b"}]');
    await r.run();
    expect(r.transferred('split').map((s) => s.text())).toEqual(['null', '{"a":"b"}']);
  });

  it('makes each match of an indefinite path a split', async () => {
    const r = await create({ path: '$.orders[*].id' });
    await r.enqueue('{"orders": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}');
    await r.run();
    expect(r.transferred('split').map((s) => s.text())).toEqual(['a', 'b', 'c']);
  });

  it('passes an empty array to original with fragment.count 0 and no splits', async () => {
    const r = await create({ path: '$.items' });
    await r.enqueue('{"items": []}');
    await r.run();
    expect(r.transferred('split')).toHaveLength(0);
    expect(r.transferred('original')[0]?.attribute('fragment.count')).toBe('0');
  });

  it('sends non-JSON, a path to a non-array and a missing path to failure, with the reason', async () => {
    const r = await create({ path: '$.items' });
    await r.enqueue('{"items": [1, 2');
    await r.enqueue('{"items": {"a": 1}}');
    await r.enqueue('{"other": []}');
    await r.enqueue(Buffer.from([0x5b, 0xff, 0x5d]));
    await r.run();
    r.assertAllTransferred('failure', 4);
    expect(r.transferred('failure').map((f) => f.attribute('splitjson.failure.reason'))).toEqual([
      expect.stringMatching(/not valid JSON/),
      '$.items selects an object, not an array',
      '$.items matches nothing in the document',
      'the content is not valid UTF-8',
    ]);
  });

  it('refuses an invalid JSONPath before it starts', async () => {
    const r = await create({ path: '$.items[' });
    expect(r.validationErrors().join('\n')).toMatch(/not a valid JSONPath/);
  });
});
