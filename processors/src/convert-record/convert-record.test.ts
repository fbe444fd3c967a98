import type { AnyServiceDefinition } from '@sluice/api';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CSVReader } from '../csv-reader/index.ts';
import { CSVRecordSetWriter } from '../csv-record-set-writer/index.ts';
import { JsonLinesReader } from '../json-lines-reader/index.ts';
import { JsonRecordSetWriter } from '../json-record-set-writer/index.ts';
import { JsonTreeReader } from '../json-tree-reader/index.ts';
import { ConvertRecord } from './index.ts';

type ServiceConfig = { type: AnyServiceDefinition; properties?: Record<string, string> };

const readers = {
  json: { type: JsonTreeReader },
  ndjson: { type: JsonLinesReader },
  csv: { type: CSVReader },
} satisfies Record<string, ServiceConfig>;
const writers = {
  json: { type: JsonRecordSetWriter },
  ndjson: { type: JsonRecordSetWriter, properties: { outputGrouping: 'one-line-per-object' } },
  csv: { type: CSVRecordSetWriter },
} satisfies Record<string, ServiceConfig>;

describe('ConvertRecord', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (
    reader: ServiceConfig,
    writer: ServiceConfig,
    properties: Record<string, string> = {},
  ): Promise<TestRunner> => {
    runner = await TestRunner.create(ConvertRecord, {
      properties: { recordReader: 'reader', recordWriter: 'writer', ...properties },
      services: { reader, writer },
    });
    return runner;
  };

  /** Converts content once and returns the single output (asserting it went to success). */
  const convert = async (reader: ServiceConfig, writer: ServiceConfig, content: string | Buffer) => {
    const r = await create(reader, writer);
    await r.enqueue(content, { filename: 'in' });
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    await r.close();
    runner = undefined;
    if (out === undefined) throw new Error('no output');
    return out;
  };

  const people = [
    { id: 1, name: 'Ada Lovelace', city: 'London', score: 9.5, active: true },
    { id: 2, name: 'Grace "Amazing" Hopper', city: 'New York, NY', score: 10, active: false },
    { id: 3, name: 'Kim\nMulti-line', city: null, score: -1.25, active: true },
  ];

  it('round-trips JSON -> NDJSON -> CSV -> JSON without changing a value', async () => {
    const ndjson = await convert(readers.json, writers.ndjson, JSON.stringify(people));
    expect(ndjson.attribute('mime.type')).toBe('application/x-ndjson');
    expect(ndjson.attribute('record.count')).toBe('3');
    expect(
      ndjson
        .text()
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(people);

    const csv = await convert(readers.ndjson, writers.csv, ndjson.text());
    expect(csv.attribute('mime.type')).toBe('text/csv');
    expect(csv.attribute('record.count')).toBe('3');
    expect(csv.text()).toBe(
      [
        'id,name,city,score,active',
        '1,Ada Lovelace,London,9.5,true',
        '2,"Grace ""Amazing"" Hopper","New York, NY",10,false',
        '3,"Kim\nMulti-line",,-1.25,true',
        '',
      ].join('\n'),
    );

    const json = await convert(readers.csv, writers.json, csv.text());
    expect(json.attribute('mime.type')).toBe('application/json');
    expect(JSON.parse(json.text())).toEqual(people);
  });

  it('converts many FlowFiles per trigger and keeps their attributes', async () => {
    const r = await create(readers.ndjson, writers.json);
    for (let i = 0; i < 5; i++) await r.enqueue(`{"n":${i}}\n{"n":${i + 100}}\n`, { filename: `f${i}`, keep: 'me' });
    await r.run();
    r.assertAllTransferred('success', 5);
    const outputs = r.transferred('success');
    expect(outputs.map((f) => JSON.parse(f.text()))).toEqual([0, 1, 2, 3, 4].map((i) => [{ n: i }, { n: i + 100 }]));
    expect(outputs.every((f) => f.attribute('keep') === 'me' && f.attribute('record.count') === '2')).toBe(true);
  });

  it('streams a large conversion (200,000 records) through', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(JSON.stringify({ id: i, label: `item-${i}`, even: i % 2 === 0 }));
    const out = await convert(readers.ndjson, writers.csv, `${lines.join('\n')}\n`);
    expect(out.attribute('record.count')).toBe('200000');
    const csvLines = out.text().split('\n');
    expect(csvLines[0]).toBe('id,label,even');
    expect(csvLines[200_000]).toBe('199999,item-199999,false');
    expect(csvLines).toHaveLength(200_002); // header, records, final empty string
  });

  it.each([
    ['malformed JSON', readers.json, '[{"a": 1}, {"a": 2,}]', /malformed JSON in record 2 at line 1, column 20/],
    [
      'an unterminated CSV quote',
      readers.csv,
      'a,b\n1,"never closed\n2,3\n',
      /unterminated quoted field: the quote at line 2, column 3/,
    ],
    [
      'invalid UTF-8',
      readers.ndjson,
      Buffer.concat([Buffer.from('{"a":"ok"}\n{"a":"'), Buffer.from([0xc3]), Buffer.from('"}\n')]),
      /invalid UTF-8 at byte offset 17 \(line 2\)/,
    ],
    ['a JSON array of numbers', readers.json, '[1, 2, 3]', /record 1 at line 1, column 2 is a number, not a JSON object/],
  ])('sends %s to failure with record.error, content untouched', async (_, reader, content, reason) => {
    const r = await create(reader, writers.json);
    const input = await r.enqueue(content, { filename: 'bad' });
    await r.run();
    r.assertAllTransferred('failure', 1);
    const failed = r.transferred('failure')[0];
    expect(failed?.uuid).toBe(input.uuid);
    expect(failed?.attribute('record.error')).toMatch(reason);
    expect(failed?.content().equals(typeof content === 'string' ? Buffer.from(content) : content)).toBe(true);
    expect(failed?.attribute('mime.type')).toBeUndefined();
    expect(r.logsAt('WARN').some((l) => l.message.includes('cannot convert'))).toBe(true);
  });

  it('sends a record with a field outside the CSV columns to failure instead of dropping the value', async () => {
    const r = await create({ type: JsonLinesReader, properties: { schemaSampleSize: '1' } }, writers.csv);
    await r.enqueue('{"a":1}\n{"a":2,"late":true}\n');
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('record.error')).toMatch(
      /record 2 has field "late", which is not one of the CSV columns \(a\).*Schema Inference Sample Size/,
    );
  });

  it('a bad FlowFile does not hold up the good ones of the same batch', async () => {
    const r = await create(readers.json, writers.csv);
    await r.enqueue('[{"x":1}]', { filename: 'good1' });
    await r.enqueue('[{"x":', { filename: 'bad' });
    await r.enqueue('{"x":2}', { filename: 'good2' });
    await r.run();
    expect(r.transferred('success').map((f) => [f.attribute('filename'), f.text()])).toEqual([
      ['good1', 'x\n1\n'],
      ['good2', 'x\n2\n'],
    ]);
    expect(r.transferred('failure').map((f) => f.attribute('filename'))).toEqual(['bad']);
  });

  it('keeps or drops zero-record FlowFiles as configured', async () => {
    const keep = await convert(readers.json, writers.csv, '[]');
    expect(keep.attribute('record.count')).toBe('0');
    expect(keep.text()).toBe(''); // no records, no columns: not even a header
    const r = await create(readers.json, writers.json, { includeZeroRecordFlowFiles: 'false' });
    await r.enqueue('[]');
    await r.enqueue('[{"a":1}]');
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(r.transferred('success')[0]?.text()).toBe('[{"a":1}]');
  });

  it('is invalid without its services, and with a service of the wrong kind', async () => {
    runner = await TestRunner.create(ConvertRecord, { properties: {} });
    expect(runner.validationErrors().join('\n')).toMatch(/recordReader.*required/);
    await runner.close();
    runner = await TestRunner.create(ConvertRecord, {
      properties: { recordReader: 'writer', recordWriter: 'writer' },
      services: { writer: writers.json },
    });
    expect(runner.validationErrors().join('\n')).toMatch(/does not provide record-reader/);
  });

  it('refuses bad reader settings with a message naming the property', async () => {
    await expect(
      TestRunner.create(ConvertRecord, {
        properties: { recordReader: 'reader', recordWriter: 'writer' },
        services: { reader: { type: CSVReader, properties: { delimiter: ';;', quote: "'" } }, writer: writers.json },
      }),
    ).rejects.toThrow(/property "delimiter": ";;" must be exactly one character/);
    // Fine one by one, not together: the flow is refused with both properties named.
    await expect(
      TestRunner.create(ConvertRecord, {
        properties: { recordReader: 'reader', recordWriter: 'writer' },
        services: { reader: { type: CSVReader, properties: { delimiter: "'", quote: "'" } }, writer: writers.json },
      }),
    ).rejects.toThrow(/Value Separator and Quote Character must differ/);
  });
});
