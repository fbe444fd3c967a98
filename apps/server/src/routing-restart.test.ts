/**
 * Routing-group processors that keep their place in the component state (ListFile, TailFile, and
 * the DistributedMapCache's persistence file), across a real engine restart on the same data dir.
 */
import { appendFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';

describe('routing processors across an engine restart', () => {
  let root: string;
  let engine: Engine | undefined;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-routing-restart-')));
  });
  afterEach(async () => {
    await engine?.shutdown();
    engine = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  const open = async (document: FlowDocumentInput): Promise<Engine> => {
    engine = await Engine.open({
      dataDir: join(root, 'data'),
      registry: standardRegistry(),
      fileRoots: [root],
      logLevel: 'ERROR',
    });
    await engine.applyFlow(document);
    return engine;
  };

  const restart = async (document: FlowDocumentInput): Promise<Engine> => {
    await engine?.shutdown();
    engine = undefined;
    return open(document);
  };

  /** A source feeding a queue that a stopped LogAttribute never drains: what was emitted stays countable. */
  const flow = (source: { type: string; properties: Record<string, string> }): FlowDocumentInput => ({
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'restart',
      processors: [
        { id: 'source', name: 'Source', type: source.type, properties: source.properties, state: 'STOPPED' },
        { id: 'sink', name: 'Sink', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
      ],
      connections: [{ id: 'out', source: { id: 'source' }, destination: { id: 'sink' }, relationships: ['success'] }],
    },
  });

  const queued = (e: Engine) => {
    const size = e.connection('out')?.queue.size().count ?? 0;
    return e.listQueue('out', 0, size).map((entry) => entry.flowFile);
  };

  it('ListFile neither lists a file again nor misses one written in the same second after a restart', async () => {
    const input = join(root, 'in');
    mkdirSync(input);
    const second = new Date(Math.floor(Date.now() / 1000 - 30) * 1000);
    const put = (name: string, when: Date = second) => {
      writeFileSync(join(input, name), name);
      utimesSync(join(input, name), when, when);
    };
    put('a.txt');
    put('b.txt');
    const document = flow({ type: 'ListFile', properties: { inputDirectory: input } });

    let e = await open(document);
    await e.runOnce('source');
    expect(queued(e).map((f) => f.attributes.get('filename'))).toEqual(['a.txt', 'b.txt']);

    e = await restart(document);
    // The listed FlowFiles survived the restart in their queue...
    expect(queued(e)).toHaveLength(2);
    // ...and the state says they were listed: a new run lists only what is new, including a file
    // that shares the latest modification time (a coarse file-system clock).
    put('c.txt');
    put('d.txt', new Date(second.getTime() + 5000));
    await e.runOnce('source');
    expect(queued(e).map((f) => f.attributes.get('filename'))).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt']);

    e = await restart(document);
    await e.runOnce('source');
    expect(queued(e)).toHaveLength(4);
  });

  it('TailFile continues from its committed position after a restart', async () => {
    const log = join(root, 'app.log');
    writeFileSync(log, 'one\n');
    const document = flow({ type: 'TailFile', properties: { fileToTail: log } });
    let e = await open(document);
    await e.runOnce('source');
    appendFileSync(log, 'two\n');
    e = await restart(document);
    appendFileSync(log, 'three\n');
    await e.runOnce('source');
    const contents = queued(e).map((f) => (f.claim === null ? '' : e.content.read(f.claim).toString('utf8')));
    expect(contents).toEqual(['one\n', 'two\nthree\n']);
  });

  it('DetectDuplicate remembers identifiers across a restart through a persistent map cache', async () => {
    const document: FlowDocumentInput = {
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'dedupe',
        controllerServices: [
          {
            id: 'cache',
            name: 'Cache',
            type: 'DistributedMapCache',
            properties: { persistenceFile: join(root, 'cache', 'dedupe.journal') },
            state: 'ENABLED',
          },
        ],
        processors: [
          { id: 'gen', name: 'Generate', type: 'GenerateFlowFile', state: 'STOPPED' },
          {
            id: 'dedupe',
            name: 'Dedupe',
            type: 'DetectDuplicate',
            properties: { cacheService: 'cache', cacheEntryIdentifier: '${id}' },
            autoTerminate: ['failure'],
            state: 'STOPPED',
          },
          { id: 'fresh', name: 'Fresh', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
          { id: 'dupes', name: 'Dupes', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
        ],
        connections: [
          { id: 'in', source: { id: 'gen' }, destination: { id: 'dedupe' }, relationships: ['success'] },
          { id: 'non-duplicate', source: { id: 'dedupe' }, destination: { id: 'fresh' }, relationships: ['non-duplicate'] },
          { id: 'duplicate', source: { id: 'dedupe' }, destination: { id: 'dupes' }, relationships: ['duplicate'] },
        ],
      },
    };
    let e = await open(document);
    await e.enqueue('in', 'x', { id: 'order-1' });
    await e.runOnce('dedupe');
    e = await restart(document);
    await e.enqueue('in', 'x', { id: 'order-1' });
    await e.enqueue('in', 'y', { id: 'order-2' });
    await e.runOnce('dedupe');
    expect(e.connection('duplicate')?.queue.size().count).toBe(1);
    expect(e.connection('non-duplicate')?.queue.size().count).toBe(2);
  });
});
