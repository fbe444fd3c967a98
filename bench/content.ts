// Content processors on the engine, durable repositories and provenance on: FlowFiles per second
// through SplitText (a 10 MB file of short lines split into 1-line FlowFiles), MergeContent
// (1,000-entry bins of 1 KiB FlowFiles) and TransformJSON (1 KiB JSON documents, a small
// expression). Prints one JSON line. Usage: node --import tsx bench/content.ts [seconds] [split]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { standardRegistry } from '@sluice/server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withEngine<T>(run: (engine: Engine) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-content-'));
  const engine = await Engine.open({
    dataDir: join(dir, 'data'),
    registry: standardRegistry(),
    repositories: 'durable',
    provenance: 'durable',
    fileRoots: [dir],
    logLevel: 'ERROR',
  });
  try {
    return await run(engine);
  } finally {
    await engine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

function problems(engine: Engine): void {
  const failures = engine.bulletins.list().filter((b) => b.level !== 'INFO' && !b.message.startsWith('provenance indexing'));
  if (failures.length > 0) throw new Error(`the flow reported problems: ${failures[0]?.message}`);
}

/** The rate at which `id` takes FlowFiles in, measured over `seconds` after a warm-up. */
async function steadyRate(
  engine: Engine,
  id: string,
  seconds: number,
): Promise<{ flowFilesPerSecond: number; flowFiles: number }> {
  const node = engine.component(id);
  if (node === undefined) throw new Error(`no component ${id}`);
  const count = () => node.stats.inCount.sum(Date.now());
  await sleep(2000);
  const start = count();
  const started = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  const flowFiles = count() - start;
  problems(engine);
  return { flowFilesPerSecond: flowFiles / elapsed, flowFiles };
}

/** A 10 MB file of short lines (about 32 bytes each). */
function shortLines(bytes: number): { content: Buffer; lines: number } {
  const parts: string[] = [];
  let size = 0;
  let lines = 0;
  while (size < bytes) {
    const line = `${lines.toString().padStart(8, '0')},sensor-${lines % 97},${(lines * 7) % 1000}.5\n`;
    parts.push(line);
    size += line.length;
    lines++;
  }
  return { content: Buffer.from(parts.join('')), lines };
}

/**
 * SplitText of a 10 MB file into 1-line FlowFiles. `toQueue`: the splits go to a connection that a
 * LogAttribute drains (as in a real flow: their FlowFiles are journaled and queued, most swapped out);
 * otherwise they are auto-terminated. Also reports the longest stall of the event loop meanwhile.
 */
async function splitText(files: number, toQueue = false): Promise<Record<string, unknown>> {
  const { content, lines } = shortLines(10 * 1024 * 1024);
  return withEngine(async (engine) => {
    const flow: FlowDocumentInput = {
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'bench SplitText',
        processors: [
          { id: 'src', name: 'Source', type: 'GenerateFlowFile', properties: {}, state: 'STOPPED' },
          {
            id: 'split',
            name: 'Split',
            type: 'SplitText',
            properties: { lineCount: '1' },
            autoTerminate: toQueue ? ['original', 'failure'] : ['splits', 'original', 'failure'],
            state: 'RUNNING',
          },
          ...(toQueue
            ? [
                {
                  id: 'sink',
                  name: 'Sink',
                  type: 'LogAttribute',
                  properties: { logLevel: 'DEBUG' },
                  autoTerminate: ['success'],
                  state: 'RUNNING' as const,
                },
              ]
            : []),
        ],
        connections: [
          { id: 'in', source: { id: 'src' }, destination: { id: 'split' }, relationships: ['success'] },
          ...(toQueue ? [{ id: 'out', source: { id: 'split' }, destination: { id: 'sink' }, relationships: ['splits'] }] : []),
        ],
      },
    };
    await engine.applyFlow(flow);
    const node = engine.component('split');
    const queue = engine.connection('in')?.queue;
    if (node === undefined || queue === undefined) throw new Error('flow not built');
    const seconds: number[] = [];
    const searchable: number[] = [];
    // One input makes ~420,000 FlowFiles in one session: how long its commit holds the event loop matters.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    for (let i = 0; i < files; i++) {
      await engine.enqueue('in', content, { filename: `lines-${i}.csv` });
      const started = performance.now();
      while (queue.size().count > 0 || node.activeTasks > 0) await sleep(2);
      // Durable and in the queue; with a queue, until LogAttribute has taken every split too.
      await engine.settle();
      const out = engine.connection('out')?.queue;
      while ((out?.size().count ?? 0) > 0) await sleep(2);
      seconds.push((performance.now() - started) / 1000);
      // Lineage is searchable once the provenance events are written and indexed (in the background).
      await engine.provenance.waitForIndex();
      searchable.push((performance.now() - started) / 1000);
    }
    delay.disable();
    problems(engine);
    const total = seconds.reduce((a, b) => a + b, 0);
    return {
      flowFilesPerSecond: (lines * files) / total,
      splitsPerFile: lines,
      fileBytes: content.length,
      files,
      secondsPerFile: seconds.map((s) => Math.round(s * 1000) / 1000),
      searchableAfterSeconds: searchable.map((s) => Math.round(s * 1000) / 1000),
      maxEventLoopStallMs: Math.round(delay.max / 1e6),
    };
  });
}

async function mergeContent(seconds: number): Promise<Record<string, unknown>> {
  return withEngine(async (engine) => {
    await engine.applyFlow({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'bench MergeContent',
        processors: [
          {
            id: 'gen',
            name: 'Generate',
            type: 'GenerateFlowFile',
            properties: { fileSize: '1 KB', batchSize: '1000', dataFormat: 'Text' },
            scheduling: { period: '0 sec' },
            state: 'RUNNING',
          },
          {
            id: 'merge',
            name: 'Merge',
            type: 'MergeContent',
            properties: { minEntries: '1000', maxEntries: '1000' },
            autoTerminate: ['merged', 'original', 'failure'],
            state: 'RUNNING',
          },
        ],
        connections: [{ id: 'c1', source: { id: 'gen' }, destination: { id: 'merge' }, relationships: ['success'] }],
      },
    });
    const rate = await steadyRate(engine, 'merge', seconds);
    return { ...rate, binEntries: 1000, flowFileBytes: 1024 };
  });
}

/** A 1 KiB JSON document. */
function document(): string {
  const readings = [];
  for (let i = 0; readings.join(',').length < 880; i++) {
    readings.push(JSON.stringify({ t: 1_700_000_000 + i, v: (i * 3.7) % 100, ok: i % 5 !== 0 }));
  }
  const text = JSON.stringify({ device: 'sensor-42', site: 'plant-7', readings: readings.map((r) => JSON.parse(r)) });
  return text.padEnd(1024, ' ');
}

async function transformJson(seconds: number): Promise<Record<string, unknown>> {
  const json = document();
  return withEngine(async (engine) => {
    await engine.applyFlow({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'bench TransformJSON',
        processors: [
          {
            id: 'gen',
            name: 'Generate',
            type: 'GenerateFlowFile',
            properties: { customText: json, batchSize: '500' },
            scheduling: { period: '0 sec' },
            state: 'RUNNING',
          },
          {
            id: 'transform',
            name: 'Transform',
            type: 'TransformJSON',
            properties: {
              expression:
                '{ "device": device, "count": $count(readings), "max": $max(readings.v), "bad": $count(readings[ok = false]) }',
            },
            autoTerminate: ['success', 'failure'],
            state: 'RUNNING',
          },
        ],
        connections: [{ id: 'c1', source: { id: 'gen' }, destination: { id: 'transform' }, relationships: ['success'] }],
      },
    });
    const rate = await steadyRate(engine, 'transform', seconds);
    return { ...rate, documentBytes: Buffer.byteLength(json) };
  });
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const seconds = Number(process.argv[2] ?? 8);
  // A second argument `split` runs only the two SplitText measurements.
  const onlySplit = process.argv[3] === 'split';
  const files = Math.max(1, Math.round(seconds / 5));
  const result = {
    splitText: await splitText(files),
    splitTextToQueue: await splitText(files, true),
    ...(onlySplit ? {} : { mergeContent: await mergeContent(seconds), transformJson: await transformJson(seconds) }),
    rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
  };
  console.log(JSON.stringify(result));
}
