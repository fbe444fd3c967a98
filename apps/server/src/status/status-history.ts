import type { Engine } from '@sluice/engine';
import type { StatusHistory } from '@sluice/protocol';

const COMPONENT_FIELDS = ['inCount', 'inBytes', 'outCount', 'outBytes', 'tasks', 'taskTimeMs'] as const;
const CONNECTION_FIELDS = ['queuedCount', 'queuedBytes', 'inCount', 'outCount'] as const;

/** Options of the recorder; defaults are NiFi's (a sample a minute, a day kept). */
export interface StatusHistoryOptions {
  readonly intervalMs?: number;
  /** Samples kept per component (1440 = 24 hours of minutes). */
  readonly capacity?: number;
}

/** One component's samples: a ring of times and a ring per field (float32: charts, not accounting). */
class Series {
  readonly times: Float64Array;
  readonly values: Float32Array[];
  next = 0;
  count = 0;
  name: string;
  seen = true;

  constructor(
    readonly kind: 'component' | 'connection',
    name: string,
    fields: number,
    capacity: number,
  ) {
    this.name = name;
    this.times = new Float64Array(capacity);
    this.values = Array.from({ length: fields }, () => new Float32Array(capacity));
  }

  add(time: number, values: readonly number[]): void {
    const capacity = this.times.length;
    this.times[this.next] = time;
    values.forEach((v, i) => {
      const ring = this.values[i];
      if (ring !== undefined) ring[this.next] = v;
    });
    this.next = (this.next + 1) % capacity;
    this.count = Math.min(this.count + 1, capacity);
  }

  /** Indexes of the kept samples, oldest first. */
  order(): number[] {
    const capacity = this.times.length;
    const start = (this.next - this.count + capacity) % capacity;
    return Array.from({ length: this.count }, (_, i) => (start + i) % capacity);
  }
}

/**
 * Status history in memory, as NiFi keeps it: every component's and connection's counters sampled
 * once a minute for 24 hours (a restart starts over). About 35 KB per component.
 */
export class StatusHistoryRecorder {
  readonly intervalMs: number;
  readonly #capacity: number;
  readonly #engine: Engine;
  readonly #series = new Map<string, Series>();
  #timer: NodeJS.Timeout | undefined;

  constructor(engine: Engine, options: StatusHistoryOptions = {}) {
    this.#engine = engine;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.#capacity = options.capacity ?? 1440;
  }

  /** Takes a first sample now and then one every interval. */
  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Records one sample of everything (components gone from the flow are forgotten). */
  sample(): void {
    const status = this.#engine.status();
    for (const series of this.#series.values()) series.seen = false;
    for (const c of status.components) {
      this.#get(c.id, 'component', c.name).add(status.time, [
        c.input.count,
        c.input.bytes,
        c.output.count,
        c.output.bytes,
        c.tasks,
        c.taskTimeMs,
      ]);
    }
    for (const c of status.connections) {
      this.#get(c.id, 'connection', c.name).add(status.time, [c.queued.count, c.queued.bytes, c.input.count, c.output.count]);
    }
    for (const [id, series] of this.#series) if (!series.seen) this.#series.delete(id);
  }

  /** The history of a component or connection, or undefined when it has none (unknown id). */
  history(id: string): StatusHistory | undefined {
    const series = this.#series.get(id);
    if (series === undefined) return undefined;
    const fields: readonly string[] = series.kind === 'component' ? COMPONENT_FIELDS : CONNECTION_FIELDS;
    const order = series.order();
    const out: Record<string, number[]> = {};
    fields.forEach((field, i) => {
      const ring = series.values[i];
      out[field] = ring === undefined ? [] : order.map((j) => ring[j] ?? 0);
    });
    return {
      id,
      name: series.name,
      kind: series.kind,
      intervalMs: this.intervalMs,
      times: order.map((j) => series.times[j] ?? 0),
      series: out,
    };
  }

  #get(id: string, kind: 'component' | 'connection', name: string): Series {
    let series = this.#series.get(id);
    if (series === undefined || series.kind !== kind) {
      series = new Series(kind, name, kind === 'component' ? COMPONENT_FIELDS.length : CONNECTION_FIELDS.length, this.#capacity);
      this.#series.set(id, series);
    }
    series.name = name;
    series.seen = true;
    return series;
  }
}
