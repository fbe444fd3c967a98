/** The records group of the standard library: its processors and controller services, registered by ../index.ts. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';
import { ConvertRecord } from '../convert-record/index.ts';
import { CSVReader } from '../csv-reader/index.ts';
import { CSVRecordSetWriter } from '../csv-record-set-writer/index.ts';
import { ExecuteSQL } from '../execute-sql/index.ts';
import { JsonLinesReader } from '../json-lines-reader/index.ts';
import { JsonRecordSetWriter } from '../json-record-set-writer/index.ts';
import { JsonTreeReader } from '../json-tree-reader/index.ts';
import { PostgreSQLConnectionPool } from '../postgresql-connection-pool/index.ts';
import { PutDatabaseRecord } from '../put-database-record/index.ts';
import { PutSQL } from '../put-sql/index.ts';
import { QueryRecord } from '../query-record/index.ts';

export const processors: readonly AnyProcessorDefinition[] = [ConvertRecord, QueryRecord, PutSQL, ExecuteSQL, PutDatabaseRecord];
export const services: readonly AnyServiceDefinition[] = [
  JsonTreeReader,
  JsonLinesReader,
  CSVReader,
  JsonRecordSetWriter,
  CSVRecordSetWriter,
  PostgreSQLConnectionPool,
];
