import Database from 'better-sqlite3';
import { PLACEHOLDER_COLUMN } from './sqlite-protocol.ts';

let scratch: Database.Database | undefined;

/**
 * Checks a query at configuration time by preparing it against an empty FLOWFILE table (preparing
 * parses and resolves names; nothing runs, so this is quick and safe on the event loop). The
 * table's columns are only known once records are read, so an unknown column is accepted here
 * and reported per FlowFile; syntax errors, other tables, unknown functions, statements that do
 * not return rows or that would change anything (ATTACH, INSERT, PRAGMA with a value) are not.
 * Returns what is wrong, or undefined.
 */
export function queryProblem(sql: string): string | undefined {
  if (sql.trim() === '') return 'the query is empty';
  scratch ??= createScratch();
  let statement: Database.Statement;
  try {
    statement = scratch.prepare(sql);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/^no such column/.test(message)) return undefined;
    return `not a valid query: ${message}${/no such table/.test(message) ? ' (the records are in the table FLOWFILE)' : ''}`;
  }
  if (!statement.reader) return 'the query must return rows (SELECT ...)';
  if (!statement.readonly) return 'the query must not change data';
  return undefined;
}

function createScratch(): Database.Database {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE FLOWFILE ("${PLACEHOLDER_COLUMN}")`);
  return db;
}
