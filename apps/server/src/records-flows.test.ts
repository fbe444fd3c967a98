import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const csv = 'sensor,reading,ok\nt1,21.5,true\nt2,99.1,false\nt3,18,true\n';

/** GenerateFlowFile -> ConvertRecord (CSV to NDJSON) -> QueryRecord (two queries, CSV out) -> stopped sinks. */
function flow(): FlowDocumentInput {
  const sink = (id: string) => ({ id, name: id, type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' as const });
  const connection = (id: string, source: string, destination: string, relationships: string[]) => ({
    id,
    source: { id: source },
    destination: { id: destination },
    relationships,
  });
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'records',
      controllerServices: [
        { id: 'csv-in', name: 'CSV in', type: 'CSVReader', properties: {}, state: 'ENABLED' },
        {
          id: 'ndjson-out',
          name: 'NDJSON out',
          type: 'JsonRecordSetWriter',
          properties: { outputGrouping: 'one-line-per-object' },
          state: 'ENABLED',
        },
        { id: 'ndjson-in', name: 'NDJSON in', type: 'JsonLinesReader', properties: {}, state: 'ENABLED' },
        { id: 'csv-out', name: 'CSV out', type: 'CSVRecordSetWriter', properties: {}, state: 'ENABLED' },
      ],
      processors: [
        {
          id: 'source',
          name: 'Readings',
          type: 'GenerateFlowFile',
          properties: { dataFormat: 'Text', customText: csv },
          scheduling: { period: '1 hour' },
          state: 'RUNNING',
        },
        {
          id: 'convert',
          name: 'CSV to NDJSON',
          type: 'ConvertRecord',
          properties: { recordReader: 'csv-in', recordWriter: 'ndjson-out' },
          state: 'RUNNING',
        },
        {
          id: 'query',
          name: 'Split readings',
          type: 'QueryRecord',
          properties: {
            recordReader: 'ndjson-in',
            recordWriter: 'csv-out',
            alarms: 'SELECT sensor, reading FROM FLOWFILE WHERE reading > 50 OR NOT ok',
            average: 'SELECT ROUND(AVG(reading), 2) AS mean, COUNT(*) AS n FROM FLOWFILE',
          },
          autoTerminate: ['original'],
          state: 'RUNNING',
        },
        sink('alarm-sink'),
        sink('average-sink'),
        sink('failure-sink'),
      ],
      connections: [
        connection('generated', 'source', 'convert', ['success']),
        connection('converted', 'convert', 'query', ['success']),
        connection('convert-failed', 'convert', 'failure-sink', ['failure']),
        connection('alarms', 'query', 'alarm-sink', ['alarms']),
        connection('average', 'query', 'average-sink', ['average']),
        connection('query-failed', 'query', 'failure-sink', ['failure']),
      ],
    },
  };
}

describe('record processors on the engine', () => {
  let root: string;
  let engine: Engine | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sluice-records-'));
  });
  afterEach(async () => {
    await engine?.shutdown();
    engine = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it('CSV is converted to NDJSON and queried with SQL into two relationships, through controller services of the flow', async () => {
    engine = await Engine.open({
      dataDir: join(root, 'data'),
      registry: standardRegistry(),
      repositories: 'durable',
      provenance: 'durable',
      fileRoots: [root],
      logLevel: 'WARN',
    });
    const e = engine;
    await e.applyFlow(flow());
    const texts = (connection: string): string[] =>
      e
        .listQueue(connection, 0, 100)
        .map(({ flowFile }) => (flowFile.claim === null ? '' : e.content.read(flowFile.claim).toString('utf8')));
    await until(() => texts('alarms').length === 1 && texts('average').length === 1, 'both query results');
    expect(texts('alarms')).toEqual(['sensor,reading\nt2,99.1\n']);
    expect(texts('average')).toEqual(['mean,n\n46.2,3\n']);
    const [alarm] = e.listQueue('alarms', 0, 1);
    expect(alarm?.flowFile.attributes.get('record.count')).toBe('1');
    expect(alarm?.flowFile.attributes.get('mime.type')).toBe('text/csv');
    expect(texts('convert-failed')).toEqual([]);
    expect(texts('query-failed')).toEqual([]);
  });
});
