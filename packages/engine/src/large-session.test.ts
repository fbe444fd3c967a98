import { describe, expect, it } from 'vitest';
import type { Engine } from './index.ts';
import {
  connection,
  depth,
  events,
  flow,
  port,
  processor,
  queued,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';
import type { ProvenanceEventRecord, ProvenanceQuery } from './provenance/index.ts';
import { SLICED_COMMIT_RECORDS } from './session/process-session.ts';

const h = useHarness();

const FLOWFILES = 3 * SLICED_COMMIT_RECORDS;

/** Every indexed event matching the query, oldest first (searches return at most 10,000 at a time). */
async function allEvents(engine: Engine, query: ProvenanceQuery): Promise<ProvenanceEventRecord[]> {
  await engine.provenance.waitForIndex();
  const out: ProvenanceEventRecord[] = [];
  let before: number | undefined;
  for (;;) {
    const page = engine.provenance.search({
      ...query,
      limit: 10_000,
      ...(before === undefined ? {} : { beforeEventId: before }),
    });
    out.push(...page);
    const last = page.at(-1);
    if (page.length < 10_000 || last === undefined) break;
    before = last.eventId;
  }
  return out.reverse();
}

/** Makes FLOWFILES FlowFiles in one session (a SplitText of a large file does the same), then one more. */
function burst(state: { triggered: boolean; late?: boolean }) {
  return testProcessor(
    'Burst',
    (session) => {
      if (state.triggered) {
        if (state.late === false) {
          state.late = true;
          session.transfer(session.putAttribute(session.write(session.create(), 'late'), 'i', 'late'), 'success');
        }
        return;
      }
      state.triggered = true;
      for (let i = 0; i < FLOWFILES; i++) {
        const ff = session.write(session.create(), `line ${i}`);
        session.transfer(session.putAttribute(ff, 'i', String(i)), 'success');
      }
    },
    { input: 'forbidden' },
  );
}

/** Counts turns of the event loop until stopped. */
function turns(): { readonly count: number; stop(): void } {
  let count = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    count++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get count() {
      return count;
    },
    stop() {
      running = false;
    },
  };
}

const burstFlow = (autoTerminate: boolean) =>
  flow({
    outputPorts: [port('out')],
    processors: [processor({ id: 'burst', type: 'Burst', state: 'STOPPED', autoTerminate: autoTerminate ? ['success'] : [] })],
    connections: autoTerminate ? [] : [connection('q', 'burst', 'out', ['success'], { backPressureObjectThreshold: 0 })],
  });

describe('a session of tens of thousands of FlowFiles', () => {
  it('commits in slices while the event loop keeps running, as one transaction that survives a restart', async () => {
    const dataDir = h.dir();
    const state = { triggered: false, late: false };
    const engine = await h.open('durable', [burst(state)], { dataDir });
    await engine.applyFlow(burstFlow(false));
    const loop = turns();
    await engine.startComponent('burst');
    await until(() => depth(engine, 'q') === FLOWFILES + 1, 'the burst in its queue', 60_000);
    loop.stop();
    // A commit done in one go lets the loop turn only a couple of times between trigger and queue;
    // encoded in slices of 2,000 FlowFiles (and provenance in slices of 4,096 events), it turns at
    // least once per slice.
    expect(loop.count).toBeGreaterThanOrEqual(FLOWFILES / 2_000);
    await engine.stopComponent('burst');
    // The burst entered its queue a slice at a time; the FlowFile committed after it still comes after it.
    const order = engine.listQueue('q', 0, FLOWFILES + 1).map((e) => e.flowFile.attributes.get('i'));
    expect(order).toEqual([...Array.from({ length: FLOWFILES }, (_, i) => String(i)), 'late']);

    const created = await allEvents(engine, { eventType: 'CREATE' });
    // Ids keep the order the session reported them in; the later commit's event comes after.
    expect(created.map((e) => e.attributes.get('i'))).toEqual([
      ...Array.from({ length: FLOWFILES }, (_, i) => String(i)),
      'late',
    ]);
    await engine.shutdown();

    const again = await h.open('durable', [burst({ triggered: true })], { dataDir });
    await again.applyFlow(burstFlow(false));
    const restored = queued(again, 'q');
    expect(restored).toHaveLength(FLOWFILES + 1);
    const byIndex = new Map(restored.map((f) => [f.attributes.get('i'), f.text]));
    expect(byIndex.get('0')).toBe('line 0');
    expect(byIndex.get(String(FLOWFILES - 1))).toBe(`line ${FLOWFILES - 1}`);
    expect(byIndex.size).toBe(FLOWFILES + 1);
  });

  it('auto-terminated: every CREATE comes before its DROP, and a shutdown right after writes every event', async () => {
    const dataDir = h.dir();
    const state = { triggered: false };
    const engine = await h.open('durable', [burst(state)], { dataDir });
    await engine.applyFlow(burstFlow(true));
    await engine.startComponent('burst');
    await until(() => engine.component('burst')?.stats.outCount.sum(Date.now()) === FLOWFILES || state.triggered, 'the burst');
    await until(() => engine.component('burst')?.activeTasks === 0, 'the commit');
    await engine.shutdown();

    const again = await h.open('durable', [burst({ triggered: true })], { dataDir });
    await again.applyFlow(burstFlow(true));
    const drops = await allEvents(again, { eventType: 'DROP' });
    expect(drops).toHaveLength(FLOWFILES);
    const sample = drops[FLOWFILES - 1];
    if (sample === undefined) throw new Error('no DROP');
    const lifecycle = await events(again, { flowFileUuid: sample.flowFileUuid });
    expect(lifecycle.map((e) => e.eventType)).toEqual(['CREATE', 'DROP']);
  });
});
