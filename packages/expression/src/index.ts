/**
 * @sluice/expression: NiFi-compatible Expression Language, parsed by hand and evaluated by compiled
 * closures (no eval). Isomorphic: runs in the engine and in the browser editor.
 *
 * @example
 * const template = compile("${filename:substringBefore('.'):toUpper()}.txt");
 * template.evaluate({ attribute: (name) => attributes.get(name) }); // 'REPORT.txt'
 */
import {
  type CompiledTemplate,
  compileTemplate,
  type FunctionInfo,
  listFunctions as listAll,
  validateTemplate,
} from './compiler.ts';
import type { ExpressionError } from './errors.ts';

export type { CompiledTemplate, FunctionInfo } from './compiler.ts';
export type { EvaluationContext } from './context.ts';
export { ExpressionError } from './errors.ts';
export { type CompiledJsonPath, compileJsonPath, evaluateJsonPath, type JsonLocation } from './json-path.ts';
export type { ResultType } from './values.ts';

/**
 * Compiles a property value (literal text with `${...}` expressions, `#{...}` parameters and the
 * `$${` / `##{` escapes). Compile once and evaluate many times.
 *
 * @throws ExpressionError with the 0-based position of the first problem and a plain message.
 */
export function compile(template: string): CompiledTemplate {
  return compileTemplate(template);
}

/**
 * Checks a template without throwing; returns the problems found (empty when valid). With
 * `expectBoolean`, also checks that it is a single expression giving true/false (RouteOnAttribute).
 */
export function validate(template: string, options?: { expectBoolean?: boolean }): ExpressionError[] {
  return validateTemplate(template, options?.expectBoolean === true);
}

/** The functions the Expression Language knows (name, signature, description, result type), for autocomplete and docs. */
export function listFunctions(): readonly FunctionInfo[] {
  return listAll();
}
