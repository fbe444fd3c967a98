import { TestRunner } from '@sluice/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CSVReader } from '../csv-reader/index.ts';
import { JsonLinesReader } from '../json-lines-reader/index.ts';
import { JsonTreeReader } from '../json-tree-reader/index.ts';
import { PostgreSQLConnectionPool } from '../postgresql-connection-pool/index.ts';
import { closedPort, type TestDatabase, testDatabase } from '../postgresql-connection-pool/test-database.test-helper.ts';
import { PutDatabaseRecord } from './index.ts';

describe('PutDatabaseRecord', () => {
  let db: TestDatabase;
  let runner: TestRunner | undefined;

  beforeAll(async () => {
    db = await testDatabase();
    await db.query(`CREATE TABLE ${db.table('people')} (
      id int PRIMARY KEY,
      "Name" text NOT NULL,
      email text UNIQUE,
      age int CHECK (age >= 0),
      status text DEFAULT 'new',
      profile jsonb,
      tags text[],
      name_length int GENERATED ALWAYS AS (length("Name")) STORED
    )`);
    await db.query(
      `CREATE TABLE ${db.table('events')} (source text NOT NULL, seq int NOT NULL, payload text, UNIQUE (source, seq))`,
    );
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    await db.query(`TRUNCATE ${db.table('people')}, ${db.table('events')}`);
  });

  const readers = { json: JsonTreeReader, ndjson: JsonLinesReader, csv: CSVReader };
  const create = async (
    properties: Record<string, string> = {},
    options: { reader?: keyof typeof readers; pool?: Record<string, string> } = {},
  ): Promise<TestRunner> => {
    runner = await TestRunner.create(PutDatabaseRecord, {
      properties: { recordReader: 'reader', databasePool: 'pool', schemaName: db.schema, tableName: 'people', ...properties },
      services: {
        reader: { type: readers[options.reader ?? 'json'] },
        pool: { type: PostgreSQLConnectionPool, properties: { connectionUrl: db.url, ...options.pool } },
      },
    });
    return runner;
  };
  const people = () =>
    db.query(`SELECT id, "Name" AS name, email, age, status, profile, tags, name_length FROM ${db.table('people')} ORDER BY id`);

  it('inserts records, matching fields to columns case-insensitively, with column defaults for missing fields', async () => {
    const r = await create();
    const input = await r.enqueue(
      JSON.stringify([
        {
          ID: 1,
          name: 'Ada',
          email: 'ada@example.org',
          age: 36,
          profile: { langs: ['en'] },
          tags: ['math', 'poetry'],
          unknown: 'ignored',
        },
        { id: 2, Name: 'Alan', age: null, status: 'active', profile: [1, 2] },
      ]),
    );
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(out?.uuid).toBe(input.uuid);
    expect(out?.attribute('record.count')).toBe('2');
    expect(out?.attribute('putdatabaserecord.row.count')).toBe('2');
    expect(await people()).toEqual([
      {
        id: 1,
        name: 'Ada',
        email: 'ada@example.org',
        age: 36,
        status: 'new',
        profile: { langs: ['en'] },
        tags: ['math', 'poetry'],
        name_length: 3,
      },
      { id: 2, name: 'Alan', email: null, age: null, status: 'active', profile: [1, 2], tags: null, name_length: 4 },
    ]);
    expect((await r.provenanceEvents('SEND')).map((e) => e.transitUri)).toEqual([
      expect.stringMatching(/^postgresql:\/\/.*\/people$/),
    ]);
  });

  it('inserts a large CSV in multi-row statements within one transaction', async () => {
    const lines = ['id,name,age'];
    for (let i = 1; i <= 2500; i++) lines.push(`${i},person ${i},${i % 90}`);
    const r = await create({ maxBatchSize: '400' }, { reader: 'csv' });
    await r.enqueue(`${lines.join('\n')}\n`);
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(r.transferred('success')[0]?.attribute('record.count')).toBe('2500');
    const [count] = await db.query(`SELECT count(*)::int AS n, sum(age)::int AS ages FROM ${db.table('people')}`);
    expect(count).toEqual({ n: 2500, ages: lines.slice(1).reduce((s, l) => s + Number(l.split(',')[2]), 0) });
  });

  it('writes nothing of a FlowFile whose record violates a constraint, and says which', async () => {
    const r = await create({ maxBatchSize: '2' }, { reader: 'ndjson' });
    await r.enqueue('{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n{"id":3,"name":"c","age":-5}\n{"id":4,"name":"d"}\n', {
      filename: 'bad',
    });
    await r.enqueue('{"id":10,"name":"fine"}\n', { filename: 'good' });
    await r.run();
    const failed = r.transferred('failure');
    expect(failed.map((f) => f.attribute('filename'))).toEqual(['bad']);
    expect(failed[0]?.attribute('putdatabaserecord.error')).toMatch(
      /violates check constraint "people_age_check" \(SQLSTATE 23514\)/,
    );
    expect(r.transferred('success').map((f) => f.attribute('filename'))).toEqual(['good']);
    expect((await people()).map((p) => p.id)).toEqual([10]);
  });

  it('sends a value the column cannot take and a duplicate key to failure', async () => {
    await db.query(`INSERT INTO ${db.table('people')} (id, "Name") VALUES (1, 'x')`);
    const r = await create();
    await r.enqueue('[{"id": "one", "name": "x"}]');
    await r.enqueue('[{"id": 1, "name": "again"}]');
    await r.run();
    const errors = r.transferred('failure').map((f) => f.attribute('putdatabaserecord.error'));
    expect(errors).toEqual([
      expect.stringMatching(/invalid input syntax for type integer: "one" \(SQLSTATE 22P02\)/),
      expect.stringMatching(/duplicate key value violates unique constraint "people_pkey".*Key \(id\)=\(1\) already exists/),
    ]);
  });

  it('updates rows by primary key or by Update Keys, leaving columns of missing fields alone', async () => {
    await db.query(
      `INSERT INTO ${db.table('people')} (id, "Name", email, age) VALUES (1, 'Ada', 'ada@x', 36), (2, 'Alan', 'alan@x', 41)`,
    );
    const r = await create({ statementType: 'UPDATE' });
    await r.enqueue('[{"id": 1, "age": 37}, {"id": 3, "age": 1}]');
    await r.run();
    expect(r.transferred('success')[0]?.attribute('putdatabaserecord.row.count')).toBe('1');
    await r.close();
    const byEmail = await create({ statementType: 'UPDATE', updateKeys: 'EMAIL' });
    await byEmail.enqueue('[{"email": "alan@x", "name": "Alan Turing"}]');
    await byEmail.run();
    byEmail.assertAllTransferred('success', 1);
    expect((await people()).map((p) => [p.id, p.name, p.age])).toEqual([
      [1, 'Ada', 37],
      [2, 'Alan Turing', 41],
    ]);
  });

  it('upserts: inserts new rows and updates existing ones, a key repeated in one FlowFile included', async () => {
    await db.query(`INSERT INTO ${db.table('people')} (id, "Name", age) VALUES (1, 'Ada', 36)`);
    const r = await create({ statementType: 'UPSERT' });
    await r.enqueue(
      '[{"id": 1, "name": "Ada", "age": 40}, {"id": 2, "name": "Grace", "age": 85}, {"id": 2, "name": "Grace", "age": 86}]',
    );
    await r.run();
    r.assertAllTransferred('success', 1);
    expect((await people()).map((p) => [p.id, p.name, p.age])).toEqual([
      [1, 'Ada', 40],
      [2, 'Grace', 86],
    ]);
  });

  it('upserts on a unique constraint named by Update Keys', async () => {
    const r = await create({ tableName: 'events', statementType: 'UPSERT', updateKeys: 'source, seq' });
    await r.enqueue('[{"source": "a", "seq": 1, "payload": "first"}, {"source": "a", "seq": 2, "payload": "x"}]');
    await r.enqueue('[{"source": "a", "seq": 1, "payload": "replaced"}]');
    await r.run();
    r.assertAllTransferred('success', 2);
    expect(await db.query(`SELECT source, seq, payload FROM ${db.table('events')} ORDER BY seq`)).toEqual([
      { source: 'a', seq: 1, payload: 'replaced' },
      { source: 'a', seq: 2, payload: 'x' },
    ]);
  });

  it('deletes by primary key, and takes the statement type from the statement.type attribute', async () => {
    await db.query(`INSERT INTO ${db.table('people')} (id, "Name") VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    const r = await create({ statementType: 'use-attribute' });
    await r.enqueue('[{"id": 1}, {"id": 3, "name": "whatever"}]', { 'statement.type': 'delete' });
    await r.enqueue('[{"id": 4, "name": "d"}]', { 'statement.type': 'INSERT' });
    await r.enqueue('[{"id": 5, "name": "e"}]', { 'statement.type': 'MERGE' });
    await r.run();
    expect((await people()).map((p) => p.id)).toEqual([2, 4]);
    expect(r.transferred('failure')[0]?.attribute('putdatabaserecord.error')).toMatch(
      /the statement.type attribute is "MERGE"; expected INSERT, UPDATE, UPSERT or DELETE/,
    );
  });

  it.each([
    [
      'a field that matches no column (when told to fail)',
      { unmatchedFieldBehavior: 'fail' },
      '[{"id": 1, "name": "a", "shoe": 42}]',
      /record 1 has field "shoe", which matches no column of/,
    ],
    [
      'a record lacking a column (when told to fail)',
      { unmatchedColumnBehavior: 'fail' },
      '[{"id": 1, "name": "a"}]',
      /record 1 has no field for column "email"/,
    ],
    [
      'a record without its update key',
      { statementType: 'UPDATE' },
      '[{"name": "a"}]',
      /record 1 has no value for key column "id", which UPDATE needs/,
    ],
    ['an unknown table', { tableName: 'nope' }, '[{"id": 1}]', /table .*nope does not exist/],
    ['an unknown update key', { statementType: 'UPDATE', updateKeys: 'nope' }, '[{"id": 1}]', /Update Keys names column "nope"/],
    ['malformed content', {}, '[{"id": 1, "name": "a"}, {"id": 2, ', /record 2 starting at line 1, column 26 is not terminated/],
  ])('sends %s to failure', async (_, properties, content, reason) => {
    const r = await create(properties);
    await r.enqueue(content);
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putdatabaserecord.error')).toMatch(reason);
    expect(await people()).toEqual([]);
  });

  it('finds a table written in another case (unquoted names fold to lower case)', async () => {
    const r = await create({ tableName: 'PEOPLE', schemaName: db.schema.toUpperCase() });
    await r.enqueue('{"id": 1, "name": "a"}');
    await r.run();
    r.assertAllTransferred('success', 1);
  });

  it('routes to retry, penalized, when the database refuses connections', async () => {
    const port = await closedPort();
    const r = await create({}, { pool: { connectionUrl: `postgresql://postgres@127.0.0.1:${port}/test` } });
    await r.enqueue('[{"id": 1, "name": "a"}]');
    await r.enqueue('[{"id": 2, "name": "b"}]');
    await r.run();
    r.assertAllTransferred('retry', 2);
    expect(
      r.transferred('retry').every((f) => f.penalized && /ECONNREFUSED/.test(f.attribute('putdatabaserecord.error') ?? '')),
    ).toBe(true);
  });
});
