import type { FlowFile, JsonPathQuery, PropertyDescriptor, PropertyValue } from '@sluice/api';
import { PropertyValueError, parseDataSize, parseTimePeriod } from '@sluice/api';
import { type CompiledTemplate, compile, compileJsonPath, type EvaluationContext, ExpressionError } from '@sluice/expression';

/** What property evaluation may look up besides FlowFile attributes. */
export interface PropertyEnvironment {
  parameter(name: string): string | undefined;
  environment(name: string): string | undefined;
  hostname(fullyQualified: boolean): string;
  ip(): string;
  hash?(algorithm: string, text: string): string | undefined;
  state?(key: string): string | undefined;
}

const PARAMETER_REFERENCE = /(#+)\{(?:'([^']*)'|"([^"]*)"|([A-Za-z0-9 ._-]+))\}/g;

/**
 * Substitutes `#{param}` references in a value that does not support Expression Language
 * (`##{` is a literal `#{`).
 * @throws {PropertyValueError} when a parameter is not defined.
 */
export function substituteParameters(property: string, value: string, lookup: (name: string) => string | undefined): string {
  if (!value.includes('#{')) return value;
  return value.replace(PARAMETER_REFERENCE, (match, hashes: string, q1?: string, q2?: string, bare?: string) => {
    const name = q1 ?? q2 ?? bare ?? '';
    if (hashes.length % 2 === 0) return `${'#'.repeat(hashes.length / 2)}{${match.slice(hashes.length + 1)}`;
    const resolved = lookup(name);
    if (resolved === undefined) throw new PropertyValueError(property, `references parameter "${name}", which is not defined`);
    return '#'.repeat((hashes.length - 1) / 2) + resolved;
  });
}

/** Parameter names a value references (for validation and for restarting components when one changes). */
export function referencedParameters(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(PARAMETER_REFERENCE)) {
    if ((m[1] ?? '').length % 2 === 1) out.push(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** NiFi's FlowFile fields that Expression Language sees like attributes. */
function flowFileField(flowFile: FlowFile | undefined, name: string): string | undefined {
  if (flowFile === undefined) return undefined;
  switch (name) {
    case 'fileSize':
      return String(flowFile.size);
    case 'entryDate':
      return String(flowFile.entryDate);
    case 'lineageStartDate':
      return String(flowFile.lineageStartDate);
    default:
      return undefined;
  }
}

/**
 * A property as a running component reads it: the configured (or default) value, compiled once
 * when it uses Expression Language, evaluated per call.
 */
export class ConfiguredProperty implements PropertyValue {
  readonly raw: string | undefined;
  readonly #name: string;
  readonly #descriptor: PropertyDescriptor | undefined;
  readonly #template: CompiledTemplate | undefined;
  readonly #literal: string | undefined;
  readonly #env: PropertyEnvironment;
  // One reusable evaluation context: evaluation is synchronous, so swapping the FlowFile in is safe.
  #flowFile: FlowFile | undefined;
  #variables: ReadonlyMap<string, string> | undefined;
  readonly #context: EvaluationContext;

  /**
   * @throws {PropertyValueError} when the value's expression does not compile or references an
   * unknown parameter (validation reports these before a component starts).
   */
  constructor(
    name: string,
    descriptor: PropertyDescriptor | undefined,
    raw: string | undefined,
    env: PropertyEnvironment,
    expression: 'none' | 'environment' | 'flowfile',
  ) {
    this.#name = name;
    this.#descriptor = descriptor;
    this.raw = raw;
    this.#env = env;
    this.#context = {
      attribute: (n) =>
        this.#flowFile?.attributes.get(n) ?? this.#variables?.get(n) ?? flowFileField(this.#flowFile, n) ?? env.environment(n),
      attributeNames: () => {
        const names = new Set<string>(this.#flowFile?.attributes.keys() ?? []);
        for (const k of this.#variables?.keys() ?? []) names.add(k);
        return names;
      },
      parameter: (n) => env.parameter(n),
      environment: (n) => env.environment(n),
      hostname: (fq) => env.hostname(fq),
      ip: () => env.ip(),
      ...(env.state === undefined ? {} : { state: env.state }),
      ...(env.hash === undefined ? {} : { hash: env.hash }),
    };
    if (raw === undefined) return;
    if (expression === 'none') {
      this.#literal = substituteParameters(name, raw, (p) => env.parameter(p));
      return;
    }
    let template: CompiledTemplate;
    try {
      template = compile(raw);
    } catch (e) {
      throw new PropertyValueError(name, e instanceof ExpressionError ? e.message : String(e));
    }
    // Only literals are precomputed: now(), UUID() and friends must give a new value per call.
    if (template.isLiteral) this.#literal = template.evaluate(this.#context);
    else this.#template = template;
  }

  get isSet(): boolean {
    return this.raw !== undefined;
  }

  /** Whether the value is computed per evaluation (it uses Expression Language). */
  get isExpression(): boolean {
    return this.#template !== undefined;
  }

  #run(
    template: CompiledTemplate,
    flowFile: FlowFile | undefined,
    variables: ReadonlyMap<string, string> | undefined,
  ): string | undefined {
    this.#flowFile = flowFile;
    this.#variables = variables;
    try {
      return template.evaluateNullable(this.#context);
    } catch (e) {
      throw new PropertyValueError(this.#name, e instanceof Error ? e.message : String(e));
    } finally {
      this.#flowFile = undefined;
      this.#variables = undefined;
    }
  }

  evaluate(flowFile?: FlowFile, variables?: ReadonlyMap<string, string>): string | undefined {
    if (this.#template === undefined) return this.#literal;
    return this.#run(this.#template, flowFile, variables);
  }

  /** Evaluates a boolean rule (RouteOnAttribute). @throws {PropertyValueError} if it is not boolean. */
  evaluateBoolean(flowFile?: FlowFile): boolean {
    if (this.#template === undefined) {
      if (this.#literal === 'true') return true;
      if (this.#literal === 'false') return false;
      throw new PropertyValueError(this.#name, `"${this.#literal ?? ''}" is not true or false`);
    }
    this.#flowFile = flowFile;
    try {
      return this.#template.evaluateBoolean(this.#context);
    } catch (e) {
      throw new PropertyValueError(this.#name, e instanceof Error ? e.message : String(e));
    } finally {
      this.#flowFile = undefined;
    }
  }

  asString(flowFile?: FlowFile): string | undefined {
    return this.evaluate(flowFile);
  }

  #convert<T>(flowFile: FlowFile | undefined, what: string, convert: (v: string) => T | undefined): T | undefined {
    const value = this.evaluate(flowFile);
    if (value === undefined || value === '') return undefined;
    const converted = convert(value.trim());
    if (converted === undefined) throw new PropertyValueError(this.#name, `"${value}" is not ${what}`);
    return converted;
  }

  asInteger(flowFile?: FlowFile): number | undefined {
    return this.#convert(flowFile, 'a whole number', (v) => (/^-?\d+$/.test(v) ? Number(v) : undefined));
  }

  asNumber(flowFile?: FlowFile): number | undefined {
    return this.#convert(flowFile, 'a number', (v) => (Number.isFinite(Number(v)) ? Number(v) : undefined));
  }

  asBoolean(flowFile?: FlowFile): boolean | undefined {
    return this.#convert(flowFile, 'true or false', (v) => (v === 'true' ? true : v === 'false' ? false : undefined));
  }

  asTimePeriod(flowFile?: FlowFile): number | undefined {
    return this.#convert(flowFile, 'a time period like "30 sec"', (v) => {
      try {
        return parseTimePeriod(v);
      } catch {
        return undefined;
      }
    });
  }

  asDataSize(flowFile?: FlowFile): number | undefined {
    return this.#convert(flowFile, 'a data size like "1 MB"', (v) => {
      try {
        return parseDataSize(v);
      } catch {
        return undefined;
      }
    });
  }

  asRegExp(flowFile?: FlowFile, flags?: string): RegExp | undefined {
    const value = this.evaluate(flowFile);
    if (value === undefined) return undefined;
    try {
      return new RegExp(value, flags);
    } catch (e) {
      throw new PropertyValueError(this.#name, `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #jsonPaths: Map<string, JsonPathQuery> | undefined;

  asJsonPath(flowFile?: FlowFile): JsonPathQuery | undefined {
    const value = this.evaluate(flowFile);
    if (value === undefined || value === '') return undefined;
    this.#jsonPaths ??= new Map();
    let compiled = this.#jsonPaths.get(value);
    if (compiled === undefined) {
      try {
        compiled = compileJsonPath(value);
      } catch (e) {
        throw new PropertyValueError(this.#name, `not a valid JSONPath: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.#jsonPaths.size > 1000) this.#jsonPaths.clear();
      this.#jsonPaths.set(value, compiled);
    }
    return compiled;
  }

  /** The descriptor (undefined for dynamic properties). */
  get descriptor(): PropertyDescriptor | undefined {
    return this.#descriptor;
  }

  /** The environment it evaluates against. */
  get environment(): PropertyEnvironment {
    return this.#env;
  }
}
