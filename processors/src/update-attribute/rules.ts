import { CoreAttributes, type FlowFile, type PropertyValue, PropertyValueError } from '@sluice/api';

/**
 * A conditional rule (NiFi's UpdateAttribute "Advanced" rules): when every condition is true for a
 * FlowFile, the actions set attributes.
 */
export interface Rule {
  readonly name: string;
  /** Boolean Expression Language expressions. */
  readonly conditions: readonly string[];
  /** Attribute name -> value (Expression Language), in the order written. */
  readonly actions: ReadonlyMap<string, string>;
}

/**
 * The attribute the rule evaluator reads the expression text from. The processor API compiles
 * only property values, so rule expressions are evaluated through one (hidden) property whose value
 * is `${'<this attribute>':evaluateELString()}`, against a view of the FlowFile with the text in
 * this attribute (a view: the FlowFile itself is never changed, and an attribute of this name on
 * the FlowFile cannot inject an expression).
 */
const EXPRESSION_ATTRIBUTE = 'sluice.updateattribute.rule.expression';

/** The value of the hidden rule evaluator property. */
export const RULE_EVALUATOR = `\${'${EXPRESSION_ATTRIBUTE}':evaluateELString()}`;

/**
 * Parses the rules JSON. Returns the rules, or problems that each name the rule (by position and
 * name) and say what is expected.
 */
export function parseRules(text: string): { rules: Rule[]; problems: string[] } {
  if (text.trim() === '') return { rules: [], problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return {
      rules: [],
      problems: [
        `not valid JSON (${e instanceof Error ? e.message : String(e)}); expected an array like [{"name": "big", "conditions": ["\${fileSize:gt(1000)}"], "actions": {"size.class": "big"}}]`,
      ],
    };
  }
  if (!Array.isArray(parsed))
    return {
      rules: [],
      problems: ['must be a JSON array of rules, like [{"name": ..., "conditions": [...], "actions": {...}}]'],
    };
  const rules: Rule[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  parsed.forEach((item: unknown, index) => {
    const where = `rule ${index + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${where} must be an object with "name", "conditions" and "actions"`);
      return;
    }
    const name = 'name' in item ? item.name : undefined;
    const conditions = 'conditions' in item ? item.conditions : undefined;
    const actions = 'actions' in item ? item.actions : undefined;
    const unknown = Object.keys(item).filter((k) => k !== 'name' && k !== 'conditions' && k !== 'actions');
    const label = typeof name === 'string' && name.trim() !== '' ? `${where} ("${name}")` : where;
    const before = problems.length;
    if (typeof name !== 'string' || name.trim() === '') problems.push(`${where} needs a "name" (non-empty text)`);
    else if (names.has(name)) problems.push(`${label}: another rule has the same name; rule names must be unique`);
    if (unknown.length > 0)
      problems.push(
        `${label}: unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}; a rule has "name", "conditions" and "actions"`,
      );
    if (!Array.isArray(conditions) || conditions.length === 0) {
      problems.push(`${label}: "conditions" must be a non-empty array of boolean expressions, like ["\${fileSize:gt(1000)}"]`);
    } else {
      conditions.forEach((c: unknown, i) => {
        if (typeof c !== 'string' || c.trim() === '')
          problems.push(`${label}: condition ${i + 1} must be a non-empty expression (text)`);
      });
    }
    const actionMap = new Map<string, string>();
    if (typeof actions !== 'object' || actions === null || Array.isArray(actions) || Object.keys(actions).length === 0) {
      problems.push(`${label}: "actions" must be a non-empty object of attribute name -> value, like {"size.class": "big"}`);
    } else {
      for (const [attribute, value] of Object.entries(actions)) {
        if (attribute.trim() === '') problems.push(`${label}: an action has an empty attribute name`);
        else if (attribute === CoreAttributes.UUID) problems.push(`${label}: the uuid attribute cannot be changed`);
        else if (typeof value !== 'string')
          problems.push(`${label}: the value for attribute "${attribute}" must be text (an expression)`);
        else actionMap.set(attribute, value);
      }
    }
    if (problems.length > before || typeof name !== 'string' || !Array.isArray(conditions)) return;
    names.add(name);
    rules.push({ name, conditions: conditions.filter((c): c is string => typeof c === 'string'), actions: actionMap });
  });
  return { rules, problems };
}

/**
 * A view of a FlowFile for evaluating rule expressions: its attributes, plus the expression text
 * in the evaluator's attribute. One per FlowFile; the text changes per evaluation.
 */
class RuleScope implements FlowFile {
  readonly uuid: string;
  readonly size: number;
  readonly entryDate: number;
  readonly lineageStartDate: number;
  readonly penaltyExpiration: number;
  readonly attributes: Map<string, string>;

  constructor(flowFile: FlowFile | undefined) {
    this.uuid = flowFile?.uuid ?? '';
    this.size = flowFile?.size ?? 0;
    this.entryDate = flowFile?.entryDate ?? 0;
    this.lineageStartDate = flowFile?.lineageStartDate ?? 0;
    this.penaltyExpiration = flowFile?.penaltyExpiration ?? 0;
    this.attributes = new Map(flowFile?.attributes ?? []);
  }

  with(expression: string): this {
    this.attributes.set(EXPRESSION_ATTRIBUTE, expression);
    return this;
  }

  getAttribute(name: string): string | undefined {
    return this.attributes.get(name);
  }
}

/** Evaluates rule expressions against one FlowFile (as it arrived). */
export class RuleEvaluator {
  readonly #evaluator: PropertyValue;
  readonly #scope: RuleScope;

  constructor(evaluator: PropertyValue, flowFile: FlowFile | undefined) {
    this.#evaluator = evaluator;
    this.#scope = new RuleScope(flowFile);
  }

  /** The value of an expression. @throws {PropertyValueError} naming `what` (rule and part). */
  value(expression: string, what: string): string {
    try {
      return this.#evaluator.evaluate(this.#scope.with(expression)) ?? '';
    } catch (e) {
      if (!(e instanceof PropertyValueError)) throw e;
      throw new PropertyValueError('rules', `${what}: ${innerMessage(e.problem)}`);
    }
  }

  /** Whether a condition holds. @throws {PropertyValueError} when it gives neither true nor false. */
  condition(expression: string, what: string): boolean {
    const value = this.value(expression, what);
    if (value === 'true') return true;
    if (value === 'false' || value === '') return false;
    throw new PropertyValueError('rules', `${what} gave "${value}", not true or false`);
  }

  /**
   * The syntax error of an expression, or undefined. Evaluates it against no attributes: errors
   * that come from the values (toNumber() of text) are not syntax errors and are left for run time.
   */
  syntaxError(expression: string): string | undefined {
    try {
      this.#evaluator.evaluate(this.#scope.with(expression));
      return undefined;
    } catch (e) {
      if (!(e instanceof PropertyValueError) || !e.problem.includes('cannot evaluate')) return undefined;
      return innerMessage(e.problem);
    }
  }
}

/**
 * The evaluator's message without its wrapping: `"evaluateELString" cannot evaluate "<text>": <why>
 * (at position n)` becomes `<why>`.
 */
function innerMessage(problem: string): string {
  const match = /(?:cannot evaluate|failed evaluating) "(?:[^"\\]|\\.)*": ([\s\S]*?)(?: \(at position \d+\))?$/.exec(problem);
  return match?.[1] ?? problem;
}

/** Problems with the expressions of parsed rules (syntax only), each naming the rule and the part. */
export function expressionProblems(rules: readonly Rule[], evaluator: PropertyValue): string[] {
  const check = new RuleEvaluator(evaluator, undefined);
  const problems: string[] = [];
  rules.forEach((rule, index) => {
    const label = `rule ${index + 1} ("${rule.name}")`;
    rule.conditions.forEach((condition, i) => {
      const error = check.syntaxError(condition);
      if (error !== undefined)
        problems.push(`property "rules": ${label}, condition ${i + 1} is not a valid expression: ${error}`);
    });
    for (const [attribute, value] of rule.actions) {
      const error = check.syntaxError(value);
      if (error !== undefined)
        problems.push(`property "rules": ${label}, action for "${attribute}" is not a valid expression: ${error}`);
    }
  });
  return problems;
}
