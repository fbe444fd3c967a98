import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContentClaim } from '../flowfile/claim.ts';
import { contentOf } from './crash-child.test-helper.ts';
import type { ContentRepositoryOptions } from './index.ts';
import { ContentNotFoundError, ContentRepositoryFullError, FileContentRepository } from './index.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sectionDir(dir: string, resourceId: string): string {
  return join(dir, String(Number(resourceId.split('-')[1]) % 1024));
}
const livePath = (dir: string, id: string) => join(sectionDir(dir, id), id);
const archivePath = (dir: string, id: string) => join(sectionDir(dir, id), 'archive', id);

/** Resource files in the live area (all sections), but empty ones: spares created ahead of need. */
function liveFiles(dir: string): string[] {
  return allLiveFiles(dir, false);
}

/** Every file in the live area; with `empty`, spares too. */
function allLiveFiles(dir: string, empty = true): string[] {
  const out: string[] = [];
  for (const section of readdirSync(dir)) {
    for (const entry of readdirSync(join(dir, section), { withFileTypes: true })) {
      if (entry.isFile() && (empty || statSync(join(dir, section, entry.name)).size > 0)) out.push(entry.name);
    }
  }
  return out.sort();
}

/** Byte comparison (vitest's deep equality walks Buffers element by element: slow for big ones). */
function expectBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

let dir: string;
const repos: FileContentRepository[] = [];

function repo(options: Partial<ContentRepositoryOptions> = {}): FileContentRepository {
  const r = new FileContentRepository({ directory: dir, durability: 'process', releaseGraceMs: 0, ...options });
  repos.push(r);
  return r;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-content-'));
});

afterEach(async () => {
  for (const r of repos.splice(0)) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('FileContentRepository: write and read', () => {
  it('round-trips small content, and two small contents share a resource file', () => {
    const content = repo();
    const a = content.write(Buffer.from('hello'));
    const b = content.write(Buffer.from('world!'));
    expect(a).toEqual({ resourceId: a.resourceId, offset: 0, length: 5 });
    expect(b.resourceId).toBe(a.resourceId);
    expect(b.offset).toBe(5);
    expect(content.read(a).toString()).toBe('hello');
    expect(content.read(b).toString()).toBe('world!');
    expect(a.resourceId).toMatch(/^\d+-\d+$/);
    expect(statSync(livePath(dir, a.resourceId)).size).toBe(11);
  });

  it('gathers small contents in memory and writes them at flush, copied from the caller', () => {
    const content = repo();
    const data = Buffer.from('first');
    const a = content.write(data);
    data.write('XXXXX'); // the caller reuses its buffer: the content must not change
    const b = content.write(Buffer.from('second'));
    const path = livePath(dir, a.resourceId);
    // Not yet handed to the OS (one write per batch, not per content)...
    expect(statSync(path).size).toBe(0);
    // ...yet readable at once,
    expect(content.read(b).toString()).toBe('second');
    // and on disk after flush(), which the FlowFile journal calls before naming these claims.
    content.write(Buffer.from('third'));
    content.flush();
    expect(readFileSync(path).toString()).toBe('firstsecondthird');
    expect(content.read(a).toString()).toBe('first');
  });

  it('flushes gathered content on its own soon after, without a journal write', async () => {
    const content = repo();
    const a = content.write(Buffer.from('alone'));
    await sleep(20);
    expect(readFileSync(livePath(dir, a.resourceId)).toString()).toBe('alone');
  });

  it('returns a readable claim for empty content', async () => {
    const content = repo();
    const empty = content.write(new Uint8Array(0));
    expect(empty.length).toBe(0);
    expect(content.read(empty).length).toBe(0);
    expect(content.isAvailable(empty)).toBe(true);
    expect((await collect(content.readStream(empty))).length).toBe(0);
    const writer = content.openWriter();
    const alsoEmpty = writer.close();
    expect(content.read(alsoEmpty).length).toBe(0);
  });

  it('fills a resource file up to maxAppendableSize, then starts another; larger content gets its own file', () => {
    const content = repo({ maxAppendableSize: 1024 });
    const exact = randomBytes(1024);
    const a = content.write(exact);
    const b = content.write(Buffer.from('next'));
    expect(b.resourceId).not.toBe(a.resourceId);
    expectBytes(content.read(a), exact);

    const small = content.write(Buffer.from('x'.repeat(1000)));
    expect(small.resourceId).toBe(b.resourceId);
    // An appendable file takes appends while it is below the limit, so it may end a little above it.
    const overflow = content.write(Buffer.from('y'.repeat(100)));
    expect(overflow.resourceId).toBe(b.resourceId);
    expect(content.write(Buffer.from('z')).resourceId).not.toBe(b.resourceId);

    const big = randomBytes(1025);
    const own = content.write(big);
    expect(own.offset).toBe(0);
    expect(statSync(livePath(dir, own.resourceId)).size).toBe(1025);
    expectBytes(content.read(own), big);
    // The appendable file is not disturbed by the large one.
    expect(content.write(Buffer.from('after')).offset).toBeGreaterThan(0);
  });

  it('reads ranges and rejects ranges outside the claim', async () => {
    const content = repo();
    content.write(Buffer.from('prefix-'));
    const claim = content.write(Buffer.from('0123456789'));
    expect(content.read(claim, 2, 3).toString()).toBe('234');
    expect(content.read(claim, 7).toString()).toBe('789');
    expect(content.read(claim, 10).toString()).toBe('');
    expect((await collect(content.readStream(claim, 3, 4))).toString()).toBe('3456');
    expect((await collect(content.readStream(claim))).toString()).toBe('0123456789');
    for (const [offset, length] of [
      [-1, 2],
      [0, 11],
      [11, undefined],
      [5, 6],
      [1.5, 1],
      [0, -1],
    ] as const) {
      expect(() => content.read(claim, offset, length)).toThrow(RangeError);
      expect(() => content.readStream(claim, offset, length)).toThrow(RangeError);
    }
  });

  it('throws ContentNotFoundError naming the resource when the bytes are gone', async () => {
    const content = repo();
    const missing: ContentClaim = { resourceId: '1700000000000-5', offset: 0, length: 3 };
    expect(() => content.read(missing)).toThrow(ContentNotFoundError);
    expect(() => content.read(missing)).toThrow(/1700000000000-5/);
    expect(content.isAvailable(missing)).toBe(false);
    await expect(collect(content.readStream(missing))).rejects.toBeInstanceOf(ContentNotFoundError);
    // Ids that are not resource ids never reach the file system.
    expect(() => content.read({ resourceId: '../../etc/passwd', offset: 0, length: 1 })).toThrow(ContentNotFoundError);
    // A claim beyond the end of its file (torn tail) is not available.
    const real = content.write(Buffer.from('abc'));
    const beyond = { ...real, length: 10 };
    expect(content.isAvailable(beyond)).toBe(false);
    expect(() => content.read(beyond)).toThrow(ContentNotFoundError);
    await expect(collect(content.readStream(beyond))).rejects.toBeInstanceOf(ContentNotFoundError);
  });

  it('keeps read descriptors bounded and does not leak write descriptors on rollover', () => {
    const content = repo({ maxAppendableSize: 100 });
    const before = openFds();
    const claims: ContentClaim[] = [];
    for (let i = 0; i < 400; i++) claims.push(content.write(Buffer.alloc(100, i)));
    for (const claim of claims) expect(content.read(claim)[0]).toBe(claims.indexOf(claim) % 256);
    expect(openFds() - before).toBeLessThanOrEqual(128 + 2);
  });

  it('refuses writes after close', async () => {
    const content = repo();
    await content.close();
    expect(() => content.write(Buffer.from('x'))).toThrow(/closed/);
  });
});

describe('FileContentRepository: writers and streams', () => {
  it('puts small writer content into the shared file, safely interleaved with other writes', () => {
    const content = repo();
    const writer = content.openWriter();
    writer.write(Buffer.from('abc'));
    const other = content.write(Buffer.from('OTHER'));
    writer.write(Buffer.from('def'));
    expect(writer.length).toBe(6);
    const claim = writer.close();
    expect(claim.resourceId).toBe(other.resourceId);
    expect(content.read(claim).toString()).toBe('abcdef');
    expect(content.read(other).toString()).toBe('OTHER');
    expect(() => writer.write(Buffer.from('late'))).toThrow(/closed/);
  });

  it('copies buffered chunks, so the caller may reuse its buffer', () => {
    const content = repo();
    const writer = content.openWriter();
    const chunk = Buffer.from('aaaa');
    writer.write(chunk);
    chunk.fill('b');
    writer.write(chunk);
    expect(content.read(writer.close()).toString()).toBe('aaaabbbb');
  });

  it('spills content above 64 KiB into a file of its own while other writes go on', async () => {
    const content = repo();
    const writer = content.openWriter();
    const parts: Buffer[] = [];
    const others: [ContentClaim, Buffer][] = [];
    for (let i = 0; i < 40; i++) {
      const part = randomBytes(5000);
      parts.push(part);
      if (i % 2 === 0) writer.write(part);
      else await writer.writeAsync(part);
      const other = randomBytes(100);
      others.push([content.write(other), other]);
    }
    const claim = writer.close();
    expect(claim.offset).toBe(0);
    expect(claim.length).toBe(200_000);
    expect(others.every(([c]) => c.resourceId !== claim.resourceId)).toBe(true);
    expectBytes(content.read(claim), Buffer.concat(parts));
    for (const [c, bytes] of others) expectBytes(content.read(c), bytes);
  });

  it('abort leaves nothing referenced and deletes a spilled file at once', async () => {
    const content = repo();
    const small = content.openWriter();
    small.write(Buffer.from('never'));
    small.abort();
    expect(liveFiles(dir)).toEqual([]);

    const big = content.openWriter();
    await big.writeAsync(randomBytes(600_000));
    expect(liveFiles(dir)).toHaveLength(1);
    big.abort();
    expect(liveFiles(dir)).toEqual([]);
    expect(content.stats().resourceFiles).toBe(0);
    expect(() => big.close()).toThrow(/aborted/);
    big.abort();
  });

  it('refuses close() while async writes are pending', async () => {
    const content = repo();
    const writer = content.openWriter();
    await writer.writeAsync(randomBytes(70_000));
    // Above the batch size: written at once, so in flight here.
    const pending = writer.writeAsync(randomBytes(600_000));
    expect(() => writer.close()).toThrow(/pending/);
    await pending;
    expect(writer.close().length).toBe(670_000);
  });

  it('streams 50 MiB through writeStream without holding it in memory', async () => {
    const content = repo();
    const chunk = Buffer.alloc(64 * 1024);
    const hash = createHash('sha256');
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 800; i++) {
        chunk.fill(i % 251);
        chunk.writeUInt32BE(i, 0);
        hash.update(chunk);
        yield chunk;
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
      }
    }
    const claim = await content.writeStream(source());
    expect(claim.length).toBe(50 * 1024 * 1024);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
    const readBack = createHash('sha256');
    for await (const part of content.readStream(claim)) readBack.update(part as Buffer);
    expect(readBack.digest('hex')).toBe(hash.digest('hex'));
    expect(content.read(claim, 64 * 1024 * 799, 4).readUInt32BE(0)).toBe(799);
  });

  it('gathers small async chunks of a large streamed content into batched writes', async () => {
    const content = repo();
    const writer = content.openWriter();
    const hash = createHash('sha256');
    for (let i = 0; i < 5000; i++) {
      const part = Buffer.alloc(1000, i % 256);
      hash.update(part);
      await writer.writeAsync(part);
    }
    const claim = writer.close();
    expect(claim.length).toBe(5_000_000);
    expect(createHash('sha256').update(content.read(claim)).digest('hex')).toBe(hash.digest('hex'));
  });

  it('writeStream aborts on a failing source and leaves no file behind', async () => {
    const content = repo();
    async function* source(): AsyncGenerator<Uint8Array> {
      yield randomBytes(100_000);
      throw new Error('upstream broke');
    }
    await expect(content.writeStream(source())).rejects.toThrow('upstream broke');
    expect(liveFiles(dir)).toEqual([]);
  });
});

describe('FileContentRepository: spare files created ahead of need', () => {
  /** Waits until the files in the live area (spares included) stop changing; returns them. */
  async function settledLiveFiles(): Promise<string[]> {
    let files = allLiveFiles(dir);
    for (let same = 0, i = 0; same < 5 && i < 400; i++) {
      await sleep(5);
      const now = allLiveFiles(dir);
      same = now.join() === files.join() ? same + 1 : 0;
      files = now;
    }
    return files;
  }

  it('hands out spares for new files, writes content into them correctly, and close() deletes the rest', async () => {
    const content = repo({ maxAppendableSize: 1024 });
    const first = randomBytes(3000);
    const a = content.write(first);
    content.claimant(a.resourceId);
    // The first file is created on the spot; spares follow in the background, invisible as content.
    const spares = (await settledLiveFiles()).filter((id) => id !== a.resourceId);
    expect(spares.length).toBeGreaterThanOrEqual(2);
    expect(liveFiles(dir)).toEqual([a.resourceId]);
    expect(content.stats().resourceFiles).toBe(1);

    const second = randomBytes(5000);
    const b = content.write(second);
    content.claimant(b.resourceId);
    expect(spares).toContain(b.resourceId);
    const writer = content.openWriter();
    const parts = [randomBytes(70_000), randomBytes(100_000)];
    for (const part of parts) await writer.writeAsync(part);
    const c = writer.close();
    content.claimant(c.resourceId);
    expect(spares).toContain(c.resourceId);
    expect(new Set([a.resourceId, b.resourceId, c.resourceId]).size).toBe(3);
    expectBytes(content.read(a), first);
    expectBytes(content.read(b), second);
    expectBytes(content.read(c), Buffer.concat(parts));
    expect(statSync(livePath(dir, b.resourceId)).size).toBe(5000);

    await settledLiveFiles();
    await content.close();
    // Only the claimed contents stay; no spare is left behind.
    expect(allLiveFiles(dir)).toEqual([a.resourceId, b.resourceId, c.resourceId].sort());
  });

  it('a restart deletes spares a crash left behind, without archiving them or taking them for content', async () => {
    const before = repo({ maxAppendableSize: 1024, releaseGraceMs: 60_000 });
    const kept = before.write(randomBytes(3000));
    before.claimant(kept.resourceId);
    const spares = (await settledLiveFiles()).filter((id) => id !== kept.resourceId);
    expect(spares.length).toBeGreaterThan(0);
    // A crash: the instance is abandoned with its spares on disk.
    const keptBytes = before.read(kept);

    const after = repo({ maxAppendableSize: 1024 });
    await after.recover(new Map([[kept.resourceId, 1]]));
    expect(allLiveFiles(dir)).toEqual([kept.resourceId]);
    for (const id of spares) expect(existsSync(archivePath(dir, id))).toBe(false);
    expect(after.stats()).toMatchObject({ resourceFiles: 1, archivedFiles: 0 });
    expectBytes(after.read(kept), keptBytes);
    const fresh = randomBytes(2000);
    const claim = after.write(fresh);
    expectBytes(after.read(claim), fresh);
    expect(claim.resourceId).not.toBe(kept.resourceId);
  });
});

describe('FileContentRepository: reference counting, archive and retention', () => {
  it('archives a released file, keeps it readable, then retention deletes it', async () => {
    const content = repo({ maxAppendableSize: 1024 });
    const claim = content.write(randomBytes(2000));
    content.claimant(claim.resourceId);
    content.claimant(claim.resourceId);
    expect(content.claimantCount(claim.resourceId)).toBe(2);
    await sleep(5);
    content.release(claim.resourceId);
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(true);
    content.release(claim.resourceId);
    // Released at once: the last write is older than the grace (0).
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(false);
    expect(existsSync(archivePath(dir, claim.resourceId))).toBe(true);
    expect(content.read(claim).length).toBe(2000);
    expect(content.isAvailable(claim)).toBe(true);
    expect(content.stats()).toMatchObject({ resourceFiles: 0, archivedFiles: 1, archivedBytes: 2000, liveBytes: 0 });

    await content.housekeeping();
    expect(content.isAvailable(claim)).toBe(true);
    content.configure({ archiveMaxAgeMs: 0 });
    await sleep(5);
    await content.housekeeping();
    expect(existsSync(archivePath(dir, claim.resourceId))).toBe(false);
    expect(content.isAvailable(claim)).toBe(false);
    expect(() => content.read(claim)).toThrow(ContentNotFoundError);
    expect(() => content.read(claim)).toThrow(claim.resourceId);
    expect(content.stats()).toMatchObject({ archivedFiles: 0, archivedBytes: 0 });
  });

  it('deletes the oldest archived files first when the archive is over its size limit', async () => {
    const content = repo({ maxAppendableSize: 1000 });
    const claims: ContentClaim[] = [];
    for (let i = 0; i < 4; i++) claims.push(content.write(randomBytes(1000)));
    await sleep(10);
    expect(content.stats().archivedFiles).toBe(4);
    content.configure({ archiveMaxBytes: 2500 });
    await content.housekeeping();
    expect(claims.map((c) => content.isAvailable(c))).toEqual([false, false, true, true]);
  });

  it('deletes released files instead when archiving is off', async () => {
    const content = repo({ maxAppendableSize: 10, archiveEnabled: false });
    const claim = content.write(Buffer.from('0123456789'));
    content.claimant(claim.resourceId);
    await sleep(5);
    content.release(claim.resourceId);
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(false);
    expect(existsSync(archivePath(dir, claim.resourceId))).toBe(false);
    expect(() => content.read(claim)).toThrow(ContentNotFoundError);
  });

  it('releases a file that was never claimed once it stops taking appends', async () => {
    const content = repo({ maxAppendableSize: 10 });
    const rolledBack = content.write(Buffer.from('0123456789'));
    // Never released before the caller had a chance to claim it...
    expect(existsSync(livePath(dir, rolledBack.resourceId))).toBe(true);
    await sleep(20);
    // ...but released on a later tick when nobody did.
    expect(existsSync(archivePath(dir, rolledBack.resourceId))).toBe(true);
    // The current appendable file stays while it takes appends, even at zero claimants.
    const current = content.write(Buffer.from('abc'));
    await sleep(20);
    expect(existsSync(livePath(dir, current.resourceId))).toBe(true);
  });

  it('holds unclaimed files for releaseGraceMs after their last write', async () => {
    const content = repo({ maxAppendableSize: 10, releaseGraceMs: 300 });
    const claim = content.write(Buffer.from('0123456789'));
    await sleep(10);
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(true);
    content.claimant(claim.resourceId);
    await sleep(400);
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(true);
    content.release(claim.resourceId);
    expect(existsSync(archivePath(dir, claim.resourceId))).toBe(true);
  });

  it('restores an archived file when a new claimant appears (replay)', async () => {
    const content = repo({ maxAppendableSize: 10 });
    const claim = content.write(Buffer.from('0123456789'));
    await sleep(20);
    expect(existsSync(archivePath(dir, claim.resourceId))).toBe(true);
    content.claimant(claim.resourceId);
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(true);
    expect(content.claimantCount(claim.resourceId)).toBe(1);
    expect(content.stats()).toMatchObject({ resourceFiles: 1, archivedFiles: 0 });
    content.configure({ archiveMaxAgeMs: 0 });
    await content.housekeeping();
    expect(content.read(claim).toString()).toBe('0123456789');
  });

  it('lets an open read stream finish while its file is archived', async () => {
    const content = repo({ maxAppendableSize: 1000 });
    const bytes = randomBytes(300_000);
    const claim = content.write(bytes);
    content.claimant(claim.resourceId);
    const stream = content.readStream(claim);
    await sleep(5);
    content.release(claim.resourceId);
    expect(existsSync(archivePath(dir, claim.resourceId))).toBe(true);
    expectBytes(await collect(stream), bytes);
  });

  it('applies retention from its housekeeping timer', async () => {
    const content = repo({ maxAppendableSize: 10 });
    const claim = content.write(Buffer.from('0123456789'));
    await sleep(20);
    expect(content.stats().archivedFiles).toBe(1);
    content.configure({ housekeepingIntervalMs: 10, archiveMaxAgeMs: 0 });
    await sleep(100);
    expect(content.isAvailable(claim)).toBe(false);
  });

  it('throws on releases that do not match a claimant', () => {
    const content = repo();
    const claim = content.write(Buffer.from('x'));
    expect(() => content.release('1700000000000-1')).toThrow(/1700000000000-1/);
    expect(() => content.release(claim.resourceId)).toThrow(new RegExp(`${claim.resourceId}.*already 0`));
    expect(() => content.claimant('1700000000000-1')).toThrow(ContentNotFoundError);
    content.claimant(claim.resourceId);
    content.release(claim.resourceId);
    expect(() => content.release(claim.resourceId)).toThrow(/imbalance/);
  });
});

describe('FileContentRepository: recovery', () => {
  it('recovers every claimed content after kill -9 of a writing process', async () => {
    const script = fileURLToPath(new URL('./crash-child.test-helper.ts', import.meta.url));
    const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
    const lines = await new Promise<string[]>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const seen: string[] = [];
      let buffer = '';
      let stderr = '';
      let killing = false;
      const target = 2000 + Math.floor(Math.random() * 2000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const complete = buffer.split('\n');
        buffer = complete.pop() ?? '';
        seen.push(...complete);
        if (seen.length >= target && !killing) {
          killing = true;
          child.kill('SIGKILL');
        }
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL' && killing) resolve(seen);
        else reject(new Error(`child exited (${code}, ${signal}) before the kill: ${stderr}`));
      });
    });
    const counts = new Map<string, number>();
    const claimed: [number, ContentClaim][] = [];
    for (const line of lines) {
      const [, index, resourceId, offset, length, isClaimed] = line.split(' ');
      const claim = { resourceId: resourceId as string, offset: Number(offset), length: Number(length) };
      if (isClaimed === '1') {
        claimed.push([Number(index), claim]);
        counts.set(claim.resourceId, (counts.get(claim.resourceId) ?? 0) + 1);
      }
    }
    expect(claimed.length).toBeGreaterThan(1000);

    const after = repo({ maxAppendableSize: 4096 });
    await after.recover(counts);
    for (const [index, claim] of claimed) expectBytes(after.read(claim), contentOf(index));
    // Only referenced files stay live; the rest (rolled back, torn tails) went to the archive.
    expect(liveFiles(dir)).toEqual([...counts.keys()].sort());
    expect(after.stats().archivedFiles).toBeGreaterThan(0);
    const fresh = after.write(Buffer.from('after the crash'));
    expect(counts.has(fresh.resourceId)).toBe(false);
  });

  it('archives unreferenced files, keeps referenced ones and never appends to pre-crash files', async () => {
    // A long grace: the abandoned instance must not act any more (a killed process has no timers).
    const before = repo({ maxAppendableSize: 1000, releaseGraceMs: 60_000 });
    const kept = before.write(randomBytes(1000));
    const dropped = before.write(randomBytes(1000));
    const tail = before.write(Buffer.from('in the appendable file at the crash'));
    before.claimant(kept.resourceId);
    // A crash: the instance is abandoned (no close), its files stay as they are.
    const keptBytes = before.read(kept);

    const after = repo({ maxAppendableSize: 1000 });
    const phantom = '1600000000000-7';
    await after.recover(
      new Map([
        [kept.resourceId, 2],
        [phantom, 1],
      ]),
    );
    expectBytes(after.read(kept), keptBytes);
    expect(after.claimantCount(kept.resourceId)).toBe(2);
    expect(existsSync(livePath(dir, dropped.resourceId))).toBe(false);
    expect(existsSync(archivePath(dir, dropped.resourceId))).toBe(true);
    expect(existsSync(archivePath(dir, tail.resourceId))).toBe(true);
    expect(liveFiles(dir)).toEqual([kept.resourceId]);
    expect(after.read(dropped).length).toBe(1000);
    expect(after.stats()).toMatchObject({ resourceFiles: 1, archivedFiles: 2, liveBytes: 1000 });

    const fresh = after.write(Buffer.from('new'));
    expect([kept.resourceId, dropped.resourceId, tail.resourceId]).not.toContain(fresh.resourceId);
    expect(fresh.offset).toBe(0);

    // Content the FlowFile repository references but whose file is gone: unreadable, releases balance.
    expect(after.claimantCount(phantom)).toBe(1);
    expect(() => after.read({ resourceId: phantom, offset: 0, length: 1 })).toThrow(ContentNotFoundError);
    after.release(phantom);
    expect(() => after.release(phantom)).toThrow(/imbalance/);

    await sleep(5);
    after.release(kept.resourceId);
    after.release(kept.resourceId);
    expect(existsSync(archivePath(dir, kept.resourceId))).toBe(true);
    await expect(after.recover(new Map())).rejects.toThrow(/once/);
  });

  it('indexes the archive on recovery so retention applies to files archived before the restart', async () => {
    const before = repo({ maxAppendableSize: 10 });
    const claim = before.write(Buffer.from('0123456789'));
    await sleep(20);
    expect(existsSync(archivePath(dir, claim.resourceId))).toBe(true);

    const after = repo({ maxAppendableSize: 10 });
    await after.recover(new Map());
    expect(after.stats()).toMatchObject({ archivedFiles: 1, archivedBytes: 10 });
    expect(after.read(claim).toString()).toBe('0123456789');
    after.configure({ archiveMaxAgeMs: 0 });
    await after.housekeeping();
    expect(after.isAvailable(claim)).toBe(false);
  });

  it('restores archived content that recovered FlowFiles still reference', async () => {
    const before = repo({ maxAppendableSize: 10 });
    const claim = before.write(Buffer.from('0123456789'));
    await sleep(20);
    const after = repo({ maxAppendableSize: 10 });
    await after.recover(new Map([[claim.resourceId, 1]]));
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(true);
    expect(after.claimantCount(claim.resourceId)).toBe(1);
  });

  it('deletes unreferenced files on recovery when archiving is off', async () => {
    const before = repo({ maxAppendableSize: 10, archiveEnabled: false, releaseGraceMs: 60_000 });
    const claim = before.write(Buffer.from('0123456789'));
    const after = repo({ archiveEnabled: false });
    await after.recover(new Map());
    expect(existsSync(livePath(dir, claim.resourceId))).toBe(false);
    expect(after.stats()).toMatchObject({ resourceFiles: 0, archivedFiles: 0 });
  });

  it('reads a recovered file with a torn tail up to the end of its complete contents', async () => {
    const before = repo({ releaseGraceMs: 60_000 });
    const claim = before.write(Buffer.from('complete'));
    appendFileSync(livePath(dir, claim.resourceId), Buffer.from([1, 2, 3]));
    const after = repo();
    await after.recover(new Map([[claim.resourceId, 1]]));
    expect(after.read(claim).toString()).toBe('complete');
  });
});

describe('FileContentRepository: disk watermark', () => {
  it('refuses writes above the watermark, says so once, and resumes when it clears', () => {
    const events: [boolean, string][] = [];
    const content = repo({ onWatermark: (full, message) => events.push([full, message]) });
    const before = content.write(Buffer.from('before'));
    expect(content.isFull()).toBe(false);

    content.configure({ minFreeBytes: Number.MAX_SAFE_INTEGER });
    expect(content.isFull()).toBe(true);
    expect(content.stats().full).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]?.[0]).toBe(true);
    let error: unknown;
    try {
      content.write(Buffer.from('refused'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContentRepositoryFullError);
    const message = (error as Error).message;
    expect(message).toContain(dir);
    expect(message).toMatch(/full: disk \d+\.\d% used/);
    expect(message).toMatch(/free disk space/);
    expect(message).toMatch(/minFreeBytes/);
    expect(() => content.openWriter()).toThrow(ContentRepositoryFullError);
    expect(() => content.write(Buffer.from('again'))).toThrow(ContentRepositoryFullError);
    expect(events).toHaveLength(1);
    // Reads go on while full.
    expect(content.read(before).toString()).toBe('before');

    content.configure({ minFreeBytes: 0 });
    expect(content.isFull()).toBe(false);
    expect(events).toHaveLength(2);
    expect(events[1]?.[0]).toBe(false);
    expect(content.read(content.write(Buffer.from('resumed'))).toString()).toBe('resumed');
  });

  it('goes full on the usage fraction too, and a writer stops mid-content', async () => {
    const content = repo();
    const writer = content.openWriter();
    writer.write(Buffer.from('partial'));
    content.configure({ diskWatermark: 0.000001 });
    expect(() => writer.write(Buffer.from('more'))).toThrow(ContentRepositoryFullError);
    await expect(content.writeStream((async function* () {})())).rejects.toBeInstanceOf(ContentRepositoryFullError);
    writer.abort();
    content.configure({ diskWatermark: 0.999999 });
    expect(content.isFull()).toBe(false);
  });

  it('cleans up the archive when the disk is over archiveMaxUsage', async () => {
    const content = repo({ maxAppendableSize: 10 });
    const claim = content.write(Buffer.from('0123456789'));
    await sleep(20);
    expect(content.stats().archivedFiles).toBe(1);
    content.configure({ archiveMaxUsage: 0.000001 });
    await content.housekeeping();
    expect(content.isAvailable(claim)).toBe(false);
    expect(content.stats().archivedFiles).toBe(0);
    expect(content.isFull()).toBe(false);
  });

  it('reports disk usage and free space', () => {
    const stats = repo().stats();
    expect(stats.diskUsage).toBeGreaterThan(0);
    expect(stats.diskUsage).toBeLessThan(1);
    expect(stats.diskFreeBytes).toBeGreaterThan(0);
  });

  it('rejects invalid settings', () => {
    expect(() => repo({ diskWatermark: 1.5 })).toThrow(RangeError);
    expect(() => repo().configure({ maxAppendableSize: 0 })).toThrow(RangeError);
  });
});

describe('FileContentRepository: power durability', () => {
  it('syncs written files and directories, and data stays readable', async () => {
    const content = repo({ durability: 'power', maxAppendableSize: 1000 });
    const fdsBefore = openFds();
    const claims: [ContentClaim, Buffer][] = [];
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(700);
      claims.push([content.write(bytes), bytes]);
    }
    const writer = content.openWriter();
    await writer.writeAsync(randomBytes(100_000));
    const big = writer.close();
    await Promise.all([content.sync(), content.sync()]);
    await content.sync();
    for (const [claim, bytes] of claims) expectBytes(content.read(claim), bytes);
    expect(content.read(big).length).toBe(100_000);
    // Sealed files keep their write descriptor only until they are synced.
    expect(openFds() - fdsBefore).toBeLessThanOrEqual(128 + 3);
  });

  it('sync is a no-op in process durability', async () => {
    const content = repo();
    content.write(Buffer.from('x'));
    await expect(content.sync()).resolves.toBeUndefined();
  });
});
