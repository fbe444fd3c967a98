import { parseDataSize, parseTimePeriod } from './units.ts';

/**
 * Where Expression Language may be used in a property value:
 * - `none`: the value is taken literally (`${` has no meaning);
 * - `environment`: evaluated once when the component starts, against parameters and environment;
 * - `flowfile`: evaluated per FlowFile, against its attributes (then parameters and environment).
 */
export type ExpressionScope = 'none' | 'environment' | 'flowfile';

/** The value kinds a property can hold; each brings its own literal validation. */
export type PropertyKind =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'choice'
  | 'time-period'
  | 'data-size'
  | 'regex'
  | 'json-path'
  | 'service';

/** One allowable value of a `choice` property, with the text the editor shows. */
export interface AllowableValue {
  readonly value: string;
  readonly displayName: string;
  readonly description?: string;
}

/**
 * A property declared by a processor or controller service. Validation, generated docs and the
 * editor's forms are all derived from this object; nothing else declares a property.
 */
export interface PropertyDescriptor {
  readonly kind: PropertyKind;
  /** Label shown in the editor; defaults to the property's key. */
  readonly displayName?: string;
  readonly description: string;
  readonly required: boolean;
  /** Value used when none is configured. */
  readonly default?: string;
  readonly allowableValues?: readonly AllowableValue[];
  /** Sensitive values are encrypted at rest, masked in the editor and never sent to a client. */
  readonly sensitive: boolean;
  readonly expression: ExpressionScope;
  /** Inclusive numeric bounds for `integer`, `number`, `time-period` (ms) and `data-size` (bytes). */
  readonly min?: number;
  readonly max?: number;
  /** For `service` properties: the service API (see {@link ServiceDefinition.provides}) required. */
  readonly service?: string;
  /** Shown (and validated) only when another property has one of these values. */
  readonly dependsOn?: { readonly property: string; readonly values: readonly string[] };
  /**
   * Extra validation of a literal value (not applied to values containing Expression Language,
   * which are checked per FlowFile). Returns a message saying what is wrong, or undefined.
   */
  readonly validate?: (value: string) => string | undefined;
}

/** Options shared by every property builder. */
export interface PropertyOptions {
  readonly displayName?: string;
  readonly description: string;
  readonly required?: boolean;
  readonly default?: string;
  readonly sensitive?: boolean;
  readonly expression?: ExpressionScope;
  readonly dependsOn?: { readonly property: string; readonly values: readonly string[] };
  readonly validate?: (value: string) => string | undefined;
}

/** Options for numeric properties. */
export interface NumericOptions extends PropertyOptions {
  readonly min?: number;
  readonly max?: number;
}

function build(kind: PropertyKind, options: PropertyOptions & Partial<PropertyDescriptor>): PropertyDescriptor {
  const { required, sensitive, expression, ...rest } = options;
  return {
    ...rest,
    kind,
    required: required ?? false,
    sensitive: sensitive ?? false,
    expression: expression ?? 'none',
  };
}

/** A free-text property. */
export function string(options: PropertyOptions): PropertyDescriptor {
  return build('string', options);
}

/** A whole-number property (validated, bounds inclusive). */
export function integer(options: NumericOptions): PropertyDescriptor {
  return build('integer', options);
}

/** A decimal-number property. */
export function number(options: NumericOptions): PropertyDescriptor {
  return build('number', options);
}

/** A `true` / `false` property. */
export function boolean(options: PropertyOptions): PropertyDescriptor {
  return build('boolean', { ...options, allowableValues: [yes, no] });
}

const yes: AllowableValue = { value: 'true', displayName: 'true' };
const no: AllowableValue = { value: 'false', displayName: 'false' };

/**
 * A property restricted to a list of values.
 * @example choice(['gzip', 'deflate'], { description: 'Compression format', default: 'gzip' })
 */
export function choice(values: readonly (string | AllowableValue)[], options: PropertyOptions): PropertyDescriptor {
  const allowableValues = values.map((v) => (typeof v === 'string' ? { value: v, displayName: v } : v));
  return build('choice', { ...options, allowableValues });
}

/** A duration such as "30 sec"; `min`/`max` are in milliseconds. */
export function timePeriod(options: NumericOptions): PropertyDescriptor {
  return build('time-period', options);
}

/** A size such as "1 GB"; `min`/`max` are in bytes. */
export function dataSize(options: NumericOptions): PropertyDescriptor {
  return build('data-size', options);
}

/** A regular expression (JavaScript syntax), compiled to check it. */
export function regex(options: PropertyOptions): PropertyDescriptor {
  return build('regex', options);
}

/** A JSONPath expression (`$.store.book[*].author`), checked by the engine and compiled once. */
export function jsonPath(options: PropertyOptions): PropertyDescriptor {
  return build('json-path', options);
}

/** A reference to a controller service that provides the API `provides` (by service id). */
export function service(provides: string, options: PropertyOptions): PropertyDescriptor {
  return build('service', { ...options, service: provides });
}

/** Whether a raw value uses Expression Language (so literal validation is deferred). */
export function usesExpression(value: string): boolean {
  return /(^|[^$])\$\{/.test(value) || value.startsWith('${');
}

/**
 * Validates a literal value against a descriptor's kind, bounds, allowable values and custom rule.
 * Returns a message saying what is wrong and what is expected, or undefined when it is fine.
 * Values that use Expression Language (where the descriptor allows it) are not checked here.
 */
export function validateLiteral(descriptor: PropertyDescriptor, value: string): string | undefined {
  if (descriptor.expression !== 'none' && usesExpression(value)) return undefined;
  const kindError = checkKind(descriptor, value);
  if (kindError !== undefined) return kindError;
  return descriptor.validate?.(value);
}

function checkBounds(descriptor: PropertyDescriptor, n: number, shown: string): string | undefined {
  if (descriptor.min !== undefined && n < descriptor.min) return `${shown} is below the minimum of ${descriptor.min}`;
  if (descriptor.max !== undefined && n > descriptor.max) return `${shown} is above the maximum of ${descriptor.max}`;
  return undefined;
}

function checkKind(descriptor: PropertyDescriptor, value: string): string | undefined {
  switch (descriptor.kind) {
    case 'integer': {
      if (!/^\s*-?\d+\s*$/.test(value)) return `"${value}" is not a whole number`;
      return checkBounds(descriptor, Number(value), value.trim());
    }
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) return `"${value}" is not a number`;
      return checkBounds(descriptor, n, value.trim());
    }
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : `"${value}" must be true or false`;
    case 'choice': {
      const allowed = descriptor.allowableValues ?? [];
      if (allowed.some((a) => a.value === value)) return undefined;
      return `"${value}" is not one of the allowed values: ${allowed.map((a) => a.value).join(', ')}`;
    }
    case 'time-period': {
      try {
        return checkBounds(descriptor, parseTimePeriod(value), `"${value}"`);
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    }
    case 'data-size': {
      try {
        return checkBounds(descriptor, parseDataSize(value), `"${value}"`);
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    }
    case 'regex': {
      try {
        new RegExp(value);
        return undefined;
      } catch (e) {
        return `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    case 'string':
    case 'service':
    case 'json-path': // the engine parses it (the parser lives with Expression Language)
      return undefined;
  }
}
