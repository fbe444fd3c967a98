import { fail, quote } from './errors.ts';
import { eager, intArg } from './fn-text.ts';
import { ArgFailure, type EagerSpec, type FunctionSpec, type StaticArg } from './function-types.ts';
import {
  asDecimal,
  asNumber,
  asString,
  asWhole,
  javaDouble,
  parseNumberText,
  type ResultType,
  toLong,
  truncToLong,
  type Value,
} from './values.ts';

function numericResult(subject: ResultType, args: readonly ResultType[]): ResultType {
  const all = [subject, ...args];
  if (all.includes('decimal')) return 'decimal';
  if (all.every((t) => t === 'number' || t === 'date')) return 'number';
  return 'unknown';
}

function show(value: bigint | number): string {
  return typeof value === 'bigint' ? value.toString() : javaDouble(value);
}

function arithmetic(
  name: string,
  description: string,
  whole: (a: bigint, b: bigint) => bigint,
  decimal: (a: number, b: number) => number,
  division = false,
): EagerSpec {
  return eager({
    name,
    group: 'math',
    description,
    returns: 'number',
    subjectKind: 'number',
    params: [{ name: 'operand', kind: 'number' }],
    resultType: numericResult,
    eval: (_ctx, s, args) => {
      const x = asNumber(s);
      const y = asNumber(args[0] ?? null);
      if (x === null || y === null) return null;
      if (typeof x === 'bigint' && typeof y === 'bigint') {
        if (division && y === 0n) throw fail(`cannot divide ${show(x)} by zero`);
        return toLong(whole(x, y));
      }
      const b = Number(y);
      if (division && b === 0) throw fail(`cannot divide ${show(x)} by zero`);
      return decimal(Number(x), b);
    },
  });
}

function checkRadix(index: number): (args: readonly StaticArg[]) => void {
  return (args) => {
    const literal = args[index]?.literal;
    if (typeof literal === 'bigint' && (literal < 2n || literal > 36n)) {
      throw new ArgFailure(index, `needs a radix between 2 and 36, but got ${literal}`);
    }
  };
}

function radixArg(value: Value): number {
  const radix = intArg(value, 'the radix');
  if (radix < 2 || radix > 36) throw fail(`needs a radix between 2 and 36, but got ${radix}`);
  return radix;
}

function parseRadix(text: string, radix: number): bigint {
  const trimmed = text.trim();
  let i = 0;
  let negative = false;
  if (trimmed.startsWith('-') || trimmed.startsWith('+')) {
    negative = trimmed.startsWith('-');
    i = 1;
  }
  if (i >= trimmed.length) throw fail(`cannot read ${quote(text)} as a base-${radix} number`);
  let value = 0n;
  const big = BigInt(radix);
  for (; i < trimmed.length; i++) {
    const digit = Number.parseInt(trimmed.charAt(i), 36);
    if (Number.isNaN(digit) || digit >= radix) {
      throw fail(`cannot read ${quote(text)} as a base-${radix} number: "${trimmed.charAt(i)}" is not a base-${radix} digit`);
    }
    value = value * big + BigInt(digit);
  }
  if (negative) value = -value;
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n))
    throw fail(`cannot read ${quote(text)}: it is too large for a whole number`);
  return value;
}

function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

type MathFn = (x: bigint | number, y: bigint | number | undefined) => bigint | number;

function unaryDecimal(fn: (x: number) => number): MathFn {
  return (x) => fn(Number(x));
}

function binaryDecimal(fn: (x: number, y: number) => number): MathFn {
  return (x, y) => {
    if (y === undefined) throw fail('needs a second argument for this method');
    return fn(Number(x), Number(y));
  };
}

function exact(fn: (x: bigint, y: bigint) => bigint): MathFn {
  return (x, y) => {
    if (y === undefined) throw fail('needs a second argument for this method');
    if (typeof x !== 'bigint' || typeof y !== 'bigint') throw fail('needs whole numbers for this method');
    const r = fn(x, y);
    if (r !== toLong(r)) throw fail('overflowed the whole-number range');
    return r;
  };
}

function floorDiv(x: bigint, y: bigint): bigint {
  if (y === 0n) throw fail('cannot divide by zero');
  const q = x / y;
  return x % y !== 0n && x < 0n !== y < 0n ? q - 1n : q;
}

// java.lang.Math methods by name. Whole numbers stay whole where Java has a long overload.
const MATH_METHODS = new Map<string, MathFn>([
  ['abs', (x) => (typeof x === 'bigint' ? toLong(x < 0n ? -x : x) : Math.abs(x))],
  ['negateExact', (x) => (typeof x === 'bigint' ? toLong(-x) : -x)],
  ['round', (x) => (typeof x === 'bigint' ? x : truncToLong(Math.floor(x + 0.5)))],
  [
    'max',
    (x, y) => {
      if (y === undefined) throw fail('needs a second argument for this method');
      // biome-ignore lint/complexity/useMathMinMax: Math.max does not accept bigint.
      return typeof x === 'bigint' && typeof y === 'bigint' ? (x > y ? x : y) : Math.max(Number(x), Number(y));
    },
  ],
  [
    'min',
    (x, y) => {
      if (y === undefined) throw fail('needs a second argument for this method');
      // biome-ignore lint/complexity/useMathMinMax: Math.min does not accept bigint.
      return typeof x === 'bigint' && typeof y === 'bigint' ? (x < y ? x : y) : Math.min(Number(x), Number(y));
    },
  ],
  ['addExact', exact((x, y) => x + y)],
  ['subtractExact', exact((x, y) => x - y)],
  ['multiplyExact', exact((x, y) => x * y)],
  ['floorDiv', exact(floorDiv)],
  ['floorMod', exact((x, y) => x - floorDiv(x, y) * y)],
  ['sqrt', unaryDecimal(Math.sqrt)],
  ['cbrt', unaryDecimal(Math.cbrt)],
  ['exp', unaryDecimal(Math.exp)],
  ['expm1', unaryDecimal(Math.expm1)],
  ['log', unaryDecimal(Math.log)],
  ['log10', unaryDecimal(Math.log10)],
  ['log1p', unaryDecimal(Math.log1p)],
  ['sin', unaryDecimal(Math.sin)],
  ['cos', unaryDecimal(Math.cos)],
  ['tan', unaryDecimal(Math.tan)],
  ['asin', unaryDecimal(Math.asin)],
  ['acos', unaryDecimal(Math.acos)],
  ['atan', unaryDecimal(Math.atan)],
  ['sinh', unaryDecimal(Math.sinh)],
  ['cosh', unaryDecimal(Math.cosh)],
  ['tanh', unaryDecimal(Math.tanh)],
  ['ceil', unaryDecimal(Math.ceil)],
  ['floor', unaryDecimal(Math.floor)],
  ['rint', unaryDecimal(rint)],
  ['signum', unaryDecimal((x) => (Number.isNaN(x) ? x : Math.sign(x)))],
  ['toDegrees', unaryDecimal((x) => (x * 180) / Math.PI)],
  ['toRadians', unaryDecimal((x) => (x / 180) * Math.PI)],
  ['pow', binaryDecimal(Math.pow)],
  ['atan2', binaryDecimal(Math.atan2)],
  ['hypot', binaryDecimal(Math.hypot)],
  ['scalb', binaryDecimal((x, y) => x * 2 ** Math.trunc(y))],
  ['copySign', binaryDecimal((x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x)))],
  ['IEEEremainder', binaryDecimal((x, y) => x - y * rint(x / y))],
]);

const MATH_NAMES = [...MATH_METHODS.keys(), 'random'].sort();

function unknownMethod(name: string): string {
  return `does not know the method ${quote(name)}; use one of ${MATH_NAMES.join(', ')}`;
}

function strictNumber(value: Value, target: 'whole' | 'decimal'): bigint | number | null {
  if (value === null) return null;
  if (typeof value === 'boolean') throw fail(`cannot convert the true/false value ${value} to a number`);
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return null;
    const parsed = parseNumberText(trimmed);
    if (parsed === undefined) {
      throw fail(`cannot convert ${quote(value)} to a ${target === 'whole' ? 'whole number' : 'decimal number'}`);
    }
    return target === 'whole' ? (typeof parsed === 'bigint' ? parsed : truncToLong(parsed)) : Number(parsed);
  }
  return target === 'whole' ? asWhole(value) : asDecimal(value);
}

/** Arithmetic and type conversion functions. */
export const MATH_FUNCTIONS: readonly FunctionSpec[] = [
  arithmetic(
    'plus',
    'The subject plus the argument (a decimal if either is a decimal).',
    (a, b) => a + b,
    (a, b) => a + b,
  ),
  arithmetic(
    'minus',
    'The subject minus the argument.',
    (a, b) => a - b,
    (a, b) => a - b,
  ),
  arithmetic(
    'multiply',
    'The subject times the argument.',
    (a, b) => a * b,
    (a, b) => a * b,
  ),
  arithmetic(
    'divide',
    'The subject divided by the argument; whole numbers give a whole result (5 / 2 = 2).',
    (a, b) => a / b,
    (a, b) => a / b,
    true,
  ),
  arithmetic(
    'mod',
    'The remainder of dividing the subject by the argument.',
    (a, b) => a % b,
    (a, b) => a % b,
    true,
  ),
  eager({
    name: 'toRadix',
    group: 'math',
    description: 'The subject written in another base (2-36), optionally zero-padded to a minimum width.',
    returns: 'string',
    subjectKind: 'number',
    params: [
      { name: 'radix', kind: 'number' },
      { name: 'padding', kind: 'number', optional: true },
    ],
    check: checkRadix(0),
    eval: (_ctx, s, args) => {
      const n = asWhole(s);
      if (n === null) return null;
      const text = n.toString(radixArg(args[0] ?? null));
      const width = args.length > 1 ? intArg(args[1] ?? null, 'the padding') : 0;
      return width > text.length ? '0'.repeat(Math.min(width, 1024) - text.length) + text : text;
    },
  }),
  eager({
    name: 'fromRadix',
    group: 'math',
    description: 'Reads the subject as a number in another base (2-36).',
    returns: 'number',
    params: [{ name: 'radix', kind: 'number' }],
    check: checkRadix(0),
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      return parseRadix(text, radixArg(args[0] ?? null));
    },
  }),
  eager({
    name: 'math',
    group: 'math',
    description:
      'Runs a java.lang.Math method (abs, pow, sqrt, max, round, ...) on the subject; math("random") needs no subject.',
    returns: 'decimal',
    subject: 'optional',
    subjectKind: 'number',
    params: [
      { name: 'method', kind: 'string' },
      { name: 'argument', kind: 'number', optional: true },
    ],
    resultType: () => 'unknown',
    check: (args) => {
      const method = args[0]?.literal;
      if (typeof method === 'string' && method !== 'random' && !MATH_METHODS.has(method))
        throw new ArgFailure(0, unknownMethod(method));
    },
    eval: (_ctx, s, args) => {
      const method = asString(args[0] ?? null) ?? '';
      if (method === 'random') return Math.random();
      const fn = MATH_METHODS.get(method);
      if (fn === undefined) throw fail(unknownMethod(method));
      const x = asNumber(s);
      if (x === null) return null;
      const y = args.length > 1 ? asNumber(args[1] ?? null) : undefined;
      if (y === null) return null;
      return fn(x, y);
    },
  }),
  eager({
    name: 'toString',
    group: 'conversion',
    description: 'The subject as text.',
    returns: 'string',
    subjectKind: 'any',
    eval: (_ctx, s) => asString(s),
  }),
  eager({
    name: 'toNumber',
    group: 'conversion',
    description: 'The subject as a whole number (decimals are truncated, dates give epoch milliseconds).',
    returns: 'number',
    subjectKind: 'any',
    eval: (_ctx, s) => strictNumber(s, 'whole'),
  }),
  eager({
    name: 'toDecimal',
    group: 'conversion',
    description: 'The subject as a decimal number.',
    returns: 'decimal',
    subjectKind: 'any',
    eval: (_ctx, s) => strictNumber(s, 'decimal'),
  }),
];
