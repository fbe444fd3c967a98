import {
  boolean,
  ContentTooLargeError,
  CoreAttributes,
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  FORBIDDEN_ATTRIBUTE_KEYS,
  formatDataSize,
  type ProcessSession,
  string,
  timePeriod,
} from '@sluice/api';
import jsonata from 'jsonata';

const BATCH = 50;
/** JSONata's own recursion guard (evaluation depth); deeper expressions fail instead of overflowing the stack. */
const MAX_DEPTH = 2000;

/** Transforms JSON content with a JSONata expression. */
export const TransformJSON = defineProcessor({
  type: 'TransformJSON',
  description:
    "Replaces JSON content with the result of a JSONata expression (https://jsonata.org) evaluated against it. The FlowFile's attributes are available to the expression as $attributes (e.g. $attributes.filename). The expression is compiled when the processor is validated, so a syntax error shows before it starts. Content that is not JSON (or not UTF-8), a result that is not JSON (a function), and evaluation errors go to failure with the reason. JSONata evaluates synchronously on the event loop: Evaluation Time Limit and Maximum Input Size bound how long one FlowFile can hold it.",
  tags: ['json', 'jsonata', 'transform', 'jolt', 'mapping', 'content'],
  input: 'required',
  properties: {
    expression: string({
      displayName: 'JSONata Expression',
      description: 'The JSONata expression; its result becomes the new content, as JSON.',
      required: true,
      validate: (value) => compileProblem(value),
    }),
    maxInputSize: dataSize({
      displayName: 'Maximum Input Size',
      description: 'Larger content goes to failure without being parsed (the document is parsed and transformed in memory).',
      default: '10 MB',
      min: 1,
      max: 512 * 1024 * 1024,
      required: true,
    }),
    timeLimit: timePeriod({
      displayName: 'Evaluation Time Limit',
      description:
        'An evaluation running longer than this is stopped and the FlowFile goes to failure. JSONata checks the limit at each step of the expression; a single built-in call on huge data (e.g. $sort of a large array) is not interrupted, so keep Maximum Input Size modest.',
      default: '1 sec',
      min: 1,
      max: 60_000,
      required: true,
    }),
    whenUndefined: choice(
      [
        { value: 'null', displayName: 'write null', description: 'The content becomes the JSON literal null.' },
        { value: 'empty', displayName: 'write empty content', description: 'The content becomes empty.' },
        { value: 'failure', displayName: 'route to failure', description: 'The FlowFile goes to failure, unchanged.' },
      ],
      {
        displayName: 'When the Result Is Undefined',
        description: 'What to do when the expression matches nothing (JSONata gives no value).',
        default: 'null',
        required: true,
      },
    ),
    prettyPrint: boolean({
      displayName: 'Pretty Print',
      description: 'Indent the output JSON by two spaces.',
      default: 'false',
    }),
  },
  relationships: {
    success: 'FlowFiles whose content was transformed',
    failure: 'FlowFiles that are not JSON, too large, or whose evaluation failed; unchanged, with transformjson.failure.reason',
  },
  writesAttributes: {
    'mime.type': 'application/json after a transformation',
    'transformjson.failure.reason': 'Why the FlowFile went to failure',
  },
  supportsBatching: true,
  onScheduled(context) {
    const source = context.getProperty('expression').asString() ?? '';
    return {
      expression: jsonata(source, {
        timeout: context.getProperty('timeLimit').asTimePeriod() ?? 1000,
        stack: MAX_DEPTH,
      }),
    };
  },
  async onTrigger(session, context, scheduled) {
    const maxInput = context.getProperty('maxInputSize').asDataSize() ?? 10 * 1024 * 1024;
    const whenUndefined = context.getProperty('whenUndefined').asString() ?? 'null';
    const indent = context.getProperty('prettyPrint').asBoolean() === true ? 2 : undefined;
    for (let flowFile of session.getBatch(BATCH)) {
      const input = parseContent(session, flowFile, maxInput);
      if ('error' in input) {
        fail(session, flowFile, input.error);
        continue;
      }
      let result: unknown;
      try {
        result = await scheduled.expression.evaluate(input.document, { attributes: attributesObject(flowFile) });
      } catch (e) {
        fail(session, flowFile, `the JSONata expression failed: ${jsonataMessage(e)}`);
        continue;
      }
      let output: string;
      if (result === undefined) {
        if (whenUndefined === 'failure') {
          fail(session, flowFile, 'the JSONata expression matched nothing (its result is undefined)');
          continue;
        }
        output = whenUndefined === 'empty' ? '' : 'null';
      } else {
        const text = JSON.stringify(result, undefined, indent);
        if (typeof text !== 'string') {
          fail(session, flowFile, `the JSONata expression returned a ${typeof result}, which is not JSON`);
          continue;
        }
        output = text;
      }
      flowFile = session.write(flowFile, output);
      flowFile = session.putAttribute(flowFile, CoreAttributes.MIME_TYPE, 'application/json');
      session.transfer(flowFile, 'success');
    }
  },
});

function fail(session: ProcessSession, flowFile: FlowFile, reason: string): void {
  session.transfer(session.putAttribute(flowFile, 'transformjson.failure.reason', reason), 'failure');
}

/** Why a JSONata expression does not compile, or undefined when it does. */
function compileProblem(source: string): string | undefined {
  try {
    jsonata(source);
    return undefined;
  } catch (e) {
    return `not a valid JSONata expression: ${jsonataMessage(e)}`;
  }
}

/** JSONata throws plain objects with code, message and position; Errors are possible too. */
function jsonataMessage(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const message = 'message' in e && typeof e.message === 'string' ? e.message : String(e);
    const code = 'code' in e && typeof e.code === 'string' ? `${e.code}: ` : '';
    const position = 'position' in e && typeof e.position === 'number' ? ` (at character ${e.position})` : '';
    return `${code}${message}${position}`;
  }
  return String(e);
}

/** The FlowFile's attributes as a prototype-less object (no `__proto__` trap reaches the expression). */
function attributesObject(flowFile: FlowFile): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of flowFile.attributes) if (!FORBIDDEN_ATTRIBUTE_KEYS.has(key)) out[key] = value;
  return out;
}

/** The content parsed as JSON (UTF-8, an optional BOM), or why it cannot be. */
function parseContent(session: ProcessSession, flowFile: FlowFile, maxBytes: number): { document: unknown } | { error: string } {
  let bytes: Buffer;
  try {
    bytes = session.read(flowFile, { maxBytes });
  } catch (e) {
    if (e instanceof ContentTooLargeError) {
      return {
        error: `the content (${formatDataSize(e.size)}) is larger than Maximum Input Size (${formatDataSize(maxBytes)})`,
      };
    }
    return { error: `could not read the content: ${e instanceof Error ? e.message : String(e)}` };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return { error: 'the content is not valid UTF-8' };
  }
  try {
    return { document: JSON.parse(text) };
  } catch (e) {
    return { error: `the content is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}
