import { performance } from 'node:perf_hooks';
import { ProcessException } from '@sluice/api';
import { Cron } from 'croner';
import type { ProcessorNode } from '../components/processor-node.ts';
import { ContentRepositoryFullError } from '../content/types.ts';
import { errorText } from '../logging.ts';
import { type SessionHost, StandardProcessSession } from '../session/process-session.ts';

/** Scheduler settings. Defaults in parentheses. */
export interface SchedulerOptions {
  /** A source that did no work waits this long before its next trigger, in ms (10, NiFi's bored yield). */
  readonly boredYieldMs?: number;
  /** After an unexpected error a processor is not scheduled for this long, in ms (10 s). */
  readonly administrativeYieldMs?: number;
  /** The dispatch loop gives the event loop back after this long, in ms (10). */
  readonly sliceMs?: number;
  /** While this returns true, sources (processors without input) are held back (provenance behind). */
  readonly holdSources?: () => boolean;
}

/**
 * Converts a NiFi (Quartz) cron expression for croner: seconds first, `?` allowed, an optional
 * seventh (year) field that must be `*` (a specific year is refused with a clear message).
 * @throws {Error} when the expression is not valid.
 */
export function parseCron(expression: string): Cron {
  const fields = expression.trim().split(/\s+/);
  if (fields.length === 7) {
    if (fields[6] !== '*' && fields[6] !== '?')
      throw new Error(`cron year field "${fields[6]}" is not supported; use * for the year`);
    fields.pop();
  }
  if (fields.length !== 6) {
    throw new Error(
      `"${expression}" is not a Quartz cron expression: it needs 6 fields (sec min hour day month weekday), like "0 */5 * * * ?"`,
    );
  }
  return new Cron(fields.join(' '), { paused: true, legacyMode: true });
}

/**
 * Runs processors on the one event loop: timer- and cron-driven, several concurrent tasks each,
 * run-duration batching, yield and penalty, back pressure, and never starving the event loop
 * (work runs in slices between which I/O callbacks get their turn).
 */
export class Scheduler {
  readonly #host: SessionHost;
  readonly #boredYieldMs: number;
  readonly #adminYieldMs: number;
  readonly #sliceMs: number;
  readonly #holdSources: (() => boolean) | undefined;
  readonly #ready = new Set<ProcessorNode>();
  /** Nodes between schedule() and unschedule(); only these are dispatched (runOnce tasks are not). */
  readonly #scheduled = new Set<ProcessorNode>();
  readonly #timers = new Map<ProcessorNode, { at: number; timer: NodeJS.Timeout }>();
  readonly #crons = new Map<ProcessorNode, Cron>();
  readonly #idleWaiters = new Map<ProcessorNode, Array<() => void>>();
  #loopScheduled = false;
  #stopped = false;

  constructor(host: SessionHost, options: SchedulerOptions = {}) {
    this.#host = host;
    this.#boredYieldMs = options.boredYieldMs ?? 10;
    this.#adminYieldMs = options.administrativeYieldMs ?? 10_000;
    this.#sliceMs = options.sliceMs ?? 10;
    this.#holdSources = options.holdSources;
  }

  /** Starts scheduling a node whose runState is RUNNING. */
  schedule(node: ProcessorNode): void {
    this.#scheduled.add(node);
    if (node.scheduling.strategy === 'cron' && node.scheduling.cron !== undefined) {
      const cron = parseCron(node.scheduling.cron);
      this.#crons.set(node, cron);
      node.nextRunAt = cron.nextRun()?.getTime() ?? Number.POSITIVE_INFINITY;
    } else {
      node.nextRunAt = 0;
    }
    this.wake(node);
  }

  /** Stops scheduling a node (tasks in flight finish; see {@link whenIdle}). */
  unschedule(node: ProcessorNode): void {
    this.#scheduled.delete(node);
    this.#ready.delete(node);
    this.#crons.delete(node);
    this.#clearTimer(node);
  }

  /** Resolves when the node has no task running. */
  whenIdle(node: ProcessorNode): Promise<void> {
    if (node.activeTasks === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#idleWaiters.get(node);
      if (list === undefined) this.#idleWaiters.set(node, [resolve]);
      else list.push(resolve);
    });
  }

  /** Something changed that may let this node run (data arrived, space freed, a task ended). */
  wake(node: ProcessorNode): void {
    if (this.#stopped || node.runState !== 'RUNNING' || !this.#scheduled.has(node)) return;
    this.#ready.add(node);
    if (!this.#loopScheduled) {
      this.#loopScheduled = true;
      setImmediate(this.#loop);
    }
  }

  /**
   * Runs exactly one task now, whatever the node's schedule, input or back pressure (NiFi's "Run
   * Once"; also how the TestRunner drives a processor). Resolves when the task has committed or
   * rolled back.
   */
  runOnce(node: ProcessorNode): Promise<void> {
    return new Promise((resolve) => this.#runTask(node, Date.now(), resolve));
  }

  /** Yields a node for `ms` (context.yield(), errors). */
  yieldNode(node: ProcessorNode, ms: number): void {
    node.yieldUntil = Math.max(node.yieldUntil, Date.now() + ms);
  }

  /** Stops dispatching anything (engine shutdown). */
  stop(): void {
    this.#stopped = true;
    for (const node of [...this.#timers.keys()]) this.#clearTimer(node);
    this.#ready.clear();
  }

  #clearTimer(node: ProcessorNode): void {
    const entry = this.#timers.get(node);
    if (entry !== undefined) {
      clearTimeout(entry.timer);
      this.#timers.delete(node);
    }
  }

  /** Wakes a node at a time (a penalty expires, a yield ends). */
  wakeAt(node: ProcessorNode, at: number): void {
    this.#wakeAt(node, at);
  }

  #wakeAt(node: ProcessorNode, at: number): void {
    const existing = this.#timers.get(node);
    if (existing !== undefined && existing.at <= at) return;
    if (existing !== undefined) clearTimeout(existing.timer);
    const delay = Math.max(0, at - Date.now());
    const timer = setTimeout(() => {
      this.#timers.delete(node);
      this.wake(node);
    }, delay);
    this.#timers.set(node, { at, timer });
  }

  readonly #loop = (): void => {
    this.#loopScheduled = false;
    const deadline = performance.now() + this.#sliceMs;
    let progressed = true;
    while (this.#ready.size > 0 && progressed && performance.now() < deadline) {
      progressed = false;
      for (const node of this.#ready) {
        if (this.#tryRun(node)) progressed = true;
        if (performance.now() >= deadline) break;
      }
    }
    if (this.#ready.size > 0 && !this.#loopScheduled && !this.#stopped) {
      this.#loopScheduled = true;
      setImmediate(this.#loop);
    }
  };

  /** Runs one task of the node if it may run now; otherwise parks it until something wakes it. */
  #tryRun(node: ProcessorNode): boolean {
    if (node.runState !== 'RUNNING') {
      this.#ready.delete(node);
      return false;
    }
    if (node.activeTasks >= node.maxTasks) {
      this.#ready.delete(node); // woken again when a task ends
      return false;
    }
    const now = Date.now();
    const notBefore = Math.max(node.yieldUntil, node.nextRunAt);
    if (now < notBefore) {
      this.#ready.delete(node);
      this.#wakeAt(node, notBefore);
      return false;
    }
    if (node.isBackPressured()) {
      this.#ready.delete(node); // a queue's spaceAvailable wakes it
      return false;
    }
    if (node.isSource && this.#holdSources?.() === true) {
      this.#ready.delete(node);
      this.#wakeAt(node, now + 100);
      return false;
    }
    if (!node.isSource && node.definition.triggerWhenEmpty !== true && !node.hasInput()) {
      let next = Number.POSITIVE_INFINITY;
      for (const c of node.incoming) next = Math.min(next, c.queue.nextEligibleAt() ?? Number.POSITIVE_INFINITY);
      // A penalty may have expired between the two reads of the clock (nextEligibleAt then
      // promotes the FlowFile and reports nothing pending): look again before parking, or the
      // node would sleep until unrelated data arrives.
      if (!node.hasInput()) {
        this.#ready.delete(node); // a queue's dataAvailable (or the penalty timer) wakes it
        if (Number.isFinite(next)) this.#wakeAt(node, next);
        return false;
      }
    }
    this.#runTask(node, now);
    return true;
  }

  #runTask(node: ProcessorNode, now: number, done?: () => void): void {
    const { scheduling } = node;
    const cron = this.#crons.get(node);
    if (cron !== undefined) node.nextRunAt = cron.nextRun(new Date(now + 1))?.getTime() ?? Number.POSITIVE_INFINITY;
    else if (scheduling.periodMs > 0) node.nextRunAt = now + scheduling.periodMs;
    node.activeTasks++;
    const generation = node.generation;
    const started = performance.now();
    const session = new StandardProcessSession(node, this.#host);
    const batching = scheduling.runDurationMs > 0 && node.definition.supportsBatching === true;
    const deadline = started + scheduling.runDurationMs;
    let didWork = false;

    const finish = (failed: boolean, error?: unknown): void => {
      // A large session encodes its FlowFiles in slices first, letting other work run meanwhile.
      if (!failed && session.commitsInSlices) {
        session.prepareCommit().then(
          () => complete(false),
          (e: unknown) => complete(true, e),
        );
        return;
      }
      complete(failed, error);
    };

    const complete = (failed: boolean, error?: unknown): void => {
      if (!failed) {
        didWork = didWork || session.didWork;
        try {
          session.commitInternal();
        } catch (commitError) {
          failed = true;
          error = commitError;
        }
      }
      if (failed) {
        try {
          this.#handleError(node, session, error);
        } catch (rollbackError) {
          // Never leave the task counted as running: the node could not stop or run again.
          node.logger.error('the session could not be rolled back', rollbackError);
        }
      }
      node.activeTasks--;
      const elapsed = performance.now() - started;
      const end = Date.now();
      node.stats.tasks.add(1, end);
      node.stats.taskNanos.add(elapsed * 1e6, end);
      const noInputNeeded = node.isSource || node.definition.triggerWhenEmpty === true;
      if (!failed && !didWork && noInputNeeded && scheduling.periodMs === 0 && cron === undefined) {
        node.nextRunAt = Math.max(node.nextRunAt, end + this.#boredYieldMs);
      }
      if (node.activeTasks === 0) {
        const waiters = this.#idleWaiters.get(node);
        if (waiters !== undefined) {
          this.#idleWaiters.delete(node);
          for (const w of waiters) w();
        }
      }
      if (node.generation === generation) this.wake(node);
      done?.();
    };

    // A loop, not recursion: run-duration batching may trigger thousands of times in one task.
    for (;;) {
      let result: void | Promise<void>;
      try {
        result = node.definition.onTrigger(session, node.context, node.scheduledValue);
      } catch (e) {
        finish(true, e);
        return;
      }
      if (result instanceof Promise) {
        result.then(
          () => finish(false),
          (e: unknown) => finish(true, e),
        );
        return;
      }
      // Run-duration batching: keep triggering inside one session while time and work remain.
      if (
        batching &&
        performance.now() < deadline &&
        node.runState === 'RUNNING' &&
        !node.isBackPressured() &&
        (node.isSource || node.hasInput())
      ) {
        didWork = didWork || session.didWork;
        continue;
      }
      finish(false);
      return;
    }
  }

  #handleError(node: ProcessorNode, session: StandardProcessSession, error: unknown): void {
    if (error instanceof ContentRepositoryFullError) {
      session.rollback(false);
      node.logger.warn('content repository is full; this processor waits until space is freed', error);
      this.yieldNode(node, node.scheduling.yieldMs);
      return;
    }
    session.rollback(true);
    if (error instanceof ProcessException) {
      node.logger.error(`failed to process the session, so it was rolled back and its FlowFiles penalized`, error);
      return;
    }
    node.logger.error(
      `failed unexpectedly (${errorText(error)}); the session was rolled back, its FlowFiles penalized, and the processor yields for ${Math.round(this.#adminYieldMs / 1000)} s`,
    );
    this.yieldNode(node, this.#adminYieldMs);
  }
}
