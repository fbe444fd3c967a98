import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRunner } from '@sluice/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidateJson } from './index.ts';

const person = JSON.stringify({
  type: 'object',
  required: ['name', 'age'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    age: { type: 'integer', minimum: 0 },
    email: { type: 'string', format: 'email' },
    role: { enum: ['admin', 'user'] },
  },
});

describe('ValidateJson', () => {
  let runner: TestRunner | undefined;
  let root: string;
  let outside: string;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-validatejson-')));
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-validatejson-outside-')));
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const create = async (properties: Record<string, string>): Promise<TestRunner> => {
    runner = await TestRunner.create(ValidateJson, { properties, fileRoots: [root] });
    return runner;
  };

  it('routes valid documents to valid and invalid ones to invalid with the errors', async () => {
    const r = await create({ schemaText: person });
    await r.enqueue('{"name": "Kim", "age": 30, "email": "kim@example.com"}');
    await r.enqueue('{"name": "", "age": -1, "email": "not-an-email", "role": "root", "extra": 1}');
    await r.enqueue('{"age": 3}');
    await r.run();
    expect(r.transferred('valid')).toHaveLength(1);
    const invalid = r.transferred('invalid');
    expect(invalid).toHaveLength(2);
    const errors = invalid[0]?.attribute('json.validation.errors') ?? '';
    expect(errors).toContain('(root): must NOT have additional properties ("extra")');
    expect(errors).toContain('/name: must NOT have fewer than 1 characters');
    expect(errors).toContain('/age: must be >= 0');
    expect(errors).toContain('/email: must match format "email"');
    expect(errors).toContain('/role: must be equal to one of the allowed values ("admin", "user")');
    expect(invalid[1]?.attribute('json.validation.errors')).toBe("(root): must have required property 'name'");
  });

  it('lists the first ten errors and counts the rest', async () => {
    const r = await create({ schemaText: '{"type": "array", "items": {"type": "integer"}}' });
    await r.enqueue(JSON.stringify(Array.from({ length: 25 }, (_, i) => `s${i}`)));
    await r.run();
    const errors = r.transferred('invalid')[0]?.attribute('json.validation.errors') ?? '';
    expect(errors.split('; ')).toHaveLength(11);
    expect(errors.endsWith('and 15 more')).toBe(true);
  });

  it('sends content that is not JSON (or not UTF-8) to failure', async () => {
    const r = await create({ schemaText: person });
    await r.enqueue('{"name": "Kim",');
    await r.enqueue(Buffer.from([0x22, 0xc3, 0x28, 0x22]));
    await r.run();
    r.assertAllTransferred('failure', 2);
    const reasons = r.transferred('failure').map((f) => f.attribute('validatejson.failure.reason'));
    expect(reasons[0]).toMatch(/not valid JSON/);
    expect(reasons[1]).toBe('the content is not valid UTF-8');
  });

  it('reads the schema from a file under an allowed root, and refuses one outside', async () => {
    writeFileSync(join(root, 'person.json'), person);
    const r = await create({ schemaFile: join(root, 'person.json') });
    await r.enqueue('{"name": "Lee", "age": 1}');
    await r.run();
    expect(r.transferred('valid')).toHaveLength(1);

    writeFileSync(join(outside, 'person.json'), person);
    await r.setProperty('schemaFile', join(outside, 'person.json'));
    await expect(r.run()).rejects.toThrow(/is outside the directories file processors may use/);
  });

  it('applies the draft the schema declares (2020-12 prefixItems, 2019-09, draft-07, draft-06)', async () => {
    const r = await create({
      schemaText: JSON.stringify({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'array',
        prefixItems: [{ type: 'string' }, { type: 'number' }],
      }),
    });
    await r.enqueue('["a", 1]');
    await r.enqueue('[1, "a"]');
    await r.run();
    expect(r.transferred('valid')).toHaveLength(1);
    expect(r.transferred('invalid')).toHaveLength(1);
    for (const draft of [
      'http://json-schema.org/draft-07/schema#',
      'http://json-schema.org/draft-06/schema#',
      'https://json-schema.org/draft/2019-09/schema',
    ]) {
      await r.setProperty('schemaText', JSON.stringify({ $schema: draft, type: 'object', required: ['x'] }));
      expect(r.validationErrors()).toEqual([]);
    }
    await r.setProperty('schemaText', JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#' }));
    expect(r.validationErrors().join('\n')).toMatch(/draft that is not supported/);
  });

  it('explains bad configurations', async () => {
    const r = await create({});
    expect(r.validationErrors().join('\n')).toMatch(/exactly one of JSON Schema/);
    await r.setProperty('schemaText', '{"type": ');
    expect(r.validationErrors().join('\n')).toMatch(/schema is not valid JSON/);
    await r.setProperty('schemaText', '{"type": "no-such-type"}');
    expect(r.validationErrors().join('\n')).toMatch(/not a valid 2020-12 JSON Schema/);
    await r.setProperty('schemaText', person);
    await r.setProperty('schemaFile', '/tmp/x.json');
    expect(r.validationErrors().join('\n')).toMatch(/exactly one of JSON Schema/);
  });
});
