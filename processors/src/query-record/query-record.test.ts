import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CSVReader } from '../csv-reader/index.ts';
import { CSVRecordSetWriter } from '../csv-record-set-writer/index.ts';
import { JsonLinesReader } from '../json-lines-reader/index.ts';
import { JsonRecordSetWriter } from '../json-record-set-writer/index.ts';
import { JsonTreeReader } from '../json-tree-reader/index.ts';
import { QueryRecord } from './index.ts';

const people = 'name,age,city\nAda,36,London\nAlan,41,Wilmslow\nTim,12,Oxford\nGrace,85,Arlington\n';

describe('QueryRecord', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (
    queries: Record<string, string>,
    options: {
      reader?: 'csv' | 'json' | 'ndjson';
      writer?: 'json' | 'csv';
      properties?: Record<string, string>;
      readerProperties?: Record<string, string>;
    } = {},
  ): Promise<TestRunner> => {
    const reader = { csv: CSVReader, json: JsonTreeReader, ndjson: JsonLinesReader }[options.reader ?? 'csv'];
    const writer = options.writer === 'csv' ? CSVRecordSetWriter : JsonRecordSetWriter;
    runner = await TestRunner.create(QueryRecord, {
      properties: { recordReader: 'reader', recordWriter: 'writer', ...options.properties, ...queries },
      services: { reader: { type: reader, properties: { ...options.readerProperties } }, writer: { type: writer } },
    });
    return runner;
  };

  const json = (r: TestRunner, relationship: string): unknown[] => r.transferred(relationship).map((f) => JSON.parse(f.text()));

  it('runs every query over the records, each result to its own relationship, and the original to original', async () => {
    const r = await create({
      adults: 'SELECT name, age FROM FLOWFILE WHERE age >= 18 ORDER BY age DESC',
      count: 'SELECT COUNT(*) AS n, MAX(age) AS oldest FROM FLOWFILE',
      nobody: 'SELECT * FROM FLOWFILE WHERE age > 1000',
    });
    const input = await r.enqueue(people, { filename: 'people.csv' });
    await r.run();
    expect(json(r, 'adults')).toEqual([
      [
        { name: 'Grace', age: 85 },
        { name: 'Alan', age: 41 },
        { name: 'Ada', age: 36 },
      ],
    ]);
    expect(json(r, 'count')).toEqual([[{ n: 4, oldest: 85 }]]);
    expect(json(r, 'nobody')).toEqual([[]]);
    const adults = r.transferred('adults')[0];
    expect(adults?.attribute('record.count')).toBe('3');
    expect(adults?.attribute('mime.type')).toBe('application/json');
    expect(adults?.attribute('QueryRecord.Route')).toBe('adults');
    expect(adults?.attribute('filename')).toBe('people.csv');
    expect(r.transferred('nobody')[0]?.attribute('record.count')).toBe('0');
    const original = r.transferred('original');
    expect(original.map((f) => [f.uuid, f.text()])).toEqual([[input.uuid, people]]);
    r.assertTransferCount('failure', 0);
    const forks = await r.provenanceEvents('FORK');
    expect(forks.length).toBeGreaterThan(0);
  });

  it('drops empty results when told to, and writes with any writer', async () => {
    const r = await create(
      { minors: 'SELECT name FROM FLOWFILE WHERE age < 18', nobody: 'SELECT name FROM FLOWFILE WHERE age > 1000' },
      { writer: 'csv', properties: { includeZeroRecordFlowFiles: 'false' } },
    );
    await r.enqueue(people);
    await r.run();
    expect(r.transferred('minors').map((f) => f.text())).toEqual(['name\nTim\n']);
    expect(r.transferred('nobody')).toEqual([]);
    r.assertTransferCount('original', 1);
  });

  it('keeps booleans and nested objects: stored as 1/0 and JSON text, queried with json_extract, given back typed', async () => {
    const r = await create(
      {
        active:
          "SELECT id, active, address, json_extract(address, '$.city') AS city, tags FROM FLOWFILE WHERE active ORDER BY id",
      },
      { reader: 'json' },
    );
    await r.enqueue(
      JSON.stringify([
        { id: 1, active: true, address: { city: 'Paris', zip: '75001' }, tags: ['a', 'b'] },
        { id: 2, active: false, address: { city: 'Rome' }, tags: [] },
        { id: 3, active: true, address: null, tags: null },
      ]),
    );
    await r.run();
    expect(json(r, 'active')).toEqual([
      [
        { id: 1, active: true, address: { city: 'Paris', zip: '75001' }, city: 'Paris', tags: ['a', 'b'] },
        { id: 3, active: true, address: null, city: null, tags: null },
      ],
    ]);
  });

  it('evaluates Expression Language in queries against the FlowFile', async () => {
    const r = await create({ matching: "SELECT name FROM FLOWFILE WHERE city = '${wanted}'" });
    await r.enqueue(people, { wanted: 'Oxford' });
    await r.enqueue(people, { wanted: 'London' });
    await r.run(2);
    expect(json(r, 'matching')).toEqual([[{ name: 'Tim' }], [{ name: 'Ada' }]]);
  });

  it('sees fields that first appear after the schema sample', async () => {
    const r = await create(
      { late: 'SELECT n, late FROM FLOWFILE WHERE late IS NOT NULL' },
      { reader: 'ndjson', readerProperties: { schemaSampleSize: '1' } },
    );
    await r.enqueue('{"n":1}\n{"n":2}\n{"n":3,"late":"here"}\n');
    await r.run();
    expect(json(r, 'late')).toEqual([[{ n: 3, late: 'here' }]]);
  });

  it('loads and queries 100,000 records', async () => {
    const lines = ['id,group,value'];
    for (let i = 0; i < 100_000; i++) lines.push(`${i},g${i % 10},${i % 7}`);
    const r = await create({
      groups: 'SELECT "group", COUNT(*) AS n, SUM(value) AS total FROM FLOWFILE GROUP BY "group" ORDER BY "group"',
      all: 'SELECT * FROM FLOWFILE',
    });
    await r.enqueue(`${lines.join('\n')}\n`);
    await r.run();
    const groups = json(r, 'groups')[0];
    expect(Array.isArray(groups) ? groups.length : 0).toBe(10);
    expect(Array.isArray(groups) ? groups[0] : undefined).toEqual({ group: 'g0', n: 10_000, total: expect.any(Number) });
    expect(r.transferred('all')[0]?.attribute('record.count')).toBe('100000');
  });

  it('keeps FlowFiles apart when several tasks query at once (a worker per task)', async () => {
    runner = await TestRunner.create(QueryRecord, {
      properties: {
        recordReader: 'reader',
        recordWriter: 'writer',
        total: 'SELECT SUM(v) AS total, MIN(tag) AS tag FROM FLOWFILE',
      },
      services: { reader: { type: JsonLinesReader }, writer: { type: JsonRecordSetWriter } },
      scheduling: { concurrentTasks: 3 },
    });
    const r = runner;
    for (let i = 0; i < 12; i++) {
      const lines = Array.from({ length: 2000 }, (_, k) => JSON.stringify({ v: i, tag: `file-${i}`, k }));
      await r.enqueue(`${lines.join('\n')}\n`, { index: String(i) });
    }
    await r.runUntilIdle(60_000);
    const results = r.transferred('total').map((f) => [f.attribute('index'), JSON.parse(f.text())]);
    expect(results).toHaveLength(12);
    for (const [index, rows] of results) expect(rows).toEqual([{ total: Number(index) * 2000, tag: `file-${index}` }]);
    r.assertTransferCount('failure', 0);
  });

  describe('validation', () => {
    it.each([
      ['a syntax error', 'SELECT * FROM FLOWFILE WHERE', /not a valid query: incomplete input/],
      ['another table', 'SELECT * FROM people', /no such table: people \(the records are in the table FLOWFILE\)/],
      ['an unknown function', 'SELECT nope(1) FROM FLOWFILE', /no such function: nope/],
      ['a statement that changes data', 'DELETE FROM FLOWFILE', /must return rows/],
      ['ATTACH', "ATTACH DATABASE '/tmp/sluice-attack.db' AS x", /must return rows/],
      ['two statements', 'SELECT 1; SELECT 2', /more than one statement/],
    ])('rejects %s as a validation error', async (_, query, message) => {
      const r = await create({ q: query });
      expect(r.validationErrors().join('\n')).toMatch(message);
      await expect(r.run()).rejects.toThrow(/cannot run/);
    });

    it('rejects a query named like a fixed relationship, and no query at all', async () => {
      expect((await create({ original: 'SELECT 1' })).validationErrors().join('\n')).toMatch(
        /"original" is a QueryRecord relationship/,
      );
      await runner?.close();
      expect((await create({})).validationErrors().join('\n')).toMatch(/add at least one query/);
    });

    it('accepts an unknown column at configuration time (the columns come from the records)', async () => {
      const r = await create({ q: 'SELECT whatever FROM FLOWFILE' });
      expect(r.validationErrors()).toEqual([]);
    });
  });

  describe('failure', () => {
    it('sends the FlowFile to failure when a query fails on its records, with no partial results', async () => {
      const r = await create({ ok: 'SELECT name FROM FLOWFILE', bad: 'SELECT salary FROM FLOWFILE' });
      const input = await r.enqueue(people);
      await r.run();
      r.assertAllTransferred('failure', 1);
      const failed = r.transferred('failure')[0];
      expect(failed?.uuid).toBe(input.uuid);
      expect(failed?.attribute('record.error')).toBe('query "bad" failed: no such column: salary');
      expect(failed?.text()).toBe(people);
    });

    it('sends malformed content to failure with the position', async () => {
      const r = await create({ q: 'SELECT * FROM FLOWFILE' });
      await r.enqueue('a,b\n1,"unterminated\n');
      await r.run();
      r.assertAllTransferred('failure', 1);
      expect(r.transferred('failure')[0]?.attribute('record.error')).toMatch(/unterminated quoted field/);
    });

    it('sends fields that SQLite cannot tell apart to failure', async () => {
      const r = await create({ q: 'SELECT * FROM FLOWFILE' }, { reader: 'json' });
      await r.enqueue('[{"id":1,"ID":2}]');
      await r.run();
      expect(r.transferred('failure')[0]?.attribute('record.error')).toMatch(/fields "id" and "ID" differ only in case/);
    });

    it('stops an endless query at the timeout without stalling the event loop, then keeps working', async () => {
      const r = await create(
        {
          q: "SELECT CASE WHEN kind = 'endless' THEN (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c) ELSE 1 END AS n FROM FLOWFILE",
        },
        { properties: { queryTimeout: '700 ms' } },
      );
      await r.enqueue('kind\nendless\n', { filename: 'endless' });
      await r.enqueue('kind\nquick\n', { filename: 'quick' });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 20);
      const started = Date.now();
      try {
        await r.run(2);
      } finally {
        clearInterval(ticker);
      }
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(650);
      // The event loop kept turning while SQLite spun in its worker.
      expect(ticks).toBeGreaterThan(5);
      const failed = r.transferred('failure');
      expect(failed.map((f) => f.attribute('filename'))).toEqual(['endless']);
      expect(failed[0]?.attribute('record.error')).toMatch(/query "q" did not finish within the Query Timeout of 700 ms/);
      expect(json(r, 'q')).toEqual([[{ n: 1 }]]);
    });
  });
});
