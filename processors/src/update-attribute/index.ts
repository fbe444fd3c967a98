import { CoreAttributes, choice, defineProcessor, type FlowFile, PropertyValueError, regex, string } from '@sluice/api';
import { expressionProblems, parseRules, RULE_EVALUATOR, type Rule, RuleEvaluator } from './rules.ts';

const BATCH = 1000;

/** `scheme:identifier`, as NiFi reads alternate.identifier (a URI whose scheme is the namespace). */
const ALTERNATE_IDENTIFIER = /^([A-Za-z][A-Za-z0-9+.-]*):(.+)$/s;

/** Core attributes the delete expression never removes (uuid is protected by the session itself). */
const KEPT = new Set<string>([CoreAttributes.UUID, CoreAttributes.FILENAME, CoreAttributes.PATH]);

/** Set on FlowFiles a rule matched: the name of the (last) matching rule, as NiFi does. */
const MATCHED_RULE = 'UpdateAttribute.matchedRule';

/** One FlowFile leaving the processor: the original or a clone, and the attributes it gets. */
interface Target {
  readonly flowFile: FlowFile;
  readonly updates: Map<string, string>;
}

/** Sets and deletes attributes with Expression Language (NiFi's UpdateAttribute). */
export const UpdateAttribute = defineProcessor({
  type: 'UpdateAttribute',
  description:
    'Updates attributes: each user-added property sets the attribute of its name to its value, evaluated with Expression Language against the FlowFile (the FlowFile as it arrived, for every property). Conditional rules (NiFi\'s "Advanced" rules) add actions that apply only when all of a rule\'s conditions are true: with "use clone" each matching rule gets its own FlowFile (the first the original, the others clones), with "use original" the actions of every matching rule apply to the one FlowFile, later rules winning; rule actions override the properties, and UpdateAttribute.matchedRule names the (last) matching rule. Setting alternate.identifier to a URI (namespace:id) also records an ADDINFO provenance event. A FlowFile for which a value or condition cannot be evaluated (e.g. toNumber() of text) goes back to the queue, unchanged and penalized, with an error bulletin; the other FlowFiles are updated as usual.',
  tags: ['attributes', 'modification', 'update', 'delete', 'expression language'],
  input: 'required',
  properties: {
    deleteAttributes: regex({
      displayName: 'Delete Attributes Expression',
      description:
        'Attributes whose whole name matches this regular expression are removed (after the updates). The core attributes uuid, filename and path are kept.',
      expression: 'environment',
    }),
    rules: string({
      displayName: 'Rules',
      description:
        'Conditional rules as JSON: [{"name": "big", "conditions": ["${fileSize:gt(1048576)}"], "actions": {"size.class": "big"}}]. Conditions are boolean expressions, all of which must be true; actions set attributes to values (Expression Language). Rules are tried in order, each against the FlowFile as it arrived.',
      validate: (value) => {
        const { problems } = parseRules(value);
        return problems.length === 0 ? undefined : problems.join('; ');
      },
    }),
    ruleMatchingStrategy: choice(
      [
        {
          value: 'use-clone',
          displayName: 'Use clone',
          description: 'A FlowFile per matching rule: the original gets the first, a clone each further one.',
        },
        {
          value: 'use-original',
          displayName: 'Use original',
          description: 'The actions of all matching rules apply to the original; a later rule wins over an earlier one.',
        },
      ],
      {
        displayName: 'Rule Matching Strategy',
        description: "What happens when several rules match (NiFi's FlowFile Policy).",
        default: 'use-clone',
        required: true,
      },
    ),
    ruleEvaluator: string({
      displayName: 'Rule Evaluator (internal)',
      description:
        'Internal and never shown: the expression through which rule conditions and actions are evaluated (the processor API compiles only property values). Leave it unset.',
      default: RULE_EVALUATOR,
      expression: 'flowfile',
      // Tied to a value the strategy never has: the editor hides it and validation skips it.
      dependsOn: { property: 'ruleMatchingStrategy', values: ['internal'] },
    }),
  },
  dynamicProperties: {
    description: 'Sets the attribute named like the property to the value (Expression Language).',
    expression: 'flowfile',
    // The session never changes a uuid; refusing the rule says so instead of silently ignoring it.
    validate: (name) => (name === CoreAttributes.UUID ? 'the uuid attribute cannot be changed' : undefined),
  },
  relationships: { success: 'Every FlowFile, updated (and the clones made for matching rules)' },
  writesAttributes: { [MATCHED_RULE]: 'The name of the (last) rule whose actions were applied' },
  supportsBatching: true,
  validate(context) {
    const evaluator = context.getProperty('ruleEvaluator');
    if (evaluator.raw !== RULE_EVALUATOR) return ['property "ruleEvaluator": is internal; remove it from the configuration'];
    return expressionProblems(parseRules(context.getProperty('rules').asString() ?? '').rules, evaluator);
  },
  onScheduled(context) {
    const pattern = context.getProperty('deleteAttributes').asRegExp();
    // NiFi matches the whole attribute name (Matcher.matches), not a substring. An empty value
    // deletes nothing (a bare `new RegExp('')` would match, and delete, every attribute).
    return {
      deletePattern:
        pattern === undefined || pattern.source === '(?:)' ? undefined : new RegExp(`^(?:${pattern.source})$`, pattern.flags),
      rules: parseRules(context.getProperty('rules').asString() ?? '').rules,
      useClone: context.getProperty('ruleMatchingStrategy').asString() !== 'use-original',
    };
  },
  onTrigger(session, context, scheduled) {
    const properties = context.dynamicProperties;
    const { deletePattern: pattern, rules, useClone } = scheduled;
    const evaluator = context.getProperty('ruleEvaluator');
    let failed = 0;
    let firstError = '';
    for (const flowFile of session.getBatch(BATCH)) {
      let plans: Array<Map<string, string>>;
      try {
        plans = plan(flowFile);
      } catch (e) {
        if (!(e instanceof PropertyValueError)) throw e;
        // One FlowFile whose attributes break an expression (toNumber() of "abc") must not fail the
        // whole batch: it alone goes back to its queue, unchanged and penalized.
        if (failed++ === 0) firstError = `FlowFile ${flowFile.uuid}: ${e.message}`;
        session.transfer(session.penalize(flowFile));
        continue;
      }
      // Clones are made from the FlowFile as it arrived, before the original is updated.
      const targets: Target[] = plans.map((updates, i) => ({ flowFile: i === 0 ? flowFile : session.clone(flowFile), updates }));
      for (const target of targets) session.transfer(update(target), 'success');
    }
    if (failed > 0) {
      context.logger.error(
        `could not evaluate the attributes of ${failed} FlowFile(s); they went back to the queue, penalized. First: ${firstError}`,
      );
    }

    /**
     * The attribute updates for each FlowFile that leaves: one for the original, plus one per further
     * matching rule with "use clone". Everything is evaluated against the FlowFile as it arrived.
     * @throws {PropertyValueError} when a value or condition cannot be evaluated.
     */
    function plan(flowFile: FlowFile): Array<Map<string, string>> {
      const defaults = new Map<string, string>();
      for (const [name, value] of properties) defaults.set(name, value.evaluate(flowFile) ?? '');
      if (rules.length === 0) return [defaults];
      const scope = new RuleEvaluator(evaluator, flowFile);
      const matched = rules.filter((rule, index) =>
        rule.conditions.every((c, i) => scope.condition(c, `rule ${index + 1} ("${rule.name}"), condition ${i + 1}`)),
      );
      if (matched.length === 0) return [defaults];
      const groups: Rule[][] = useClone ? matched.map((rule) => [rule]) : [matched];
      return groups.map((group) => {
        const updates = new Map(defaults);
        for (const rule of group) {
          for (const [attribute, value] of rule.actions) {
            updates.set(attribute, scope.value(value, `rule "${rule.name}", action for "${attribute}"`));
          }
        }
        updates.set(MATCHED_RULE, group[group.length - 1]?.name ?? '');
        return updates;
      });
    }

    function update({ flowFile, updates }: Target): FlowFile {
      let updated = updates.size === 0 ? flowFile : session.putAllAttributes(flowFile, updates);
      const alternate = ALTERNATE_IDENTIFIER.exec(updates.get(CoreAttributes.ALTERNATE_IDENTIFIER) ?? '');
      if (alternate?.[1] !== undefined && alternate[2] !== undefined) {
        session.provenance.associate(updated, alternate[1], alternate[2]);
      }
      if (pattern !== undefined) {
        updated = session.removeAttributes(
          updated,
          [...updated.attributes.keys()].filter((k) => !KEPT.has(k) && pattern.test(k)),
        );
      }
      return updated;
    }
  },
});
