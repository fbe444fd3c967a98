import { boolean, CoreAttributes, choice, defineProcessor, type FlowFile, PropertyValueError, regex, string } from '@sluice/api';

const BATCH = 1000;
const JSON_ATTRIBUTE = 'JSONAttributes';
const CORE = new Set<string>(Object.values(CoreAttributes));

/** Writes FlowFile attributes as a JSON object into an attribute or the content (NiFi's AttributesToJSON). */
export const AttributesToJSON = defineProcessor({
  type: 'AttributesToJSON',
  description:
    'Builds a flat JSON object of FlowFile attributes (attribute name -> string value) and puts it into the JSONAttributes attribute or replaces the content with it. Which attributes: those in Attributes List and those whose whole name matches Attributes Regular Expression; all attributes when both are empty. Listed attributes the FlowFile does not have appear as "" (or null). With "nested", attribute values that hold a JSON object or array are embedded as JSON instead of as a string. A FlowFile for which the list or the regular expression cannot be evaluated goes back to the queue, unchanged and penalized, with an error bulletin.',
  tags: ['json', 'attributes', 'flowfile'],
  input: 'required',
  properties: {
    attributesList: string({
      displayName: 'Attributes List',
      description:
        'Comma-separated attribute names to include (surrounding spaces ignored), in this order. Listed attributes are included even when they are core attributes.',
      expression: 'flowfile',
    }),
    attributesRegex: regex({
      displayName: 'Attributes Regular Expression',
      description: 'Also include attributes whose whole name matches this regular expression.',
      expression: 'flowfile',
    }),
    destination: choice(
      [
        { value: 'flowfile-attribute', displayName: 'flowfile-attribute', description: 'Into the JSONAttributes attribute.' },
        {
          value: 'flowfile-content',
          displayName: 'flowfile-content',
          description: 'Replaces the content (mime.type becomes application/json).',
        },
      ],
      { displayName: 'Destination', description: 'Where the JSON goes.', default: 'flowfile-attribute', required: true },
    ),
    includeCoreAttributes: boolean({
      displayName: 'Include Core Attributes',
      description:
        'Include uuid, filename, path, absolute.path, mime.type, priority, discard.reason and alternate.identifier when they are selected by the regex or by "all attributes".',
      default: 'true',
    }),
    nullValue: boolean({
      displayName: 'Null Value',
      description: 'Listed attributes the FlowFile does not have become JSON null (true) or "" (false).',
      default: 'false',
    }),
    jsonHandling: choice(
      [
        { value: 'escaped', displayName: 'Escaped', description: 'Every value is a JSON string.' },
        {
          value: 'nested',
          displayName: 'Nested',
          description: 'A value that is a JSON object or array is embedded as JSON; other values are strings.',
        },
      ],
      {
        displayName: 'JSON Handling Strategy',
        description: 'How attribute values that themselves hold JSON are written.',
        default: 'escaped',
        required: true,
      },
    ),
    prettyPrint: boolean({
      displayName: 'Pretty Print',
      description: 'Indent the JSON (content destination only).',
      default: 'false',
      dependsOn: { property: 'destination', values: ['flowfile-content'] },
    }),
  },
  relationships: { success: 'Every FlowFile, with its attributes as JSON' },
  writesAttributes: {
    JSONAttributes: 'The JSON object (attribute destination)',
    'mime.type': 'application/json (content destination)',
  },
  supportsBatching: true,
  onTrigger(session, context) {
    const toContent = context.getProperty('destination').asString() === 'flowfile-content';
    const includeCore = context.getProperty('includeCoreAttributes').asBoolean() !== false;
    const useNull = context.getProperty('nullValue').asBoolean() === true;
    const nested = context.getProperty('jsonHandling').asString() === 'nested';
    const pretty = toContent && context.getProperty('prettyPrint').asBoolean() === true;
    const listProperty = context.getProperty('attributesList');
    const regexProperty = context.getProperty('attributesRegex');
    let failed = 0;
    let firstError = '';
    for (let flowFile of session.getBatch(BATCH)) {
      let names: string[];
      let pattern: RegExp | undefined;
      try {
        names = (listProperty.evaluate(flowFile) ?? '')
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== '');
        pattern = wholeName(regexProperty.asRegExp(flowFile));
      } catch (e) {
        if (!(e instanceof PropertyValueError)) throw e;
        // Which attributes to write cannot be known: the FlowFile waits, unchanged and penalized.
        if (failed++ === 0) firstError = `FlowFile ${flowFile.uuid}: ${e.message}`;
        session.transfer(session.penalize(flowFile));
        continue;
      }
      const json = render(selected(flowFile, names, pattern, includeCore, useNull), nested, pretty);
      if (toContent) {
        flowFile = session.write(flowFile, json);
        flowFile = session.putAttribute(flowFile, CoreAttributes.MIME_TYPE, 'application/json');
      } else {
        flowFile = session.putAttribute(flowFile, JSON_ATTRIBUTE, json);
      }
      session.transfer(flowFile, 'success');
    }
    if (failed > 0) {
      context.logger.error(
        `could not evaluate which attributes to write for ${failed} FlowFile(s); they went back to the queue, penalized. First: ${firstError}`,
      );
    }
  },
});

/** The attributes to write, in order: listed ones first, then regex matches (or all, when neither is given). */
function selected(
  flowFile: FlowFile,
  names: readonly string[],
  pattern: RegExp | undefined,
  includeCore: boolean,
  useNull: boolean,
): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const name of names) out.set(name, flowFile.attributes.get(name) ?? (useNull ? null : ''));
  if (names.length > 0 && pattern === undefined) return out;
  for (const [name, value] of flowFile.attributes) {
    if (out.has(name) || (!includeCore && CORE.has(name))) continue;
    if (pattern === undefined || pattern.test(name)) out.set(name, value);
  }
  return out;
}

/**
 * Serializes without ever using attribute names as keys of a plain object with a prototype
 * (`__proto__` would be swallowed): keys are defined on a null-prototype object.
 */
function render(values: ReadonlyMap<string, string | null>, nested: boolean, pretty: boolean): string {
  const object: Record<string, unknown> = Object.create(null);
  for (const [name, value] of values) {
    Object.defineProperty(object, name, {
      value: nested && value !== null ? embedded(value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return JSON.stringify(object, null, pretty ? 2 : undefined);
}

/** A value that parses as a JSON object or array is embedded; anything else stays a string. */
function embedded(value: string): unknown {
  const first = value.trimStart()[0];
  if (first !== '{' && first !== '[') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? parsed : value;
  } catch {
    return value;
  }
}

/** NiFi matches the whole attribute name; an empty pattern selects nothing by regex. */
function wholeName(pattern: RegExp | undefined): RegExp | undefined {
  if (pattern === undefined || pattern.source === '(?:)') return undefined;
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace('g', ''));
}
