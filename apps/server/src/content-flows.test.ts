import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';
import { exited, startSluiceRun } from './sluice-run.test-helper.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A stopped GenerateFlowFile feeding `first`: a connection to enqueue into. */
const source = { id: 'src', name: 'Source', type: 'GenerateFlowFile', properties: {}, state: 'STOPPED' as const };
/** Where results wait: a stopped processor, so its input queue holds them for the test to read. */
const sink = {
  id: 'sink',
  name: 'Sink',
  type: 'LogAttribute',
  properties: {},
  autoTerminate: ['success'],
  state: 'STOPPED' as const,
};

describe('content processors on the engine', () => {
  let root: string;
  let engine: Engine | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sluice-content-'));
  });
  afterEach(async () => {
    await engine?.shutdown();
    engine = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  const open = async (): Promise<Engine> => {
    engine = await Engine.open({
      dataDir: join(root, 'data'),
      registry: standardRegistry(),
      repositories: 'durable',
      provenance: 'durable',
      fileRoots: [root],
      logLevel: 'WARN',
    });
    return engine;
  };

  const queued = (e: Engine, connection: string) => e.listQueue(connection, 0, 100_000).map((entry) => entry.flowFile);
  const content = (e: Engine, connection: string): Buffer[] =>
    queued(e, connection).map((f) => (f.claim === null ? Buffer.alloc(0) : e.content.read(f.claim)));

  it('SplitText then MergeContent (Defragment) gives back the original, byte for byte', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) lines.push(`${i},${'v'.repeat(i % 50)}${i % 7 === 0 ? '\r\n' : '\n'}`);
    const original = Buffer.from(`${lines.join('')}tail without newline`);
    const e = await open();
    await e.applyFlow({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'split and merge',
        processors: [
          source,
          {
            id: 'split',
            name: 'Split',
            type: 'SplitText',
            properties: { lineCount: '1000', removeTrailingNewlines: 'false' },
            autoTerminate: ['original', 'failure'],
            state: 'RUNNING',
          },
          {
            id: 'merge',
            name: 'Merge',
            type: 'MergeContent',
            properties: { mergeStrategy: 'Defragment', maxBins: '10', maxBinAge: '1 min' },
            autoTerminate: ['original', 'failure'],
            state: 'RUNNING',
          },
          sink,
        ],
        connections: [
          { id: 'in', source: { id: 'src' }, destination: { id: 'split' }, relationships: ['success'] },
          { id: 'splits', source: { id: 'split' }, destination: { id: 'merge' }, relationships: ['splits'] },
          { id: 'out', source: { id: 'merge' }, destination: { id: 'sink' }, relationships: ['merged'] },
        ],
      },
    });
    await e.enqueue('in', original, { filename: 'data.csv' });
    await until(() => queued(e, 'out').length === 1, 'the merged FlowFile');
    const merged = queued(e, 'out')[0];
    expect(merged?.attributes.get('filename')).toBe('data.csv');
    expect(merged?.attributes.get('merge.count')).toBe('61');
    expect(content(e, 'out')[0]?.equals(original)).toBe(true);
  });

  it('MergeContent keeps a bin across an engine restart: nothing lost, nothing duplicated', async () => {
    const flow = (state: 'RUNNING' | 'STOPPED'): FlowDocumentInput => ({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'merge restart',
        processors: [
          source,
          {
            id: 'merge',
            name: 'Merge',
            type: 'MergeContent',
            properties: { minEntries: '10', maxEntries: '10', mergeFormat: 'FlowFile Stream, v3' },
            autoTerminate: ['original', 'failure'],
            state,
          },
          sink,
        ],
        connections: [
          { id: 'in', source: { id: 'src' }, destination: { id: 'merge' }, relationships: ['success'] },
          { id: 'out', source: { id: 'merge' }, destination: { id: 'sink' }, relationships: ['merged'] },
        ],
      },
    });
    let e = await open();
    await e.applyFlow(flow('RUNNING'));
    for (let i = 0; i < 6; i++) await e.enqueue('in', `#${i}`);
    await sleep(300); // the bin is open, below its minimum
    expect(queued(e, 'out')).toHaveLength(0);
    await e.shutdown();
    engine = undefined;

    e = await open();
    await e.applyFlow(flow('RUNNING'));
    expect(queued(e, 'in').map((f) => (f.claim === null ? '' : e.content.read(f.claim).toString()))).toEqual([
      '#0',
      '#1',
      '#2',
      '#3',
      '#4',
      '#5',
    ]);
    for (let i = 6; i < 10; i++) await e.enqueue('in', `#${i}`);
    await until(() => queued(e, 'out').length === 1, 'the bin to fill after the restart');
    const packed = content(e, 'out')[0]?.toString('latin1') ?? '';
    expect([...packed.matchAll(/#\d/g)].map((m) => m[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `#${i}`));
    expect(queued(e, 'in')).toHaveLength(0);
  });

  it('MergeContent loses and duplicates nothing across kill -9s of sluice run', { timeout: 180_000 }, async () => {
    const perBin = 50;
    const out = join(root, 'out');
    mkdirSync(out);
    const flow = (generating: boolean): FlowDocumentInput => ({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'merge crash',
        processors: [
          {
            id: 'gen',
            name: 'Generate',
            type: 'GenerateFlowFile',
            properties: { customText: '${uuid}', batchSize: '10' },
            scheduling: { period: '10 ms' },
            state: generating ? 'RUNNING' : 'STOPPED',
          },
          {
            id: 'merge',
            name: 'Merge',
            type: 'MergeContent',
            // Full bins while data flows; the last partial bin leaves by age when the source stops.
            properties: {
              minEntries: String(perBin),
              maxEntries: String(perBin),
              demarcator: '\n',
              delimiterStrategy: 'Text',
              maxBinAge: '1 sec',
            },
            autoTerminate: ['original', 'failure'],
            state: 'RUNNING',
          },
          {
            id: 'put',
            name: 'Put',
            type: 'PutFile',
            // A merged FlowFile written again after a kill (PutFile redoes its batch) is refused and dropped.
            properties: { directory: out, conflictResolution: 'fail' },
            autoTerminate: ['success', 'failure'],
            state: 'RUNNING',
          },
        ],
        connections: [
          { id: 'in', source: { id: 'gen' }, destination: { id: 'merge' }, relationships: ['success'] },
          { id: 'merged', source: { id: 'merge' }, destination: { id: 'put' }, relationships: ['merged'] },
        ],
      },
    });
    const running = join(root, 'flow.json');
    const draining = join(root, 'drain.json');
    writeFileSync(running, JSON.stringify(flow(true)));
    writeFileSync(draining, JSON.stringify(flow(false)));
    const run = (flowPath: string) => startSluiceRun(root, flowPath);
    const files = () => (existsSync(out) ? readdirSync(out).filter((n) => !n.endsWith('.partial')) : []);

    for (let kill = 0; kill < 6; kill++) {
      const { child, output } = run(running);
      await until(() => output().includes('running'), 'sluice run to start', 60_000);
      // A random moment while FlowFiles are generated, binned and merged.
      await sleep(100 + Math.random() * 900);
      child.kill('SIGKILL');
      await exited(child);
    }
    // Drain with the source stopped: wait until nothing new is written for a while, then stop cleanly.
    const { child, output } = run(draining);
    try {
      await until(() => output().includes('running'), 'the drain to start', 60_000);
      let last = -1;
      let stableSince = Date.now();
      await until(
        () => {
          const n = files().length;
          if (n !== last) {
            last = n;
            stableSince = Date.now();
          }
          return Date.now() - stableSince > 3000;
        },
        'the drain to finish',
        60_000,
      );
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
    expect(output()).toContain('stopped cleanly');

    // Every FlowFile GenerateFlowFile committed (CREATE is durable with its commit) is in exactly one merged file.
    const e = await open();
    await e.applyFlow(flow(false));
    for (const id of ['merge', 'put']) await e.stopComponent(id);
    for (const connection of e.connections()) expect(connection.queue.size().count, connection.id).toBe(0);
    await e.provenance.waitForIndex();
    const created = new Set<string>();
    let before: number | undefined;
    for (;;) {
      const page = e.provenance.search({
        eventType: 'CREATE',
        limit: 10_000,
        ...(before === undefined ? {} : { beforeEventId: before }),
      });
      for (const event of page) if (event.componentId === 'gen') created.add(event.flowFileUuid);
      if (page.length < 10_000) break;
      before = page[page.length - 1]?.eventId;
    }
    expect(created.size).toBeGreaterThan(perBin * 4);
    const seen = new Map<string, number>();
    for (const name of files()) {
      for (const line of readFileSync(join(out, name), 'utf8').split('\n')) seen.set(line, (seen.get(line) ?? 0) + 1);
    }
    const missing = [...created].filter((uuid) => !seen.has(uuid));
    const duplicated = [...seen].filter(([, n]) => n > 1);
    expect(missing, `${missing.length} of ${created.size} committed FlowFiles never merged`).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(seen.size).toBe(created.size);
    console.log(
      `merge crash test: 6 kills, ${created.size} FlowFiles committed, each merged exactly once into ${files().length} files`,
    );
  });
});
