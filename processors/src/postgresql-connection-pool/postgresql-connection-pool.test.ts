import { TestRunner } from '@sluice/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExecuteSQL } from '../execute-sql/index.ts';
import { PostgreSQLConnectionPool } from './index.ts';
import { type TestDatabase, testDatabase } from './test-database.test-helper.ts';

/** The pool is exercised through ExecuteSQL, the simplest processor that borrows connections. */
describe('PostgreSQLConnectionPool', () => {
  let db: TestDatabase;
  let runner: TestRunner | undefined;

  beforeAll(async () => {
    db = await testDatabase();
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const create = async (
    pool: Record<string, string>,
    sqlQuery = 'SELECT current_user AS who, current_database() AS db',
  ): Promise<TestRunner> => {
    runner = await TestRunner.create(ExecuteSQL, {
      properties: { databasePool: 'pool', sqlQuery },
      services: { pool: { type: PostgreSQLConnectionPool, properties: pool } },
    });
    return runner;
  };
  const result = (r: TestRunner): unknown => JSON.parse(r.transferred('success')[0]?.text() ?? 'null');

  it('connects with Host, Port, Database Name and User instead of a URL', async () => {
    const url = new URL(db.url);
    const r = await create({ host: url.hostname, port: url.port, database: url.pathname.slice(1), user: url.username });
    await r.run();
    expect(result(r)).toEqual([{ who: url.username, db: url.pathname.slice(1) }]);
  });

  it('takes the user from the User property when the URL has none', async () => {
    const url = new URL(db.url);
    const user = url.username;
    url.username = '';
    const r = await create({ connectionUrl: url.href, user });
    await r.run();
    expect(result(r)).toEqual([{ who: user, db: url.pathname.slice(1) }]);
  });

  it.each([
    [
      'a password in the URL',
      'postgresql://postgres:secret@127.0.0.1:5432/test',
      /do not put the password in the URL.*use the Password property/,
    ],
    [
      'another scheme',
      'mysql://127.0.0.1/test',
      /"mysql:\/\/127.0.0.1\/test" is not a PostgreSQL URL; expected postgresql:\/\/host:port\/database/,
    ],
    ['text that is no URL', 'localhost:5432', /"localhost:5432" is not a PostgreSQL URL/],
  ])('refuses %s with a message naming the property', async (_, connectionUrl, message) => {
    await expect(create({ connectionUrl })).rejects.toThrow(message);
  });

  it('checks borrowed connections with the validation query', async () => {
    const ok = await create({ connectionUrl: db.url, validationQuery: 'SELECT 1' });
    await ok.run();
    ok.assertAllTransferred('success', 1);
    await ok.close();
    // A connection that fails validation is discarded; when none passes, the pool cannot lend one,
    // which processors treat like an unreachable database: the FlowFile waits in its queue.
    const broken = await create({ connectionUrl: db.url, validationQuery: 'SELECT * FROM no_such_table_anywhere' });
    const input = await broken.enqueue('');
    await broken.run();
    broken.assertTransferCount('success', 0);
    expect(broken.inputQueue().map((f) => [f.uuid, f.penalized])).toEqual([[input.uuid, true]]);
    expect(broken.logsAt('ERROR').some((l) => /no_such_table_anywhere/.test(`${l.message} ${String(l.error)}`))).toBe(true);
  });

  it('closes its connections when disabled', async (context) => {
    if (db.kind === 'pglite') context.skip(); // the embedded server has no pg_stat_activity of its clients
    const name = `sluice_pool_test_${Date.now()}`;
    const url = new URL(db.url);
    url.searchParams.set('application_name', name);
    const r = await create({ connectionUrl: url.href });
    await r.run();
    r.assertAllTransferred('success', 1);
    const open = async (): Promise<number> =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name]))[0]
        ?.n ?? -1;
    expect(await open()).toBe(1); // the idle connection stays pooled between triggers
    await r.close();
    runner = undefined;
    const deadline = Date.now() + 10_000;
    while ((await open()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await open()).toBe(0);
  });
});
