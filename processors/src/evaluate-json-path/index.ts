import {
  CoreAttributes,
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  formatDataSize,
  type JsonPathQuery,
  type ProcessSession,
} from '@sluice/api';

const BATCH = 100;
const FAILURE_ATTRIBUTE = 'evaluatejsonpath.failure.reason';

/** Why one FlowFile could not be evaluated (it goes to failure with this reason). */
class EvaluationFailure extends Error {}

/** Evaluates JSONPath expressions against JSON content, into attributes or the content (NiFi's EvaluateJsonPath). */
export const EvaluateJsonPath = defineProcessor({
  type: 'EvaluateJsonPath',
  description:
    "Evaluates JSONPath expressions against JSON content. Each user-added property is a JSONPath ($.store.book[0].title); with destination flowfile-attribute its result goes into the attribute of the property's name (every FlowFile then goes to matched), with flowfile-content the single property's result replaces the content (unmatched when the path finds nothing). A path that can match several values (wildcards, filters, ..) gives a JSON array of the matches; one that matches nothing counts as not found. Content that is not valid UTF-8 or not JSON, is larger than Maximum JSON Size, or gives an object or array where a scalar was asked for goes to failure with the reason in evaluatejsonpath.failure.reason. Numbers beyond 2^53 lose precision (JavaScript numbers).",
  tags: ['json', 'jsonpath', 'evaluate', 'extract', 'attributes'],
  input: 'required',
  properties: {
    destination: choice(
      [
        {
          value: 'flowfile-content',
          displayName: 'flowfile-content',
          description: 'The result of the (single) path replaces the content.',
        },
        { value: 'flowfile-attribute', displayName: 'flowfile-attribute', description: 'Each result goes into an attribute.' },
      ],
      { displayName: 'Destination', description: 'Where results go.', default: 'flowfile-content', required: true },
    ),
    returnType: choice(
      [
        { value: 'auto-detect', displayName: 'auto-detect', description: 'json for content, scalar for attributes.' },
        { value: 'json', displayName: 'json', description: 'Results as JSON text (strings quoted).' },
        {
          value: 'scalar',
          displayName: 'scalar',
          description: 'Strings as they are, numbers and booleans as text; an object or array is a failure.',
        },
      ],
      { displayName: 'Return Type', description: 'How results are written.', default: 'auto-detect', required: true },
    ),
    pathNotFoundBehavior: choice(
      [
        { value: 'ignore', displayName: 'ignore', description: 'Set the attribute to the empty string.' },
        { value: 'warn', displayName: 'warn', description: 'Log a warning and set the attribute to the empty string.' },
        { value: 'skip', displayName: 'skip', description: 'Do not set the attribute.' },
      ],
      {
        displayName: 'Path Not Found Behavior',
        description: 'What to do with the attribute of a path that finds nothing.',
        default: 'ignore',
        required: true,
        dependsOn: { property: 'destination', values: ['flowfile-attribute'] },
      },
    ),
    nullValueRepresentation: choice(
      [
        { value: 'empty string', displayName: 'empty string' },
        { value: 'the string null', displayName: "the string 'null'" },
      ],
      {
        displayName: 'Null Value Representation',
        description: 'How a JSON null is written as a scalar.',
        default: 'empty string',
        required: true,
      },
    ),
    maxJsonSize: dataSize({
      displayName: 'Maximum JSON Size',
      description:
        'Larger content goes to failure instead of being parsed (parsing holds the whole document in memory and blocks the event loop meanwhile).',
      default: '20 MB',
      required: true,
      min: 1,
      max: 512 * 1024 * 1024,
    }),
  },
  dynamicProperties: {
    description:
      "A JSONPath expression; with destination flowfile-attribute, the attribute of the property's name gets its result.",
    valueIs: 'json-path',
    validate: (name) => (name === CoreAttributes.UUID ? 'the uuid attribute cannot be changed' : undefined),
  },
  relationships: {
    matched: 'FlowFiles whose paths were evaluated (for content: the path found something)',
    unmatched: 'With destination flowfile-content, FlowFiles for which the path found nothing (unchanged)',
    failure:
      'FlowFiles that are not JSON, too large, or whose result does not fit the return type; evaluatejsonpath.failure.reason says why',
  },
  writesAttributes: {
    '(dynamic property names)': 'The results, with destination flowfile-attribute',
    'mime.type': 'application/json (json results) or text/plain (scalar results), with destination flowfile-content',
    [FAILURE_ATTRIBUTE]: 'Why the FlowFile went to failure',
  },
  supportsBatching: true,
  validate(context) {
    const count = context.dynamicProperties.size;
    if (count === 0) return ['add at least one JSONPath (a property whose value is a path like $.id)'];
    if (context.getProperty('destination').asString() === 'flowfile-content' && count > 1) {
      return [
        `destination flowfile-content takes exactly one JSONPath, but ${count} are configured; remove the others or use flowfile-attribute`,
      ];
    }
    return [];
  },
  onScheduled(context) {
    const paths = new Map<string, JsonPathQuery>();
    for (const [name, value] of context.dynamicProperties) {
      const query = value.asJsonPath();
      if (query !== undefined) paths.set(name, query);
    }
    return { paths };
  },
  onTrigger(session, context, { paths }) {
    const toContent = context.getProperty('destination').asString() === 'flowfile-content';
    const configured = context.getProperty('returnType').asString();
    const returnType = configured === 'json' || configured === 'scalar' ? configured : toContent ? 'json' : 'scalar';
    const notFound = context.getProperty('pathNotFoundBehavior').asString() ?? 'ignore';
    const nullText = context.getProperty('nullValueRepresentation').asString() === 'the string null' ? 'null' : '';
    const maxSize = context.getProperty('maxJsonSize').asDataSize() ?? 20 * 1024 * 1024;
    for (let flowFile of session.getBatch(BATCH)) {
      try {
        const document = parse(session, flowFile, maxSize);
        if (toContent) {
          const [, query] = [...paths][0] ?? [];
          const found = query === undefined ? undefined : evaluate(query, document);
          if (found === undefined) {
            session.transfer(flowFile, 'unmatched');
            continue;
          }
          flowFile = session.write(flowFile, format(found.value, returnType, nullText, query?.source ?? ''));
          flowFile = session.putAttribute(
            flowFile,
            CoreAttributes.MIME_TYPE,
            returnType === 'json' ? 'application/json' : 'text/plain',
          );
          session.transfer(flowFile, 'matched');
          continue;
        }
        const results = new Map<string, string>();
        for (const [name, query] of paths) {
          const found = evaluate(query, document);
          if (found === undefined) {
            if (notFound === 'skip') continue;
            if (notFound === 'warn')
              context.logger.warn(`FlowFile ${flowFile.uuid}: JSONPath ${query.source} (${name}) found nothing`);
            results.set(name, '');
            continue;
          }
          results.set(name, format(found.value, returnType, nullText, query.source));
        }
        session.transfer(session.putAllAttributes(flowFile, results), 'matched');
      } catch (e) {
        if (!(e instanceof EvaluationFailure)) throw e;
        context.logger.warn(`FlowFile ${flowFile.uuid} went to failure: ${e.message}`);
        session.transfer(session.putAttribute(flowFile, FAILURE_ATTRIBUTE, e.message), 'failure');
      }
    }
  },
});

/** The content as parsed JSON. @throws {EvaluationFailure} when too large, not UTF-8 or not JSON. */
function parse(session: ProcessSession, flowFile: FlowFile, maxSize: number): unknown {
  if (flowFile.size > maxSize) {
    throw new EvaluationFailure(
      `content of ${formatDataSize(flowFile.size)} is larger than Maximum JSON Size (${formatDataSize(maxSize)})`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(session.read(flowFile, { maxBytes: maxSize }));
  } catch {
    throw new EvaluationFailure('content is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EvaluationFailure(`content is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * What a path found: the single value of a definite path, or an array of the matches of an
 * indefinite one; undefined when nothing matched.
 */
function evaluate(query: JsonPathQuery, document: unknown): { value: unknown } | undefined {
  let values: unknown[];
  try {
    values = query.evaluate(document);
  } catch (e) {
    throw new EvaluationFailure(`JSONPath ${query.source} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (values.length === 0) return undefined;
  return { value: query.definite ? values[0] : values };
}

/** A result as text for the return type. @throws {EvaluationFailure} for an object or array as a scalar. */
function format(value: unknown, returnType: 'json' | 'scalar', nullText: string, path: string): string {
  if (returnType === 'json') return JSON.stringify(value) ?? nullText;
  if (value === null || value === undefined) return nullText;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new EvaluationFailure(
    `JSONPath ${path} found ${Array.isArray(value) ? 'an array' : 'an object'}, which is not a scalar; use Return Type json`,
  );
}
