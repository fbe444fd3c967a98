import {
  type AnyProcessorDefinition,
  type AnyServiceDefinition,
  PropertyValueError,
  usesExpression,
  validateLiteral,
} from '@sluice/api';
import { compileJsonPath, validate as validateExpression } from '@sluice/expression';
import { referencedParameters, substituteParameters } from './configured-property.ts';

/** What validation needs to know about the rest of the flow. */
export interface ValidationEnvironment {
  /** A parameter of the component's parameter context, or undefined; `sensitive` says its kind. */
  parameter(name: string): { value: string | null; sensitive: boolean } | undefined;
  /** The service with this id, if any: the APIs it provides and whether it is enabled. */
  service(id: string): { provides: readonly string[]; enabled: boolean; name: string } | undefined;
}

/** A problem with one property (or with the component when `property` is undefined). */
export interface PropertyProblem {
  readonly property?: string;
  readonly message: string;
}

/**
 * Checks configured property values against a processor's or service's declaration: required
 * values, kinds and bounds, allowable values, Expression Language syntax, parameter references,
 * sensitive-parameter rules, service references, unknown property names and dynamic properties.
 */
export function validateProperties(
  definition: AnyProcessorDefinition | AnyServiceDefinition,
  configured: Readonly<Record<string, string | null>>,
  env: ValidationEnvironment,
): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  const value = (name: string): string | undefined => {
    const v = Object.hasOwn(configured, name) ? configured[name] : undefined;
    return v === null || v === undefined ? definition.properties[name]?.default : v;
  };
  for (const [name, descriptor] of Object.entries(definition.properties)) {
    const dependsOn = descriptor.dependsOn;
    if (dependsOn !== undefined && !dependsOn.values.includes(value(dependsOn.property) ?? '')) continue;
    const raw = value(name);
    if (raw === undefined || raw === '') {
      if (descriptor.required) problems.push({ property: name, message: 'is required' });
      continue;
    }
    const problem = checkValue(name, raw, descriptor.expression, descriptor.sensitive, env, (literal) =>
      descriptor.kind === 'json-path' ? jsonPathProblem(literal) : validateLiteral(descriptor, literal),
    );
    if (problem !== undefined) {
      problems.push({ property: name, message: problem });
      continue;
    }
    if (descriptor.kind === 'service' && descriptor.service !== undefined) {
      const target = env.service(raw);
      if (target === undefined)
        problems.push({ property: name, message: `refers to controller service "${raw}", which does not exist` });
      else if (!target.provides.includes(descriptor.service))
        problems.push({ property: name, message: `controller service "${target.name}" does not provide ${descriptor.service}` });
      else if (!target.enabled)
        problems.push({ property: name, message: `controller service "${target.name}" is disabled; enable it first` });
    }
  }
  const dynamic = 'dynamicProperties' in definition ? definition.dynamicProperties : undefined;
  for (const [name, raw] of Object.entries(configured)) {
    if (Object.hasOwn(definition.properties, name)) continue;
    if (dynamic === undefined) {
      problems.push({ property: name, message: `is not a property of ${definition.type}` });
      continue;
    }
    if (name.trim() === '') {
      problems.push({ property: name, message: 'a property name must not be empty' });
      continue;
    }
    if (raw === null || raw === '') {
      problems.push({ property: name, message: 'needs a value' });
      continue;
    }
    const expression = dynamic.valueIs === 'boolean-expression' ? 'flowfile' : (dynamic.expression ?? 'none');
    const problem = checkValue(
      name,
      raw,
      expression,
      dynamic.sensitive === true,
      env,
      (literal) => (dynamic.valueIs === 'json-path' ? jsonPathProblem(literal) : undefined),
      dynamic.valueIs === 'boolean-expression',
    );
    if (problem !== undefined) problems.push({ property: name, message: problem });
    else {
      const custom = dynamic.validate?.(name, raw);
      if (custom !== undefined) problems.push({ property: name, message: custom });
    }
  }
  return problems;
}

function checkValue(
  name: string,
  raw: string,
  expression: 'none' | 'environment' | 'flowfile',
  sensitive: boolean,
  env: ValidationEnvironment,
  literal: (value: string) => string | undefined,
  expectBoolean = false,
): string | undefined {
  for (const parameter of referencedParameters(raw)) {
    const found = env.parameter(parameter);
    if (found === undefined) return `references parameter "${parameter}", which is not defined in the parameter context`;
    if (found.sensitive !== sensitive) {
      return found.sensitive
        ? `references sensitive parameter "${parameter}"; only sensitive properties may`
        : `is sensitive and may only reference sensitive parameters ("${parameter}" is not)`;
    }
  }
  if (expression !== 'none' && (usesExpression(raw) || expectBoolean)) {
    const errors = validateExpression(raw, { expectBoolean });
    const first = errors[0];
    if (first !== undefined) return `invalid expression: ${first.message}`;
    return undefined;
  }
  let resolved: string;
  try {
    resolved = substituteParameters(name, raw, (p) => env.parameter(p)?.value ?? undefined);
  } catch (e) {
    return e instanceof PropertyValueError ? e.problem : String(e);
  }
  return literal(resolved);
}

function jsonPathProblem(path: string): string | undefined {
  try {
    compileJsonPath(path);
    return undefined;
  } catch (e) {
    return `not a valid JSONPath: ${e instanceof Error ? e.message : String(e)}`;
  }
}
