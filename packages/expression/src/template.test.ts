import { compile, ExpressionError, listFunctions, validate } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { context, errorOf, ev } from './context.test-helper.ts';

const attrs = { filename: 'report.final.csv', uuid: 'u-1', a: 'A', b: 'Hello', 'my attr': '  spaced  ', 'a b': 'ab', n: '5' };

describe('templates', () => {
  it('reads attributes, quoted names and chains', () => {
    expect(ev('${filename}', attrs)).toBe('report.final.csv');
    expect(ev('${filename:toUpper()}', attrs)).toBe('REPORT.FINAL.CSV');
    expect(ev("${'my attr':trim()}", attrs)).toBe('spaced');
    expect(ev('${"a b"}', attrs)).toBe('ab');
    expect(ev("${filename:substringBefore('.'):toUpper():append('-x')}", attrs)).toBe('REPORT-x');
  });

  it('mixes literal text with several expressions', () => {
    expect(ev('prefix-${a}-${b:toLower()}-suffix', attrs)).toBe('prefix-A-hello-suffix');
    expect(ev('${a}${b}', attrs)).toBe('AHello');
    expect(ev('{ "x": "${a}" }', attrs)).toBe('{ "x": "A" }');
    expect(ev('} ) ( : , $ # {', attrs)).toBe('} ) ( : , $ # {');
  });

  it('evaluates embedded expressions as arguments', () => {
    expect(ev('${filename:equals(${uuid})}', attrs)).toBe('false');
    expect(ev('${uuid:equals(${uuid})}', attrs)).toBe('true');
    expect(ev('${literal(${n}):plus(1)}', attrs)).toBe('6');
    expect(ev('${a:append(${b:substring(0, ${n:minus(3)})})}', attrs)).toBe('AHe');
  });

  it('ignores whitespace between tokens', () => {
    expect(ev('${ filename : toUpper( ) }', attrs)).toBe('REPORT.FINAL.CSV');
    expect(ev('${\n  filename\t:\n substring( 0 ,\n 6 )\n}', attrs)).toBe('report');
  });

  it('treats names with dots and dashes as one attribute name', () => {
    expect(ev('${mqtt.topic}-${x-y}', { 'mqtt.topic': 't/1', 'x-y': 'xy' })).toBe('t/1-xy');
    expect(ev('${5}', { '5': 'five' })).toBe('five');
  });

  it('treats quoted text as a small template with embedded expressions, like NiFi', () => {
    expect(ev("${literal('${a}-${b:toUpper()}')}", attrs)).toBe('A-HELLO');
    expect(ev('${a:equals("${a}")}', attrs)).toBe('true');
    expect(ev("${literal('$${a} and ${a}')}", attrs)).toBe('${a} and A');
    expect(ev("${literal('cost: $5 {x}')}", attrs)).toBe('cost: $5 {x}');
    expect(ev("${missing:replaceNull('${a}')}", attrs)).toBe('A');
    expect(ev("${'${n}'}", { n: 'name', name: 'indirect' })).toBe('indirect');
    expect(errorOf(() => compile("${literal('${a')}")).message).toBe(
      'Unclosed expression: "${" at position 11 has no matching "}" (write $${ for a literal "${")',
    );
  });

  it('decodes escapes inside quoted text and keeps unknown escapes for regexes', () => {
    expect(ev("${literal('it\\'s')}")).toBe("it's");
    expect(ev('${literal("say \\"hi\\"")}')).toBe('say "hi"');
    expect(ev("${literal('a\\tb\\nc\\\\d')}")).toBe('a\tb\nc\\d');
    expect(ev("${literal('\\d+\\.')}")).toBe('\\d+\\.');
    expect(ev("${literal('a}b:c(d)')}")).toBe('a}b:c(d)');
  });

  it('treats $${ and ##{ as escapes, pairwise from the left like NiFi', () => {
    const abc = { abc: 'xyz' };
    expect(ev('$${abc}', abc)).toBe('${abc}');
    expect(ev('$$${abc}', abc)).toBe('$xyz');
    expect(ev('$$$${abc}', abc)).toBe('$${abc}');
    expect(ev('$$$$${abc}', abc)).toBe('$$xyz');
    expect(ev('I owe you $5', abc)).toBe('I owe you $5');
    expect(ev('You owe me $$5 too', abc)).toBe('You owe me $$5 too');
    expect(ev('##{p}', {}, { parameter: () => 'P' })).toBe('#{p}');
    expect(ev('###{p}', {}, { parameter: () => 'P' })).toBe('#P');
    expect(compile('$${abc}').isLiteral).toBe(true);
  });

  it('gives an empty string for a missing attribute, or undefined through evaluateNullable', () => {
    expect(ev('${missing}')).toBe('');
    expect(ev('[${missing}]')).toBe('[]');
    expect(compile('${missing}').evaluateNullable(context())).toBeUndefined();
    expect(compile('${missing:toUpper()}').evaluateNullable(context())).toBeUndefined();
    expect(compile('x${missing}').evaluateNullable(context())).toBe('x');
    expect(compile('${a}').evaluateNullable(context({ a: '' }))).toBe('');
  });

  it('falls back to the environment lookup, after attributes', () => {
    const env = { environment: (name: string) => (name === 'HOME' || name === 'a' ? `env:${name}` : undefined) };
    expect(ev('${HOME}', { a: 'attr' }, env)).toBe('env:HOME');
    expect(ev('${a}', { a: 'attr' }, env)).toBe('attr');
    expect(ev('${nothing:isNull()}', {}, env)).toBe('true');
  });

  it('precomputes literal templates', () => {
    const t = compile('just text');
    expect(t.isLiteral).toBe(true);
    expect(t.evaluate(context())).toBe('just text');
    expect(t.referencesAttributes).toBe(false);
    expect(t.resultType).toBe('string');
    expect(compile('').evaluate(context())).toBe('');
  });

  it('reports static facts about a template', () => {
    expect(compile('${a:equals("x")}').resultType).toBe('boolean');
    expect(compile('${a:length()}').resultType).toBe('number');
    expect(compile('${a:toDecimal()}').resultType).toBe('decimal');
    expect(compile('${now()}').resultType).toBe('date');
    expect(compile('${a}').resultType).toBe('string');
    expect(compile('x${a:length()}').resultType).toBe('string');
    expect(compile('#{p}').resultType).toBe('unknown');
    expect(compile('${a}').referencesAttributes).toBe(true);
    expect(compile('${now():format("yyyy")}').referencesAttributes).toBe(false);
    expect(compile("${anyAttribute('a'):isNull()}").referencesAttributes).toBe(true);
    expect(compile("${literal('x'):evaluateELString()}").referencesAttributes).toBe(true);
    expect(compile('#{a}-#{b}-#{a}-${x:append(#{c})}').referencedParameters).toEqual(['a', 'b', 'c']);
    expect(compile('${a}').isLiteral).toBe(false);
  });
});

describe('parameters', () => {
  const params = new Map([
    ['host', 'db.local'],
    ['with space', 'spaced'],
    ['greeting', 'Hello ${name}'],
    ['flag', 'true'],
    ['rule', "${name:equals('bob')}"],
    ['loop', '#{loop}'],
    ['broken', '${oops'],
    ['attrName', 'name'],
    ['dollar', 'cost $$${price}'],
  ]);
  const extra = { parameter: (name: string) => params.get(name) };

  it('substitutes #{name} and quoted names', () => {
    expect(ev('jdbc://#{host}/x', {}, extra)).toBe('jdbc://db.local/x');
    expect(ev("#{'with space'}", {}, extra)).toBe('spaced');
    expect(ev('#{with space}', {}, extra)).toBe('spaced');
    expect(ev('#{ host }', {}, extra)).toBe('db.local');
    expect(ev('[#{unknown}]', {}, extra)).toBe('[]');
  });

  it('evaluates Expression Language inside parameter values', () => {
    expect(ev('#{greeting}!', { name: 'Ann' }, extra)).toBe('Hello Ann!');
    expect(ev('#{dollar}', { price: '3' }, extra)).toBe('cost $3');
    expect(compile('#{rule}').evaluateBoolean(context({ name: 'bob' }, extra))).toBe(true);
    expect(compile('#{flag}').evaluateBoolean(context({}, extra))).toBe(true);
  });

  it('uses parameters as arguments, inside quoted text and as attribute names', () => {
    expect(ev('${x:equals(#{host})}', { x: 'db.local' }, extra)).toBe('true');
    expect(ev("${x:equals('#{host}')}", { x: 'db.local' }, extra)).toBe('true');
    expect(ev("${literal('at ##{host} is #{host}')}", {}, extra)).toBe('at #{host} is db.local');
    expect(ev('${#{attrName}:toUpper()}', { name: 'zed' }, extra)).toBe('ZED');
  });

  it('reports a parameter that refers to itself or holds a broken expression', () => {
    const loop = errorOf(() => ev('x #{loop}', {}, extra));
    expect(loop.message).toMatch(/parameter "loop".*refer to itself/i);
    expect(loop.position).toBe(2);
    const broken = errorOf(() => ev('#{broken}', {}, extra));
    expect(broken.message).toMatch(/parameter "broken".*not a valid expression.*Unclosed expression/);
  });

  it('rejects malformed references with their position', () => {
    expect(errorOf(() => compile('a #{x')).message).toBe('Unclosed parameter reference: "#{" at position 2 has no matching "}"');
    expect(errorOf(() => compile('#{}')).message).toMatch(/Empty parameter reference/);
    const bad = errorOf(() => compile('#{a:b}'));
    expect(bad.position).toBe(3);
    expect(bad.message).toMatch(/Unexpected ":".*quote other names/);
  });
});

describe('evaluateBoolean', () => {
  it('returns the boolean of a single expression', () => {
    expect(compile("${a:equals('A')}").evaluateBoolean(context({ a: 'A' }))).toBe(true);
    expect(compile("${a:equals('A')}").evaluateBoolean(context({ a: 'B' }))).toBe(false);
    expect(compile('${missing:isNull()}').evaluateBoolean(context())).toBe(true);
  });

  it('rejects templates that are not one true/false expression', () => {
    expect(() => compile('${a}').evaluateBoolean(context({ a: 'x' }))).toThrow(/must give true or false, but gave "x"/);
    expect(() => compile('${a}').evaluateBoolean(context())).toThrow(/gave nothing/);
    expect(() => compile("is ${a:equals('A')}").evaluateBoolean(context({ a: 'A' }))).toThrow(/single expression/);
    expect(() => compile('true').evaluateBoolean(context())).toThrow(ExpressionError);
  });
});

describe('syntax errors', () => {
  const cases: [string, string, number][] = [
    ['${filename:toUpperr()}', 'Unknown function "toUpperr" at position 11; did you mean "toUpper"?', 11],
    ['${abc', 'Unclosed expression: "${" at position 0 has no matching "}"', 0],
    ['text ${a:equals(${b)}', 'Unexpected ")" at position 19; expected ":" before a function or "}" to end the expression', 19],
    ['${filename:substring(1,2,3)}', '"substring" expects 1 or 2 arguments but got 3 (at position 11)', 11],
    ["${a:equals('x'))}", 'Unexpected ")" at position 15; expected ":" before a function or "}" to end the expression', 15],
    [
      '${a:toUpper(}',
      'Unexpected "}" at position 12; expected a value: quoted text, a number, true/false or an embedded ${...}',
      12,
    ],
    ['${a:substring(1', 'Unclosed "(": "substring(" at position 4 has no matching ")"', 13],
    ['${}', 'Empty expression "${}" at position 0; put an attribute name or a function inside', 0],
    ['${a:toUpper}', 'Expected "(" after the function name "toUpper" at position 11; write toUpper()', 11],
    ["${a:'x'}", `Expected a function name after ":" at position 4, but found "'x'"`, 4],
    ["${literal('x}", "Unclosed text: the quote at position 10 has no matching '", 10],
    [
      '${a:equals(abc)}',
      'Unexpected "abc" at position 11; put text arguments in quotes (\'abc\') and attribute values in ${abc}',
      11,
    ],
    ['${toUpper()}', '"toUpper" needs a subject (position 2); write it after a value, e.g. ${filename:toUpper()}', 2],
    ['${a:now()}', '"now" does not take a subject (position 4); use it at the start of an expression, e.g. ${now()}', 4],
    ['${a:toUpper(1)}', '"toUpper" expects no arguments but got 1 (at position 4)', 4],
    ['${a:in()}', '"in" expects at least 1 argument but got 0 (at position 4)', 4],
    ["${a:substring('x')}", '"substring" needs number for "startIndex", but got "x" (at position 14)', 14],
    ['${a:length():and(true)}', '"and" needs true/false before it, but gets a whole number (at position 13)', 13],
    ["${a:matches('[')}", '"matches" has an invalid regular expression "[": Unterminated character class (at position 12)', 12],
    [
      "${a:format('yyyy-qq')}",
      `"format" has a date format with the unknown pattern letter 'q' in "yyyy-qq" (quote literal text, e.g. 'T') (at position 11)`,
      11,
    ],
    [
      "${a:hash('SHA-999')}",
      '"hash" does not know the algorithm "SHA-999"; use one of MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, SHA3-224, SHA3-256, SHA3-384, SHA3-512 (at position 9)',
      9,
    ],
    ['${${a}}', 'An expression cannot start with another expression (position 2); use literal(${...}) to work with its value', 2],
    [
      "${anyAttribute('a')}",
      '"anyAttribute" must be followed by a function that gives true/false (such as equals or contains), or by join() or count() (at position 2)',
      2,
    ],
    ['${a:equals(99999999999999999999)}', 'The number 99999999999999999999 at position 11 is too large for a whole number', 11],
    ['${uuid()}', 'Unknown function "uuid" at position 2; did you mean "UUID"?', 2],
  ];

  for (const [template, message, position] of cases) {
    it(`explains ${template}`, () => {
      const error = errorOf(() => compile(template));
      expect(error.message).toBe(message);
      expect(error.position).toBe(position);
      expect(error.length).toBeGreaterThanOrEqual(1);
    });
  }

  it('is an ExpressionError with the span of the bad function name', () => {
    try {
      compile('${filename:toUpperr()}');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionError);
      expect(e).toBeInstanceOf(Error);
      if (e instanceof ExpressionError) {
        expect(e.position).toBe(11);
        expect(e.length).toBe('toUpperr'.length);
      }
    }
  });

  it('offers no suggestion for a name that resembles nothing', () => {
    expect(errorOf(() => compile('${a:qqqqqqqqqq()}')).message).toBe('Unknown function "qqqqqqqqqq" at position 4');
  });
});

describe('robustness', () => {
  it('reports absurdly deep nesting as an ExpressionError', () => {
    const deep = `${'${literal('.repeat(5000)}1${')}'.repeat(5000)}`;
    expect(() => compile(deep)).toThrow(ExpressionError);
    expect(validate(deep)[0]).toBeInstanceOf(ExpressionError);
  });

  it('lets errors thrown by the context pass through unchanged', () => {
    class HookError extends Error {}
    const t = compile('${a}');
    expect(() =>
      t.evaluate({
        attribute: () => {
          throw new HookError('store offline');
        },
      }),
    ).toThrow(HookError);
  });
});

describe('validate', () => {
  it('returns no problems for a valid template and never throws', () => {
    expect(validate('${a:toUpper()}')).toEqual([]);
    expect(validate('${a')).toHaveLength(1);
    expect(validate('${a')[0]).toBeInstanceOf(ExpressionError);
    expect(validate('${a:nope()}')[0]?.position).toBe(4);
  });

  it('checks true/false rules when asked', () => {
    expect(validate("${a:equals('x')}", { expectBoolean: true })).toEqual([]);
    expect(validate('${a:isEmpty():not()}', { expectBoolean: true })).toEqual([]);
    expect(validate('#{rule}', { expectBoolean: true })).toEqual([]);
    expect(validate("${a:ifElse('x', 'y')}", { expectBoolean: true })[0]?.message).toMatch(/gives text, not true\/false/);
    expect(validate('${a:length()}', { expectBoolean: true })[0]?.message).toMatch(/gives a whole number, not true\/false/);
    expect(validate("x ${a:equals('x')}", { expectBoolean: true })[0]?.message).toMatch(/single expression/);
    expect(validate('${a}', { expectBoolean: false })).toEqual([]);
  });
});

describe('hostile attribute names', () => {
  it('looks names like __proto__ up only through the context', () => {
    const map = new Map([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
    expect(ev('${__proto__}-${constructor}-${toString}-${hasOwnProperty}', map)).toBe('p-c--');
    expect(ev("${'__proto__':toUpper()}", map)).toBe('P');
    expect(ev('${prototype:isNull()}', map)).toBe('true');
    expect(ev('${constructor:length()}', new Map())).toBe('0');
  });

  it('does not treat function names on Object.prototype as functions', () => {
    expect(errorOf(() => compile('${a:toString2()}')).message).toMatch(/Unknown function "toString2"/);
    expect(errorOf(() => compile('${a:constructor()}')).message).toMatch(/Unknown function "constructor"/);
    expect(errorOf(() => compile('${a:__proto__()}')).message).toMatch(/Unknown function "__proto__"/);
    expect(errorOf(() => compile('${a:hasOwnProperty()}')).message).toMatch(/Unknown function "hasOwnProperty"/);
  });
});

describe('listFunctions', () => {
  it('describes every function for autocomplete', () => {
    const all = listFunctions();
    expect(all.length).toBeGreaterThan(90);
    const byName = new Map(all.map((f) => [f.name, f]));
    expect(byName.get('substring')).toEqual(
      expect.objectContaining({ subjectless: false, args: 'startIndex, [endIndex]', returns: 'string' }),
    );
    expect(byName.get('now')).toEqual(expect.objectContaining({ subjectless: true, returns: 'date' }));
    expect(byName.get('anyAttribute')?.args).toBe('attributeNames...');
    for (const f of all) {
      expect(f.description.length).toBeGreaterThan(10);
      expect(
        compile(
          `\${${f.subjectless ? '' : 'a:'}${f.name}(${f.args === '' || f.args.startsWith('[') ? '' : placeholderArgs(f.name)})${f.name === 'anyAttribute' || f.name.startsWith('all') || f.name.startsWith('any') ? ':isNull()' : ''}}`,
        ),
      ).toBeDefined();
    }
    const names = all.map((f) => f.name.toLowerCase());
    expect([...names].sort()).toEqual(names);
  });
});

function placeholderArgs(name: string): string {
  const samples: Record<string, string> = {
    substring: '0',
    getDelimitedField: '1',
    padLeft: '5',
    padRight: '5',
    repeat: '2',
    gt: '1',
    ge: '1',
    lt: '1',
    le: '1',
    plus: '1',
    minus: '1',
    multiply: '1',
    divide: '1',
    mod: '1',
    toRadix: '16',
    fromRadix: '16',
    math: "'abs'",
    format: "'yyyy'",
    isValidDate: "'yyyy'",
    plusDuration: "'1 day'",
    minusDuration: "'1 day'",
    hash: "'MD5'",
    jsonPath: "'$.a'",
    jsonPathDelete: "'$.a'",
    jsonPathSet: "'$.a', 1",
    jsonPathAdd: "'$.a', 1",
    jsonPathPut: "'$.a', 'k', 1",
    replace: "'a', 'b'",
    replaceFirst: "'a', 'b'",
    replaceAll: "'a', 'b'",
    ifElse: "'a', 'b'",
    and: 'true',
    or: 'true',
    anyDelineatedValue: "'a,b', ','",
    allDelineatedValues: "'a,b', ','",
  };
  return samples[name] ?? "'x'";
}
