/** A JSON syntax error: what is wrong and the character offset where it was found. */
export interface JsonSyntaxProblem {
  readonly offset: number;
  readonly message: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Finds the first syntax error in a JSON text, with its offset. Used only after `JSON.parse` failed,
 * because V8's messages do not always give a position. Iterative, so deep nesting cannot overflow
 * the stack. Returns undefined when the text is valid.
 */
export function locateJsonError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const n = text.length;
  const stack: Array<'object' | 'array'> = [];
  const skip = (): void => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const found = (): string => (i >= n ? 'the end of the input' : JSON.stringify(text[i]));
  const fail = (expected: string): JsonSyntaxProblem => ({ offset: i, message: `expected ${expected} but found ${found()}` });

  const scalar = (): JsonSyntaxProblem | undefined => {
    const c = text[i];
    if (c === '"') return string();
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return undefined;
      }
    }
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    if (c !== undefined && /[-\d]/.test(c) && m.test(text)) {
      i = m.lastIndex;
      return undefined;
    }
    return fail('a JSON value');
  };

  const string = (): JsonSyntaxProblem | undefined => {
    i++; // opening quote
    while (i < n) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return undefined;
      }
      if (code < 0x20) return { offset: i, message: 'control character inside a string (escape it)' };
      if (code === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, message: 'bad \\u escape in a string' };
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return { offset: i, message: 'bad escape in a string' };
        i += 2;
        continue;
      }
      i++;
    }
    return { offset: i, message: 'unterminated string' };
  };

  // A value: opens a container (pushed on the stack) or consumes a scalar.
  const value = (): JsonSyntaxProblem | undefined => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      skip();
      if (text[i] === '}') {
        i++;
        return undefined;
      }
      stack.push('object');
      return member();
    }
    if (c === '[') {
      i++;
      skip();
      if (text[i] === ']') {
        i++;
        return undefined;
      }
      stack.push('array');
      return undefined;
    }
    return scalar();
  };

  // The start of an object member: "name" :
  const member = (): JsonSyntaxProblem | undefined => {
    skip();
    if (text[i] !== '"') return fail('a double-quoted property name');
    const problem = string();
    if (problem !== undefined) return problem;
    skip();
    if (text[i] !== ':') return fail("':' after the property name");
    i++;
    return undefined;
  };

  let problem = value();
  while (problem === undefined && stack.length > 0) {
    // The next array element or member value (the member name was consumed already); a container
    // it opens is handled by the next turn of the loop.
    const depth = stack.length;
    problem = value();
    if (problem !== undefined || stack.length > depth) continue;
    // After a complete element or member value: ',' continues, the closer pops.
    for (;;) {
      skip();
      const current = stack[stack.length - 1];
      if (current === undefined) break;
      const close = current === 'array' ? ']' : '}';
      if (text[i] === ',') {
        i++;
        if (current === 'object') problem = member();
        break;
      }
      if (text[i] === close) {
        i++;
        stack.pop();
        continue;
      }
      problem = fail(`',' or '${close}'`);
      break;
    }
  }
  if (problem !== undefined) return problem;
  skip();
  if (i < n) return fail('the end of the input');
  return undefined;
}

/** 1-based line and column of a character offset in `text`, counted from `start`. */
export function lineAndColumn(
  text: string,
  offset: number,
  start: { line: number; column: number },
): { line: number; column: number } {
  let line = start.line;
  let column = start.column;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 0x0a) {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}
