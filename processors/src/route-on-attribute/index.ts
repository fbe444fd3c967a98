import { choice, defineProcessor, type FlowFile, PropertyValueError } from '@sluice/api';

const BATCH = 1000;
const RESERVED = new Set(['matched', 'unmatched']);

/** Routes FlowFiles by boolean Expression Language rules over their attributes (NiFi's RouteOnAttribute). */
export const RouteOnAttribute = defineProcessor({
  type: 'RouteOnAttribute',
  description:
    'Routes FlowFiles by rules over their attributes. Each user-added property is a rule: a boolean expression such as ${filename:endsWith(".csv")}. A FlowFile for which a rule cannot be evaluated (e.g. toNumber() of text) goes back to the queue, unchanged and penalized, with an error bulletin; the other FlowFiles are routed as usual.',
  tags: ['routing', 'attributes', 'expression language', 'filter'],
  input: 'required',
  properties: {
    strategy: choice(
      [
        {
          value: 'route-to-property',
          displayName: 'Route to Property name',
          description: 'A relationship per rule; a FlowFile goes to every rule it matches (a clone for each extra match).',
        },
        {
          value: 'match-all',
          displayName: 'Route to "matched" if all match',
          description: '"matched" when every rule is true, else "unmatched".',
        },
        {
          value: 'match-any',
          displayName: 'Route to "matched" if any matches',
          description: '"matched" when at least one rule is true, else "unmatched".',
        },
      ],
      {
        displayName: 'Routing Strategy',
        description: 'How rules decide the relationship.',
        default: 'route-to-property',
        required: true,
      },
    ),
  },
  dynamicProperties: {
    description:
      'A rule: a boolean expression over the FlowFile\'s attributes. With "Route to Property name" each rule is a relationship.',
    valueIs: 'boolean-expression',
    createsRelationship: { dependsOn: { property: 'strategy', values: ['route-to-property'] } },
    // A rule of the same name as a fixed relationship would silently merge with it.
    validate: (name) =>
      RESERVED.has(name) ? `"${name}" is the name of a RouteOnAttribute relationship; give the rule another name` : undefined,
  },
  relationships: {
    unmatched: 'FlowFiles that match no rule (or not all rules, for "match all")',
    matched: {
      description: 'FlowFiles that match the rules',
      dependsOn: { property: 'strategy', values: ['match-all', 'match-any'] },
    },
  },
  writesAttributes: { 'RouteOnAttribute.Route': 'The relationship the FlowFile was routed to' },
  supportsBatching: true,
  validate(context) {
    return context.dynamicProperties.size === 0 ? ['add at least one rule (a property whose value is a boolean expression)'] : [];
  },
  onTrigger(session, context) {
    const strategy = context.getProperty('strategy').asString();
    const rules = [...context.dynamicProperties];
    const routeToProperty = strategy === 'route-to-property';
    let failed = 0;
    let firstError = '';
    for (const flowFile of session.getBatch(BATCH)) {
      const matches: string[] = [];
      try {
        for (const [name, rule] of rules) {
          if (evaluateRule(name, rule.evaluate(flowFile))) matches.push(name);
        }
      } catch (e) {
        if (!(e instanceof PropertyValueError)) throw e;
        // A rule that cannot be evaluated for this FlowFile (toNumber() of "abc") says nothing about
        // where it belongs: rather than being misrouted, or failing the whole batch, it alone goes back
        // to its queue, unchanged and penalized, and the error shows as a bulletin.
        if (failed++ === 0) firstError = `FlowFile ${flowFile.uuid}: ${e.message}`;
        session.transfer(session.penalize(flowFile));
        continue;
      }
      let relationship: string;
      if (routeToProperty) {
        if (matches.length === 0) relationship = 'unmatched';
        else {
          // One FlowFile per matching rule: the original to the first, clones to the rest.
          for (let i = 1; i < matches.length; i++) route(session, session.clone(flowFile), matches[i] ?? 'unmatched');
          relationship = matches[0] ?? 'unmatched';
        }
      } else if (strategy === 'match-all') {
        relationship = matches.length === rules.length ? 'matched' : 'unmatched';
      } else {
        relationship = matches.length > 0 ? 'matched' : 'unmatched';
      }
      route(session, flowFile, relationship);
    }
    if (failed > 0) {
      context.logger.error(
        `could not evaluate the rules for ${failed} FlowFile(s); they went back to the queue, penalized. First: ${firstError}`,
      );
    }
  },
});

function route(session: Parameters<typeof RouteOnAttribute.onTrigger>[0], flowFile: FlowFile, relationship: string): void {
  const routed = session.putAttribute(flowFile, 'RouteOnAttribute.Route', relationship);
  session.provenance.route(routed, relationship);
  session.transfer(routed, relationship);
}

function evaluateRule(name: string, value: string | undefined): boolean {
  if (value === 'true') return true;
  if (value === 'false' || value === undefined || value === '') return false;
  throw new PropertyValueError(name, `rule gave "${value}", not true or false`);
}
