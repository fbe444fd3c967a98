import { compile } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { context, errorOf, ev } from './context.test-helper.ts';

const file = { filename: 'a brand new filename.txt', empty: '', blank: ' \t\n ', n: '100', bool: 'true', caps: 'HeLLo' };

describe('boolean functions', () => {
  it('isNull / notNull / isEmpty', () => {
    expect(ev('${missing:isNull()} ${filename:isNull()} ${missing:notNull()} ${empty:notNull()}', file)).toBe(
      'true false false true',
    );
    expect(ev('${missing:isEmpty()} ${empty:isEmpty()} ${blank:isEmpty()} ${filename:isEmpty()}', file)).toBe(
      'true true true false',
    );
  });

  it('equals compares text, or values of the same type', () => {
    expect(ev("${filename:equals('a brand new filename.txt')}", file)).toBe('true');
    expect(ev('${n:equals(100)}', file)).toBe('true');
    expect(ev('${n:toNumber():equals(100)}', file)).toBe('true');
    expect(ev('${n:toDecimal():equals(100)}', file)).toBe('false');
    expect(ev('${n:toDecimal():equals(100.0)}', file)).toBe('true');
    expect(ev("${missing:equals('')}", file)).toBe('false');
    expect(ev('${missing:equals(${missing})}', file)).toBe('false');
    expect(ev("${bool:equals('true')} ${filename:equals('x'):equals(false)}", file)).toBe('true true');
  });

  it('equalsIgnoreCase', () => {
    expect(ev("${caps:equalsIgnoreCase('hello')} ${caps:equalsIgnoreCase('help')}", file)).toBe('true false');
  });

  it('gt ge lt le compare numerically, false when not numbers', () => {
    expect(ev('${n:gt(99)} ${n:gt(100)} ${n:ge(100)} ${n:lt(101)} ${n:le(99)}', file)).toBe('true false true true false');
    expect(ev('${n:gt(99.5)} ${n:lt(100.5)}', file)).toBe('true true');
    expect(ev('${filename:gt(1)} ${missing:lt(1)} ${n:gt(${missing})}', file)).toBe('false false false');
    expect(ev('${literal(9):gt(10)}', file)).toBe('false');
  });

  it('and / or / not, short-circuiting the argument', () => {
    expect(ev("${bool:and(${n:equals('100')})} ${bool:and(false)} ${filename:and(true)}", file)).toBe('true false false');
    expect(ev('${bool:or(false)} ${filename:or(${n:gt(1)})} ${missing:or(false)}', file)).toBe('true true false');
    expect(ev('${bool:not()} ${filename:isNull():not()}', file)).toBe('false true');
    // The argument would fail (substring beyond the end) if it were evaluated.
    expect(ev('${empty:isEmpty():or(${empty:substring(5)})}', file)).toBe('true');
    expect(ev("${empty:notNull():and(${empty:isEmpty()}):and(${filename:startsWith('a')})}", file)).toBe('true');
  });

  it('ifElse follows NiFi examples and evaluates only the chosen branch', () => {
    expect(ev("${bool:ifElse('a','b')}", file)).toBe('a');
    expect(ev("${literal(true):ifElse('a','b')}", file)).toBe('a');
    expect(ev("${nullFilename:isNull():ifElse('file does not exist', 'located file')}", file)).toBe('file does not exist');
    expect(ev("${nullFilename:ifElse('found', 'not_found')}", file)).toBe('not_found');
    expect(ev("${filename:ifElse('found', 'not_found')}", file)).toBe('not_found');
    expect(ev("${filename:isNull():not():ifElse('found', 'not_found')}", file)).toBe('found');
    expect(ev("${bool:ifElse('ok', ${empty:substring(3)})}", file)).toBe('ok');
    expect(compile('${a:isNull():ifElse(1, 2)}').resultType).toBe('number');
  });

  it('isJson', () => {
    expect(
      ev(
        "${literal('{\"a\":1}'):isJson()} ${literal('[1]'):isJson()} ${literal('{a:1}'):isJson()} ${missing:isJson()} ${n:isJson()}",
      ),
    ).toBe('true true false false false');
  });
});

describe('string functions', () => {
  it('toUpper / toLower / trim', () => {
    expect(ev('${caps:toUpper()}|${caps:toLower()}|${blank:trim()}|${missing:toUpper()}', file)).toBe('HELLO|hello||');
    expect(ev("${literal('  1 2 3  '):trim()}")).toBe('1 2 3');
  });

  it('substring follows the NiFi examples and rejects indexes out of range', () => {
    expect(ev('${filename:substring(0,1)}', file)).toBe('a');
    expect(ev('${filename:substring(2)}', file)).toBe('brand new filename.txt');
    expect(ev('${filename:substring(12)}', file)).toBe('filename.txt');
    expect(ev('${filename:substring( ${filename:length():minus(2)} )}', file)).toBe('xt');
    expect(ev("${filename:substring('2', '7')}", file)).toBe('brand');
    const error = errorOf(() => ev('${caps:substring(2, 10)}', file));
    expect(error.message).toBe('"substring" cannot take characters 2 to 10 of "HeLLo": its length is 5 (at position 7)');
    expect(error.position).toBe(7);
    expect(() => ev('${caps:substring(3, 1)}', file)).toThrow(/cannot take characters 3 to 1/);
    expect(() => ev('${caps:substring(-1)}', file)).toThrow(/cannot take characters -1/);
  });

  it('substringBefore/After(Last) as in the NiFi guide', () => {
    const t = (fn: string, arg: string) => ev(`\${filename:${fn}('${arg}')}`, file);
    expect([
      t('substringBefore', '.'),
      t('substringBefore', ' '),
      t('substringBefore', ' n'),
      t('substringBefore', 'missing'),
    ]).toEqual(['a brand new filename', 'a', 'a brand', 'a brand new filename.txt']);
    expect([t('substringBeforeLast', '.'), t('substringBeforeLast', ' '), t('substringBeforeLast', ' n')]).toEqual([
      'a brand new filename',
      'a brand new',
      'a brand',
    ]);
    expect([
      t('substringAfter', '.'),
      t('substringAfter', ' '),
      t('substringAfter', ' n'),
      t('substringAfter', 'missing'),
    ]).toEqual(['txt', 'brand new filename.txt', 'ew filename.txt', 'a brand new filename.txt']);
    expect([t('substringAfterLast', '.'), t('substringAfterLast', ' '), t('substringAfterLast', ' n')]).toEqual([
      'txt',
      'filename.txt',
      'ew filename.txt',
    ]);
  });

  it('getDelimitedField as in the NiFi guide', () => {
    const lines = { line: '"Jacobson, John", 32, Mr.', altLine: 'Jacobson, John|32|Mr.' };
    expect(ev('${line:getDelimitedField(2)}', lines)).toBe(' 32');
    expect(ev('${line:getDelimitedField(2):trim()}', lines)).toBe('32');
    expect(ev('${line:getDelimitedField(1)}', lines)).toBe('"Jacobson, John"');
    expect(ev("${line:getDelimitedField(1, ',', '\"', '\\\\', true)}", lines)).toBe('Jacobson, John');
    expect(ev("${altLine:getDelimitedField(1, '|')}", lines)).toBe('Jacobson, John');
    expect(ev('${line:getDelimitedField(3)} [${line:getDelimitedField(4)}] [${line:getDelimitedField(0)}]', lines)).toBe(
      ' Mr. [] []',
    );
    expect(() => ev("${line:getDelimitedField(1, ';;')}", lines)).toThrow(/single character as the delimiter/);
  });

  it('append / prepend treat null as empty', () => {
    expect(ev("${filename:append('.gz')}", file)).toBe('a brand new filename.txt.gz');
    expect(ev("${missing:append('x')}|${missing:prepend('y')}|${caps:prepend(${missing})}", file)).toBe('x|y|HeLLo');
  });

  it('replace is literal; replaceFirst / replaceAll are Java regexes with $n groups', () => {
    expect(ev("${filename:replace('.', '_')}|${filename:replace(' ', '.')}|${filename:replace('XYZ', 'ZZZ')}", file)).toBe(
      'a brand new filename_txt|a.brand.new.filename.txt|a brand new filename.txt',
    );
    expect(ev("${literal('abc'):replace('', '-')}")).toBe('-a-b-c-');
    expect(
      ev(
        "${filename:replaceFirst('a', 'the')}|${filename:replaceFirst('[br]', 'g')}|${filename:replaceFirst('\\w{8}', 'book')}",
        file,
      ),
    ).toBe('the brand new filename.txt|a grand new filename.txt|a brand new book.txt');
    expect(
      ev(
        "${filename:replaceAll('\\..*', '')}|${filename:replaceAll('a brand (new)', '$1')}|${filename:replaceAll('brand (new)', 'somewhat $1')}",
        file,
      ),
    ).toBe('a brand new filename|new filename.txt|a somewhat new filename.txt');
    expect(ev("${literal('x1y22'):replaceAll('\\d', '\\\\$')}")).toBe('x$y$$');
    // In quoted text ${...} is an embedded expression (as in NiFi), so a named group is written $${name}.
    expect(ev("${literal('2024-05-06'):replaceAll('(?<y>\\d+)-(\\d+)-(\\d+)', '$${y}/$2')}")).toBe('2024/05');
    expect(ev("${literal('2024-05-06'):replaceAll('(\\d+)-.*', '${y}/$1')}", { y: 'year' })).toBe('year/2024');
    expect(ev("${literal('Hello'):replaceAll('(?i)h', 'J')}")).toBe('Jello');
    expect(() => ev("${caps:replaceAll('(l)', '$2')}", file)).toThrow(
      /refers to group \$2, but the regular expression has 1 group/,
    );
    expect(() => ev("${caps:replaceAll('l', 'cost $')}", file)).toThrow(/not a group reference/);
  });

  it('replaceNull / replaceEmpty', () => {
    expect(ev("${filename:replaceNull('abc')}|${hello:replaceNull('abc')}|${empty:replaceNull('abc')}", file)).toBe(
      'a brand new filename.txt|abc|',
    );
    expect(ev("${filename:replaceEmpty('abc')}|${blank:replaceEmpty('abc')}|${hello:replaceEmpty('abc')}", file)).toBe(
      'a brand new filename.txt|abc|abc',
    );
  });

  it('padLeft / padRight default to "_" and never truncate', () => {
    expect(ev("${caps:padLeft(8)}|${caps:padRight(8, '*')}|${caps:padLeft(3)}|${caps:padLeft(9, 'ab')}", file)).toBe(
      '___HeLLo|HeLLo***|HeLLo|ababHeLLo',
    );
    expect(ev('${missing:padLeft(4)}|${caps:padLeft(0)}', file)).toBe('|HeLLo');
    expect(() => ev('${caps:padLeft(20000000)}', file)).toThrow(/10 MiB limit/);
  });

  it('length and repeat', () => {
    expect(ev('${filename:length()} ${missing:length()} ${empty:length()}', file)).toBe('24 0 0');
    expect(ev("${literal('ab'):repeat(3)}|${missing:repeat(2)}")).toBe('ababab|');
    expect(ev("${literal('a'):repeat(2, 4)}").length).toBeGreaterThanOrEqual(2);
    expect(ev("${literal('a'):repeat(2, 4)}").length).toBeLessThanOrEqual(4);
    expect(() => ev("${literal('a'):repeat(0)}")).toThrow(/repeats above 0/);
    expect(() => ev("${literal('a'):repeat(5, 2)}")).toThrow(/minimum \(5\) to be at most the maximum \(2\)/);
    expect(() => ev("${literal('abcdefghij'):repeat(2000000)}")).toThrow(
      /"repeat" would build text longer than the 10 MiB limit/,
    );
  });

  it('evaluateELString evaluates the subject as a template', () => {
    const attrs = { tpl: 'Hi ${name:toUpper()}', name: 'ann', bad: '${oops', loop: '${loop:evaluateELString()}' };
    expect(ev('${tpl:evaluateELString()}', attrs)).toBe('Hi ANN');
    expect(ev('${missing:evaluateELString()}', attrs)).toBe('');
    expect(() => ev('${bad:evaluateELString()}', attrs)).toThrow(
      /"evaluateELString" cannot evaluate "\$\{oops": Unclosed expression/,
    );
    expect(() => ev('${loop:evaluateELString()}', attrs)).toThrow(/too deeply/);
  });

  it('toString and literal', () => {
    expect(
      ev('${literal(5):toString()}|${literal(2.50):toString()}|${literal(true)}|${n:toNumber():toString():length()}', file),
    ).toBe('5|2.5|true|3');
  });
});

describe('search functions', () => {
  it('startsWith / endsWith / contains', () => {
    expect(
      ev("${filename:startsWith('a brand')} ${filename:startsWith('A BRAND')} ${filename:toUpper():startsWith('A BRAND')}", file),
    ).toBe('true false true');
    expect(
      ev("${filename:endsWith('txt')} ${filename:endsWith('TXT')} ${filename:contains('new')} ${missing:contains('x')}", file),
    ).toBe('true false true false');
  });

  it('in', () => {
    expect(ev('${e:in("PAUL", "JOHN", "MIKE")} ${e:in("RED", "GREEN", "BLUE")} ${missing:in("x")}', { e: 'JOHN' })).toBe(
      'true false false',
    );
  });

  it('find and matches use Java regexes (matches must cover the whole subject)', () => {
    expect(ev("${filename:find('a [Bb]rand [Nn]ew')} ${filename:find('Brand.*')} ${filename:find('brand')}", file)).toBe(
      'true false true',
    );
    expect(ev("${filename:matches('a.*txt')} ${filename:matches('brand')} ${filename:matches('.+brand.+')}", file)).toBe(
      'true false true',
    );
    expect(ev("${literal('line1\nline2'):matches('line1')} ${literal('ABC'):matches('(?i)abc')}")).toBe('false true');
    expect(ev("${literal('a.b'):matches('\\Qa.b\\E')} ${literal('axb'):matches('\\Qa.b\\E')}")).toBe('true false');
    expect(ev("${literal('abc'):matches('\\p{Alpha}+')} ${literal('ab1'):matches('\\p{Lower}+')}")).toBe('true false');
    expect(ev("${literal('aaa'):matches('a++')}")).toBe('true');
    expect(() => compile("${a:matches('\\p{L}+')}")).toThrow(/\\p\{L\}, which is not supported/);
  });

  it('indexOf / lastIndexOf', () => {
    expect(
      ev("${filename:indexOf('a.*txt')} ${filename:indexOf('.')} ${filename:indexOf('a')} ${filename:indexOf(' ')}", file),
    ).toBe('-1 20 0 1');
    expect(
      ev(
        "${filename:lastIndexOf('a.*txt')} ${filename:lastIndexOf('.')} ${filename:lastIndexOf('a')} ${filename:lastIndexOf(' ')}",
        file,
      ),
    ).toBe('-1 20 17 11');
    expect(ev("${missing:indexOf('x')}", file)).toBe('-1');
  });

  it('compiles a regular expression supplied at run time and reports it if invalid', () => {
    expect(ev('${v:matches(${re})}', { v: 'abc', re: '[a-c]+' })).toBe('true');
    const error = errorOf(() => ev('${v:matches(${re})}', { v: 'abc', re: '(' }));
    expect(error.message).toMatch(/^"matches" has an invalid regular expression "\(":/);
    expect(error.position).toBe(4);
  });
});

describe('run-time errors', () => {
  it('carry the position of the failing function', () => {
    const t = compile('prefix ${a:toNumber():plus(1)}');
    const error = errorOf(() => t.evaluate(context({ a: 'abc' })));
    expect(error.message).toBe('"toNumber" cannot convert "abc" to a whole number (at position 11)');
    expect(error.position).toBe(11);
    expect(error.length).toBe('toNumber'.length);
  });
});
