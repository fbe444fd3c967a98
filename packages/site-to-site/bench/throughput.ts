/**
 * Quick throughput measurement of the Site-to-Site data path (not a test, not part of `npm run
 * bench` yet): codec encode/decode with CRC32, compression framing, and a loopback push/pull
 * through the HTTP client and server with in-memory ports.
 *
 *   node --conditions=sluice-source --import tsx packages/site-to-site/bench/throughput.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Crc32,
  compressStream,
  type DataPacket,
  decodeDataPackets,
  decompressStream,
  encodeDataPackets,
  SiteToSiteClient,
  SiteToSiteServer,
} from '@sluice/site-to-site';

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function content(size: number): Buffer {
  // JSON-like records with pseudo-random numbers: compressible, but not trivially.
  let x = 0x2545f491;
  const random = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const line = `{"sensor":"s-${random() % 500}","t":${1700000000000 + (random() % 86400000)},"value":${(random() % 100000) / 100}}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

function packets(count: number, payload: Buffer): DataPacket[] {
  return Array.from({ length: count }, (_, i) => ({
    attributes: new Map([
      ['uuid', `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`],
      ['filename', `file-${i}.json`],
      ['path', './'],
    ]),
    size: payload.length,
    content: payload,
  }));
}

async function timed(label: string, bytes: number, count: number, run: () => Promise<void>): Promise<void> {
  await run(); // warm up
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  out(
    `${label.padEnd(46)} ${(bytes / seconds / 1e6).toFixed(0).padStart(6)} MB/s ${(count / seconds).toFixed(0).padStart(9)} FlowFiles/s`,
  );
}

async function gather(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of stream) n += c.length;
  return n;
}

async function codec(size: number, count: number): Promise<void> {
  const list = packets(count, content(size));
  const bytes = size * count;
  const wire = await gather(encodeDataPackets(list));
  const zipped = await gather(encodeDataPackets(list, { compressed: true }));
  const tag = `${size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : `${size / 1024} KiB`} x ${count}`;
  await timed(`encode + CRC32, ${tag}`, bytes, count, async () => {
    await drain(encodeDataPackets(list, { crc: new Crc32() }));
  });
  await timed(`decode + CRC32, ${tag}`, bytes, count, async () => {
    for await (const p of decodeDataPackets([wire], { crc: new Crc32() })) await drain(p.content);
  });
  await timed(`encode + CRC32 + compression, ${tag}`, bytes, count, async () => {
    await drain(encodeDataPackets(list, { crc: new Crc32(), compressed: true }));
  });
  await timed(`decode + CRC32 + decompression, ${tag}`, bytes, count, async () => {
    for await (const p of decodeDataPackets([zipped], { crc: new Crc32(), compressed: true })) await drain(p.content);
  });
  out(`  (compressed to ${((100 * zipped.length) / wire.length).toFixed(0)} % of ${wire.length} bytes)`);
}

async function framing(): Promise<void> {
  const data = content(64 * 1024 * 1024);
  const zipped = await gather(compressStream([data]));
  await timed('compressStream, 64 MiB in 64 KiB chunks', data.length, 1, async () => {
    await drain(compressStream([data]));
  });
  await timed('decompressStream, 64 MiB', data.length, 1, async () => {
    await drain(decompressStream([zipped]));
  });
  await timed('CRC32 alone, 64 MiB', data.length, 1, async () => {
    new Crc32().update(data);
  });
}

async function loopback(size: number, count: number, batch: number, compression: boolean): Promise<void> {
  let received = 0;
  const queue: DataPacket[] = [];
  const payload = content(size);
  const s2s = new SiteToSiteServer({
    id: 'bench',
    name: 'bench',
    allowAnonymous: true,
    ports: {
      inputPorts: () => [
        {
          id: 'in',
          name: 'in',
          allowedIdentities: 'any',
          isRunning: () => true,
          canReceive: () => true,
          receive: async (incoming) => {
            let n = 0;
            for await (const p of incoming) for await (const c of p.content) n += c.length;
            return {
              commit: async () => {
                received += n;
              },
              discard: async () => undefined,
            };
          },
        },
      ],
      outputPorts: () => [
        {
          id: 'out',
          name: 'out',
          allowedIdentities: 'any',
          isRunning: () => true,
          take: async (limits) => {
            if (queue.length === 0) return undefined;
            const taken = queue.splice(0, limits.maxCount);
            return { packets: taken, commit: async () => undefined, rollback: async () => void queue.unshift(...taken) };
          },
        },
      ],
    },
  });
  const server = http.createServer((req, res) => {
    if (!s2s.handle(req, res)) res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SiteToSiteClient({ url, compression, batchCount: batch, usePeers: false });
  const tag = `${size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : `${size / 1024} KiB`}, batch ${batch}${compression ? ', compressed' : ''}`;
  await timed(`loopback push, ${tag}`, size * count, count, async () => {
    for (let sent = 0; sent < count; sent += batch) await client.send('in', packets(Math.min(batch, count - sent), payload));
  });
  await timed(`loopback pull, ${tag}`, size * count, count, async () => {
    queue.push(...packets(count, payload));
    while (queue.length > 0) await client.receive('out', async (p) => void (await drain(p.content)));
  });
  client.close();
  await s2s.close();
  server.closeAllConnections();
  server.close();
  void received;
}

async function bareHttp(size: number, count: number, batch: number): Promise<void> {
  const payload = content(size);
  const server = http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true });
  const post = (n: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      (async () => {
        for (let i = 0; i < n; i++) if (!req.write(payload)) await new Promise((r) => req.once('drain', r));
        req.end();
      })().catch(reject);
    });
  await timed(`bare HTTP POST, same bytes, ${batch} per request`, size * count, count, async () => {
    for (let sent = 0; sent < count; sent += batch) await post(Math.min(batch, count - sent));
  });
  agent.destroy();
  server.close();
}

out(`node ${process.version}, ${process.platform}/${process.arch}`);
await codec(1024, 50_000);
await codec(1024 * 1024, 128);
await framing();
await bareHttp(1024, 50_000, 1000);
await loopback(1024, 50_000, 1000, false);
await bareHttp(1024 * 1024, 128, 16);
await loopback(1024 * 1024, 128, 16, false);
await loopback(1024 * 1024, 128, 16, true);
