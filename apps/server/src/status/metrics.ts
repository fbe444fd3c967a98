import { timingSafeEqual } from 'node:crypto';
import type { Engine } from '@sluice/engine';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

const COMPONENT = ['id', 'name', 'type', 'group'] as const;
const QUEUE = ['id', 'name', 'group', 'source', 'destination'] as const;

/**
 * Prometheus metrics (prom-client) for the ops tools people have: per component and per queue
 * counts, bytes and back-pressure state, repository sizes, and Node's process metrics. Values are
 * read from the engine at scrape time. Counts and bytes are NiFi's five-minute windows (gauges,
 * suffixed `_5m`); queue sizes are current.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #engine: Engine;
  readonly #token: string | undefined;
  readonly #gauges: {
    component: Record<
      'in' | 'inBytes' | 'out' | 'outBytes' | 'read' | 'written' | 'tasks' | 'taskSeconds',
      Gauge<(typeof COMPONENT)[number]>
    >;
    running: Gauge<(typeof COMPONENT)[number]>;
    invalid: Gauge<(typeof COMPONENT)[number]>;
    activeTasks: Gauge<(typeof COMPONENT)[number]>;
    queued: Gauge<(typeof QUEUE)[number]>;
    queuedBytes: Gauge<(typeof QUEUE)[number]>;
    backPressure: Gauge<(typeof QUEUE)[number]>;
    fill: Gauge<(typeof QUEUE)[number] | 'threshold'>;
    queueIn: Gauge<(typeof QUEUE)[number]>;
    queueOut: Gauge<(typeof QUEUE)[number]>;
    content: Gauge<'area'>;
    provenanceEvents: Gauge;
    provenanceLag: Gauge;
    journalBytes: Gauge;
    bulletins: Gauge<'level'>;
  };

  constructor(engine: Engine, options: { token?: string | undefined }) {
    this.#engine = engine;
    this.#token = options.token === undefined || options.token === '' ? undefined : options.token;
    const r = [this.registry];
    const component = (name: string, help: string) => new Gauge({ name, help, labelNames: COMPONENT, registers: r });
    const queue = (name: string, help: string) => new Gauge({ name, help, labelNames: QUEUE, registers: r });
    this.#gauges = {
      component: {
        in: component('sluice_component_in_flowfiles_5m', 'FlowFiles received by a component in the last five minutes'),
        inBytes: component('sluice_component_in_bytes_5m', 'Bytes received by a component in the last five minutes'),
        out: component('sluice_component_out_flowfiles_5m', 'FlowFiles sent by a component in the last five minutes'),
        outBytes: component('sluice_component_out_bytes_5m', 'Bytes sent by a component in the last five minutes'),
        read: component('sluice_component_read_bytes_5m', 'Content bytes read by a component in the last five minutes'),
        written: component('sluice_component_written_bytes_5m', 'Content bytes written by a component in the last five minutes'),
        tasks: component('sluice_component_tasks_5m', 'Tasks run by a component in the last five minutes'),
        taskSeconds: component('sluice_component_task_seconds_5m', 'Task time of a component in the last five minutes'),
      },
      running: component('sluice_component_running', '1 while a component runs'),
      invalid: component('sluice_component_invalid', '1 while a component is invalid (cannot start)'),
      activeTasks: component('sluice_component_active_tasks', 'Tasks of a component running now'),
      queued: queue('sluice_queue_flowfiles', 'FlowFiles queued in a connection'),
      queuedBytes: queue('sluice_queue_bytes', 'Bytes queued in a connection'),
      backPressure: queue('sluice_queue_back_pressure', '1 while back pressure is engaged on a connection'),
      fill: new Gauge({
        name: 'sluice_queue_fill_ratio',
        help: 'Queue fill against its back-pressure threshold (threshold="count" or "bytes"), 0..1',
        labelNames: [...QUEUE, 'threshold'],
        registers: r,
      }),
      queueIn: queue('sluice_queue_in_flowfiles_5m', 'FlowFiles that entered a connection in the last five minutes'),
      queueOut: queue('sluice_queue_out_flowfiles_5m', 'FlowFiles that left a connection in the last five minutes'),
      content: new Gauge({
        name: 'sluice_content_repository_bytes',
        help: 'Content repository size (area="live" or "archive")',
        labelNames: ['area'],
        registers: r,
      }),
      provenanceEvents: new Gauge({ name: 'sluice_provenance_events', help: 'Provenance events stored', registers: r }),
      provenanceLag: new Gauge({ name: 'sluice_provenance_index_lag', help: 'Provenance events not indexed yet', registers: r }),
      journalBytes: new Gauge({
        name: 'sluice_flowfile_journal_bytes',
        help: 'Size of the FlowFile repository journal',
        registers: r,
      }),
      bulletins: new Gauge({ name: 'sluice_bulletins', help: 'Current bulletins by level', labelNames: ['level'], registers: r }),
    };
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
  }

  /** Whether a request's Authorization header carries the configured metrics token. */
  tokenMatches(authorization: string | undefined): boolean {
    if (this.#token === undefined || authorization === undefined) return false;
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1] === undefined) return false;
    const a = Buffer.from(match[1]);
    const b = Buffer.from(this.#token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The metrics in Prometheus text format, read from the engine now. */
  async render(): Promise<{ contentType: string; body: string }> {
    this.#refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #refresh(): void {
    const g = this.#gauges;
    const status = this.#engine.status();
    for (const gauge of [...Object.values(g.component), g.running, g.invalid, g.activeTasks]) gauge.reset();
    for (const c of status.components) {
      const labels = { id: c.id, name: c.name, type: c.type, group: c.groupId };
      g.component.in.set(labels, c.input.count);
      g.component.inBytes.set(labels, c.input.bytes);
      g.component.out.set(labels, c.output.count);
      g.component.outBytes.set(labels, c.output.bytes);
      g.component.read.set(labels, c.readBytes);
      g.component.written.set(labels, c.writtenBytes);
      g.component.tasks.set(labels, c.tasks);
      g.component.taskSeconds.set(labels, c.taskTimeMs / 1000);
      g.running.set(labels, c.runState === 'RUNNING' ? 1 : 0);
      g.invalid.set(labels, c.validationErrors.length > 0 ? 1 : 0);
      g.activeTasks.set(labels, c.activeTasks);
    }
    for (const gauge of [g.queued, g.queuedBytes, g.backPressure, g.queueIn, g.queueOut]) gauge.reset();
    g.fill.reset();
    for (const c of status.connections) {
      const labels = { id: c.id, name: c.name, group: c.groupId, source: c.sourceId, destination: c.destinationId };
      g.queued.set(labels, c.queued.count);
      g.queuedBytes.set(labels, c.queued.bytes);
      g.backPressure.set(labels, c.full ? 1 : 0);
      g.fill.set({ ...labels, threshold: 'count' }, c.fill.count);
      g.fill.set({ ...labels, threshold: 'bytes' }, c.fill.bytes);
      g.queueIn.set(labels, c.input.count);
      g.queueOut.set(labels, c.output.count);
    }
    const content = this.#engine.content.stats();
    g.content.set({ area: 'live' }, content.liveBytes);
    g.content.set({ area: 'archive' }, content.archivedBytes);
    const provenance = this.#engine.provenance.stats();
    g.provenanceEvents.set(provenance.events);
    g.provenanceLag.set(provenance.indexLag);
    g.journalBytes.set(this.#engine.flowFiles.stats().journalBytes);
    g.bulletins.reset();
    for (const b of this.#engine.bulletins.list()) g.bulletins.inc({ level: b.level });
  }
}
