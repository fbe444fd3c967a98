import { describe, expect, it } from 'vitest';
import type { Bulletin } from './index.ts';
import {
  componentStatus,
  connection,
  connectionStatus,
  depth,
  flow,
  MODES,
  port,
  processor,
  type RepositoryMode,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';

const h = useHarness();

/** Reads each FlowFile, appends "!" and counts what it saw. */
const Exclaim = testProcessor(
  'Exclaim',
  (session) => {
    const ff = session.get();
    if (ff === undefined) return;
    const text = session.read(ff).toString('utf8');
    session.adjustCounter('seen', 1);
    session.adjustCounter('characters', text.length);
    session.transfer(session.write(ff, `${text}!`), 'success');
  },
  { input: 'required' },
);

describe.each(MODES)('status (%s repositories)', (mode: RepositoryMode) => {
  it('counts in/out/bytes/tasks per component and queue fill and full flags per connection', async () => {
    const engine = await h.open(mode, [Exclaim]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        outputPorts: [port('out')],
        processors: [processor({ id: 'p', name: 'Shout', type: 'Exclaim' })],
        connections: [
          connection('in', 'src', 'p', [], { name: 'Incoming' }),
          connection('to-out', 'p', 'out', ['success'], {
            backPressureObjectThreshold: 4,
            backPressureDataSizeThreshold: '12 B',
          }),
        ],
      }),
    );
    for (const text of ['abc', 'de', 'f']) await engine.enqueue('in', text);
    expect(connectionStatus(engine, 'in')).toMatchObject({ name: 'Incoming', queued: { count: 3, bytes: 6 }, full: false });
    for (let i = 0; i < 4; i++) await engine.runOnce('p'); // the last run finds nothing

    const p = componentStatus(engine, 'p');
    expect(p).toMatchObject({
      id: 'p',
      name: 'Shout',
      type: 'Exclaim',
      kind: 'processor',
      groupId: 'root',
      runState: 'STOPPED',
      validationErrors: [],
      activeTasks: 0,
      input: { count: 3, bytes: 6 },
      output: { count: 3, bytes: 9 },
      readBytes: 6,
      writtenBytes: 9,
      tasks: 4,
      counters: { seen: 3, characters: 6 },
    });
    expect(p.taskTimeMs).toBeGreaterThanOrEqual(0);
    expect(connectionStatus(engine, 'in')).toMatchObject({ queued: { count: 0, bytes: 0 }, output: { count: 3, bytes: 6 } });
    const out = connectionStatus(engine, 'to-out');
    expect(out).toMatchObject({
      sourceId: 'p',
      destinationId: 'out',
      queued: { count: 3, bytes: 9 },
      thresholds: { count: 4, bytes: 12 },
      input: { count: 3, bytes: 9 },
      full: false,
      swappedCount: 0,
      inFlightCount: 0,
      penalizedCount: 0,
    });
    expect(out.fill.count).toBeCloseTo(0.75);
    expect(out.fill.bytes).toBeCloseTo(0.75);

    // One more FlowFile reaches both thresholds: the connection is full.
    await engine.enqueue('in', 'ghi');
    await engine.runOnce('p');
    expect(connectionStatus(engine, 'to-out')).toMatchObject({
      queued: { count: 4, bytes: 13 },
      full: true,
      fill: { count: 1, bytes: 1 },
    });
    expect(componentStatus(engine, 'src')).toMatchObject({ kind: 'input-port', runState: 'STOPPED' });
  });

  it('shows run state and validation problems', async () => {
    const engine = await h.open(mode, [Exclaim]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src')],
        processors: [processor({ id: 'p', type: 'Exclaim' })],
        connections: [connection('in', 'src', 'p')],
      }),
    );
    expect(componentStatus(engine, 'p')).toMatchObject({
      runState: 'STOPPED',
      validationErrors: ['relationship "success" is not connected and not auto-terminated'],
    });
  });
});

describe('bulletins', () => {
  const Chatty = testProcessor(
    'Chatty',
    (session, context) => {
      const ff = session.get();
      if (ff === undefined) return;
      const n = ff.getAttribute('n') ?? '?';
      context.logger.debug(`debug ${n}`);
      context.logger.info(`info ${n}`);
      context.logger.warn(`warning ${n}`);
      if (n === '6') context.logger.error(`error ${n}`, new Error('the cause'));
      session.remove(ff);
    },
    { input: 'required', relationships: {} },
  );

  it('keeps WARN and above per component, the last five, and tells subscribers', async () => {
    const engine = await h.open('volatile', [Chatty]);
    await engine.applyFlow(
      flow({
        inputPorts: [port('src'), port('src2')],
        processGroups: [
          {
            id: 'g',
            name: 'Group',
            inputPorts: [port('g-in', 'RUNNING')],
            processors: [processor({ id: 'quiet', name: 'Quiet', type: 'Chatty', bulletinLevel: 'ERROR' })],
            connections: [connection('g-c', 'g-in', 'quiet')],
          },
        ],
        processors: [processor({ id: 'loud', name: 'Loud', type: 'Chatty' })],
        connections: [connection('in', 'src', 'loud'), connection('in2', 'src2', 'g-in')],
      }),
    );
    const seen: Bulletin[] = [];
    const unsubscribe = engine.bulletins.subscribe((b) => seen.push(b));
    for (let n = 1; n <= 6; n++) await engine.enqueue('in', '', { n: String(n) });
    for (let n = 1; n <= 6; n++) await engine.runOnce('loud');
    const loud = engine.bulletins.list({ componentId: 'loud' });
    expect(loud.map((b) => `${b.level} ${b.message}`)).toEqual([
      'WARN warning 3',
      'WARN warning 4',
      'WARN warning 5',
      'WARN warning 6',
      'ERROR error 6: the cause',
    ]);
    expect(loud[0]).toMatchObject({ componentId: 'loud', componentName: 'Loud', componentType: 'Chatty', groupId: 'root' });
    expect(loud.map((b) => b.id)).toEqual([...loud.map((b) => b.id)].sort((a, b) => a - b));
    expect(seen).toHaveLength(7);
    unsubscribe();

    // A component's bulletin level decides what becomes a bulletin.
    for (let n = 5; n <= 6; n++) await engine.enqueue('in2', '', { n: String(n) });
    await until(() => depth(engine, 'g-c') === 2, 'the group input port to pass the FlowFiles on');
    for (let n = 0; n < 2; n++) await engine.runOnce('quiet');
    const quiet = engine.bulletins.list({ componentId: 'quiet' });
    expect(quiet.map((b) => b.message)).toEqual(['error 6: the cause']);
    expect(quiet[0]?.groupId).toBe('g');
    expect(seen).toHaveLength(7);
    // Everything is still logged.
    expect(h.logs.filter((l) => l.componentId === 'loud' && l.level === 'INFO')).toHaveLength(6);
    expect(h.logs.some((l) => l.componentId === 'loud' && l.level === 'DEBUG')).toBe(false);
    // All bulletins, oldest first, across components.
    const all = engine.bulletins.list();
    expect(all.map((b) => b.componentId)).toEqual([...Array(5).fill('loud'), 'quiet']);
  });
});
