import {
  boolean,
  choice,
  defineProcessor,
  type FlowFile,
  type ProcessContext,
  type ProcessSession,
  PropertyValueError,
  regex,
  usesExpression,
} from '@sluice/api';
import { Channel } from './channel.ts';

const RESERVED = new Set(['original', 'unmatched', 'matched', 'failure']);
const ROUTE_ATTRIBUTE = 'RouteText.Route';
const GROUP_ATTRIBUTE = 'RouteText.Group';
const FAILURE_ATTRIBUTE = 'routetext.failure.reason';
const NEWLINE = 0x0a;

const MATCHING = [
  'starts-with',
  'ends-with',
  'contains',
  'equals',
  'matches-regex',
  'contains-regex',
  'satisfies-expression',
] as const;
type Matching = (typeof MATCHING)[number];

/** A line as rules see it. */
type LineTest = (text: string, lineNo: number) => boolean;

/** Why a FlowFile cannot be routed (it goes to failure with this reason). */
class RoutingFailure extends Error {}

/** Routes each line of text content to relationships by rules (NiFi's RouteText). */
export const RouteText = defineProcessor({
  type: 'RouteText',
  description:
    'Routes the lines of text content: each user-added property is a rule, and every line is tested against the rules with the Matching Strategy. Lines are copied into new FlowFiles, one per relationship (and per group, with a Grouping Regular Expression), keeping their order and line endings; the input goes to original. The content is streamed line by line (each line is held in memory on its own). Bytes that are not valid in the character set are read as U+FFFD for matching and copied unchanged. With "satisfies expression" the rule is evaluated per line, where ${line} is the line and ${lineNo} its number (from 1). A rule that cannot be evaluated (an Expression Language error, a computed regular expression that does not compile, a rule that gives neither true nor false) sends the input to failure with the reason in routetext.failure.reason, and no line FlowFiles.',
  tags: ['attributes', 'routing', 'text', 'regexp', 'regex', 'filter', 'search', 'detect', 'lines'],
  input: 'required',
  properties: {
    routingStrategy: choice(
      [
        {
          value: 'route-to-property',
          displayName: 'Route to each matching Property Name',
          description: 'A relationship per rule; a line goes to every rule it matches, or to unmatched.',
        },
        {
          value: 'match-all',
          displayName: "Route to 'matched' if line matches all conditions",
          description: 'A line goes to matched when every rule matches it, else to unmatched.',
        },
        {
          value: 'match-any',
          displayName: "Route to 'matched' if line matches any condition",
          description: 'A line goes to matched when at least one rule matches it, else to unmatched.',
        },
      ],
      {
        displayName: 'Routing Strategy',
        description: 'How rules decide where a line goes.',
        default: 'route-to-property',
        required: true,
      },
    ),
    matchingStrategy: choice(
      [
        { value: 'starts-with', displayName: 'Starts With', description: "The line starts with the rule's text." },
        { value: 'ends-with', displayName: 'Ends With', description: "The line ends with the rule's text." },
        { value: 'contains', displayName: 'Contains', description: "The line contains the rule's text." },
        { value: 'equals', displayName: 'Equals', description: "The line is the rule's text." },
        {
          value: 'matches-regex',
          displayName: 'Matches Regular Expression',
          description: "The whole line matches the rule's regex.",
        },
        {
          value: 'contains-regex',
          displayName: 'Contains Regular Expression',
          description: "Part of the line matches the rule's regex.",
        },
        {
          value: 'satisfies-expression',
          displayName: 'Satisfies Expression',
          description: 'The rule is a boolean expression evaluated per line, with ${line} and ${lineNo}.',
        },
      ],
      { displayName: 'Matching Strategy', description: 'How a rule tests a line.', required: true },
    ),
    characterSet: choice(['UTF-8', 'ISO-8859-1', 'US-ASCII'], {
      displayName: 'Character Set',
      description: 'Encoding of the content (encodings where a line break is the byte 0x0A).',
      default: 'UTF-8',
      required: true,
    }),
    ignoreWhitespace: boolean({
      displayName: 'Ignore Leading/Trailing Whitespace',
      description: 'Test lines without leading and trailing whitespace (the output keeps the line as it was).',
      default: 'true',
    }),
    ignoreCase: boolean({
      displayName: 'Ignore Case',
      description: 'Compare text and regular expressions case-insensitively (not used by "satisfies expression").',
      default: 'false',
    }),
    groupingRegex: regex({
      displayName: 'Grouping Regular Expression',
      description:
        'Lines of one relationship are split into one FlowFile per group: the values of this expression\'s capture groups (joined with ", "), matched against the whole (tested) line, go into RouteText.Group. Lines it does not match form the group with no RouteText.Group.',
    }),
  },
  dynamicProperties: {
    description:
      'A rule for the Matching Strategy (text, a regular expression, or a boolean expression with ${line} and ${lineNo}); Expression Language over the FlowFile\'s attributes allowed. With "Route to each matching Property Name" each rule is a relationship.',
    expression: 'flowfile',
    createsRelationship: { dependsOn: { property: 'routingStrategy', values: ['route-to-property'] } },
    validate: (name) =>
      RESERVED.has(name) ? `"${name}" is the name of a RouteText relationship; give the rule another name` : undefined,
  },
  relationships: {
    original: 'The input FlowFile, once its lines are routed',
    unmatched: 'A FlowFile of the lines that match no rule (or not all, with "matches all")',
    matched: {
      description: 'A FlowFile of the lines that match the rules',
      dependsOn: { property: 'routingStrategy', values: ['match-all', 'match-any'] },
    },
    failure: 'The input, when a rule cannot be evaluated; routetext.failure.reason says why',
  },
  writesAttributes: {
    [ROUTE_ATTRIBUTE]: 'The relationship of the line FlowFile',
    [GROUP_ATTRIBUTE]: 'The group of the lines, with a Grouping Regular Expression',
    [FAILURE_ATTRIBUTE]: 'Why the input went to failure',
  },
  validate(context) {
    if (context.dynamicProperties.size === 0)
      return ['add at least one rule (a property whose value is what lines are tested against)'];
    const matching = context.getProperty('matchingStrategy').asString();
    if (matching !== 'matches-regex' && matching !== 'contains-regex') return [];
    const problems: string[] = [];
    for (const [name, value] of context.dynamicProperties) {
      if (usesExpression(value.raw ?? '')) continue; // computed per FlowFile, checked then
      try {
        new RegExp(value.evaluate() ?? '');
      } catch (e) {
        problems.push(`property "${name}": not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return problems;
  },
  async onTrigger(session, context) {
    const flowFile = session.get();
    if (flowFile === undefined) return;
    try {
      await routeLines(session, context, flowFile);
    } catch (e) {
      if (!(e instanceof RoutingFailure || e instanceof PropertyValueError)) throw e;
      context.logger.warn(`FlowFile ${flowFile.uuid} went to failure: ${e.message}`);
      session.transfer(session.putAttribute(flowFile, FAILURE_ATTRIBUTE, e.message), 'failure');
    }
  },
});

/** One output FlowFile in the making: where its lines go, and its pending writeStream. */
interface Output {
  readonly relationship: string;
  readonly group: string | undefined;
  readonly channel: Channel;
  /** The version created in the session (still current if the write fails). */
  readonly created: FlowFile;
  readonly written: Promise<FlowFile>;
  /** Lines of the chunk being read (views into it), pushed to the channel once the chunk is done. */
  lines: Uint8Array[];
}

/**
 * Streams the content line by line into one output per (relationship, group), then routes the
 * outputs and the original. On a rule failure every output is abandoned and removed.
 * @throws {RoutingFailure | PropertyValueError} when a rule cannot be evaluated.
 */
async function routeLines(session: ProcessSession, context: ProcessContext, original: FlowFile): Promise<void> {
  const strategy = context.getProperty('routingStrategy').asString() ?? 'route-to-property';
  const decoder = new TextDecoder(context.getProperty('characterSet').asString() ?? 'UTF-8');
  const trim = context.getProperty('ignoreWhitespace').asBoolean() !== false;
  const groupPattern = context.getProperty('groupingRegex').asRegExp();
  const grouping =
    groupPattern === undefined || groupPattern.source === '(?:)' ? undefined : new RegExp(`^(?:${groupPattern.source})$`);
  const rules = compileRules(context, original);

  const outputs = new Map<string, Output>();
  const outputFor = (relationship: string, group: string | undefined): Output => {
    const key = `${relationship}\u0000${group ?? '\u0001'}`;
    let output = outputs.get(key);
    if (output === undefined) {
      const channel = new Channel();
      const created = session.create(original);
      output = { relationship, group, channel, created, lines: [], written: session.writeStream(created, channel) };
      // Rejections are collected below; this keeps an early one from going unhandled meanwhile.
      output.written.catch(() => undefined);
      outputs.set(key, output);
    }
    return output;
  };

  let lineNo = 0;
  const handle = (bytes: Uint8Array): void => {
    lineNo++;
    let text = decoder.decode(bytes);
    if (text.endsWith('\n')) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
    if (trim) text = text.trim();
    const group = grouping === undefined ? undefined : groupOf(grouping, text);
    for (const relationship of destinations(strategy, rules, text, lineNo)) outputFor(relationship, group).lines.push(bytes);
  };
  /** Hands each output the lines of the chunk just read, in one piece. */
  const flush = (): void => {
    for (const output of outputs.values()) {
      if (output.lines.length === 0) continue;
      output.channel.push(output.lines.length === 1 ? Buffer.from(output.lines[0] ?? []) : Buffer.concat(output.lines));
      output.lines = [];
    }
  };

  let failure: unknown;
  try {
    let pending: Buffer | undefined;
    for await (const chunk of session.readStream(original)) {
      const bytes: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      let start = 0;
      for (let end = bytes.indexOf(NEWLINE, start); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
        const piece = bytes.subarray(start, end + 1);
        handle(pending === undefined ? piece : Buffer.concat([pending, piece]));
        pending = undefined;
        start = end + 1;
      }
      if (start < bytes.length) {
        const rest = bytes.subarray(start);
        pending = pending === undefined ? Buffer.from(rest) : Buffer.concat([pending, rest]);
      }
      flush();
      // Let the writers catch up before reading on: memory stays bounded whatever the content size.
      for (const output of outputs.values()) if (output.channel.buffered > 0) await output.channel.drained();
    }
    if (pending !== undefined) handle(pending);
    flush();
  } catch (e) {
    failure = e;
  }
  for (const output of outputs.values()) {
    if (failure === undefined) output.channel.close();
    else output.channel.fail(failure);
  }
  const results = await Promise.allSettled([...outputs.values()].map((o) => o.written));
  const routed = new Map<Output, FlowFile>();
  let writeError: unknown;
  [...outputs.values()].forEach((output, i) => {
    const result = results[i];
    if (result?.status === 'fulfilled') routed.set(output, result.value);
    else writeError ??= result?.reason;
  });
  if (failure !== undefined || writeError !== undefined) {
    // Nothing of a half-routed input may leave: every output goes, written or not.
    for (const output of outputs.values()) session.remove(routed.get(output) ?? output.created);
    throw failure ?? writeError;
  }
  for (const [output, flowFile] of routed) {
    const attributes: Record<string, string> = { [ROUTE_ATTRIBUTE]: output.relationship };
    if (output.group !== undefined) attributes[GROUP_ATTRIBUTE] = output.group;
    session.transfer(session.putAllAttributes(flowFile, attributes), output.relationship);
  }
  session.transfer(original, 'original');
}

/** The relationships a line goes to. */
function* destinations(
  strategy: string,
  rules: ReadonlyArray<readonly [string, LineTest]>,
  text: string,
  lineNo: number,
): Generator<string> {
  if (strategy === 'route-to-property') {
    let any = false;
    for (const [name, test] of rules) {
      if (test(text, lineNo)) {
        any = true;
        yield name;
      }
    }
    if (!any) yield 'unmatched';
    return;
  }
  const all = strategy === 'match-all';
  let result = all;
  for (const [, test] of rules) {
    const matched = test(text, lineNo);
    if (all && !matched) {
      result = false;
      break;
    }
    if (!all && matched) {
      result = true;
      break;
    }
  }
  yield result ? 'matched' : 'unmatched';
}

/** The group of a line: its capture groups joined with ", " (undefined when the expression does not match). */
function groupOf(pattern: RegExp, text: string): string | undefined {
  const match = pattern.exec(text);
  if (match === null) return undefined;
  return match.length > 1
    ? match
        .slice(1)
        .map((g) => g ?? '')
        .join(', ')
    : match[0];
}

/**
 * Turns each rule into a line test for this FlowFile: text and regular expressions are evaluated
 * once against its attributes; "satisfies expression" rules per line with ${line} and ${lineNo}.
 * @throws {PropertyValueError | RoutingFailure} when a rule cannot be built for this FlowFile.
 */
function compileRules(context: ProcessContext, flowFile: FlowFile): Array<[string, LineTest]> {
  const configured = context.getProperty('matchingStrategy').asString();
  const matching: Matching = MATCHING.find((m) => m === configured) ?? 'equals';
  const ignoreCase = context.getProperty('ignoreCase').asBoolean() === true;
  const fold = (s: string): string => (ignoreCase ? s.toLowerCase() : s);
  const out: Array<[string, LineTest]> = [];
  for (const [name, rule] of context.dynamicProperties) {
    if (matching === 'satisfies-expression') {
      const variables = new LineVariables(flowFile);
      out.push([
        name,
        (text, lineNo) => {
          const value = rule.evaluate(variables.at(text, lineNo));
          if (value === 'true') return true;
          if (value === 'false' || value === '' || value === undefined) return false;
          throw new RoutingFailure(`rule "${name}" gave "${value}" for line ${lineNo}, not true or false`);
        },
      ]);
      continue;
    }
    const term = rule.evaluate(flowFile) ?? '';
    if (matching === 'matches-regex' || matching === 'contains-regex') {
      let pattern: RegExp;
      try {
        pattern = new RegExp(matching === 'matches-regex' ? `^(?:${term})$` : term, ignoreCase ? 'i' : '');
      } catch (e) {
        throw new RoutingFailure(
          `rule "${name}": "${term}" is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      out.push([name, (text) => pattern.test(text)]);
      continue;
    }
    const folded = fold(term);
    const test: LineTest =
      matching === 'starts-with'
        ? (text) => fold(text).startsWith(folded)
        : matching === 'ends-with'
          ? (text) => fold(text).endsWith(folded)
          : matching === 'contains'
            ? (text) => fold(text).includes(folded)
            : (text) => fold(text) === folded;
    out.push([name, test]);
  }
  return out;
}

/**
 * The FlowFile as a "satisfies expression" rule sees it: its attributes plus `line` and `lineNo`,
 * which take precedence over attributes of the same name (as NiFi's additional variables do).
 */
class LineVariables implements FlowFile {
  readonly uuid: string;
  readonly size: number;
  readonly entryDate: number;
  readonly lineageStartDate: number;
  readonly penaltyExpiration: number;
  readonly attributes: Map<string, string>;

  constructor(flowFile: FlowFile) {
    this.uuid = flowFile.uuid;
    this.size = flowFile.size;
    this.entryDate = flowFile.entryDate;
    this.lineageStartDate = flowFile.lineageStartDate;
    this.penaltyExpiration = flowFile.penaltyExpiration;
    this.attributes = new Map(flowFile.attributes);
  }

  at(line: string, lineNo: number): this {
    this.attributes.set('line', line);
    this.attributes.set('lineNo', String(lineNo));
    return this;
  }

  getAttribute(name: string): string | undefined {
    return this.attributes.get(name);
  }
}
