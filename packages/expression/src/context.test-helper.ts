import { compile, type EvaluationContext } from '@sluice/expression';

/** A context over a Map of attributes (so hostile names stay data), with optional extra hooks. */
export function context(
  attributes: Record<string, string> | Map<string, string> = {},
  extra: Partial<EvaluationContext> = {},
): EvaluationContext {
  const map = attributes instanceof Map ? attributes : new Map(Object.entries(attributes));
  return {
    attribute: (name) => map.get(name),
    attributeNames: () => map.keys(),
    ...extra,
  };
}

/** Compiles and evaluates a template in one go. */
export function ev(
  template: string,
  attributes: Record<string, string> | Map<string, string> = {},
  extra: Partial<EvaluationContext> = {},
): string {
  return compile(template).evaluate(context(attributes, extra));
}

/** The ExpressionError a call throws (fails the test when it does not throw). */
export function errorOf(fn: () => unknown): { message: string; position: number; length: number } {
  try {
    fn();
  } catch (e) {
    if (
      e instanceof Error &&
      'position' in e &&
      typeof e.position === 'number' &&
      'length' in e &&
      typeof e.length === 'number'
    ) {
      return { message: e.message, position: e.position, length: e.length };
    }
    throw e;
  }
  throw new Error('expected an ExpressionError, but nothing was thrown');
}
