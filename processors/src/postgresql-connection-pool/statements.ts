import type { FlowFile } from '@sluice/api';

type Kind = 'boolean' | 'integer' | 'number' | 'text' | 'timestamp' | 'binary' | 'null';

/** JDBC type codes (java.sql.Types) with their names, as NiFi's sql.args.N.type attributes give them. */
const JDBC_TYPES: ReadonlyArray<readonly [code: string, name: string, kind: Kind]> = [
  ['-7', 'BIT', 'boolean'],
  ['16', 'BOOLEAN', 'boolean'],
  ['-6', 'TINYINT', 'integer'],
  ['5', 'SMALLINT', 'integer'],
  ['4', 'INTEGER', 'integer'],
  ['-5', 'BIGINT', 'integer'],
  ['2', 'NUMERIC', 'number'],
  ['3', 'DECIMAL', 'number'],
  ['6', 'FLOAT', 'number'],
  ['7', 'REAL', 'number'],
  ['8', 'DOUBLE', 'number'],
  ['1', 'CHAR', 'text'],
  ['12', 'VARCHAR', 'text'],
  ['-1', 'LONGVARCHAR', 'text'],
  ['-15', 'NCHAR', 'text'],
  ['-9', 'NVARCHAR', 'text'],
  ['-16', 'LONGNVARCHAR', 'text'],
  ['2005', 'CLOB', 'text'],
  ['2011', 'NCLOB', 'text'],
  ['1111', 'OTHER', 'text'],
  ['91', 'DATE', 'text'],
  ['92', 'TIME', 'text'],
  ['2013', 'TIME_WITH_TIMEZONE', 'text'],
  ['93', 'TIMESTAMP', 'timestamp'],
  ['2014', 'TIMESTAMP_WITH_TIMEZONE', 'timestamp'],
  ['-2', 'BINARY', 'binary'],
  ['-3', 'VARBINARY', 'binary'],
  ['-4', 'LONGVARBINARY', 'binary'],
  ['2004', 'BLOB', 'binary'],
  ['0', 'NULL', 'null'],
];

/** Kind of each type, by code and by name. */
const TYPES: ReadonlyMap<string, Kind> = new Map(
  JDBC_TYPES.flatMap(
    ([code, name, kind]): Array<[string, Kind]> => [
      [code, kind],
      [name, kind],
    ],
  ),
);

const ARG = /^sql\.args\.(\d+)\.(type|value|format)$/;

/**
 * The statement parameters a FlowFile carries in NiFi's attributes `sql.args.N.type` (a JDBC type
 * code such as 4 or a name such as INTEGER), `sql.args.N.value` (absent: NULL) and, for binary
 * types, `sql.args.N.format` (ascii, hex or base64), numbered from 1. Values are checked against
 * their type and handed to the driver as text (PostgreSQL converts them to the column's type) or
 * bytes. Timestamps may also be given as epoch milliseconds.
 * @throws {Error} naming the attribute that is missing or does not fit its type.
 */
export function statementArguments(flowFile: FlowFile): unknown[] {
  let count = 0;
  for (const key of flowFile.attributes.keys()) {
    const m = ARG.exec(key);
    if (m !== null) count = Math.max(count, Number(m[1]));
  }
  const values: unknown[] = [];
  for (let n = 1; n <= count; n++) {
    const type = flowFile.getAttribute(`sql.args.${n}.type`);
    if (type === undefined) throw new Error(`sql.args.${n}.type is missing (arguments are numbered from 1 without gaps)`);
    const kind = TYPES.get(type.trim().toUpperCase());
    if (kind === undefined) throw new Error(`sql.args.${n}.type "${type}" is not a JDBC type code or name this processor knows`);
    values.push(convert(n, kind, flowFile.getAttribute(`sql.args.${n}.value`), flowFile.getAttribute(`sql.args.${n}.format`)));
  }
  return values;
}

function convert(n: number, kind: Kind, value: string | undefined, format: string | undefined): unknown {
  if (value === undefined || kind === 'null') return null;
  const bad = (expected: string): Error => new Error(`sql.args.${n}.value "${value}" is not ${expected}`);
  switch (kind) {
    case 'boolean': {
      const v = value.trim().toLowerCase();
      if (['true', 't', '1', 'yes', 'y'].includes(v)) return 'true';
      if (['false', 'f', '0', 'no', 'n'].includes(v)) return 'false';
      throw bad('a boolean');
    }
    case 'integer':
      if (!/^\s*[-+]?\d+\s*$/.test(value)) throw bad('an integer');
      return value.trim();
    case 'number':
      if (value.trim() === '' || !Number.isFinite(Number(value))) throw bad('a number');
      return value.trim();
    case 'timestamp':
      // NiFi accepts epoch milliseconds for timestamps.
      return /^\d+$/.test(value.trim()) ? new Date(Number(value)).toISOString() : value;
    case 'binary':
      switch ((format ?? 'ascii').toLowerCase()) {
        case 'ascii':
          return Buffer.from(value, 'latin1');
        case 'hex':
          if (!/^([0-9a-fA-F]{2})*$/.test(value)) throw bad('hex');
          return Buffer.from(value, 'hex');
        case 'base64':
          if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw bad('base64');
          return Buffer.from(value, 'base64');
        default:
          throw new Error(`sql.args.${n}.format "${format}" must be ascii, hex or base64`);
      }
    case 'text':
      return value;
  }
}

/**
 * Rewrites JDBC-style `?` placeholders to PostgreSQL's `$1, $2...`, leaving question marks inside
 * string literals, quoted identifiers, dollar-quoted bodies and comments alone. A statement that
 * already uses `$n` placeholders is returned unchanged.
 */
export function positionalPlaceholders(sql: string): string {
  if (/\$\d/.test(stripLiterals(sql))) return sql;
  let out = '';
  let n = 0;
  scan(sql, (text, code) => {
    out += code ? text.replace(/\?/g, () => `$${++n}`) : text;
  });
  return out;
}

/** The SQL with literals, identifiers and comments blanked out (for looking at the code only). */
export function stripLiterals(sql: string): string {
  let out = '';
  scan(sql, (text, code) => {
    out += code ? text : ' '.repeat(text.length);
  });
  return out;
}

/** Splits SQL into code and non-code (literals, quoted identifiers, comments) pieces, in order. */
function scan(sql: string, emit: (text: string, code: boolean) => void): void {
  let i = 0;
  let codeStart = 0;
  const n = sql.length;
  const flush = (end: number): void => {
    if (end > codeStart) emit(sql.slice(codeStart, end), true);
  };
  while (i < n) {
    const c = sql[i];
    let end = -1;
    if (c === "'" || c === '"') {
      const escapes = c === "'" && i > 0 && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '');
      let j = i + 1;
      for (; j < n; j++) {
        if (escapes && sql[j] === '\\') j++;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      end = Math.min(n, j + 1);
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      end = nl < 0 ? n : nl;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      end = j;
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i));
      if (tag !== null && !/\w/.test(sql[i - 1] ?? '')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? n : close + tag[0].length;
      }
    }
    if (end < 0) {
      i++;
      continue;
    }
    flush(i);
    emit(sql.slice(i, end), false);
    i = end;
    codeStart = end;
  }
  flush(n);
}

/** The first keyword of a statement, upper-cased (after comments and opening parentheses). */
export function leadingKeyword(sql: string): string {
  const code = stripLiterals(sql);
  const m = /^[\s(]*([A-Za-z]+)/.exec(code);
  return (m?.[1] ?? '').toUpperCase();
}
