// Engine cost per ingested FlowFile, the way an ingest processor makes them (ConsumeMQTT with one
// FlowFile per message, ListenHTTP): a source creates 100-byte FlowFiles with six attributes and a
// RECEIVE event, 500 per commit, on durable repositories with provenance; UpdateAttribute takes and
// auto-terminates them. Each round runs in a fresh child, once on Node's default heap settings and
// once with `--max-semi-space-size=64` (what `npm start` and the `sluice` launcher use), alternating;
// medians are reported with their ratio. Prints one JSON line.
//
//   node --import tsx bench/ingest.ts [seconds=6] [rounds=3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { defineProcessor } from '@sluice/api';
import { Engine } from '@sluice/engine';
import { standardRegistry } from '@sluice/server';

const here = new URL(import.meta.url).pathname;
const BATCH = 500;
const SEMI_SPACE_FLAG = '--max-semi-space-size=64';

const IngestBench = defineProcessor({
  type: 'IngestBench',
  description: 'Makes 100-byte FlowFiles like an ingest processor (benchmark only).',
  tags: ['benchmark'],
  input: 'forbidden',
  properties: {},
  relationships: { success: 'Every FlowFile made' },
  onTrigger(session) {
    const payload = Buffer.alloc(100, 'x');
    for (let i = 0; i < BATCH; i++) {
      let flowFile = session.create();
      flowFile = session.write(flowFile, payload);
      flowFile = session.putAllAttributes(
        flowFile,
        new Map([
          ['mqtt.broker', 'tcp://127.0.0.1:1883'],
          ['mqtt.topic', 'sensors/site-1/temperature'],
          ['mqtt.qos', '0'],
          ['mqtt.retained', 'false'],
          ['mqtt.duplicate', 'false'],
          ['mqtt.property.seq', String(i)],
        ]),
      );
      session.provenance.receive(flowFile, 'tcp://127.0.0.1:1883/sensors/site-1/temperature');
      session.transfer(flowFile, 'success');
    }
  },
});

interface Round {
  readonly flowFilesPerSecond: number;
  /** Main-thread busy time (event loop utilization) per FlowFile. */
  readonly mainThreadMicrosPerFlowFile: number;
  /** CPU of the whole process (all threads: provenance indexer, GC helpers) per FlowFile. */
  readonly processCpuMicrosPerFlowFile: number;
  /** Share of the measured time spent in garbage collection pauses. */
  readonly gcShare: number;
}

/** `--round seconds`: one measurement in this process. */
async function round(seconds: number): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-ingest-'));
  const registry = standardRegistry().registerProcessors([IngestBench]);
  const engine = await Engine.open({ dataDir: join(dir, 'data'), registry, logLevel: 'ERROR' });
  try {
    await engine.applyFlow({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'ingest bench',
        processors: [
          { id: 'source', name: 'Source', type: 'IngestBench', scheduling: { period: '0 sec' }, state: 'RUNNING' },
          { id: 'sink', name: 'Sink', type: 'UpdateAttribute', autoTerminate: ['success'], state: 'RUNNING' },
        ],
        connections: [{ id: 'c', source: { id: 'source' }, destination: { id: 'sink' }, relationships: ['success'] }],
      },
    });
    const sink = engine.component('sink');
    if (sink === undefined) throw new Error('no sink');
    await new Promise((r) => setTimeout(r, 1500)); // warm-up
    let gcMs = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as PerformanceEntry[]) gcMs += entry.duration;
    });
    observer.observe({ entryTypes: ['gc'] });
    const count0 = sink.stats.inCount.sum(Date.now());
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const flowFiles = sink.stats.inCount.sum(Date.now()) - count0;
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    observer.disconnect();
    return {
      flowFilesPerSecond: Math.round(flowFiles / (elapsedMs / 1000)),
      mainThreadMicrosPerFlowFile: Number(((elu.active * 1000) / flowFiles).toFixed(1)),
      processCpuMicrosPerFlowFile: Number(((cpu.user + cpu.system) / flowFiles).toFixed(1)),
      gcShare: Number((gcMs / elapsedMs).toFixed(3)),
    };
  } finally {
    await engine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

function child(flags: readonly string[], seconds: number): Round {
  // The loader flags this script runs with, without a semi-space setting of their own.
  const inherited = process.execArgv.filter((a) => !a.startsWith('--max-semi-space-size'));
  const result = spawnSync(process.execPath, [...flags, ...inherited, here, '--round', String(seconds)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (result.status !== 0 || line === undefined) throw new Error(`ingest round failed (exit ${result.status}): ${result.stdout}`);
  return JSON.parse(line);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main(seconds: number, rounds: number): Promise<void> {
  const byDefault: Round[] = [];
  const tuned: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    byDefault.push(child([], seconds));
    tuned.push(child([SEMI_SPACE_FLAG], seconds));
  }
  const summary = (rs: Round[]) => ({
    flowFilesPerSecond: median(rs.map((r) => r.flowFilesPerSecond)),
    mainThreadMicrosPerFlowFile: median(rs.map((r) => r.mainThreadMicrosPerFlowFile)),
    processCpuMicrosPerFlowFile: median(rs.map((r) => r.processCpuMicrosPerFlowFile)),
    gcShare: median(rs.map((r) => r.gcShare)),
    rounds: rs,
  });
  const a = summary(byDefault);
  const b = summary(tuned);
  console.log(
    JSON.stringify({
      seconds,
      rounds,
      defaultHeap: a,
      semiSpace64: b,
      rateRatio: a.flowFilesPerSecond === 0 ? 0 : b.flowFilesPerSecond / a.flowFilesPerSecond,
    }),
  );
}

if (process.argv[2] === '--round') console.log(JSON.stringify(await round(Number(process.argv[3] ?? 6))));
else await main(Number(process.argv[2] ?? 6), Number(process.argv[3] ?? 3));
process.exit(0);
