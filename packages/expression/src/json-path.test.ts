import { compileJsonPath, ExpressionError, evaluateJsonPath } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { errorOf, ev } from './context.test-helper.ts';

const store = {
  store: {
    book: [
      { category: 'reference', author: 'Nigel Rees', title: 'Sayings of the Century', price: 8.95 },
      { category: 'fiction', author: 'Evelyn Waugh', title: 'Sword of Honour', price: 12.99 },
      { category: 'fiction', author: 'Herman Melville', title: 'Moby Dick', isbn: '0-553-21311-3', price: 8.99 },
      {
        category: 'fiction',
        author: 'J. R. R. Tolkien',
        title: 'The Lord of the Rings',
        isbn: '0-395-19395-8',
        price: 22.99,
        flag: false,
      },
    ],
    bicycle: { color: 'red', price: 19.95 },
    'odd key': { 'a.b': 1 },
  },
  expensive: 10,
};

describe('evaluateJsonPath', () => {
  const q = (path: string) => evaluateJsonPath(store, path);

  it('follows dot and bracket child steps', () => {
    expect(q('$.store.bicycle.color')).toEqual(['red']);
    expect(q("$['store']['bicycle']['color']")).toEqual(['red']);
    expect(q('$["store"]["bicycle"].price')).toEqual([19.95]);
    expect(q("$.store['odd key']['a.b']")).toEqual([1]);
    expect(q('$')).toEqual([store]);
    expect(q('store.bicycle.color')).toEqual(['red']);
    expect(q('$.store.missing')).toEqual([]);
    expect(q('$.expensive.deeper')).toEqual([]);
  });

  it('indexes arrays, including negative indexes, unions and slices', () => {
    expect(q('$.store.book[0].author')).toEqual(['Nigel Rees']);
    expect(q('$.store.book[-1].title')).toEqual(['The Lord of the Rings']);
    expect(q('$.store.book[0,2].price')).toEqual([8.95, 8.99]);
    expect(q('$.store.book[1:3].price')).toEqual([12.99, 8.99]);
    expect(q('$.store.book[:2].price')).toEqual([8.95, 12.99]);
    expect(q('$.store.book[-2:].price')).toEqual([8.99, 22.99]);
    expect(q('$.store.book[::2].price')).toEqual([8.95, 8.99]);
    expect(q('$.store.book[9]')).toEqual([]);
    expect(q("$.store.book[0]['author','title']")).toEqual(['Nigel Rees', 'Sayings of the Century']);
  });

  it('expands wildcards and recursive descent', () => {
    expect(q('$.store.book[*].author')).toEqual(['Nigel Rees', 'Evelyn Waugh', 'Herman Melville', 'J. R. R. Tolkien']);
    expect(q('$.store.bicycle.*')).toEqual(['red', 19.95]);
    expect(q('$..author')).toHaveLength(4);
    expect(q('$..price').sort()).toEqual([12.99, 19.95, 22.99, 8.95, 8.99].sort());
    expect(q('$..book[2].title')).toEqual(['Moby Dick']);
    expect(q('$..*').length).toBeGreaterThan(20);
  });

  it('filters with comparisons, logic, existence and regexes', () => {
    expect(q('$.store.book[?(@.price < 10)].title')).toEqual(['Sayings of the Century', 'Moby Dick']);
    expect(q("$.store.book[?(@.category == 'reference')].author")).toEqual(['Nigel Rees']);
    expect(q('$.store.book[?(@.category != "fiction")].author')).toEqual(['Nigel Rees']);
    expect(q('$.store.book[?(@.isbn)].title')).toEqual(['Moby Dick', 'The Lord of the Rings']);
    expect(q('$.store.book[?(@.flag)].title')).toEqual(['The Lord of the Rings']);
    expect(q('$.store.book[?(!@.isbn)].title')).toEqual(['Sayings of the Century', 'Sword of Honour']);
    expect(q("$.store.book[?(@.price > 10 && @.category == 'fiction')].price")).toEqual([12.99, 22.99]);
    expect(q('$.store.book[?(@.price <= 8.95 || @.price >= 22.99)].price')).toEqual([8.95, 22.99]);
    expect(q('$.store.book[?(@.price > $.expensive)].price')).toEqual([12.99, 22.99]);
    expect(q('$.store.book[?(@.author =~ /.*rees/i)].title')).toEqual(['Sayings of the Century']);
    expect(q("$.store.book[?(@.category in ['reference', 'x'])].price")).toEqual([8.95]);
    expect(q('$.store.book[?((@.price < 9) && !(@.isbn))].price')).toEqual([8.95]);
  });

  it('supports length() at the end of a path', () => {
    expect(q('$.store.book.length()')).toEqual([4]);
    expect(q('$.store.bicycle.length()')).toEqual([2]);
  });

  it('treats __proto__ and constructor as ordinary keys', () => {
    const doc = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "c", "a": {}}');
    expect(evaluateJsonPath(doc, '$.__proto__.polluted')).toEqual([1]);
    expect(evaluateJsonPath(doc, '$.constructor')).toEqual(['c']);
    expect(evaluateJsonPath(doc, '$.a.constructor')).toEqual([]);
    expect(evaluateJsonPath(doc, '$.a.toString')).toEqual([]);
    expect(evaluateJsonPath([1, 2], '$.length')).toEqual([]);
  });

  it('knows whether a path is definite and reuses compiled paths', () => {
    expect(compileJsonPath('$.a.b[0]').definite).toBe(true);
    expect(compileJsonPath('$.a[*]').definite).toBe(false);
    expect(compileJsonPath('$..a').definite).toBe(false);
    expect(compileJsonPath('$.a[?(@.x)]').definite).toBe(false);
    expect(compileJsonPath('$.a[0,1]').definite).toBe(false);
    const path = compileJsonPath('$.x');
    expect(path.evaluate({ x: 1 })).toEqual([1]);
    expect(path.evaluate({ x: 2 })).toEqual([2]);
    expect(path.source).toBe('$.x');
  });

  it('throws an ExpressionError pointing into a bad path', () => {
    const cases: [string, RegExp, number][] = [
      ['$.a[', /unclosed "\["|expected/, 4],
      ['$.a..', /expected a name after "\.\."/, 5],
      ['$.a[?(@.b <)]', /unexpected/, 11],
      ["$['a", /unclosed quote/, 2],
      ['$.a[1:2:0]', /step cannot be 0/, 9],
      ['', /empty/, 0],
      ['$.a.b()', /unknown function "b\(\)"/, 7],
    ];
    for (const [path, message, position] of cases) {
      const error = errorOf(() => evaluateJsonPath({}, path));
      expect(error.message, path).toMatch(message);
      expect(error.message).toContain(`Invalid JSON path "${path}"`);
      expect(error.position, path).toBe(position);
    }
    expect(() => compileJsonPath('$.[')).toThrow(ExpressionError);
  });
});

describe('jsonPath in expressions', () => {
  const myJson = JSON.stringify({
    firstName: 'John',
    lastName: 'Smith',
    isAlive: true,
    age: 25,
    address: { streetAddress: '21 2nd Street', city: 'New York', state: 'NY', postalCode: '10021-3100' },
    phoneNumbers: [
      { type: 'home', number: '212 555-1234' },
      { type: 'office', number: '646 555-4567' },
    ],
    children: [],
    spouse: null,
  });
  const attrs = { myJson };

  it('follows the NiFi guide examples', () => {
    expect(ev("${myJson:jsonPath('$.firstName')}", attrs)).toBe('John');
    expect(ev("${myJson:jsonPath('$.address.postalCode')}", attrs)).toBe('10021-3100');
    expect(ev('${myJson:jsonPath(\'$.phoneNumbers[?(@.type=="home")].number\')}', attrs)).toBe('212 555-1234');
    expect(ev("${myJson:jsonPath('$.phoneNumbers')}", attrs)).toBe(
      '[{"type":"home","number":"212 555-1234"},{"type":"office","number":"646 555-4567"}]',
    );
    expect(ev("${myJson:jsonPath('$.missing-path')}", attrs)).toBe('');
    expect(() => ev("${myJson:jsonPath('$.bad-json-path..')}", attrs)).toThrow(
      /"jsonPath" cannot use the JSON path: Invalid JSON path/,
    );
  });

  it('renders scalars as text, several matches as a JSON array, null as empty', () => {
    expect(
      ev(
        "${myJson:jsonPath('$.age')}|${myJson:jsonPath('$.isAlive')}|${myJson:jsonPath('$.spouse')}|${myJson:jsonPath('$.children')}",
        attrs,
      ),
    ).toBe('25|true||[]');
    expect(ev("${myJson:jsonPath('$.phoneNumbers[*].type')}", attrs)).toBe('["home","office"]');
    expect(ev('${myJson:jsonPath(\'$.phoneNumbers[?(@.type=="none")]\')}', attrs)).toBe('');
    expect(ev('${myJson:jsonPath(${p})}', { myJson, p: '$.lastName' })).toBe('Smith');
  });

  it('rejects an empty or invalid document, and a bad literal path at compile time', () => {
    expect(() => ev("${missing:jsonPath('$.a')}")).toThrow(
      /"jsonPath" needs a JSON document as its subject, but the subject is empty/,
    );
    expect(() => ev("${v:jsonPath('$.a')}", { v: '{a:1}' })).toThrow(/needs a JSON document as its subject, but got "\{a:1\}"/);
    const error = errorOf(() => ev("${v:jsonPath('$.a[')}", { v: '{}' }));
    expect(error.position).toBe(13);
    expect(error.message).toMatch(/^"jsonPath" cannot use the JSON path: Invalid JSON path "\$\.a\[":/);
  });

  it('updates documents with jsonPathSet / Delete / Add / Put', () => {
    const doc = { doc: '{"a":{"b":1,"list":[1,2,3]},"c":"x"}' };
    expect(ev("${doc:jsonPathSet('$.a.b', 'two')}", doc)).toBe('{"a":{"b":"two","list":[1,2,3]},"c":"x"}');
    expect(ev("${doc:jsonPathSet('$.a.list[*]', 0)}", doc)).toBe('{"a":{"b":1,"list":[0,0,0]},"c":"x"}');
    expect(ev("${doc:jsonPathDelete('$.c')}", doc)).toBe('{"a":{"b":1,"list":[1,2,3]}}');
    expect(ev("${doc:jsonPathDelete('$.a.list[0,2]')}", doc)).toBe('{"a":{"b":1,"list":[2]},"c":"x"}');
    expect(ev("${doc:jsonPathDelete('$.nothing')}", doc)).toBe('{"a":{"b":1,"list":[1,2,3]},"c":"x"}');
    expect(ev("${doc:jsonPathAdd('$.a.list', 4)}", doc)).toBe('{"a":{"b":1,"list":[1,2,3,4]},"c":"x"}');
    expect(ev("${doc:jsonPathPut('$.a', 'flag', true)}", doc)).toBe('{"a":{"b":1,"list":[1,2,3],"flag":true},"c":"x"}');
    expect(ev("${doc:jsonPathPut('$', '__proto__', 'safe')}", doc)).toBe(
      '{"a":{"b":1,"list":[1,2,3]},"c":"x","__proto__":"safe"}',
    );
    expect(() => ev("${doc:jsonPathAdd('$.a', 4)}", doc)).toThrow(/"jsonPathAdd" can only add to an array/);
    expect(() => ev("${doc:jsonPathPut('$.c', 'k', 1)}", doc)).toThrow(/"jsonPathPut" can only put into an object/);
  });
});
