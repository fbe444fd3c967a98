import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { UpdateAttribute } from './index.ts';

describe('UpdateAttribute', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it('sets and overwrites attributes with Expression Language, every rule seeing the FlowFile as it arrived', async () => {
    runner = await TestRunner.create(UpdateAttribute, {
      properties: {
        color: '${color:toUpper()}',
        // Sees the incoming "red", not the "RED" the rule above produces.
        previous: 'was ${color}',
        shout: '${filename:append("!")}',
        big: '${count:toNumber():gt(5)}',
        literal: 'plain text',
      },
    });
    const input = await runner.enqueue('hello world', { color: 'red', filename: 'a.txt', count: '7' });
    await runner.run();
    runner.assertAllTransferred('success', 1);
    const out = runner.transferred('success')[0];
    expect(out?.uuid).toBe(input.uuid);
    expect(out?.attribute('color')).toBe('RED');
    expect(out?.attribute('previous')).toBe('was red');
    expect(out?.attribute('shout')).toBe('a.txt!');
    expect(out?.attribute('big')).toBe('true');
    expect(out?.attribute('literal')).toBe('plain text');
    expect(out?.text()).toBe('hello world');
  });

  it('records ATTRIBUTES_MODIFIED with the previous and the updated attributes', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { color: 'blue', added: '${color}-x' } });
    const input = await runner.enqueue('x', { color: 'red' });
    await runner.run();
    const events = await runner.provenanceEvents('ATTRIBUTES_MODIFIED');
    expect(events).toHaveLength(1);
    const event = events[0];
    expect(event?.flowFileUuid).toBe(input.uuid);
    expect(event?.componentType).toBe('UpdateAttribute');
    expect(event?.previousAttributes.get('color')).toBe('red');
    expect(event?.previousAttributes.has('added')).toBe(false);
    expect(event?.attributes.get('color')).toBe('blue');
    expect(event?.attributes.get('added')).toBe('red-x');
  });

  it('records no event for a FlowFile whose attributes did not change', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { color: 'red' } });
    await runner.enqueue('x', { color: 'red' });
    await runner.run();
    runner.assertAllTransferred('success', 1);
    expect(await runner.provenanceEvents('ATTRIBUTES_MODIFIED')).toHaveLength(0);
  });

  it('deletes attributes whose whole name matches, keeping uuid, filename and path', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { deleteAttributes: 'tmp\\..*|filename|path|uuid' } });
    const input = await runner.enqueue('x', { 'tmp.a': '1', 'tmp.b': '2', 'keep.tmp.c': '3', tmp: '4', filename: 'f.txt' });
    await runner.run();
    const out = runner.transferred('success')[0];
    expect(out?.attribute('tmp.a')).toBeUndefined();
    expect(out?.attribute('tmp.b')).toBeUndefined();
    // A substring match is not enough (NiFi's Matcher.matches semantics).
    expect(out?.attribute('keep.tmp.c')).toBe('3');
    expect(out?.attribute('tmp')).toBe('4');
    expect(out?.attribute('uuid')).toBe(input.uuid);
    expect(out?.attribute('filename')).toBe('f.txt');
    expect(out?.attribute('path')).toBe(input.attribute('path'));
    const event = (await runner.provenanceEvents('ATTRIBUTES_MODIFIED'))[0];
    expect(event?.previousAttributes.get('tmp.a')).toBe('1');
    expect(event?.attributes.has('tmp.a')).toBe(false);
  });

  it('deletes after updating, and an empty delete expression deletes nothing', async () => {
    runner = await TestRunner.create(UpdateAttribute, {
      properties: { 'tmp.new': 'x', keep: 'y', deleteAttributes: 'tmp\\..*' },
    });
    await runner.enqueue('x', { other: 'z' });
    await runner.run();
    let out = runner.transferred('success')[0];
    expect(out?.attribute('tmp.new')).toBeUndefined();
    expect(out?.attribute('keep')).toBe('y');

    await runner.setProperty('deleteAttributes', '');
    await runner.setProperty('tmp.new', undefined);
    await runner.enqueue('x', { other: 'z' });
    await runner.run();
    out = runner.transferred('success')[1];
    expect(out?.attribute('other')).toBe('z');
    expect(out?.attribute('keep')).toBe('y');
  });

  it('refuses a rule for uuid, which can never change', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { uuid: '${UUID()}' } });
    expect(runner.validationErrors()).toEqual(['property "uuid": the uuid attribute cannot be changed']);
    await expect(runner.run()).rejects.toThrow(/uuid attribute cannot be changed/);
  });

  it('keeps the uuid even when a value is computed from it', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { 'original.uuid': '${uuid}' } });
    const input = await runner.enqueue('x');
    await runner.run();
    const out = runner.transferred('success')[0];
    expect(out?.uuid).toBe(input.uuid);
    expect(out?.attribute('uuid')).toBe(input.uuid);
    expect(out?.attribute('original.uuid')).toBe(input.uuid);
  });

  it('is invalid with an expression that does not parse, naming the property, and run() rejects', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { good: '${filename}', broken: '${filename:toUpper(}' } });
    const errors = runner.validationErrors();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^property "broken": invalid expression/);
    await runner.enqueue('x');
    await expect(runner.run()).rejects.toThrow(/broken/);
    // Nothing was taken from the queue.
    expect(runner.queued()).toBe(1);
  });

  it('is invalid with a delete expression that is not a regular expression', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { deleteAttributes: 'tmp.(' } });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "deleteAttributes": not a valid regular expression/),
    ]);
    await expect(runner.run()).rejects.toThrow(/deleteAttributes/);
  });

  it('returns a FlowFile whose expression fails at run time to its queue, penalized, and updates the rest', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { doubled: '${n:toNumber():multiply(2)}' } });
    await runner.enqueue('a', { n: '2' });
    const bad = await runner.enqueue('b', { n: 'abc' });
    await runner.enqueue('c', { n: '5' });
    await runner.run();
    expect(runner.transferred('success').map((f) => f.attribute('doubled'))).toEqual(['4', '10']);
    const queued = runner.inputQueue();
    expect(queued).toHaveLength(1);
    expect(queued[0]?.uuid).toBe(bad.uuid);
    expect(queued[0]?.penalized).toBe(true);
    expect(queued[0]?.attribute('doubled')).toBeUndefined();
    const errors = runner.logsAt('ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain(bad.uuid);
    expect(errors[0]?.message).toContain('doubled');
    expect(runner.engine.bulletins.list({ componentId: 'under-test' }).map((b) => b.level)).toEqual(['ERROR']);
    // Penalized: the next run does not take it again.
    await runner.run();
    expect(runner.queued()).toBe(1);
    expect(runner.transferred('success')).toHaveLength(2);
  });

  it('records ADDINFO when alternate.identifier is set to namespace:identifier', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { 'alternate.identifier': 'urn:order:${order}' } });
    const input = await runner.enqueue('x', { order: '42' });
    await runner.run();
    expect(runner.transferred('success')[0]?.attribute('alternate.identifier')).toBe('urn:order:42');
    const events = await runner.provenanceEvents('ADDINFO');
    expect(events.map((e) => [e.flowFileUuid, e.alternateIdentifierUri])).toEqual([[input.uuid, 'urn:order:42']]);
  });

  it('updates a whole batch in one run', async () => {
    runner = await TestRunner.create(UpdateAttribute, { properties: { n: '${n:toNumber():plus(1)}' } });
    for (let i = 0; i < 50; i++) await runner.enqueue('', { n: String(i) });
    await runner.run();
    const out = runner.transferred('success');
    expect(out.map((f) => f.attribute('n'))).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
    expect(runner.queued()).toBe(0);
  });

  describe('conditional rules', () => {
    const RULES = JSON.stringify([
      { name: 'big', conditions: ['${size:toNumber():gt(100)}'], actions: { class: 'big', note: 'size ${size}' } },
      { name: 'csv', conditions: ['${filename:endsWith(".csv")}'], actions: { class: 'table', format: 'csv' } },
      { name: 'big csv', conditions: ['${size:toNumber():gt(100)}', '${filename:endsWith(".csv")}'], actions: { urgent: 'yes' } },
    ]);

    it('with "use clone" gives each matching rule its own FlowFile: the original for the first, clones for the rest', async () => {
      runner = await TestRunner.create(UpdateAttribute, { properties: { rules: RULES, seen: 'yes' } });
      const input = await runner.enqueue('content', { size: '500', filename: 'a.csv' });
      await runner.run();
      const out = runner.transferred('success');
      expect(out).toHaveLength(3);
      const byRule = new Map(out.map((f) => [f.attribute('UpdateAttribute.matchedRule'), f]));
      const big = byRule.get('big');
      expect(big?.uuid).toBe(input.uuid);
      expect([big?.attribute('class'), big?.attribute('note'), big?.attribute('format')]).toEqual(['big', 'size 500', undefined]);
      expect([byRule.get('csv')?.attribute('class'), byRule.get('csv')?.attribute('format')]).toEqual(['table', 'csv']);
      expect(byRule.get('big csv')?.attribute('urgent')).toBe('yes');
      // Clones start from the FlowFile as it arrived: no action of another rule leaks into them.
      expect(byRule.get('big csv')?.attribute('class')).toBeUndefined();
      // The properties apply to every FlowFile, and all share the content.
      expect(out.every((f) => f.attribute('seen') === 'yes' && f.text() === 'content')).toBe(true);
      expect((await runner.provenanceEvents('CLONE')).map((e) => e.flowFileUuid)).toEqual([input.uuid, input.uuid]);
    });

    it('with "use original" applies every matching rule to the one FlowFile, later rules winning', async () => {
      runner = await TestRunner.create(UpdateAttribute, { properties: { rules: RULES, ruleMatchingStrategy: 'use-original' } });
      await runner.enqueue('', { size: '500', filename: 'a.csv' });
      await runner.run();
      runner.assertAllTransferred('success', 1);
      const out = runner.transferred('success')[0];
      expect(out?.attribute('class')).toBe('table');
      expect(out?.attribute('note')).toBe('size 500');
      expect(out?.attribute('urgent')).toBe('yes');
      expect(out?.attribute('UpdateAttribute.matchedRule')).toBe('big csv');
    });

    it('leaves a FlowFile no rule matches to the properties alone, and rule actions override properties', async () => {
      runner = await TestRunner.create(UpdateAttribute, { properties: { rules: RULES, class: 'default' } });
      await runner.enqueue('', { size: '5', filename: 'a.txt' });
      await runner.enqueue('', { size: '500', filename: 'a.txt' });
      await runner.run();
      const [small, big] = runner.transferred('success');
      expect(small?.attribute('class')).toBe('default');
      expect(small?.attribute('UpdateAttribute.matchedRule')).toBeUndefined();
      expect(big?.attribute('class')).toBe('big');
    });

    it("evaluates rules against the FlowFile only: an attribute named like the evaluator's cannot inject an expression", async () => {
      const rules = JSON.stringify([{ name: 'r', conditions: ['${x:equals("1")}'], actions: { y: '${x}' } }]);
      runner = await TestRunner.create(UpdateAttribute, { properties: { rules } });
      await runner.enqueue('', { x: '1', 'sluice.updateattribute.rule.expression': '${x:equals("2")}' });
      await runner.run();
      const out = runner.transferred('success')[0];
      expect(out?.attribute('y')).toBe('1');
      expect(out?.attribute('sluice.updateattribute.rule.expression')).toBe('${x:equals("2")}');
    });

    it('returns a FlowFile whose condition cannot be evaluated or is not boolean to the queue, penalized, naming the rule', async () => {
      const rules = JSON.stringify([
        { name: 'numeric', conditions: ['${n:toNumber():gt(1)}'], actions: { a: 'x' } },
        { name: 'text', conditions: ['${word}'], actions: { b: 'y' } },
      ]);
      runner = await TestRunner.create(UpdateAttribute, { properties: { rules } });
      const bad = await runner.enqueue('', { n: 'abc' });
      const notBoolean = await runner.enqueue('', { n: '5', word: 'hello' });
      await runner.enqueue('', { n: '5', word: 'true' });
      await runner.run();
      expect(runner.transferred('success').map((f) => f.attribute('UpdateAttribute.matchedRule'))).toEqual(['numeric', 'text']);
      expect(runner.inputQueue().map((f) => [f.uuid, f.penalized])).toEqual([
        [bad.uuid, true],
        [notBoolean.uuid, true],
      ]);
      const message = runner.logsAt('ERROR')[0]?.message ?? '';
      expect(message).toContain('could not evaluate the attributes of 2 FlowFile(s)');
      expect(message).toContain('rule 1 ("numeric"), condition 1');
    });

    it.each([
      ['{"name":', /^property "rules": not valid JSON .*; expected an array like/],
      ['{"name": "x"}', /^property "rules": must be a JSON array of rules/],
      ['[{"conditions": ["true"], "actions": {"a": "b"}}]', /^property "rules": rule 1 needs a "name"/],
      [
        '[{"name": "r", "conditions": [], "actions": {"a": "b"}}]',
        /^property "rules": rule 1 \("r"\): "conditions" must be a non-empty array/,
      ],
      [
        '[{"name": "r", "conditions": ["true"], "actions": {}}]',
        /^property "rules": rule 1 \("r"\): "actions" must be a non-empty object/,
      ],
      [
        '[{"name": "r", "conditions": ["true"], "actions": {"uuid": "x"}}]',
        /^property "rules": rule 1 \("r"\): the uuid attribute cannot be changed/,
      ],
      [
        '[{"name": "r", "conditions": ["true"], "actions": {"a": "b"}}, {"name": "r", "conditions": ["true"], "actions": {"a": "b"}}]',
        /^property "rules": rule 2 \("r"\): another rule has the same name/,
      ],
      [
        '[{"name": "r", "conditions": ["true"], "actions": {"a": "b"}, "when": 1}]',
        /^property "rules": rule 1 \("r"\): unknown field\(s\) "when"/,
      ],
    ])('refuses rules %s with a message saying what is wrong', async (rules, message) => {
      runner = await TestRunner.create(UpdateAttribute, { properties: { rules } });
      expect(runner.validationErrors()).toEqual([expect.stringMatching(message)]);
      await expect(runner.run()).rejects.toThrow(/rules/);
    });

    it('refuses a rule whose condition or action is not a valid expression, naming rule and part', async () => {
      const rules = JSON.stringify([
        { name: 'ok', conditions: ['${a:equals(1)}'], actions: { x: '${a}' } },
        { name: 'broken', conditions: ['${a:equals(1)}', '${a:equals(}'], actions: { x: '${a:toUpper(}' } },
      ]);
      runner = await TestRunner.create(UpdateAttribute, { properties: { rules } });
      expect(runner.validationErrors()).toEqual([
        expect.stringMatching(/^property "rules": rule 2 \("broken"\), condition 2 is not a valid expression: /),
        expect.stringMatching(/^property "rules": rule 2 \("broken"\), action for "x" is not a valid expression: /),
      ]);
    });

    it('refuses a configured rule evaluator, which is internal', async () => {
      runner = await TestRunner.create(UpdateAttribute, { properties: { ruleEvaluator: '${x}', a: 'b' } });
      expect(runner.validationErrors()).toEqual(['property "ruleEvaluator": is internal; remove it from the configuration']);
    });
  });
});
