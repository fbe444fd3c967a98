import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryContentRepositoryOptions } from './index.ts';
import { ContentNotFoundError, ContentRepositoryFullError, MemoryContentRepository } from './index.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const repos: MemoryContentRepository[] = [];
function repo(options: MemoryContentRepositoryOptions = {}): MemoryContentRepository {
  const r = new MemoryContentRepository({ releaseGraceMs: 0, ...options });
  repos.push(r);
  return r;
}

afterEach(async () => {
  for (const r of repos.splice(0)) await r.close();
});

describe('MemoryContentRepository', () => {
  it('round-trips content, shares resources below maxAppendableSize and gives larger content its own', async () => {
    const content = repo({ maxAppendableSize: 100 });
    const a = content.write(Buffer.from('hello'));
    const b = content.write(Buffer.from('world'));
    expect(b).toEqual({ resourceId: a.resourceId, offset: 5, length: 5 });
    expect(content.read(a).toString()).toBe('hello');
    expect(content.read(b, 1, 3).toString()).toBe('orl');
    expect((await collect(content.readStream(b, 2))).toString()).toBe('rld');
    const big = randomBytes(101);
    const own = content.write(big);
    expect(own.resourceId).not.toBe(a.resourceId);
    expect(content.read(own).equals(big)).toBe(true);
    const empty = content.write(new Uint8Array(0));
    expect(content.read(empty).length).toBe(0);
    expect(() => content.read(b, 4, 2)).toThrow(RangeError);
    expect(() => content.readStream(b, -1)).toThrow(RangeError);
  });

  it('returns copies, so callers cannot change stored content', () => {
    const content = repo();
    const source = Buffer.from('abc');
    const claim = content.write(source);
    source.fill('x');
    content.read(claim).fill('y');
    expect(content.read(claim).toString()).toBe('abc');
  });

  it('builds content with a writer and a stream', async () => {
    const content = repo({ maxAppendableSize: 1000 });
    const writer = content.openWriter();
    writer.write(Buffer.from('ab'));
    await writer.writeAsync(Buffer.from('cd'));
    expect(writer.length).toBe(4);
    expect(content.read(writer.close()).toString()).toBe('abcd');
    expect(() => writer.write(Buffer.from('x'))).toThrow(/closed/);
    const aborted = content.openWriter();
    aborted.write(Buffer.from('gone'));
    aborted.abort();
    async function* source() {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(500, i);
    }
    const streamed = await content.writeStream(source());
    expect(streamed.length).toBe(5000);
    expect(content.read(streamed, 4999, 1)[0]).toBe(9);
    expect(content.stats().liveBytes).toBe(5004);
  });

  it('counts claimants, drops released resources and reports them gone', async () => {
    const content = repo({ maxAppendableSize: 10 });
    const claim = content.write(Buffer.from('0123456789'));
    content.claimant(claim.resourceId);
    content.claimant(claim.resourceId);
    expect(content.claimantCount(claim.resourceId)).toBe(2);
    await sleep(5);
    content.release(claim.resourceId);
    expect(content.isAvailable(claim)).toBe(true);
    content.release(claim.resourceId);
    expect(content.isAvailable(claim)).toBe(false);
    expect(() => content.read(claim)).toThrow(ContentNotFoundError);
    expect(() => content.read(claim)).toThrow(claim.resourceId);
    await expect(collect(content.readStream(claim))).rejects.toBeInstanceOf(ContentNotFoundError);
    expect(() => content.release(claim.resourceId)).toThrow(claim.resourceId);
    expect(() => content.claimant(claim.resourceId)).toThrow(ContentNotFoundError);
    expect(content.stats()).toMatchObject({ resourceFiles: 0, liveBytes: 0 });
  });

  it('drops an unclaimed sealed resource after the grace, and keeps the current appendable one', async () => {
    const content = repo({ maxAppendableSize: 10, releaseGraceMs: 300 });
    const sealed = content.write(Buffer.from('0123456789'));
    const current = content.write(Buffer.from('abc'));
    await sleep(10);
    expect(content.isAvailable(sealed)).toBe(true);
    await sleep(400);
    expect(content.isAvailable(sealed)).toBe(false);
    expect(content.isAvailable(current)).toBe(true);
    content.claimant(current.resourceId);
    content.release(current.resourceId);
    expect(content.isAvailable(current)).toBe(true);
  });

  it('refuses content beyond maxBytes with a full error and callbacks', () => {
    const events: boolean[] = [];
    const content = repo({ maxBytes: 10, maxAppendableSize: 5, onWatermark: (full) => events.push(full) });
    const a = content.write(Buffer.from('01234'));
    expect(() => content.write(Buffer.from('0123456'))).toThrow(ContentRepositoryFullError);
    expect(content.isFull()).toBe(false);
    content.write(Buffer.from('56789'));
    expect(content.isFull()).toBe(true);
    expect(events).toEqual([true]);
    expect(() => content.write(Buffer.from('x'))).toThrow(/full/);
    expect(() => content.openWriter()).toThrow(ContentRepositoryFullError);
    content.configure({ maxBytes: 100 });
    expect(content.isFull()).toBe(false);
    expect(events).toEqual([true, false]);
    expect(content.read(a).toString()).toBe('01234');
  });

  it('recover sets counts, and remembers counts of content it does not have', async () => {
    const content = repo();
    await content.recover(new Map([['1600000000000-1', 2]]));
    expect(content.claimantCount('1600000000000-1')).toBe(2);
    expect(content.isAvailable({ resourceId: '1600000000000-1', offset: 0, length: 1 })).toBe(false);
    content.release('1600000000000-1');
    content.release('1600000000000-1');
    expect(() => content.release('1600000000000-1')).toThrow(/imbalance/);
    await expect(content.sync()).resolves.toBeUndefined();
  });
});
