import { COMPRESSION_CHUNK_BYTES, compressStream, decompressStream, SiteToSiteCodecError } from '@sluice/site-to-site';
import { describe, expect, it } from 'vitest';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SYNC = Buffer.from('SYNC').toString('hex'); // 53594e43

async function* chunks(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function failure(data: Buffer, limits = {}): Promise<SiteToSiteCodecError> {
  try {
    await collect(decompressStream(chunks(data, 3), limits));
  } catch (error) {
    expect(error).toBeInstanceOf(SiteToSiteCodecError);
    return error as SiteToSiteCodecError;
  }
  throw new Error('expected the stream to be rejected');
}

// Pseudo-random, incompressible enough to make chunks grow past their input.
const noise = (n: number): Buffer => {
  const out = Buffer.allocUnsafe(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
};

describe("NiFi's compression framing (CompressionOutputStream / CompressionInputStream)", () => {
  it('writes the byte layout worked out from the source', async () => {
    // "SYNC", int32 originalLength 3, int32 compressedLength 11, then java.util.zip.Deflater(1)
    // output: zlib header 78 01 (level 1), a fixed-Huffman block for "abc", Adler-32 024d0127.
    // No 01 before the first chunk; 00 closes the stream.
    const expected = `${SYNC} 00000003 0000000b 78014b4c4a0600024d0127 00`.replace(/ /g, '');
    expect((await collect(compressStream([Buffer.from('abc')]))).toString('hex')).toBe(expected);
    // A stream closed without data is the end marker alone.
    expect((await collect(compressStream([]))).toString('hex')).toBe('00');
  });

  it('cuts 64 KiB chunks and puts 01 before every chunk after the first', async () => {
    const data = noise(COMPRESSION_CHUNK_BYTES + 10);
    const wire = await collect(compressStream(chunks(data, 1000)));
    expect(wire.subarray(0, 8).toString('hex')).toBe(`${SYNC}00010000`);
    const first = wire.readInt32BE(8);
    let at = 12 + first;
    expect(wire[at]).toBe(1);
    expect(wire.subarray(at + 1, at + 9).toString('hex')).toBe(`${SYNC}0000000a`);
    at += 1 + 12 + wire.readInt32BE(at + 9);
    expect(wire[at]).toBe(0);
    expect(wire.length).toBe(at + 1);
    expect((await collect(decompressStream(chunks(wire, 777)))).equals(data)).toBe(true);
  });

  it('reads chunks of any size, as NiFi writes them at every flush', async () => {
    // "hello " and "world" compressed separately: 14 and 13 zlib bytes.
    const wire = hex(
      `${SYNC} 00000006 0000000e 7801cb48cdc9c957000008610235 01 ${SYNC} 00000005 0000000d 78012bcf2fca49010006a60229 00`,
    );
    expect((await collect(decompressStream(chunks(wire, 1)))).toString()).toBe('hello world');
    // The end of input right after a chunk also ends the stream (NiFi's reader accepts it).
    expect((await collect(decompressStream(chunks(wire.subarray(0, 12 + 14), 5)))).toString()).toBe('hello ');
  });

  it('round-trips at and around chunk boundaries, whatever the input chunking', async () => {
    for (const size of [0, 1, 8191, 65_535, 65_536, 65_537, 131_072, 131_073, 300_000]) {
      const data = size % 2 === 0 ? noise(size) : Buffer.alloc(size, 'ab');
      for (const inputChunk of [1000, 65_536, 100_000]) {
        const wire = await collect(compressStream(chunks(data, inputChunk)));
        expect((await collect(decompressStream(chunks(wire, 4093)))).equals(data), `${size}/${inputChunk}`).toBe(true);
      }
    }
    // A smaller chunk size (NiFi's minimum is 8 KiB) is honoured, a smaller one refused.
    const small = await collect(compressStream([noise(20_000)], 8192));
    expect(small.readInt32BE(4)).toBe(8192);
    await expect(collect(compressStream([Buffer.from('x')], 4096))).rejects.toThrow(RangeError);
  });

  it('rejects malformed streams with the field and byte, without allocating what they claim', async () => {
    const cases: Array<[string, Buffer, string, number, RegExp, object?]> = [
      ['empty input', Buffer.alloc(0), 'chunk 1 "SYNC" header', 0, /ended before the first chunk/],
      [
        'bad SYNC',
        hex(`${Buffer.from('SYNX').toString('hex')} 00000001 00000001 00`),
        'chunk 1 "SYNC" header',
        0,
        /expected "SYNC" but found 0x53594e58/,
      ],
      [
        'huge original length',
        hex(`${SYNC} 7fffffff 00000010`),
        'chunk 1 original length',
        4,
        /2147483647 bytes is outside 0\.\.1048576/,
      ],
      ['negative original length', hex(`${SYNC} 80000000 00000010`), 'chunk 1 original length', 4, /-2147483648 bytes/],
      [
        'huge compressed length',
        hex(`${SYNC} 00000010 7fffffff`),
        'chunk 1 compressed length',
        8,
        /compressed chunk of 2147483647 bytes/,
      ],
      [
        'over the configured limit',
        hex(`${SYNC} 00001001 00000010`),
        'chunk 1 original length',
        4,
        /outside 0\.\.4096/,
        { maxChunkBytes: 4096 },
      ],
      ['truncated data', hex(`${SYNC} 00000003 0000000b 78014b4c`), 'chunk 1 compressed data', 12, /ended after 4 of 11 bytes/],
      ['not zlib', hex(`${SYNC} 00000003 00000003 010203 00`), 'chunk 1 compressed data', 12, /not valid zlib data/],
      [
        'longer than claimed',
        hex(`${SYNC} 00000002 0000000b 78014b4c4a0600024d0127 00`),
        'chunk 1 compressed data',
        12,
        /longer than it claims/,
      ],
      [
        'shorter than claimed',
        hex(`${SYNC} 00000005 0000000b 78014b4c4a0600024d0127 00`),
        'chunk 1 compressed data',
        12,
        /decompressed to 3 bytes but claims 5/,
      ],
      [
        'bad continuation',
        hex(`${SYNC} 00000003 0000000b 78014b4c4a0600024d0127 02`),
        'chunk 1 continuation byte',
        23,
        /expected 0 \(end\) or 1 \(more\) after a chunk but found 2/,
      ],
      [
        'bad second SYNC',
        hex(`${SYNC} 00000003 0000000b 78014b4c4a0600024d0127 01 00000000`),
        'chunk 2 "SYNC" header',
        24,
        /found 0x00000000/,
      ],
      ['trailing bytes', hex(`${SYNC} 00000003 0000000b 78014b4c4a0600024d0127 00 ff`), 'end marker', 24, /bytes follow the end/],
    ];
    for (const [name, bytes, field, offset, message, limits] of cases) {
      const error = await failure(bytes, limits);
      expect(error.field, name).toBe(field);
      expect(error.offset, name).toBe(offset);
      expect(error.stream, name).toBe('compressed stream');
      expect(error.message, name).toMatch(message);
    }
  });
});
