import { execSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

/** Facts about the machine a benchmark ran on, as docs/benchmarks.md records them. */
export interface Machine {
  readonly date: string;
  readonly commit: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly fsync: { readonly p50Us: number; readonly p99Us: number };
  readonly loadAverage: string;
}

/** Measures fdatasync latency of 4 KiB appends in the temp directory (the repositories' disk). */
function fsyncLatency(): { p50Us: number; p99Us: number } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'a');
  const block = Buffer.alloc(4096, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      writeSync(fd, block);
      const t = performance.now();
      fdatasyncSync(fd);
      samples.push((performance.now() - t) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  samples.sort((a, b) => a - b);
  return { p50Us: Math.round(samples[150] ?? 0), p99Us: Math.round(samples[296] ?? 0) };
}

export function machine(): Machine {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  let load = '';
  try {
    load = execSync('cat /proc/loadavg', { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  } catch {
    // not Linux
  }
  return {
    date: new Date().toISOString(),
    commit,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    fsync: fsyncLatency(),
    loadAverage: load,
  };
}
