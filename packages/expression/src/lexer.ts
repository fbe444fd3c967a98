import type { ExprNode } from './ast.ts';
import { ExpressionError } from './errors.ts';

/** A `#{name}` parameter reference found in the template (also inside quoted text). */
export interface ParamRef {
  readonly kind: 'param';
  readonly name: string;
  /** Offset of `#{`. */
  readonly start: number;
  /** Offset just past `}`. */
  readonly end: number;
}

/** Kinds of token inside `${ ... }`. */
export type TokenKind =
  | 'exprOpen' // ${
  | 'paramOpen' // #{name} (the whole reference is one token)
  | 'rbrace'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'colon'
  | 'string'
  | 'number'
  | 'name'
  | 'eof';

/** A piece of quoted text: literal text, a parameter reference or an embedded expression. */
export type TextPart = string | ParamRef | ExprNode;

/** Parses the embedded expression whose `${` is at `open`; supplied by the parser. */
export type EmbeddedParser = (open: number) => ExprNode;

/** One token. `parts` holds a string literal's decoded text, split around `#{..}` and `${..}`. */
export interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  /** Raw source text of the token. */
  readonly text: string;
  readonly parts?: readonly TextPart[];
  readonly param?: ParamRef;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Characters that end an unquoted attribute or function name (NiFi's "special characters"). */
function isNameChar(c: string): boolean {
  switch (c) {
    case '$':
    case '|':
    case '{':
    case '}':
    case '(':
    case ')':
    case '[':
    case ']':
    case ',':
    case ':':
    case ';':
    case '/':
    case '*':
    case "'":
    case '"':
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '':
      return false;
    default:
      return true;
  }
}

const PARAM_NAME_HINT =
  "parameter names may contain letters, digits, spaces, '-', '_' and '.'; quote other names, e.g. #{'my:param'}";

function isParamNameChar(c: string): boolean {
  return (
    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === ' ' || c === '-' || c === '_' || c === '.'
  );
}

/**
 * Reads a parameter reference whose `#{` starts at `start`; returns it with `end` just past `}`.
 * Shared by the template scanner, the lexer and quoted text. Throws ExpressionError when malformed.
 */
export function readParamRef(source: string, start: number): ParamRef {
  let i = start + 2;
  while (i < source.length && isSpace(source.charAt(i))) i++;
  const first = source.charAt(i);
  let name: string;
  if (first === "'" || first === '"') {
    const close = source.indexOf(first, i + 1);
    if (close < 0) {
      throw new ExpressionError(`Unclosed parameter name: the quote at position ${i} has no matching quote`, i);
    }
    name = source.slice(i + 1, close);
    i = close + 1;
    while (i < source.length && isSpace(source.charAt(i))) i++;
  } else {
    const nameStart = i;
    while (i < source.length && isParamNameChar(source.charAt(i))) i++;
    name = source.slice(nameStart, i).trim();
  }
  if (i >= source.length) {
    throw new ExpressionError(`Unclosed parameter reference: "#{" at position ${start} has no matching "}"`, start, 2);
  }
  const c = source.charAt(i);
  if (c !== '}') {
    throw new ExpressionError(`Unexpected "${c}" in parameter reference at position ${i}; ${PARAM_NAME_HINT}`, i);
  }
  if (name === '') throw new ExpressionError(`Empty parameter reference "#{}" at position ${start}`, start, i + 1 - start);
  return { kind: 'param', name, start, end: i + 1 };
}

/** Length of the run of `ch` characters starting at `i`. */
export function runLength(source: string, i: number, ch: string): number {
  let j = i;
  while (source.charAt(j) === ch) j++;
  return j - i;
}

/**
 * Tokenizer for the inside of `${ ... }`. Whitespace between tokens is skipped. Unquoted names run
 * until a special character, so `mqtt.topic`, `a-b` and `fn` are all one `name` token; a name that
 * reads as a number (`5`, `-2`, `1.5e3`) is a `number` token.
 */
export class Lexer {
  private pos: number;
  private lookahead: Token | undefined;

  constructor(
    private readonly source: string,
    start: number,
    private readonly embedded: EmbeddedParser,
  ) {
    this.pos = start;
  }

  /** The next token without consuming it. */
  peek(): Token {
    this.lookahead ??= this.scan();
    return this.lookahead;
  }

  /** Consumes and returns the next token. */
  next(): Token {
    const token = this.peek();
    this.lookahead = undefined;
    return token;
  }

  private scan(): Token {
    const src = this.source;
    while (this.pos < src.length && isSpace(src.charAt(this.pos))) this.pos++;
    const start = this.pos;
    if (start >= src.length) return { kind: 'eof', start, end: start, text: '' };
    const c = src.charAt(start);
    const single = (kind: TokenKind): Token => {
      this.pos = start + 1;
      return { kind, start, end: start + 1, text: c };
    };
    switch (c) {
      case '}':
        return single('rbrace');
      case '(':
        return single('lparen');
      case ')':
        return single('rparen');
      case ',':
        return single('comma');
      case ':':
        return single('colon');
      case "'":
      case '"':
        return this.scanString(start, c);
      case '$':
        if (src.charAt(start + 1) === '{') {
          this.pos = start + 2;
          return { kind: 'exprOpen', start, end: start + 2, text: '${' };
        }
        throw new ExpressionError(`Unexpected "$" at position ${start}`, start);
      case '#':
        if (src.charAt(start + 1) === '{') {
          const param = readParamRef(src, start);
          this.pos = param.end;
          return { kind: 'paramOpen', start, end: param.end, text: src.slice(start, param.end), param };
        }
        break;
      default:
        break;
    }
    if (!isNameChar(c)) {
      throw new ExpressionError(`Unexpected "${c}" at position ${start}`, start);
    }
    let end = start;
    while (end < src.length) {
      const d = src.charAt(end);
      if (!isNameChar(d) || (d === '#' && src.charAt(end + 1) === '{')) break;
      end++;
    }
    this.pos = end;
    const text = src.slice(start, end);
    return { kind: looksNumeric(text) ? 'number' : 'name', start, end, text };
  }

  private scanString(start: number, quoteChar: string): Token {
    const src = this.source;
    const parts: TextPart[] = [];
    let buf = '';
    let i = start + 1;
    while (i < src.length) {
      const c = src.charAt(i);
      if (c === quoteChar) {
        if (buf !== '' || parts.length === 0) parts.push(buf);
        this.pos = i + 1;
        return { kind: 'string', start, end: i + 1, text: src.slice(start, i + 1), parts };
      }
      if (c === '\\') {
        const e = src.charAt(i + 1);
        switch (e) {
          case 'n':
            buf += '\n';
            break;
          case 'r':
            buf += '\r';
            break;
          case 't':
            buf += '\t';
            break;
          case '\\':
          case "'":
          case '"':
            buf += e;
            break;
          default:
            // Unknown escapes stay as written, so regular expressions like '\d+' or '\.' work.
            buf += `\\${e}`;
            break;
        }
        i += 2;
        continue;
      }
      if (c === '#' || c === '$') {
        // Quoted text is itself a small template, as in NiFi: '${a}' embeds an expression and
        // '#{p}' a parameter, while a doubled '$$' / '##' before '{' escapes ('$${x}' is literal).
        const run = runLength(src, i, c);
        if (src.charAt(i + run) === '{') {
          buf += c.repeat(Math.floor(run / 2));
          if (run % 2 === 1) {
            const open = i + run - 1;
            const part = c === '#' ? readParamRef(src, open) : this.embedded(open);
            if (buf !== '') parts.push(buf);
            buf = '';
            parts.push(part);
            i = part.end;
          } else {
            buf += '{';
            i += run + 1;
          }
          continue;
        }
        buf += c.repeat(run);
        i += run;
        continue;
      }
      buf += c;
      i++;
    }
    throw new ExpressionError(`Unclosed text: the quote at position ${start} has no matching ${quoteChar}`, start);
  }
}

function looksNumeric(text: string): boolean {
  const first = text.charCodeAt(0);
  const isDigit = (code: number) => code >= 48 && code <= 57;
  if (isDigit(first)) return isNumberLiteral(text);
  if ((first === 45 || first === 46) && text.length > 1) return isNumberLiteral(text);
  return false;
}

/** NiFi number literals: `12`, `-12`, `1.5`, `.5`, `1e3`, `-2.5E-3`. */
function isNumberLiteral(text: string): boolean {
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  let digits = 0;
  const isDigitAt = (k: number) => {
    const code = text.charCodeAt(k);
    return code >= 48 && code <= 57;
  };
  while (i < text.length && isDigitAt(i)) {
    i++;
    digits++;
  }
  if (text.charAt(i) === '.') {
    i++;
    while (i < text.length && isDigitAt(i)) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (text.charAt(i) === 'e' || text.charAt(i) === 'E') {
    i++;
    if (text.charAt(i) === '-' || text.charAt(i) === '+') i++;
    let exp = 0;
    while (i < text.length && isDigitAt(i)) {
      i++;
      exp++;
    }
    if (exp === 0) return false;
  }
  return i === text.length;
}
