import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { standardRegistry } from '@sluice/server';

setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

function flow(sourceRunning: boolean): FlowDocumentInput {
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'recovery bench',
      processors: [
        {
          id: 'source',
          name: 'Source',
          type: 'GenerateFlowFile',
          properties: { fileSize: '100 B', batchSize: '2000' },
          state: sourceRunning ? 'RUNNING' : 'STOPPED',
        },
        { id: 'sink', name: 'Sink', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
      ],
      connections: [
        {
          id: 'q',
          source: { id: 'source' },
          destination: { id: 'sink' },
          relationships: ['success'],
          backPressureObjectThreshold: 0,
          backPressureDataSizeThreshold: '0 B',
        },
      ],
    },
  };
}

const rssMb = () => {
  gc();
  return process.memoryUsage().rss / 1024 / 1024;
};

/** Child mode "fill": queue `count` FlowFiles, print RSS, then wait to be killed. */
async function fill(dataDir: string, count: number): Promise<void> {
  const engine = await Engine.open({ dataDir, registry: standardRegistry(), logLevel: 'ERROR' });
  await engine.applyFlow(flow(true));
  const queued = () => engine.connection('q')?.queue.size().count ?? 0;
  while (queued() < count) await new Promise((r) => setTimeout(r, 50));
  await engine.stopComponent('source');
  await engine.settle();
  await engine.provenance.waitForIndex();
  console.log(JSON.stringify({ queued: queued(), rssMb: rssMb() }));
  setInterval(() => undefined, 1000); // killed with SIGKILL, never shut down
}

/** Child mode "recover": open the killed engine's data dir, time recovery until it accepts data. */
async function recover(dataDir: string): Promise<void> {
  const started = performance.now();
  const engine = await Engine.open({ dataDir, registry: standardRegistry(), logLevel: 'ERROR' });
  await engine.applyFlow(flow(false));
  const ms = performance.now() - started;
  const queued = engine.connection('q')?.queue.size().count ?? 0;
  console.log(JSON.stringify({ recoveryMs: ms, queued, rssMb: rssMb() }));
  await engine.shutdown();
}

function child(args: string[]): { result: Promise<Record<string, number>>; exited: Promise<void>; kill: () => void } {
  const proc = spawn(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const result = new Promise<Record<string, number>>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve(JSON.parse(line));
    });
    proc.on('exit', (code) => reject(new Error(`child ${args[0]} exited ${code} before reporting: ${out}`)));
  });
  return { result, exited, kill: () => proc.kill('SIGKILL') };
}

/** Fills a queue with `count` FlowFiles in a child, kills it with SIGKILL, and times recovery in another. */
export async function recoveryBench(count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-recovery-'));
  try {
    const filler = child(['fill', join(dir, 'data'), String(count)]);
    const filled = await filler.result;
    filler.kill();
    await filler.exited;
    const recovery = child(['recover', join(dir, 'data')]);
    const recovered = await recovery.result;
    await recovery.exited;
    if ((recovered.queued ?? 0) < count) throw new Error(`recovered ${recovered.queued} of ${count} FlowFiles`);
    return {
      queued: filled.queued,
      rssWithQueueMb: filled.rssMb,
      recoveryMs: recovered.recoveryMs,
      recoveredQueued: recovered.queued,
      rssAfterRecoveryMb: recovered.rssMb,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, dataDir, count] = process.argv.slice(2);
if (process.argv[1] === new URL(import.meta.url).pathname) {
  if (mode === 'fill' && dataDir !== undefined) void fill(dataDir, Number(count));
  else if (mode === 'recover' && dataDir !== undefined) void recover(dataDir);
  else recoveryBench(Number(mode ?? 1_000_000)).then((r) => console.log(JSON.stringify(r)));
}
