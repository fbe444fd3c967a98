import { compile } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { context, errorOf, ev } from './context.test-helper.ts';

// The NiFi guide's examples use these attributes.
const attrs = {
  abc: 'hello world',
  xyz: 'good bye world',
  filename: 'file.txt',
  number_list: '1,2,3,4,5',
  word_list: 'the,and,or,not',
};

describe('anyAttribute / allAttributes', () => {
  it('apply the rest of the expression to each named attribute', () => {
    expect(ev('${anyAttribute("abc", "xyz"):contains("bye")}', attrs)).toBe('true');
    expect(ev('${anyAttribute("filename","xyz"):toUpper():contains("e")}', attrs)).toBe('false');
    expect(ev('${allAttributes("abc", "xyz"):contains("world")}', attrs)).toBe('true');
    expect(ev('${allAttributes("abc", "filename","xyz"):toUpper():contains("e")}', attrs)).toBe('false');
    expect(ev("${anyAttribute('a','b'):equals('x')}", { b: 'x' })).toBe('true');
    expect(ev("${allAttributes('a','b'):isEmpty()}", {})).toBe('true');
    expect(ev("${anyAttribute('missing'):isNull()}", {})).toBe('true');
  });

  it('can be combined with other expressions and arguments computed per value', () => {
    expect(
      ev("${allAttributes('a','b'):equals(${target}):and(${flag:equals('on')})}", { a: 'x', b: 'x', target: 'x', flag: 'on' }),
    ).toBe('true');
    expect(compile("${anyAttribute('a'):isNull()}").resultType).toBe('boolean');
  });
});

describe('anyMatchingAttribute / allMatchingAttributes', () => {
  it('select attributes by a regular expression on the whole name', () => {
    expect(ev('${anyMatchingAttribute("[ax].*"):contains("bye")}', attrs)).toBe('true');
    expect(ev('${anyMatchingAttribute(".*"):isNull()}', attrs)).toBe('false');
    expect(ev('${allMatchingAttributes("[ax].*"):contains("world")}', attrs)).toBe('true');
    expect(ev('${allMatchingAttributes(".*"):isNull()}', attrs)).toBe('false');
    expect(ev('${allMatchingAttributes("f.*"):count()}', attrs)).toBe('1');
    expect(ev("${anyMatchingAttribute('mqtt\\..*'):contains('x')}", { 'mqtt.topic': 'a/x', mqttother: 'x' })).toBe('true');
    expect(ev("${anyMatchingAttribute('mqtt\\..*'):contains('x')}", { 'mqtt.topic': 'a/y', mqttother: 'x' })).toBe('false');
    expect(ev("${anyMatchingAttribute('a', 'b'):equals('2')}", { a: '1', b: '2' })).toBe('true');
  });

  it('match nothing when the context cannot list attribute names', () => {
    const t = compile("${anyMatchingAttribute('.*'):isNull()}");
    expect(t.evaluate({ attribute: () => 'x' })).toBe('false');
    expect(compile("${allMatchingAttributes('.*'):isNull()}").evaluate({ attribute: () => 'x' })).toBe('true');
  });

  it('check the regular expressions at compile time', () => {
    const error = errorOf(() => compile("${anyMatchingAttribute('ok', '(bad'):isNull()}"));
    expect(error.message).toMatch(/^"anyMatchingAttribute" has an invalid regular expression "\(bad"/);
    expect(error.position).toBe(29);
  });
});

describe('anyDelineatedValue / allDelineatedValues', () => {
  it('split a value and test each part', () => {
    expect(ev('${anyDelineatedValue("${number_list}", ","):contains("5")}', attrs)).toBe('true');
    expect(ev('${anyDelineatedValue("this that and", ","):equals("${word_list}")}', attrs)).toBe('false');
    expect(ev('${allDelineatedValues("${word_list}", ","):contains("o")}', { word_list: 'those,known,or,not' })).toBe('true');
    expect(ev('${allDelineatedValues("${number_list}", ","):matches("[0-9]+")}', attrs)).toBe('true');
    expect(ev('${allDelineatedValues("${word_list}", ","):matches(\'e\')}', attrs)).toBe('false');
    expect(ev("${anyDelineatedValue(${list}, ','):equals('z')}", { list: 'x,y,z' })).toBe('true');
    expect(ev("${anyDelineatedValue(${list}, ' | '):equals('b')}", { list: 'a | b' })).toBe('true');
    expect(ev("${allDelineatedValues(${missing}, ','):count()}", {})).toBe('0');
    expect(compile("${anyDelineatedValue('a,b', ','):isNull()}").referencesAttributes).toBe(false);
  });
});

describe('join and count', () => {
  it('aggregate per-value results', () => {
    expect(ev('${allMatchingAttributes("[ax].*"):substringBefore(" "):join("-")}', attrs)).toBe('hello-good');
    expect(ev('${allAttributes("abc", "xyz"):join(" now")}', attrs)).toBe('hello world nowgood bye world');
    expect(ev('${allMatchingAttributes("[ax].*"):substringBefore(" "):count()}', attrs)).toBe('2');
    expect(ev('${allAttributes("abc", "xyz"):contains("bye"):count()}', attrs)).toBe('1');
    expect(ev('${allDelineatedValues(${number_list}, ","):count()}', attrs)).toBe('5');
    expect(ev('${allAttributes("abc", "non-existent-attr", "xyz"):count()}', attrs)).toBe('2');
    const { word_list: _w, ...guideAttrs } = attrs;
    expect(ev('${allMatchingAttributes(".*"):length():gt(10):count()}', guideAttrs)).toBe('2');
    expect(ev('${allMatchingAttributes(".*"):length():gt(10):count()}', attrs)).toBe('3');
    expect(ev('${literal( ${allMatchingAttributes("a.*"):count()} ):gt(3)}', attrs)).toBe('false');
  });

  it('continue the chain after the aggregate', () => {
    expect(ev("${allDelineatedValues('b,a', ','):toUpper():join('+'):prepend('<'):append('>')}")).toBe('<B+A>');
    expect(ev("${allDelineatedValues('1,2,3', ','):count():multiply(10)}")).toBe('30');
    expect(compile("${allAttributes('a'):join(',')}").resultType).toBe('string');
    expect(compile("${allAttributes('a'):count()}").resultType).toBe('number');
  });

  it('work on a single value as a list of one', () => {
    expect(ev("${a:join(',')}|${a:count()}|${missing:count()}", { a: 'x' })).toBe('x|1|0');
  });

  it('must close a multi-attribute expression that does not give true/false', () => {
    expect(() => compile("${allAttributes('a'):toUpper()}")).toThrow(
      /"allAttributes" must be followed by a function that gives true\/false/,
    );
    expect(() => compile('${anyAttribute()}')).toThrow(/"anyAttribute" expects at least 1 argument but got 0/);
    expect(() => compile("${a:anyAttribute('b')}")).toThrow(/"anyAttribute" does not take a subject/);
    expect(() => compile("${join(',')}")).toThrow(/"join" needs a subject/);
  });
});

describe('subjectless functions', () => {
  it('UUID() is a random version 4 UUID', () => {
    const t = compile('${UUID()}');
    const a = t.evaluate(context());
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(t.evaluate(context())).not.toBe(a);
  });

  it('hostname(), ip(), now(), thread() and getStateValue() use the context hooks or defaults', () => {
    expect(ev('${hostname()} ${hostname(true)} ${ip()} ${thread()}')).toBe('localhost localhost 127.0.0.1 main');
    const hooks = {
      hostname: (fq: boolean) => (fq ? 'edge1.example.com' : 'edge1'),
      ip: () => '10.0.0.7',
      state: (key: string) => (key === 'count' ? '20' : undefined),
      now: () => 86_400_000,
    };
    expect(ev('${hostname()} ${hostname(true)} ${hostname(false)} ${ip()}', {}, hooks)).toBe(
      'edge1 edge1.example.com edge1 10.0.0.7',
    );
    expect(ev("${getStateValue('count'):plus(1)} [${getStateValue('nope')}]", {}, hooks)).toBe('21 []');
    expect(ev("${now():format('yyyy-MM-dd', 'UTC')}", {}, hooks)).toBe('1970-01-02');
    expect(ev('${hostname():toUpper()}', {}, hooks)).toBe('EDGE1');
  });

  it('literal() lets functions work on constants', () => {
    expect(ev('${literal(2):gt(1)} ${literal("x"):length()} ${literal(${a}):toUpper()}', { a: 'q' })).toBe('true 1 Q');
  });
});
