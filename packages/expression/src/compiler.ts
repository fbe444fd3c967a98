import type { ArgNode, CallNode, ExprNode, ParamRef, StringNode } from './ast.ts';
import type { EvaluationContext } from './context.ts';
import { ElFailure, ExpressionError, fail, quote } from './errors.ts';
import { DATE_FUNCTIONS } from './fn-dates.ts';
import { ENCODING_FUNCTIONS } from './fn-encoding.ts';
import { JSON_FUNCTIONS } from './fn-json.ts';
import { MATH_FUNCTIONS } from './fn-math.ts';
import { OTHER_FUNCTIONS } from './fn-other.ts';
import { eager, TEXT_FUNCTIONS } from './fn-text.ts';
import {
  type AggregateSpec,
  ArgFailure,
  type ArgKind,
  type EagerSpec,
  type FunctionSpec,
  type LazySpec,
  type MultiSpec,
  type ParamSpec,
  type StaticArg,
  type Thunk,
} from './function-types.ts';
import { parseTemplate } from './parser.ts';
import { closest } from './suggest.ts';
import { asBoolean, asString, parseNumberText, type ResultType, toText, type Value } from './values.ts';

/** A compiled template: compile once, evaluate for many FlowFiles. */
export interface CompiledTemplate {
  /** The template text as given. */
  readonly source: string;
  /** No expression or parameter anywhere: evaluate returns the (unescaped) literal. */
  readonly isLiteral: boolean;
  /**
   * True when evaluation reads FlowFile attributes (attribute names, the multi-attribute functions,
   * evaluateELString). Parameter values are not inspected: compile them to find out.
   */
  readonly referencesAttributes: boolean;
  /** Names of the `#{...}` parameters used, in order of first use. */
  readonly referencedParameters: readonly string[];
  /** Static result type when the whole template is a single expression, else `string`. */
  readonly resultType: ResultType;
  /** The template's text; a sole expression that yields null gives `''` (NiFi). Throws ExpressionError. */
  evaluate(context: EvaluationContext): string;
  /** Like evaluate, but a sole expression that yields null gives undefined. */
  evaluateNullable(context: EvaluationContext): string | undefined;
  /**
   * For rules such as RouteOnAttribute's: the template must be a single expression giving true or
   * false (text "true"/"false" is accepted too). Throws ExpressionError otherwise.
   */
  evaluateBoolean(context: EvaluationContext): boolean;
}

/** How one function appears in listFunctions (editor autocomplete and docs). */
export interface FunctionInfo {
  readonly name: string;
  /** Called without a subject, at the start of an expression: `${now()}`. */
  readonly subjectless: boolean;
  /** Argument signature, optional ones in brackets: `startIndex, [endIndex]`. */
  readonly args: string;
  readonly description: string;
  readonly returns: ResultType;
}

type Step = (ctx: EvaluationContext, subject: Value) => Value;

interface Compiled {
  readonly fn: Thunk;
  readonly type: ResultType;
  /** Set when the value is a constant known at compile time. */
  readonly constant: boolean;
  readonly value: Value;
}

const MAX_NESTING = 16;
let nesting = 0;

const nestedCache = new Map<string, Template>();

function compileCached(source: string): Template {
  let template = nestedCache.get(source);
  if (template === undefined) {
    template = compileTemplate(source);
    if (nestedCache.size > 500) nestedCache.clear();
    nestedCache.set(source, template);
  }
  return template;
}

const evaluateELString: EagerSpec = eager({
  name: 'evaluateELString',
  group: 'string',
  description: 'Evaluates the subject as a template with Expression Language, against the same FlowFile.',
  returns: 'string',
  eval: (ctx, s) => {
    const text = asString(s);
    if (text === null) return null;
    if (nesting >= MAX_NESTING) throw fail('nests expressions too deeply; does the value refer to itself?');
    let template: Template;
    try {
      template = compileCached(text);
    } catch (e) {
      throw fail(`cannot evaluate ${quote(text)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    nesting++;
    try {
      return template.evaluate(ctx);
    } catch (e) {
      if (e instanceof ExpressionError) throw fail(`failed evaluating ${quote(text)}: ${e.message}`);
      throw e;
    } finally {
      nesting--;
    }
  },
});

const REGISTRY: ReadonlyMap<string, FunctionSpec> = new Map(
  [
    ...TEXT_FUNCTIONS,
    evaluateELString,
    ...ENCODING_FUNCTIONS,
    ...JSON_FUNCTIONS,
    ...MATH_FUNCTIONS,
    ...DATE_FUNCTIONS,
    ...OTHER_FUNCTIONS,
  ].map((spec): [string, FunctionSpec] => [spec.name, spec]),
);

function signature(params: readonly ParamSpec[]): string {
  return params.map((p) => (p.rest ? `${p.name}...` : p.optional ? `[${p.name}]` : p.name)).join(', ');
}

const FUNCTION_LIST: readonly FunctionInfo[] = Object.freeze(
  [...REGISTRY.values()]
    .map(
      (spec): FunctionInfo =>
        Object.freeze({
          name: spec.name,
          subjectless: spec.subject === 'none',
          args: signature(spec.params),
          description: spec.description,
          returns: spec.returns,
        }),
    )
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase())),
);

/** Every function the Expression Language knows, sorted by name. */
export function listFunctions(): readonly FunctionInfo[] {
  return FUNCTION_LIST;
}

function wrapFailure(e: unknown, name: string, position: number, length: number): unknown {
  if (e instanceof ElFailure) return new ExpressionError(`"${name}" ${e.message} (at position ${position})`, position, length);
  return e;
}

function describeType(type: ResultType): string {
  switch (type) {
    case 'number':
      return 'a whole number';
    case 'decimal':
      return 'a decimal number';
    case 'boolean':
      return 'true/false';
    case 'date':
      return 'a date';
    case 'string':
      return 'text';
    default:
      return 'a value';
  }
}

function kindName(kind: ArgKind): string {
  return kind === 'boolean' ? 'true/false' : kind === 'number' ? 'number' : kind === 'date' ? 'date' : 'text';
}

function incompatible(actual: ResultType, kind: ArgKind): boolean {
  switch (kind) {
    case 'number':
      return actual === 'boolean';
    case 'boolean':
      return actual === 'number' || actual === 'decimal' || actual === 'date';
    case 'date':
      return actual === 'boolean';
    default:
      return false;
  }
}

function arityText(min: number, max: number): string {
  const plural = (n: number) => (n === 1 ? 'argument' : 'arguments');
  if (max === Number.POSITIVE_INFINITY) return `at least ${min} ${plural(min)}`;
  if (max === 0) return 'no arguments';
  if (min === max) return `${min} ${plural(min)}`;
  if (max === min + 1) return `${min} or ${max} arguments`;
  return `${min} to ${max} arguments`;
}

function constant(value: Value, type: ResultType): Compiled {
  return { fn: () => value, type, constant: true, value };
}

function nodeLength(node: { readonly start: number; readonly end: number }): number {
  return Math.max(1, node.end - node.start);
}

/** Evaluates a parameter reference: the raw value, or its Expression Language when it has any. */
function evaluateParameter(ctx: EvaluationContext, name: string, position: number, length: number): Value {
  const raw = ctx.parameter?.(name);
  if (raw === undefined) return null;
  // Without '{' there can be no ${, #{ or escape: the value is its own text.
  if (!raw.includes('{')) return raw;
  if (nesting >= MAX_NESTING) {
    throw new ExpressionError(
      `Parameter "${name}" (at position ${position}) nests too deeply; does it refer to itself?`,
      position,
      length,
    );
  }
  let template: Template;
  try {
    template = compileCached(raw);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ExpressionError(
      `The value of parameter "${name}" (at position ${position}) is not a valid expression: ${reason}`,
      position,
      length,
    );
  }
  nesting++;
  try {
    return template.evaluateValue(ctx);
  } catch (e) {
    if (e instanceof ExpressionError) {
      throw new ExpressionError(`In parameter "${name}" (at position ${position}): ${e.message}`, position, length);
    }
    throw e;
  } finally {
    nesting--;
  }
}

class Compiler {
  readsAttributes = false;
  readonly params: string[] = [];

  private lookup(call: CallNode): FunctionSpec {
    const spec = REGISTRY.get(call.name);
    if (spec !== undefined) return spec;
    const guess = closest(call.name, REGISTRY.keys());
    const hint = guess === undefined ? '' : `; did you mean "${guess}"?`;
    throw new ExpressionError(`Unknown function "${call.name}" at position ${call.start}${hint}`, call.start, call.name.length);
  }

  private param(ref: ParamRef): Thunk {
    if (!this.params.includes(ref.name)) this.params.push(ref.name);
    const { name, start } = ref;
    const length = nodeLength(ref);
    return (ctx) => evaluateParameter(ctx, name, start, length);
  }

  private text(node: StringNode): Compiled {
    const parts = node.parts;
    if (parts.every((p) => typeof p === 'string')) return constant(parts.join(''), 'string');
    const pieces = parts.map((p) => (typeof p === 'string' ? p : p.kind === 'param' ? this.param(p) : this.expr(p).fn));
    const only = pieces.length === 1 ? pieces[0] : undefined;
    if (only !== undefined && typeof only !== 'string') {
      // '${x}' alone keeps a missing value null, as the bare embedded expression would.
      return { fn: (ctx) => asString(only(ctx)), type: 'string', constant: false, value: null };
    }
    const fn: Thunk = (ctx) => {
      let out = '';
      for (const piece of pieces) out += typeof piece === 'string' ? piece : toText(piece(ctx));
      return out;
    };
    return { fn, type: 'string', constant: false, value: null };
  }

  private arg(node: ArgNode): Compiled {
    switch (node.kind) {
      case 'string':
        return this.text(node);
      case 'number':
        return constant(node.value, typeof node.value === 'bigint' ? 'number' : 'decimal');
      case 'boolean':
        return constant(node.value, 'boolean');
      case 'param':
        return { fn: this.param(node), type: 'unknown', constant: false, value: null };
      default:
        return this.expr(node);
    }
  }

  /** Compiles a whole `${...}`. */
  expr(node: ExprNode): Compiled {
    const subject = node.subject;
    switch (subject.kind) {
      case 'attribute': {
        this.readsAttributes = true;
        const name = this.text(subject.name);
        if (name.constant) {
          const attr = toText(name.value);
          const fn: Thunk = (ctx) => {
            const v = ctx.attribute(attr);
            if (v !== undefined) return v;
            return ctx.environment === undefined ? null : (ctx.environment(attr) ?? null);
          };
          return this.chain({ fn, type: 'string', constant: false, value: null }, node.calls);
        }
        const nameFn = name.fn;
        return this.chain(
          { fn: (ctx) => lookupName(ctx, toText(nameFn(ctx))), type: 'string', constant: false, value: null },
          node.calls,
        );
      }
      case 'paramAttribute': {
        this.readsAttributes = true;
        const nameFn = this.param(subject.param);
        return this.chain(
          { fn: (ctx) => lookupName(ctx, toText(nameFn(ctx))), type: 'string', constant: false, value: null },
          node.calls,
        );
      }
      default: {
        const spec = this.lookup(subject);
        if (spec.kind === 'multi') return this.multi(spec, subject, node.calls);
        if (spec.kind === 'aggregate' || spec.subject === 'required') {
          throw new ExpressionError(
            `"${spec.name}" needs a subject (position ${subject.start}); write it after a value, e.g. \${filename:${spec.name}(${spec.params.length > 0 ? '...' : ''})}`,
            subject.start,
            spec.name.length,
          );
        }
        const { step, type } = this.step(spec, subject, 'unknown', false);
        const fn: Thunk = (ctx) => step(ctx, null);
        return this.chain({ fn, type, constant: false, value: null }, node.calls);
      }
    }
  }

  private chain(start: Compiled, calls: readonly CallNode[]): Compiled {
    let fn = start.fn;
    let type = start.type;
    for (const call of calls) {
      const spec = this.lookup(call);
      if (spec.kind === 'aggregate') {
        const agg = this.aggregate(spec, call);
        const prev = fn;
        fn = (ctx) => agg(ctx, [prev(ctx)]);
        type = spec.returns;
        continue;
      }
      if (spec.kind === 'multi') throw this.noSubject(spec, call);
      const compiled = this.step(spec, call, type, true);
      const step = compiled.step;
      const prev = fn;
      fn = (ctx) => step(ctx, prev(ctx));
      type = compiled.type;
    }
    return { fn, type, constant: false, value: null };
  }

  private noSubject(spec: FunctionSpec, call: CallNode): ExpressionError {
    return new ExpressionError(
      `"${spec.name}" does not take a subject (position ${call.start}); use it at the start of an expression, e.g. \${${spec.name}(${spec.params.length > 0 ? '...' : ''})}`,
      call.start,
      spec.name.length,
    );
  }

  private checkArity(spec: FunctionSpec, call: CallNode): void {
    const rest = spec.params.some((p) => p.rest === true);
    const min = spec.params.filter((p) => p.optional !== true).length;
    const max = rest ? Number.POSITIVE_INFINITY : spec.params.length;
    const got = call.args.length;
    if (got < min || got > max) {
      throw new ExpressionError(
        `"${spec.name}" expects ${arityText(min, max)} but got ${got} (at position ${call.start})`,
        call.start,
        nodeLength(call),
      );
    }
  }

  private compileArgs(spec: FunctionSpec, call: CallNode): Compiled[] {
    const args = call.args.map((a) => this.arg(a));
    args.forEach((arg, i) => {
      const param = spec.params[i] ?? spec.params[spec.params.length - 1];
      const node = call.args[i];
      if (param === undefined || node === undefined) return;
      const at = `(at position ${node.start})`;
      const bad = (what: string) =>
        new ExpressionError(
          `"${spec.name}" needs ${kindName(param.kind)} for "${param.name}", but got ${what} ${at}`,
          node.start,
          nodeLength(node),
        );
      if (arg.constant && param.kind === 'number') {
        if (typeof arg.value === 'boolean') throw bad(String(arg.value));
        if (typeof arg.value === 'string' && parseNumberText(arg.value) === undefined) throw bad(quote(arg.value));
      }
      if (arg.constant && param.kind === 'boolean' && (typeof arg.value === 'bigint' || typeof arg.value === 'number')) {
        throw bad(String(arg.value));
      }
      if (!arg.constant && incompatible(arg.type, param.kind)) throw bad(describeType(arg.type));
    });
    if (spec.check !== undefined) {
      const statics: StaticArg[] = args.map((a) => ({ type: a.type, literal: a.constant ? a.value : undefined }));
      try {
        spec.check(statics);
      } catch (e) {
        if (e instanceof ArgFailure) {
          const node = call.args[e.index] ?? call;
          throw new ExpressionError(`"${spec.name}" ${e.message} (at position ${node.start})`, node.start, nodeLength(node));
        }
        throw e;
      }
    }
    return args;
  }

  private step(
    spec: EagerSpec | LazySpec,
    call: CallNode,
    subjectType: ResultType,
    hasSubject: boolean,
  ): { step: Step; type: ResultType } {
    if (hasSubject && spec.subject === 'none') throw this.noSubject(spec, call);
    this.checkArity(spec, call);
    if (hasSubject && incompatible(subjectType, spec.subjectKind)) {
      throw new ExpressionError(
        `"${spec.name}" needs ${kindName(spec.subjectKind)} before it, but gets ${describeType(subjectType)} (at position ${call.start})`,
        call.start,
        spec.name.length,
      );
    }
    if (spec.name === 'evaluateELString') this.readsAttributes = true;
    const args = this.compileArgs(spec, call);
    const type =
      spec.resultType?.(
        subjectType,
        args.map((a) => a.type),
      ) ?? spec.returns;
    const { name } = spec;
    const position = call.start;
    const length = name.length;
    if (spec.kind === 'lazy') {
      const impl = spec.eval;
      const thunks = args.map((a) => a.fn);
      const step: Step = (ctx, s) => {
        try {
          return impl(ctx, s, thunks);
        } catch (e) {
          throw wrapFailure(e, name, position, length);
        }
      };
      return { step, type };
    }
    const impl = spec.eval;
    if (args.every((a) => a.constant)) {
      // Constant arguments are evaluated once, here, and shared by every evaluation.
      const values: readonly Value[] = Object.freeze(args.map((a) => a.value));
      const step: Step = (ctx, s) => {
        try {
          return impl(ctx, s, values);
        } catch (e) {
          throw wrapFailure(e, name, position, length);
        }
      };
      return { step, type };
    }
    const thunks = args.map((a) => a.fn);
    const step: Step = (ctx, s) => {
      const values: Value[] = [];
      for (const thunk of thunks) values.push(thunk(ctx));
      try {
        return impl(ctx, s, values);
      } catch (e) {
        throw wrapFailure(e, name, position, length);
      }
    };
    return { step, type };
  }

  private argValues(args: readonly Compiled[]): (ctx: EvaluationContext) => readonly Value[] {
    if (args.every((a) => a.constant)) {
      const values: readonly Value[] = Object.freeze(args.map((a) => a.value));
      return () => values;
    }
    const thunks = args.map((a) => a.fn);
    return (ctx) => thunks.map((t) => t(ctx));
  }

  private aggregate(spec: AggregateSpec, call: CallNode): (ctx: EvaluationContext, values: readonly Value[]) => Value {
    this.checkArity(spec, call);
    const argValues = this.argValues(this.compileArgs(spec, call));
    const { name } = spec;
    const position = call.start;
    return (ctx, values) => {
      try {
        return spec.aggregate(values, argValues(ctx));
      } catch (e) {
        throw wrapFailure(e, name, position, name.length);
      }
    };
  }

  private multi(spec: MultiSpec, call: CallNode, calls: readonly CallNode[]): Compiled {
    this.checkArity(spec, call);
    if (spec.readsAttributes) this.readsAttributes = true;
    const argValues = this.argValues(this.compileArgs(spec, call));
    const { name, mode } = spec;
    const position = call.start;
    const values = (ctx: EvaluationContext): Value[] => {
      try {
        return spec.values(ctx, argValues(ctx));
      } catch (e) {
        throw wrapFailure(e, name, position, name.length);
      }
    };
    const aggIndex = calls.findIndex((c) => REGISTRY.get(c.name)?.kind === 'aggregate');
    const perValueCalls = aggIndex < 0 ? calls : calls.slice(0, aggIndex);
    let perValue: Step = (_ctx, v) => v;
    let type: ResultType = 'string';
    for (const c of perValueCalls) {
      const s = this.lookup(c);
      if (s.kind === 'multi' || s.kind === 'aggregate') {
        throw new ExpressionError(`"${s.name}" cannot follow "${name}" (at position ${c.start})`, c.start, s.name.length);
      }
      const compiled = this.step(s, c, type, true);
      const prev = perValue;
      const step = compiled.step;
      perValue = (ctx, v) => step(ctx, prev(ctx, v));
      type = compiled.type;
    }
    if (aggIndex < 0) {
      if (perValueCalls.length === 0 || (type !== 'boolean' && type !== 'unknown')) {
        throw new ExpressionError(
          `"${name}" must be followed by a function that gives true/false (such as equals or contains), or by join() or count() (at position ${position})`,
          position,
          name.length,
        );
      }
      const fn: Thunk =
        mode === 'any'
          ? (ctx) => {
              for (const v of values(ctx)) if (asBoolean(perValue(ctx, v)) === true) return true;
              return false;
            }
          : (ctx) => {
              for (const v of values(ctx)) if (asBoolean(perValue(ctx, v)) !== true) return false;
              return true;
            };
      return { fn, type: 'boolean', constant: false, value: null };
    }
    const aggCall = calls[aggIndex];
    const aggSpec = aggCall === undefined ? undefined : REGISTRY.get(aggCall.name);
    if (aggCall === undefined || aggSpec === undefined || aggSpec.kind !== 'aggregate')
      throw new ExpressionError('Internal error', position);
    const agg = this.aggregate(aggSpec, aggCall);
    const fn: Thunk = (ctx) =>
      agg(
        ctx,
        values(ctx).map((v) => perValue(ctx, v)),
      );
    return this.chain({ fn, type: aggSpec.returns, constant: false, value: null }, calls.slice(aggIndex + 1));
  }

  /** A template segment as a thunk. */
  segment(node: ExprNode | ParamRef): Compiled {
    if (node.kind === 'param') return { fn: this.param(node), type: 'unknown', constant: false, value: null };
    return this.expr(node);
  }
}

function lookupName(ctx: EvaluationContext, name: string): Value {
  const v = ctx.attribute(name);
  if (v !== undefined) return v;
  return ctx.environment === undefined ? null : (ctx.environment(name) ?? null);
}

/**
 * Normalizes what escapes evaluation. RangeError (a result too large for a string, or recursion too
 * deep) becomes an ExpressionError; errors thrown by the context's own hooks pass through unchanged.
 */
function toExpressionError(e: unknown, source: string): unknown {
  if (e instanceof ExpressionError) return e;
  if (e instanceof ElFailure) return new ExpressionError(e.message, 0, Math.max(1, source.length));
  if (e instanceof RangeError) {
    return new ExpressionError(`The expression could not be evaluated: ${e.message}`, 0, Math.max(1, source.length));
  }
  return e;
}

class Template implements CompiledTemplate {
  readonly isLiteral: boolean;
  readonly referencesAttributes: boolean;
  readonly referencedParameters: readonly string[];
  readonly resultType: ResultType;
  private readonly literal: string | undefined;
  private readonly single: Thunk | undefined;
  private readonly singleStart: number;
  private readonly singleLength: number;
  private readonly parts: readonly (string | Thunk)[];

  constructor(readonly source: string) {
    const segments = parseTemplate(source);
    const compiler = new Compiler();
    const parts: (string | Thunk)[] = [];
    let single: Compiled | undefined;
    for (const segment of segments) {
      if (segment.kind === 'text') {
        parts.push(segment.text);
      } else {
        const compiled = compiler.segment(segment);
        parts.push(compiled.fn);
        single = compiled;
      }
    }
    const only = segments.length === 1 ? segments[0] : undefined;
    this.isLiteral = parts.every((p) => typeof p === 'string');
    this.literal = this.isLiteral ? parts.join('') : undefined;
    this.single = only !== undefined && only.kind !== 'text' ? single?.fn : undefined;
    this.singleStart = only !== undefined && only.kind !== 'text' ? only.start : 0;
    this.singleLength = only !== undefined && only.kind !== 'text' ? only.end - only.start : Math.max(1, source.length);
    this.resultType = this.single !== undefined && single !== undefined ? single.type : 'string';
    this.referencesAttributes = compiler.readsAttributes;
    this.referencedParameters = Object.freeze([...compiler.params]);
    this.parts = parts;
  }

  evaluate(context: EvaluationContext): string {
    const literal = this.literal;
    if (literal !== undefined) return literal;
    try {
      const single = this.single;
      if (single !== undefined) {
        const v = single(context);
        return typeof v === 'string' ? v : toText(v);
      }
      let out = '';
      for (const part of this.parts) out += typeof part === 'string' ? part : toText(part(context));
      return out;
    } catch (e) {
      throw toExpressionError(e, this.source);
    }
  }

  /** The raw value of a sole expression (keeping its type); otherwise the template's text. */
  evaluateValue(context: EvaluationContext): Value {
    const single = this.single;
    if (single === undefined) return this.evaluate(context);
    try {
      return single(context);
    } catch (e) {
      throw toExpressionError(e, this.source);
    }
  }

  evaluateNullable(context: EvaluationContext): string | undefined {
    if (this.single === undefined) return this.evaluate(context);
    const v = this.evaluateValue(context);
    return v === null ? undefined : toText(v);
  }

  evaluateBoolean(context: EvaluationContext): boolean {
    if (this.single === undefined) {
      throw new ExpressionError(
        `A true/false rule must be a single expression such as \${filename:equals('a.txt')}, with no text around it`,
        0,
        Math.max(1, this.source.length),
      );
    }
    const v = this.evaluateValue(context);
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const t = v.trim().toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
    }
    const got = v === null ? 'nothing (is an attribute missing?)' : quote(toText(v));
    throw new ExpressionError(
      `The rule must give true or false, but gave ${got}; compare the value, e.g. \${attr:equals('x')}`,
      this.singleStart,
      this.singleLength,
    );
  }

  /** For validate: where the sole expression is, if any. */
  singleSpan(): { start: number; length: number } | undefined {
    return this.single === undefined ? undefined : { start: this.singleStart, length: this.singleLength };
  }
}

/** Compiles a template; throws ExpressionError for syntax errors, unknown functions and wrong arguments. */
export function compileTemplate(source: string): Template {
  try {
    return new Template(source);
  } catch (e) {
    if (e instanceof RangeError)
      throw new ExpressionError('The expression is nested too deeply to compile', 0, Math.max(1, source.length));
    throw e;
  }
}

/** Validation without throwing: syntax and, when asked, that the template is a true/false rule. */
export function validateTemplate(source: string, expectBoolean: boolean): ExpressionError[] {
  let template: Template;
  try {
    template = compileTemplate(source);
  } catch (e) {
    if (e instanceof ExpressionError) return [e];
    return [
      new ExpressionError(
        `The expression could not be checked: ${e instanceof Error ? e.message : String(e)}`,
        0,
        Math.max(1, source.length),
      ),
    ];
  }
  if (!expectBoolean) return [];
  const span = template.singleSpan();
  if (span === undefined) {
    return [
      new ExpressionError(
        `A true/false rule must be a single expression such as \${filename:equals('a.txt')}, with no text around it`,
        0,
        Math.max(1, source.length),
      ),
    ];
  }
  const type = template.resultType;
  if (type !== 'boolean' && type !== 'unknown') {
    return [
      new ExpressionError(
        `This expression gives ${describeType(type)}, not true/false; compare it, e.g. \${attr:equals('x')} or \${size:gt(100)}`,
        span.start,
        span.length,
      ),
    ];
  }
  return [];
}
