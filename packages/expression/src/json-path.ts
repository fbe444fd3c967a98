import { ElFailure, ExpressionError } from './errors.ts';
import { compileJavaRegex } from './java-regex.ts';

// A small JSONPath (Jayway dialect) evaluator: $ . [] .. * [n] [-n] [a:b] [0,2] ['a','b']
// [?(filter)] and a trailing .length(). Objects are read through Object.hasOwn only, so keys such as
// "__proto__" or "constructor" are ordinary data.

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? Reflect.get(object, key) : undefined;
}

/** Where a match sits in the document, so update functions can change it in place. */
export interface JsonLocation {
  readonly value: unknown;
  /** The containing object or array; undefined for the root. */
  readonly parent: object | undefined;
  readonly key: string | number | undefined;
}

type Segment =
  | { readonly kind: 'names'; readonly names: readonly string[] }
  | { readonly kind: 'indices'; readonly indices: readonly number[] }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'slice'; readonly start?: number; readonly end?: number; readonly step?: number }
  | { readonly kind: 'filter'; readonly filter: FilterNode }
  | { readonly kind: 'descend'; readonly then: Segment }
  | { readonly kind: 'length' };

type Operand =
  | { readonly kind: 'path'; readonly relative: boolean; readonly segments: readonly Segment[]; readonly definite: boolean }
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'regex'; readonly pattern: string };

type FilterNode =
  | { readonly kind: 'or' | 'and'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly operand: FilterNode }
  | { readonly kind: 'test'; readonly operand: Operand }
  | { readonly kind: 'compare'; readonly op: string; readonly left: Operand; readonly right: Operand };

/** A parsed JSONPath, reusable across documents. */
export interface CompiledJsonPath {
  readonly source: string;
  /** True when the path can match at most one value (no wildcards, filters, slices, unions, `..`). */
  readonly definite: boolean;
  /** All matching values, in document order. */
  evaluate(document: unknown): unknown[];
  /** All matches with their parents, for update functions. */
  locate(document: unknown): JsonLocation[];
}

const MISSING = Symbol('missing');

function isDefinite(segments: readonly Segment[]): boolean {
  return segments.every(
    (s) =>
      (s.kind === 'names' && s.names.length === 1) || (s.kind === 'indices' && s.indices.length === 1) || s.kind === 'length',
  );
}

class PathParser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly original: string,
    private readonly shift: number,
  ) {}

  error(message: string, at = this.pos): ExpressionError {
    const position = Math.max(0, at - this.shift);
    return new ExpressionError(`Invalid JSON path "${this.original}": ${message} at position ${position}`, position);
  }

  private peek(offset = 0): string {
    return this.src.charAt(this.pos + offset);
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  private expect(text: string): void {
    this.skipSpaces();
    if (!this.src.startsWith(text, this.pos)) {
      throw this.error(`expected "${text}" but found ${this.pos >= this.src.length ? 'the end' : `"${this.peek()}"`}`);
    }
    this.pos += text.length;
  }

  parseRoot(): Segment[] {
    if (this.peek() !== '$') throw this.error('a path must start with "$"');
    this.pos++;
    const segments = this.parseSegments(false);
    this.skipSpaces();
    if (this.pos < this.src.length) throw this.error(`unexpected "${this.peek()}"`);
    return segments;
  }

  /** Segments after `$` or `@`; inside a filter, stops at the first character that cannot continue a path. */
  parseSegments(inFilter: boolean): Segment[] {
    const segments: Segment[] = [];
    for (;;) {
      const c = this.peek();
      if (c === '.' && this.peek(1) === '.') {
        this.pos += 2;
        const next = this.peek();
        let then: Segment;
        if (next === '[') {
          this.pos++;
          then = this.parseBracket();
        } else if (next === '*') {
          this.pos++;
          then = { kind: 'wildcard' };
        } else {
          const name = this.readName();
          if (name === '') throw this.error('expected a name after ".."');
          then = { kind: 'names', names: [name] };
        }
        segments.push({ kind: 'descend', then });
      } else if (c === '.') {
        this.pos++;
        if (this.peek() === '*') {
          this.pos++;
          segments.push({ kind: 'wildcard' });
          continue;
        }
        const name = this.readName();
        if (name === '') throw this.error('expected a name after "."');
        if (this.peek() === '(') {
          this.expect('(');
          this.expect(')');
          if (name !== 'length' && name !== 'size') throw this.error(`unknown function "${name}()"; only length() is supported`);
          segments.push({ kind: 'length' });
          continue;
        }
        segments.push({ kind: 'names', names: [name] });
      } else if (c === '[') {
        this.pos++;
        segments.push(this.parseBracket());
      } else {
        if (!inFilter && c !== '' && c !== ' ') throw this.error(`unexpected "${c}"`);
        return segments;
      }
    }
  }

  private readWordLiteral(): unknown {
    if (this.src.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.src.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.src.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return MISSING;
  }

  private readName(): string {
    const start = this.pos;
    while (this.pos < this.src.length && !'.[]()<>=!&|, \t\'"'.includes(this.peek())) this.pos++;
    return this.src.slice(start, this.pos);
  }

  private readQuoted(): string {
    const quote = this.peek();
    const start = this.pos;
    this.pos++;
    let out = '';
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === quote) {
        this.pos++;
        return out;
      }
      if (c === '\\' && this.pos + 1 < this.src.length) {
        const e = this.peek(1);
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        this.pos += 2;
        continue;
      }
      out += c;
      this.pos++;
    }
    throw this.error('unclosed quote', start);
  }

  private readInt(): number | undefined {
    this.skipSpaces();
    const start = this.pos;
    if (this.peek() === '-') this.pos++;
    while (this.peek() >= '0' && this.peek() <= '9') this.pos++;
    if (this.pos === start || (this.pos === start + 1 && this.src.charAt(start) === '-')) {
      this.pos = start;
      return undefined;
    }
    return Number(this.src.slice(start, this.pos));
  }

  /** After `[`: wildcard, names, indices, slice or filter, through the closing `]`. */
  private parseBracket(): Segment {
    this.skipSpaces();
    const c = this.peek();
    let segment: Segment;
    if (c === '*') {
      this.pos++;
      segment = { kind: 'wildcard' };
    } else if (c === '?') {
      this.pos++;
      this.expect('(');
      const filter = this.parseOr();
      this.expect(')');
      segment = { kind: 'filter', filter };
    } else if (c === "'" || c === '"') {
      const names = [this.readQuoted()];
      this.skipSpaces();
      while (this.peek() === ',') {
        this.pos++;
        this.skipSpaces();
        if (this.peek() !== "'" && this.peek() !== '"') throw this.error('expected a quoted name');
        names.push(this.readQuoted());
        this.skipSpaces();
      }
      segment = { kind: 'names', names };
    } else {
      const first = this.readInt();
      this.skipSpaces();
      if (this.peek() === ':') {
        this.pos++;
        const end = this.readInt();
        this.skipSpaces();
        let step: number | undefined;
        if (this.peek() === ':') {
          this.pos++;
          step = this.readInt();
          if (step === 0) throw this.error('a slice step cannot be 0');
        }
        segment = { kind: 'slice', start: first, end, step };
      } else {
        if (first === undefined) throw this.error(c === '' ? 'unclosed "["' : `unexpected "${c}" after "["`);
        const indices = [first];
        this.skipSpaces();
        while (this.peek() === ',') {
          this.pos++;
          const next = this.readInt();
          if (next === undefined) throw this.error('expected an index after ","');
          indices.push(next);
          this.skipSpaces();
        }
        segment = { kind: 'indices', indices };
      }
    }
    this.expect(']');
    return segment;
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    for (;;) {
      this.skipSpaces();
      if (!this.src.startsWith('||', this.pos)) return left;
      this.pos += 2;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    for (;;) {
      this.skipSpaces();
      if (!this.src.startsWith('&&', this.pos)) return left;
      this.pos += 2;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
  }

  private parseUnary(): FilterNode {
    this.skipSpaces();
    if (this.peek() === '!' && this.peek(1) !== '=') {
      this.pos++;
      return { kind: 'not', operand: this.parseUnary() };
    }
    if (this.peek() === '(') {
      this.pos++;
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    const left = this.parseOperand();
    this.skipSpaces();
    for (const op of ['==', '!=', '<=', '>=', '=~', '<', '>', ' in ', ' nin ']) {
      const trimmed = op.trim();
      const matchesWord = op.startsWith(' ') ? this.src.startsWith(`${trimmed} `, this.pos) : this.src.startsWith(op, this.pos);
      if (matchesWord) {
        this.pos += trimmed.length;
        const right = this.parseOperand();
        if (trimmed === '=~' && right.kind !== 'regex') throw this.error('expected a /regex/ after "=~"');
        return { kind: 'compare', op: trimmed, left, right };
      }
    }
    return { kind: 'test', operand: left };
  }

  private parseOperand(): Operand {
    this.skipSpaces();
    const c = this.peek();
    if (c === '@' || c === '$') {
      this.pos++;
      const segments = this.parseSegments(true);
      return { kind: 'path', relative: c === '@', segments, definite: isDefinite(segments) };
    }
    if (c === "'" || c === '"') return { kind: 'literal', value: this.readQuoted() };
    if (c === '/') {
      const start = this.pos;
      this.pos++;
      let pattern = '';
      while (this.pos < this.src.length && this.peek() !== '/') {
        if (this.peek() === '\\' && this.peek(1) === '/') {
          pattern += '/';
          this.pos += 2;
          continue;
        }
        pattern += this.peek();
        this.pos++;
      }
      if (this.peek() !== '/') throw this.error('unclosed /regex/', start);
      this.pos++;
      let flags = '';
      while (this.peek() === 'i' || this.peek() === 'm' || this.peek() === 's') {
        flags += this.peek();
        this.pos++;
      }
      return { kind: 'regex', pattern: flags === '' ? pattern : `(?${flags})${pattern}` };
    }
    if (c === '[') {
      this.pos++;
      const values: unknown[] = [];
      this.skipSpaces();
      while (this.peek() !== ']') {
        const item = this.parseOperand();
        if (item.kind !== 'literal') throw this.error('lists may only hold literal values');
        values.push(item.value);
        this.skipSpaces();
        if (this.peek() === ',') this.pos++;
        else if (this.peek() !== ']') throw this.error('expected "," or "]" in a list');
        this.skipSpaces();
      }
      this.pos++;
      return { kind: 'literal', value: values };
    }
    const literal = this.readWordLiteral();
    if (literal !== MISSING) return { kind: 'literal', value: literal };
    const start = this.pos;
    if (this.peek() === '-') this.pos++;
    while (this.pos < this.src.length && '0123456789.eE+-'.includes(this.peek())) this.pos++;
    const text = this.src.slice(start, this.pos);
    const value = Number(text);
    if (text === '' || Number.isNaN(value)) {
      this.pos = start;
      throw this.error(c === '' ? 'unexpected end of the filter' : `unexpected "${c}" in a filter`);
    }
    return { kind: 'literal', value };
  }
}

function childLocations(loc: JsonLocation, out: JsonLocation[]): void {
  const v = loc.value;
  if (Array.isArray(v)) {
    v.forEach((value, key) => {
      out.push({ value, parent: v, key });
    });
  } else if (isObject(v)) {
    for (const key of Object.keys(v)) out.push({ value: own(v, key), parent: v, key });
  }
}

function descendants(loc: JsonLocation, out: JsonLocation[]): void {
  out.push(loc);
  const children: JsonLocation[] = [];
  childLocations(loc, children);
  for (const child of children) descendants(child, out);
}

function applySegment(segment: Segment, input: readonly JsonLocation[], root: unknown): JsonLocation[] {
  const out: JsonLocation[] = [];
  for (const loc of input) {
    const v = loc.value;
    switch (segment.kind) {
      case 'names':
        if (isObject(v)) {
          for (const name of segment.names) if (Object.hasOwn(v, name)) out.push({ value: own(v, name), parent: v, key: name });
        }
        break;
      case 'indices':
        if (Array.isArray(v)) {
          for (const raw of segment.indices) {
            const index = raw < 0 ? v.length + raw : raw;
            if (index >= 0 && index < v.length) out.push({ value: v[index], parent: v, key: index });
          }
        }
        break;
      case 'wildcard':
        childLocations(loc, out);
        break;
      case 'slice':
        if (Array.isArray(v)) {
          const len = v.length;
          const step = segment.step ?? 1;
          const norm = (n: number | undefined, fallback: number) => {
            if (n === undefined) return fallback;
            return n < 0 ? Math.max(len + n, step > 0 ? 0 : -1) : Math.min(n, step > 0 ? len : len - 1);
          };
          const start = norm(segment.start, step > 0 ? 0 : len - 1);
          const end = norm(segment.end, step > 0 ? len : -1);
          if (step > 0) for (let i = start; i < end; i += step) out.push({ value: v[i], parent: v, key: i });
          else for (let i = start; i > end; i += step) out.push({ value: v[i], parent: v, key: i });
        }
        break;
      case 'filter':
        if (Array.isArray(v)) {
          v.forEach((value, key) => {
            if (testFilter(segment.filter, value, root)) out.push({ value, parent: v, key });
          });
        } else if (isObject(v) && testFilter(segment.filter, v, root)) {
          out.push(loc);
        }
        break;
      case 'descend': {
        const all: JsonLocation[] = [];
        descendants(loc, all);
        out.push(...applySegment(segment.then, all, root));
        break;
      }
      case 'length':
        if (Array.isArray(v)) out.push({ value: v.length, parent: undefined, key: undefined });
        else if (isObject(v)) out.push({ value: Object.keys(v).length, parent: undefined, key: undefined });
        else if (typeof v === 'string') out.push({ value: v.length, parent: undefined, key: undefined });
        break;
      default:
        break;
    }
  }
  return out;
}

function run(segments: readonly Segment[], start: unknown, root: unknown): JsonLocation[] {
  let current: JsonLocation[] = [{ value: start, parent: undefined, key: undefined }];
  for (const segment of segments) {
    current = applySegment(segment, current, root);
    if (current.length === 0) break;
  }
  return current;
}

function operandValue(operand: Operand, current: unknown, root: unknown): unknown {
  switch (operand.kind) {
    case 'literal':
      return operand.value;
    case 'regex':
      return operand.pattern;
    default: {
      const matches = run(operand.segments, operand.relative ? current : root, root);
      if (operand.definite) return matches.length === 0 ? MISSING : matches[0]?.value;
      return matches.map((m) => m.value);
    }
  }
}

function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

function compare(op: string, a: unknown, b: unknown, regex: string | undefined): boolean {
  if (a === MISSING || b === MISSING) return op === '!=';
  switch (op) {
    case '==':
      return jsonEquals(a, b);
    case '!=':
      return !jsonEquals(a, b);
    case '=~': {
      if (typeof a !== 'string' || regex === undefined) return false;
      const { regex: re } = compileJavaRegex(regex, 'full');
      re.lastIndex = 0;
      return re.test(a);
    }
    case 'in':
      return Array.isArray(b) && b.some((x) => jsonEquals(a, x));
    case 'nin':
      return Array.isArray(b) && !b.some((x) => jsonEquals(a, x));
    default:
      break;
  }
  if (typeof a === 'number' && typeof b === 'number') return order(op, a, b);
  if (typeof a === 'string' && typeof b === 'string') return order(op, a, b);
  return false;
}

function order<T extends number | string>(op: string, x: T, y: T): boolean {
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function testFilter(node: FilterNode, current: unknown, root: unknown): boolean {
  switch (node.kind) {
    case 'or':
      return testFilter(node.left, current, root) || testFilter(node.right, current, root);
    case 'and':
      return testFilter(node.left, current, root) && testFilter(node.right, current, root);
    case 'not':
      return !testFilter(node.operand, current, root);
    case 'test': {
      const value = operandValue(node.operand, current, root);
      if (node.operand.kind === 'path')
        return Array.isArray(value) && !node.operand.definite ? value.length > 0 : value !== MISSING;
      return value !== false && value !== null && value !== MISSING;
    }
    default: {
      const regex = node.right.kind === 'regex' ? node.right.pattern : undefined;
      return compare(node.op, operandValue(node.left, current, root), operandValue(node.right, current, root), regex);
    }
  }
}

const pathCache = new Map<string, CompiledJsonPath>();

/**
 * Parses a JSONPath (Jayway dialect). A path not starting with `$` is read relative to the root,
 * as Jayway does (`store.book` means `$.store.book`). Throws ExpressionError with the offset in
 * the path for a malformed path.
 */
export function compileJsonPath(path: string): CompiledJsonPath {
  const cached = pathCache.get(path);
  if (cached !== undefined) return cached;
  const trimmed = path.trim();
  if (trimmed === '') throw new ExpressionError('Invalid JSON path "": the path is empty', 0);
  const prefix = trimmed.startsWith('$') ? '' : trimmed.startsWith('[') ? '$' : '$.';
  const lead = path.length - path.trimStart().length;
  const parser = new PathParser(prefix + trimmed, path, prefix.length - lead);
  const segments = parser.parseRoot();
  const last = segments[segments.length - 1];
  if (segments.some((s, i) => s.kind === 'length' && i !== segments.length - 1)) {
    throw new ExpressionError(`Invalid JSON path "${path}": length() must come last`, 0);
  }
  const compiled: CompiledJsonPath = {
    source: path,
    definite: isDefinite(segments),
    evaluate(document: unknown): unknown[] {
      return run(segments, document, document).map((l) => l.value);
    },
    locate(document: unknown): JsonLocation[] {
      if (last?.kind === 'length') throw new ElFailure('cannot update through length()');
      return run(segments, document, document);
    },
  };
  if (pathCache.size > 256) pathCache.clear();
  pathCache.set(path, compiled);
  return compiled;
}

/**
 * All values in `document` (parsed JSON) that `path` selects, in document order; an empty array
 * when nothing matches. Throws ExpressionError for a malformed path.
 *
 * @example evaluateJsonPath({ a: [{ b: 1 }, { b: 2 }] }, '$.a[?(@.b > 1)].b') // → [2]
 */
export function evaluateJsonPath(document: unknown, path: string): unknown[] {
  return compileJsonPath(path).evaluate(document);
}
