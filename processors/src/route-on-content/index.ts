import {
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  type ProcessSession,
  PropertyValueError,
  string,
  usesExpression,
} from '@sluice/api';

const BATCH = 100;
const RESERVED = new Set(['unmatched', 'failure']);
const ROUTE_ATTRIBUTE = 'RouteOnContent.Route';
const FAILURE_ATTRIBUTE = 'routeoncontent.failure.reason';

/** Routes FlowFiles by regular expressions over their content (NiFi's RouteOnContent). */
export const RouteOnContent = defineProcessor({
  type: 'RouteOnContent',
  description:
    'Routes FlowFiles by regular expressions (JavaScript syntax) over their content. Each user-added property is a rule and a relationship of the same name: a FlowFile goes to every rule it matches (a clone for each extra match), or to unmatched. Only the first Content Buffer Size bytes are decoded and searched. Bytes that are not valid in the character set are read as U+FFFD (the FlowFile is routed, not failed). A rule whose Expression Language or computed regular expression fails for a FlowFile sends it to failure with the reason in routeoncontent.failure.reason.',
  tags: ['route', 'content', 'regex', 'regular expression', 'find', 'text'],
  input: 'required',
  properties: {
    matchRequirement: choice(
      [
        {
          value: 'content must match exactly',
          displayName: 'content must match exactly',
          description: 'The whole (buffered) content must match the expression.',
        },
        {
          value: 'content must contain match',
          displayName: 'content must contain match',
          description: 'Some part of the (buffered) content must match.',
        },
      ],
      {
        displayName: 'Match Requirement',
        description: 'Whether a rule must match all of the content or only some of it.',
        default: 'content must match exactly',
        required: true,
      },
    ),
    characterSet: string({
      displayName: 'Character Set',
      description: 'Encoding of the content, e.g. UTF-8, ISO-8859-1, UTF-16LE (any WHATWG encoding label).',
      default: 'UTF-8',
      required: true,
      validate: encodingProblem,
    }),
    bufferSize: dataSize({
      displayName: 'Content Buffer Size',
      description: 'Only this many bytes from the start of the content are searched.',
      default: '1 MB',
      required: true,
      min: 1,
      max: 64 * 1024 * 1024,
    }),
  },
  dynamicProperties: {
    description:
      "A rule: a regular expression over the content (Expression Language over the FlowFile's attributes allowed). Each rule is a relationship of the same name.",
    expression: 'flowfile',
    createsRelationship: true,
    validate: (name, value) => {
      if (RESERVED.has(name)) return `"${name}" is the name of a RouteOnContent relationship; give the rule another name`;
      if (usesExpression(value)) return undefined;
      try {
        new RegExp(value);
        return undefined;
      } catch (e) {
        return `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`;
      }
    },
  },
  relationships: {
    unmatched: 'FlowFiles that match no rule',
    failure: 'FlowFiles for which a rule could not be evaluated; routeoncontent.failure.reason says why',
  },
  writesAttributes: {
    [ROUTE_ATTRIBUTE]: 'The relationship the FlowFile (or clone) was routed to',
    [FAILURE_ATTRIBUTE]: 'Why the FlowFile went to failure',
  },
  supportsBatching: true,
  validate(context) {
    return context.dynamicProperties.size === 0 ? ['add at least one rule (a property whose value is a regular expression)'] : [];
  },
  onScheduled() {
    // Rules with Expression Language compile per FlowFile; the same computed pattern compiles once.
    return { patterns: new Map<string, RegExp>() };
  },
  onTrigger(session, context, scheduled) {
    const exact = context.getProperty('matchRequirement').asString() === 'content must match exactly';
    const encoding = context.getProperty('characterSet').asString() ?? 'UTF-8';
    const bufferSize = context.getProperty('bufferSize').asDataSize() ?? 1024 * 1024;
    const rules = [...context.dynamicProperties];
    const compile = (source: string, rule: string): RegExp => {
      const key = `${exact ? 'x' : 'c'}${source}`;
      let pattern = scheduled.patterns.get(key);
      if (pattern === undefined) {
        try {
          pattern = new RegExp(exact ? `^(?:${source})$` : source);
        } catch (e) {
          throw new PropertyValueError(
            rule,
            `"${source}" is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
        if (scheduled.patterns.size > 1000) scheduled.patterns.clear();
        scheduled.patterns.set(key, pattern);
      }
      return pattern;
    };
    for (const flowFile of session.getBatch(BATCH)) {
      // stream: true holds back a character cut in half at the buffer limit instead of inventing U+FFFD.
      const text = new TextDecoder(encoding).decode(session.read(flowFile, { length: Math.min(flowFile.size, bufferSize) }), {
        stream: true,
      });
      const matches: string[] = [];
      try {
        for (const [name, rule] of rules) {
          if (compile(rule.evaluate(flowFile) ?? '', name).test(text)) matches.push(name);
        }
      } catch (e) {
        if (!(e instanceof PropertyValueError)) throw e;
        context.logger.warn(`FlowFile ${flowFile.uuid} went to failure: ${e.message}`);
        session.transfer(session.penalize(session.putAttribute(flowFile, FAILURE_ATTRIBUTE, e.message)), 'failure');
        continue;
      }
      if (matches.length === 0) {
        route(session, flowFile, 'unmatched');
        continue;
      }
      for (let i = 1; i < matches.length; i++) route(session, session.clone(flowFile), matches[i] ?? 'unmatched');
      route(session, flowFile, matches[0] ?? 'unmatched');
    }
  },
});

function route(session: ProcessSession, flowFile: FlowFile, relationship: string): void {
  const routed = session.putAttribute(flowFile, ROUTE_ATTRIBUTE, relationship);
  session.provenance.route(routed, relationship);
  session.transfer(routed, relationship);
}

/** Whether the platform can decode this character set. */
function encodingProblem(label: string): string | undefined {
  try {
    new TextDecoder(label);
    return undefined;
  } catch {
    return `"${label}" is not a character set this platform can decode; use e.g. UTF-8, ISO-8859-1 or UTF-16LE`;
  }
}
