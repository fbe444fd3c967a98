import { boolean, defineProcessor, type FlowFile, type ProcessSession, service, timePeriod, usesExpression } from '@sluice/api';
import {
  errorMessage,
  getField,
  newRecord,
  RECORD_READER_API,
  RECORD_WRITER_API,
  type RecordField,
  type RecordFieldType,
  type RecordObject,
  type RecordReaderFactory,
  type RecordSetWriterFactory,
  type RecordValue,
  readRecords,
  writeRecordsTo,
} from '../records/index.ts';
import { QueryTimeoutError, SqliteClient, type WorkerReply } from './sqlite-client.ts';
import { PLACEHOLDER_COLUMN, type ResultColumn, type SqlValue } from './sqlite-protocol.ts';
import { queryProblem } from './validate-query.ts';

const RESERVED = new Set(['original', 'failure']);
/** Rows per message to and from the worker: bounds memory and lets the event loop breathe. */
const ROWS_PER_MESSAGE = 1000;

/**
 * What a run keeps: SQLite workers, one per concurrent task, started on first use, reused across
 * FlowFiles, and replaced after a timeout terminated one.
 */
interface Scheduled {
  readonly idle: SqliteClient[];
  readonly all: Set<SqliteClient>;
}

/** Runs SQL over the records of each FlowFile, a relationship per query (NiFi's QueryRecord). */
export const QueryRecord = defineProcessor({
  type: 'QueryRecord',
  description:
    "Runs SQL over the records of each FlowFile. Each user-added property is a query and a relationship of the same name: the records are loaded into a table named FLOWFILE (one column per field; booleans are stored as 1/0 and objects/arrays as JSON text, so json_extract() works) and every query's result is written with the Record Writer to a new FlowFile sent to its relationship, e.g. `SELECT name, total FROM FLOWFILE WHERE total > 100`. The SQL dialect is SQLite's. Queries run in a worker thread with a timeout, so a slow query never stalls the rest of the flow. The original FlowFile goes to original; content that cannot be read, or a query that fails on it, sends it to failure with record.error.",
  tags: ['sql', 'query', 'select', 'record', 'filter', 'aggregate', 'route', 'sqlite'],
  input: 'required',
  properties: {
    recordReader: service(RECORD_READER_API, {
      displayName: 'Record Reader',
      description: 'Parses the incoming content into records.',
      required: true,
    }),
    recordWriter: service(RECORD_WRITER_API, {
      displayName: 'Record Writer',
      description: 'Writes the result rows of each query.',
      required: true,
    }),
    includeZeroRecordFlowFiles: boolean({
      displayName: 'Include Zero Record FlowFiles',
      description: "Send a result FlowFile to a query's relationship even when the query returned no rows.",
      default: 'true',
      required: true,
    }),
    queryTimeout: timePeriod({
      displayName: 'Query Timeout',
      description:
        'The longest loading the records and running one query may take for a FlowFile. A query that runs longer is stopped (its worker thread is terminated) and the FlowFile goes to failure.',
      default: '5 min',
      min: 1,
      required: true,
    }),
  },
  dynamicProperties: {
    description:
      "A SQL query over the table FLOWFILE; the property name is the relationship its results go to. Expression Language over the FlowFile's attributes is evaluated first (beware of quoting attribute values into SQL).",
    expression: 'flowfile',
    createsRelationship: true,
    validate: (name, value) => {
      if (RESERVED.has(name)) return `"${name}" is a QueryRecord relationship; give the query another name`;
      return usesExpression(value) ? undefined : queryProblem(value);
    },
  },
  relationships: {
    original: 'The FlowFile whose records were queried, unchanged',
    failure: 'FlowFiles whose records could not be read or queried, unchanged, with record.error',
  },
  writesAttributes: {
    'record.count': 'Result FlowFiles: the number of rows',
    'mime.type': "Result FlowFiles: the writer's MIME type",
    'QueryRecord.Route': 'Result FlowFiles: the query (relationship) that produced them',
    'record.error': 'On failure: why (malformed content, a bad query, a timeout)',
  },
  validate(context) {
    return context.dynamicProperties.size === 0
      ? ['add at least one query: a property whose name is the relationship and whose value is SELECT ... FROM FLOWFILE']
      : [];
  },
  onScheduled(): Scheduled {
    return { idle: [], all: new Set() };
  },
  async onTrigger(session, context, scheduled) {
    const flowFile = session.get();
    if (flowFile === undefined) return;
    // The engine checked that these services provide the record reader/writer APIs.
    const readerFactory = context.getService<RecordReaderFactory>('recordReader');
    const writerFactory = context.getService<RecordSetWriterFactory>('recordWriter');
    const includeEmpty = context.getProperty('includeZeroRecordFlowFiles').asBoolean() !== false;
    const timeoutMs = context.getProperty('queryTimeout').asTimePeriod() ?? 300_000;
    const results: FlowFile[] = [];
    let client: SqliteClient | undefined;
    try {
      const queries = [...context.dynamicProperties].map(([name, value]) => {
        const sql = value.evaluate(flowFile) ?? '';
        const problem = usesExpression(value.raw ?? '') ? queryProblem(sql) : undefined;
        if (problem !== undefined) throw new Error(`query "${name}": ${problem}`);
        return { name, sql };
      });
      let idle = scheduled.idle.pop();
      while (idle !== undefined && !idle.alive) {
        scheduled.all.delete(idle);
        idle = scheduled.idle.pop();
      }
      const worker = idle ?? new SqliteClient();
      client = worker;
      scheduled.all.add(worker);
      // Timeouts measure SQLite's work, not how long the worker took to load.
      await worker.whenReady();
      const loaded = await load(session, flowFile, readerFactory, worker, timeoutMs);
      for (const query of queries) {
        const deadline = Date.now() + timeoutMs;
        const remaining = (): number => {
          const left = deadline - Date.now();
          if (left <= 0)
            throw new QueryTimeoutError(`query "${query.name}" did not finish within the Query Timeout of ${timeoutMs} ms`);
          return left;
        };
        let reply: WorkerReply;
        try {
          reply = await worker.request(
            { op: 'query', sql: query.sql, batchSize: ROWS_PER_MESSAGE },
            remaining(),
            `query "${query.name}"`,
          );
        } catch (e) {
          throw new Error(e instanceof QueryTimeoutError ? e.message : `query "${query.name}" failed: ${errorMessage(e)}`);
        }
        const columns = resultColumns(reply.columns ?? [], loaded.types);
        const child = session.create(flowFile);
        results.push(child);
        const written = await writeRecordsTo(session, child, writerFactory, { fields: columns.fields }, async (writer) => {
          let current = reply;
          for (;;) {
            for (const row of current.rows ?? []) {
              const wait = writer.write(columns.toRecord(row));
              if (wait !== undefined) await wait;
            }
            if (current.done !== false) return;
            current = await worker.request({ op: 'next' }, remaining(), `query "${query.name}"`);
          }
        });
        results[results.length - 1] = written.flowFile;
        if (written.recordCount === 0 && !includeEmpty) {
          results.pop();
          session.remove(written.flowFile);
          continue;
        }
        const result = session.putAllAttributes(written.flowFile, {
          'record.count': String(written.recordCount),
          'mime.type': writerFactory.mimeType,
          'QueryRecord.Route': query.name,
        });
        results[results.length - 1] = result;
      }
      await worker.request({ op: 'close' }, timeoutMs, 'releasing the records');
    } catch (e) {
      const reason = errorMessage(e);
      context.logger.warn(`cannot query FlowFile ${flowFile.uuid}: ${reason}`);
      session.remove(results);
      session.transfer(session.putAttribute(flowFile, 'record.error', reason), 'failure');
      return;
    } finally {
      // Back to the pool for the next FlowFile, unless a timeout terminated it.
      if (client !== undefined) {
        if (client.alive) scheduled.idle.push(client);
        else scheduled.all.delete(client);
      }
    }
    for (const result of results) {
      const route = result.getAttribute('QueryRecord.Route') ?? '';
      session.provenance.route(result, route);
      session.transfer(result, route);
    }
    session.transfer(flowFile, 'original');
  },
  async onStopped(_context, scheduled) {
    await Promise.all([...scheduled.all].map((c) => c.close()));
    scheduled.all.clear();
    scheduled.idle.length = 0;
  },
});

/** The FLOWFILE table once loaded: the inferred type of each column. */
interface Loaded {
  readonly types: ReadonlyMap<string, RecordFieldType>;
}

/** Streams the FlowFile's records into the worker's FLOWFILE table, a batch of rows per message. */
async function load(
  session: ProcessSession,
  flowFile: FlowFile,
  readerFactory: RecordReaderFactory,
  client: SqliteClient,
  timeoutMs: number,
): Promise<Loaded> {
  const deadline = Date.now() + timeoutMs;
  const remaining = (): number => {
    const left = deadline - Date.now();
    if (left <= 0) throw new QueryTimeoutError(`loading the records did not finish within the Query Timeout of ${timeoutMs} ms`);
    return left;
  };
  const reader = await readRecords(session, flowFile, readerFactory);
  const columns: string[] = [];
  const folded = new Map<string, string>(); // SQLite column names ignore case
  const addColumns = (names: readonly string[]): void => {
    for (const name of names) {
      const clash = folded.get(name.toLowerCase());
      if (clash !== undefined) {
        throw new Error(`fields "${clash}" and "${name}" differ only in case, which SQLite column names cannot tell apart`);
      }
      if (name === PLACEHOLDER_COLUMN) throw new Error(`the field name "${name}" is reserved by QueryRecord`);
      folded.set(name.toLowerCase(), name);
      columns.push(name);
    }
  };
  addColumns(reader.schema.fields.map((f) => f.name));
  await client.request({ op: 'open', columns: [...columns] }, remaining(), 'loading the records');
  let rows: SqlValue[][] = [];
  const known = new Set(columns);
  const flush = async (): Promise<void> => {
    if (rows.length === 0) return;
    const batch = rows;
    rows = [];
    await client.request({ op: 'insert', rows: batch }, remaining(), 'loading the records');
  };
  for await (const record of reader) {
    const added = Object.keys(record).filter((k) => !known.has(k));
    if (added.length > 0) {
      await flush();
      addColumns(added);
      for (const name of added) known.add(name);
      await client.request({ op: 'add-columns', columns: added }, remaining(), 'loading the records');
    }
    rows.push(columns.map((name) => toSql(getField(record, name))));
    if (rows.length >= ROWS_PER_MESSAGE) await flush();
  }
  await flush();
  return { types: new Map(reader.schema.fields.map((f) => [f.name, f.type])) };
}

/** A record value as SQLite stores it: booleans as 1/0, objects and arrays as JSON text. */
function toSql(value: RecordValue | undefined): SqlValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** How result rows become records: unique field names, and values restored to their record types. */
function resultColumns(
  columns: readonly ResultColumn[],
  types: ReadonlyMap<string, RecordFieldType>,
): { fields: RecordField[]; toRecord: (row: readonly unknown[]) => RecordObject } {
  const used = new Set<string>();
  const kept: Array<{ index: number; name: string; type: RecordFieldType }> = [];
  columns.forEach((column, index) => {
    if (column.origin === PLACEHOLDER_COLUMN) return;
    let name = column.name;
    for (let k = 2; used.has(name); k++) name = `${column.name}_${k}`;
    used.add(name);
    const type = column.origin === null ? 'mixed' : (types.get(column.origin) ?? 'mixed');
    kept.push({ index, name, type });
  });
  return {
    fields: kept.map((c) => ({ name: c.name, type: c.type, nullable: true })),
    toRecord(row) {
      const record = newRecord();
      for (const c of kept) record[c.name] = fromSql(row[c.index], c.type);
      return record;
    },
  };
}

/** A SQLite result value as a record value, restoring booleans and JSON where the column came from such a field. */
function fromSql(value: unknown, type: RecordFieldType): RecordValue {
  if (value === null || value === undefined) return null;
  if (type === 'boolean' && (value === 0 || value === 1)) return value === 1;
  if ((type === 'object' || type === 'array') && typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isRecordValue(parsed)) return parsed;
    } catch {
      // Not JSON after all (a function rewrote it): keep the text.
    }
    return value;
  }
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return String(value);
}

function isRecordValue(value: unknown): value is RecordValue {
  return value === null || ['boolean', 'number', 'string', 'object'].includes(typeof value);
}
