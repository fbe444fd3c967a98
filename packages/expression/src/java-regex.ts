import { fail } from './errors.ts';

// NiFi functions take Java regular expressions. JavaScript's dialect is close; this translates the
// Java-only constructs people actually use (leading inline flags, \Q..\E quoting, \A \z \Z anchors,
// possessive quantifiers, POSIX \p{..} classes) and rejects the rest loudly instead of letting them
// silently mean something else.

const POSIX: ReadonlyMap<string, string> = new Map([
  ['Lower', 'a-z'],
  ['Upper', 'A-Z'],
  ['ASCII', '\\x00-\\x7F'],
  ['Alpha', 'a-zA-Z'],
  ['Digit', '0-9'],
  ['Alnum', 'a-zA-Z0-9'],
  ['Punct', '!-\\/:-@\\[-`{-~'],
  ['Graph', '!-~'],
  ['Print', ' -~'],
  ['Blank', ' \\t'],
  ['Cntrl', '\\x00-\\x1F\\x7F'],
  ['XDigit', '0-9a-fA-F'],
  ['Space', ' \\t\\n\\x0B\\f\\r'],
  ['javaLowerCase', 'a-z'],
  ['javaUpperCase', 'A-Z'],
  ['javaWhitespace', ' \\t\\n\\x0B\\f\\r\\x1C-\\x1F'],
]);

function escapeLiteral(text: string): string {
  let out = '';
  for (const c of text) out += '\\^$.|?*+()[]{}/-'.includes(c) ? `\\${c}` : c;
  return out;
}

interface Translated {
  readonly source: string;
  readonly flags: string;
}

function translate(pattern: string): Translated {
  let flags = '';
  let i = 0;
  // Leading inline flags such as (?i) or (?is); JavaScript only has them as RegExp flags.
  if (pattern.startsWith('(?')) {
    const close = pattern.indexOf(')');
    const body = close > 2 ? pattern.slice(2, close) : '';
    if (body !== '' && [...body].every((c) => 'imsuxdU'.includes(c))) {
      for (const c of body) {
        if (c === 'x') throw fail('uses the (?x) comments flag, which is not supported');
        if ((c === 'i' || c === 'm' || c === 's') && !flags.includes(c)) flags += c;
      }
      i = close + 1;
    }
  }
  let out = '';
  let inClass = false;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === '\\') {
      const e = pattern.charAt(i + 1);
      if (e === '') throw fail('ends with an unfinished "\\" escape');
      if (e === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = end < 0 ? pattern.slice(i + 2) : pattern.slice(i + 2, end);
        out += escapeLiteral(literal);
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      if (e === 'A' && !inClass) {
        out += '(?<![\\s\\S])';
        i += 2;
        continue;
      }
      if ((e === 'z' || e === 'Z') && !inClass) {
        out += e === 'z' ? '(?![\\s\\S])' : '(?=(?:\\r?\\n)?(?![\\s\\S]))';
        i += 2;
        continue;
      }
      if (e === 'p' || e === 'P') {
        let name = '';
        let end = i + 3;
        if (pattern.charAt(i + 2) === '{') {
          const close = pattern.indexOf('}', i + 3);
          if (close < 0) throw fail('has an unclosed \\p{...} class');
          name = pattern.slice(i + 3, close);
          end = close + 1;
        } else {
          name = pattern.charAt(i + 2);
        }
        const key = name.startsWith('Is') && POSIX.has(name.slice(2)) ? name.slice(2) : name;
        const range = POSIX.get(key);
        if (range === undefined)
          throw fail(`uses the character class \\${e}{${name}}, which is not supported; use [...] ranges instead`);
        if (inClass) {
          if (e === 'P') throw fail(`uses \\P{${name}} inside [...], which is not supported`);
          out += range;
        } else {
          out += e === 'P' ? `[^${range}]` : `[${range}]`;
        }
        i = end;
        continue;
      }
      out += c + e;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '[') out += '\\';
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      // A ']' or '^]' right after '[' is a literal in Java.
      if (pattern.charAt(i) === '^') {
        out += '^';
        i++;
      }
      if (pattern.charAt(i) === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if ((c === '*' || c === '+' || c === '?' || c === '}') && pattern.charAt(i + 1) === '+') {
      // Possessive quantifier: JavaScript has none; the greedy form matches the same strings in
      // every case that does not rely on the lack of backtracking.
      out += c;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  return { source: out, flags };
}

/** How a regex is used: `find` anywhere, `full` whole-string match, `all` for global replacement. */
export type RegexMode = 'find' | 'full' | 'all';

/** A compiled regex and its number of capturing groups (for Java `$n` replacement references). */
export interface CompiledRegex {
  readonly regex: RegExp;
  readonly groups: number;
}

const cache = new Map<string, CompiledRegex>();

/** Compiles a Java regular expression for the given use; throws an ElFailure when invalid. */
export function compileJavaRegex(pattern: string, mode: RegexMode): CompiledRegex {
  const key = `${mode}\u0000${pattern}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const { source, flags } = translate(pattern);
  let regex: RegExp;
  let groups: number;
  try {
    // Full matches use a sticky regex anchored by a true end-of-input lookahead, which stays
    // correct with the m flag (where `$` would also match before a newline).
    const body = mode === 'full' ? `(?:${source})(?![\\s\\S])` : source;
    regex = new RegExp(body, flags + (mode === 'full' ? 'y' : mode === 'all' ? 'g' : ''));
    groups = (new RegExp(`${source}|`, flags).exec('')?.length ?? 1) - 1;
  } catch (e) {
    // V8 says "Invalid regular expression: /<source>/<flags>: <reason>"; keep only the reason.
    const message = e instanceof Error ? e.message : String(e);
    const reason = message.slice(message.lastIndexOf(': ') + 2);
    throw fail(`has an invalid regular expression "${pattern}": ${reason}`);
  }
  const compiled: CompiledRegex = { regex, groups };
  if (cache.size > 512) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/** Whether the whole text matches the pattern (Java `String.matches`). */
export function fullMatch(pattern: string, text: string): boolean {
  const { regex } = compileJavaRegex(pattern, 'full');
  regex.lastIndex = 0;
  return regex.test(text);
}

type ReplacementPart = string | number | { readonly name: string };

/** The decimal digit at `i`, or -1 (also past the end). */
function digitAt(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

const replacementCache = new Map<string, readonly ReplacementPart[]>();

/** Parses a Java replacement string: `$1`, `${name}`, and `\` escaping the next character. */
function parseReplacement(replacement: string, groups: number): readonly ReplacementPart[] {
  const key = `${groups}\u0000${replacement}`;
  const cached = replacementCache.get(key);
  if (cached !== undefined) return cached;
  const parts: ReplacementPart[] = [];
  let text = '';
  let i = 0;
  while (i < replacement.length) {
    const c = replacement.charAt(i);
    if (c === '\\') {
      if (i + 1 >= replacement.length) throw fail('has a replacement ending in an unfinished "\\" escape');
      text += replacement.charAt(i + 1);
      i += 2;
      continue;
    }
    if (c === '$') {
      if (replacement.charAt(i + 1) === '{') {
        const close = replacement.indexOf('}', i + 2);
        if (close < 0) throw fail(`has a replacement with an unclosed \${name} group reference`);
        if (text !== '') parts.push(text);
        text = '';
        parts.push({ name: replacement.slice(i + 2, close) });
        i = close + 1;
        continue;
      }
      let j = i + 1;
      const first = digitAt(replacement, j);
      if (first < 0) {
        throw fail('has a "$" in the replacement that is not a group reference; write \\$ for a literal dollar sign');
      }
      let group = first;
      j++;
      // Java reads further digits only while the number still names an existing group.
      for (;;) {
        const d = digitAt(replacement, j);
        if (d < 0 || group * 10 + d > groups) break;
        group = group * 10 + d;
        j++;
      }
      if (group > groups) throw fail(`refers to group $${group}, but the regular expression has ${groups} group(s)`);
      if (text !== '') parts.push(text);
      text = '';
      parts.push(group);
      i = j;
      continue;
    }
    text += c;
    i++;
  }
  if (text !== '') parts.push(text);
  if (replacementCache.size > 512) replacementCache.clear();
  replacementCache.set(key, parts);
  return parts;
}

/** Java `replaceFirst` / `replaceAll` with Java replacement syntax. */
export function replaceRegex(text: string, pattern: string, replacement: string, all: boolean): string {
  const { regex, groups } = compileJavaRegex(pattern, all ? 'all' : 'find');
  const parts = parseReplacement(replacement, groups);
  if (parts.length <= 1 && (parts.length === 0 || typeof parts[0] === 'string')) {
    const literal = typeof parts[0] === 'string' ? parts[0] : '';
    return text.replace(regex, () => literal);
  }
  return text.replace(regex, (...args: unknown[]) => {
    const last = args[args.length - 1];
    const named = typeof last === 'object' && last !== null ? last : undefined;
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else if (typeof part === 'number') {
        const g = args[part];
        out += typeof g === 'string' ? g : '';
      } else {
        const value: unknown = named === undefined ? undefined : Reflect.get(named, part.name);
        if (named === undefined || !Object.hasOwn(named, part.name)) throw fail(`refers to the unknown group \${${part.name}}`);
        out += typeof value === 'string' ? value : '';
      }
    }
    return out;
  });
}
