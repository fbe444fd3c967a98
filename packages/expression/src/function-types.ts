import type { EvaluationContext } from './context.ts';
import { ElFailure } from './errors.ts';
import type { ResultType, Value } from './values.ts';

/** A compiled piece of an expression: evaluates to a value against a context. */
export type Thunk = (ctx: EvaluationContext) => Value;

/** What kind of value an argument (or subject) must be coercible to; checked at compile time when known. */
export type ArgKind = 'string' | 'number' | 'boolean' | 'date' | 'any';

/** One declared argument. */
export interface ParamSpec {
  readonly name: string;
  readonly kind: ArgKind;
  readonly optional?: boolean;
  /** Takes any number (at least one) of further arguments. */
  readonly rest?: boolean;
}

/** An argument as the compiler sees it: its static type and, for a plain literal, its value. */
export interface StaticArg {
  readonly type: ResultType;
  /** The value when the argument is a literal without parameters; undefined otherwise. */
  readonly literal: Value | undefined;
}

/** A compile-time complaint about one argument (index into the call's arguments). */
export class ArgFailure extends ElFailure {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

interface BaseSpec {
  readonly name: string;
  readonly group:
    | 'boolean'
    | 'string'
    | 'encoding'
    | 'search'
    | 'json'
    | 'math'
    | 'date'
    | 'conversion'
    | 'subjectless'
    | 'multiple';
  readonly description: string;
  /** Nominal return type (for documentation and autocomplete). */
  readonly returns: ResultType;
  /** `required`: `${x:fn()}` only; `none`: `${fn()}` only; `optional`: both (math). */
  readonly subject: 'required' | 'none' | 'optional';
  readonly subjectKind: ArgKind;
  readonly params: readonly ParamSpec[];
  /** Precise static result type from the subject's and arguments' types; defaults to `returns`. */
  readonly resultType?: (subject: ResultType, args: readonly ResultType[]) => ResultType;
  /** Compile-time validation of literal arguments (regexes, formats, ...); throws ArgFailure. */
  readonly check?: (args: readonly StaticArg[]) => void;
}

/** A function whose arguments are evaluated before the call. */
export interface EagerSpec extends BaseSpec {
  readonly kind: 'eager';
  /** Implementation; throws ElFailure for bad values (the caller adds function name and position). */
  readonly eval: (ctx: EvaluationContext, subject: Value, args: readonly Value[]) => Value;
}

/** A function that decides which arguments to evaluate (and, or, ifElse). */
export interface LazySpec extends BaseSpec {
  readonly kind: 'lazy';
  readonly eval: (ctx: EvaluationContext, subject: Value, args: readonly Thunk[]) => Value;
}

/** A multi-value subject: anyAttribute, allMatchingAttributes, anyDelineatedValue, ... */
export interface MultiSpec extends BaseSpec {
  readonly kind: 'multi';
  readonly mode: 'any' | 'all';
  /** Whether it reads FlowFile attributes (the delineated ones only split their argument). */
  readonly readsAttributes: boolean;
  readonly values: (ctx: EvaluationContext, args: readonly Value[]) => Value[];
}

/** An aggregate over the values of a multi-value subject: join, count. */
export interface AggregateSpec extends BaseSpec {
  readonly kind: 'aggregate';
  readonly aggregate: (values: readonly Value[], args: readonly Value[]) => Value;
}

/** Any function definition. */
export type FunctionSpec = EagerSpec | LazySpec | MultiSpec | AggregateSpec;

/** Fetches an attribute, falling back to the environment, then null. */
export function lookupAttribute(ctx: EvaluationContext, name: string): Value {
  const value = ctx.attribute(name);
  if (value !== undefined) return value;
  if (ctx.environment !== undefined) {
    const env = ctx.environment(name);
    if (env !== undefined) return env;
  }
  return null;
}

/** The context's clock. */
export function nowMs(ctx: EvaluationContext): number {
  return ctx.now === undefined ? Date.now() : ctx.now();
}

/** Upper bound on strings built by repeat / padLeft / padRight. */
export const MAX_BUILT_STRING = 10 * 1024 * 1024;
