import { DatabaseError } from 'pg';

/** The `provides` string of database pool services (PostgreSQLConnectionPool). */
export const DATABASE_POOL_API = 'database-pool';

/** A column of a query result. */
export interface ResultField {
  readonly name: string;
  /** The PostgreSQL type OID. */
  readonly dataTypeID: number;
}

/** The result of one statement; rows are arrays in field order (names may repeat in SQL). */
export interface QueryResult {
  /** The command tag's verb: SELECT, INSERT, UPDATE, DECLARE, FETCH ... */
  readonly command: string;
  /** Rows affected or returned, when the server says. */
  readonly rowCount: number | null;
  readonly fields: readonly ResultField[];
  readonly rows: readonly (readonly unknown[])[];
}

/** Options of one query. */
export interface QueryOptions {
  /**
   * Give up waiting for the server after this long (a peer that hangs); the connection is then
   * unusable and must be released with the error. 0 or absent: wait as long as it takes.
   */
  readonly timeoutMs?: number;
}

/**
 * A connection borrowed from a {@link DatabasePool}. Values bind to `$1`, `$2`...; without values
 * the text may hold several statements (their results are returned in order).
 */
export interface DatabaseConnection {
  query(sql: string, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult[]>;
  /** Returns the connection to the pool; pass the error when it failed so it is discarded, not reused. */
  release(error?: unknown): void;
}

/**
 * What a database pool service provides. Values come back JSON-friendly: int8 as a number when it
 * is exact (else text), numeric, dates, times, timestamps, intervals and bytea as PostgreSQL's
 * text, json/jsonb parsed, arrays as arrays.
 */
export interface DatabasePool {
  /** Where the pool connects, without credentials (for provenance): `postgresql://host:port/database`. */
  readonly uri: string;
  /**
   * Borrows a connection, checked with the validation query when one is configured.
   * @throws the driver's error when the database cannot be reached within the connection timeout.
   */
  connect(): Promise<DatabaseConnection>;
}

/** Node socket errors that mean the database is unreachable or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

/** Messages pg gives connection problems that carry no code. */
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|connection error|Connection ended|the database system is (starting up|shutting down)/i;

/**
 * Whether an error means "try again later" (the database is unreachable, restarting, overloaded, or
 * the transaction lost a race) rather than "this statement or data is wrong". Processors route the
 * former to retry and the latter to failure.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (error instanceof DatabaseError) {
    const code = error.code ?? '';
    return (
      code.startsWith('08') || // connection exception
      code.startsWith('53') || // insufficient resources (too many connections, disk full)
      code === '57P01' || // admin shutdown
      code === '57P02' || // crash shutdown
      code === '57P03' || // cannot connect now
      code === '40001' || // serialization failure
      code === '40P01' // deadlock detected
    );
  }
  if (typeof error !== 'object' || error === null) return false;
  if ('code' in error && typeof error.code === 'string' && NETWORK_CODES.has(error.code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isTransientDatabaseError);
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

/**
 * A one-line description of a database error for a FlowFile attribute: the server's message, its
 * SQLSTATE, and the detail (which names the offending key of a constraint violation).
 */
export function describeDatabaseError(error: unknown): string {
  if (error instanceof DatabaseError) {
    const parts = [`${error.message} (SQLSTATE ${error.code ?? 'unknown'})`];
    if (error.detail !== undefined && error.detail !== '') parts.push(error.detail);
    if (error.hint !== undefined && error.hint !== '') parts.push(`hint: ${error.hint}`);
    return parts.join('; ');
  }
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((e: unknown) => describeDatabaseError(e)).join('; ');
  }
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? ` (${error.code})` : '';
    return `${error.message || error.name}${code}`;
  }
  return String(error);
}

/** Quotes an identifier for PostgreSQL ("a""b"), so any name is used exactly as written. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
