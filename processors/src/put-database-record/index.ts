import { choice, defineProcessor, type FlowFile, integer, type ProcessSession, service, string, timePeriod } from '@sluice/api';
import {
  DATABASE_POOL_API,
  type DatabaseConnection,
  type DatabasePool,
  describeDatabaseError,
  isTransientDatabaseError,
  quoteIdentifier,
} from '../postgresql-connection-pool/api.ts';
import {
  RECORD_READER_API,
  type RecordObject,
  type RecordReaderFactory,
  type RecordValue,
  readRecords,
} from '../records/index.ts';
import { type Column, describeTable, type TableInfo } from './table.ts';

type StatementType = 'INSERT' | 'UPDATE' | 'UPSERT' | 'DELETE';
const STATEMENT_TYPES: readonly StatementType[] = ['INSERT', 'UPDATE', 'UPSERT', 'DELETE'];
/** PostgreSQL's limit of bind parameters per statement. */
const MAX_PARAMETERS = 65_535;
/** FlowFiles handled per trigger (each in its own transaction). */
const BATCH = 10;
const CLIENT_TIMEOUT_SLACK_MS = 5000;

/** A record that cannot be written as configured: the FlowFile goes to failure. */
class RecordMappingError extends Error {
  override readonly name = 'RecordMappingError';
}

/** The table cache of a run: table metadata is looked up once per table, not per FlowFile. */
interface Scheduled {
  readonly tables: Map<string, TableInfo>;
}

/** Writes records into a PostgreSQL table: INSERT, UPDATE, UPSERT or DELETE (NiFi's PutDatabaseRecord). */
export const PutDatabaseRecord = defineProcessor({
  type: 'PutDatabaseRecord',
  description:
    'Reads the records of each FlowFile with a Record Reader and writes them into a PostgreSQL table: INSERT (several rows per statement), UPDATE or DELETE by key columns, or UPSERT (INSERT ... ON CONFLICT DO UPDATE). Record fields map to columns by name, case-insensitively; a field missing from a record leaves its column alone (INSERT: the column default). Each FlowFile is one transaction: all its records are written or none. A constraint violation, a value the column cannot take, malformed content or a field that matches no column (when told to fail) sends the FlowFile to failure with putdatabaserecord.error; an unreachable database sends it to retry.',
  tags: ['sql', 'record', 'insert', 'update', 'upsert', 'delete', 'put', 'database', 'postgresql', 'rdbms'],
  input: 'required',
  properties: {
    recordReader: service(RECORD_READER_API, {
      displayName: 'Record Reader',
      description: 'Parses the incoming content into records.',
      required: true,
    }),
    databasePool: service(DATABASE_POOL_API, {
      displayName: 'Database Connection Pooling Service',
      description: 'The PostgreSQL connection pool to use.',
      required: true,
    }),
    statementType: choice(
      [
        { value: 'INSERT', displayName: 'INSERT', description: 'Insert every record as a new row.' },
        { value: 'UPDATE', displayName: 'UPDATE', description: 'Update the row with the same key values (Update Keys).' },
        {
          value: 'UPSERT',
          displayName: 'UPSERT',
          description: 'Insert, or update the existing row with the same key (the keys need a unique constraint).',
        },
        {
          value: 'DELETE',
          displayName: 'DELETE',
          description: 'Delete the row with the same key values (Update Keys, else the primary key, else every field).',
        },
        {
          value: 'use-attribute',
          displayName: 'Use statement.type Attribute',
          description: 'Read the statement type from the statement.type attribute (INSERT, UPDATE, UPSERT or DELETE).',
        },
      ],
      { displayName: 'Statement Type', description: 'What to do with each record.', default: 'INSERT', required: true },
    ),
    tableName: string({
      displayName: 'Table Name',
      description: "The table to write to (Expression Language over the FlowFile's attributes).",
      required: true,
      expression: 'flowfile',
    }),
    schemaName: string({
      displayName: 'Schema Name',
      description: "The schema of the table. Empty: the connection's search path (usually public).",
      expression: 'flowfile',
    }),
    updateKeys: string({
      displayName: 'Update Keys',
      description: 'Comma-separated columns that identify a row for UPDATE, UPSERT and DELETE. Empty: the primary key.',
      expression: 'flowfile',
    }),
    unmatchedFieldBehavior: choice(
      [
        {
          value: 'ignore',
          displayName: 'Ignore Unmatched Fields',
          description: 'Fields with no column of the same name are skipped.',
        },
        {
          value: 'fail',
          displayName: 'Fail on Unmatched Fields',
          description: 'A field with no column sends the FlowFile to failure.',
        },
      ],
      {
        displayName: 'Unmatched Field Behavior',
        description: 'What to do with a field that matches no column.',
        default: 'ignore',
        required: true,
      },
    ),
    unmatchedColumnBehavior: choice(
      [
        { value: 'ignore', displayName: 'Ignore Unmatched Columns', description: 'Columns no field maps to are left alone.' },
        {
          value: 'fail',
          displayName: 'Fail on Unmatched Columns',
          description: 'A record that lacks a (non-generated) column of the table sends the FlowFile to failure.',
        },
      ],
      {
        displayName: 'Unmatched Column Behavior',
        description: 'What to do when a record has no field for a column.',
        default: 'ignore',
        required: true,
      },
    ),
    maxBatchSize: integer({
      displayName: 'Maximum Batch Size',
      description: 'Records per INSERT or UPSERT statement (several rows per statement cut round trips).',
      default: '500',
      min: 1,
      max: 10_000,
      required: true,
    }),
    queryTimeout: timePeriod({
      displayName: 'Max Wait Time',
      description:
        "The longest one statement may run (PostgreSQL's statement_timeout): the FlowFile then goes to failure. If the server stops answering altogether the FlowFile goes to retry shortly after. 0 sec: no limit.",
      default: '30 sec',
      min: 0,
      required: true,
    }),
  },
  relationships: {
    success: 'FlowFiles whose records were all written (committed)',
    failure: 'FlowFiles whose records could not be written (nothing of them was), with putdatabaserecord.error',
    retry: 'FlowFiles that could not be written because the database was unreachable; they may succeed later',
  },
  readsAttributes: { 'statement.type': 'The statement type, when Statement Type is "Use statement.type Attribute"' },
  writesAttributes: {
    'putdatabaserecord.error': 'Why the FlowFile went to failure or retry',
    'record.count': 'Records written',
    'putdatabaserecord.row.count': 'Rows the statements inserted, updated or deleted',
  },
  onScheduled(): Scheduled {
    return { tables: new Map() };
  },
  async onTrigger(session, context, scheduled) {
    const flowFiles = session.getBatch(BATCH);
    if (flowFiles.length === 0) return;
    // The engine checked that the services provide the APIs these properties require.
    const pool = context.getService<DatabasePool>('databasePool');
    const readerFactory = context.getService<RecordReaderFactory>('recordReader');
    const timeoutMs = context.getProperty('queryTimeout').asTimePeriod() ?? 30_000;
    let connection: DatabaseConnection | undefined;
    for (let i = 0; i < flowFiles.length; i++) {
      const flowFile = flowFiles[i];
      if (flowFile === undefined) continue;
      const started = performance.now();
      try {
        connection ??= await pool.connect();
        const settings = settingsOf(context, flowFile);
        const written = await putRecords(session, flowFile, connection, readerFactory, scheduled, settings, timeoutMs);
        session.provenance.send(flowFile, `${pool.uri}/${settings.table}`, {
          durationMs: Math.round(performance.now() - started),
        });
        session.transfer(
          session.putAllAttributes(flowFile, {
            'record.count': String(written.records),
            'putdatabaserecord.row.count': String(written.rows),
          }),
          'success',
        );
      } catch (e) {
        // Table definitions may have changed: look them up again next time.
        scheduled.tables.clear();
        const reason = e instanceof RecordMappingError ? e.message : describeDatabaseError(e);
        if (connection === undefined || isTransientDatabaseError(e)) {
          connection?.release(e);
          connection = undefined;
          const pending = flowFiles.slice(i);
          context.logger.error(`cannot reach ${pool.uri}; ${pending.length} FlowFile(s) routed to retry: ${reason}`);
          for (const f of pending)
            session.transfer(session.penalize(session.putAttribute(f, 'putdatabaserecord.error', reason)), 'retry');
          context.yield();
          return;
        }
        context.logger.warn(`cannot write the records of FlowFile ${flowFile.uuid}: ${reason}`);
        session.transfer(session.putAttribute(flowFile, 'putdatabaserecord.error', reason), 'failure');
        try {
          await connection.query('ROLLBACK');
        } catch (rollbackError) {
          connection.release(rollbackError);
          connection = undefined;
        }
      }
    }
    connection?.release();
  },
});

/** The per-FlowFile settings. */
interface Settings {
  readonly type: StatementType;
  readonly schema: string | undefined;
  readonly table: string;
  readonly keys: readonly string[] | undefined;
  readonly failOnUnmatchedField: boolean;
  readonly failOnUnmatchedColumn: boolean;
  readonly maxBatch: number;
}

function settingsOf(context: Parameters<typeof PutDatabaseRecord.onTrigger>[1], flowFile: FlowFile): Settings {
  const configured = context.getProperty('statementType').asString() ?? 'INSERT';
  const typeText =
    configured === 'use-attribute' ? (flowFile.getAttribute('statement.type') ?? '').trim().toUpperCase() : configured;
  const type = STATEMENT_TYPES.find((t) => t === typeText);
  if (type === undefined) {
    throw new RecordMappingError(
      configured === 'use-attribute'
        ? `the statement.type attribute is ${JSON.stringify(flowFile.getAttribute('statement.type') ?? null)}; expected INSERT, UPDATE, UPSERT or DELETE`
        : `unknown statement type ${configured}`,
    );
  }
  const table = context.getProperty('tableName').evaluate(flowFile)?.trim() ?? '';
  if (table === '') throw new RecordMappingError('Table Name evaluated to an empty name');
  const schema = context.getProperty('schemaName').evaluate(flowFile)?.trim();
  const keys = context.getProperty('updateKeys').evaluate(flowFile)?.trim();
  return {
    type,
    schema: schema === undefined || schema === '' ? undefined : schema,
    table,
    keys:
      keys === undefined || keys === ''
        ? undefined
        : keys
            .split(',')
            .map((k) => k.trim())
            .filter((k) => k !== ''),
    failOnUnmatchedField: context.getProperty('unmatchedFieldBehavior').asString() === 'fail',
    failOnUnmatchedColumn: context.getProperty('unmatchedColumnBehavior').asString() === 'fail',
    maxBatch: context.getProperty('maxBatchSize').asInteger() ?? 500,
  };
}

/** Writes one FlowFile's records in one transaction; resolves with the records and rows written. */
async function putRecords(
  session: ProcessSession,
  flowFile: FlowFile,
  connection: DatabaseConnection,
  readerFactory: RecordReaderFactory,
  scheduled: Scheduled,
  settings: Settings,
  timeoutMs: number,
): Promise<{ records: number; rows: number }> {
  const clientTimeout = timeoutMs > 0 ? timeoutMs + CLIENT_TIMEOUT_SLACK_MS : 0;
  const query = (sql: string, values: readonly unknown[] = []) => connection.query(sql, values, { timeoutMs: clientTimeout });
  const cacheKey = `${settings.schema ?? ''}\u0000${settings.table}`;
  let table = scheduled.tables.get(cacheKey);
  if (table === undefined) {
    table = await describeTable(connection, settings.schema, settings.table);
    if (table === undefined) {
      throw new RecordMappingError(
        `table ${settings.schema === undefined ? '' : `${settings.schema}.`}${settings.table} does not exist (or is not visible to the user)`,
      );
    }
    scheduled.tables.set(cacheKey, table);
  }
  const keys = keyColumns(table, settings);
  const reader = await readRecords(session, flowFile, readerFactory);
  await query('BEGIN');
  if (timeoutMs > 0) await query(`SET LOCAL statement_timeout = ${Math.ceil(timeoutMs)}`);
  let rows = 0;
  const batch = new InsertBatch(table, settings, keys, async (sql, values) => {
    const [result] = await query(sql, values);
    rows += result?.rowCount ?? 0;
  });
  let n = 0;
  for await (const record of reader) {
    n++;
    const mapped = mapRecord(record, n, table, settings);
    switch (settings.type) {
      case 'INSERT':
      case 'UPSERT':
        await batch.add(mapped, n);
        break;
      case 'UPDATE': {
        const statement = updateStatement(table, mapped, keys, n);
        if (statement !== undefined) {
          const [result] = await query(statement.sql, statement.values);
          rows += result?.rowCount ?? 0;
        }
        break;
      }
      case 'DELETE': {
        const statement = deleteStatement(table, mapped, keys, n);
        const [result] = await query(statement.sql, statement.values);
        rows += result?.rowCount ?? 0;
        break;
      }
    }
  }
  await batch.flush();
  await query('COMMIT');
  return { records: n, rows };
}

/** The key columns for UPDATE, UPSERT and DELETE (Update Keys, else the primary key). */
function keyColumns(table: TableInfo, settings: Settings): readonly Column[] {
  if (settings.keys !== undefined) {
    return settings.keys.map((k) => {
      const column = table.column(k);
      if (column === undefined)
        throw new RecordMappingError(`Update Keys names column "${k}", which ${table.qualifiedName} does not have`);
      return column;
    });
  }
  const primary = table.primaryKey.map((k) => table.column(k)).filter((c): c is Column => c !== undefined);
  if (primary.length === 0 && (settings.type === 'UPDATE' || settings.type === 'UPSERT')) {
    throw new RecordMappingError(
      `${settings.type} needs key columns: set Update Keys (${table.qualifiedName} has no primary key)`,
    );
  }
  return primary;
}

/** A record's values by column, in record field order. */
type Mapped = ReadonlyMap<Column, unknown>;

function mapRecord(record: RecordObject, n: number, table: TableInfo, settings: Settings): Mapped {
  const out = new Map<Column, unknown>();
  for (const field of Object.keys(record)) {
    const column = table.column(field);
    if (column === undefined || column.generated) {
      if (settings.failOnUnmatchedField) {
        throw new RecordMappingError(
          `record ${n} has field "${field}", which matches no${column?.generated === true ? ' writable' : ''} column of ${table.qualifiedName}`,
        );
      }
      continue;
    }
    if (out.has(column))
      throw new RecordMappingError(`record ${n} has two fields for column "${column.name}" (names differ only in case)`);
    out.set(column, columnValue(record[field] ?? null, column));
  }
  if (settings.failOnUnmatchedColumn) {
    for (const column of table.columns) {
      if (!column.generated && !out.has(column)) {
        throw new RecordMappingError(`record ${n} has no field for column "${column.name}" of ${table.qualifiedName}`);
      }
    }
  }
  return out;
}

/** A record value as the driver should bind it for a column. */
function columnValue(value: RecordValue, column: Column): unknown {
  if (value === null) return null;
  if (column.type === 'json' || column.type === 'jsonb') return typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'object' && !(Array.isArray(value) && column.category === 'A')) return JSON.stringify(value);
  return value;
}

/** Collects INSERT/UPSERT rows with the same columns into multi-row statements. */
class InsertBatch {
  readonly #table: TableInfo;
  readonly #settings: Settings;
  readonly #keys: readonly Column[];
  readonly #execute: (sql: string, values: readonly unknown[]) => Promise<void>;
  #columns: readonly Column[] = [];
  #signature = '';
  #rows: unknown[][] = [];
  #keysInBatch = new Set<string>();

  constructor(
    table: TableInfo,
    settings: Settings,
    keys: readonly Column[],
    execute: (sql: string, values: readonly unknown[]) => Promise<void>,
  ) {
    this.#table = table;
    this.#settings = settings;
    this.#keys = keys;
    this.#execute = execute;
  }

  async add(mapped: Mapped, n: number): Promise<void> {
    const columns = [...mapped.keys()];
    const signature = columns.map((c) => c.name).join('\u0000');
    let keyValue: string | undefined;
    if (this.#settings.type === 'UPSERT') {
      for (const key of this.#keys) {
        if (!mapped.has(key) || mapped.get(key) === null) {
          throw new RecordMappingError(`record ${n} has no value for key column "${key.name}", which UPSERT needs`);
        }
      }
      keyValue = JSON.stringify(this.#keys.map((k) => mapped.get(k)));
    }
    const perStatement = Math.max(1, Math.min(this.#settings.maxBatch, Math.floor(MAX_PARAMETERS / Math.max(1, columns.length))));
    // One statement holds rows of the same columns; an UPSERT statement may not touch a key twice.
    if (
      signature !== this.#signature ||
      this.#rows.length >= perStatement ||
      (keyValue !== undefined && this.#keysInBatch.has(keyValue))
    ) {
      await this.flush();
      this.#columns = columns;
      this.#signature = signature;
    }
    this.#rows.push(columns.map((c) => mapped.get(c)));
    if (keyValue !== undefined) this.#keysInBatch.add(keyValue);
  }

  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    const rows = this.#rows;
    this.#rows = [];
    this.#keysInBatch = new Set();
    const columns = this.#columns;
    const values: unknown[] = [];
    const tuples = rows.map((row) => {
      if (columns.length === 0) return '(DEFAULT)';
      const placeholders = row.map((value) => {
        values.push(value);
        return `$${values.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    let sql =
      columns.length === 0
        ? `INSERT INTO ${this.#table.qualifiedName} DEFAULT VALUES`
        : `INSERT INTO ${this.#table.qualifiedName} (${columns.map((c) => quoteIdentifier(c.name)).join(', ')}) VALUES ${tuples.join(', ')}`;
    if (columns.length === 0 && rows.length > 1) {
      // DEFAULT VALUES takes one row per statement.
      for (let i = 0; i < rows.length; i++) await this.#execute(sql, []);
      return;
    }
    if (this.#settings.type === 'UPSERT') {
      const keyNames = new Set(this.#keys.map((k) => k.name));
      const updates = columns
        .filter((c) => !keyNames.has(c.name))
        .map((c) => `${quoteIdentifier(c.name)} = EXCLUDED.${quoteIdentifier(c.name)}`);
      sql += ` ON CONFLICT (${this.#keys.map((k) => quoteIdentifier(k.name)).join(', ')}) DO ${updates.length === 0 ? 'NOTHING' : `UPDATE SET ${updates.join(', ')}`}`;
    }
    await this.#execute(sql, values);
  }
}

function updateStatement(
  table: TableInfo,
  mapped: Mapped,
  keys: readonly Column[],
  n: number,
): { sql: string; values: unknown[] } | undefined {
  const values: unknown[] = [];
  const where = keys.map((key) => {
    if (!mapped.has(key) || mapped.get(key) === null) {
      throw new RecordMappingError(`record ${n} has no value for key column "${key.name}", which UPDATE needs`);
    }
    values.push(mapped.get(key));
    return `${quoteIdentifier(key.name)} = $${values.length}`;
  });
  const sets: string[] = [];
  for (const [column, value] of mapped) {
    if (keys.includes(column)) continue;
    values.push(value);
    sets.push(`${quoteIdentifier(column.name)} = $${values.length}`);
  }
  if (sets.length === 0) return undefined; // nothing but the key: nothing to change
  return { sql: `UPDATE ${table.qualifiedName} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, values };
}

function deleteStatement(
  table: TableInfo,
  mapped: Mapped,
  keys: readonly Column[],
  n: number,
): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const match: Array<[Column, unknown]> =
    keys.length > 0
      ? keys.map((key) => {
          if (!mapped.has(key))
            throw new RecordMappingError(`record ${n} has no value for key column "${key.name}", which DELETE needs`);
          return [key, mapped.get(key)];
        })
      : [...mapped];
  if (match.length === 0)
    throw new RecordMappingError(`record ${n} has no field to match rows by; DELETE would remove every row`);
  const where = match.map(([column, value]) => {
    if (value === null) return `${quoteIdentifier(column.name)} IS NULL`;
    values.push(value);
    return `${quoteIdentifier(column.name)} = $${values.length}`;
  });
  return { sql: `DELETE FROM ${table.qualifiedName} WHERE ${where.join(' AND ')}`, values };
}
