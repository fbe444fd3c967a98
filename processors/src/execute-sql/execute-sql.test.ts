import type { AnyServiceDefinition } from '@sluice/api';
import { TestRunner } from '@sluice/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CSVRecordSetWriter } from '../csv-record-set-writer/index.ts';
import { JsonRecordSetWriter } from '../json-record-set-writer/index.ts';
import { PostgreSQLConnectionPool } from '../postgresql-connection-pool/index.ts';
import { closedPort, type TestDatabase, testDatabase } from '../postgresql-connection-pool/test-database.test-helper.ts';
import { ExecuteSQL } from './index.ts';

describe('ExecuteSQL', () => {
  let db: TestDatabase;
  let orders: string;
  let runner: TestRunner | undefined;

  beforeAll(async () => {
    db = await testDatabase();
    orders = db.table('orders');
    await db.query(`CREATE TABLE ${orders} (id int PRIMARY KEY, customer text, total numeric(10,2), paid boolean)`);
    await db.query(`INSERT INTO ${orders} VALUES (1, 'ada', 12.50, true), (2, 'alan', 99.99, false), (3, 'ada', 0.10, true)`);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (
    properties: Record<string, string> = {},
    options: { pool?: Record<string, string>; writer?: 'csv' | 'ndjson' } = {},
  ): Promise<TestRunner> => {
    const services: Record<string, { type: AnyServiceDefinition; properties?: Record<string, string> }> = {
      pool: { type: PostgreSQLConnectionPool, properties: { connectionUrl: db.url, ...options.pool } },
    };
    if (options.writer === 'csv') services.writer = { type: CSVRecordSetWriter };
    if (options.writer === 'ndjson')
      services.writer = { type: JsonRecordSetWriter, properties: { outputGrouping: 'one-line-per-object' } };
    runner = await TestRunner.create(ExecuteSQL, {
      properties: { databasePool: 'pool', ...(options.writer === undefined ? {} : { recordWriter: 'writer' }), ...properties },
      services,
    });
    return runner;
  };

  it('runs the query on its schedule and writes the rows as a JSON array, with timing attributes and RECEIVE', async () => {
    const r = await create({ sqlQuery: `SELECT id, customer, total, paid FROM ${orders} ORDER BY id` });
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(JSON.parse(out?.text() ?? '')).toEqual([
      { id: 1, customer: 'ada', total: '12.50', paid: true },
      { id: 2, customer: 'alan', total: '99.99', paid: false },
      { id: 3, customer: 'ada', total: '0.10', paid: true },
    ]);
    expect(out?.attribute('executesql.row.count')).toBe('3');
    expect(out?.attribute('record.count')).toBe('3');
    expect(out?.attribute('mime.type')).toBe('application/json');
    expect(Number(out?.attribute('executesql.query.duration'))).toBeGreaterThanOrEqual(0);
    expect(out?.attribute('executesql.query.executiontime')).toMatch(/^\d+$/);
    expect((await r.provenanceEvents('RECEIVE')).map((e) => e.transitUri)).toEqual([expect.stringMatching(/^postgresql:\/\//)]);
  });

  it('runs once per incoming FlowFile with its attributes and sql.args, replacing it with the result', async () => {
    const r = await create(
      { sqlQuery: `SELECT id FROM ${orders} WHERE customer = ? AND total > \${minimum} ORDER BY id` },
      { writer: 'csv' },
    );
    const input = await r.enqueue('ignored', {
      minimum: '1',
      'sql.args.1.type': 'VARCHAR',
      'sql.args.1.value': 'ada',
      tag: 'kept',
    });
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(out?.text()).toBe('id\n1\n');
    expect(out?.attribute('tag')).toBe('kept');
    expect(out?.attribute('mime.type')).toBe('text/csv');
    expect(out?.uuid).not.toBe(input.uuid);
    expect(r.inputQueue()).toEqual([]);
    expect((await r.provenanceEvents('FETCH')).length).toBe(1);
  });

  it("takes the query from the incoming FlowFile's content when the property is empty", async () => {
    const r = await create({}, { writer: 'ndjson' });
    await r.enqueue(`SELECT customer, count(*) AS n FROM ${orders} GROUP BY customer ORDER BY customer;`);
    await r.run();
    expect(r.transferred('success')[0]?.text()).toBe('{"customer":"ada","n":2}\n{"customer":"alan","n":1}\n');
  });

  it('streams a large result through a cursor, and splits it by Max Rows Per Flow File', async () => {
    const r = await create({
      sqlQuery: "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 200000) g",
      fetchSize: '5000',
    });
    await r.run();
    const out = r.transferred('success')[0];
    expect(out?.attribute('executesql.row.count')).toBe('200000');
    const rows: Array<{ n: number; label: string }> = JSON.parse(out?.text() ?? '[]');
    expect(rows).toHaveLength(200_000);
    expect(rows[199_999]).toEqual({ n: 200_000, label: 'row 200000' });
    await r.close();

    const split = await create({
      sqlQuery: 'SELECT g FROM generate_series(1, 25000) g',
      fetchSize: '3000',
      maxRowsPerFlowFile: '10000',
    });
    await split.run();
    const parts = split.transferred('success');
    expect(parts.map((f) => f.attribute('executesql.row.count'))).toEqual(['10000', '10000', '5000']);
    expect(parts.map((f) => f.attribute('fragment.index'))).toEqual(['0', '1', '2']);
    expect(parts.every((f) => f.attribute('fragment.count') === '3')).toBe(true);
    expect(new Set(parts.map((f) => f.attribute('fragment.identifier'))).size).toBe(1);
    expect(JSON.parse(parts[2]?.text() ?? '[]')[4999]).toEqual({ g: 25_000 });
  });

  it('gives JSON-friendly values: exact int8, numeric and timestamps as text, json parsed, arrays, NULL, repeated names', async () => {
    const r = await create({
      sqlQuery: `SELECT 9007199254740993::int8 AS big, 42::int8 AS small, 1.10::numeric AS exact, 2.5::float8 AS approx,
        '2024-03-01 12:34:56'::timestamp AS ts, '2024-03-01'::date AS day, '{"a":[1,{"b":null}]}'::jsonb AS doc,
        ARRAY[1,2,3] AS list, NULL::text AS nothing, '\\xdeadbeef'::bytea AS raw, 1 AS x, 2 AS x`,
    });
    await r.run();
    expect(JSON.parse(r.transferred('success')[0]?.text() ?? '')).toEqual([
      {
        big: '9007199254740993',
        small: 42,
        exact: '1.10',
        approx: 2.5,
        ts: '2024-03-01 12:34:56',
        day: '2024-03-01',
        doc: { a: [1, { b: null }] },
        list: [1, 2, 3],
        nothing: null,
        raw: '\\xdeadbeef',
        x: 1,
        x_2: 2,
      },
    ]);
  });

  it('writes an empty result as a FlowFile with zero records, and runs statements a cursor cannot', async () => {
    const r = await create({ sqlQuery: `SELECT * FROM ${orders} WHERE id < 0` });
    await r.run();
    expect(r.transferred('success').map((f) => [f.text(), f.attribute('executesql.row.count')])).toEqual([['[]', '0']]);
    await r.close();
    const returning = await create({ sqlQuery: `UPDATE ${orders} SET paid = true WHERE id = 2 RETURNING id, paid` });
    await returning.run();
    expect(JSON.parse(returning.transferred('success')[0]?.text() ?? '')).toEqual([{ id: 2, paid: true }]);
    await db.query(`UPDATE ${orders} SET paid = false WHERE id = 2`);
  });

  it('sends the incoming FlowFile to failure with the database error when the query fails', async () => {
    const r = await create({ sqlQuery: `SELECT missing_column FROM ${orders}` });
    const input = await r.enqueue('x');
    await r.run();
    r.assertAllTransferred('failure', 1);
    const failed = r.transferred('failure')[0];
    expect(failed?.uuid).toBe(input.uuid);
    expect(failed?.attribute('executesql.error.message')).toMatch(/column "missing_column" does not exist \(SQLSTATE 42703\)/);
  });

  it('on a schedule, reports a failing query as an error bulletin and produces nothing', async () => {
    const r = await create({ sqlQuery: 'SELECT 1/0' });
    await r.run();
    r.assertTransferCount('success', 0);
    expect(r.logsAt('ERROR').map((l) => l.message)).toEqual([expect.stringMatching(/division by zero \(SQLSTATE 22012\)/)]);
  });

  it('returns the incoming FlowFile to the queue, penalized, when the database is unreachable', async () => {
    const port = await closedPort();
    const r = await create({ sqlQuery: 'SELECT 1' }, { pool: { connectionUrl: `postgresql://postgres@127.0.0.1:${port}/test` } });
    const input = await r.enqueue('x');
    await r.run();
    r.assertTransferCount('success', 0);
    r.assertTransferCount('failure', 0);
    const queued = r.inputQueue();
    expect(queued.map((f) => [f.uuid, f.penalized])).toEqual([[input.uuid, true]]);
    expect(r.logsAt('ERROR').some((l) => /ECONNREFUSED/.test(`${l.message} ${String(l.error)}`))).toBe(true);
  });
});
