import { type DatabaseConnection, quoteIdentifier } from '../postgresql-connection-pool/api.ts';

/** A column of the target table. */
export interface Column {
  readonly name: string;
  /** pg_type.typname: int4, text, jsonb, _int4 ... */
  readonly type: string;
  /** pg_type.typcategory: A (array), N (numeric), S (string), U (user, incl. json) ... */
  readonly category: string;
  /** Generated columns cannot be written. */
  readonly generated: boolean;
}

/** What PutDatabaseRecord needs to know about a table. */
export interface TableInfo {
  /** `"schema"."table"`, quoted. */
  readonly qualifiedName: string;
  readonly columns: readonly Column[];
  readonly primaryKey: readonly string[];
  /** Maps a record field name to its column: exact name first, else the only case-insensitive match. */
  column(field: string): Column | undefined;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));

/**
 * Looks a table up in the catalog, by its exact name and then lower-cased (PostgreSQL folds
 * unquoted names to lower case, so `Orders` usually means `orders`). Returns undefined when it
 * does not exist. The schema, if not given, is the connection's search path.
 */
export async function describeTable(
  connection: DatabaseConnection,
  schema: string | undefined,
  table: string,
): Promise<TableInfo | undefined> {
  const candidates = [table, table.toLowerCase()].filter((t, i, all) => all.indexOf(t) === i);
  const schemas =
    schema === undefined || schema === ''
      ? [undefined]
      : [schema, schema.toLowerCase()].filter((s, i, all) => all.indexOf(s) === i);
  for (const s of schemas) {
    for (const t of candidates) {
      const name = s === undefined ? quoteIdentifier(t) : `${quoteIdentifier(s)}.${quoteIdentifier(t)}`;
      const [found] = await connection.query(
        `SELECT c.oid::int8, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
        [name],
      );
      const row = found?.rows[0];
      if (row === undefined) continue;
      const oid = row[0];
      const [columns] = await connection.query(
        `SELECT a.attname, t.typname, t.typcategory, a.attgenerated <> '' FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [oid],
      );
      const [keys] = await connection.query(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = $1 AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
        [oid],
      );
      return tableInfo(
        `${quoteIdentifier(text(row[1]))}.${quoteIdentifier(text(row[2]))}`,
        (columns?.rows ?? []).map((r) => ({
          name: text(r[0]),
          type: text(r[1]),
          category: text(r[2]),
          generated: r[3] === true,
        })),
        (keys?.rows ?? []).map((r) => text(r[0])),
      );
    }
  }
  return undefined;
}

function tableInfo(qualifiedName: string, columns: readonly Column[], primaryKey: readonly string[]): TableInfo {
  const exact = new Map(columns.map((c) => [c.name, c]));
  const folded = new Map<string, Column[]>();
  for (const c of columns) folded.set(c.name.toLowerCase(), [...(folded.get(c.name.toLowerCase()) ?? []), c]);
  return {
    qualifiedName,
    columns,
    primaryKey,
    column(field) {
      const hit = exact.get(field);
      if (hit !== undefined) return hit;
      const matches = folded.get(field.toLowerCase());
      return matches?.length === 1 ? matches[0] : undefined;
    },
  };
}
