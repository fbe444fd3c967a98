import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type CsvReadOptions,
  csvReaderFactory,
  csvWriterFactory,
  decodeUtf8,
  jsonLinesReaderFactory,
  jsonTreeReaderFactory,
  jsonWriterFactory,
  RecordFormatError,
  type RecordObject,
  type RecordReaderFactory,
  type RecordSchema,
  type RecordSetWriterFactory,
  SchemaInference,
  Utf8Error,
} from './index.ts';

const jsonOptions = { sampleSize: 100, maxRecordChars: 1024 * 1024 };
const csvOptions: CsvReadOptions = {
  delimiter: ',',
  quote: '"',
  escape: '',
  header: true,
  trim: false,
  typed: true,
  maxRecordChars: 1024 * 1024,
};

/** Content as a stream of chunks of `size` bytes (1 splits every multi-byte character). */
function chunked(content: string | Buffer, size = 1 << 16): Readable {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function readAll(factory: RecordReaderFactory, content: string | Buffer, size?: number) {
  const reader = await factory.read(chunked(content, size));
  const records: RecordObject[] = [];
  for await (const r of reader) records.push(r);
  return { records, schema: reader.schema, count: reader.recordCount };
}

async function failure(factory: RecordReaderFactory, content: string | Buffer, size?: number): Promise<RecordFormatError> {
  try {
    await readAll(factory, content, size);
  } catch (e) {
    expect(e).toBeInstanceOf(RecordFormatError);
    if (e instanceof RecordFormatError) return e;
  }
  throw new Error('expected a RecordFormatError');
}

async function written(factory: RecordSetWriterFactory, records: RecordObject[], schema: RecordSchema): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const writer = factory.createWriter(out, schema);
  for (const r of records) await writer.write(r);
  expect(await writer.finish()).toBe(records.length);
  return Buffer.concat(chunks).toString('utf8');
}

const plain = (records: RecordObject[]) => JSON.parse(JSON.stringify(records));

describe('UTF-8 decoding', () => {
  it('decodes characters split across chunks and drops a BOM', async () => {
    const text = '\ufeffhé€😀 done';
    let out = '';
    for await (const s of decodeUtf8(chunked(text, 1))) out += s;
    expect(out).toBe('hé€😀 done');
  });

  it.each([
    ['a stray continuation byte', Buffer.from([0x61, 0x62, 0x80, 0x63]), 2],
    ['an overlong encoding', Buffer.from([0x61, 0xc0, 0xaf]), 1],
    ['a UTF-16 surrogate', Buffer.from([0x61, 0xed, 0xa0, 0x80]), 1],
    ['a truncated sequence at the end', Buffer.from([0x61, 0x62, 0xe2, 0x82]), 2],
  ])('rejects %s with its byte offset', async (_, bytes, offset) => {
    let error: unknown;
    let out = '';
    try {
      for await (const s of decodeUtf8(chunked(bytes, 1))) out += s;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Utf8Error);
    if (error instanceof Utf8Error) expect(error.byteOffset).toBe(offset);
    expect(out).toBe(bytes.subarray(0, offset).toString('latin1'));
  });
});

describe('JsonTreeReader parsing', () => {
  const factory = jsonTreeReaderFactory(jsonOptions);

  it('reads an array of objects, with the schema in first-seen order and widened types', async () => {
    const { records, schema, count } = await readAll(
      factory,
      '[{"id": 1, "name": "a", "tags": ["x"]}, {"id": 2.5, "name": null, "extra": {"k": true}}]',
    );
    expect(plain(records)).toEqual([
      { id: 1, name: 'a', tags: ['x'] },
      { id: 2.5, name: null, extra: { k: true } },
    ]);
    expect(count).toBe(2);
    expect(schema.fields).toEqual([
      { name: 'id', type: 'number', nullable: false },
      { name: 'name', type: 'string', nullable: true },
      { name: 'tags', type: 'array', nullable: false },
      { name: 'extra', type: 'object', nullable: false },
    ]);
  });

  it('reads a single object, a sequence of objects, and nothing from empty content or []', async () => {
    expect(plain((await readAll(factory, ' {"a":1}\n')).records)).toEqual([{ a: 1 }]);
    expect(plain((await readAll(factory, '{"a":1}\n{"a":2}\n[{"a":3}]')).records)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect((await readAll(factory, '')).records).toEqual([]);
    expect((await readAll(factory, ' [ ] ')).records).toEqual([]);
  });

  it('gives the same records whatever the chunk boundaries (strings with braces, escapes, multi-byte text)', async () => {
    const text = JSON.stringify([
      { s: 'a } ] { [ "quoted" \\ back', n: -1.5e3, u: 'é€😀', nested: { deep: [[{ x: '}' }]] } },
      { s: '\u0000\u001f', empty: {}, arr: [] },
    ]);
    const expected = plain((await readAll(factory, text)).records);
    expect(expected).toEqual(JSON.parse(text));
    for (const size of [1, 2, 3, 7, 64]) expect(plain((await readAll(factory, text, size)).records)).toEqual(expected);
  });

  it('keeps __proto__ and constructor as ordinary fields (no prototype pollution)', async () => {
    const { records, schema } = await readAll(factory, '[{"__proto__": {"polluted": true}, "constructor": 1}]');
    const record = records[0];
    expect(record === undefined ? [] : Object.keys(record)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(schema.fields.map((f) => f.name)).toEqual(['__proto__', 'constructor']);
  });

  it.each([
    [
      'a missing value',
      '[{"a": 1},\n {"b": }]',
      /malformed JSON in record 2 at line 2, column 8: expected a JSON value but found "}"/,
    ],
    ['a missing colon', '{"a" 1}', /record 1 at line 1, column 6: expected ':' after the property name/],
    ['a trailing comma', '[{"a": 1},]', /expected record 2 after ',' but found "]" at line 1, column 11/],
    ['a number instead of an object', '[{"a": 1}, 42]', /record 2 at line 1, column 12 is a number, not a JSON object/],
    ['an unterminated record', '[{"a": "x}]', /record 1 starting at line 1, column 2 is not terminated/],
    ['an unterminated array', '[{"a": 1}', /the input ended inside the JSON array/],
    ['garbage at the top', 'hello', /expected a JSON array or object but found "h" at line 1, column 1/],
    ['a missing comma', '[{"a":1} {"a":2}]', /expected ',' or '\]' after record 1/],
  ])('rejects %s with the record and position', async (_, text, message) => {
    expect((await failure(factory, text)).message).toMatch(message);
  });

  it('rejects invalid UTF-8 naming the line', async () => {
    const bytes = Buffer.concat([Buffer.from('[{"a": "ok"},\n{"a": "'), Buffer.from([0xff]), Buffer.from('"}]')]);
    const e = await failure(factory, bytes);
    expect(e.message).toMatch(/invalid UTF-8 at byte offset 21 \(line 2, record 2\)/);
    expect(e.position.byteOffset).toBe(21);
  });

  it('refuses a record larger than the maximum record size instead of buffering it', async () => {
    const small = jsonTreeReaderFactory({ sampleSize: 10, maxRecordChars: 100 });
    const e = await failure(small, `[{"a": "${'x'.repeat(1000)}"}]`, 16);
    expect(e.message).toMatch(/record 1 starting at line 1 is longer than the maximum record size of 100 characters/);
  });

  it('yields records as they are parsed: a bad record late in the content fails only when reached', async () => {
    const reader = await jsonTreeReaderFactory({ sampleSize: 2, maxRecordChars: 1000 }).read(
      chunked('[{"a":1},{"a":2},{"a":3},{"a":}]', 4),
    );
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const r of reader) seen.push(r.a);
      })(),
    ).rejects.toThrow(/record 4/);
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('JsonLinesReader parsing', () => {
  const factory = jsonLinesReaderFactory(jsonOptions);

  it('reads one object per line, skipping blank lines, with CRLF', async () => {
    const { records } = await readAll(factory, '{"a":1}\r\n\r\n  \n{"a":"x\\ny"}\n{"a":null}', 3);
    expect(plain(records)).toEqual([{ a: 1 }, { a: 'x\ny' }, { a: null }]);
  });

  it.each([
    [
      'malformed JSON',
      '{"a":1}\n{"a":1,,}\n',
      /malformed JSON in record 2 at line 2, column 8: expected a double-quoted property name/,
    ],
    ['an array line', '{"a":1}\n\n[1,2]\n', /record 2 at line 3 is an array, not a JSON object/],
    ['two objects on one line', '{"a":1} {"b":2}\n', /line 1, column 9: expected the end of the input/],
  ])('rejects %s with the line', async (_, text, message) => {
    expect((await failure(factory, text)).message).toMatch(message);
  });

  it('rejects invalid UTF-8 naming the line', async () => {
    const e = await failure(
      factory,
      Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
    );
    expect(e.message).toMatch(/invalid UTF-8 at byte offset 14 \(line 2\)/);
  });
});

describe('CSVReader parsing', () => {
  const factory = csvReaderFactory(csvOptions);

  it('reads RFC 4180: quoted delimiters, doubled quotes, line breaks inside quotes, CRLF', async () => {
    const text = 'id,name,note\r\n1,"Smith, J","said ""hi"""\r\n2,plain,"two\r\nlines"\r\n';
    const { records, schema } = await readAll(factory, text);
    expect(plain(records)).toEqual([
      { id: 1, name: 'Smith, J', note: 'said "hi"' },
      { id: 2, name: 'plain', note: 'two\r\nlines' },
    ]);
    expect(schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['id', 'integer'],
      ['name', 'string'],
      ['note', 'string'],
    ]);
    for (const size of [1, 2, 5]) expect(plain((await readAll(factory, text, size)).records)).toEqual(plain(records));
  });

  it('types unquoted values only where unambiguous', async () => {
    const { records } = await readAll(factory, 'a,b,c,d,e,f,g\n42,-1.50,007,true,,"12",9007199254740993\n');
    expect(plain(records)).toEqual([{ a: 42, b: -1.5, c: '007', d: true, e: null, f: '12', g: '9007199254740993' }]);
    const untyped = csvReaderFactory({ ...csvOptions, typed: false });
    expect(plain((await readAll(untyped, 'a,b\n42,\n')).records)).toEqual([{ a: '42', b: '' }]);
  });

  it('supports other delimiters, quotes, an escape character, trimming and no header', async () => {
    const custom = csvReaderFactory({
      ...csvOptions,
      delimiter: ';',
      quote: "'",
      escape: '\\',
      trim: true,
      header: false,
      typed: false,
    });
    const { records, schema } = await readAll(custom, " a ; 'b;\\'c' ;d\n1;2;3\n");
    expect(plain(records)).toEqual([
      { column_1: 'a', column_2: "b;'c", column_3: 'd' },
      { column_1: '1', column_2: '2', column_3: '3' },
    ]);
    expect(schema.fields.map((f) => f.name)).toEqual(['column_1', 'column_2', 'column_3']);
  });

  it('fills missing trailing values with null and keeps the header columns with no records', async () => {
    expect(plain((await readAll(factory, 'a,b,c\n1\n')).records)).toEqual([{ a: 1, b: null, c: null }]);
    const empty = await readAll(factory, 'a,b\n');
    expect(empty.records).toEqual([]);
    expect(empty.schema.fields.map((f) => f.name)).toEqual(['a', 'b']);
  });

  it('keeps __proto__ as an ordinary column', async () => {
    const { records } = await readAll(factory, '__proto__,x\n1,2\n');
    expect(Object.keys(records[0] ?? {})).toEqual(['__proto__', 'x']);
    expect(Object.getPrototypeOf(records[0])).toBeNull();
  });

  it.each([
    ['an unterminated quote', 'a,b\n1,"open\n2,3\n', /unterminated quoted field: the quote at line 2, column 3 is never closed/],
    [
      'text after a closing quote',
      'a,b\n1,"x"y\n',
      /unexpected "y" after the closing quote of a field \(record 1, line 2, column 6\)/,
    ],
    ['more values than columns', 'a,b\n1,2\n3,4,5\n', /record 2 at line 3 has 3 values but there are 2 columns/],
    ['a duplicate header', 'a,b,a\n1,2,3\n', /the header names column "a" twice/],
  ])('rejects %s with the record and position', async (_, text, message) => {
    expect((await failure(factory, text)).message).toMatch(message);
  });

  it('stops at the maximum record size instead of buffering an unterminated quote to the end', async () => {
    const small = csvReaderFactory({ ...csvOptions, maxRecordChars: 50 });
    const e = await failure(small, `a,b\n1,"${'x'.repeat(10_000)}\n`, 64);
    expect(e.message).toMatch(
      /record 1 starting at line 2 is longer than the maximum record size of 50 characters \(is the quote at line 2, column 3 unterminated\?\)/,
    );
  });

  it('rejects invalid UTF-8 naming the line', async () => {
    const e = await failure(factory, Buffer.concat([Buffer.from('a,b\n1,2\n3,'), Buffer.from([0xfe]), Buffer.from('\n')]));
    expect(e.message).toMatch(/invalid UTF-8 at byte offset 10 \(record 2, line 3, column 3\)/);
  });
});

describe('record writers', () => {
  const schema = new SchemaInference(['id', 'name', 'tags']);
  const records: RecordObject[] = [
    { id: 1, name: 'plain', tags: ['a'] },
    { id: 2.5, name: 'with, comma "and quotes"\nand a line', tags: null },
    { id: null, name: '', tags: { k: true } },
  ];

  it('JSON: array, pretty array and one object per line', async () => {
    expect(JSON.parse(await written(jsonWriterFactory({ grouping: 'array', pretty: false }), records, schema))).toEqual(records);
    const pretty = await written(jsonWriterFactory({ grouping: 'array', pretty: true }), records, schema);
    expect(pretty.split('\n').length).toBeGreaterThan(10);
    expect(JSON.parse(pretty)).toEqual(records);
    const lines = await written(jsonWriterFactory({ grouping: 'lines', pretty: true }), records, schema);
    expect(
      lines
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(records);
    expect(await written(jsonWriterFactory({ grouping: 'array', pretty: false }), [], schema)).toBe('[]');
  });

  it('CSV: minimal quoting that a CSV reader reads back to the same values', async () => {
    const factory = csvWriterFactory({ header: true, delimiter: ',', quote: '"', quoteMode: 'minimal', recordSeparator: '\n' });
    expect(factory.mimeType).toBe('text/csv');
    const text = await written(factory, records, schema);
    expect(text).toBe('id,name,tags\n1,plain,"[""a""]"\n2.5,"with, comma ""and quotes""\nand a line",\n,"","{""k"":true}"\n');
    const back = plain((await readAll(csvReaderFactory(csvOptions), text)).records);
    expect(back).toEqual([
      { id: 1, name: 'plain', tags: '["a"]' },
      { id: 2.5, name: 'with, comma "and quotes"\nand a line', tags: null },
      { id: null, name: '', tags: '{"k":true}' },
    ]);
  });

  it('CSV: quote-all and non-numeric modes, other delimiter and CRLF, no header', async () => {
    const all = csvWriterFactory({ header: false, delimiter: ';', quote: "'", quoteMode: 'all', recordSeparator: '\r\n' });
    expect(await written(all, [{ id: 1, name: "it's", tags: null }], schema)).toBe("'1';'it''s';\r\n");
    const nonNumeric = csvWriterFactory({
      header: true,
      delimiter: ',',
      quote: '"',
      quoteMode: 'non-numeric',
      recordSeparator: '\n',
    });
    expect(await written(nonNumeric, [{ id: 1, name: 'x', tags: true }], schema)).toBe('"id","name","tags"\n1,"x",true\n');
  });

  it('CSV: writes the header even with no records, and refuses a field that is not a column', async () => {
    const factory = csvWriterFactory({ header: true, delimiter: ',', quote: '"', quoteMode: 'minimal', recordSeparator: '\n' });
    expect(await written(factory, [], schema)).toBe('id,name,tags\n');
    await expect(written(factory, [{ id: 1, surprise: 2 }], schema)).rejects.toThrow(
      /record 1 has field "surprise", which is not one of the CSV columns \(id, name, tags\)/,
    );
  });
});
