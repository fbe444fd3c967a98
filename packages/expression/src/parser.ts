import type { ArgNode, CallNode, ExprNode, Segment, StringNode, SubjectNode } from './ast.ts';
import { ExpressionError } from './errors.ts';
import { Lexer, readParamRef, runLength, type Token } from './lexer.ts';

function describe(token: Token): string {
  return token.kind === 'eof' ? 'end of text' : `"${token.text.length > 20 ? `${token.text.slice(0, 20)}…` : token.text}"`;
}

function unexpected(token: Token, hint?: string): ExpressionError {
  const base = `Unexpected ${describe(token)} at position ${token.start}`;
  return new ExpressionError(hint === undefined ? base : `${base}; ${hint}`, token.start, Math.max(1, token.end - token.start));
}

function isIdentifier(text: string): boolean {
  if (text === '') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    const digit = c >= 48 && c <= 57;
    if (!(letter || (digit && i > 0))) return false;
  }
  return true;
}

/**
 * Parses a whole template (literal text with `${...}`, `#{...}`, `$${` and `##{`) into segments.
 * Throws ExpressionError at the first syntax error.
 */
export function parseTemplate(source: string): Segment[] {
  const segments: Segment[] = [];
  let text = '';
  let i = 0;
  const flushText = () => {
    if (text !== '') segments.push({ kind: 'text', text });
    text = '';
  };
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === '$' || c === '#') {
      const run = runLength(source, i, c);
      if (source.charAt(i + run) !== '{') {
        text += source.slice(i, i + run);
        i += run;
        continue;
      }
      // Each pair of '$' (or '#') before '{' is one escaped character; an odd one left over opens
      // an expression (or parameter reference). `$${a}` is the literal text `${a}`.
      text += c.repeat(Math.floor(run / 2));
      const open = i + run - 1;
      if (run % 2 === 0) {
        text += '{';
        i = open + 2;
        continue;
      }
      flushText();
      if (c === '#') {
        const ref = readParamRef(source, open);
        segments.push(ref);
        i = ref.end;
      } else {
        const expr = parseEmbedded(source, open);
        segments.push(expr);
        i = expr.end;
      }
      continue;
    }
    text += c;
    i++;
  }
  flushText();
  return segments;
}

/** Parses the expression whose `${` is at `open` in `source`, with its own lexer. */
function parseEmbedded(source: string, open: number): ExprNode {
  const lexer: Lexer = new Lexer(source, open + 2, (nested) => parseEmbeddedInText(source, nested));
  return parseExpression(lexer, open);
}

/**
 * An expression embedded in quoted text. When it runs into the closing quote, the real mistake is
 * an unclosed `${` (or one meant literally), so say that rather than "unclosed text".
 */
function parseEmbeddedInText(source: string, open: number): ExprNode {
  try {
    return parseEmbedded(source, open);
  } catch (e) {
    if (e instanceof ExpressionError && (e.message.startsWith('Unclosed text') || e.message.startsWith('Unclosed expression'))) {
      throw new ExpressionError(
        `Unclosed expression: "\${" at position ${open} has no matching "}" (write $\${ for a literal "\${")`,
        open,
        2,
      );
    }
    throw e;
  }
}

/** Parses one expression whose `${` is at `open`; the lexer is positioned just after `${`. */
function parseExpression(lexer: Lexer, open: number): ExprNode {
  const unclosed = () => new ExpressionError(`Unclosed expression: "\${" at position ${open} has no matching "}"`, open, 2);
  const subject = parseSubject(lexer, open, unclosed);
  const calls: CallNode[] = [];
  for (;;) {
    const token = lexer.next();
    if (token.kind === 'rbrace') return { kind: 'expr', subject, calls, start: open, end: token.end };
    if (token.kind === 'eof') throw unclosed();
    if (token.kind !== 'colon') {
      throw unexpected(token, 'expected ":" before a function or "}" to end the expression');
    }
    const nameToken = lexer.next();
    if (nameToken.kind === 'eof') throw unclosed();
    if (nameToken.kind !== 'name' || !isIdentifier(nameToken.text)) {
      throw new ExpressionError(
        `Expected a function name after ":" at position ${nameToken.start}, but found ${describe(nameToken)}`,
        nameToken.start,
        Math.max(1, nameToken.end - nameToken.start),
      );
    }
    calls.push(parseCall(lexer, nameToken, unclosed));
  }
}

function parseSubject(lexer: Lexer, open: number, unclosed: () => ExpressionError): SubjectNode {
  const token = lexer.next();
  switch (token.kind) {
    case 'name':
    case 'number': {
      if (lexer.peek().kind === 'lparen') {
        if (!isIdentifier(token.text)) throw unexpected(lexer.peek(), `"${token.text}" is not a function name`);
        return parseCall(lexer, token, unclosed);
      }
      const name: StringNode = { kind: 'string', parts: [token.text], start: token.start, end: token.end };
      return { kind: 'attribute', name, start: token.start, end: token.end };
    }
    case 'string': {
      const name: StringNode = { kind: 'string', parts: token.parts ?? [''], start: token.start, end: token.end };
      return { kind: 'attribute', name, start: token.start, end: token.end };
    }
    case 'paramOpen':
      if (token.param === undefined) throw unexpected(token);
      return { kind: 'paramAttribute', param: token.param, start: token.start, end: token.end };
    case 'exprOpen':
      throw new ExpressionError(
        `An expression cannot start with another expression (position ${token.start}); use literal(\${...}) to work with its value`,
        token.start,
        2,
      );
    case 'rbrace':
      throw new ExpressionError(
        `Empty expression "\${}" at position ${open}; put an attribute name or a function inside`,
        open,
        3,
      );
    case 'eof':
      throw unclosed();
    default:
      throw unexpected(token, 'expected an attribute name or a function such as now()');
  }
}

function parseCall(lexer: Lexer, nameToken: Token, unclosed: () => ExpressionError): CallNode {
  const name = nameToken.text;
  const open = lexer.next();
  if (open.kind !== 'lparen') {
    if (open.kind === 'eof') throw unclosed();
    throw new ExpressionError(
      `Expected "(" after the function name "${name}" at position ${open.start}; write ${name}()`,
      open.start,
      Math.max(1, open.end - open.start),
    );
  }
  const unclosedParen = () =>
    new ExpressionError(`Unclosed "(": "${name}(" at position ${nameToken.start} has no matching ")"`, open.start, 1);
  const args: ArgNode[] = [];
  if (lexer.peek().kind === 'rparen') {
    const close = lexer.next();
    return { kind: 'call', name, start: nameToken.start, end: close.end, args };
  }
  for (;;) {
    args.push(parseArgument(lexer, unclosedParen));
    const sep = lexer.next();
    if (sep.kind === 'rparen') return { kind: 'call', name, start: nameToken.start, end: sep.end, args };
    if (sep.kind === 'eof') throw unclosedParen();
    if (sep.kind !== 'comma') throw unexpected(sep, `expected "," or ")" in the arguments of "${name}"`);
  }
}

function parseArgument(lexer: Lexer, unclosedParen: () => ExpressionError): ArgNode {
  const token = lexer.next();
  switch (token.kind) {
    case 'string':
      return { kind: 'string', parts: token.parts ?? [''], start: token.start, end: token.end };
    case 'number': {
      const text = token.text;
      const whole = !text.includes('.') && !text.includes('e') && !text.includes('E');
      if (whole) {
        const value = BigInt(text);
        if (value < -(2n ** 63n) || value > 2n ** 63n - 1n) {
          throw new ExpressionError(
            `The number ${text} at position ${token.start} is too large for a whole number`,
            token.start,
            text.length,
          );
        }
        return { kind: 'number', value, start: token.start, end: token.end };
      }
      return { kind: 'number', value: Number(text), start: token.start, end: token.end };
    }
    case 'name':
      if (token.text === 'true' || token.text === 'false') {
        return { kind: 'boolean', value: token.text === 'true', start: token.start, end: token.end };
      }
      throw new ExpressionError(
        `Unexpected "${token.text}" at position ${token.start}; put text arguments in quotes ('${token.text}') and attribute values in \${${token.text}}`,
        token.start,
        token.end - token.start,
      );
    case 'exprOpen':
      return parseExpression(lexer, token.start);
    case 'paramOpen':
      if (token.param === undefined) throw unexpected(token);
      return token.param;
    case 'eof':
      throw unclosedParen();
    default:
      throw unexpected(token, `expected a value: quoted text, a number, true/false or an embedded \${...}`);
  }
}
