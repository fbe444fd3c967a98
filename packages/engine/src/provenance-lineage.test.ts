import { describe, expect, it } from 'vitest';
import type { ContentClaim, Engine, ProvenanceEventRecord } from './index.ts';
import {
  connection,
  Discard,
  depth,
  events,
  flow,
  MODES,
  port,
  processor,
  queued,
  type RepositoryMode,
  rejection,
  sourceProcessor,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';

const Tag = testProcessor(
  'TagIt',
  (session) => {
    const ff = session.get();
    if (ff !== undefined) session.transfer(session.putAttribute(ff, 'tagged', 'by B'), 'success');
  },
  { input: 'required' },
);

const Upper = testProcessor(
  'UpperCase',
  (session) => {
    const ff = session.get();
    if (ff !== undefined) session.transfer(session.write(ff, session.read(ff).toString('utf8').toUpperCase()), 'success');
  },
  { input: 'required' },
);

const Split = testProcessor(
  'SplitText',
  (session) => {
    const ff = session.get();
    if (ff === undefined) return;
    for (const part of session.read(ff).toString('utf8').split(',')) {
      session.transfer(session.write(session.create(ff), part), 'split');
    }
    session.transfer(ff, 'original');
  },
  { input: 'required', relationships: { split: 'parts', original: 'the input' } },
);

describe.each(MODES)('provenance through the engine (%s repositories)', (mode: RepositoryMode) => {
  const h = useHarness();

  const chain = (extra: { withC?: boolean } = {}) =>
    flow({
      processors: [
        processor({ id: 'a', name: 'A', type: 'MakeTestData' }),
        processor({ id: 'b', name: 'B', type: 'TagIt' }),
        ...(extra.withC === false ? [] : [processor({ id: 'c', name: 'C', type: 'UpperCase' })]),
        processor({ id: 'sink', name: 'Sink', type: 'Discard' }),
      ],
      connections: [
        connection('ab', 'a', 'b', ['success']),
        ...(extra.withC === false
          ? [connection('bs', 'b', 'sink', ['success'])]
          : [connection('bc', 'b', 'c', ['success']), connection('cs', 'c', 'sink', ['success'])]),
      ],
    });

  async function runChain(engine: Engine, through: readonly string[] = ['a', 'b', 'c', 'sink']): Promise<void> {
    for (const id of through) await engine.runOnce(id);
  }

  function text(engine: Engine, claim: ContentClaim | null): string {
    return claim === null ? '' : engine.content.read(claim).toString('utf8');
  }

  it('records the expected event chain for a FlowFile through A -> B -> C -> sink', async () => {
    const engine = await h.open(mode, [sourceProcessor('MakeTestData', 'abc'), Tag, Upper, Discard]);
    await engine.applyFlow(chain());
    await runChain(engine);
    const all = await events(engine);
    const uuids = new Set(all.map((e) => e.flowFileUuid));
    expect(uuids.size).toBe(1);
    const summary = all.map((e) => [e.eventType, e.componentId, e.sourceQueueId, e.componentName, e.componentType]);
    expect(summary).toEqual([
      ['CREATE', 'a', null, 'A', 'MakeTestData'],
      ['ATTRIBUTES_MODIFIED', 'b', 'ab', 'B', 'TagIt'],
      ['CONTENT_MODIFIED', 'c', 'bc', 'C', 'UpperCase'],
      ['DROP', 'sink', 'cs', 'Sink', 'Discard'],
    ]);
    const [create, modified, contentModified, drop] = all as [
      ProvenanceEventRecord,
      ProvenanceEventRecord,
      ProvenanceEventRecord,
      ProvenanceEventRecord,
    ];
    expect(modified.attributes.get('tagged')).toBe('by B');
    expect(modified.previousAttributes.has('tagged')).toBe(false);
    expect(contentModified).toMatchObject({ fileSize: 3, previousFileSize: 3 });
    expect(drop.details).toBe('Removed by Sink');
    expect(create.lineageStartDate).toBe(drop.lineageStartDate);
    // Event ids increase along the way; events of a FlowFile are found by its uuid and by component.
    expect(all.map((e) => e.eventId)).toEqual([...all.map((e) => e.eventId)].sort((x, y) => x - y));
    expect((await events(engine, { componentId: 'c' })).map((e) => e.eventType)).toEqual(['CONTENT_MODIFIED']);
    expect(engine.provenance.getEvent(contentModified.eventId)?.eventType).toBe('CONTENT_MODIFIED');
  });

  it("keeps an event's input and output content readable through the content repository", async () => {
    const engine = await h.open(mode, [sourceProcessor('MakeTestData', 'abc'), Tag, Upper, Discard]);
    await engine.applyFlow(chain());
    await runChain(engine);
    const [modified] = await events(engine, { eventType: 'CONTENT_MODIFIED' });
    expect(modified).toBeDefined();
    if (modified === undefined) return;
    expect(text(engine, modified.previousContentClaim)).toBe('abc');
    expect(text(engine, modified.contentClaim)).toBe('ABC');
    // The FlowFile is gone (DROP): its content stays readable for provenance while retained.
    if (modified.contentClaim !== null) expect(engine.content.isAvailable(modified.contentClaim)).toBe(true);
  });

  it("finds a forked child's parent and siblings through lineage", async () => {
    const engine = await h.open(mode, [Split]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        outputPorts: [port('out')],
        processors: [processor({ id: 'split', type: 'SplitText', autoTerminate: ['original'] })],
        connections: [connection('in', 'src', 'split'), connection('parts', 'split', 'out', ['split'])],
      }),
    );
    const parent = await engine.enqueue('in', 'x,y,z');
    await engine.runOnce('split');
    const children = queued(engine, 'parts');
    expect(children.map((c) => c.text)).toEqual(['x', 'y', 'z']);
    const [first, ...siblings] = children;
    if (first === undefined) throw new Error('no child');
    await engine.provenance.waitForIndex();
    const lineage = engine.provenance.lineage(first.uuid);
    const flowFileNodes = lineage.nodes.flatMap((n) => (n.kind === 'flowfile' ? [n.uuid] : []));
    expect(flowFileNodes).toEqual(expect.arrayContaining([parent.uuid, first.uuid, ...siblings.map((s) => s.uuid)]));
    const fork = lineage.nodes.find((n) => n.kind === 'event' && n.eventType === 'FORK');
    expect(fork).toMatchObject({ flowFileUuid: parent.uuid });
    expect(lineage.truncated).toBe(false);
    // Searching a child's uuid also finds the FORK that created it.
    expect((await events(engine, { flowFileUuid: first.uuid })).map((e) => e.eventType)).toContain('FORK');
  });

  it('replays an event: a new FlowFile with the input content back in the source queue, and a REPLAY event', async () => {
    const engine = await h.open(mode, [sourceProcessor('MakeTestData', 'abc'), Tag, Upper, Discard]);
    await engine.applyFlow(chain());
    await runChain(engine);
    const [modified] = await events(engine, { eventType: 'CONTENT_MODIFIED' });
    if (modified === undefined) throw new Error('no CONTENT_MODIFIED event');
    const replayed = await engine.replay(modified.eventId, 'alice');
    expect(replayed.uuid).not.toBe(modified.flowFileUuid);
    const [entry] = queued(engine, 'bc');
    expect(entry?.uuid).toBe(replayed.uuid);
    expect(entry?.text).toBe('abc');
    expect(entry?.attributes.get('tagged')).toBe('by B');
    expect(entry?.attributes.get('uuid')).toBe(replayed.uuid);
    const [replay] = await events(engine, { eventType: 'REPLAY' });
    expect(replay).toMatchObject({
      flowFileUuid: modified.flowFileUuid,
      parentUuids: [modified.flowFileUuid],
      childUuids: [replayed.uuid],
      componentId: 'c',
      sourceQueueId: 'bc',
    });
    expect(replay?.details).toContain('alice');
    // The replayed FlowFile goes on like any other.
    await engine.runOnce('c');
    expect(queued(engine, 'cs')[0]?.text).toBe('ABC');
    const lineage = engine.provenance.lineage(replayed.uuid);
    expect(lineage.nodes.some((n) => n.kind === 'flowfile' && n.uuid === modified.flowFileUuid)).toBe(true);
  });

  it('refuses to replay when the source connection is gone, or the event has no source queue', async () => {
    const engine = await h.open(mode, [sourceProcessor('MakeTestData', 'abc'), Tag, Upper, Discard]);
    await engine.applyFlow(chain());
    await runChain(engine);
    const [modified] = await events(engine, { eventType: 'CONTENT_MODIFIED' });
    const [create] = await events(engine, { eventType: 'CREATE' });
    if (modified === undefined || create === undefined) throw new Error('missing events');
    await engine.applyFlow(chain({ withC: false }));
    const gone = await rejection(engine.replay(modified.eventId));
    expect(gone.name).toBe('ConflictError');
    expect(gone.message).toBe(
      `event ${modified.eventId} cannot be replayed: the connection it came from (bc) is no longer in the flow`,
    );
    const noQueue = await rejection(engine.replay(create.eventId));
    expect(noQueue.message).toMatch(/cannot be replayed: its FlowFile did not come from a queue/);
    expect((await rejection(engine.replay(999_999))).name).toBe('NotFoundError');
  });

  it('expires FlowFiles older than the connection allows (EXPIRE events) and empties the queue', async () => {
    const engine = await h.open(mode, [Discard]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        processors: [processor({ id: 'sink', type: 'Discard', state: 'STOPPED' })],
        connections: [connection('short', 'src', 'sink', [], { flowFileExpiration: '100 ms', name: 'Short-lived' })],
      }),
    );
    const flowFiles = await Promise.all([1, 2, 3].map((i) => engine.enqueue('short', `item ${i}`)));
    expect(depth(engine, 'short')).toBe(3);
    await until(() => depth(engine, 'short') === 0, 'the FlowFiles to expire', 5000);
    const list = await events(engine, { eventType: 'EXPIRE' });
    expect(list.map((e) => e.flowFileUuid).sort()).toEqual(flowFiles.map((f) => f.uuid).sort());
    expect(list[0]).toMatchObject({ componentId: 'short', componentName: 'Short-lived', sourceQueueId: 'short' });
    expect(list[0]?.details).toMatch(/expiration of 100 ms/);
  });

  it('empties a queue with DROP events, swapped FlowFiles included', async () => {
    const engine = await h.open(mode, [Discard], { swapThreshold: 10, swapBatchSize: 5 });
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        processors: [processor({ id: 'sink', type: 'Discard', state: 'STOPPED' })],
        connections: [connection('q', 'src', 'sink')],
      }),
    );
    const enqueued: string[] = [];
    for (let i = 0; i < 42; i++) enqueued.push((await engine.enqueue('q', `content ${i}`, { i: String(i) })).uuid);
    const size = engine.connection('q')?.queue.size();
    expect(size?.count).toBe(42);
    expect(size?.swappedCount ?? 0).toBeGreaterThan(0);
    expect(engine.listQueue('q', 0, 100)).toHaveLength(42);
    expect(await engine.emptyQueue('q', 'bob')).toBe(42);
    expect(depth(engine, 'q')).toBe(0);
    expect(engine.listQueue('q', 0, 100)).toEqual([]);
    const drops = await events(engine, { eventType: 'DROP' });
    expect(drops.map((e) => e.flowFileUuid).sort()).toEqual([...enqueued].sort());
    expect(drops.every((e) => e.details === 'FlowFile queue emptied by bob' && e.sourceQueueId === 'q')).toBe(true);
    // Nothing of them is left claimed.
    const resources = new Set(drops.flatMap((e) => (e.contentClaim === null ? [] : [e.contentClaim.resourceId])));
    await until(() => [...resources].every((r) => engine.content.claimantCount(r) === 0), 'content to be released');
  });

  it('records a DOWNLOAD', async () => {
    const engine = await h.open(mode, [Discard]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        processors: [processor({ id: 'sink', type: 'Discard' })],
        connections: [connection('q', 'src', 'sink')],
      }),
    );
    const ff = await engine.enqueue('q', 'look at me');
    engine.recordDownload(engine.queuedFlowFile('q', ff.uuid), 'carol', 'q');
    const [download] = await events(engine, { eventType: 'DOWNLOAD' });
    expect(download).toMatchObject({ flowFileUuid: ff.uuid, details: 'content downloaded by carol', sourceQueueId: 'q' });
    expect((await rejection(Promise.resolve().then(() => engine.queuedFlowFile('q', 'nope')))).name).toBe('NotFoundError');
  });
});
