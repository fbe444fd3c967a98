import {
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  formatDataSize,
  type ProcessContext,
  type ProcessSession,
  PropertyValueError,
  string,
} from '@sluice/api';
import { CHARSETS, type Charset, charset, type Line, LineSplitter, TextError } from './text.ts';

const BATCH_COUNT = 50;
/** Inputs taken per trigger stop once this many bytes are taken (the first is always taken). */
const BATCH_BYTES = 4 * 1024 * 1024;
/** Output is encoded and handed to the content repository in pieces of about this many characters. */
const OUTPUT_CHUNK = 64 * 1024;

const STRATEGIES = [
  { value: 'Regex Replace', description: 'Replace every match of the Search Value regular expression; $1, $2... insert groups.' },
  { value: 'Literal Replace', description: 'Replace every occurrence of the Search Value text, taken literally.' },
  { value: 'Prepend', description: 'Insert the Replacement Value at the start of the content (or of each line).' },
  {
    value: 'Append',
    description: 'Add the Replacement Value at the end of the content (or of each line, before its terminator).',
  },
  { value: 'Surround', description: 'Insert Text to Prepend before and Text to Append after the content (or each line).' },
  { value: 'Always Replace', description: 'Replace the whole content (or each line) with the Replacement Value.' },
  {
    value: 'Substitute Variables',
    description: 'Replace ${name} references in the content with the value of that attribute (unknown names are left).',
  },
];

const LINE_MODES = ['All', 'First-Line', 'Last-Line', 'Except-First-Line', 'Except-Last-Line'];

/** Replaces text in content with regular expressions, literals and Expression Language (NiFi's ReplaceText). */
export const ReplaceText = defineProcessor({
  type: 'ReplaceText',
  description:
    'Updates text content: regular-expression or literal replacement, prepending, appending, surrounding, replacing outright, or substituting ${attribute} references, with Expression Language in the values. Line-by-Line mode (the default) streams the content one line at a time (\\n, \\r\\n or \\r), keeping each terminator, so content of any size is processed in bounded memory; Entire text mode holds the content in memory and refuses content larger than Maximum Buffer Size. Content that is not valid in the character set goes to failure. Regular expressions use JavaScript syntax; leading Java-style flags such as (?s) or (?i) are understood. A pathological regular expression can backtrack for a long time on hostile input: prefer simple patterns.',
  tags: ['text', 'regex', 'replace', 'update', 'modify', 'content', 'prepend', 'append'],
  input: 'required',
  properties: {
    strategy: choice(
      STRATEGIES.map((s) => ({ value: s.value, displayName: s.value, description: s.description })),
      { displayName: 'Replacement Strategy', description: 'How the text is changed.', default: 'Regex Replace', required: true },
    ),
    searchValue: string({
      displayName: 'Search Value',
      description:
        'Regex Replace: the regular expression to match (leading (?s), (?i), (?m) flags allowed). Literal Replace: the text to find. Expression Language is evaluated per FlowFile.',
      default: '(?s)(^.*$)',
      required: true,
      expression: 'flowfile',
      dependsOn: { property: 'strategy', values: ['Regex Replace', 'Literal Replace'] },
    }),
    replacementValue: string({
      displayName: 'Replacement Value',
      description:
        'The text to insert, with Expression Language per FlowFile. In Regex Replace, $1, $2... (and $& or $0) insert what the groups matched, $$ a dollar sign; dollar signs coming from attribute values are taken literally.',
      default: '$1',
      expression: 'flowfile',
      dependsOn: {
        property: 'strategy',
        values: ['Regex Replace', 'Literal Replace', 'Prepend', 'Append', 'Always Replace'],
      },
    }),
    prependText: string({
      displayName: 'Text to Prepend',
      description: 'Surround: the text inserted before (Expression Language per FlowFile).',
      expression: 'flowfile',
      dependsOn: { property: 'strategy', values: ['Surround'] },
    }),
    appendText: string({
      displayName: 'Text to Append',
      description: 'Surround: the text added after (Expression Language per FlowFile).',
      expression: 'flowfile',
      dependsOn: { property: 'strategy', values: ['Surround'] },
    }),
    characterSet: choice(CHARSETS, {
      displayName: 'Character Set',
      description: 'How the content is decoded and the result encoded.',
      default: 'UTF-8',
      required: true,
    }),
    maxBufferSize: dataSize({
      displayName: 'Maximum Buffer Size',
      description:
        'Entire text: larger content goes to failure. Line-by-Line: the longest line allowed (a longer one sends the FlowFile to failure).',
      default: '1 MB',
      min: 1,
      max: 512 * 1024 * 1024,
      required: true,
    }),
    evaluationMode: choice(
      [
        { value: 'Line-by-Line', displayName: 'Line-by-Line', description: 'Each line separately, streamed.' },
        { value: 'Entire text', displayName: 'Entire text', description: 'The whole content at once, in memory.' },
      ],
      {
        displayName: 'Evaluation Mode',
        description: 'Whether the strategy applies to each line or to the whole content.',
        default: 'Line-by-Line',
        required: true,
      },
    ),
    lineMode: choice(LINE_MODES, {
      displayName: 'Line-by-Line Evaluation Mode',
      description: 'Which lines the strategy applies to; the others pass unchanged.',
      default: 'All',
      required: true,
      dependsOn: { property: 'evaluationMode', values: ['Line-by-Line'] },
    }),
  },
  relationships: {
    success: 'FlowFiles whose content was updated',
    failure:
      'FlowFiles that could not be processed (too large for Entire text, a line too long, invalid text in the character set, a bad expression); unchanged, with replacetext.failure.reason',
  },
  writesAttributes: { 'replacetext.failure.reason': 'Why the FlowFile went to failure' },
  supportsBatching: true,
  validate(context) {
    const strategy = context.getProperty('strategy').raw ?? 'Regex Replace';
    const search = context.getProperty('searchValue').raw ?? '(?s)(^.*$)';
    if (strategy === 'Regex Replace' && !/\$\{/.test(search)) {
      try {
        compileSearch(search);
      } catch (e) {
        return [`Search Value: ${e instanceof Error ? e.message : String(e)}`];
      }
    }
    if (strategy === 'Literal Replace' && search === '') return ['Search Value must not be empty for Literal Replace'];
    return [];
  },
  onScheduled() {
    // Compiled search expressions by their (evaluated) source: per-FlowFile expressions repeat.
    return { patterns: new Map<string, RegExp>() };
  },
  async onTrigger(session, context, scheduled) {
    const settings = readSettings(context);
    let taken = 0;
    const inputs = session.getBatch(BATCH_COUNT, (f) => {
      const accept = taken === 0 || taken + f.size <= BATCH_BYTES;
      taken += f.size;
      return { accept, continue: accept && taken < BATCH_BYTES };
    });
    for (let flowFile of inputs) {
      try {
        const transform = lineTransform(context, settings, flowFile, scheduled.patterns);
        flowFile = settings.entireText
          ? replaceEntire(session, flowFile, settings, transform)
          : await session.writeStream(flowFile, replaceLines(session, flowFile, settings, transform));
      } catch (e) {
        if (!(e instanceof TextError || e instanceof PropertyValueError)) throw e;
        const reason = e.message;
        context.logger.warn(`FlowFile ${flowFile.uuid}: ${reason}`);
        session.transfer(session.putAttribute(flowFile, 'replacetext.failure.reason', reason), 'failure');
        continue;
      }
      session.transfer(flowFile, 'success');
    }
  },
});

interface Settings {
  readonly strategy: string;
  readonly charset: Charset;
  readonly maxBuffer: number;
  readonly entireText: boolean;
  readonly lineMode: string;
}

function readSettings(context: ProcessContext): Settings {
  const maxBuffer = context.getProperty('maxBufferSize').asDataSize() ?? 1024 * 1024;
  return {
    strategy: context.getProperty('strategy').asString() ?? 'Regex Replace',
    charset: charset(context.getProperty('characterSet').asString() ?? 'UTF-8'),
    maxBuffer,
    entireText: context.getProperty('evaluationMode').asString() === 'Entire text',
    lineMode: context.getProperty('lineMode').asString() ?? 'All',
  };
}

/** What the strategy does to one piece of text (a line without its terminator, or the whole content). */
type Transform = (text: string) => string;

function lineTransform(
  context: ProcessContext,
  settings: Settings,
  flowFile: FlowFile,
  patterns: Map<string, RegExp>,
): Transform {
  const value = (name: string, view: FlowFile = flowFile): string => context.getProperty(name).evaluate(view) ?? '';
  switch (settings.strategy) {
    case 'Regex Replace': {
      const source = value('searchValue');
      let pattern = patterns.get(source);
      if (pattern === undefined) {
        try {
          pattern = compileSearch(source);
        } catch (e) {
          throw new TextError(
            `Search Value evaluated to ${JSON.stringify(source)}: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
        if (patterns.size > 1000) patterns.clear();
        patterns.set(source, pattern);
      }
      const regex = pattern;
      // Attribute values go in escaped so that a "$1" inside one is text, not a back-reference.
      const replacement = javaBackReferences(value('replacementValue', dollarSafe(flowFile)));
      return (text) => text.replace(regex, replacement);
    }
    case 'Literal Replace': {
      const search = value('searchValue');
      const replacement = value('replacementValue');
      if (search === '') throw new TextError('Search Value evaluated to an empty string; Literal Replace needs text to find');
      return (text) => text.replaceAll(search, () => replacement);
    }
    case 'Prepend': {
      const prefix = value('replacementValue');
      return (text) => prefix + text;
    }
    case 'Append': {
      const suffix = value('replacementValue');
      return (text) => text + suffix;
    }
    case 'Surround': {
      const prefix = value('prependText');
      const suffix = value('appendText');
      return (text) => prefix + text + suffix;
    }
    case 'Always Replace': {
      const replacement = value('replacementValue');
      return () => replacement;
    }
    case 'Substitute Variables':
      return (text) => text.replace(/\$\{([^{}]+)\}/g, (match, name: string) => flowFile.attributes.get(name) ?? match);
    default:
      throw new TextError(`unknown Replacement Strategy "${settings.strategy}"`);
  }
}

function replaceEntire(session: ProcessSession, flowFile: FlowFile, settings: Settings, transform: Transform): FlowFile {
  if (flowFile.size > settings.maxBuffer) {
    throw new TextError(
      `the content (${formatDataSize(flowFile.size)}) is larger than Maximum Buffer Size (${formatDataSize(settings.maxBuffer)}); raise it or use Line-by-Line mode`,
    );
  }
  const decode = settings.charset.decoder();
  const text = decode(session.read(flowFile), false);
  return session.write(flowFile, settings.charset.encode(transform(text)));
}

/** The content, line by line through the transform (per the line mode), encoded: never all in memory. */
async function* replaceLines(
  session: ProcessSession,
  flowFile: FlowFile,
  settings: Settings,
  transform: Transform,
): AsyncGenerator<Uint8Array> {
  const decode = settings.charset.decoder();
  const splitter = new LineSplitter(settings.maxBuffer);
  const mode = settings.lineMode;
  const holdLast = mode === 'Last-Line' || mode === 'Except-Last-Line';
  let index = 0;
  let held: Line | undefined;
  let out: string[] = [];
  let outLength = 0;
  const apply = (line: Line, last: boolean): void => {
    const selected =
      mode === 'All' ||
      (mode === 'First-Line' && index === 0) ||
      (mode === 'Except-First-Line' && index > 0) ||
      (mode === 'Last-Line' && last) ||
      (mode === 'Except-Last-Line' && !last);
    const text = selected ? transform(line.text) + line.ending : line.text + line.ending;
    index++;
    out.push(text);
    outLength += text.length;
  };
  const take = (lines: readonly Line[], atEnd: boolean): void => {
    for (const line of lines) {
      if (!holdLast) apply(line, false);
      else {
        if (held !== undefined) apply(held, false);
        held = line;
      }
    }
    if (atEnd && held !== undefined) {
      apply(held, true);
      held = undefined;
    }
  };
  const flush = (): Buffer => {
    const bytes = settings.charset.encode(out.join(''));
    out = [];
    outLength = 0;
    return bytes;
  };
  for await (const chunk of session.readStream(flowFile)) {
    if (!(chunk instanceof Uint8Array)) continue;
    take(splitter.push(decode(chunk, true)), false);
    if (outLength >= OUTPUT_CHUNK) yield flush();
  }
  take(splitter.push(decode(undefined, false)), false);
  take(splitter.end(), true);
  if (outLength > 0) yield flush();
}

/**
 * Compiles a search expression with its leading Java-style inline flags ((?s), (?i), (?m), (?u))
 * turned into JavaScript flags; always global.
 * @throws {Error} saying what is wrong.
 */
export function compileSearch(source: string): RegExp {
  let flags = 'g';
  let body = source;
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (inline?.[1] !== undefined) {
    for (const flag of inline[1]) {
      if (flag === 'i' || flag === 'm' || flag === 's' || flag === 'u') {
        if (!flags.includes(flag)) flags += flag;
      } else {
        throw new Error(`inline flag "${flag}" is not supported (use i, m, s or u)`);
      }
    }
    body = source.slice(inline[0].length);
  }
  try {
    return new RegExp(body, flags);
  } catch (e) {
    throw new Error(`not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Java's `$0` (the whole match) in JavaScript's replacement syntax (`$&`); `$$` stays an escaped dollar. */
function javaBackReferences(replacement: string): string {
  if (!replacement.includes('$0')) return replacement;
  return replacement.replace(/\$(\$|0(?!\d))/g, (match, what: string) => (what === '$' ? match : '$&'));
}

/** A view of the FlowFile whose attribute values have every `$` doubled (literal in a replacement). */
function dollarSafe(flowFile: FlowFile): FlowFile {
  let needed = false;
  for (const value of flowFile.attributes.values()) {
    if (value.includes('$')) {
      needed = true;
      break;
    }
  }
  if (!needed) return flowFile;
  const attributes = new Map<string, string>();
  for (const [key, value] of flowFile.attributes) attributes.set(key, value.replaceAll('$', '$$$$'));
  return {
    uuid: flowFile.uuid,
    size: flowFile.size,
    entryDate: flowFile.entryDate,
    lineageStartDate: flowFile.lineageStartDate,
    penaltyExpiration: flowFile.penaltyExpiration,
    attributes,
    getAttribute: (name) => attributes.get(name),
  };
}
