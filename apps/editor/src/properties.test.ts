import type { PropertyDescriptorDto } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { checkDynamic, checkParameters, checkProperty, referencedParameters } from './properties.ts';

const base: PropertyDescriptorDto = {
  name: 'directory',
  displayName: 'Directory',
  description: '',
  kind: 'string',
  required: true,
  sensitive: false,
  expression: 'flowfile',
};

describe('checkProperty', () => {
  it('wants required values without a default', () => {
    expect(checkProperty(base, null)?.key).toBe('configure.errors.required');
    expect(checkProperty({ ...base, default: '/tmp' }, null)).toBeUndefined();
  });

  it('finds Expression Language errors with their position (the engine parser)', () => {
    const problem = checkProperty(base, '/out/${filename:toUpper(}');
    expect(problem?.key).toBe('configure.errors.expression');
    expect(problem?.position).toBeGreaterThan(5);
    expect(checkProperty(base, '/out/${filename:toUpper()}')).toBeUndefined();
  });

  it('checks numbers, bounds, periods, sizes, regexes and choices', () => {
    const integer = { ...base, kind: 'integer' as const, expression: 'none' as const, min: 1, max: 10 };
    expect(checkProperty(integer, '1.5')?.key).toBe('configure.errors.integer');
    expect(checkProperty(integer, '0')?.key).toBe('configure.errors.min');
    expect(checkProperty(integer, '11')?.key).toBe('configure.errors.max');
    expect(checkProperty(integer, '5')).toBeUndefined();
    const period = { ...base, kind: 'time-period' as const, expression: 'none' as const };
    expect(checkProperty(period, '5 sec')).toBeUndefined();
    expect(checkProperty(period, 'soon')?.key).toBe('configure.errors.timePeriod');
    const size = { ...base, kind: 'data-size' as const, expression: 'none' as const };
    expect(checkProperty(size, '10 KB')).toBeUndefined();
    expect(checkProperty(size, '10 parsecs')?.key).toBe('configure.errors.dataSize');
    const regex = { ...base, kind: 'regex' as const, expression: 'none' as const };
    expect(checkProperty(regex, '(unclosed')?.key).toBe('configure.errors.regex');
    const choice = {
      ...base,
      kind: 'choice' as const,
      expression: 'none' as const,
      allowableValues: [{ value: 'a', displayName: 'A' }],
    };
    expect(checkProperty(choice, 'b')?.key).toBe('configure.errors.choice');
    expect(checkProperty(choice, 'a')).toBeUndefined();
  });
});

describe('checkDynamic', () => {
  it('checks boolean expressions for RouteOnAttribute-like types', () => {
    expect(checkDynamic('boolean-expression', 'flowfile', "${sensor:equals('a')}")).toBeUndefined();
    expect(checkDynamic('boolean-expression', 'flowfile', "${sensor:equals('a'}")?.key).toBe('configure.errors.expression');
    expect(checkDynamic('string', 'none', '${not checked')).toBeUndefined();
  });
});

describe('parameter references', () => {
  const scope = { context: 'prod', names: new Set(['out dir', 'token']) };
  it('finds references, skipping escaped ones', () => {
    expect(referencedParameters("#{out dir}/#{'token'} ##{literal} ###{token}")).toEqual(['out dir', 'token', 'token']);
  });
  it('names an undefined parameter, or the missing context', () => {
    expect(checkParameters('#{out dir}/x', scope)).toBeUndefined();
    expect(checkParameters('#{nope}', scope)).toMatchObject({ key: 'configure.errors.parameter', values: { name: 'nope' } });
    expect(checkParameters('#{out dir}', { context: undefined, names: new Set() })?.key).toBe(
      'configure.errors.noParameterContext',
    );
    expect(checkParameters('##{not a reference}', { context: undefined, names: new Set() })).toBeUndefined();
    expect(checkParameters('#{anything}', undefined)).toBeUndefined();
  });
});
