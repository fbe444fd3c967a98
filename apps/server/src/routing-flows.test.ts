/**
 * Routing-group processors working together in running flows: ListFile -> FetchFile picking up
 * files as they arrive, and Wait + Notify sharing one map cache.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('routing flows', () => {
  let root: string;
  let engine: Engine | undefined;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-routing-flows-')));
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

  const contents = (e: Engine, connection: string): string[] => {
    const size = e.connection(connection)?.queue.size().count ?? 0;
    return e
      .listQueue(connection, 0, size)
      .map(({ flowFile }) => (flowFile.claim === null ? '' : e.content.read(flowFile.claim).toString('utf8')));
  };

  it('ListFile -> FetchFile fetches every file exactly once as files keep arriving, deleting each after commit', {
    timeout: 60_000,
  }, async () => {
    const input = join(root, 'in');
    mkdirSync(input);
    const e = await open({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'list and fetch',
        processors: [
          {
            id: 'list',
            name: 'List',
            type: 'ListFile',
            properties: { inputDirectory: input },
            scheduling: { period: '50 ms' },
            state: 'RUNNING',
          },
          {
            id: 'fetch',
            name: 'Fetch',
            type: 'FetchFile',
            properties: { completionStrategy: 'delete' },
            autoTerminate: ['not.found', 'permission.denied', 'failure'],
            state: 'RUNNING',
          },
          { id: 'sink', name: 'Sink', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
        ],
        connections: [
          { id: 'listed', source: { id: 'list' }, destination: { id: 'fetch' }, relationships: ['success'] },
          { id: 'fetched', source: { id: 'fetch' }, destination: { id: 'sink' }, relationships: ['success'] },
        ],
      },
    });
    const expected: string[] = [];
    for (let wave = 0; wave < 5; wave++) {
      for (let i = 0; i < 20; i++) {
        const name = `w${wave}-f${String(i).padStart(2, '0')}.txt`;
        writeFileSync(join(input, name), name);
        // Files of a wave share one second, as on a coarse file-system clock.
        const second = new Date(Math.floor(Date.now() / 1000) * 1000 - 2000);
        utimesSync(join(input, name), second, second);
        expected.push(name);
      }
      await sleep(120);
    }
    await until(() => (e.connection('fetched')?.queue.size().count ?? 0) >= expected.length, 30_000, 'every file fetched');
    await sleep(300);
    expect(contents(e, 'fetched').sort()).toEqual(expected.sort());
    await until(() => readdirSync(input).length === 0, 10_000, 'every fetched file deleted');
    expect(existsSync(join(input, expected[0] ?? ''))).toBe(false);
  });

  it('Wait releases FlowFiles as Notify signals them through a shared map cache', { timeout: 60_000 }, async () => {
    const e = await open({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'wait and notify',
        controllerServices: [{ id: 'cache', name: 'Cache', type: 'DistributedMapCache', state: 'ENABLED' }],
        processors: [
          { id: 'gen', name: 'Generate', type: 'GenerateFlowFile', state: 'STOPPED' },
          {
            id: 'wait',
            name: 'Wait',
            type: 'Wait',
            properties: { releaseSignalIdentifier: '${batch}', targetSignalCount: '2', cacheService: 'cache' },
            // A run period longer than the penalty: each run finds the FlowFiles held by the last one
            // eligible again. (With period 0 the scheduler can miss the moment a penalty expires: its
            // #tryRun reads hasInput() and nextEligibleAt() at two instants, and when the expiry falls
            // between them it sets no timer and the node sleeps until other data arrives.)
            scheduling: { period: '100 ms', penaltyDuration: '50 ms' },
            autoTerminate: ['expired', 'failure'],
            state: 'RUNNING',
          },
          {
            id: 'notify',
            name: 'Notify',
            type: 'Notify',
            properties: { releaseSignalIdentifier: '${batch}', cacheService: 'cache', attributeCacheRegex: 'rows' },
            autoTerminate: ['success', 'failure'],
            state: 'STOPPED',
          },
          { id: 'sink', name: 'Sink', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
        ],
        connections: [
          { id: 'to-wait', source: { id: 'gen' }, destination: { id: 'wait' }, relationships: ['success'] },
          { id: 'to-notify', source: { id: 'gen' }, destination: { id: 'notify' }, relationships: ['success'] },
          { id: 'released', source: { id: 'wait' }, destination: { id: 'sink' }, relationships: ['success'] },
        ],
      },
    });
    for (const name of ['first', 'second', 'third']) await e.enqueue('to-wait', name, { batch: 'b1' });
    await e.enqueue('to-wait', 'other', { batch: 'b2' });
    // Nothing is signalled yet: they wait, going round their queue.
    await sleep(300);
    expect(e.connection('released')?.queue.size().count).toBe(0);

    await e.enqueue('to-notify', '', { batch: 'b1', rows: '10' });
    await e.startComponent('notify');
    await sleep(300);
    // One signal of the two the target needs: still nothing.
    expect(e.connection('released')?.queue.size().count).toBe(0);

    await e.enqueue('to-notify', '', { batch: 'b1' });
    await until(() => (e.connection('released')?.queue.size().count ?? 0) === 1, 10_000, 'a release');
    for (let i = 0; i < 4; i++) await e.enqueue('to-notify', '', { batch: 'b1' });
    await until(() => (e.connection('released')?.queue.size().count ?? 0) === 3, 10_000, 'three releases');
    const released = e.listQueue('released', 0, 3).map(({ flowFile }) => flowFile);
    expect(released.every((f) => f.attributes.get('batch') === 'b1')).toBe(true);
    // The signal's attributes go to the FlowFile its release was for; a used-up signal is removed.
    expect(released[0]?.attributes.get('rows')).toBe('10');
    // The FlowFile of the other batch is still waiting.
    expect(e.connection('to-wait')?.queue.size().count).toBe(1);
  });
});
