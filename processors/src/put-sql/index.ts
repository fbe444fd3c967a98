import { isUtf8 } from 'node:buffer';
import {
  boolean,
  ContentTooLargeError,
  dataSize,
  defineProcessor,
  type FlowFile,
  integer,
  ProcessException,
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
} from '../postgresql-connection-pool/api.ts';
import {
  leadingKeyword,
  positionalPlaceholders,
  statementArguments,
  stripLiterals,
} from '../postgresql-connection-pool/statements.ts';

/** Statements that would end or nest PutSQL's own transaction. */
const TRANSACTION_CONTROL = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE']);
/** Slack on top of the server-side statement timeout before the client gives up on a silent server. */
const CLIENT_TIMEOUT_SLACK_MS = 5000;

/** One FlowFile's statement, ready to run. */
interface Statement {
  readonly flowFile: FlowFile;
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** Executes SQL from FlowFiles against PostgreSQL (NiFi's PutSQL). */
export const PutSQL = defineProcessor({
  type: 'PutSQL',
  description:
    "Executes SQL against PostgreSQL: the SQL Statement property, or else the FlowFile's content (which may hold several statements). Parameters come from the attributes sql.args.N.type / sql.args.N.value (N from 1; JDBC type codes or names, as in NiFi) and bind to ? or $N placeholders. The FlowFiles of a batch run in one database transaction, each inside a savepoint: a FlowFile whose SQL fails (a syntax error, a constraint violation) goes to failure with putsql.error and its changes are undone, while the others commit together. When the database cannot be reached (refused, timed out, restarting) the whole batch goes to retry and the processor yields. Delivery is at-least-once: after a crash between the database commit and Sluice's commit, a batch runs again.",
  tags: ['sql', 'put', 'insert', 'update', 'database', 'postgresql', 'rdbms'],
  input: 'required',
  properties: {
    databasePool: service(DATABASE_POOL_API, {
      displayName: 'Database Connection Pooling Service',
      description: 'The PostgreSQL connection pool to use.',
      required: true,
    }),
    sqlStatement: string({
      displayName: 'SQL Statement',
      description:
        "The SQL to execute for each FlowFile (Expression Language over its attributes: prefer sql.args parameters to quoting values into SQL). Empty: the FlowFile's content is the SQL.",
      expression: 'flowfile',
    }),
    batchSize: integer({
      displayName: 'Batch Size',
      description: 'FlowFiles run in one database transaction per trigger.',
      default: '100',
      min: 1,
      max: 10_000,
      required: true,
    }),
    rollbackOnFailure: boolean({
      displayName: 'Rollback On Failure',
      description:
        'When true, a FlowFile whose SQL fails rolls back the whole batch: nothing is committed, nothing goes to failure, and the FlowFiles return to the queue penalized (to keep an ordered stream of changes all-or-nothing).',
      default: 'false',
      required: true,
    }),
    queryTimeout: timePeriod({
      displayName: 'Query Timeout',
      description:
        "The longest one FlowFile's SQL may run (PostgreSQL's statement_timeout; the FlowFile then goes to failure). If the server stops answering altogether, the batch goes to retry shortly after this. 0 sec: no limit.",
      default: '30 sec',
      min: 0,
      required: true,
    }),
    maxSqlSize: dataSize({
      displayName: 'Max SQL Size',
      description: 'The largest content read as SQL; a larger FlowFile goes to failure.',
      default: '10 MB',
      min: 1,
      max: 512 * 1024 * 1024,
      required: true,
    }),
  },
  relationships: {
    success: 'FlowFiles whose SQL was executed and committed',
    failure: 'FlowFiles whose SQL failed (bad SQL, constraint violation, bad parameters), with putsql.error',
    retry: 'FlowFiles that could not be executed because the database was unreachable; they may succeed later',
  },
  readsAttributes: {
    'sql.args.N.type': 'The JDBC type (code such as 4, or name such as INTEGER) of parameter N',
    'sql.args.N.value': 'The value of parameter N (absent: NULL)',
    'sql.args.N.format': 'For binary parameters: ascii (default), hex or base64',
  },
  writesAttributes: { 'putsql.error': 'Why the FlowFile went to failure or retry' },
  async onTrigger(session, context) {
    const flowFiles = session.getBatch(context.getProperty('batchSize').asInteger() ?? 100);
    if (flowFiles.length === 0) return;
    // The engine checked that the service provides the database-pool API.
    const pool = context.getService<DatabasePool>('databasePool');
    const rollbackOnFailure = context.getProperty('rollbackOnFailure').asBoolean() === true;
    const timeoutMs = context.getProperty('queryTimeout').asTimePeriod() ?? 30_000;
    const maxBytes = context.getProperty('maxSqlSize').asDataSize() ?? 10 * 1024 * 1024;

    const failed: Array<{ flowFile: FlowFile; reason: string }> = [];
    const statements: Statement[] = [];
    for (const flowFile of flowFiles) {
      try {
        statements.push(
          statementOf(flowFile, context.getProperty('sqlStatement').evaluate(flowFile), maxBytes, session.read.bind(session)),
        );
      } catch (e) {
        failed.push({ flowFile, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    if (rollbackOnFailure && failed.length > 0) {
      throw new ProcessException(
        `FlowFile ${failed[0]?.flowFile.uuid}: ${failed[0]?.reason} (Rollback On Failure: the batch goes back to the queue)`,
      );
    }

    const done: Statement[] = [];
    let connection: DatabaseConnection | undefined;
    const started = performance.now();
    try {
      connection = await pool.connect();
      const c = connection;
      const run = (sql: string): Promise<unknown> => c.query(sql, [], { timeoutMs: clientTimeout(timeoutMs) });
      if (statements.length > 0) {
        await run('BEGIN');
        if (timeoutMs > 0) await run(`SET LOCAL statement_timeout = ${Math.ceil(timeoutMs)}`);
        for (const statement of statements) {
          await run('SAVEPOINT sluice_putsql');
          try {
            await c.query(statement.sql, statement.values, { timeoutMs: clientTimeout(timeoutMs) });
            await run('RELEASE SAVEPOINT sluice_putsql');
            done.push(statement);
          } catch (e) {
            if (isTransientDatabaseError(e) || rollbackOnFailure) throw e;
            await run('ROLLBACK TO SAVEPOINT sluice_putsql');
            failed.push({ flowFile: statement.flowFile, reason: describeDatabaseError(e) });
          }
        }
        await run('COMMIT');
      }
      connection.release();
    } catch (e) {
      // The transaction is gone (or in an unknown state): nothing of this batch was committed.
      connection?.release(e);
      const reason = describeDatabaseError(e);
      if (rollbackOnFailure && !isTransientDatabaseError(e)) {
        throw new ProcessException(`${reason} (Rollback On Failure: the batch goes back to the queue)`);
      }
      const pending = statements.map((s) => s.flowFile).filter((f) => !failed.some((x) => x.flowFile === f));
      if (isTransientDatabaseError(e) || connection === undefined) {
        context.logger.error(`cannot reach ${pool.uri}; ${pending.length} FlowFile(s) routed to retry: ${reason}`);
        for (const flowFile of pending) {
          session.transfer(session.penalize(session.putAttribute(flowFile, 'putsql.error', reason)), 'retry');
        }
        context.yield();
      } else {
        // COMMIT itself failed on data (a deferred constraint): no telling which FlowFile caused it.
        for (const flowFile of pending) failed.push({ flowFile, reason: `the transaction could not be committed: ${reason}` });
      }
      done.length = 0;
    }
    const durationMs = Math.round(performance.now() - started);
    for (const { flowFile } of done) {
      session.provenance.send(flowFile, pool.uri, { durationMs });
      session.transfer(flowFile, 'success');
    }
    if (failed.length > 0) {
      context.logger.warn(`${failed.length} FlowFile(s) routed to failure; first: ${failed[0]?.reason}`);
      for (const { flowFile, reason } of failed)
        session.transfer(session.putAttribute(flowFile, 'putsql.error', reason), 'failure');
    }
  },
});

/** The client-side wait: the server-side timeout plus slack, or none. */
function clientTimeout(timeoutMs: number): number {
  return timeoutMs > 0 ? timeoutMs + CLIENT_TIMEOUT_SLACK_MS : 0;
}

/**
 * The statement of a FlowFile: the property's value, or the content (valid UTF-8, not too large),
 * with its sql.args parameters.
 * @throws {Error} saying why the FlowFile cannot be executed.
 */
function statementOf(
  flowFile: FlowFile,
  configured: string | undefined,
  maxBytes: number,
  read: (flowFile: FlowFile, options: { maxBytes: number }) => Buffer,
): Statement {
  let sql: string;
  if (configured !== undefined && configured.trim() !== '') sql = configured;
  else {
    let bytes: Buffer;
    try {
      bytes = read(flowFile, { maxBytes });
    } catch (e) {
      if (e instanceof ContentTooLargeError)
        throw new Error(`the content (${e.size} bytes) is larger than Max SQL Size (${maxBytes} bytes)`);
      throw e;
    }
    if (!isUtf8(bytes)) throw new Error('the content is not valid UTF-8 text');
    sql = bytes.toString('utf8');
  }
  if (stripLiterals(sql).trim().replace(/;/g, '').trim() === '') throw new Error('there is no SQL to execute (empty statement)');
  for (const part of stripLiterals(sql).split(';')) {
    const keyword = leadingKeyword(part);
    if (TRANSACTION_CONTROL.has(keyword)) {
      throw new Error(
        `the SQL contains ${keyword}: PutSQL runs each FlowFile in a transaction of its own; remove the transaction control statements`,
      );
    }
  }
  const values = statementArguments(flowFile);
  return { flowFile, sql: values.length > 0 ? positionalPlaceholders(sql) : sql, values };
}
