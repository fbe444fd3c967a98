import { statfs } from 'node:fs/promises';
import { cpus } from 'node:os';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Engine } from '@sluice/engine';
import type { Diagnostics as DiagnosticsDto } from '@sluice/protocol';
import type { FlowStore } from '../store/flow-store.ts';

const ns = (value: number): number => Math.round((Number.isFinite(value) ? value : 0) / 1e4) / 100;

/**
 * System diagnostics: memory, event loop delay (perf_hooks.monitorEventLoopDelay, over the last
 * minute), CPU, repository sizes and disk use of the data directory.
 */
export class Diagnostics {
  readonly #engine: Engine;
  readonly #store: FlowStore;
  readonly #dataDir: string;
  readonly #version: string;
  readonly #sockets: () => number;
  readonly #histogram: IntervalHistogram;
  #last = { mean: 0, p50: 0, p99: 0, max: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { engine: Engine; store: FlowStore; dataDir: string; version: string; sockets: () => number }) {
    this.#engine = options.engine;
    this.#store = options.store;
    this.#dataDir = options.dataDir;
    this.#version = options.version;
    this.#sockets = options.sockets;
    this.#histogram = monitorEventLoopDelay({ resolution: 20 });
  }

  start(): void {
    this.#histogram.enable();
    this.#timer = setInterval(() => this.#roll(), 60_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#histogram.disable();
  }

  /** Event loop delay (ms) over the current minute, or the last one when this one has no samples yet. */
  eventLoopDelay(): { mean: number; p50: number; p99: number; max: number } {
    if (this.#histogram.count === 0) return this.#last;
    return {
      mean: ns(this.#histogram.mean),
      p50: ns(this.#histogram.percentile(50)),
      p99: ns(this.#histogram.percentile(99)),
      max: ns(this.#histogram.max),
    };
  }

  #roll(): void {
    this.#last = this.eventLoopDelay();
    this.#histogram.reset();
  }

  async gather(): Promise<DiagnosticsDto> {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const content = this.#engine.content.stats();
    const flowFiles = this.#engine.flowFiles.stats();
    const provenance = this.#engine.provenance.stats();
    let disk = { path: this.#dataDir, totalBytes: 0, freeBytes: 0, usedFraction: 0 };
    try {
      const fs = await statfs(this.#dataDir);
      const total = fs.blocks * fs.bsize;
      const free = fs.bavail * fs.bsize;
      disk = { path: this.#dataDir, totalBytes: total, freeBytes: free, usedFraction: total > 0 ? 1 - free / total : 0 };
    } catch {
      // statfs is missing on some platforms: report zeros rather than fail the whole call
    }
    let count = 0;
    let bytes = 0;
    for (const connection of this.#engine.connections()) {
      const size = connection.queue.size();
      count += size.count;
      bytes += size.bytes;
    }
    return {
      time: Date.now(),
      uptimeMs: this.#engine.uptimeMs,
      version: this.#version,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      memory: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        heapTotalBytes: memory.heapTotal,
        heapLimitBytes: getHeapStatistics().heap_size_limit,
        externalBytes: memory.external,
      },
      eventLoopDelayMs: this.eventLoopDelay(),
      cpu: { userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) },
      repositories: {
        content: {
          liveBytes: content.liveBytes,
          archivedBytes: content.archivedBytes,
          resourceFiles: content.resourceFiles,
          archivedFiles: content.archivedFiles,
          full: content.full,
        },
        flowFile: {
          journalBytes: flowFiles.journalBytes,
          swapFiles: flowFiles.swapFiles,
          lastCheckpointAt: flowFiles.lastCheckpointAt,
          transactions: flowFiles.transactions,
        },
        provenance: {
          mode: this.#engine.options.provenance ?? 'durable',
          events: provenance.events,
          bytes: provenance.bytes,
          oldestEventTime: provenance.oldestEventTime,
          indexLag: provenance.indexLag,
        },
        flow: { bytes: await this.#store.bytes(), version: this.#store.current?.version ?? 0 },
      },
      disk,
      queued: { count, bytes },
      sockets: this.#sockets(),
    };
  }
}
