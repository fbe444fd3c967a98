import { fail, quote } from './errors.ts';
import {
  ArgFailure,
  type EagerSpec,
  type FunctionSpec,
  type LazySpec,
  MAX_BUILT_STRING,
  type ParamSpec,
  type StaticArg,
} from './function-types.ts';
import { compileJavaRegex, fullMatch, replaceRegex } from './java-regex.ts';
import { asBoolean, asNumber, asString, asWhole, type ResultType, typeOfValue, type Value } from './values.ts';

// Boolean logic, string manipulation and searching.

type EagerFields = Omit<EagerSpec, 'kind' | 'subject' | 'subjectKind' | 'params'> & {
  readonly subject?: EagerSpec['subject'];
  readonly subjectKind?: EagerSpec['subjectKind'];
  readonly params?: readonly ParamSpec[];
};

/** Builds an eager function spec with the common defaults (subject required, string subject). */
export function eager(fields: EagerFields): EagerSpec {
  return { kind: 'eager', subject: 'required', subjectKind: 'string', params: [], ...fields };
}

/** Java `String.trim()`: strips characters up to U+0020 from both ends. */
export function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 32) start++;
  while (end > start && text.charCodeAt(end - 1) <= 32) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** A whole-number argument as a JS number within int range (for indexes, counts, lengths). */
export function intArg(value: Value, what: string): number {
  const n = asWhole(value);
  if (n === null)
    throw fail(`needs a whole number for ${what}, but got ${value === null ? 'nothing' : quote(asString(value) ?? '')}`);
  if (n > 2147483647n || n < -2147483648n) throw fail(`got ${n} for ${what}, which is out of range`);
  return Number(n);
}

/** Checks a literal regex argument at compile time. */
export function checkRegex(index: number): (args: readonly StaticArg[]) => void {
  return (args) => {
    const literal = args[index]?.literal;
    if (typeof literal !== 'string') return;
    try {
      compileJavaRegex(literal, 'find');
    } catch (e) {
      throw new ArgFailure(index, e instanceof Error ? e.message : String(e));
    }
  };
}

function str(name: string, kind: ParamSpec['kind'] = 'string', optional = false): ParamSpec {
  return { name, kind, optional };
}

/** Strict equality as NiFi's equals: same run-time type compares values; otherwise compares text (dates as epoch ms). */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === null || b === null) return false;
  const ta = typeOfValue(a);
  const tb = typeOfValue(b);
  if (ta === tb) {
    if (typeof a === 'object' && typeof b === 'object') return a.ms === b.ms;
    return a === b;
  }
  const norm = (v: Value) => (typeof v === 'object' && v !== null ? String(v.ms) : asString(v));
  return norm(a) === norm(b);
}

function compareNumbers(a: Value, b: Value, test: (order: number) => boolean): boolean {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === null || y === null) return false;
  if (typeof x === 'bigint' && typeof y === 'bigint') return test(x < y ? -1 : x > y ? 1 : 0);
  const fx = Number(x);
  const fy = Number(y);
  if (Number.isNaN(fx) || Number.isNaN(fy)) return false;
  return test(fx < fy ? -1 : fx > fy ? 1 : 0);
}

function sameOrUnknown(a: ResultType, b: ResultType): ResultType {
  return a === b ? a : 'unknown';
}

function lazy(fields: Omit<LazySpec, 'kind'>): LazySpec {
  return { kind: 'lazy', ...fields };
}

function stringFn(name: string, description: string, fn: (s: string) => string): EagerSpec {
  return eager({
    name,
    group: 'string',
    description,
    returns: 'string',
    eval: (_ctx, s) => {
      const text = asString(s);
      return text === null ? null : fn(text);
    },
  });
}

function substringAround(name: string, description: string, pick: (text: string, search: string) => string): EagerSpec {
  return eager({
    name,
    group: 'string',
    description,
    returns: 'string',
    params: [str('value')],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      const search = asString(args[0] ?? null);
      return search === null ? text : pick(text, search);
    },
  });
}

function pad(name: 'padLeft' | 'padRight'): EagerSpec {
  return eager({
    name,
    group: 'string',
    description: `Pads the subject on the ${name === 'padLeft' ? 'left' : 'right'} to the desired length with the padding text (default "_").`,
    returns: 'string',
    params: [str('desiredLength', 'number'), str('padding', 'string', true)],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      const length = asWhole(args[0] ?? null);
      if (length === null || length <= 0n || length > 2147483647n) return text;
      if (length > BigInt(MAX_BUILT_STRING)) throw fail(`would build text longer than the 10 MiB limit (${length} characters)`);
      const padText = asString(args[1] ?? null);
      const filler = padText === null || padText === '' ? '_' : padText;
      return name === 'padLeft' ? text.padStart(Number(length), filler) : text.padEnd(Number(length), filler);
    },
  });
}

function getDelimitedField(
  subject: string,
  index: number,
  delimiter: string,
  quoteChar: string,
  escapeChar: string,
  strip: boolean,
): string {
  const one = (value: string, what: string) => {
    if (value.length !== 1) throw fail(`needs a single character as the ${what}, but got ${quote(value)}`);
    return value;
  };
  const d = one(delimiter, 'delimiter');
  const q = one(quoteChar, 'quote character');
  const e = one(escapeChar, 'escape character');
  if (q === d) throw fail('cannot use the same character as quote and delimiter');
  if (q === e) throw fail('cannot use the same character as quote and escape character');
  if (d === e) throw fail('cannot use the same character as delimiter and escape character');
  if (subject === '' || index < 1) return '';
  let field = '';
  let inQuote = false;
  let current = 1;
  let escaped = false;
  for (const c of subject) {
    if (c === q && !escaped) {
      inQuote = !inQuote;
      if (!strip && current === index) field += c;
    } else if (c === d && !escaped && !inQuote) {
      if (current === index) return field;
      current++;
    } else if (current === index && (c !== e || !strip)) {
      field += c;
    }
    escaped = c === e && !escaped;
  }
  return current === index ? field : '';
}

/** Boolean, string and search functions. */
export const TEXT_FUNCTIONS: readonly FunctionSpec[] = [
  // ---- Boolean logic
  eager({
    name: 'isNull',
    group: 'boolean',
    description: 'True if the subject is null (for example the attribute does not exist).',
    returns: 'boolean',
    subjectKind: 'any',
    eval: (_ctx, s) => s === null,
  }),
  eager({
    name: 'notNull',
    group: 'boolean',
    description: 'True if the subject is not null (for example the attribute exists).',
    returns: 'boolean',
    subjectKind: 'any',
    eval: (_ctx, s) => s !== null,
  }),
  eager({
    name: 'isEmpty',
    group: 'boolean',
    description: 'True if the subject is null, empty, or only white space.',
    returns: 'boolean',
    eval: (_ctx, s) => {
      const text = asString(s);
      return text === null || javaTrim(text) === '';
    },
  }),
  eager({
    name: 'equals',
    group: 'boolean',
    description: 'True if the subject equals the argument (text comparison unless both have the same type).',
    returns: 'boolean',
    subjectKind: 'any',
    params: [str('value', 'any')],
    eval: (_ctx, s, args) => valuesEqual(s, args[0] ?? null),
  }),
  eager({
    name: 'equalsIgnoreCase',
    group: 'boolean',
    description: 'True if the subject equals the argument, ignoring upper/lower case.',
    returns: 'boolean',
    params: [str('value')],
    eval: (_ctx, s, args) => {
      const a = asString(s);
      const b = asString(args[0] ?? null);
      if (a === null || b === null) return false;
      return a === b || a.toUpperCase() === b.toUpperCase() || a.toLowerCase() === b.toLowerCase();
    },
  }),
  eager({
    name: 'gt',
    group: 'boolean',
    description: 'True if the subject is greater than the argument (numbers; false if either is not a number).',
    returns: 'boolean',
    subjectKind: 'number',
    params: [str('value', 'number')],
    eval: (_ctx, s, args) => compareNumbers(s, args[0] ?? null, (o) => o > 0),
  }),
  eager({
    name: 'ge',
    group: 'boolean',
    description: 'True if the subject is greater than or equal to the argument.',
    returns: 'boolean',
    subjectKind: 'number',
    params: [str('value', 'number')],
    eval: (_ctx, s, args) => compareNumbers(s, args[0] ?? null, (o) => o >= 0),
  }),
  eager({
    name: 'lt',
    group: 'boolean',
    description: 'True if the subject is less than the argument.',
    returns: 'boolean',
    subjectKind: 'number',
    params: [str('value', 'number')],
    eval: (_ctx, s, args) => compareNumbers(s, args[0] ?? null, (o) => o < 0),
  }),
  eager({
    name: 'le',
    group: 'boolean',
    description: 'True if the subject is less than or equal to the argument.',
    returns: 'boolean',
    subjectKind: 'number',
    params: [str('value', 'number')],
    eval: (_ctx, s, args) => compareNumbers(s, args[0] ?? null, (o) => o <= 0),
  }),
  lazy({
    name: 'and',
    group: 'boolean',
    description: 'True if both the subject and the argument are true. The argument is skipped when the subject is false.',
    returns: 'boolean',
    subject: 'required',
    subjectKind: 'boolean',
    params: [str('condition', 'boolean')],
    eval: (ctx, s, args) => asBoolean(s) === true && asBoolean(args[0]?.(ctx) ?? null) === true,
  }),
  lazy({
    name: 'or',
    group: 'boolean',
    description: 'True if the subject or the argument is true. The argument is skipped when the subject is true.',
    returns: 'boolean',
    subject: 'required',
    subjectKind: 'boolean',
    params: [str('condition', 'boolean')],
    eval: (ctx, s, args) => asBoolean(s) === true || asBoolean(args[0]?.(ctx) ?? null) === true,
  }),
  eager({
    name: 'not',
    group: 'boolean',
    description: 'The opposite of the subject: true becomes false and false becomes true.',
    returns: 'boolean',
    subjectKind: 'boolean',
    eval: (_ctx, s) => {
      const b = asBoolean(s);
      return b === null ? null : !b;
    },
  }),
  lazy({
    name: 'ifElse',
    group: 'boolean',
    description: 'The first argument if the subject is true, otherwise the second. Only the chosen one is evaluated.',
    returns: 'string',
    subject: 'required',
    subjectKind: 'boolean',
    params: [str('valueIfTrue', 'any'), str('valueIfFalse', 'any')],
    resultType: (_s, args) => sameOrUnknown(args[0] ?? 'unknown', args[1] ?? 'unknown'),
    eval: (ctx, s, args) => (asBoolean(s) === true ? (args[0]?.(ctx) ?? null) : (args[1]?.(ctx) ?? null)),
  }),

  // ---- Strings
  stringFn('toUpper', 'The subject in upper case.', (s) => s.toUpperCase()),
  stringFn('toLower', 'The subject in lower case.', (s) => s.toLowerCase()),
  stringFn('trim', 'The subject without leading and trailing white space.', javaTrim),
  eager({
    name: 'substring',
    group: 'string',
    description: 'Part of the subject from a 0-based start index (inclusive) to an optional end index (exclusive).',
    returns: 'string',
    params: [str('startIndex', 'number'), str('endIndex', 'number', true)],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      const start = intArg(args[0] ?? null, 'the start index');
      const end = args.length > 1 ? intArg(args[1] ?? null, 'the end index') : text.length;
      if (start < 0 || end > text.length || start > end) {
        throw fail(`cannot take characters ${start} to ${end} of ${quote(text)}: its length is ${text.length}`);
      }
      return text.slice(start, end);
    },
  }),
  substringAround('substringBefore', 'The subject up to the first occurrence of the argument (all of it if absent).', (t, x) => {
    const i = t.indexOf(x);
    return i < 0 ? t : t.slice(0, i);
  }),
  substringAround(
    'substringBeforeLast',
    'The subject up to the last occurrence of the argument (all of it if absent).',
    (t, x) => {
      const i = t.lastIndexOf(x);
      return i < 0 ? t : t.slice(0, i);
    },
  ),
  substringAround('substringAfter', 'The subject after the first occurrence of the argument (all of it if absent).', (t, x) => {
    const i = t.indexOf(x);
    return i < 0 ? t : t.slice(i + x.length);
  }),
  substringAround(
    'substringAfterLast',
    'The subject after the last occurrence of the argument (all of it if absent).',
    (t, x) => {
      const i = t.lastIndexOf(x);
      return i < 0 ? t : t.slice(i + x.length);
    },
  ),
  eager({
    name: 'getDelimitedField',
    group: 'string',
    description: 'One field (1-based) of a delimited line, honouring quotes and escapes.',
    returns: 'string',
    params: [
      str('index', 'number'),
      str('delimiter', 'string', true),
      str('quoteChar', 'string', true),
      str('escapeChar', 'string', true),
      str('stripChars', 'boolean', true),
    ],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null || text === '') return '';
      const index = intArg(args[0] ?? null, 'the field index');
      const opt = (i: number, fallback: string) => (args.length > i ? (asString(args[i] ?? null) ?? '') : fallback);
      const strip = args.length > 4 ? asBoolean(args[4] ?? null) === true : false;
      return getDelimitedField(text, index, opt(1, ','), opt(2, '"'), opt(3, '\\'), strip);
    },
  }),
  eager({
    name: 'append',
    group: 'string',
    description: 'The subject followed by the argument (the argument alone if the subject is null).',
    returns: 'string',
    params: [str('value')],
    eval: (_ctx, s, args) => (asString(s) ?? '') + (asString(args[0] ?? null) ?? ''),
  }),
  eager({
    name: 'prepend',
    group: 'string',
    description: 'The argument followed by the subject (the argument alone if the subject is null).',
    returns: 'string',
    params: [str('value')],
    eval: (_ctx, s, args) => (asString(args[0] ?? null) ?? '') + (asString(s) ?? ''),
  }),
  eager({
    name: 'replace',
    group: 'string',
    description: 'Replaces every occurrence of a literal text with another.',
    returns: 'string',
    params: [str('searchString'), str('replacement')],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      const search = asString(args[0] ?? null) ?? '';
      const replacement = asString(args[1] ?? null) ?? '';
      if (search === '') {
        // Java inserts the replacement around every character.
        let out = replacement;
        for (const c of text) out += c + replacement;
        if (out.length > MAX_BUILT_STRING) throw fail('would build text longer than the 10 MiB limit');
        return out;
      }
      return text.split(search).join(replacement);
    },
  }),
  eager({
    name: 'replaceFirst',
    group: 'string',
    description: 'Replaces the first match of a Java regular expression; $1 refers to a group.',
    returns: 'string',
    params: [str('regex'), str('replacement')],
    check: checkRegex(0),
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      return replaceRegex(text, asString(args[0] ?? null) ?? '', asString(args[1] ?? null) ?? '', false);
    },
  }),
  eager({
    name: 'replaceAll',
    group: 'string',
    description: 'Replaces every match of a Java regular expression; $1 refers to a group.',
    returns: 'string',
    params: [str('regex'), str('replacement')],
    check: checkRegex(0),
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      return replaceRegex(text, asString(args[0] ?? null) ?? '', asString(args[1] ?? null) ?? '', true);
    },
  }),
  eager({
    name: 'replaceNull',
    group: 'string',
    description: 'The argument if the subject is null, otherwise the subject.',
    returns: 'string',
    subjectKind: 'any',
    params: [str('replacement', 'any')],
    resultType: (s, args) => sameOrUnknown(s, args[0] ?? 'unknown'),
    eval: (_ctx, s, args) => (s === null ? (args[0] ?? null) : s),
  }),
  eager({
    name: 'replaceEmpty',
    group: 'string',
    description: 'The argument if the subject is null, empty or only white space, otherwise the subject.',
    returns: 'string',
    subjectKind: 'any',
    params: [str('replacement', 'any')],
    resultType: (s, args) => sameOrUnknown(s, args[0] ?? 'unknown'),
    eval: (_ctx, s, args) => {
      const text = asString(s);
      return text === null || javaTrim(text) === '' ? (args[0] ?? null) : s;
    },
  }),
  pad('padLeft'),
  pad('padRight'),
  eager({
    name: 'length',
    group: 'string',
    description: 'The number of characters in the subject (0 if null).',
    returns: 'number',
    eval: (_ctx, s) => BigInt(asString(s)?.length ?? 0),
  }),
  eager({
    name: 'repeat',
    group: 'string',
    description: 'The subject repeated a number of times, or a random count between min and max.',
    returns: 'string',
    params: [str('minRepeats', 'number'), str('maxRepeats', 'number', true)],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return '';
      const min = intArg(args[0] ?? null, 'the number of repeats');
      if (min <= 0) throw fail(`needs a number of repeats above 0, but got ${min}`);
      let count = min;
      if (args.length > 1) {
        const max = intArg(args[1] ?? null, 'the maximum number of repeats');
        if (min > max) throw fail(`needs the minimum (${min}) to be at most the maximum (${max})`);
        count = min + Math.floor(Math.random() * (max - min + 1));
      }
      if (text.length * count > MAX_BUILT_STRING) throw fail(`would build text longer than the 10 MiB limit (${count} repeats)`);
      return text.repeat(count);
    },
  }),

  // ---- Searching
  eager({
    name: 'startsWith',
    group: 'search',
    description: 'True if the subject starts with the argument.',
    returns: 'boolean',
    params: [str('value')],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      const x = asString(args[0] ?? null);
      return text !== null && x !== null && text.startsWith(x);
    },
  }),
  eager({
    name: 'endsWith',
    group: 'search',
    description: 'True if the subject ends with the argument.',
    returns: 'boolean',
    params: [str('value')],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      const x = asString(args[0] ?? null);
      return text !== null && x !== null && text.endsWith(x);
    },
  }),
  eager({
    name: 'contains',
    group: 'search',
    description: 'True if the subject contains the argument anywhere.',
    returns: 'boolean',
    params: [str('value')],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      const x = asString(args[0] ?? null);
      return text !== null && x !== null && text.includes(x);
    },
  }),
  eager({
    name: 'in',
    group: 'search',
    description: 'True if the subject equals one of the arguments.',
    returns: 'boolean',
    params: [{ name: 'values', kind: 'string', rest: true }],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return false;
      return args.some((a) => asString(a) === text);
    },
  }),
  eager({
    name: 'find',
    group: 'search',
    description: 'True if any part of the subject matches the Java regular expression.',
    returns: 'boolean',
    params: [str('regex')],
    check: checkRegex(0),
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return false;
      return compileJavaRegex(asString(args[0] ?? null) ?? '', 'find').regex.test(text);
    },
  }),
  eager({
    name: 'matches',
    group: 'search',
    description: 'True if the whole subject matches the Java regular expression.',
    returns: 'boolean',
    params: [str('regex')],
    check: checkRegex(0),
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return false;
      return fullMatch(asString(args[0] ?? null) ?? '', text);
    },
  }),
  eager({
    name: 'indexOf',
    group: 'search',
    description: 'The 0-based index of the first occurrence of the argument, or -1.',
    returns: 'number',
    params: [str('value')],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      const x = asString(args[0] ?? null);
      return text === null || x === null ? -1n : BigInt(text.indexOf(x));
    },
  }),
  eager({
    name: 'lastIndexOf',
    group: 'search',
    description: 'The 0-based index of the last occurrence of the argument, or -1.',
    returns: 'number',
    params: [str('value')],
    eval: (_ctx, s, args) => {
      const text = asString(s);
      const x = asString(args[0] ?? null);
      return text === null || x === null ? -1n : BigInt(text.lastIndexOf(x));
    },
  }),
];
