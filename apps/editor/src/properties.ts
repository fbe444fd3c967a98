import { validate } from '@sluice/expression';
import type { PropertyDescriptorDto } from '@sluice/protocol';

/** A problem with a property value, as a catalog key with its values (translated by the caller). */
export interface PropertyProblem {
  readonly key: string;
  readonly values: Record<string, string | number>;
  /** For Expression Language errors: where in the value (0-based) and how long. */
  readonly position?: number;
  readonly length?: number;
}

const TIME_PERIOD =
  /^\s*\d+(\.\d+)?\s*(ns|nanos?|nanoseconds?|us|micros?|microseconds?|ms|millis?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s*$/i;
const DATA_SIZE = /^\s*\d+(\.\d+)?\s*(b|bytes?|kb|mb|gb|tb|kib|mib|gib|tib)\s*$/i;

/**
 * Checks a property value as the user types: required, the kind's format, bounds, allowable values,
 * and Expression Language (with @sluice/expression, the same parser the engine uses). `undefined` or
 * '' means unset (the default applies). Values with `#{parameter}` references or EL in a field that
 * supports EL are checked for EL syntax only.
 */
export function checkProperty(descriptor: PropertyDescriptorDto, value: string | null | undefined): PropertyProblem | undefined {
  const set = value !== undefined && value !== null && value !== '';
  if (!set) {
    if (descriptor.required && descriptor.default === undefined)
      return { key: 'configure.errors.required', values: { name: descriptor.displayName } };
    return undefined;
  }
  if (descriptor.expression !== 'none' || value.includes('#{')) {
    const [problem] = validate(value);
    if (problem !== undefined)
      return {
        key: 'configure.errors.expression',
        values: { position: problem.position, message: problem.message },
        position: problem.position,
        length: problem.length,
      };
    if (value.includes('${') || value.includes('#{')) return undefined;
  }
  switch (descriptor.kind) {
    case 'integer':
    case 'number': {
      const n = Number(value.trim());
      if (value.trim() === '' || !Number.isFinite(n) || (descriptor.kind === 'integer' && !Number.isInteger(n)))
        return { key: descriptor.kind === 'integer' ? 'configure.errors.integer' : 'configure.errors.number', values: {} };
      if (descriptor.min !== undefined && n < descriptor.min)
        return { key: 'configure.errors.min', values: { min: descriptor.min } };
      if (descriptor.max !== undefined && n > descriptor.max)
        return { key: 'configure.errors.max', values: { max: descriptor.max } };
      return undefined;
    }
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : { key: 'configure.errors.boolean', values: {} };
    case 'time-period':
      return TIME_PERIOD.test(value) ? undefined : { key: 'configure.errors.timePeriod', values: {} };
    case 'data-size':
      return DATA_SIZE.test(value) ? undefined : { key: 'configure.errors.dataSize', values: {} };
    case 'regex':
      try {
        new RegExp(value);
        return undefined;
      } catch (e) {
        return { key: 'configure.errors.regex', values: { message: e instanceof Error ? e.message : String(e) } };
      }
    default:
      break;
  }
  const allowed = descriptor.allowableValues;
  if (allowed !== undefined && allowed.length > 0 && !allowed.some((a) => a.value === value))
    return { key: 'configure.errors.choice', values: { values: allowed.map((a) => a.value).join(', ') } };
  return undefined;
}

/** Checks a dynamic property value (EL when the type evaluates it). */
export function checkDynamic(
  valueIs: string | undefined,
  expression: string | undefined,
  value: string,
): PropertyProblem | undefined {
  if (expression === 'none' && valueIs !== 'expression' && valueIs !== 'boolean-expression') return undefined;
  if (valueIs === 'json-path') return undefined;
  const [problem] = validate(value, { expectBoolean: valueIs === 'boolean-expression' });
  if (problem === undefined) return undefined;
  return {
    key: 'configure.errors.expression',
    values: { position: problem.position, message: problem.message },
    position: problem.position,
    length: problem.length,
  };
}

/** NiFi's parameter reference syntax, as the engine reads it (`##{` is a literal `#{`). */
const PARAMETER_REFERENCE = /(#+)\{(?:'([^']*)'|"([^"]*)"|([A-Za-z0-9 ._-]+))\}/g;

/** Parameter names a value references. */
export function referencedParameters(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(PARAMETER_REFERENCE)) {
    if ((m[1] ?? '').length % 2 === 1) out.push(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** The parameters a component can reference: its group's context (with inherited ones), if any. */
export interface ParameterScope {
  /** The context's name; undefined when the group has none. */
  readonly context: string | undefined;
  readonly names: ReadonlySet<string>;
}

/** Checks the `#{parameter}` references of a value against what the group's context defines. */
export function checkParameters(
  value: string | null | undefined,
  scope: ParameterScope | undefined,
): PropertyProblem | undefined {
  if (scope === undefined || value === null || value === undefined || !value.includes('#{')) return undefined;
  for (const name of referencedParameters(value)) {
    if (scope.context === undefined) return { key: 'configure.errors.noParameterContext', values: { name } };
    if (!scope.names.has(name)) return { key: 'configure.errors.parameter', values: { name, context: scope.context } };
  }
  return undefined;
}
