import { choice, defineService, integer, type ServiceContext, string, timePeriod, type ValidationContext } from '@sluice/api';
import { Pool, type PoolClient, type PoolConfig, types } from 'pg';
import { DATABASE_POOL_API, type DatabaseConnection, type DatabasePool, type QueryResult } from './api.ts';

/** Type OIDs whose values are kept as PostgreSQL's text rather than turned into lossy JS values. */
const AS_TEXT = [
  1700, // numeric: arbitrary precision
  1082, // date
  1083, // time
  1114, // timestamp (without time zone: a JS Date would shift it into the host's zone)
  1184, // timestamptz
  1266, // timetz
  1186, // interval
  17, // bytea: \x... hex
  1115, // timestamp[]
  1182, // date[]
  1185, // timestamptz[]
  1231, // numeric[]
  1001, // bytea[]
];

/** int8 as a number when exact, else as text (JSON has no 64-bit integers). */
function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      if (oid === 20) return parseInt8;
      if (AS_TEXT.includes(oid)) return (text: string) => text;
    }
    return types.getTypeParser(oid, format);
  },
};

type Properties =
  | 'connectionUrl'
  | 'host'
  | 'port'
  | 'database'
  | 'user'
  | 'password'
  | 'sslMode'
  | 'maxConnections'
  | 'connectionTimeout'
  | 'idleTimeout'
  | 'validationQuery';

/** A pool of PostgreSQL connections shared by the SQL processors (NiFi's DBCPConnectionPool, for PostgreSQL). */
export const PostgreSQLConnectionPool = defineService({
  type: 'PostgreSQLConnectionPool',
  description:
    "A pool of connections to a PostgreSQL server, shared by PutSQL, ExecuteSQL and PutDatabaseRecord. Configure a connection URL or host, port and database; the password is a sensitive property (never put it in the URL). Enabling does not need the server to be up: connections are made when processors borrow them, and a processor routes its FlowFiles to retry while the server is unreachable. Values come back JSON-friendly: int8 as a number when exact (else text); numeric, dates, times, timestamps, intervals and bytea as PostgreSQL's text; json/jsonb parsed; arrays as arrays.",
  tags: ['sql', 'database', 'postgresql', 'postgres', 'jdbc', 'dbcp', 'pool', 'connection'],
  provides: [DATABASE_POOL_API],
  properties: {
    connectionUrl: string({
      displayName: 'Database Connection URL',
      description:
        'postgresql://host:port/database (query parameters such as sslmode are honoured). When set, it is used instead of Host, Port and Database; User and Password still apply when the URL has none. Environment variables may be used: ${PG_URL}.',
      expression: 'environment',
      validate: urlProblem,
    }),
    host: string({
      displayName: 'Host',
      description: 'The server host name or address (when no URL is set).',
      default: '127.0.0.1',
      expression: 'environment',
    }),
    port: integer({
      displayName: 'Port',
      description: 'The server port (when no URL is set).',
      default: '5432',
      min: 1,
      max: 65_535,
    }),
    database: string({
      displayName: 'Database Name',
      description: 'The database to connect to (when no URL is set; default: the user name).',
      expression: 'environment',
    }),
    user: string({ displayName: 'Database User', description: 'The user to connect as.', expression: 'environment' }),
    password: string({ displayName: 'Password', description: 'The password of the user.', sensitive: true }),
    sslMode: choice(
      [
        { value: 'disable', displayName: 'disable', description: 'Plain TCP.' },
        { value: 'require', displayName: 'require', description: 'TLS, without checking the server certificate.' },
        {
          value: 'verify-full',
          displayName: 'verify-full',
          description: "TLS, checking the server certificate against the system's trusted CAs and the host name.",
        },
      ],
      {
        displayName: 'SSL Mode',
        description: "Whether to use TLS (a URL's sslmode parameter takes precedence).",
        default: 'disable',
        required: true,
      },
    ),
    maxConnections: integer({
      displayName: 'Max Total Connections',
      description: 'The most connections open at once; a processor waits for one to be free (up to the connection timeout).',
      default: '8',
      min: 1,
      max: 1000,
      required: true,
    }),
    connectionTimeout: timePeriod({
      displayName: 'Max Wait Time',
      description:
        'How long borrowing a connection may take (connecting to the server, or waiting for a free one) before the attempt fails and the processor routes to retry.',
      default: '10 sec',
      min: 1,
      required: true,
    }),
    idleTimeout: timePeriod({
      displayName: 'Max Idle Time',
      description: 'Idle connections are closed after this long.',
      default: '30 sec',
      min: 1,
      required: true,
    }),
    validationQuery: string({
      displayName: 'Validation Query',
      description:
        'Run on every borrowed connection before it is handed out (e.g. SELECT 1); a connection that fails it is discarded and another one tried. Empty: connections are not checked.',
    }),
  },
  validate: (context) => problems(context),
  enable(context): PostgresPool {
    // The engine does not run a service's cross-property validation before enabling it (yet).
    const invalid = problems(context);
    if (invalid.length > 0) throw new Error(invalid.join('; '));
    return new PostgresPool(context);
  },
  async disable(pool) {
    await pool.close();
  },
});

/** Settings that are fine one by one but not together. */
function problems(context: ValidationContext<Properties>): string[] {
  const url = context.getProperty('connectionUrl').asString();
  const host = context.getProperty('host').asString();
  return (url === undefined || url === '') && (host === undefined || host === '')
    ? ['set a Database Connection URL, or a Host']
    : [];
}

/** Why a connection URL cannot be used, or undefined. */
function urlProblem(value: string): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:')) {
    return `"${value}" is not a PostgreSQL URL; expected postgresql://host:port/database`;
  }
  if (url.password !== '') return 'do not put the password in the URL (it would be stored in clear): use the Password property';
  return undefined;
}

/** The pool service instance. */
class PostgresPool implements DatabasePool {
  readonly uri: string;
  readonly #pool: Pool;
  readonly #validationQuery: string | undefined;
  readonly #maxConnections: number;

  constructor(context: ServiceContext<Properties>) {
    const config = poolConfig(context);
    this.uri = config.uri;
    this.#maxConnections = config.pool.max ?? 8;
    const validation = context.getProperty('validationQuery').asString();
    this.#validationQuery = validation === undefined || validation.trim() === '' ? undefined : validation;
    this.#pool = new Pool(config.pool);
    // An idle connection dropped by the server emits 'error' on the pool; unhandled, it would crash
    // the process. The pool discards that connection by itself.
    this.#pool.on('error', (e) => context.logger.warn(`an idle connection to ${this.uri} failed: ${e.message}`));
  }

  async connect(): Promise<DatabaseConnection> {
    // Each attempt may discard a connection that fails validation; bounded by the pool size + 1.
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.#maxConnections; attempt++) {
      const client = await this.#pool.connect();
      if (this.#validationQuery !== undefined) {
        try {
          await client.query(this.#validationQuery);
        } catch (e) {
          lastError = e;
          client.release(e instanceof Error ? e : true);
          continue;
        }
      }
      return new PooledConnection(client);
    }
    throw lastError instanceof Error ? lastError : new Error(`no connection to ${this.uri} passed the validation query`);
  }

  /** Closes every connection (waits for borrowed ones to come back). */
  async close(): Promise<void> {
    await this.#pool.end();
  }
}

class PooledConnection implements DatabaseConnection {
  readonly #client: PoolClient;
  #released = false;

  constructor(client: PoolClient) {
    this.#client = client;
  }

  async query(sql: string, values?: readonly unknown[], options?: { timeoutMs?: number }): Promise<QueryResult[]> {
    const timeout = options?.timeoutMs ?? 0;
    const result = await this.#client.query({
      text: sql,
      ...(values === undefined || values.length === 0 ? {} : { values: [...values] }),
      rowMode: 'array',
      ...(timeout > 0 ? { query_timeout: timeout } : {}),
    });
    // Several statements in one text give several results.
    const all: unknown[] = Array.isArray(result) ? result : [result];
    return all.map(toQueryResult);
  }

  release(error?: unknown): void {
    if (this.#released) return;
    this.#released = true;
    this.#client.release(error === undefined ? undefined : error instanceof Error ? error : true);
  }
}

function toQueryResult(result: unknown): QueryResult {
  if (typeof result !== 'object' || result === null) return { command: '', rowCount: null, fields: [], rows: [] };
  const command = 'command' in result && typeof result.command === 'string' ? result.command : '';
  const rowCount = 'rowCount' in result && typeof result.rowCount === 'number' ? result.rowCount : null;
  const fields =
    'fields' in result && Array.isArray(result.fields)
      ? result.fields.map((f: unknown) => ({
          name: typeof f === 'object' && f !== null && 'name' in f && typeof f.name === 'string' ? f.name : '?column?',
          dataTypeID:
            typeof f === 'object' && f !== null && 'dataTypeID' in f && typeof f.dataTypeID === 'number' ? f.dataTypeID : 0,
        }))
      : [];
  const rows = 'rows' in result && Array.isArray(result.rows) ? result.rows.filter((r: unknown) => Array.isArray(r)) : [];
  return { command, rowCount, fields, rows };
}

/** The pg pool configuration and the credential-free URI of a service's properties. */
function poolConfig(context: ServiceContext<Properties>): { pool: PoolConfig; uri: string } {
  const url = context.getProperty('connectionUrl').asString();
  const user = context.getProperty('user').asString();
  const password = context.getProperty('password').asString();
  const sslMode = context.getProperty('sslMode').asString();
  const common: PoolConfig = {
    max: context.getProperty('maxConnections').asInteger() ?? 8,
    connectionTimeoutMillis: context.getProperty('connectionTimeout').asTimePeriod() ?? 10_000,
    idleTimeoutMillis: context.getProperty('idleTimeout').asTimePeriod() ?? 30_000,
    application_name: 'sluice',
    types: typeParsers,
    ...(sslMode === 'require' ? { ssl: { rejectUnauthorized: false } } : sslMode === 'verify-full' ? { ssl: true } : {}),
    ...(user === undefined || user === '' ? {} : { user }),
    ...(password === undefined || password === '' ? {} : { password }),
  };
  if (url !== undefined && url !== '') {
    const parsed = new URL(url);
    const uri = `postgresql://${parsed.host}${parsed.pathname}`;
    // pg lets the connection string's (empty) user and password override the separate settings, so
    // they go into the URL (in memory only). A user written in the URL wins over the property.
    if (parsed.username === '' && user !== undefined && user !== '') parsed.username = user;
    if (password !== undefined && password !== '') parsed.password = password;
    return { pool: { ...common, connectionString: parsed.href }, uri };
  }
  const host = context.getProperty('host').asString() ?? '127.0.0.1';
  const port = context.getProperty('port').asInteger() ?? 5432;
  const database = context.getProperty('database').asString();
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    pool: { ...common, host, port, ...(database === undefined || database === '' ? {} : { database }) },
    uri: `postgresql://${hostPart}:${port}/${database ?? user ?? ''}`,
  };
}
