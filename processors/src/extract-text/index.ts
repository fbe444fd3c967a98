import { boolean, CoreAttributes, dataSize, defineProcessor, integer, PropertyValueError, string } from '@sluice/api';

const BATCH = 100;
/** Matches captured per rule with Enable Repeating Capture Group. */
const MAX_MATCHES = 1000;

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  /** Capture group names in group order (named-groups mode), else undefined. */
  readonly groupNames: readonly string[] | undefined;
}

/** Copies regular-expression capture groups from the content into attributes (NiFi's ExtractText). */
export const ExtractText = defineProcessor({
  type: 'ExtractText',
  description:
    'Evaluates regular expressions (JavaScript syntax) against the content and puts what they capture into attributes. For a rule named "x": x.1, x.2, ... hold the capture groups (x.0 the whole match, when Include Capture Group 0 is true) and x holds the first group (or the whole match when the expression has no groups). Groups that matched nothing are left out; values are cut at Maximum Capture Group Length. Only the first Maximum Buffer Size bytes are decoded and searched; bytes that are not valid in the character set are read as U+FFFD. A FlowFile goes to matched when at least one rule matched.',
  tags: ['evaluate', 'extract', 'text', 'regex', 'regular expression', 'attributes'],
  input: 'required',
  properties: {
    characterSet: string({
      displayName: 'Character Set',
      description: 'Encoding of the content, e.g. UTF-8, ISO-8859-1, UTF-16LE (any WHATWG encoding label).',
      default: 'UTF-8',
      required: true,
      validate: encodingProblem,
    }),
    bufferSize: dataSize({
      displayName: 'Maximum Buffer Size',
      description: 'Only this many bytes from the start of the content are searched.',
      default: '1 MB',
      required: true,
      min: 1,
      max: 64 * 1024 * 1024,
    }),
    maxCaptureLength: integer({
      displayName: 'Maximum Capture Group Length',
      description: 'Longer captured values are cut to this many characters.',
      default: '1024',
      required: true,
      min: 1,
    }),
    includeCaptureGroupZero: boolean({
      displayName: 'Include Capture Group 0',
      description: 'Also write the whole match as <name>.0.',
      default: 'true',
    }),
    repeatingCaptureGroups: boolean({
      displayName: 'Enable Repeating Capture Group',
      description:
        'Capture every match (up to 1000) instead of only the first: the groups of all matches are numbered on (<name>.1, <name>.2, ... across matches); a named group keeps its first match.',
      default: 'false',
    }),
    namedGroups: boolean({
      displayName: 'Enable Named Groups',
      description:
        'Name attributes after named groups ((?<year>\\d{4}) gives <name>.year) instead of numbers; every capture group must then be named.',
      default: 'false',
    }),
    caseInsensitive: boolean({ displayName: 'Enable Case-insensitive Matching', description: 'The i flag.', default: 'false' }),
    multiline: boolean({
      displayName: 'Enable Multiline Mode',
      description: 'The m flag: ^ and $ match at line breaks.',
      default: 'false',
    }),
    dotAll: boolean({ displayName: 'Enable DOTALL Mode', description: 'The s flag: . matches line breaks.', default: 'false' }),
    unicode: boolean({
      displayName: 'Enable Unicode Mode',
      description: 'The u flag: code-point matching and \\p{...} classes.',
      default: 'false',
    }),
  },
  dynamicProperties: {
    description: 'A rule: the attribute name prefix, and a regular expression whose capture groups are copied into attributes.',
    validate: (name, value) => {
      if (name === CoreAttributes.UUID) return 'the uuid attribute cannot be changed; give the rule another name';
      try {
        new RegExp(value);
        return undefined;
      } catch (e) {
        return `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`;
      }
    },
  },
  relationships: {
    matched: 'FlowFiles for which at least one rule matched, with the captured attributes',
    unmatched: 'FlowFiles for which no rule matched, unchanged',
  },
  supportsBatching: true,
  validate(context) {
    if (context.dynamicProperties.size === 0) return ['add at least one rule (a property whose value is a regular expression)'];
    const problems: string[] = [];
    const flags = flagsOf(context);
    const named = context.getProperty('namedGroups').asBoolean() === true;
    for (const [name, value] of context.dynamicProperties) {
      try {
        compileRule(name, value.asString() ?? '', flags, named);
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
    }
    return problems;
  },
  onScheduled(context): Rule[] {
    const flags = flagsOf(context);
    const named = context.getProperty('namedGroups').asBoolean() === true;
    return [...context.dynamicProperties].map(([name, value]) => compileRule(name, value.asString() ?? '', flags, named));
  },
  onTrigger(session, context, rules) {
    const encoding = context.getProperty('characterSet').asString() ?? 'UTF-8';
    const bufferSize = context.getProperty('bufferSize').asDataSize() ?? 1024 * 1024;
    const maxLength = context.getProperty('maxCaptureLength').asInteger() ?? 1024;
    const includeZero = context.getProperty('includeCaptureGroupZero').asBoolean() !== false;
    const repeating = context.getProperty('repeatingCaptureGroups').asBoolean() === true;
    const cut = (value: string): string => (value.length > maxLength ? value.slice(0, maxLength) : value);
    for (let flowFile of session.getBatch(BATCH)) {
      // stream: true holds back a character cut in half at the buffer limit instead of inventing U+FFFD.
      const text = new TextDecoder(encoding).decode(session.read(flowFile, { length: Math.min(flowFile.size, bufferSize) }), {
        stream: true,
      });
      const attributes = new Map<string, string>();
      for (const rule of rules) {
        rule.pattern.lastIndex = 0;
        const found = repeating ? firstMatches(text, rule.pattern) : [rule.pattern.exec(text)].filter((m) => m !== null);
        if (found.length === 0) continue;
        let index = 1;
        let first: string | undefined;
        for (const match of found) {
          if (includeZero && match === found[0]) attributes.set(`${rule.name}.0`, cut(match[0]));
          for (let group = 1; group < match.length; group++, index++) {
            const value = match[group];
            if (value === undefined || value === '') continue;
            first ??= value;
            const named = rule.groupNames?.[group - 1];
            // A named group keeps its first match's value; numbered groups count on across matches.
            if (named !== undefined && attributes.has(`${rule.name}.${named}`)) continue;
            attributes.set(`${rule.name}.${named ?? String(index)}`, cut(value));
          }
        }
        attributes.set(rule.name, cut(first ?? found[0]?.[0] ?? ''));
      }
      if (attributes.size === 0) {
        session.transfer(flowFile, 'unmatched');
        continue;
      }
      flowFile = session.putAllAttributes(flowFile, attributes);
      session.transfer(flowFile, 'matched');
    }
  },
});

/** Every match, up to MAX_MATCHES (a pattern like `x*` over a megabyte would otherwise make a million attributes). */
function firstMatches(text: string, pattern: RegExp): RegExpMatchArray[] {
  const out: RegExpMatchArray[] = [];
  for (const match of text.matchAll(pattern)) {
    out.push(match);
    if (out.length >= MAX_MATCHES) break;
  }
  return out;
}

function flagsOf(context: {
  getProperty(name: 'caseInsensitive' | 'multiline' | 'dotAll' | 'unicode'): { asBoolean(): boolean | undefined };
}): string {
  return (
    (context.getProperty('caseInsensitive').asBoolean() === true ? 'i' : '') +
    (context.getProperty('multiline').asBoolean() === true ? 'm' : '') +
    (context.getProperty('dotAll').asBoolean() === true ? 's' : '') +
    (context.getProperty('unicode').asBoolean() === true ? 'u' : '')
  );
}

/**
 * Compiles a rule with the chosen flags (the `g` flag is added so repeated matching works; single
 * matching resets lastIndex). In named-groups mode, every capture group must have a name.
 * @throws {PropertyValueError} naming the rule.
 */
function compileRule(name: string, source: string, flags: string, named: boolean): Rule {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, `${flags}g`);
  } catch (e) {
    throw new PropertyValueError(
      name,
      `not a valid regular expression with these flags: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (!named) return { name, pattern, groupNames: undefined };
  // Group count and names: an alternative that always matches the empty string lists every group.
  const probe = new RegExp(`${source}|`, flags.replace('g', '')).exec('');
  const groupCount = (probe?.length ?? 1) - 1;
  const groupNames = groupOrder(source, probe?.groups === undefined ? [] : Object.keys(probe.groups));
  if (groupNames.length !== groupCount) {
    throw new PropertyValueError(
      name,
      `has ${groupCount} capture group(s) but ${groupNames.length} named one(s); with Enable Named Groups every capture group must be named, like (?<year>\\d{4})`,
    );
  }
  return { name, pattern, groupNames };
}

/** Group names in the order their groups open in the source (the numbering order of capture groups). */
function groupOrder(source: string, names: readonly string[]): string[] {
  return [...names].sort((a, b) => source.indexOf(`(?<${a}>`) - source.indexOf(`(?<${b}>`));
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
