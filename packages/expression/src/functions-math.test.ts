import { compile } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { context, errorOf, ev } from './context.test-helper.ts';

describe('whole numbers and decimals', () => {
  it('keeps whole-number arithmetic whole, including division', () => {
    expect(
      ev('${fileSize:plus(1000)} ${fileSize:minus(100)} ${fileSize:multiply(1024)} ${fileSize:divide(12)} ${fileSize:mod(12)}', {
        fileSize: '100',
      }),
    ).toBe('1100 0 102400 8 4');
    expect(ev('${literal(5):divide(2)}')).toBe('2');
    expect(ev('${literal(-7):divide(2)} ${literal(-7):mod(2)}')).toBe('-3 -1');
    expect(compile('${literal(5):toNumber():divide(2)}').resultType).toBe('number');
  });

  it('switches to decimals when either side is a decimal', () => {
    expect(ev('${literal(5.0):divide(2)}')).toBe('2.5');
    expect(ev('${literal(5):divide(2.0)}')).toBe('2.5');
    expect(ev('${literal(5):toDecimal():divide(2)}')).toBe('2.5');
    expect(ev('${literal(1.5):plus(1)} ${literal(0.1):plus(0.2)} ${literal(7.5):mod(2)}')).toBe('2.5 0.30000000000000004 1.5');
    expect(ev('${literal(4):toDecimal()}')).toBe('4.0');
    expect(ev('${literal(10000000):toDecimal()} ${literal(0.0001):toDecimal()} ${literal(.1E1):toDecimal()}')).toBe(
      '1.0E7 1.0E-4 1.0',
    );
    expect(compile('${a:toDecimal():plus(1)}').resultType).toBe('decimal');
    expect(compile('${a:plus(1.5)}').resultType).toBe('decimal');
    expect(compile('${a:plus(1)}').resultType).toBe('unknown');
  });

  it('reads number text the way NiFi does (hex, exponents, surrounding spaces)', () => {
    expect(ev('${a:plus(1)}', { a: ' 41 ' })).toBe('42');
    expect(ev('${a:toNumber()}', { a: '0x1F' })).toBe('31');
    expect(ev('${a:toNumber()}', { a: '-0x10' })).toBe('-16');
    expect(ev('${a:toNumber()}', { a: '1.9' })).toBe('1');
    expect(ev('${a:toDecimal()}', { a: '1e3' })).toBe('1000.0');
    expect(ev('${a:toNumber()}|${b:toNumber()}', { a: '' })).toBe('|');
  });

  it('is exact beyond 2^53 and overflows like a Java long', () => {
    expect(ev('${a:plus(1)}', { a: '9007199254740993' })).toBe('9007199254740994');
    expect(ev('${a:toNumber():plus(1)}', { a: '9223372036854775807' })).toBe('-9223372036854775808');
    expect(ev('${a:multiply(2)}', { a: '4611686018427387904' })).toBe('-9223372036854775808');
  });

  it('gives null (empty) when a value is not a number, as NiFi does', () => {
    expect(ev('[${a:plus(1)}]', { a: 'abc' })).toBe('[]');
    expect(ev('[${missing:plus(1)}]')).toBe('[]');
    expect(ev('[${a:plus(${missing})}]', { a: '1' })).toBe('[]');
  });

  it('refuses to divide by zero, naming the value', () => {
    const error = errorOf(() => ev('${a:divide(0)}', { a: '10' }));
    expect(error.message).toBe('"divide" cannot divide 10 by zero (at position 4)');
    expect(() => ev('${a:mod(0)}', { a: '10' })).toThrow(/"mod" cannot divide 10 by zero/);
    expect(() => ev('${a:divide(0.0)}', { a: '2.5' })).toThrow(/"divide" cannot divide 2.5 by zero/);
  });

  it('treats dates as epoch milliseconds', () => {
    const now = () => 1_700_000_000_000;
    expect(ev('${now():toNumber()}', {}, { now })).toBe('1700000000000');
    expect(ev('${now():toNumber():minus(86400000)}', {}, { now })).toBe('1699913600000');
    expect(ev('${now():plus(1)}', {}, { now })).toBe('1700000000001');
    expect(ev('${now():toDecimal()}', {}, { now })).toBe('1.7E12');
  });
});

describe('conversions', () => {
  it('toNumber / toDecimal fail loudly on text that is not a number', () => {
    expect(errorOf(() => ev('${a:toNumber()}', { a: 'abc' })).message).toBe(
      '"toNumber" cannot convert "abc" to a whole number (at position 4)',
    );
    expect(errorOf(() => ev('${a:toDecimal()}', { a: '1,5' })).message).toBe(
      '"toDecimal" cannot convert "1,5" to a decimal number (at position 4)',
    );
    expect(() => ev('${a:isNull():toNumber()}', { a: 'x' })).toThrow(/cannot convert the true\/false value false to a number/);
  });

  it('rejects number-only functions on true/false at compile time', () => {
    expect(() => compile('${a:isNull():plus(1)}')).toThrow(/"plus" needs number before it, but gets true\/false/);
    expect(() => compile('${a:plus(true)}')).toThrow(/"plus" needs number for "operand", but got true/);
    expect(() => compile("${a:plus('x')}")).toThrow(/"plus" needs number for "operand", but got "x"/);
  });
});

describe('toRadix / fromRadix', () => {
  it('follows the NiFi examples', () => {
    const f = { fileSize: '1024' };
    expect(ev('${fileSize:toRadix(10)} ${fileSize:toRadix(10, 1)} ${fileSize:toRadix(10, 8)} ${fileSize:toRadix(16)}', f)).toBe(
      '1024 1024 00001024 400',
    );
    expect(ev('${fileSize:toRadix(16, 8)} ${fileSize:toRadix(2)} ${fileSize:toRadix(2, 16)}', f)).toBe(
      '00000400 10000000000 0000010000000000',
    );
    const g = { fileSize: '1234A' };
    expect(ev('${fileSize:fromRadix(11)} ${fileSize:fromRadix(16)} ${fileSize:fromRadix(20)}', g)).toBe('17720 74570 177290');
    expect(ev("${literal(-255):toRadix(16)} ${literal('-ff'):fromRadix(16)}")).toBe('-ff -255');
  });

  it('rejects bad radixes and digits', () => {
    expect(() => compile('${a:toRadix(37)}')).toThrow(/"toRadix" needs a radix between 2 and 36, but got 37/);
    expect(() => ev('${a:fromRadix(16)}', { a: '0xFF' })).toThrow(/"x" is not a base-16 digit/);
    expect(() => ev('${a:toRadix(${r})}', { a: '5', r: '1' })).toThrow(/radix between 2 and 36, but got 1/);
  });
});

describe('math()', () => {
  it('runs java.lang.Math methods, keeping whole numbers whole where Java does', () => {
    expect(ev("${literal(-5):math('abs')} ${literal(-5.5):math('abs')}")).toBe('5 5.5');
    expect(ev("${literal(2):toDecimal():math('pow', 2.5)}")).toBe(String(2 ** 2.5));
    expect(ev("${literal(64):toDecimal():math('cbrt'):toNumber():math('max', 5)}")).toBe('5');
    expect(
      ev(
        "${literal(2.5):math('round')} ${literal(-2.5):math('round')} ${literal(2.5):math('rint')} ${literal(3.5):math('rint')}",
      ),
    ).toBe('3 -2 2.0 4.0');
    expect(ev("${literal(5.4):math('scalb', 2)}")).toBe('21.6');
    expect(ev("${literal(9):math('sqrt')} ${literal(3):math('min', 7)} ${literal(-7):math('floorMod', 3)}")).toBe('3.0 3 2');
    const r = Number(ev("${math('random')}"));
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThan(1);
  });

  it('rejects unknown methods and overflow in the exact methods', () => {
    expect(() => compile("${a:math('nope')}")).toThrow(/"math" does not know the method "nope"; use one of IEEEremainder, abs/);
    expect(() => ev("${a:math('addExact', 1)}", { a: '9223372036854775807' })).toThrow(/overflowed the whole-number range/);
    expect(() => ev("${a:math('pow')}", { a: '2' })).toThrow(/needs a second argument/);
  });
});

describe('random numbers', () => {
  it('random() gives a non-negative long and nextInt() counts up', () => {
    const t = compile('${random()}');
    for (let i = 0; i < 20; i++) {
      const v = BigInt(t.evaluate(context()));
      expect(v >= 0n && v <= 2n ** 63n - 1n).toBe(true);
    }
    const first = Number(ev('${nextInt()}'));
    expect(Number(ev('${nextInt()}'))).toBe(first + 1);
    expect(ev('${random():mod(10):plus(1):ge(1)}')).toBe('true');
  });
});
