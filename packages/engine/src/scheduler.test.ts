import { ProcessException } from '@sluice/api';
import { describe, expect, it } from 'vitest';
import type { FlowFileRecord } from './index.ts';
import {
  bench,
  componentStatus,
  connection,
  Discard,
  depth,
  events,
  flow,
  MODES,
  port,
  processor,
  queued,
  rejection,
  sleep,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';

const h = useHarness();

/** A source that records when it runs and makes `perTrigger` FlowFiles (auto-terminated unless connected). */
function recordingSource(times: number[], options: { perTrigger?: number; yields?: boolean; extra?: object } = {}) {
  return testProcessor(
    'RecordingSource',
    (session, context) => {
      times.push(Date.now());
      for (let i = 0; i < (options.perTrigger ?? 1); i++) session.transfer(session.create(), 'success');
      if (options.yields === true) context.yield();
    },
    { input: 'forbidden', ...options.extra },
  );
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] ?? t));
}

describe('scheduler', () => {
  it('respects a timer period', async () => {
    const times: number[] = [];
    const engine = await h.open('volatile', [recordingSource(times)]);
    const started = Date.now();
    await engine.applyFlow(
      flow({
        processors: [
          processor({
            id: 's',
            type: 'RecordingSource',
            autoTerminate: ['success'],
            scheduling: { period: '100 ms' },
            state: 'RUNNING',
          }),
        ],
      }),
    );
    await until(() => times.length >= 5, '5 triggers');
    await engine.stopComponent('s');
    const elapsed = Date.now() - started;
    expect(times.length).toBeLessThanOrEqual(Math.floor(elapsed / 100) + 1);
    for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(95);
  });

  it('triggers on a Quartz cron expression (every second)', async () => {
    const times: number[] = [];
    const engine = await h.open('volatile', [recordingSource(times)]);
    await engine.applyFlow(
      flow({
        processors: [
          processor({
            id: 's',
            type: 'RecordingSource',
            autoTerminate: ['success'],
            scheduling: { strategy: 'cron', period: '* * * * * ?' },
            state: 'RUNNING',
          }),
        ],
      }),
    );
    const started = Date.now();
    await until(() => times.length >= 3, '3 cron triggers', 8000);
    await engine.stopComponent('s');
    const elapsed = Date.now() - started;
    // Once per second at most: each trigger in its own second, never more than the seconds elapsed allow.
    const seconds = new Set(times.map((t) => Math.floor(t / 1000)));
    expect(seconds.size).toBe(times.length);
    expect(times.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 1);
  });

  it('refuses a cron expression that is not Quartz-style, naming the field', async () => {
    const engine = await h.open('volatile', [recordingSource([])]);
    const error = await rejection(
      engine.applyFlow(
        flow({
          processors: [
            processor({
              id: 's',
              type: 'RecordingSource',
              autoTerminate: ['success'],
              scheduling: { strategy: 'cron', period: '*/5 * * * *' },
              state: 'RUNNING',
            }),
          ],
        }),
      ),
    );
    expect(error.message).toMatch(/scheduling period: .*6 fields/);
  });

  it.each([
    { serially: false, expected: 3 },
    { serially: true, expected: 1 },
  ])('runs concurrent tasks in parallel (triggerSerially=$serially caps at $expected)', async ({ serially, expected }) => {
    let active = 0;
    let maxActive = 0;
    let triggers = 0;
    const slow = testProcessor(
      'SlowSource',
      async (session) => {
        triggers++;
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(50);
        active--;
        session.transfer(session.create(), 'success');
      },
      { input: 'forbidden', triggerSerially: serially },
    );
    const engine = await h.open('volatile', [slow]);
    await engine.applyFlow(
      flow({
        processors: [
          processor({
            id: 's',
            type: 'SlowSource',
            autoTerminate: ['success'],
            scheduling: { concurrentTasks: 3 },
            state: 'RUNNING',
          }),
        ],
      }),
    );
    await until(() => triggers >= 9, '9 triggers');
    await engine.stopComponent('s');
    expect(active).toBe(0);
    expect(maxActive).toBe(expected);
  });

  it('context.yield() stops triggers for the yield duration', async () => {
    const times: number[] = [];
    const engine = await h.open('volatile', [recordingSource(times, { yields: true })]);
    await engine.applyFlow(
      flow({
        processors: [
          processor({
            id: 's',
            type: 'RecordingSource',
            autoTerminate: ['success'],
            scheduling: { yieldDuration: '300 ms' },
            state: 'RUNNING',
          }),
        ],
      }),
    );
    await until(() => times.length >= 3, '3 triggers');
    await engine.stopComponent('s');
    for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(295);
  });

  it('holds a penalized FlowFile until its penalty expires, then delivers it with nothing else waking the processor', async () => {
    const seen: Array<{ at: number; attempt: string | undefined }> = [];
    const penalizer = testProcessor(
      'PenalizeOnce',
      (session) => {
        const ff = session.get();
        if (ff === undefined) return;
        seen.push({ at: Date.now(), attempt: ff.getAttribute('attempt') });
        if (ff.getAttribute('attempt') === undefined) {
          session.transfer(session.penalize(session.putAttribute(ff, 'attempt', '1')));
        } else {
          session.transfer(ff, 'success');
        }
      },
      { input: 'required' },
    );
    const engine = await h.open('volatile', [penalizer]);
    await engine.applyFlow(
      bench(processor({ id: 'p', type: 'PenalizeOnce', scheduling: { penaltyDuration: '300 ms' }, state: 'RUNNING' }), [
        'success',
      ]),
    );
    await engine.enqueue('in', 'x');
    await until(() => depth(engine, 'to-success') === 1, 'the penalized FlowFile to be delivered after its penalty', 5000);
    expect(seen.map((s) => s.attempt)).toEqual([undefined, '1']);
    const [first, second] = seen;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(295);
  });

  it('redelivers a FlowFile penalized by a rollback (ProcessException) after the penalty', async () => {
    const seen: number[] = [];
    const flaky = testProcessor(
      'Flaky',
      (session) => {
        const ff = session.get();
        if (ff === undefined) return;
        seen.push(Date.now());
        if (seen.length === 1) throw new ProcessException('first try fails');
        session.transfer(ff, 'success');
      },
      { input: 'required' },
    );
    const engine = await h.open('volatile', [flaky]);
    await engine.applyFlow(
      bench(processor({ id: 'p', type: 'Flaky', scheduling: { penaltyDuration: '200 ms' }, state: 'RUNNING' }), ['success']),
    );
    await engine.enqueue('in', 'x');
    await until(() => depth(engine, 'to-success') === 1, 'redelivery after the penalty', 5000);
    expect(seen).toHaveLength(2);
    expect((seen[1] ?? 0) - (seen[0] ?? 0)).toBeGreaterThanOrEqual(195);
  });

  it.each(MODES)(
    'applies back pressure: a full queue stops its source; draining it lets the source run again (%s)',
    async (mode) => {
      const times: number[] = [];
      const engine = await h.open(mode, [recordingSource(times, { perTrigger: 5 }), Discard]);
      await engine.applyFlow(
        flow({
          processors: [
            processor({ id: 's', type: 'RecordingSource', state: 'RUNNING' }),
            processor({ id: 'sink', type: 'Discard', state: 'STOPPED' }),
          ],
          connections: [connection('q', 's', 'sink', ['success'], { backPressureObjectThreshold: 100 })],
        }),
      );
      await until(() => engine.connection('q')?.queue.isFull(), 'the queue to fill');
      const tasks = componentStatus(engine, 's').tasks;
      await sleep(300);
      expect(componentStatus(engine, 's').tasks).toBe(tasks);
      expect(depth(engine, 'q')).toBeGreaterThanOrEqual(100);
      expect(depth(engine, 'q')).toBeLessThan(105); // soft limit: at most one session's worth over
      const status = engine.status().connections.find((c) => c.id === 'q');
      expect(status).toMatchObject({ full: true, fill: { count: 1 } });

      await engine.startComponent('sink');
      await until(() => componentStatus(engine, 's').tasks > tasks + 20, 'the source to run again');
      await until(() => componentStatus(engine, 'sink').input.count > 200, 'the sink to drain');
      await engine.stopComponent('s');
      await until(() => depth(engine, 'q') === 0, 'the queue to drain');
    },
  );

  it.each([
    ['source', true],
    ['processor with input', false],
  ])('batches triggers in one session for the run duration (%s)', async (_, isSource) => {
    let triggers = 0;
    const batching = testProcessor(
      'Batching',
      (session) => {
        triggers++;
        session.adjustCounter('triggers', 1);
        if (isSource) {
          session.transfer(session.create(), 'success');
          return;
        }
        const ff = session.get();
        if (ff !== undefined) session.transfer(ff, 'success');
      },
      { supportsBatching: true, input: 'allowed' },
    );
    const engine = await h.open('volatile', [batching]);
    const spec = { id: 'p', type: 'Batching', scheduling: { runDuration: '50 ms' }, autoTerminate: ['success'] };
    if (isSource) {
      await engine.applyFlow(flow({ processors: [processor(spec)] }));
    } else {
      await engine.applyFlow(bench(processor(spec), []));
      for (let i = 0; i < 3000; i++) await engine.enqueue('in', `${i}`);
    }
    await engine.startComponent('p');
    await until(() => triggers >= 3000, '3000 triggers');
    await engine.stopComponent('p');
    const tasks = componentStatus(engine, 'p').tasks;
    expect(engine.bulletins.list({ componentId: 'p' })).toEqual([]);
    // Each task is one session (one commit): many triggers share it.
    expect(tasks).toBeLessThan(triggers / 5);
    // Every batched trigger was committed.
    expect(componentStatus(engine, 'p').counters['triggers']).toBe(triggers);
    if (!isSource) expect(depth(engine, 'in')).toBe(0);
  });

  it('bored yield: a source that produces nothing does not spin', async () => {
    let triggers = 0;
    const idle = testProcessor(
      'IdleSource',
      () => {
        triggers++;
      },
      { input: 'forbidden' },
    );
    const engine = await h.open('volatile', [idle], { scheduler: { boredYieldMs: 10 } });
    await engine.applyFlow(
      flow({ processors: [processor({ id: 's', type: 'IdleSource', autoTerminate: ['success'], state: 'RUNNING' })] }),
    );
    const started = Date.now();
    await sleep(500);
    await engine.stopComponent('s');
    const elapsed = Date.now() - started;
    expect(triggers).toBeGreaterThan(0);
    expect(triggers).toBeLessThanOrEqual(elapsed / 10 + 5);
  });

  it('bored yield also applies to a processor triggered when its queue is empty', async () => {
    let triggers = 0;
    const poller = testProcessor(
      'PollOwnBuffer',
      (session) => {
        triggers++;
        const ff = session.get();
        if (ff !== undefined) session.transfer(ff, 'success');
      },
      { input: 'required', triggerWhenEmpty: true },
    );
    const engine = await h.open('volatile', [poller], { scheduler: { boredYieldMs: 10 } });
    await engine.applyFlow(bench(processor({ id: 'p', type: 'PollOwnBuffer', state: 'RUNNING' }), ['success']));
    const started = Date.now();
    await sleep(500);
    await engine.stopComponent('p');
    const elapsed = Date.now() - started;
    expect(triggers).toBeGreaterThan(0);
    expect(triggers).toBeLessThanOrEqual(elapsed / 10 + 5);
  });

  it('an unexpected error yields the processor administratively', async () => {
    let triggers = 0;
    const broken = testProcessor(
      'Broken',
      () => {
        triggers++;
        throw new Error('always broken');
      },
      { input: 'forbidden' },
    );
    const engine = await h.open('volatile', [broken], { scheduler: { administrativeYieldMs: 200 } });
    await engine.applyFlow(
      flow({ processors: [processor({ id: 's', type: 'Broken', autoTerminate: ['success'], state: 'RUNNING' })] }),
    );
    const started = Date.now();
    await sleep(700);
    await engine.stopComponent('s');
    const elapsed = Date.now() - started;
    expect(triggers).toBeGreaterThanOrEqual(1);
    expect(triggers).toBeLessThanOrEqual(Math.floor(elapsed / 200) + 1);
    const bulletins = engine.bulletins.list({ componentId: 's' });
    expect(bulletins.length).toBeGreaterThan(0);
    expect(bulletins.every((b) => b.level === 'ERROR' && b.message.includes('always broken'))).toBe(true);
  });

  describe('per-relationship retry', () => {
    const failing = testProcessor(
      'AlwaysFails',
      (session) => {
        const ff = session.get();
        if (ff !== undefined) session.transfer(session.putAttribute(ff, 'touched', 'yes'), 'failure');
      },
      { input: 'required', relationships: { success: 'ok', failure: 'not ok' } },
    );

    it('returns the FlowFile to its queue penalized with retryCount.<id> raised, then routes it after `count` retries', async () => {
      const engine = await h.open('volatile', [failing]);
      await engine.applyFlow(
        bench(
          processor({
            id: 'p',
            type: 'AlwaysFails',
            scheduling: { penaltyDuration: '10 ms' },
            retry: { relationships: ['failure'], count: 2, backoff: 'penalize', maxBackoff: '1 sec' },
          }),
          ['success', 'failure'],
        ),
      );
      const original = await engine.enqueue('in', 'x');
      for (const expected of ['1', '2']) {
        await until(() => queued(engine, 'in')[0]?.penalized === false, 'the penalty to expire', 2000);
        await engine.runOnce('p');
        const [back] = queued(engine, 'in');
        expect(back?.uuid).toBe(original.uuid);
        expect(back?.attributes.get('retryCount.p')).toBe(expected);
        // Reverted to the input state: the processor's change is gone.
        expect(back?.attributes.has('touched')).toBe(false);
        expect((back?.flowFile.penaltyExpiration ?? 0) > 0).toBe(true);
        expect(depth(engine, 'to-failure')).toBe(0);
      }
      await until(() => queued(engine, 'in')[0]?.penalized === false, 'the penalty to expire', 2000);
      await engine.runOnce('p');
      expect(depth(engine, 'in')).toBe(0);
      const [routed] = queued(engine, 'to-failure');
      expect(routed?.uuid).toBe(original.uuid);
      expect(routed?.attributes.get('touched')).toBe('yes');
      expect(routed?.attributes.get('retryCount.p')).toBe('2');
      // Retried attempts leave no provenance; the final routing does.
      const history = await events(engine, { flowFileUuid: original.uuid });
      expect(history.map((e) => e.eventType)).toEqual(['ATTRIBUTES_MODIFIED']);
    });

    it('retries while running, with backoff, and then routes normally', async () => {
      const engine = await h.open('volatile', [failing]);
      await engine.applyFlow(
        bench(
          processor({
            id: 'p',
            type: 'AlwaysFails',
            scheduling: { penaltyDuration: '10 ms' },
            retry: { relationships: ['failure'], count: 3 },
            state: 'RUNNING',
          }),
          ['success', 'failure'],
        ),
      );
      await engine.enqueue('in', 'x');
      const started = Date.now();
      await until(() => depth(engine, 'to-failure') === 1, 'the FlowFile to be routed after its retries', 5000);
      // Backoff 10 + 20 + 40 ms (penalty doubling per attempt).
      expect(Date.now() - started).toBeGreaterThanOrEqual(65);
      expect(queued(engine, 'to-failure')[0]?.attributes.get('retryCount.p')).toBe('3');
      expect(componentStatus(engine, 'p').tasks).toBe(4);
    });
  });

  it('retry with yield backoff yields the processor instead of penalizing the FlowFile', async () => {
    const failing = testProcessor(
      'FailsThenYields',
      (session) => {
        const ff = session.get();
        if (ff !== undefined) session.transfer(ff, 'failure');
      },
      { input: 'required', relationships: { failure: 'not ok' } },
    );
    const engine = await h.open('volatile', [failing]);
    await engine.applyFlow(
      bench(
        processor({
          id: 'p',
          type: 'FailsThenYields',
          scheduling: { yieldDuration: '250 ms' },
          retry: { relationships: ['failure'], count: 1, backoff: 'yield' },
        }),
        ['failure'],
      ),
    );
    await engine.enqueue('in', 'x');
    const before = Date.now();
    await engine.runOnce('p');
    const [back] = queued(engine, 'in');
    expect(back?.penalized).toBe(false);
    expect(back?.attributes.get('retryCount.p')).toBe('1');
    expect(engine.component('p')?.yieldUntil ?? 0).toBeGreaterThanOrEqual(before + 250);
  });

  it('a retried FlowFile leaves no trace: children discarded, content claims released', async () => {
    const written = new Set<string>();
    let attempts = 0;
    const splitter = testProcessor(
      'SplitOrRetry',
      (session) => {
        const ff = session.get();
        if (ff === undefined) return;
        attempts++;
        const child = session.write(session.create(ff), `part ${attempts}`);
        const copy = session.clone(ff);
        const changed = session.write(ff, `changed ${attempts}`);
        for (const f of [child, changed]) {
          const claim = (f as FlowFileRecord).claim;
          if (claim !== null) written.add(claim.resourceId);
        }
        session.transfer([child, copy], 'split');
        session.transfer(changed, 'failure');
      },
      { input: 'required', relationships: { split: 'parts', failure: 'not ok' } },
    );
    const engine = await h.open('durable', [splitter]);
    await engine.applyFlow(
      bench(
        processor({
          id: 'p',
          type: 'SplitOrRetry',
          scheduling: { penaltyDuration: '1 ms' },
          retry: { relationships: ['failure'], count: 1, maxBackoff: '1 ms' },
        }),
        ['split', 'failure'],
      ),
    );
    const input = await engine.enqueue('in', 'input');
    if (input.claim !== null) written.add(input.claim.resourceId);
    await engine.runOnce('p');
    expect(queued(engine, 'in').map((f) => f.text)).toEqual(['input']);
    expect(depth(engine, 'to-split')).toBe(0);
    expect(await events(engine, { componentId: 'p' })).toEqual([]);
    await until(() => queued(engine, 'in')[0]?.penalized === false, 'the backoff to pass', 2000);
    await engine.runOnce('p');
    expect(queued(engine, 'to-split').map((f) => f.text)).toEqual(['part 2', 'input']);
    expect(queued(engine, 'to-failure').map((f) => f.text)).toEqual(['changed 2']);
    await engine.emptyQueue('to-split');
    await engine.emptyQueue('to-failure');
    const counts = () => [...written].map((r) => engine.content.claimantCount(r));
    await until(() => counts().every((n) => n === 0), `every claim released (now ${counts().join(', ')})`);
  });

  it('an invalid processor refuses to start and says why', async () => {
    const needsUrl = testProcessor('NeedsUrl', () => undefined, {
      input: 'forbidden',
      properties: { url: { kind: 'string', description: 'where', required: true, sensitive: false, expression: 'none' } },
    });
    const engine = await h.open('volatile', [needsUrl]);
    await engine.applyFlow(flow({ processors: [processor({ id: 'p', name: 'Fetch it', type: 'NeedsUrl' })] }));
    expect(engine.component('p')?.validationErrors).toEqual([
      'property "url": is required',
      'relationship "success" is not connected and not auto-terminated',
    ]);
    const error = await rejection(engine.startComponent('p'));
    expect(error.name).toBe('ConflictError');
    expect(error.message).toBe(
      '"Fetch it" cannot start: property "url": is required; relationship "success" is not connected and not auto-terminated',
    );
    expect((await rejection(engine.runOnce('p'))).message).toMatch(/cannot run: property "url": is required/);
    expect(engine.component('p')?.runState).toBe('STOPPED');
  });

  it('retries a failed onScheduled after the administrative yield, with a bulletin', async () => {
    const calls: number[] = [];
    let triggers = 0;
    const flakyStart = testProcessor(
      'FlakyStart',
      () => {
        triggers++;
      },
      {
        input: 'forbidden',
        onScheduled: () => {
          calls.push(Date.now());
          if (calls.length === 1) throw new Error('cannot reach the broker');
        },
      },
    );
    const engine = await h.open('volatile', [flakyStart], { scheduler: { administrativeYieldMs: 300 } });
    await engine.applyFlow(
      flow({ processors: [processor({ id: 'p', type: 'FlakyStart', autoTerminate: ['success'], state: 'RUNNING' })] }),
    );
    expect(engine.component('p')?.runState).toBe('STOPPED');
    const [bulletin] = engine.bulletins.list({ componentId: 'p' });
    expect(bulletin?.level).toBe('ERROR');
    expect(bulletin?.message).toMatch(/failed to start.*cannot reach the broker/);
    await until(() => engine.component('p')?.runState === 'RUNNING', 'the retried start');
    await until(() => triggers > 0, 'a trigger');
    expect(calls).toHaveLength(2);
    expect((calls[1] ?? 0) - (calls[0] ?? 0)).toBeGreaterThanOrEqual(295);
  });

  it('a processor stopped while its start is being retried stays stopped', async () => {
    let calls = 0;
    const neverStarts = testProcessor('NeverStarts', () => undefined, {
      input: 'forbidden',
      onScheduled: () => {
        calls++;
        throw new Error('no');
      },
    });
    const engine = await h.open('volatile', [neverStarts], { scheduler: { administrativeYieldMs: 100 } });
    await engine.applyFlow(
      flow({ processors: [processor({ id: 'p', type: 'NeverStarts', autoTerminate: ['success'], state: 'RUNNING' })] }),
    );
    expect(calls).toBe(1);
    await engine.stopComponent('p');
    await sleep(350);
    expect(calls).toBe(1);
  });

  it('calls lifecycle hooks in order, and stop waits for tasks in flight', async () => {
    const log: string[] = [];
    const lifecycle = testProcessor(
      'Lifecycle',
      async (session) => {
        log.push('trigger');
        await sleep(150);
        log.push('trigger done');
        session.transfer(session.create(), 'success');
      },
      {
        input: 'forbidden',
        onScheduled: () => {
          log.push('onScheduled');
          return 'scheduled value';
        },
        onUnscheduled: (_context, value) => {
          log.push(`onUnscheduled(${String(value)})`);
        },
        onStopped: (_context, value) => {
          log.push(`onStopped(${String(value)})`);
        },
      },
    );
    const engine = await h.open('volatile', [lifecycle]);
    await engine.applyFlow(
      flow({ processors: [processor({ id: 'p', type: 'Lifecycle', autoTerminate: ['success'], state: 'RUNNING' })] }),
    );
    await until(() => log.includes('trigger'), 'a trigger');
    await engine.stopComponent('p');
    expect(log.at(-1)).toBe('onStopped(scheduled value)');
    expect(log.filter((l) => l === 'trigger').length).toBe(log.filter((l) => l === 'trigger done').length);
    expect(log[0]).toBe('onScheduled');
    const unscheduled = log.indexOf('onUnscheduled(scheduled value)');
    expect(unscheduled).toBeGreaterThan(0);
    // onUnscheduled comes when the stop is asked for (a trigger may still run); onStopped after the last trigger.
    expect(log.lastIndexOf('trigger done')).toBeLessThan(log.indexOf('onStopped(scheduled value)'));
    expect(engine.component('p')?.runState).toBe('STOPPED');
    expect(engine.component('p')?.activeTasks).toBe(0);
  });

  it('a stop during a slow onScheduled waits for it, so onUnscheduled and onStopped see what it set up', async () => {
    const log: string[] = [];
    const slowStart = testProcessor('SlowStart', (session) => session.transfer(session.create(), 'success'), {
      input: 'forbidden',
      onScheduled: async () => {
        log.push('onScheduled');
        await sleep(200);
        log.push('onScheduled done');
        return 'connection';
      },
      onUnscheduled: (_context, value) => {
        log.push(`onUnscheduled(${String(value)})`);
      },
      onStopped: (_context, value) => {
        log.push(`onStopped(${String(value)})`);
      },
    });
    const engine = await h.open('volatile', [slowStart]);
    const applying = engine.applyFlow(
      flow({
        processors: [
          processor({
            id: 'p',
            type: 'SlowStart',
            autoTerminate: ['success'],
            scheduling: { period: '1 hour' },
            state: 'RUNNING',
          }),
        ],
      }),
    );
    await until(() => log.includes('onScheduled'), 'the start to begin');
    expect(engine.component('p')?.runState).toBe('STARTING');
    await engine.stopComponent('p');
    await applying;
    expect(log).toEqual(['onScheduled', 'onScheduled done', 'onUnscheduled(connection)', 'onStopped(connection)']);
    expect(engine.component('p')?.runState).toBe('STOPPED');
    expect(engine.component('p')?.scheduledValue).toBeUndefined();
    await sleep(50);
    expect(engine.component('p')?.runState).toBe('STOPPED');
  });

  it('runOnce(id, n) triggers exactly n times, whatever the concurrency', async () => {
    let triggers = 0;
    const counted = testProcessor(
      'Counted',
      async (session) => {
        triggers++;
        await sleep(5);
        session.transfer(session.create(), 'success');
      },
      { input: 'forbidden' },
    );
    const engine = await h.open('volatile', [counted]);
    await engine.applyFlow(
      flow({
        processors: [processor({ id: 'p', type: 'Counted', autoTerminate: ['success'], scheduling: { concurrentTasks: 4 } })],
      }),
    );
    await engine.runOnce('p', 5);
    await sleep(100);
    expect(triggers).toBe(5);
    expect(engine.component('p')?.runState).toBe('STOPPED');
  });

  it('stopped destination ports and processors are not triggered', async () => {
    const engine = await h.open('volatile', [recordingSource([]), Discard]);
    await engine.applyFlow(
      flow({
        outputPorts: [port('out')],
        processors: [
          processor({ id: 's', type: 'RecordingSource', state: 'RUNNING' }),
          processor({ id: 'sink', type: 'Discard', state: 'STOPPED' }),
        ],
        connections: [
          connection('q', 's', 'sink', ['success'], { backPressureObjectThreshold: 10 }),
          connection('q2', 's', 'out', ['success'], { backPressureObjectThreshold: 10 }),
        ],
      }),
    );
    await until(() => depth(engine, 'q') >= 10, 'the queues to fill');
    expect(componentStatus(engine, 'sink').tasks).toBe(0);
    expect(componentStatus(engine, 'out').tasks).toBe(0);
  });
});
