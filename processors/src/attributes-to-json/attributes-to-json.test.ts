import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributesToJSON } from './index.ts';

describe('AttributesToJSON', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const json = (text: string | undefined): unknown => JSON.parse(text ?? 'null');

  it('writes every attribute into JSONAttributes by default, keeping the content', async () => {
    runner = await TestRunner.create(AttributesToJSON);
    const input = await runner.enqueue('payload', { color: 'red', size: '3' });
    await runner.run();
    runner.assertAllTransferred('success', 1);
    const out = runner.transferred('success')[0];
    expect(out?.text()).toBe('payload');
    expect(json(out?.attribute('JSONAttributes'))).toEqual({
      uuid: input.uuid,
      filename: input.attribute('filename'),
      path: './',
      color: 'red',
      size: '3',
    });
  });

  it('writes only the listed attributes, in list order, with "" or null for missing ones', async () => {
    runner = await TestRunner.create(AttributesToJSON, { properties: { attributesList: ' size , missing,color' } });
    await runner.enqueue('', { color: 'red', size: '3', other: 'x' });
    await runner.run();
    expect(runner.transferred('success')[0]?.attribute('JSONAttributes')).toBe('{"size":"3","missing":"","color":"red"}');

    await runner.setProperty('nullValue', 'true');
    await runner.enqueue('', { color: 'red', size: '3' });
    await runner.run();
    expect(runner.transferred('success')[1]?.attribute('JSONAttributes')).toBe('{"size":"3","missing":null,"color":"red"}');
  });

  it('selects by whole-name regex, together with the list, and can leave out core attributes', async () => {
    runner = await TestRunner.create(AttributesToJSON, {
      properties: { attributesRegex: 'http\\..*|filename', attributesList: 'id', includeCoreAttributes: 'false' },
    });
    await runner.enqueue('', { id: '7', 'http.method': 'GET', 'x.http.y': 'no', filename: 'f.txt' });
    await runner.run();
    expect(json(runner.transferred('success')[0]?.attribute('JSONAttributes'))).toEqual({ id: '7', 'http.method': 'GET' });
  });

  it('replaces the content with pretty-printed JSON and sets mime.type', async () => {
    runner = await TestRunner.create(AttributesToJSON, {
      properties: { destination: 'flowfile-content', attributesList: 'a,b', prettyPrint: 'true' },
    });
    await runner.enqueue('old content', { a: '1', b: '2' });
    await runner.run();
    const out = runner.transferred('success')[0];
    expect(out?.text()).toBe('{\n  "a": "1",\n  "b": "2"\n}');
    expect(out?.attribute('mime.type')).toBe('application/json');
    expect(out?.attribute('JSONAttributes')).toBeUndefined();
    expect((await runner.provenanceEvents('CONTENT_MODIFIED')).map((e) => e.flowFileUuid)).toEqual([out?.uuid]);
  });

  it('embeds attribute values holding JSON objects or arrays with the nested strategy', async () => {
    runner = await TestRunner.create(AttributesToJSON, {
      properties: { attributesList: 'obj,arr,num,broken', jsonHandling: 'nested' },
    });
    await runner.enqueue('', { obj: '{"a":{"b":1}}', arr: '[1,"two"]', num: '42', broken: '{"a":' });
    await runner.run();
    expect(json(runner.transferred('success')[0]?.attribute('JSONAttributes'))).toEqual({
      obj: { a: { b: 1 } },
      arr: [1, 'two'],
      num: '42',
      broken: '{"a":',
    });
  });

  it('keeps attribute names like __proto__ as ordinary keys, and escapes control characters', async () => {
    runner = await TestRunner.create(AttributesToJSON, { properties: { attributesList: '__proto__,constructor,text' } });
    // A computed key: a literal `__proto__:` would set the prototype instead of a property.
    await runner.enqueue('', { ['__proto__']: 'p', constructor: 'c', text: 'line\n"quoted"\u0000' });
    await runner.run();
    const text = runner.transferred('success')[0]?.attribute('JSONAttributes');
    expect(text).toBe('{"__proto__":"p","constructor":"c","text":"line\\n\\"quoted\\"\\u0000"}');
    const parsed = JSON.parse(text ?? '{}');
    expect(Object.getOwnPropertyNames(parsed)).toEqual(['__proto__', 'constructor', 'text']);
  });

  it('evaluates the list per FlowFile, and returns a FlowFile whose regex cannot be built to the queue, penalized', async () => {
    runner = await TestRunner.create(AttributesToJSON, {
      properties: { attributesList: '${which}', attributesRegex: '${pattern}' },
    });
    await runner.enqueue('', { which: 'a', a: '1', pattern: 'b.*', bee: '2' });
    const bad = await runner.enqueue('', { which: 'a', a: '1', pattern: '(' });
    await runner.run();
    expect(json(runner.transferred('success')[0]?.attribute('JSONAttributes'))).toEqual({ a: '1', bee: '2' });
    expect(runner.inputQueue().map((f) => [f.uuid, f.penalized])).toEqual([[bad.uuid, true]]);
    expect(runner.logsAt('ERROR')[0]?.message).toContain(bad.uuid);
  });

  it('is invalid with an unknown destination or a broken regular expression', async () => {
    runner = await TestRunner.create(AttributesToJSON, { properties: { destination: 'somewhere', attributesRegex: '[' } });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "attributesRegex": not a valid regular expression/),
      'property "destination": "somewhere" is not one of the allowed values: flowfile-attribute, flowfile-content',
    ]);
  });
});
