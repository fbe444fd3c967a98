import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  BadChecksumError,
  CommitOutcomeUnknownError,
  type DataPacket,
  DestinationFullError,
  encodeDataPackets,
  ForbiddenError,
  type InputPortBackend,
  type OutgoingBatch,
  type OutputPortBackend,
  type ReceivedDataPacket,
  SiteToSiteClient,
  type SiteToSiteClientOptions,
  SiteToSiteServer,
  type SiteToSiteServerOptions,
  SiteToSiteTimeoutError,
  type StagedReceive,
  type TakeLimits,
  TransactionNotFoundError,
  type TransferContext,
  UnauthorizedError,
  UnknownPortError,
} from '@sluice/site-to-site';
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosProxy, type Fault } from './chaos-proxy.ts';

// --- in-memory port backends: tiny fixtures of the interfaces the engine will implement --------

interface Stored {
  readonly attributes: Map<string, string>;
  readonly content: Buffer;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

class MemoryInputPort implements InputPortBackend {
  readonly committed: Stored[] = [];
  readonly contexts: TransferContext[] = [];
  discarded = 0;
  capacity = Number.POSITIVE_INFINITY;
  running = true;
  constructor(
    readonly id: string,
    readonly name: string,
    readonly allowedIdentities: ReadonlySet<string> | 'any' = 'any',
  ) {}
  isRunning(): boolean {
    return this.running;
  }
  canReceive(): boolean {
    return this.committed.length < this.capacity;
  }
  async receive(packets: AsyncIterable<ReceivedDataPacket>, context: TransferContext): Promise<StagedReceive> {
    const staged: Stored[] = [];
    for await (const p of packets) staged.push({ attributes: p.attributes, content: await collect(p.content) });
    this.contexts.push(context);
    return {
      commit: async () => {
        this.committed.push(...staged);
      },
      discard: async () => {
        this.discarded++;
      },
    };
  }
}

class MemoryOutputPort implements OutputPortBackend {
  readonly sent: Stored[] = [];
  readonly limits: TakeLimits[] = [];
  rolledBack = 0;
  running = true;
  constructor(
    readonly id: string,
    readonly name: string,
    readonly queue: Stored[] = [],
    readonly allowedIdentities: ReadonlySet<string> | 'any' = 'any',
  ) {}
  isRunning(): boolean {
    return this.running;
  }
  async take(limits: TakeLimits): Promise<OutgoingBatch | undefined> {
    this.limits.push(limits);
    if (this.queue.length === 0) return undefined;
    const batch = this.queue.splice(0, limits.maxCount);
    return {
      packets: batch.map(toPacket),
      commit: async () => {
        this.sent.push(...batch);
      },
      rollback: async () => {
        this.rolledBack++;
        this.queue.unshift(...batch);
      },
    };
  }
}

const toPacket = (f: Stored): DataPacket => ({ attributes: f.attributes, size: f.content.length, content: f.content });

function items(count: number, size = (i: number) => 1000 + i * 37): Stored[] {
  return Array.from({ length: count }, (_, i) => {
    const content = Buffer.alloc(size(i));
    for (let j = 0; j < content.length; j++) content[j] = (i * 31 + j * 7) & 0xff;
    return {
      attributes: new Map([
        ['uuid', `ff-${i}`],
        ['filename', `file-${i}.bin`],
        ['note', `ünïcödé ${i}`],
      ]),
      content,
    };
  });
}

const ids = (flowFiles: readonly Stored[]): string[] => flowFiles.map((f) => f.attributes.get('uuid') ?? '?');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

// --- a real server on an ephemeral loopback port ------------------------------------------------

interface Running {
  readonly s2s: SiteToSiteServer;
  readonly port: number;
  readonly url: string;
  readonly input: MemoryInputPort;
  readonly output: MemoryOutputPort;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<SiteToSiteServerOptions> = {}, queued: Stored[] = []): Promise<Running> {
  const input = new MemoryInputPort('in-1', 'from-edge');
  const output = new MemoryOutputPort('out-1', 'to-edge', queued);
  const s2s = new SiteToSiteServer({
    id: 'root-group',
    name: 'core',
    tokens: new Map([['edge-token', 'edge']]),
    ports: { inputPorts: () => [input], outputPorts: () => [output] },
    ...options,
  });
  const server = http.createServer((req, res) => {
    if (!s2s.handle(req, res)) {
      res.statusCode = 418;
      res.end('not site-to-site');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    await s2s.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { s2s, port, url: `http://127.0.0.1:${port}`, input, output };
}

function client(url: string, options: Partial<SiteToSiteClientOptions> = {}): SiteToSiteClient {
  const c = new SiteToSiteClient({ url, token: 'edge-token', penaltyMs: 0, ...options });
  cleanups.push(() => c.close());
  return c;
}

async function pull(c: SiteToSiteClient, portId: string): Promise<Stored[]> {
  const staged: Stored[] = [];
  await c.receive(portId, async (p) => {
    staged.push({ attributes: p.attributes, content: await collect(p.content) });
  });
  return staged;
}

function sameFlowFiles(actual: readonly Stored[], expected: readonly Stored[]): void {
  expect(ids(actual)).toEqual(ids(expected));
  for (let i = 0; i < expected.length; i++) {
    expect([...(actual[i]?.attributes ?? [])]).toEqual([...(expected[i]?.attributes ?? [])]);
    expect(actual[i]?.content.equals(expected[i]?.content ?? Buffer.alloc(0))).toBe(true);
  }
}

// --- tests -------------------------------------------------------------------------------------

describe('Site-to-Site client and server over loopback HTTP', () => {
  it('discovers ports and peers in NiFi shapes', async () => {
    const { url, port } = await start();
    const c = client(url);
    const details = await c.details();
    expect(details).toMatchObject({ id: 'root-group', name: 'core', remoteSiteHttpListeningPort: port, siteToSiteSecure: false });
    expect(details.inputPorts).toEqual([{ id: 'in-1', name: 'from-edge', state: 'RUNNING' }]);
    expect(details.outputPorts).toEqual([{ id: 'out-1', name: 'to-edge', state: 'RUNNING' }]);
    expect(await c.peers()).toEqual([{ hostname: '127.0.0.1', port, secure: false, flowFileCount: 0 }]);
    expect(await c.resolvePortId('from-edge', 'send')).toBe('in-1');
    expect(await c.resolvePortId('out-1', 'receive')).toBe('out-1');
    await expect(c.resolvePortId('from-edge', 'receive')).rejects.toBeInstanceOf(UnknownPortError);
    expect(c.baseUrls).toEqual([`${url}/nifi-api`]);
  });

  for (const compression of [false, true]) {
    it(`pushes to an input port, compression ${compression ? 'on' : 'off'}`, async () => {
      const { url, input } = await start();
      const c = client(url, { compression });
      const flowFiles = [...items(40), ...items(1, () => 300_000), ...items(1, () => 0)];
      const result = await c.send('in-1', flowFiles.map(toPacket));
      expect(result.flowFiles).toBe(42);
      expect(result.bytes).toBe(flowFiles.reduce((n, f) => n + f.content.length, 0));
      expect(result.destinationFull).toBe(false);
      expect(result.transitUri).toMatch(/\/nifi-api\/data-transfer\/input-ports\/in-1\/transactions\/[0-9a-f-]+\/flow-files$/);
      sameFlowFiles(input.committed, flowFiles);
      expect(input.contexts[0]).toMatchObject({ portId: 'in-1', identity: 'edge', remoteHost: '127.0.0.1' });
      // The checksum both sides agreed on is CRC32 of the uncompressed packet stream.
      const plain = await collect(encodeDataPackets(flowFiles.map(toPacket)));
      expect(result.checksum).toBe(String(crc32(plain)));
      // Nothing to send: no transaction at all.
      expect((await c.send('in-1', [])).flowFiles).toBe(0);
    });

    it(`pulls from an output port, compression ${compression ? 'on' : 'off'}`, async () => {
      const flowFiles = [...items(30), ...items(1, () => 200_000)];
      const { url, output, s2s } = await start({}, [...flowFiles]);
      const c = client(url, { compression, batchCount: 20 });
      const first = await pull(c, 'out-1');
      expect(output.limits[0]).toEqual({ maxCount: 20, maxBytes: Number.POSITIVE_INFINITY, maxDurationMs: 5000 });
      const second = await pull(c, 'out-1');
      sameFlowFiles([...first, ...second], flowFiles);
      sameFlowFiles(output.sent, flowFiles);
      expect(await pull(c, 'out-1')).toEqual([]); // 200, no data, nothing to confirm
      expect(s2s.transactions()).toEqual([]);
    });
  }

  it('speaks the NiFi wire protocol: status codes, headers and bodies', async () => {
    const { url, input, port } = await start({ transactionTtlMs: 30_000 });
    const base = `${url}/nifi-api`;
    const auth = { authorization: 'Bearer edge-token' };
    const v1 = { ...auth, 'x-nifi-site-to-site-protocol-version': '1' };

    // Without a protocol version the HTTP port is left out (old clients fail on unknown fields).
    const old = (await (await fetch(`${base}/site-to-site`, { headers: auth })).json()) as {
      controller: Record<string, unknown>;
    };
    expect(old.controller['remoteSiteHttpListeningPort']).toBeUndefined();
    expect((await fetch(`${base}/site-to-site/peers`, { headers: auth })).status).toBe(400);

    const created = await fetch(`${base}/data-transfer/input-ports/in-1/transactions`, { method: 'POST', headers: v1 });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-location-uri-intent')).toBe('transaction-url');
    expect(created.headers.get('x-nifi-site-to-site-protocol-version')).toBe('1');
    expect(created.headers.get('x-nifi-site-to-site-server-transaction-ttl')).toBe('30');
    const location = created.headers.get('location') ?? '';
    expect(location).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/nifi-api/data-transfer/input-ports/in-1/transactions/[0-9a-f-]{36}$`),
    );
    const createdBody = (await created.json()) as { responseCode: number; message: string; flowFileSent: number };
    expect(createdBody.responseCode).toBe(1);
    expect(createdBody.flowFileSent).toBe(0);
    expect(createdBody.message).toMatch(/^Handshake properties are valid, and port is running\. A transaction is created:/);

    // One packet written by hand: {"filename": "x"} + "hello".
    const body = Buffer.from(
      `00000001 00000008 ${Buffer.from('filename').toString('hex')} 00000001 78 0000000000000005 ${Buffer.from('hello').toString('hex')}`.replace(
        / /g,
        '',
      ),
      'hex',
    );
    const sent = await fetch(`${location}/flow-files`, {
      method: 'POST',
      headers: { ...v1, 'content-type': 'application/octet-stream', accept: 'text/plain' },
      body,
    });
    expect(sent.status).toBe(202);
    expect(await sent.text()).toBe(String(crc32(body)));
    expect(input.committed).toEqual([]); // held, not committed

    const kept = await fetch(location, { method: 'PUT', headers: v1 });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toEqual({ flowFileSent: 0, responseCode: 10, message: 'Extended TTL.' });

    const bad = await fetch(`${location}?responseCode=99`, { method: 'DELETE', headers: v1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { responseCode: number }).responseCode).toBe(250);

    const confirmed = await fetch(`${location}?responseCode=12`, { method: 'DELETE', headers: v1 });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toEqual({ flowFileSent: 1, responseCode: 13 });
    expect(input.committed.map((f) => [f.attributes.get('filename'), f.content.toString()])).toEqual([['x', 'hello']]);
    // The same confirm again (as after a lost answer) gets the same answer and commits nothing more.
    const again = await fetch(`${location}?responseCode=12`, { method: 'DELETE', headers: v1 });
    expect(await again.json()).toEqual({ flowFileSent: 1, responseCode: 13 });
    expect(input.committed).toHaveLength(1);

    // An empty send is refused with NiFi's plain-text 400.
    const empty = await fetch(`${base}/data-transfer/input-ports/in-1/transactions`, { method: 'POST', headers: v1 });
    const emptyLocation = empty.headers.get('location') ?? '';
    const none = await fetch(`${emptyLocation}/flow-files`, {
      method: 'POST',
      headers: { ...v1, 'content-type': 'application/octet-stream' },
      body: '',
    });
    expect(none.status).toBe(400);
    expect(await none.text()).toMatch(/There was no flow file sent/);

    // Malformed data: 400 with the reason; nothing held.
    const third = await fetch(`${base}/data-transfer/input-ports/in-1/transactions`, { method: 'POST', headers: v1 });
    const malformed = await fetch(`${third.headers.get('location') ?? ''}/flow-files`, {
      method: 'POST',
      headers: { ...v1, 'content-type': 'application/octet-stream' },
      body: Buffer.from('ffffffff', 'hex'),
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { message: string }).message).toMatch(
      /negative attribute count -1 \(attribute count, at byte 0/,
    );

    // Not ours: the handler leaves the request to the rest of the app.
    expect((await fetch(`${url}/api/v1/flow`)).status).toBe(418);
    expect((await fetch(`${base}/data-transfer/funnels/x/transactions`, { method: 'POST', headers: v1 })).status).toBe(404);
  });

  it('surfaces a full destination as its own error, and a commit that fills it as a yield hint', async () => {
    const { url, input } = await start();
    const c = client(url);
    input.capacity = 3;
    const result = await c.send('in-1', items(3).map(toPacket));
    expect(result.destinationFull).toBe(true); // TRANSACTION_FINISHED_BUT_DESTINATION_FULL
    const error = await c.send('in-1', items(1).map(toPacket)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationFullError);
    expect(error).toMatchObject({ status: 503, responseCode: 202 });
    input.capacity = 10;
    expect((await c.send('in-1', items(1).map(toPacket))).flowFiles).toBe(1);
    // Full between opening and sending: the server refuses before reading a large upload.
    const transaction = await c.createSendTransaction('in-1');
    input.capacity = 0;
    const refused = await transaction.send(items(40, () => 256 * 1024).map(toPacket)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DestinationFullError);
    expect(input.committed).toHaveLength(4);
  });

  it('answers 404 for an unknown port, 401 without or with a wrong token, 403 outside the allow-list', async () => {
    const input = new MemoryInputPort('in-1', 'from-edge');
    const secret = new MemoryInputPort('in-2', 'secret', new Set(['someone-else']));
    const { url } = await start({ ports: { inputPorts: () => [input, secret], outputPorts: () => [] } });
    const c = client(url);
    await expect(c.send('nope', items(1).map(toPacket))).rejects.toBeInstanceOf(UnknownPortError);
    await expect(c.send('in-2', items(1).map(toPacket))).rejects.toBeInstanceOf(ForbiddenError);
    // Ports a client may not use are not listed to it.
    expect((await c.details()).inputPorts.map((p) => p.id)).toEqual(['in-1']);
    const anonymous = client(url, { token: undefined });
    await expect(anonymous.send('in-1', items(1).map(toPacket))).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(anonymous.details()).rejects.toBeInstanceOf(UnauthorizedError);
    const wrong = client(url, { token: 'guess' });
    await expect(wrong.send('in-1', items(1).map(toPacket))).rejects.toMatchObject({ status: 401, responseCode: 240 });
    expect(input.committed).toEqual([]);
  });

  it('expires a stale transaction and discards its data; keep-alive holds one open', async () => {
    const { url, input, s2s } = await start({ transactionTtlMs: 1000 });
    const quiet = client(url, { keepAliveIntervalMs: false });
    const stale = await quiet.createSendTransaction('in-1');
    expect(stale.ttlSeconds).toBe(1);
    await stale.send(items(2).map(toPacket));
    expect(s2s.transactions()).toMatchObject([{ state: 'held', flowFiles: 2 }]);
    await sleep(300);
    expect(s2s.transactions()).toHaveLength(1); // not before its TTL
    await until(() => s2s.transactions().length === 0, 3000);
    expect(input.discarded).toBe(1);
    const error = await stale.confirm().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionNotFoundError);
    expect(input.committed).toEqual([]);

    const longer = await start({ transactionTtlMs: 2000 });
    const alive = client(longer.url); // keep-alive every TTL/2
    const held = await alive.createSendTransaction('in-1');
    await held.send(items(2).map(toPacket));
    await sleep(3000);
    const result = await held.confirm();
    expect(result.flowFiles).toBe(2);
    expect(longer.input.committed).toHaveLength(2);
  });

  it('puts a batch back exactly once when a pull is cancelled mid-stream', async () => {
    const flowFiles = items(20, () => 512 * 1024);
    const { url, output, s2s } = await start({}, [...flowFiles]);
    const c = client(url);
    const transaction = await c.createReceiveTransaction('out-1');
    const packets = transaction.packets();
    const first = await packets.next(); // the server is still writing the other 9.5 MiB
    expect(first.done).toBe(false);
    expect(s2s.transactions()).toMatchObject([{ state: 'transferring' }]);
    await transaction.cancel();
    await packets.return(undefined);
    await until(() => s2s.transactions().length === 0, 2000);
    expect(output.rolledBack).toBe(1);
    expect(ids(output.queue)).toEqual(ids(flowFiles));
    sameFlowFiles(await pull(client(url, { batchCount: 100 }), 'out-1'), flowFiles);
  });

  it('rolls a pulled batch back when its transaction expires unconfirmed', async () => {
    const flowFiles = items(5);
    const { url, output } = await start({ transactionTtlMs: 1000 }, [...flowFiles]);
    const c = client(url, { keepAliveIntervalMs: false });
    const transaction = await c.createReceiveTransaction('out-1');
    for await (const p of transaction.packets()) await collect(p.content);
    expect(output.queue).toHaveLength(0);
    await until(() => output.rolledBack === 1, 3000);
    sameFlowFiles(output.queue, flowFiles);
    await expect(transaction.confirm()).rejects.toBeInstanceOf(TransactionNotFoundError);
    sameFlowFiles(await pull(client(url), 'out-1'), flowFiles);
  });
});

// --- cuts and corruption at every step, through a TCP proxy -------------------------------------

interface ChaosRun {
  readonly target: Running;
  readonly proxy: ChaosProxy;
  readonly client: SiteToSiteClient;
}

async function chaos(faults: Fault[], compression: boolean, queued: Stored[] = []): Promise<ChaosRun> {
  const target = await start({ transactionTtlMs: 1000 }, queued);
  const proxy = new ChaosProxy(target.port);
  await proxy.start();
  cleanups.push(() => proxy.close());
  proxy.faults = faults;
  // One request per connection, so the proxy can tell the exchanges apart.
  const agent = new http.Agent({ keepAlive: false });
  cleanups.push(() => agent.destroy());
  const c = client(`http://127.0.0.1:${proxy.port}`, { compression, agent, confirmRetries: 3, timeoutMs: 5000 });
  return { target, proxy, client: c };
}

/** Pushes everything, in batches, retrying failed transactions the way a sender rolls back. */
async function pushAll(c: SiteToSiteClient, flowFiles: Stored[], batch: number): Promise<unknown[]> {
  const queue = [...flowFiles];
  const errors: unknown[] = [];
  while (queue.length > 0) {
    const next = queue.slice(0, batch);
    try {
      await c.send('in-1', next.map(toPacket));
      queue.splice(0, next.length); // commit: the remote confirmed
    } catch (error) {
      errors.push(error); // roll back: the batch stays queued
      if (errors.length > 30) throw error;
      await sleep(10);
    }
  }
  return errors;
}

/** Pulls until the remote port is drained and settled, staging and committing as a receiver does. */
async function pullAll(run: ChaosRun, expected: number): Promise<{ sink: Stored[]; errors: unknown[] }> {
  const sink: Stored[] = [];
  const errors: unknown[] = [];
  const deadline = Date.now() + 15_000;
  for (;;) {
    const settled =
      new Set(ids(sink)).size === expected && run.target.output.queue.length === 0 && run.target.s2s.transactions().length === 0;
    if (settled) return { sink, errors };
    if (Date.now() > deadline)
      throw new Error(`pull did not settle: ${new Set(ids(sink)).size}/${expected}; ${run.proxy.log.join('\n')}`);
    const staged: Stored[] = [];
    try {
      const result = await run.client.receive('out-1', async (p) => {
        staged.push({ attributes: p.attributes, content: await collect(p.content) });
      });
      sink.push(...staged); // commit after the confirm
      if (result.flowFiles === 0) await sleep(50);
    } catch (error) {
      errors.push(error);
      if (error instanceof CommitOutcomeUnknownError) sink.push(...staged); // at-least-once: keep it
      await sleep(10);
    }
  }
}

const duplicates = (flowFiles: readonly Stored[]): string[] => {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const id of ids(flowFiles)) {
    if (seen.has(id)) twice.push(id);
    seen.add(id);
  }
  return twice;
};

const FLOW_FILES = /\/flow-files$/;
const CREATE = /\/transactions$/;
const CONFIRM = /responseCode=12/;

describe('Site-to-Site with connections cut at each protocol step', () => {
  const pushSteps: Array<[string, Fault]> = [
    [
      'peer list request',
      { method: 'GET', path: /\/site-to-site\/peers$/, occurrences: [1], phase: 'request-head', action: 'drop' },
    ],
    ['create request', { method: 'POST', path: CREATE, occurrences: [1], phase: 'request-head', action: 'drop' }],
    [
      'create answer (transaction made, never used)',
      { method: 'POST', path: CREATE, occurrences: [2], phase: 'response-head', action: 'drop' },
    ],
    ['data, before it arrives', { method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'request-head', action: 'drop' }],
    [
      'data, a few bytes in',
      { method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'request-body', action: 'drop', offset: 9 },
    ],
    [
      'data, deep in a packet',
      { method: 'POST', path: FLOW_FILES, occurrences: [2], phase: 'request-body', action: 'drop', offset: 2500 },
    ],
    [
      'data answer (server holds the data)',
      { method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'response-head', action: 'drop' },
    ],
    ['confirm request', { method: 'DELETE', path: CONFIRM, occurrences: [2], phase: 'request-head', action: 'drop' }],
    [
      'confirm answer (server committed)',
      { method: 'DELETE', path: CONFIRM, occurrences: [1], phase: 'response-head', action: 'drop' },
    ],
  ];

  for (const compression of [false, true])
    for (const [step, fault] of pushSteps)
      it(`push, compression ${compression ? 'on' : 'off'}: cut at the ${step} loses nothing and duplicates nothing`, async () => {
        const run = await chaos([fault], compression);
        const flowFiles = items(12, (i) => (i === 5 ? 150_000 : 700 + i * 100));
        const errors = await pushAll(run.client, flowFiles, 4);
        expect(run.proxy.fired, run.proxy.log.join('\n')).toHaveLength(1);
        expect(errors.length).toBeLessThanOrEqual(1);
        expect(new Set(ids(run.target.input.committed))).toEqual(new Set(ids(flowFiles)));
        expect(duplicates(run.target.input.committed)).toEqual([]);
        // Nothing is left held: an orphaned transaction goes with its TTL.
        await until(() => run.target.s2s.transactions().length === 0, 3000);
        sameFlowFiles(
          [...run.target.input.committed].sort((a, b) => ids([a])[0]?.localeCompare(ids([b])[0] ?? '') ?? 0),
          [...flowFiles].sort((a, b) => ids([a])[0]?.localeCompare(ids([b])[0] ?? '') ?? 0),
        );
      });

  it('push: when every answer to a confirm is lost, the batch is sent again: duplicates only of what the receiver committed', async () => {
    // The first confirm and its three retries lose their answers; the server committed the first time.
    const run = await chaos(
      [{ method: 'DELETE', path: CONFIRM, occurrences: [1, 2, 3, 4], phase: 'response-head', action: 'drop' }],
      false,
    );
    const flowFiles = items(8);
    const errors = await pushAll(run.client, flowFiles, 4);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(new Set(ids(run.target.input.committed))).toEqual(new Set(ids(flowFiles)));
    expect(duplicates(run.target.input.committed)).toEqual(ids(flowFiles.slice(0, 4)));
  });

  const pullSteps: Array<[string, Fault]> = [
    ['create request', { method: 'POST', path: CREATE, occurrences: [1], phase: 'request-head', action: 'drop' }],
    ['create answer', { method: 'POST', path: CREATE, occurrences: [1], phase: 'response-head', action: 'drop' }],
    ['data request', { method: 'GET', path: FLOW_FILES, occurrences: [1], phase: 'request-head', action: 'drop' }],
    [
      'data answer, before any byte',
      { method: 'GET', path: FLOW_FILES, occurrences: [1], phase: 'response-head', action: 'drop' },
    ],
    [
      'data answer, a few bytes in',
      { method: 'GET', path: FLOW_FILES, occurrences: [1], phase: 'response-body', action: 'drop', offset: 5 },
    ],
    [
      'data answer, deep in a packet',
      { method: 'GET', path: FLOW_FILES, occurrences: [2], phase: 'response-body', action: 'drop', offset: 3000 },
    ],
    ['confirm request', { method: 'DELETE', path: CONFIRM, occurrences: [1], phase: 'request-head', action: 'drop' }],
    [
      'confirm answer (server committed)',
      { method: 'DELETE', path: CONFIRM, occurrences: [2], phase: 'response-head', action: 'drop' },
    ],
  ];

  for (const compression of [false, true])
    for (const [step, fault] of pullSteps)
      it(`pull, compression ${compression ? 'on' : 'off'}: cut at the ${step} loses nothing and duplicates nothing`, async () => {
        const flowFiles = items(12, (i) => (i === 5 ? 150_000 : 700 + i * 100));
        const run = await chaos([fault], compression, [...flowFiles]);
        const { sink, errors } = await pullAll({ ...run, client: clientWithBatch(run, 4) }, flowFiles.length);
        expect(run.proxy.fired, run.proxy.log.join('\n')).toHaveLength(1);
        expect(errors.length).toBeLessThanOrEqual(1);
        expect(new Set(ids(sink))).toEqual(new Set(ids(flowFiles)));
        expect(duplicates(sink)).toEqual([]);
        expect(new Set(ids(run.target.output.sent))).toEqual(new Set(ids(flowFiles)));
        expect(duplicates(run.target.output.sent)).toEqual([]);
      });

  it('pull: when no confirm reaches the server, the receiver keeps the data and gets it again: duplicates only of what it committed', async () => {
    const flowFiles = items(8);
    const run = await chaos(
      [{ method: 'DELETE', path: CONFIRM, occurrences: [1, 2, 3, 4], phase: 'request-head', action: 'drop' }],
      false,
      [...flowFiles],
    );
    const { sink, errors } = await pullAll({ ...run, client: clientWithBatch(run, 4) }, flowFiles.length);
    expect(errors[0]).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(new Set(ids(sink))).toEqual(new Set(ids(flowFiles)));
    // The unconfirmed batch expired on the server (TTL) and came again.
    expect(duplicates(sink)).toEqual(ids(flowFiles.slice(0, 4)));
    expect(duplicates(run.target.output.sent)).toEqual([]);
  });

  it('push: a corrupted byte gives BAD_CHECKSUM, the server discards, and the retry succeeds', async () => {
    const run = await chaos(
      [{ method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'request-body', action: 'corrupt', offset: 400 }],
      false,
    );
    const flowFiles = items(5, () => 4096);
    const errors = await pushAll(run.client, flowFiles, 5);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(BadChecksumError);
    expect(run.target.input.discarded).toBe(1);
    sameFlowFiles(run.target.input.committed, flowFiles);
  });

  it('pull: a corrupted byte gives BAD_CHECKSUM, the server rolls back, and the retry succeeds', async () => {
    const flowFiles = items(5, () => 4096);
    const run = await chaos(
      [{ method: 'GET', path: FLOW_FILES, occurrences: [1], phase: 'response-body', action: 'corrupt', offset: 400 }],
      false,
      [...flowFiles],
    );
    const { sink, errors } = await pullAll(run, flowFiles.length);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(BadChecksumError);
    expect(run.target.output.rolledBack).toBe(1);
    sameFlowFiles(sink, flowFiles);
    sameFlowFiles(run.target.output.sent, flowFiles);
  });

  it('compressed: a corrupted byte is caught (bad zlib data or checksum) and the retry succeeds', async () => {
    const run = await chaos(
      [{ method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'request-body', action: 'corrupt', offset: 200 }],
      true,
    );
    const flowFiles = items(5, () => 4096);
    const errors = await pushAll(run.client, flowFiles, 5);
    expect(errors).toHaveLength(1);
    sameFlowFiles(run.target.input.committed, flowFiles);
  });
});

function clientWithBatch(run: ChaosRun, batchCount: number): SiteToSiteClient {
  const agent = new http.Agent({ keepAlive: false });
  cleanups.push(() => agent.destroy());
  return client(`http://127.0.0.1:${run.proxy.port}`, { agent, batchCount, timeoutMs: 5000 });
}

describe('Site-to-Site peers, timeouts and mutual TLS', () => {
  it('spreads over the listed peers and penalizes one that fails', async () => {
    const dead = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    cleanups.push(() => new Promise<void>((resolve) => dead.close(() => resolve())));
    let livePort = 0;
    const live = await start({
      peers: () => [
        { hostname: '127.0.0.1', port: livePort, secure: false, flowFileCount: 0 },
        { hostname: '127.0.0.1', port: deadPort, secure: false, flowFileCount: 0 },
      ],
    });
    livePort = live.port;
    const c = client(live.url, { penaltyMs: 60_000 });
    const flowFiles = items(20);
    const errors = await pushAll(c, flowFiles, 2);
    expect(errors.length).toBeLessThanOrEqual(1); // at most one try at the dead peer, then it is skipped
    sameFlowFiles(live.input.committed, flowFiles);
  });

  it('gives up on a silent remote after the timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      silent.close();
    });
    const c = client(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, { timeoutMs: 200 });
    const started = Date.now();
    await expect(c.details()).rejects.toBeInstanceOf(SiteToSiteTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it.skipIf(!hasOpenssl())('takes the client identity from a TLS client certificate', async () => {
    const pki = makePki();
    const input = new MemoryInputPort('in-1', 'from-edge', new Set(['CN=edge-node, O=Edge Org, C=US']));
    const s2s = new SiteToSiteServer({ id: 'root', name: 'core', ports: { inputPorts: () => [input], outputPorts: () => [] } });
    const server = https.createServer(
      { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        if (!s2s.handle(req, res)) res.end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await s2s.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = client(url, { token: undefined, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
    const details = await c.details();
    expect(details.siteToSiteSecure).toBe(true);
    expect((await c.peers())[0]?.secure).toBe(true);
    const result = await c.send('in-1', items(3).map(toPacket));
    expect(result.transitUri).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/nifi-api\//);
    expect(input.contexts[0]?.identity).toBe('CN=edge-node, O=Edge Org, C=US');
    expect(input.committed).toHaveLength(3);
    // Without a certificate (and without a token) the client has no identity.
    const stranger = client(url, { token: undefined, tls: { ca: pki.ca } });
    await expect(stranger.details()).rejects.toBeInstanceOf(UnauthorizedError);
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makePki(): { ca: string; serverKey: string; serverCert: string; clientKey: string; clientCert: string } {
  const dir = mkdtempSync(join(tmpdir(), 's2s-pki-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Test CA', '-days', '1');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'server.ext',
  );
  run('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/C=US/O=Edge Org/CN=edge-node');
  run(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'client.crt',
    '-days',
    '1',
  );
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    ca: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientKey: read('client.key'),
    clientCert: read('client.crt'),
  };
}
