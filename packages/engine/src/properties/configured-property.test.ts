import { jsonPath, string } from '@sluice/api';
import { describe, expect, it } from 'vitest';
import { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { ConfiguredProperty, type PropertyEnvironment, substituteParameters } from './configured-property.ts';
import { validateProperties } from './validation.ts';

const env: PropertyEnvironment = {
  parameter: (name) => (name === 'dir' ? '/srv/in' : undefined),
  environment: () => undefined,
  hostname: () => 'host',
  ip: () => '127.0.0.1',
};

const flowFile = new FlowFileRecord(
  'u1',
  new Map([
    ['uuid', 'u1'],
    ['field', 'price'],
  ]),
  { resourceId: 'r', offset: 0, length: 42 },
  1000,
  900,
);

describe('configured properties', () => {
  it('compiles JSONPath values once and evaluates them against documents', () => {
    const p = new ConfiguredProperty('path', jsonPath({ description: 'd' }), '$.items[*].${field}', env, 'flowfile');
    const query = p.asJsonPath(flowFile);
    expect(query?.source).toBe('$.items[*].price');
    expect(query?.definite).toBe(false);
    expect(query?.evaluate({ items: [{ price: 1 }, { price: 2 }] })).toEqual([1, 2]);
    expect(p.asJsonPath(flowFile)).toBe(query);
    const bad = new ConfiguredProperty('path', jsonPath({ description: 'd' }), '$.items[', env, 'none');
    expect(() => bad.asJsonPath()).toThrow(/property "path": not a valid JSONPath/);
  });

  it('validates JSONPath properties without running them', () => {
    const definition = {
      type: 'Example',
      description: '',
      tags: [],
      input: 'allowed' as const,
      properties: { path: jsonPath({ description: 'd', required: true }) },
      relationships: {},
      onTrigger() {},
    };
    const env2 = { parameter: () => undefined, service: () => undefined };
    expect(validateProperties(definition, { path: '$.a.b' }, env2)).toEqual([]);
    expect(validateProperties(definition, { path: '$.a[?(' }, env2)[0]?.message).toMatch(/not a valid JSONPath/);
  });

  it('lets Expression Language read fileSize, entryDate and lineageStartDate like attributes', () => {
    const p = new ConfiguredProperty(
      'x',
      string({ description: 'd', expression: 'flowfile' }),
      '${fileSize}/${entryDate}/${lineageStartDate}',
      env,
      'flowfile',
    );
    expect(p.evaluate(flowFile)).toBe('42/1000/900');
  });

  it('substitutes parameters in values without Expression Language, ## escaping', () => {
    expect(substituteParameters('p', '#{dir}/x and ##{dir}', env.parameter)).toBe('/srv/in/x and #{dir}');
    expect(() => substituteParameters('p', '#{missing}', env.parameter)).toThrow(/parameter "missing", which is not defined/);
  });
});
