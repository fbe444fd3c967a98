import { crc32 } from 'node:zlib';
import {
  Crc32,
  type DataPacket,
  decodeDataPackets,
  encodeDataPacketHeader,
  encodeDataPackets,
  MAX_ATTRIBUTES_PER_PACKET,
  packFlowFileV3,
  type ReceivedDataPacket,
  SiteToSiteCodecError,
  unpackFlowFileV3,
} from '@sluice/site-to-site';
import { describe, expect, it } from 'vitest';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

async function* chunks(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function encode(packets: DataPacket[], options: { compressed?: boolean; crc?: Crc32 } = {}): Promise<Buffer> {
  return collect(encodeDataPackets(packets, options));
}

async function decodeAll(
  data: Buffer,
  size = 4096,
  options: { compressed?: boolean; crc?: Crc32; limits?: { maxAttributes?: number; maxFieldBytes?: number } } = {},
): Promise<Array<{ attributes: Map<string, string>; content: Buffer }>> {
  const out: Array<{ attributes: Map<string, string>; content: Buffer }> = [];
  for await (const p of decodeDataPackets(chunks(data, size), options))
    out.push({ attributes: p.attributes, content: await collect(p.content) });
  return out;
}

async function decodeError(data: Buffer, size = 3, options = {}): Promise<SiteToSiteCodecError> {
  try {
    await decodeAll(data, size, options);
  } catch (error) {
    expect(error).toBeInstanceOf(SiteToSiteCodecError);
    return error as SiteToSiteCodecError;
  }
  throw new Error('expected the stream to be rejected');
}

const packet = (attributes: Array<[string, string]>, content: string | Buffer): DataPacket => {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return { attributes: new Map(attributes), size: bytes.length, content: bytes };
};

describe('S2S FlowFile codec v1 (StandardFlowFileCodec)', () => {
  it('encodes the byte layout worked out from the spec', async () => {
    // int32 count=1 | int32 keyLen=1 "a" | int32 valLen=2 "bc" | int64 len=3 | "xyz"
    const expected = hex(`00000001 00000001 ${ascii('a')} 00000002 ${ascii('bc')} 0000000000000003 ${ascii('xyz')}`);
    expect((await encode([packet([['a', 'bc']], 'xyz')])).toString('hex')).toBe(expected.toString('hex'));
    // No attributes, no content: just the two counts.
    expect((await encode([packet([], '')])).toString('hex')).toBe('00000000' + '0000000000000000');
    // Lengths count UTF-8 bytes: "é" is c3 a9, "한" is ed 95 9c.
    expect((await encode([packet([['é', '한']], '')])).toString('hex')).toBe(
      '00000001' + '00000002c3a9' + '00000003ed959c' + '0000000000000000',
    );
    // A content length past 4 GiB uses the high word of the int64.
    expect(encodeDataPacketHeader([], 2 ** 32 + 5).toString('hex')).toBe('00000000' + '0000000100000005');
  });

  it('decodes hand-written bytes, packets back to back, split at every boundary', async () => {
    const stream = hex(
      `00000002 00000004 ${ascii('uuid')} 00000003 ${ascii('u-1')} 00000002 ${ascii('é')} 00000000 0000000000000002 ${ascii('hi')}` +
        ` 00000000 0000000000000000` +
        ` 00000001 00000009 ${ascii('__proto__')} 00000001 ${ascii('x')} 0000000000000001 ${ascii('!')}`,
    );
    for (const size of [1, 2, 3, 5, 7, 4096]) {
      const out = await decodeAll(stream, size);
      expect(out).toHaveLength(3);
      expect([...(out[0]?.attributes ?? [])]).toEqual([
        ['uuid', 'u-1'],
        ['é', ''],
      ]);
      expect(out[0]?.content.toString()).toBe('hi');
      expect(out[1]?.attributes.size).toBe(0);
      expect(out[1]?.content.length).toBe(0);
      expect(out[2]?.attributes.get('__proto__')).toBe('x');
      expect(out[2]?.content.toString()).toBe('!');
    }
  });

  it('carries attribute values longer than 65,535 bytes (int32 lengths)', async () => {
    const long = 'v'.repeat(70_000);
    const bytes = await encode([packet([['k', long]], 'c')]);
    // count, keyLen 1, "k", then valLen 70,000 = 0x00011170
    expect(bytes.subarray(0, 13).toString('hex')).toBe(`00000001 00000001 ${ascii('k')} 00011170`.replace(/ /g, ''));
    const [out] = await decodeAll(bytes, 1000);
    expect(out?.attributes.get('k')).toBe(long);
  });

  it('allows 25,000 attributes per packet and no more, both ways', async () => {
    const many = Array.from({ length: MAX_ATTRIBUTES_PER_PACKET }, (_, i): [string, string] => [`k${i}`, `${i}`]);
    const [out] = await decodeAll(await encode([packet(many, 'x')]), 65536);
    expect(out?.attributes.size).toBe(25_000);
    expect(out?.attributes.get('k24999')).toBe('24999');
    expect(() => encodeDataPacketHeader([...many, ['one', 'more']], 0)).toThrow(RangeError);
    // 25,001 = 0x61a9
    const error = await decodeError(hex('000061a9 00000000'));
    expect(error.field).toBe('attribute count');
    expect(error.offset).toBe(0);
    expect(error.message).toMatch(
      /25001 attributes is more than the limit of 25000 \(attribute count, at byte 0 of the packet stream\)/,
    );
  });

  it('rejects malformed frames with the field and the byte, without crashing', async () => {
    const cases: Array<[string, Buffer, string, number, RegExp]> = [
      ['truncated count', hex('000000'), 'attribute count', 0, /ended after 3 of 4 bytes/],
      ['negative count', hex('ffffffff'), 'attribute count', 0, /negative attribute count -1/],
      ['truncated key length', hex('00000001 0000'), 'attribute 1 key length', 4, /ended after 2 of 4/],
      ['huge key length', hex('00000001 7fffffff'), 'attribute 1 key length', 4, /2147483647 bytes is more than the limit/],
      [
        'negative value length',
        hex(`00000001 00000001 ${ascii('k')} 80000000`),
        'attribute 1 ("k") value length',
        9,
        /negative length/,
      ],
      ['bad UTF-8 key', hex('00000001 00000002 c328 00000000'), 'attribute 1 key', 8, /not valid UTF-8/],
      [
        'bad UTF-8 value',
        hex(`00000001 00000001 ${ascii('k')} 00000001 ff 0000000000000000`),
        'attribute 1 ("k") value',
        13,
        /not valid UTF-8/,
      ],
      ['truncated key', hex('00000001 00000005 6162'), 'attribute 1 key', 8, /ended after 2 of 5/],
      ['negative content length', hex('00000000 ffffffffffffffff'), 'content length', 4, /negative content length/],
      ['huge content length', hex('00000000 7fffffffffffffff'), 'content length', 4, /is too large/],
      ['truncated content length', hex('00000000 000000'), 'content length', 4, /ended after 3 of 8/],
      ['truncated content', hex(`00000000 000000000000000a ${ascii('abc')}`), 'content', 15, /7 of 10 content bytes missing/],
    ];
    // In 3-byte chunks (read field by field) and whole (parsed in place, then re-read to report).
    for (const size of [3, 4096])
      for (const [name, bytes, field, offset, message] of cases) {
        const error = await decodeError(bytes, size);
        expect(error.field, name).toBe(field);
        expect(error.offset, name).toBe(offset);
        expect(error.message, name).toMatch(message);
      }
    // The first packet of a stream is delivered before the second one turns out to be broken.
    const seen: string[] = [];
    const good = await encode([packet([['n', '1']], 'ok')]);
    await expect(
      (async () => {
        for await (const p of decodeDataPackets(chunks(Buffer.concat([good, hex('0000')]), 4)))
          seen.push(p.attributes.get('n') ?? '');
      })(),
    ).rejects.toThrow(/packet 2: the stream ended after 2 of 4 bytes \(attribute count, at byte 24/);
    expect(seen).toEqual(['1']);
  });

  it('streams large content without holding it, and skips content nobody read', async () => {
    const size = 24 * 1024 * 1024;
    const slab = Buffer.alloc(64 * 1024, 7);
    const content = async function* (): AsyncGenerator<Uint8Array> {
      for (let sent = 0; sent < size; sent += slab.length) yield slab;
    };
    const body = encodeDataPackets([
      { attributes: new Map([['big', 'yes']]), size, content: content() },
      packet([['n', '2']], 'tail'),
    ]);
    let largest = 0;
    let total = 0;
    const names: string[] = [];
    for await (const p of decodeDataPackets(body)) {
      names.push(p.attributes.get('big') ?? p.attributes.get('n') ?? '');
      if (p.size === size)
        for await (const c of p.content) {
          largest = Math.max(largest, c.length);
          total += c.length;
        }
    }
    expect(names).toEqual(['yes', '2']);
    expect(total).toBe(size);
    expect(largest).toBeLessThanOrEqual(64 * 1024);

    const skipped: string[] = [];
    const data = await encode([packet([['n', '1']], Buffer.alloc(5000, 1)), packet([['n', '2']], 'x')]);
    for await (const p of decodeDataPackets(chunks(data, 100))) skipped.push(p.attributes.get('n') ?? '');
    expect(skipped).toEqual(['1', '2']);
  });

  it('lets content be read once, and not after the decoder moved on', async () => {
    const data = await encode([packet([], 'one'), packet([], 'two')]);
    const packets: ReceivedDataPacket[] = [];
    const iterator = decodeDataPackets(chunks(data, 2));
    const first = await iterator.next();
    if (first.done === true) throw new Error('no packet');
    packets.push(first.value);
    expect((await collect(first.value.content)).toString()).toBe('one');
    await expect(collect(first.value.content)).rejects.toThrow(/already read/);
    const second = await iterator.next();
    if (second.done === true) throw new Error('no second packet');
    await expect(collect(first.value.content)).rejects.toThrow(/moved on/);
    expect((await collect(second.value.content)).toString()).toBe('two');
  });

  it('refuses content that is not its declared size when encoding', async () => {
    await expect(encode([{ attributes: [], size: 5, content: Buffer.from('abc') }])).rejects.toThrow(
      /declares 5 bytes of content but has 3/,
    );
    const longer = async function* (): AsyncGenerator<Uint8Array> {
      yield Buffer.from('abcdef');
    };
    await expect(encode([{ attributes: [], size: 5, content: longer() }])).rejects.toThrow(/but has more/);
  });
});

describe('CRC32', () => {
  it('encodes a synchronous source like an asynchronous one: same bytes, same checksum, headers as encodeDataPacketHeader', async () => {
    const big = Buffer.alloc(40_000, 7);
    const packets = [
      packet([['filename', 'a.txt']], 'alpha'),
      packet([], ''),
      packet([['ünïcødé', '✓ value \u{1F600}']], 'beta'),
      packet([['k', 'v'.repeat(30_000)]], big),
      ...Array.from({ length: 200 }, (_, i) => packet([['uuid', `id-${i}`]], `content ${i}`)),
    ];
    const expected = Buffer.concat(
      packets.map((p) => Buffer.concat([encodeDataPacketHeader(p.attributes, p.size), p.content as Buffer])),
    );
    async function* asyncSource(): AsyncGenerator<DataPacket> {
      yield* packets;
    }
    function* syncSource(): Generator<DataPacket> {
      yield* packets;
    }
    const crcs = [new Crc32(), new Crc32(), new Crc32()];
    expect(await collect(encodeDataPackets(asyncSource(), { crc: crcs[0] }))).toEqual(expected);
    expect(await collect(encodeDataPackets(syncSource(), { crc: crcs[1] }))).toEqual(expected);
    expect(await encode(packets, { crc: crcs[2] })).toEqual(expected);
    for (const crc of crcs) expect(crc.value).toBe(crc32(expected));
  });

  it('is java.util.zip.CRC32, written as unsigned decimal', () => {
    // The standard CRC-32 check value: CRC32("123456789") = 0xCBF43926.
    expect(new Crc32().update(Buffer.from('123456789')).toString()).toBe('3421780262');
    expect(new Crc32().update(Buffer.from('1234')).update(Buffer.from('56789')).toString()).toBe('3421780262');
    expect(new Crc32().toString()).toBe('0');
  });

  it('agrees on both ends over the uncompressed stream, with and without compression', async () => {
    const packets = (): DataPacket[] => [
      packet([['a', 'b']], 'hello'),
      packet([['big', '1']], Buffer.alloc(200_000, 3)),
      packet([], ''),
    ];
    const plain = await encode(packets());
    const expected = String(crc32(plain));
    for (const compressed of [false, true]) {
      const sent = new Crc32();
      const wire = await encode(packets(), { compressed, crc: sent });
      const received = new Crc32();
      const out = await decodeAll(wire, 1500, { compressed, crc: received });
      expect(out).toHaveLength(3);
      expect(sent.toString()).toBe(expected);
      expect(received.toString()).toBe(expected);
      if (compressed) expect(wire.equals(plain)).toBe(false);
    }
  });
});

describe('codec with compression', () => {
  it('wraps each packet in its own compression stream', async () => {
    const one = await encode([packet([['a', 'bc']], 'xyz')]); // 26 bytes uncompressed
    const wire = await encode([packet([['a', 'bc']], 'xyz'), packet([['a', 'bc']], 'xyz')], { compressed: true });
    // "SYNC", originalLength 26, compressedLength n, zlib bytes, 00 - twice.
    expect(wire.subarray(0, 8).toString('hex')).toBe(`${ascii('SYNC')}0000001a`);
    const n = wire.readInt32BE(8);
    const block = 12 + n + 1;
    expect(wire[block - 1]).toBe(0);
    expect(wire.length).toBe(2 * block);
    expect(wire.subarray(0, block).equals(wire.subarray(block))).toBe(true);
    const [out] = await decodeAll(wire.subarray(0, block), 1, { compressed: true });
    expect(out?.content.toString()).toBe('xyz');
    expect(one.length).toBe(26);
  });

  it('round-trips packets across chunk boundaries, split anywhere', async () => {
    // A packet header here is 22 bytes: the packets end just before, on and just after 64 KiB.
    const sizes = [0, 1, 65_513, 65_514, 65_515, 131_072, 200_001];
    const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24));
    const contents = sizes.map(random);
    const wire = await encode(
      contents.map((content, i) => packet([['i', String(i)]], content)),
      { compressed: true },
    );
    for (const size of [7, 4096, 70_000]) {
      const out = await decodeAll(wire, size, { compressed: true });
      expect(out.map((p) => p.content.length)).toEqual(sizes);
      expect(out.every((p, i) => p.content.equals(contents[i] ?? Buffer.alloc(0)))).toBe(true);
    }
  });

  it("rejects bytes left inside a packet's compression stream", async () => {
    const { compressStream } = await import('@sluice/site-to-site');
    const packetBytes = await encode([packet([], 'ab')]);
    const padded = await collect(compressStream([Buffer.concat([packetBytes, Buffer.from('junk')])]));
    const error = await decodeError(padded, 5, { compressed: true });
    expect(error.message).toMatch(/bytes follow the packet inside its compression stream/);
  });
});

describe('FlowFile v3 (re-exported from @sluice/api)', () => {
  it('uses FF FF + int32 for more than 65,535 attributes and long values', async () => {
    const count = 70_000;
    const attributes = Array.from({ length: count }, (_, i): [string, string] => [`k${i}`, i === 0 ? 'w'.repeat(66_000) : '']);
    const bytes = packFlowFileV3(attributes, Buffer.from('body'));
    // "NiFiFF3", count: FF FF then 70,000 = 0x00011170; key "k0": 00 02 "k0"; value: FF FF 0x000101d0 (66,000)
    expect(bytes.subarray(0, 7 + 6 + 2 + 2 + 6).toString('hex')).toBe(
      `${ascii('NiFiFF3')}ffff00011170 0002${ascii('k0')} ffff000101d0`.replace(/ /g, ''),
    );
    const unpacked = [];
    for await (const f of unpackFlowFileV3(chunks(bytes, 8192)))
      unpacked.push({ attributes: f.attributes, content: await collect(f.content) });
    expect(unpacked).toHaveLength(1);
    expect(unpacked[0]?.attributes.size).toBe(count);
    expect(unpacked[0]?.attributes.get('k0')?.length).toBe(66_000);
    expect(unpacked[0]?.attributes.get('k69999')).toBe('');
    expect(unpacked[0]?.content.toString()).toBe('body');
  });
});
