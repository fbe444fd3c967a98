import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FlowValidationError } from './index.ts';
import {
  connection,
  Discard,
  depth,
  events,
  flow,
  MODES,
  PassThrough,
  port,
  processor,
  queued,
  type RepositoryMode,
  rejection,
  sleep,
  sourceProcessor,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';

const h = useHarness();

const Upper = testProcessor(
  'UpperCase',
  (session) => {
    const ff = session.get();
    if (ff !== undefined) session.transfer(session.write(ff, session.read(ff).toString('utf8').toUpperCase()), 'success');
  },
  { input: 'required' },
);

const chain = flow({
  inputPorts: [port('src')],
  processors: [processor({ id: 'c', type: 'UpperCase' }), processor({ id: 'sink', type: 'Discard' })],
  connections: [connection('in', 'src', 'c'), connection('cs', 'c', 'sink', ['success'])],
});

describe('replay and content retention (durable)', () => {
  const sealed = { maxAppendableSize: 1, releaseGraceMs: 0, housekeepingIntervalMs: 20 };

  it('replays from the content archive after the FlowFile is gone', async () => {
    const engine = await h.open('durable', [Upper, Discard], { content: sealed });
    await engine.applyFlow(chain);
    await engine.enqueue('in', 'abc');
    await engine.runOnce('c');
    await engine.runOnce('sink');
    await until(() => engine.content.stats().archivedFiles >= 2, 'the released content to be archived');
    const [modified] = await events(engine, { eventType: 'CONTENT_MODIFIED' });
    if (modified === undefined) throw new Error('no event');
    expect(engine.content.read(modified.contentClaim ?? { resourceId: '', offset: 0, length: 0 }).toString()).toBe('ABC');
    const replayed = await engine.replay(modified.eventId);
    expect(queued(engine, 'in').map((f) => [f.uuid, f.text])).toEqual([[replayed.uuid, 'abc']]);
  });

  it('refuses to replay when the content is gone, saying why', async () => {
    const engine = await h.open('durable', [Upper, Discard], { content: { ...sealed, archiveEnabled: false } });
    await engine.applyFlow(chain);
    await engine.enqueue('in', 'abc');
    await engine.runOnce('c');
    await engine.runOnce('sink');
    const [modified] = await events(engine, { eventType: 'CONTENT_MODIFIED' });
    if (modified === undefined || modified.previousContentClaim === null) throw new Error('no event');
    const claim = modified.previousContentClaim;
    await until(() => !engine.content.isAvailable(claim), 'the content to be deleted');
    const error = await rejection(engine.replay(modified.eventId));
    expect(error.name).toBe('ConflictError');
    expect(error.message).toBe(
      `event ${modified.eventId} cannot be replayed: its content is no longer available (archive retention)`,
    );
    expect(depth(engine, 'in')).toBe(0);
  });
});

describe.each(MODES)('engine behaviour (%s repositories)', (mode: RepositoryMode) => {
  it('streams large content through writeStream and readStream', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const Big = testProcessor(
      'WriteBig',
      async (session) => {
        const ff = session.get();
        if (ff === undefined) return;
        async function* chunks() {
          for (let sent = 0; sent < size; sent += 64 * 1024) {
            yield Buffer.alloc(Math.min(64 * 1024, size - sent), sent / (64 * 1024));
          }
        }
        session.transfer(await session.writeStream(ff, Readable.from(chunks())), 'success');
      },
      { input: 'required' },
    );
    const engine = await h.open(mode, [Big]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        outputPorts: [port('out')],
        processors: [processor({ id: 'big', type: 'WriteBig' })],
        connections: [connection('in', 'src', 'big'), connection('to-out', 'big', 'out', ['success'])],
      }),
    );
    await engine.enqueue('in', 'small');
    await engine.runOnce('big');
    const [entry] = engine.listQueue('to-out', 0, 1);
    const claim = entry?.flowFile.claim;
    if (claim === null || claim === undefined) throw new Error('no content');
    expect(claim.length).toBe(size);
    let total = 0;
    let last = -1;
    for await (const chunk of engine.content.readStream(claim)) {
      const buffer = Buffer.from(chunk);
      total += buffer.length;
      last = buffer.at(-1) ?? -1;
    }
    expect(total).toBe(size);
    expect(last).toBe(48);
    const [modified] = await events(engine, { eventType: 'CONTENT_MODIFIED' });
    expect(modified).toMatchObject({ fileSize: size, previousFileSize: 5 });
  });

  it('a FlowFile reported as RECEIVEd gets no CREATE; a plain create gets one', async () => {
    const Receiver = testProcessor(
      'ListenSomething',
      (session) => {
        const received = session.write(session.create(), 'from outside');
        session.provenance.receive(received, 'mqtt://broker/topic', { sourceSystemFlowFileId: 'msg-1' });
        session.transfer(received, 'success');
        session.transfer(session.create(), 'success');
      },
      { input: 'forbidden' },
    );
    const engine = await h.open(mode, [Receiver]);
    await engine.applyFlow(flow({ processors: [processor({ id: 'r', type: 'ListenSomething', autoTerminate: ['success'] })] }));
    await engine.runOnce('r');
    const all = await events(engine);
    expect(all.map((e) => e.eventType).sort()).toEqual(['CREATE', 'DROP', 'DROP', 'RECEIVE']);
    const receive = all.find((e) => e.eventType === 'RECEIVE');
    expect(receive).toMatchObject({ transitUri: 'mqtt://broker/topic', sourceSystemFlowFileId: 'msg-1', fileSize: 12 });
    const create = all.find((e) => e.eventType === 'CREATE');
    expect(create?.flowFileUuid).not.toBe(receive?.flowFileUuid);
  });

  it('getBatch with a filter takes only what it accepts and leaves the rest in order', async () => {
    const Picky = testProcessor(
      'Picky',
      (session) => {
        const batch = session.getBatch(10, (ff) => ({ accept: ff.getAttribute('pick') === 'yes', continue: true }));
        session.transfer(batch, 'success');
      },
      { input: 'required' },
    );
    const engine = await h.open(mode, [Picky]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        outputPorts: [port('out')],
        processors: [processor({ id: 'p', type: 'Picky' })],
        connections: [connection('in', 'src', 'p'), connection('to-out', 'p', 'out', ['success'])],
      }),
    );
    for (let i = 0; i < 6; i++) await engine.enqueue('in', String(i), { pick: i % 2 === 0 ? 'yes' : 'no' });
    await engine.runOnce('p');
    expect(queued(engine, 'to-out').map((f) => f.text)).toEqual(['0', '2', '4']);
    expect(queued(engine, 'in').map((f) => f.text)).toEqual(['1', '3', '5']);
  });

  it('a funnel with two outgoing connections clones (CLONE event), a port with one passes through silently', async () => {
    const engine = await h.open(mode, []);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        outputPorts: [port('x'), port('y')],
        funnels: [{ id: 'f' }],
        connections: [connection('in', 'src', 'f'), connection('fx', 'f', 'x'), connection('fy', 'f', 'y')],
      }),
    );
    const ff = await engine.enqueue('in', 'twice');
    await until(() => depth(engine, 'fx') + depth(engine, 'fy') === 2, 'both copies');
    const [x] = queued(engine, 'fx');
    const [y] = queued(engine, 'fy');
    expect([x?.text, y?.text]).toEqual(['twice', 'twice']);
    expect([x?.uuid, y?.uuid]).toContain(ff.uuid);
    const all = await events(engine);
    expect(all.map((e) => [e.eventType, e.componentId, e.flowFileUuid])).toEqual([['CLONE', 'f', ff.uuid]]);
  });

  it("refuses to move a connection's source while it holds FlowFiles; moving its destination is fine", async () => {
    const engine = await h.open(mode, [PassThrough, Discard]);
    const doc = (source: string, destination: string) =>
      flow({
        inputPorts: [port('src'), port('other')],
        processors: [processor({ id: 'p1', type: 'Discard' }), processor({ id: 'p2', type: 'Discard' })],
        connections: [connection('q', source, destination)],
      });
    await engine.applyFlow(doc('src', 'p1'));
    await engine.enqueue('q', 'waiting');
    const problems = (await rejection(engine.applyFlow(doc('other', 'p1')))) as FlowValidationError;
    expect(problems.problems).toEqual([
      expect.objectContaining({
        componentId: 'q',
        message: 'its source cannot change while it holds 1 FlowFiles; empty the queue first',
      }),
    ]);
    await engine.applyFlow(doc('src', 'p2'));
    await engine.runOnce('p2');
    expect(depth(engine, 'q')).toBe(0);
  });

  it('reports document shape problems from validate() without throwing', async () => {
    const engine = await h.open(mode, []);
    const problems = engine.validate({ sluiceFlow: 1, rootGroup: { id: 'root', name: 'Root', processors: [{ id: 'x' }] } });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.path).toMatch(/^rootGroup\.processors\[0\]\./);
    expect(problems[0]?.componentId).toBe('x');
    expect(engine.validate(flow({}))).toEqual([]);
    await expect(engine.applyFlow({ sluiceFlow: 2 })).rejects.toBeInstanceOf(FlowValidationError);
  });

  it('shuts down cleanly while processors are busy: tasks in flight finish and their work is kept', async () => {
    let finished = 0;
    const Slow = testProcessor(
      'SlowCopy',
      async (session) => {
        const ff = session.get();
        if (ff === undefined) return;
        await sleep(100);
        finished++;
        session.transfer(ff, 'success');
      },
      { input: 'required' },
    );
    const dataDir = h.dir();
    const doc = (state: 'RUNNING' | 'STOPPED') =>
      flow({
        inputPorts: [port('src')],
        outputPorts: [port('out')],
        processors: [
          processor({ id: 'gen', type: 'MakeTestData', scheduling: { period: '10 ms' }, state }),
          processor({ id: 'slow', type: 'SlowCopy', scheduling: { concurrentTasks: 2 }, state }),
        ],
        connections: [connection('q', 'gen', 'slow', ['success']), connection('done', 'slow', 'out', ['success'])],
      });
    const engine = await h.open(mode, [sourceProcessor('MakeTestData', 'x'), Slow], { dataDir });
    await engine.applyFlow(doc('RUNNING'));
    await until(() => engine.component('slow')?.activeTasks === 2, 'two tasks in flight');
    await engine.shutdown();
    expect(engine.component('slow')?.activeTasks).toBe(0);
    expect(finished).toBeGreaterThanOrEqual(2);
    await expect(engine.applyFlow(doc('STOPPED'))).rejects.toThrow(/shut down/);
    if (mode === 'durable') {
      const again = await h.open(mode, [sourceProcessor('MakeTestData', 'x'), Slow], { dataDir });
      await again.applyFlow(doc('STOPPED'));
      expect(depth(again, 'done')).toBe(finished);
    }
  });
});
