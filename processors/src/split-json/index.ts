import { randomUUID } from 'node:crypto';
import {
  ContentTooLargeError,
  CoreAttributes,
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  formatDataSize,
  jsonPath,
  type ProcessSession,
} from '@sluice/api';

const BATCH = 10;

/** Splits a JSON array into one FlowFile per element (NiFi's SplitJson). */
export const SplitJson = defineProcessor({
  type: 'SplitJson',
  description:
    'Splits the JSON array that a JSONPath expression selects into one FlowFile per element. Objects and arrays are written as JSON, strings as their text, numbers and booleans as their literal, null as the Null Value Representation (as NiFi). With a path that can match several values (wildcards, filters, recursion) each match is one split. The original goes to original; content that is not JSON, or a path that selects no array, sends it to failure.',
  tags: ['json', 'split', 'jsonpath', 'array'],
  input: 'required',
  properties: {
    path: jsonPath({
      displayName: 'JsonPath Expression',
      description: 'Selects the array to split, e.g. $.items or $[*] (the whole document when it is an array: $).',
      required: true,
    }),
    nullValue: choice(
      [
        { value: 'empty string', displayName: 'empty string' },
        { value: 'the string null', displayName: 'the string "null"' },
      ],
      {
        displayName: 'Null Value Representation',
        description: 'Content of the split made from a null element.',
        default: 'empty string',
        required: true,
      },
    ),
    maxInputSize: dataSize({
      displayName: 'Maximum Input Size',
      description: 'Larger content goes to failure without being parsed (the document is parsed in memory).',
      default: '64 MB',
      min: 1,
      max: 512 * 1024 * 1024,
      required: true,
    }),
  },
  relationships: {
    original: 'The input FlowFile, once split (with fragment.count)',
    split: 'One FlowFile per element',
    failure: 'Content that is not JSON, or whose path selects no array; splitjson.failure.reason says why',
  },
  writesAttributes: {
    'fragment.identifier': 'The same random id on every split of one input (and on the original)',
    'fragment.index': "The split's position in the array, from 0",
    'fragment.count': 'How many splits the input made',
    'segment.original.filename': 'The filename of the input',
    'splitjson.failure.reason': 'Why the FlowFile went to failure',
  },
  supportsBatching: true,
  onTrigger(session, context) {
    const maxInput = context.getProperty('maxInputSize').asDataSize() ?? 64 * 1024 * 1024;
    const nullText = context.getProperty('nullValue').asString() === 'the string null' ? 'null' : '';
    const query = context.getProperty('path').asJsonPath();
    if (query === undefined) throw new Error('JsonPath Expression is not set');
    for (const flowFile of session.getBatch(BATCH)) {
      const parsed = parseContent(session, flowFile, maxInput);
      if ('error' in parsed) {
        fail(session, flowFile, parsed.error);
        continue;
      }
      let matches: unknown[];
      try {
        matches = query.evaluate(parsed.document);
      } catch (e) {
        fail(session, flowFile, `could not evaluate ${query.source}: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      let elements: readonly unknown[];
      if (!query.definite) elements = matches;
      else if (matches.length === 0) {
        fail(session, flowFile, `${query.source} matches nothing in the document`);
        continue;
      } else if (Array.isArray(matches[0])) elements = matches[0];
      else {
        fail(session, flowFile, `${query.source} selects ${describe(matches[0])}, not an array`);
        continue;
      }
      const identifier = randomUUID();
      const count = String(elements.length);
      const common = {
        'fragment.identifier': identifier,
        'fragment.count': count,
        'segment.original.filename': flowFile.getAttribute(CoreAttributes.FILENAME) ?? flowFile.uuid,
      };
      for (const [index, element] of elements.entries()) {
        let child = session.create(flowFile);
        child = session.write(child, represent(element, nullText));
        child = session.putAllAttributes(child, { ...common, 'fragment.index': String(index) });
        session.transfer(child, 'split');
      }
      session.transfer(
        session.putAllAttributes(flowFile, { 'fragment.identifier': identifier, 'fragment.count': count }),
        'original',
      );
    }
  },
});

function fail(session: ProcessSession, flowFile: FlowFile, reason: string): void {
  session.transfer(session.putAttribute(flowFile, 'splitjson.failure.reason', reason), 'failure');
}

/** NiFi's representation of one element: JSON for objects and arrays, the text of scalars. */
function represent(value: unknown, nullText: string): string {
  if (value === null || value === undefined) return nullText;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

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
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: 'the content is not valid UTF-8' };
  }
  try {
    return { document: JSON.parse(text) };
  } catch (e) {
    return { error: `the content is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}
