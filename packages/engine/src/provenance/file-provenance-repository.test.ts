import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../flowfile/uuid.ts';
import type { LogEntry } from '../logging.ts';
import { FileProvenanceRepository, type ProvenanceEventInput, type ProvenanceRepositoryOptions } from './index.ts';
import { INDEX_FILE } from './index-schema.ts';
import { SEGMENT_SUFFIX } from './journal.ts';
import { describeRepositoryContract } from './repository-contract.test-helper.ts';
import { event, T0 } from './test-events.test-helper.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-provenance-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(SEGMENT_SUFFIX))
    .sort()
    .map((f) => path.join(dir, f));
}

function indexFileBytes(dir: string): number {
  const file = path.join(dir, INDEX_FILE);
  return fs.statSync(file).size + (fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
}

async function openRepo(
  dir: string,
  options: Partial<ProvenanceRepositoryOptions> = {},
): Promise<{ repo: FileProvenanceRepository; logs: LogEntry[] }> {
  const logs: LogEntry[] = [];
  const repo = new FileProvenanceRepository({ directory: dir, durability: 'process', log: (e) => logs.push(e), ...options });
  await repo.open();
  return { repo, logs };
}

async function appendAndIndex(repo: FileProvenanceRepository, events: ProvenanceEventInput[]): Promise<number> {
  const first = repo.append(events);
  repo.flush();
  await repo.waitForIndex();
  return first;
}

describeRepositoryContract(
  'FileProvenanceRepository',
  async () => (await openRepo(tempDir())).repo,
  (repo) => repo.close(),
);

describe('FileProvenanceRepository', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });

  it('keeps events across a clean close and continues the ids', async () => {
    const { repo } = await openRepo(dir);
    const uuid = uuidv7();
    const first = await appendAndIndex(repo, [event('CREATE', uuid), event('SEND', uuid)]);
    expect(repo.stats()).toMatchObject({ events: 2, indexLag: 0, oldestEventTime: T0 });
    await repo.close();
    await repo.close();
    expect(() => repo.append([event('DROP', uuid)])).toThrow(/not open/);
    await expect(repo.waitForIndex()).rejects.toThrow(/not open/);

    const { repo: again } = await openRepo(dir);
    await again.waitForIndex();
    expect(again.search({ flowFileUuid: uuid }).map((r) => r.eventType)).toEqual(['SEND', 'CREATE']);
    expect(again.append([event('DROP', uuid)])).toBe(first + 2);
    await again.waitForIndex();
    expect(again.search({ flowFileUuid: uuid })).toHaveLength(3);
    await again.close();
    await expect(new FileProvenanceRepository({ directory: dir, durability: 'process' }).close()).resolves.toBeUndefined();
  });

  it('keeps what was flushed before a kill -9, re-indexes it on open, and continues the ids', async () => {
    const helper = fileURLToPath(new URL('./kill-child.test-helper.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', helper, dir, '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
    expect(signal, err).toBe('SIGKILL');
    const [first, last] = out.trim().split(' ').map(Number);
    expect(first).toBe(1);
    expect(last).toBe(60_000);

    const { repo } = await openRepo(dir);
    await repo.waitForIndex();
    expect(repo.stats()).toMatchObject({ events: 60_000, indexLag: 0 });
    expect(repo.search({ componentId: 'killed', limit: 10_000 })).toHaveLength(10_000);
    expect(repo.getEvent(1)?.attributes.get('n')).toBe('0');
    expect(repo.getEvent(60_000)?.attributes.get('n')).toBe('59999');
    expect(repo.search({ filename: 'k.txt', limit: 1 })[0]?.eventId).toBe(60_000);
    expect(repo.append([event('CREATE', uuidv7())])).toBe(60_001);
    await repo.waitForIndex();
    expect(repo.getEvent(60_001)?.eventType).toBe('CREATE');
    await repo.close();
  }, 60_000);

  it('drops only the torn frame at the end of the journal', async () => {
    const { repo } = await openRepo(dir);
    const uuid = uuidv7();
    const a = await appendAndIndex(repo, [event('CREATE', uuid), event('ROUTE', uuid)]);
    await appendAndIndex(repo, [event('ATTRIBUTES_MODIFIED', uuid)]);
    const torn = await appendAndIndex(repo, [event('SEND', uuid), event('DROP', uuid)]);
    expect(repo.search({ flowFileUuid: uuid })).toHaveLength(5);
    await repo.close();

    const [segment] = segmentFiles(dir);
    if (segment === undefined) throw new Error('no segment');
    fs.truncateSync(segment, fs.statSync(segment).size - 7);

    const { repo: again, logs } = await openRepo(dir);
    await again.waitForIndex();
    expect(logs.some((l) => l.level === 'WARN' && /torn/.test(l.message))).toBe(true);
    expect(again.search({ flowFileUuid: uuid }).map((r) => r.eventType)).toEqual(['ATTRIBUTES_MODIFIED', 'ROUTE', 'CREATE']);
    expect(again.getEvent(a)?.eventType).toBe('CREATE');
    expect(again.getEvent(torn)).toBeUndefined();
    expect(again.search({ eventType: 'SEND' })).toEqual([]);
    // The dropped ids are assigned again, and the index holds no stale rows for them.
    expect(again.append([event('EXPIRE', uuid)])).toBe(torn);
    await again.waitForIndex();
    expect(again.getEvent(torn)?.eventType).toBe('EXPIRE');
    expect(again.search({ flowFileUuid: uuid }).map((r) => r.eventType)).toEqual([
      'EXPIRE',
      'ATTRIBUTES_MODIFIED',
      'ROUTE',
      'CREATE',
    ]);
    await again.close();
  });

  it('drops garbage after the last frame and keeps every event', async () => {
    const { repo } = await openRepo(dir);
    const first = await appendAndIndex(repo, [event('CREATE', uuidv7()), event('CREATE', uuidv7())]);
    await repo.close();
    const [segment] = segmentFiles(dir);
    if (segment === undefined) throw new Error('no segment');
    fs.appendFileSync(
      segment,
      Buffer.from([0xff, 0xff, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]),
    );
    const { repo: again } = await openRepo(dir);
    await again.waitForIndex();
    expect(again.search({})).toHaveLength(2);
    expect(again.append([event('DROP', uuidv7())])).toBe(first + 2);
    await again.close();
  });

  it('encodes a large append in slices: ids keep the append order, and close writes what was still waiting', async () => {
    const { repo } = await openRepo(dir);
    const big = (n: number) => Array.from({ length: n }, (_, i) => event('DROP', uuidv7(), { attrs: { n: String(i) } }));
    const first = repo.append(big(6_000));
    const late = uuidv7();
    // Appended while the large one is still being encoded: it queues behind it.
    expect(repo.append([event('CREATE', late)])).toBe(first + 6_000);
    await repo.waitForIndex();
    expect(repo.search({ flowFileUuid: late }).map((e) => e.eventId)).toEqual([first + 6_000]);
    expect(repo.getEvent(first + 5_999)?.attributes.get('n')).toBe('5999');

    const second = repo.append(big(9_000));
    expect(second).toBe(first + 6_001);
    await repo.close();
    const { repo: again } = await openRepo(dir);
    await again.waitForIndex();
    expect(again.stats().events).toBe(15_001);
    expect(again.getEvent(second)?.attributes.get('n')).toBe('0');
    expect(again.getEvent(second + 8_999)?.attributes.get('n')).toBe('8999');
    await again.close();
  });

  it('rolls over segments and reads events across them, in both durability modes', async () => {
    for (const durability of ['process', 'power'] as const) {
      const d = tempDir();
      const { repo } = await openRepo(d, { durability, rolloverBytes: 2048 });
      const uuids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const uuid = uuidv7();
        uuids.push(uuid);
        repo.append([event('CREATE', uuid, { eventTime: T0 + i }), event('SEND', uuid, { eventTime: T0 + i })]);
        repo.flush();
        await repo.sync();
      }
      await repo.waitForIndex();
      expect(segmentFiles(d).length).toBeGreaterThan(3);
      expect(repo.search({ eventType: 'SEND' })).toHaveLength(40);
      for (const uuid of uuids) expect(repo.search({ flowFileUuid: uuid })).toHaveLength(2);
      await repo.close();
    }
  });

  it('stores large events and a FORK with thousands of children', async () => {
    const { repo } = await openRepo(dir);
    const parent = uuidv7();
    const kids = Array.from({ length: 3000 }, () => uuidv7());
    const big = 'x'.repeat(300_000);
    const first = await appendAndIndex(repo, [
      event('CONTENT_MODIFIED', parent, { attrs: { filename: 'big.bin', blob: big } }),
      event('FORK', parent, { childUuids: kids }),
      ...kids.map((k) => event('DROP', k)),
    ]);
    expect(repo.getEvent(first)?.attributes.get('blob')).toBe(big);
    expect(repo.getEvent(first + 1)?.childUuids).toEqual(kids);
    expect(repo.search({ flowFileUuid: kids[1234] }).map((r) => r.eventType)).toEqual(['DROP', 'FORK']);
    const g = repo.lineage(kids[10] ?? '');
    expect(g.nodes.filter((n) => n.kind === 'flowfile')).toHaveLength(3001);
    expect(g.nodes.filter((n) => n.kind === 'event')).toHaveLength(3);
    await repo.close();
  });

  it('finds filenames that need JSON escapes', async () => {
    const { repo } = await openRepo(dir);
    const name = 'we"ird\\name\u0001.txt';
    await appendAndIndex(repo, [
      event('CREATE', uuidv7(), { attrs: { filename: name } }),
      event('CREATE', uuidv7(), { attrs: { filename: 'plain' } }),
    ]);
    expect(repo.search({ filename: name }).map((r) => r.attributes.get('filename'))).toEqual([name]);
    expect(repo.search({ attribute: { name: 'filename', value: name } })).toHaveLength(1);
    await repo.close();
  });

  it('deletes whole old segments by age, never the current one', async () => {
    const { repo } = await openRepo(dir, { rolloverBytes: 1024, maxAgeMs: 24 * 3600_000 });
    const old = Date.now() - 40 * 24 * 3600_000;
    const oldUuids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const uuid = uuidv7();
      oldUuids.push(uuid);
      repo.append([event('CREATE', uuid, { eventTime: old + i })]);
      if (i % 5 === 4) repo.flush();
    }
    const fresh = Date.now();
    const first = await appendAndIndex(repo, [
      event('CREATE', uuidv7(), { eventTime: fresh }),
      event('SEND', uuidv7(), { eventTime: fresh }),
    ]);
    const before = segmentFiles(dir).length;
    expect(before).toBeGreaterThan(4);
    await repo.enforceRetention();
    const after = segmentFiles(dir);
    expect(after.length).toBeLessThan(before);
    // Only segments made entirely of old events go; what remains is a suffix of the ids.
    const remaining = repo.search({});
    expect(remaining.map((r) => r.eventId)).toEqual(Array.from({ length: remaining.length }, (_, i) => first + 1 - i));
    expect(remaining.length).toBeLessThan(62);
    expect(repo.getEvent(1)).toBeUndefined();
    expect(repo.lineage(oldUuids[0] ?? '')).toEqual({ nodes: [], links: [], truncated: false });
    expect(repo.search({ flowFileUuid: oldUuids[0] })).toEqual([]);
    expect(repo.stats().events).toBe(remaining.length);

    // Everything old, nothing new: the segment being written survives (11 events of ~210 bytes:
    // segments roll after 5, the last one holds event 11 only and is not due for rollover).
    const { repo: all } = await openRepo(tempDir(), { rolloverBytes: 1024, maxAgeMs: 1 });
    for (let i = 0; i < 11; i++) await appendAndIndex(all, [event('CREATE', uuidv7(), { eventTime: old })]);
    await all.enforceRetention();
    expect(all.search({}).map((r) => r.eventId)).toEqual([11]);
    await all.close();
    await repo.close();
  });

  it('deletes the oldest segments while storage exceeds maxBytes', async () => {
    const { repo } = await openRepo(dir, { rolloverBytes: 8192 });
    for (let i = 0; i < 100; i++) {
      // Recent events: only the size limit applies (T0 is older than the default 30 days).
      const eventTime = Date.now();
      repo.append(
        Array.from({ length: 4 }, () => event('ROUTE', uuidv7(), { eventTime, attrs: { filename: 'f', pad: 'p'.repeat(200) } })),
      );
      repo.flush();
    }
    await repo.waitForIndex();
    await repo.close();
    const segmentBytes = segmentFiles(dir).reduce((n, f) => n + fs.statSync(f).size, 0);
    const indexBytes = indexFileBytes(dir);
    const maxBytes = indexBytes + Math.floor(segmentBytes / 2);

    const { repo: again } = await openRepo(dir, { rolloverBytes: 8192, maxBytes });
    await again.waitForIndex();
    const before = again.stats();
    expect(before.events).toBe(400);
    const indexBefore = indexFileBytes(dir);
    await again.enforceRetention();
    const remaining = segmentFiles(dir).reduce((n, f) => n + fs.statSync(f).size, 0);
    const ids = again.search({}).map((r) => r.eventId);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(400);
    // Retention counts each segment's share of the index (whose freed pages are reused): the estimate
    // is within maxBytes, give or take the last segment deleted.
    const estimate = remaining + (indexBefore * ids.length) / 400;
    expect(estimate).toBeLessThanOrEqual(maxBytes);
    expect(estimate).toBeGreaterThan(maxBytes - 2 * (8192 + indexBefore / 20));
    expect(ids[0]).toBe(400);
    expect(ids.at(-1)).toBe(400 - ids.length + 1);
    expect(again.stats().events).toBe(ids.length);
    await again.close();
  });

  it('runs retention on its timer', async () => {
    const { repo } = await openRepo(dir, { rolloverBytes: 2048, maxAgeMs: 1000, retentionIntervalMs: 50 });
    const old = Date.now() - 60_000;
    for (let i = 0; i < 10; i++) await appendAndIndex(repo, [event('CREATE', uuidv7(), { eventTime: old })]);
    await appendAndIndex(repo, [event('CREATE', uuidv7(), { eventTime: Date.now() + 60_000 })]);
    const start = Date.now();
    while (repo.getEvent(1) !== undefined && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(repo.getEvent(1)).toBeUndefined();
    expect(repo.getEvent(11)).toBeDefined();
    await repo.close();
  });

  it('reports a failed indexer: waitForIndex rejects and the failure is logged', async () => {
    const { repo, logs } = await openRepo(dir);
    await appendAndIndex(repo, [event('CREATE', uuidv7())]);
    // Another process holding the index's write lock past SQLite's 5 s busy timeout.
    const blocker = new Database(path.join(dir, INDEX_FILE));
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      repo.append([event('SEND', uuidv7())]);
      await expect(repo.waitForIndex()).rejects.toThrow(/locked|busy/i);
      await expect(repo.waitForIndex()).rejects.toThrow();
      expect(logs.some((l) => l.level === 'ERROR' && /indexer failed/.test(l.message))).toBe(true);
      // Appends keep working: the journal stays the record.
      expect(repo.append([event('DROP', uuidv7())])).toBe(3);
      repo.flush();
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    await repo.close();
    // The next open indexes what the failed worker missed.
    const { repo: again } = await openRepo(dir);
    await again.waitForIndex();
    expect(again.search({}).map((r) => r.eventType)).toEqual(['DROP', 'SEND', 'CREATE']);
    await again.close();
  }, 30_000);

  it('refuses calls while opening, and a close during open makes open fail cleanly', async () => {
    const repo = new FileProvenanceRepository({ directory: dir, durability: 'process' });
    const opening = repo.open();
    expect(() => repo.append([event('CREATE', uuidv7())])).toThrow(/not open/);
    expect(() => repo.search({})).toThrow(/not open/);
    await repo.close();
    await expect(opening).rejects.toThrow(/closed while opening/);
    const { repo: again } = await openRepo(dir);
    expect(again.append([event('CREATE', uuidv7())])).toBe(1);
    await again.close();
  });

  it('rejects open when the index cannot be created', async () => {
    fs.mkdirSync(path.join(dir, INDEX_FILE), { recursive: true });
    const repo = new FileProvenanceRepository({ directory: dir, durability: 'process' });
    await expect(repo.open()).rejects.toThrow();
    await expect(repo.open()).rejects.toThrow(/once/);
    await repo.close();
  });

  it('rebuilds an index it cannot read from the journal', async () => {
    const { repo } = await openRepo(dir);
    await appendAndIndex(repo, [event('CREATE', uuidv7()), event('SEND', uuidv7())]);
    await repo.close();
    fs.writeFileSync(path.join(dir, INDEX_FILE), 'this is not a database, just garbage bytes '.repeat(200));
    const { repo: again, logs } = await openRepo(dir);
    await again.waitForIndex();
    expect(again.search({}).map((r) => r.eventType)).toEqual(['SEND', 'CREATE']);
    expect(logs.some((l) => /rebuil/.test(l.message))).toBe(true);
    await again.close();
  });
});
