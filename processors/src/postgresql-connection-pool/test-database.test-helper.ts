/**
 * A PostgreSQL for tests: the real server on 127.0.0.1:5432 (database `test`, user `postgres`, trust
 * auth; or `PG_URL`) when one answers, else an embedded PGlite behind its socket server, so the same
 * `pg` client code runs either way. `SLUICE_TEST_PGLITE=1` forces the embedded one.
 */
import { createServer, type Server } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

/** A database for one test file, with a schema of its own. */
export interface TestDatabase {
  readonly kind: 'postgresql' | 'pglite';
  /** A connection URL without a password (trust authentication). */
  readonly url: string;
  /** A schema created for this test run (unique name); dropped by close(). */
  readonly schema: string;
  /** `schema.name`, quoted. */
  table(name: string): string;
  /** Runs SQL directly (setup and checks), not through the code under test. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/test';

/** Connects to the real PostgreSQL if it answers within 2 s, else starts PGlite. */
export async function testDatabase(): Promise<TestDatabase> {
  const url = process.env.PG_URL ?? DEFAULT_URL;
  if (process.env.SLUICE_TEST_PGLITE !== '1') {
    const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await admin.connect();
      return await withSchema('postgresql', url, admin, async () => undefined);
    } catch {
      await admin.end().catch(() => undefined);
    }
  }
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  const address = server.getServerConn();
  const embeddedUrl = `postgresql://postgres@${address}/postgres`;
  const admin = new pg.Client({ connectionString: embeddedUrl });
  await admin.connect();
  return withSchema('pglite', embeddedUrl, admin, async () => {
    await server.stop();
    await db.close();
  });
}

async function withSchema(
  kind: TestDatabase['kind'],
  url: string,
  admin: pg.Client,
  stop: () => Promise<void>,
): Promise<TestDatabase> {
  const schema = `sluice_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    kind,
    url,
    schema,
    table: (name) => `${schema}."${name.replaceAll('"', '""')}"`,
    async query<T extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]> {
      const result = await admin.query<T>(sql, values);
      return result.rows;
    },
    async close() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end().catch(() => undefined);
        await stop();
      }
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never answers (a peer that hangs). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
