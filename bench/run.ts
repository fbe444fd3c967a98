// `npm run bench`: every benchmark in its own child process (no interference between them), JSON
// lines on stdout as results arrive, then a table. Figures go to docs/benchmarks.md with the machine.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from './machine.ts';

const here = new URL('.', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const seconds = quick ? 4 : 10;

function run(script: string, args: readonly (string | number)[]): Record<string, unknown> {
  // Every benchmark process runs on the Node flags `npm run bench` was started with (the ones Sluice is
  // launched with, see package.json), baselines included, so both sides run on the same runtime.
  const result = spawnSync(process.execPath, [...process.execArgv, join(here, script), ...args.map(String)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (result.status !== 0 || line === undefined)
    throw new Error(`${script} ${args.join(' ')} failed (exit ${result.status}): ${result.stdout}`);
  return JSON.parse(line);
}

const results: Record<string, unknown>[] = [];
function record(name: string, value: Record<string, unknown>): void {
  const entry = { bench: name, ...value };
  results.push(entry);
  console.log(JSON.stringify(entry));
}

const host = machine();
record('machine', { ...host });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rounds = quick ? 1 : 3;
const sizes = [100, 1024, 1024 * 1024];
for (const size of sizes) {
  // The disk's speed drifts on a shared VM: PutFile and its bare-Node baseline run interleaved,
  // several rounds, and the medians (and their ratio) are reported.
  const bare: number[] = [];
  const put: Record<string, unknown>[] = [];
  for (let round = 0; round < rounds; round++) {
    bare.push(Number(run('bare-files.ts', [size, seconds]).filesPerSecond));
    put.push(run('pipeline.ts', [size, 'on', seconds, 'putfile']));
  }
  const putRate = median(put.map((r) => Number(r.flowFilesPerSecond)));
  const bareRate = median(bare);
  record('bare-files', { size, filesPerSecond: bareRate, megabytesPerSecond: (bareRate * size) / 1e6, rounds: bare });
  record('pipeline', {
    ...put.find((r) => Number(r.flowFilesPerSecond) === putRate),
    rounds: put.map((r) => r.flowFilesPerSecond),
    ratioToBareFiles: putRate / bareRate,
  });
  record('pipeline', run('pipeline.ts', [size, 'off', seconds, 'putfile']));
  for (const mode of ['on', 'off']) record('pipeline', run('pipeline.ts', [size, mode, seconds, 'none']));
}
record('ingest', run('ingest.ts', [quick ? 3 : 6, rounds]));
record('lineage', run('lineage.ts', [quick ? 60_000 : 220_000, 1000]));
record('recovery', run('recovery.ts', [quick ? 200_000 : 1_000_000]));
record('mqtt', run('mqtt.ts', [seconds, rounds]));
record('http', run('http.ts', [seconds, 32, 100, rounds]));
record('content', run('content.ts', [seconds]));
record('server', run('server.ts', [quick ? 100 : 300, seconds, 20]));
for (const size of [1024, 1024 * 1024]) record('s2s', run('s2s.ts', [size, seconds]));
record('editor', run('editor.ts', [1000, quick ? 3 : 5]));

const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${host.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(results, null, 2)}\n`);

const num = (v: unknown, digits = 0) =>
  typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: digits }) : String(v);
const rows: string[][] = [['benchmark', 'configuration', 'result']];
for (const r of results) {
  if (r.bench === 'bare-files')
    rows.push([
      'bare Node file writes',
      `${num(r.size)} B`,
      `${num(r.filesPerSecond)} files/s, ${num(r.megabytesPerSecond, 1)} MB/s`,
    ]);
  if (r.bench === 'pipeline') {
    rows.push([
      `pipeline → ${r.sink === 'none' ? 'auto-terminate' : 'PutFile'}`,
      `${num(r.size)} B, ${r.durable === true ? 'durable + provenance' : 'repositories off'}`,
      `${num(r.flowFilesPerSecond)} FlowFiles/s, ${num(r.megabytesPerSecond, 1)} MB/s, RSS ${num(r.rssMb)} MB${typeof r.ratioToBareFiles === 'number' ? `, ${num(r.ratioToBareFiles, 2)} × bare file writes` : ''}`,
    ]);
  }
  if (r.bench === 'ingest') {
    const side = (k: string, f: string): unknown => {
      const v: unknown = r[k];
      return typeof v === 'object' && v !== null && f in v ? Reflect.get(v, f) : undefined;
    };
    rows.push([
      'engine ingest (100 B FlowFiles, 6 attributes, RECEIVE)',
      'durable + provenance; Node default heap vs --max-semi-space-size=64',
      `${num(side('defaultHeap', 'flowFilesPerSecond'))} vs ${num(side('semiSpace64', 'flowFilesPerSecond'))} FlowFiles/s (${num(r.rateRatio, 2)} ×); GC ${num(side('defaultHeap', 'gcShare'), 2)} vs ${num(side('semiSpace64', 'gcShare'), 2)} of the time; ${num(side('defaultHeap', 'processCpuMicrosPerFlowFile'), 1)} vs ${num(side('semiSpace64', 'processCpuMicrosPerFlowFile'), 1)} µs CPU per FlowFile`,
    ]);
  }
  if (r.bench === 'lineage') {
    rows.push([
      'provenance',
      `${num(r.events)} events`,
      `lineage p50 ${num(r.lineageP50Ms, 2)} ms / p99 ${num(r.lineageP99Ms, 2)} ms; search 1,000 rows p50 ${num(r.searchP50Ms, 1)} / p99 ${num(r.searchP99Ms, 1)} ms; index ${num(r.indexedEventsPerSecond)} events/s (cold re-index ${num(r.reindexedEventsPerSecond)}/s); append ${num(r.appendMicrosPerEvent, 2)} µs/event`,
    ]);
  }
  if (r.bench === 'http')
    rows.push([
      'ListenHTTP vs bare Node http',
      `${num(r.size)} B POSTs, ${num(r.connections)} keep-alive clients, durable + provenance`,
      `${num(r.listenHttpRequestsPerSecond)} req/s vs ${num(r.bareRequestsPerSecond)} req/s bare = ${num(r.ratio, 2)} × (p50 ${num(r.listenHttpP50Ms, 1)} ms / ${num(r.bareP50Ms, 1)} ms); provenance volatile ${num(r.volatileProvenanceRequestsPerSecond)} req/s = ${num(r.volatileProvenanceRatio, 2)} ×`,
    ]);
  if (r.bench === 'mqtt') {
    for (const [key, label] of [
      ['qos0', 'QoS 0'],
      ['qos1', 'QoS 1'],
    ] as const) {
      const q: unknown = r[key];
      const at = (k: string): unknown => (typeof q === 'object' && q !== null && k in q ? Reflect.get(q, k) : undefined);
      rows.push([
        'MQTT ingest → committed FlowFiles vs bare mqtt.js subscriber',
        `100 B, ${label}, ${String(r.broker)} (MQTT ${String(r.mqttVersion)}), durable + provenance`,
        `one FlowFile per message ${num(at('sluiceMessagesPerSecond'))} msgs/s = ${num(at('ratio'), 2)} × bare ${num(at('bareMessagesPerSecond'))} msgs/s; with a demarcator (many per FlowFile) ${num(at('sluiceBatchedMessagesPerSecond'))} msgs/s = ${num(at('batchedRatio'), 2)} × (publisher ${num(at('publisherMessagesPerSecond'))} msgs/s)`,
      ]);
    }
  }
  if (r.bench === 'recovery') {
    rows.push([
      'recovery after kill -9',
      `${num(r.queued)} queued`,
      `${num(r.recoveryMs)} ms; RSS ${num(r.rssWithQueueMb)} MB with the queue, ${num(r.rssAfterRecoveryMb)} MB after recovery`,
    ]);
  }
  if (r.bench === 'content') {
    const rate = (v: unknown) => num(typeof v === 'object' && v !== null && 'flowFilesPerSecond' in v ? v.flowFilesPerSecond : v);
    rows.push([
      'content processors',
      'durable + provenance',
      `SplitText ${rate(r.splitText)} splits/s (10 MB, 1-line splits); MergeContent ${rate(r.mergeContent)} FlowFiles/s (1,000 × 1 KiB bins); TransformJSON ${rate(r.transformJson)} FlowFiles/s (1 KiB JSON)`,
    ]);
  }
  if (r.bench === 's2s')
    rows.push([
      'Site-to-Site edge → core vs bare HTTP POST',
      `${num(r.size)} B FlowFiles, two processes on loopback, durable + provenance`,
      `${num(r.s2sFlowFilesPerSecond)} FlowFiles/s (${num(r.s2sMegabytesPerSecond, 1)} MB/s) vs bare ${num(r.bareFlowFilesPerSecond)} POSTs/s (${num(r.bareMegabytesPerSecond, 1)} MB/s) = ${num(r.ratioToBare, 2)} ×`,
    ]);
  if (r.bench === 'editor') {
    const frames = (v: unknown) => {
      const at = (k: string): unknown => (typeof v === 'object' && v !== null && k in v ? Reflect.get(v, k) : undefined);
      return `p50 ${num(at('p50Ms'), 1)} / p95 ${num(at('p95Ms'), 1)} / max ${num(at('maxMs'), 1)} ms`;
    };
    const baseline = r.baseline;
    const base = (k: string): unknown =>
      typeof baseline === 'object' && baseline !== null && k in baseline ? Reflect.get(baseline, k) : undefined;
    rows.push([
      'editor in Chromium (target: interactive < 2 s, frames < 33 ms)',
      `${num(r.processors)} processors + connections, running, full status every second; baseline 10 processors`,
      `first render ${num(r.firstRenderMs)} ms, interactive ${num(r.interactiveMs)} ms (baseline ${num(base('interactiveMs'))} ms); frames panning ${frames(r.panning)}, while status streams ${frames(r.statusStreaming)} (baseline panning ${frames(base('panning'))})`,
    ]);
  }
  if (r.bench === 'server')
    rows.push([
      'server: REST and live status',
      `${num(r.components)} components + ${num(r.connections)} connections, ${num(r.sockets)} sockets`,
      `GET /api/v1/flow (${num(Number(r.flowBytes) / 1024)} KiB) p50 ${num(r.flowReadP50Ms, 2)} ms / p99 ${num(r.flowReadP99Ms, 2)} ms; full status push to every socket each second: ${num(r.pushCpuMsPerSecond, 1)} ms CPU per second above idle`,
    ]);
}
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
console.log('');
console.log(
  `${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB, Node ${host.node}, fsync p50 ${host.fsync.p50Us} µs / p99 ${host.fsync.p99Us} µs, load ${host.loadAverage}, commit ${host.commit}`,
);
for (const [i, row] of rows.entries()) {
  console.log(row.map((cell, j) => cell.padEnd(widths[j] ?? 0)).join(' | '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
}
