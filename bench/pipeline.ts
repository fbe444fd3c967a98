import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { standardRegistry } from '@sluice/server';

/** Options of one pipeline run. */
export interface PipelineRun {
  readonly size: number;
  readonly durable: boolean;
  /** `putfile` (the flow) or `none`: RouteOnAttribute's relationships auto-terminated. */
  readonly sink: 'putfile' | 'none';
  readonly seconds: number;
  readonly warmupSeconds?: number;
}

/** Result of one pipeline run. */
export interface PipelineResult {
  readonly flowFilesPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly flowFiles: number;
  readonly seconds: number;
  readonly provenanceEvents: number;
  /** Events appended but not yet indexed when the measurement ended (indexing runs off the hot path). */
  readonly provenanceIndexLag: number;
  readonly rssMb: number;
}

/** GenerateFlowFile -> UpdateAttribute -> RouteOnAttribute -> PutFile (the benchmark flow). */
export function pipelineFlow(outDir: string, size: number, sink: 'putfile' | 'none' = 'putfile'): FlowDocumentInput {
  const big = size >= 1024 * 1024;
  const flow: FlowDocumentInput = {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'bench',
      processors: [
        {
          id: 'gen',
          name: 'Generate',
          type: 'GenerateFlowFile',
          properties: {
            fileSize: `${size} B`,
            batchSize: big ? '4' : '500',
            dataFormat: 'Binary',
            slot: '${nextInt():mod(100)}',
          },
          scheduling: { period: '0 sec' },
          state: 'RUNNING',
        },
        {
          id: 'update',
          name: 'Update',
          type: 'UpdateAttribute',
          properties: { stage: 'updated', filename: '${uuid}.bin' },
          state: 'RUNNING',
        },
        {
          id: 'route',
          name: 'Route',
          type: 'RouteOnAttribute',
          properties: { even: '${slot:mod(2):equals(0)}' },
          state: 'RUNNING',
        },
        {
          id: 'put',
          name: 'Put',
          type: 'PutFile',
          // Unique names and "fail" (NiFi's default): replacing files costs a writeback on ext4.
          properties: { directory: outDir, conflictResolution: 'fail', batchSize: big ? '4' : '500' },
          autoTerminate: ['success', 'failure'],
          state: 'RUNNING',
        },
      ],
      connections: [
        { id: 'c1', source: { id: 'gen' }, destination: { id: 'update' }, relationships: ['success'] },
        { id: 'c2', source: { id: 'update' }, destination: { id: 'route' }, relationships: ['success'] },
        { id: 'c3', source: { id: 'route' }, destination: { id: 'put' }, relationships: ['even', 'unmatched'] },
      ],
    },
  };
  if (sink === 'none') {
    const group = flow.rootGroup;
    group.processors = (group.processors ?? [])
      .filter((p) => p.id !== 'put')
      .map((p) => (p.id === 'route' ? { ...p, autoTerminate: ['even', 'unmatched'] } : p));
    group.connections = (group.connections ?? []).filter((c) => c.id !== 'c3');
  }
  return flow;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the pipeline in this process and measures FlowFiles reaching PutFile's success. */
export async function runPipeline(run: PipelineRun): Promise<PipelineResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const engine = await Engine.open({
    dataDir: join(dir, 'data'),
    registry: standardRegistry(),
    repositories: run.durable ? 'durable' : 'volatile',
    provenance: run.durable ? 'durable' : 'off',
    fileRoots: [dir],
    logLevel: 'ERROR',
  });
  try {
    await engine.applyFlow(pipelineFlow(join(dir, 'out'), run.size, run.sink));
    const last = engine.component(run.sink === 'none' ? 'route' : 'put');
    if (last === undefined) throw new Error('no sink');
    const count = () => last.stats.inCount.sum(Date.now());
    await sleep((run.warmupSeconds ?? 2) * 1000);
    const startCount = count();
    const started = performance.now();
    await sleep(run.seconds * 1000);
    const seconds = (performance.now() - started) / 1000;
    const flowFiles = count() - startCount;
    const failures = engine.bulletins.list().filter((b) => b.level !== 'INFO' && !b.message.startsWith('provenance indexing'));
    if (failures.length > 0) throw new Error(`the pipeline reported problems: ${failures[0]?.message}`);
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    const { events: provenanceEvents, indexLag: provenanceIndexLag } = engine.provenance.stats();
    return {
      flowFilesPerSecond: flowFiles / seconds,
      megabytesPerSecond: (flowFiles * run.size) / seconds / 1e6,
      flowFiles,
      seconds,
      provenanceEvents,
      provenanceIndexLag,
      rssMb,
    };
  } finally {
    await engine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const size = Number(process.argv[2] ?? 1024);
  const durable = process.argv[3] !== 'off';
  const seconds = Number(process.argv[4] ?? 8);
  const sink = process.argv[5] === 'none' ? 'none' : 'putfile';
  runPipeline({ size, durable, seconds, sink }).then((r) => console.log(JSON.stringify({ size, durable, sink, ...r })));
}
