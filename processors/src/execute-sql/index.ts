import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import {
  ContentTooLargeError,
  defineProcessor,
  type FlowFile,
  integer,
  ProcessException,
  type ProcessSession,
  service,
  string,
  timePeriod,
} from '@sluice/api';
import {
  DATABASE_POOL_API,
  type DatabaseConnection,
  type DatabasePool,
  describeDatabaseError,
  isTransientDatabaseError,
  type ResultField,
} from '../postgresql-connection-pool/api.ts';
import { leadingKeyword, positionalPlaceholders, statementArguments } from '../postgresql-connection-pool/statements.ts';
import {
  jsonWriterFactory,
  newRecord,
  RECORD_WRITER_API,
  type RecordField,
  type RecordFieldType,
  type RecordObject,
  type RecordSetWriterFactory,
  type RecordValue,
  writeRecordsTo,
} from '../records/index.ts';

/** Statements a server-side cursor can run (DECLARE ... CURSOR FOR takes a SELECT or VALUES). */
const CURSOR_STATEMENTS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);
const CURSOR = 'sluice_executesql';
const CLIENT_TIMEOUT_SLACK_MS = 5000;
const MAX_QUERY_BYTES = 16 * 1024 * 1024;
const DEFAULT_WRITER = jsonWriterFactory({ grouping: 'array', pretty: false });

/** Runs a SQL query against PostgreSQL and writes the result set as records (NiFi's ExecuteSQL / ExecuteSQLRecord). */
export const ExecuteSQL = defineProcessor({
  type: 'ExecuteSQL',
  description:
    "Runs a SQL query against PostgreSQL and writes the rows as records (a JSON array unless a Record Writer is set). Without incoming connections it runs on its schedule; with them it runs once per incoming FlowFile (the query may use the FlowFile's attributes, or be its content, with sql.args.N parameters as in PutSQL), and the input is replaced by the result. SELECT, WITH, VALUES and TABLE queries are read through a server-side cursor, Fetch Size rows at a time, and streamed into the content repository, so a result of any size passes through without being held in memory; other statements (INSERT ... RETURNING, SHOW) run directly. A failing query sends the incoming FlowFile to failure with executesql.error.message; when the database cannot be reached, the FlowFile goes back to the queue (penalized) and the processor yields.",
  tags: ['sql', 'select', 'query', 'database', 'postgresql', 'rdbms', 'jdbc', 'record'],
  input: 'allowed',
  properties: {
    databasePool: service(DATABASE_POOL_API, {
      displayName: 'Database Connection Pooling Service',
      description: 'The PostgreSQL connection pool to use.',
      required: true,
    }),
    sqlQuery: string({
      displayName: 'SQL Select Query',
      description:
        "The query to run (Expression Language over the incoming FlowFile's attributes; prefer sql.args parameters to quoting values into SQL). Empty: the incoming FlowFile's content is the query (required when running on a schedule).",
      expression: 'flowfile',
    }),
    recordWriter: service(RECORD_WRITER_API, {
      displayName: 'Record Writer',
      description: 'Writes the result rows. Empty: a JSON array of objects.',
    }),
    fetchSize: integer({
      displayName: 'Fetch Size',
      description: 'Rows fetched from the server-side cursor per round trip (bounds memory).',
      default: '1000',
      min: 1,
      max: 1_000_000,
      required: true,
    }),
    maxRowsPerFlowFile: integer({
      displayName: 'Max Rows Per Flow File',
      description: 'Split the result into FlowFiles of at most this many rows (with fragment.* attributes). 0: one FlowFile.',
      default: '0',
      min: 0,
      required: true,
    }),
    queryTimeout: timePeriod({
      displayName: 'Max Wait Time',
      description:
        "The longest the query may run (PostgreSQL's statement_timeout); then it is a failure. If the server stops answering altogether the attempt is abandoned shortly after this. 0 sec: no limit.",
      default: '5 min',
      min: 0,
      required: true,
    }),
  },
  relationships: {
    success: 'The result set, as records',
    failure: 'Incoming FlowFiles whose query failed, with executesql.error.message',
  },
  readsAttributes: { 'sql.args.N.type / sql.args.N.value': 'Query parameters, as in PutSQL' },
  writesAttributes: {
    'executesql.row.count': 'Rows in this FlowFile',
    'executesql.query.duration': 'Milliseconds from sending the query to the last row',
    'executesql.query.executiontime': 'Milliseconds until the first rows arrived',
    'executesql.query.fetchtime': 'Milliseconds spent fetching the rest',
    'executesql.resultset.index': 'Always 0 (one result set per query)',
    'executesql.error.message': 'On failure: the database error',
    'record.count': 'Rows in this FlowFile',
    'mime.type': "The writer's MIME type",
    'fragment.identifier / fragment.index / fragment.count': 'When the result is split by Max Rows Per Flow File',
  },
  async onTrigger(session, context) {
    // With incoming connections the engine triggers only when input is queued; without, on the schedule.
    const input = session.get();
    // The engine checked that the services provide the APIs these properties require.
    const pool = context.getService<DatabasePool>('databasePool');
    const writerFactory = context.getProperty('recordWriter').isSet
      ? context.getService<RecordSetWriterFactory>('recordWriter')
      : DEFAULT_WRITER;
    const timeoutMs = context.getProperty('queryTimeout').asTimePeriod() ?? 300_000;
    const fetchSize = context.getProperty('fetchSize').asInteger() ?? 1000;
    const maxRows = context.getProperty('maxRowsPerFlowFile').asInteger() ?? 0;

    let sql: string;
    let values: readonly unknown[];
    try {
      ({ sql, values } = queryOf(session, input, context.getProperty('sqlQuery').evaluate(input)));
    } catch (e) {
      fail(session, input, e instanceof Error ? e.message : String(e), context.logger);
      if (input === undefined) context.yield();
      return;
    }

    let connection: DatabaseConnection | undefined;
    const outputs: FlowFile[] = [];
    try {
      connection = await pool.connect();
      const run = new QueryRun(connection, sql, values, timeoutMs, fetchSize);
      await run.start();
      const parent = input;
      const fragmentId = randomUUID();
      for (let index = 0; ; index++) {
        const created = parent === undefined ? session.create() : session.create(parent);
        outputs.push(created);
        const written = await writeRecordsTo(session, created, writerFactory, { fields: run.fields }, async (writer) => {
          for (let n = 0; maxRows === 0 || n < maxRows; n++) {
            const record = await run.next();
            if (record === undefined) return;
            const wait = writer.write(record);
            if (wait !== undefined) await wait;
          }
        });
        outputs[outputs.length - 1] = written.flowFile;
        const more = await run.hasMore();
        // A split result never ends with an empty FlowFile (unless the whole result is empty).
        if (written.recordCount === 0 && index > 0) {
          outputs.pop();
          session.remove(written.flowFile);
          break;
        }
        outputs[outputs.length - 1] = session.putAllAttributes(written.flowFile, {
          'executesql.row.count': String(written.recordCount),
          'record.count': String(written.recordCount),
          'executesql.resultset.index': '0',
          'mime.type': writerFactory.mimeType,
          ...(maxRows > 0 ? { 'fragment.identifier': fragmentId, 'fragment.index': String(index) } : {}),
        });
        if (!more) break;
      }
      await run.finish();
      connection.release();
      const timing = run.timing();
      for (let i = 0; i < outputs.length; i++) {
        const output = outputs[i];
        if (output === undefined) continue;
        const finished = session.putAllAttributes(output, {
          'executesql.query.duration': String(timing.total),
          'executesql.query.executiontime': String(timing.execution),
          'executesql.query.fetchtime': String(timing.fetch),
          ...(maxRows > 0 ? { 'fragment.count': String(outputs.length) } : {}),
        });
        if (input === undefined) session.provenance.receive(finished, pool.uri, { durationMs: timing.total });
        else session.provenance.fetch(finished, pool.uri, { durationMs: timing.total });
        session.transfer(finished, 'success');
      }
      if (input !== undefined) session.remove(input);
    } catch (e) {
      connection?.release(e);
      session.remove(outputs);
      const reason = describeDatabaseError(e);
      if (connection === undefined || isTransientDatabaseError(e)) {
        context.yield();
        // Nothing is lost: the incoming FlowFile goes back to its queue (penalized) for a later try.
        throw new ProcessException(`cannot run the query on ${pool.uri}: ${reason}`);
      }
      fail(session, input, reason, context.logger);
      if (input === undefined) context.yield();
    }
  },
});

/** Routes a failed incoming FlowFile (or, on a schedule, just reports the error). */
function fail(
  session: ProcessSession,
  input: FlowFile | undefined,
  reason: string,
  logger: { error(message: string): void; warn(message: string): void },
): void {
  if (input === undefined) {
    logger.error(`the query failed: ${reason}`);
    return;
  }
  logger.warn(`the query of FlowFile ${input.uuid} failed: ${reason}`);
  session.transfer(session.putAttribute(input, 'executesql.error.message', reason), 'failure');
}

/** The query to run: the property's value, else the incoming content; with sql.args parameters. */
function queryOf(
  session: ProcessSession,
  input: FlowFile | undefined,
  configured: string | undefined,
): { sql: string; values: readonly unknown[] } {
  let sql = configured ?? '';
  if (sql.trim() === '') {
    if (input === undefined)
      throw new Error('SQL Select Query is empty and there is no incoming FlowFile to take the query from');
    let bytes: Buffer;
    try {
      bytes = session.read(input, { maxBytes: MAX_QUERY_BYTES });
    } catch (e) {
      if (e instanceof ContentTooLargeError) throw new Error(`the content (${e.size} bytes) is too large to be a query`);
      throw e;
    }
    if (!isUtf8(bytes)) throw new Error('the content is not valid UTF-8 text');
    sql = bytes.toString('utf8');
    if (sql.trim() === '') throw new Error('there is no query: SQL Select Query and the content are both empty');
  }
  const values = input === undefined ? [] : statementArguments(input);
  return { sql: values.length > 0 ? positionalPlaceholders(sql) : sql, values };
}

/**
 * One execution of a query: through a server-side cursor inside a transaction (rows fetched
 * `fetchSize` at a time) or, for statements a cursor cannot run, directly. Rows are handed out one
 * record at a time.
 */
class QueryRun {
  readonly #connection: DatabaseConnection;
  readonly #sql: string;
  readonly #values: readonly unknown[];
  readonly #timeoutMs: number;
  readonly #fetchSize: number;
  readonly #cursor: boolean;
  #rows: readonly (readonly unknown[])[] = [];
  #position = 0;
  #exhausted = false;
  #names: string[] = [];
  fields: RecordField[] = [];
  readonly #started = performance.now();
  #firstRows = 0;
  #ended = 0;

  constructor(connection: DatabaseConnection, sql: string, values: readonly unknown[], timeoutMs: number, fetchSize: number) {
    this.#connection = connection;
    this.#sql = sql.trim().replace(/;\s*$/, '');
    this.#values = values;
    this.#timeoutMs = timeoutMs;
    this.#fetchSize = fetchSize;
    this.#cursor = CURSOR_STATEMENTS.has(leadingKeyword(sql));
  }

  #query(sql: string, values: readonly unknown[] = []) {
    return this.#connection.query(sql, values, {
      timeoutMs: this.#timeoutMs > 0 ? this.#timeoutMs + CLIENT_TIMEOUT_SLACK_MS : 0,
    });
  }

  /** Sends the query and fetches the first rows (so the columns are known). */
  async start(): Promise<void> {
    await this.#query('BEGIN');
    if (this.#timeoutMs > 0) await this.#query(`SET LOCAL statement_timeout = ${Math.ceil(this.#timeoutMs)}`);
    if (this.#cursor) {
      await this.#query(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${this.#sql}`, this.#values);
      await this.#fetch();
    } else {
      const results = await this.#query(this.#sql, this.#values);
      // Several statements: the last one that returns rows (else the last one) is the result.
      const result = [...results].reverse().find((r) => r.fields.length > 0) ?? results[results.length - 1];
      this.#setFields(result?.fields ?? []);
      this.#rows = result?.rows ?? [];
      this.#exhausted = true;
    }
    this.#firstRows = performance.now();
  }

  async #fetch(): Promise<void> {
    const [result] = await this.#query(`FETCH FORWARD ${this.#fetchSize} FROM ${CURSOR}`);
    if (this.#names.length === 0 && result !== undefined) this.#setFields(result.fields);
    this.#rows = result?.rows ?? [];
    this.#position = 0;
    if (this.#rows.length < this.#fetchSize) this.#exhausted = true;
  }

  #setFields(fields: readonly ResultField[]): void {
    const used = new Set<string>();
    this.#names = fields.map((f) => {
      let name = f.name;
      for (let k = 2; used.has(name); k++) name = `${f.name}_${k}`;
      used.add(name);
      return name;
    });
    this.fields = fields.map((f, i) => ({ name: this.#names[i] ?? f.name, type: fieldType(f.dataTypeID), nullable: true }));
  }

  /** Whether another record follows. */
  async hasMore(): Promise<boolean> {
    if (this.#position < this.#rows.length) return true;
    if (this.#exhausted) return false;
    await this.#fetch();
    return this.#rows.length > 0;
  }

  /** The next record, or undefined at the end. */
  async next(): Promise<RecordObject | undefined> {
    if (!(await this.hasMore())) return undefined;
    const row = this.#rows[this.#position++] ?? [];
    const record = newRecord();
    for (let i = 0; i < this.#names.length; i++) record[this.#names[i] ?? ''] = toRecordValue(row[i]);
    return record;
  }

  /** Closes the cursor and ends the transaction. */
  async finish(): Promise<void> {
    if (this.#cursor) await this.#query(`CLOSE ${CURSOR}`);
    await this.#query('COMMIT');
    this.#ended = performance.now();
  }

  /** Milliseconds: total, until the first rows, and fetching the rest. */
  timing(): { total: number; execution: number; fetch: number } {
    const end = this.#ended || performance.now();
    return {
      total: Math.round(end - this.#started),
      execution: Math.round(this.#firstRows - this.#started),
      fetch: Math.round(end - this.#firstRows),
    };
  }
}

/** The record type of a PostgreSQL type OID. */
function fieldType(oid: number): RecordFieldType {
  switch (oid) {
    case 16:
      return 'boolean';
    case 20:
    case 21:
    case 23:
    case 26:
      return 'integer';
    case 700:
    case 701:
      return 'number';
    case 114:
    case 3802:
      return 'mixed';
    case 1000:
    case 1005:
    case 1007:
    case 1016:
    case 1009:
    case 1021:
    case 1022:
      return 'array';
    default:
      return 'string';
  }
}

/** A driver value as a JSON-like record value. */
function toRecordValue(value: unknown): RecordValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (Array.isArray(value)) return value.map(toRecordValue);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  const record = newRecord();
  for (const [k, v] of Object.entries(value)) record[k] = toRecordValue(v);
  return record;
}
