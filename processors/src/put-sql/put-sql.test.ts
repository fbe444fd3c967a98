import { TestRunner } from '@sluice/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgreSQLConnectionPool } from '../postgresql-connection-pool/index.ts';
import {
  closedPort,
  silentServer,
  type TestDatabase,
  testDatabase,
} from '../postgresql-connection-pool/test-database.test-helper.ts';
import { PutSQL } from './index.ts';

describe('PutSQL', () => {
  let db: TestDatabase;
  let items: string;
  let runner: TestRunner | undefined;

  beforeAll(async () => {
    db = await testDatabase();
    items = db.table('items');
    await db.query(
      `CREATE TABLE ${items} (id int PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0), data bytea, seen timestamptz)`,
    );
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    await db.query(`TRUNCATE ${items}`);
  });

  const create = async (properties: Record<string, string> = {}, pool: Record<string, string> = {}): Promise<TestRunner> => {
    runner = await TestRunner.create(PutSQL, {
      properties: { databasePool: 'pool', ...properties },
      services: { pool: { type: PostgreSQLConnectionPool, properties: { connectionUrl: db.url, ...pool } } },
    });
    return runner;
  };
  const rows = () => db.query<{ id: number; name: string; qty: number | null }>(`SELECT id, name, qty FROM ${items} ORDER BY id`);

  it('executes the content as SQL and commits it, with a SEND event', async () => {
    const r = await create();
    const input = await r.enqueue(
      `INSERT INTO ${items} (id, name, qty) VALUES (1, 'bolt', 10); INSERT INTO ${items} (id, name) VALUES (2, 'nut');`,
    );
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(r.transferred('success')[0]?.uuid).toBe(input.uuid);
    expect(await rows()).toEqual([
      { id: 1, name: 'bolt', qty: 10 },
      { id: 2, name: 'nut', qty: null },
    ]);
    const sends = await r.provenanceEvents('SEND');
    expect(sends.map((e) => e.transitUri)).toEqual([expect.stringMatching(/^postgresql:\/\/127\.0\.0\.1:\d+\/\w+$/)]);
  });

  it('binds sql.args parameters to ? placeholders by JDBC type code or name, NULL when the value is absent', async () => {
    const r = await create({ sqlStatement: `INSERT INTO ${items} (id, name, qty, data, seen) VALUES (?, ?, ?, ?, ?)` });
    await r.enqueue('', {
      'sql.args.1.type': '4',
      'sql.args.1.value': '7',
      'sql.args.2.type': 'VARCHAR',
      'sql.args.2.value': "O'Brien; DROP TABLE x --",
      'sql.args.3.type': 'INTEGER',
      'sql.args.4.type': '-3',
      'sql.args.4.value': 'cafe',
      'sql.args.4.format': 'hex',
      'sql.args.5.type': 'TIMESTAMP',
      'sql.args.5.value': '0',
    });
    await r.run();
    r.assertAllTransferred('success', 1);
    const [row] = await db.query(
      `SELECT id, name, qty, encode(data, 'hex') AS hex, extract(epoch FROM seen)::int AS epoch FROM ${items}`,
    );
    expect(row).toEqual({ id: 7, name: "O'Brien; DROP TABLE x --", qty: null, hex: 'cafe', epoch: 0 });
  });

  it('commits the good FlowFiles of a batch and sends a constraint violation to failure with the error', async () => {
    await db.query(`INSERT INTO ${items} (id, name) VALUES (1, 'existing')`);
    const r = await create();
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (2, 'two')`, { filename: 'good-1' });
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (1, 'duplicate')`, { filename: 'duplicate' });
    await r.enqueue(`INSERT INTO ${items} (id, name, qty) VALUES (3, 'negative', -1)`, { filename: 'check' });
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (4, 'four')`, { filename: 'good-2' });
    await r.run();
    expect(r.transferred('success').map((f) => f.attribute('filename'))).toEqual(['good-1', 'good-2']);
    const failed = r.transferred('failure');
    expect(failed.map((f) => f.attribute('filename'))).toEqual(['duplicate', 'check']);
    expect(failed[0]?.attribute('putsql.error')).toMatch(
      /duplicate key value violates unique constraint "items_pkey" \(SQLSTATE 23505\); Key \(id\)=\(1\) already exists/,
    );
    expect(failed[1]?.attribute('putsql.error')).toMatch(/violates check constraint "items_qty_check" \(SQLSTATE 23514\)/);
    expect((await rows()).map((x) => x.name)).toEqual(['existing', 'two', 'four']);
    r.assertTransferCount('retry', 0);
  });

  it('runs a FlowFile with several statements atomically: a failing one undoes the others', async () => {
    const r = await create();
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (10, 'ten'); INSERT INTO ${items} (id, name) VALUES (11, NULL)`);
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putsql.error')).toMatch(
      /null value in column "name".*violates not-null constraint \(SQLSTATE 23502\)/,
    );
    expect(await rows()).toEqual([]);
  });

  it.each([
    ['bad SQL', 'INSERT INTO nowhere VALUS (1)', {}, /syntax error at or near "VALUS" \(SQLSTATE 42601\)/],
    ['an empty statement', '  ;  ', {}, /there is no SQL to execute/],
    [
      'transaction control',
      `BEGIN; INSERT INTO x VALUES (1); COMMIT;`,
      {},
      /the SQL contains BEGIN: PutSQL runs each FlowFile in a transaction of its own/,
    ],
    [
      'a parameter that does not fit its type',
      'SELECT ?',
      { 'sql.args.1.type': 'INTEGER', 'sql.args.1.value': 'abc' },
      /sql.args.1.value "abc" is not an integer/,
    ],
    [
      'a missing parameter type',
      'SELECT ?, ?',
      { 'sql.args.2.type': '4', 'sql.args.2.value': '1' },
      /sql.args.1.type is missing/,
    ],
    [
      'an unknown parameter type',
      'SELECT ?',
      { 'sql.args.1.type': 'GEOMETRY', 'sql.args.1.value': '1' },
      /"GEOMETRY" is not a JDBC type/,
    ],
  ])('sends %s to failure with putsql.error', async (_, sql, attributes, reason) => {
    const r = await create();
    await r.enqueue(sql, attributes);
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putsql.error')).toMatch(reason);
  });

  it('sends content that is not UTF-8 to failure', async () => {
    const r = await create();
    await r.enqueue(Buffer.from([0x53, 0x45, 0x4c, 0xff, 0x31]));
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putsql.error')).toBe('the content is not valid UTF-8 text');
  });

  it('with Rollback On Failure, a failing FlowFile rolls back the batch and returns it to the queue', async () => {
    const r = await create({ rollbackOnFailure: 'true' });
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (1, 'one')`);
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (1, 'again')`);
    await r.run();
    r.assertTransferCount('success', 0);
    r.assertTransferCount('failure', 0);
    const queued = r.inputQueue();
    expect(queued).toHaveLength(2);
    expect(queued.every((f) => f.penalized)).toBe(true);
    expect(await rows()).toEqual([]);
    expect(r.logsAt('ERROR').some((l) => /Rollback On Failure/.test(`${l.message} ${String(l.error)}`))).toBe(true);
  });

  it('routes the batch to retry, penalized, when the database refuses connections', async () => {
    const port = await closedPort();
    const r = await create({}, { connectionUrl: `postgresql://postgres@127.0.0.1:${port}/test`, connectionTimeout: '2 sec' });
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (1, 'one')`);
    await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (2, 'two')`);
    await r.run();
    r.assertAllTransferred('retry', 2);
    const retried = r.transferred('retry');
    expect(retried.every((f) => f.penalized)).toBe(true);
    expect(retried[0]?.attribute('putsql.error')).toMatch(/ECONNREFUSED/);
    expect(r.logsAt('ERROR').some((l) => l.message.includes('routed to retry'))).toBe(true);
  });

  it('routes to retry when the database accepts the connection but never answers', async () => {
    const silent = await silentServer();
    try {
      const r = await create(
        {},
        { connectionUrl: `postgresql://postgres@127.0.0.1:${silent.port}/test`, connectionTimeout: '1 sec' },
      );
      await r.enqueue(`INSERT INTO ${items} (id, name) VALUES (1, 'one')`);
      const started = Date.now();
      await r.run();
      expect(Date.now() - started).toBeLessThan(15_000);
      r.assertAllTransferred('retry', 1);
      expect(r.transferred('retry')[0]?.attribute('putsql.error')).toMatch(/timeout/i);
    } finally {
      await silent.close();
    }
  });

  it('stops a statement at the query timeout and sends it to failure', async (context) => {
    if (db.kind === 'pglite') context.skip(); // the embedded server runs no timers
    const r = await create({ queryTimeout: '300 ms' });
    await r.enqueue('SELECT pg_sleep(10)');
    const started = Date.now();
    await r.run();
    expect(Date.now() - started).toBeLessThan(8000);
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putsql.error')).toMatch(
      /canceling statement due to statement timeout \(SQLSTATE 57014\)/,
    );
  });
});
