import { FlowFileV3Error, packFlowFileV3, packFlowFileV3Header, unpackFlowFileV3 } from '@sluice/api';
import { describe, expect, it } from 'vitest';

async function* chunks(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('FlowFile v3 packaging', () => {
  it('matches the byte layout of NiFi FlowFilePackagerV3', () => {
    const bytes = packFlowFileV3([['a', 'bc']], Buffer.from('xyz'));
    // "NiFiFF3", count 1, key len 1 "a", value len 2 "bc", content length 3 (8 bytes), "xyz"
    expect(bytes.toString('hex')).toBe(
      `${Buffer.from('NiFiFF3').toString('hex')}0001` +
        `0001${Buffer.from('a').toString('hex')}` +
        `0002${Buffer.from('bc').toString('hex')}` +
        '0000000000000003' +
        Buffer.from('xyz').toString('hex'),
    );
  });

  it('uses the 6-byte field length from 65,535 bytes on, both ways', async () => {
    const long = 'v'.repeat(70_000);
    const bytes = packFlowFileV3([['k', long]], Buffer.alloc(0));
    const at = 7 + 2 + 2 + 1; // magic, count, key length, key
    expect(bytes.subarray(at, at + 6).toString('hex')).toBe(`ffff${(70_000).toString(16).padStart(8, '0')}`);
    const [unpacked] = await all(unpackFlowFileV3(chunks(bytes, 1000)));
    expect(unpacked?.attributes.get('k')).toBe(long);
  });

  it('round-trips many packages split at every awkward boundary, streaming content', async () => {
    const packages = [
      packFlowFileV3(
        [
          ['uuid', '1'],
          ['__proto__', 'x'],
          ['é', '한국어'],
        ],
        Buffer.from('first'),
      ),
      packFlowFileV3([], Buffer.alloc(0)),
      Buffer.concat([packFlowFileV3Header([['big', 'yes']], 200_000), Buffer.alloc(200_000, 9)]),
    ];
    for (const chunkSize of [1, 3, 7, 4096]) {
      const out: Array<[Map<string, string>, Buffer]> = [];
      for await (const f of unpackFlowFileV3(chunks(Buffer.concat(packages), chunkSize)))
        out.push([f.attributes, await collect(f.content)]);
      expect(out).toHaveLength(3);
      expect(out[0]?.[0].get('__proto__')).toBe('x');
      expect(out[0]?.[0].get('é')).toBe('한국어');
      expect(out[0]?.[1].toString()).toBe('first');
      expect(out[1]?.[1].length).toBe(0);
      expect(out[2]?.[1].equals(Buffer.alloc(200_000, 9))).toBe(true);
    }
  });

  it('skips content the consumer did not read', async () => {
    const data = Buffer.concat([
      packFlowFileV3([['n', '1']], Buffer.alloc(5000, 1)),
      packFlowFileV3([['n', '2']], Buffer.from('ok')),
    ]);
    const seen: string[] = [];
    for await (const f of unpackFlowFileV3(chunks(data, 100))) seen.push(f.attributes.get('n') ?? '');
    expect(seen).toEqual(['1', '2']);
  });

  it('rejects malformed streams with a clear error and position', async () => {
    const bad = Buffer.from('NiFiFF2xxxx');
    await expect(all(unpackFlowFileV3(chunks(bad, 4)))).rejects.toThrow(/missing the "NiFiFF3" header \(at byte 0/);
    const truncated = packFlowFileV3([['a', 'b']], Buffer.from('hello')).subarray(0, 20);
    await expect(
      (async () => {
        for await (const f of unpackFlowFileV3(chunks(truncated, 5))) await collect(f.content);
      })(),
    ).rejects.toBeInstanceOf(FlowFileV3Error);
    const many = Buffer.concat([Buffer.from('NiFiFF3'), Buffer.from([0xff, 0xff, 0x7f, 0xff, 0xff, 0xff])]);
    await expect(all(unpackFlowFileV3(chunks(many, 64)))).rejects.toThrow(/more than the limit of 100000/);
  });
});

describe('FlowFile v3 hostile input', () => {
  it('rejects invalid UTF-8 in attributes instead of replacing it', async () => {
    const good = packFlowFileV3([['k', 'v']], Buffer.alloc(0));
    const bad = Buffer.from(good);
    bad[bad.indexOf(Buffer.from('v'))] = 0xff;
    await expect(
      (async () => {
        for await (const _ of unpackFlowFileV3(chunks(bad, 3))) void _;
      })(),
    ).rejects.toThrow(/attribute "k"'s value is not valid UTF-8/);
  });

  it('unpacks a 16 MiB attribute arriving in 64 KiB chunks in linear time', async () => {
    const big = 'x'.repeat(16 * 1024 * 1024 - 1);
    const bytes = packFlowFileV3([['big', big]], Buffer.from('c'));
    const started = performance.now();
    let got = '';
    for await (const f of unpackFlowFileV3(chunks(bytes, 64 * 1024))) got = f.attributes.get('big') ?? '';
    expect(got.length).toBe(big.length);
    // Quadratic copying took ~900 ms here; linear is a few tens of ms. Generous for loaded machines.
    expect(performance.now() - started).toBeLessThan(400);
  });

  it('caps the total attribute bytes of one FlowFile', async () => {
    const bytes = packFlowFileV3(
      Array.from({ length: 5 }, (_, i): [string, string] => [`k${i}`, 'y'.repeat(1000)]),
      Buffer.alloc(0),
    );
    await expect(all(unpackFlowFileV3(chunks(bytes, 100), { maxAttributeBytes: 2500 }))).rejects.toThrow(
      /attributes of more than 2500 bytes/,
    );
  });
});
