import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from './index.ts';
import {
  connection,
  Discard,
  depth,
  events,
  flow,
  port,
  processor,
  queued,
  rejection,
  sourceProcessor,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';

const h = useHarness();

const Counter = testProcessor(
  'CountInState',
  (session) => {
    const ff = session.get();
    if (ff === undefined) return;
    const n = Number(session.state.get('count') ?? '0') + 1;
    session.state.set('count', String(n));
    session.state.set(`seen.${ff.getAttribute('name') ?? ''}`, String(n));
    session.transfer(ff, 'success');
  },
  { input: 'required' },
);

const twoQueues = (options: { withB?: boolean } = {}) =>
  flow({
    inputPorts: [port('src')],
    processors: [
      processor({ id: 'sink-a', type: 'Discard', state: 'STOPPED' }),
      processor({ id: 'sink-b', type: 'Discard', state: 'STOPPED' }),
    ],
    connections: [
      connection('qa', 'src', 'sink-a', [], { name: 'Queue A' }),
      ...(options.withB === false ? [] : [connection('qb', 'src', 'sink-b', [], { name: 'Queue B' })]),
    ],
  });

describe('restart of a durable engine', () => {
  const options = { swapThreshold: 10, swapBatchSize: 5 };

  async function fill(engine: Engine, queueId: string, n: number): Promise<Array<{ uuid: string; text: string; i: string }>> {
    const out: Array<{ uuid: string; text: string; i: string }> = [];
    for (let i = 0; i < n; i++) {
      const text = `${queueId} content ${i} ${'x'.repeat(i * 7)}`;
      const ff = await engine.enqueue(queueId, text, { i: String(i) });
      out.push({ uuid: ff.uuid, text, i: String(i) });
    }
    return out;
  }

  const contents = (engine: Engine, queueId: string) =>
    queued(engine, queueId).map((f) => ({ uuid: f.uuid, text: f.text, i: f.attributes.get('i') ?? '' }));

  it('restores every queued FlowFile, swapped ones included, with content and order intact', async () => {
    const dataDir = h.dir();
    const first = await h.open('durable', [Discard], { dataDir, ...options });
    await first.applyFlow(twoQueues());
    const a = await fill(first, 'qa', 37);
    const b = await fill(first, 'qb', 4);
    expect(first.connection('qa')?.queue.size().swappedCount ?? 0).toBeGreaterThan(0);
    await first.shutdown();

    const second = await h.open('durable', [Discard], { dataDir, ...options });
    expect(second.recoveryReport).toBeDefined();
    const report = await second.applyFlow(twoQueues());
    expect(report.orphansDropped).toBe(0);
    expect(depth(second, 'qa')).toBe(37);
    expect(contents(second, 'qa')).toEqual(a);
    expect(contents(second, 'qb')).toEqual(b);
    // They are alive again: a sink takes them all.
    await second.startComponent('sink-a');
    await until(() => depth(second, 'qa') === 0, 'the restored queue to drain');
    expect((await events(second, { eventType: 'DROP', componentId: 'sink-a' })).length).toBe(37);
  });

  it('drops the FlowFiles of a connection no longer in the flow, with DROP events and a WARN bulletin', async () => {
    const dataDir = h.dir();
    const first = await h.open('durable', [Discard], { dataDir, ...options });
    await first.applyFlow(twoQueues());
    const a = await fill(first, 'qa', 3);
    const b = await fill(first, 'qb', 12);
    await first.shutdown();

    const second = await h.open('durable', [Discard], { dataDir, ...options });
    const report = await second.applyFlow(twoQueues({ withB: false }));
    expect(report.orphansDropped).toBe(12);
    expect(contents(second, 'qa')).toEqual(a);
    expect(second.connection('qb')).toBeUndefined();
    const drops = await events(second, { eventType: 'DROP' });
    expect(drops.map((e) => e.flowFileUuid).sort()).toEqual(b.map((f) => f.uuid).sort());
    expect(drops[0]?.details).toBe('connection qb no longer exists in the flow');
    const warnings = second.bulletins.list().filter((w) => w.level === 'WARN');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toBe('dropped 12 recovered FlowFiles: their connection qb is no longer in the flow');

    // The drop is durable: a third start finds only queue A.
    await second.shutdown();
    const third = await h.open('durable', [Discard], { dataDir, ...options });
    expect(await third.applyFlow(twoQueues())).toMatchObject({ orphansDropped: 0 });
    expect(contents(third, 'qa')).toEqual(a);
    expect(depth(third, 'qb')).toBe(0);
  });

  it('recovers exactly what was committed while a source was running', async () => {
    const dataDir = h.dir();
    const doc = (state: 'RUNNING' | 'STOPPED') =>
      flow({
        processors: [
          processor({ id: 'gen', type: 'MakeTestData', scheduling: { period: '2 ms' }, state }),
          processor({ id: 'sink', type: 'Discard', state: 'STOPPED' }),
        ],
        connections: [connection('q', 'gen', 'sink', ['success'], { backPressureObjectThreshold: 50_000 })],
      });
    const first = await h.open('durable', [sourceProcessor('MakeTestData', 'payload'), Discard], { dataDir, ...options });
    await first.applyFlow(doc('RUNNING'));
    await until(() => depth(first, 'q') >= 200, 'some data');
    await first.shutdown();

    const second = await h.open('durable', [sourceProcessor('MakeTestData', 'payload'), Discard], { dataDir, ...options });
    await second.applyFlow(doc('STOPPED'));
    const created = (await events(second, { eventType: 'CREATE' })).length;
    expect(created).toBeGreaterThanOrEqual(200);
    expect(depth(second, 'q')).toBe(created);
    expect(new Set(queued(second, 'q').map((f) => f.text))).toEqual(new Set(['payload']));
  });

  it('keeps component state across a restart', async () => {
    const dataDir = h.dir();
    const doc = flow({
      inputPorts: [port('src')],
      processors: [processor({ id: 'count', type: 'CountInState', autoTerminate: ['success'] })],
      connections: [connection('in', 'src', 'count')],
    });
    const first = await h.open('durable', [Counter], { dataDir });
    await first.applyFlow(doc);
    for (const name of ['a', 'b']) {
      await first.enqueue('in', name, { name });
      await first.runOnce('count');
    }
    expect(first.state.get('count', 'count')).toBe('2');
    await first.shutdown();

    const second = await h.open('durable', [Counter], { dataDir });
    await second.applyFlow(doc);
    expect(second.state.get('count', 'count')).toBe('2');
    await second.enqueue('in', 'c', { name: 'c' });
    await second.runOnce('count');
    expect(second.state.scan('count')).toEqual([
      ['count', '3'],
      ['seen.a', '1'],
      ['seen.b', '2'],
      ['seen.c', '3'],
    ]);
  });

  it('a failed open (corrupt repository) releases the directory, so the same process can try again', async () => {
    const dataDir = h.dir();
    mkdirSync(join(dataDir, 'flowfile-repository'), { recursive: true });
    writeFileSync(join(dataDir, 'flowfile-repository', 'snapshot'), 'not a snapshot');
    const first = await rejection(h.open('durable', [Discard], { dataDir }));
    expect(first.message).not.toMatch(/in use/);
    const second = await rejection(h.open('durable', [Discard], { dataDir }));
    expect(second.message).toBe(first.message);
  });

  it('takes over a lock left by a process that is gone (kill -9)', async () => {
    const dataDir = h.dir();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    expect(gone).toBeGreaterThan(0);
    writeFileSync(join(dataDir, 'sluice.lock'), String(gone));
    const engine = await h.open('durable', [Discard], { dataDir });
    await engine.applyFlow(twoQueues());
    expect(readFileSync(join(dataDir, 'sluice.lock'), 'utf8')).toBe(String(process.pid));
  });

  it('refuses a second engine on a data directory that is in use', async () => {
    const dataDir = h.dir();
    const first = await h.open('durable', [Discard], { dataDir });
    await first.applyFlow(twoQueues());
    let error: unknown;
    try {
      await h.open('durable', [Discard], { dataDir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/data directory .* is in use/);
    // The first engine is unharmed and the directory can be opened once it shuts down.
    await first.enqueue('qa', 'still fine');
    await first.shutdown();
    const again = await h.open('durable', [Discard], { dataDir });
    await again.applyFlow(twoQueues());
    expect(queued(again, 'qa').map((f) => f.text)).toEqual(['still fine']);
  });
});
