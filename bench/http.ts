// ListenHTTP against a bare Node `http` server, measured side by side with the same client.
//
//   node --import tsx bench/http.ts [seconds=10] [connections=32] [size=100] [rounds=3]
//
// The client runs in a child process (its own core) and drives N keep-alive connections over
// loopback, each sending one small POST at a time (no pipelining) and counting answers by status.
// The bare server reads each body and answers 200. ListenHTTP streams each body into a FlowFile,
// commits it to durable repositories with provenance, answers 200 once the commit is durable, and
// its FlowFiles go to an auto-terminated UpdateAttribute. Rounds alternate bare / ListenHTTP and the
// medians are reported; prints one JSON line. Each round also runs ListenHTTP with the volatile
// provenance repository (`sluice start --provenance volatile`), the cheaper choice.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { standardRegistry } from '@sluice/server';

/** What one client run measured. */
interface ClientResult {
  readonly requests: number;
  readonly seconds: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the server's process (all its threads) per answered request, in µs. */
  serverCpuMicrosPerRequest?: number;
  /** CPU time of the load generator per answered request, in µs: it shares the machine's cores. */
  readonly clientCpuMicrosPerRequest: number;
}

/** Runs the client and adds the CPU this process (the server under test) spent per answered request. */
async function measured(port: number, path: string, seconds: number, connections: number, size: number): Promise<ClientResult> {
  const before = process.cpuUsage();
  const result = await runClient(port, path, seconds, connections, size);
  const used = process.cpuUsage(before);
  // The client warms up for 1 s before counting; CPU is measured over its whole run, so scale by time.
  const share = result.seconds / (result.seconds + 1);
  const requests = Math.max(1, result.requests);
  return { ...result, serverCpuMicrosPerRequest: Math.round(((used.user + used.system) * share) / requests) };
}

const here = new URL(import.meta.url).pathname;

/** The load generator (child process): raw sockets, one request in flight per connection. */
async function client(port: number, path: string, seconds: number, connections: number, size: number): Promise<ClientResult> {
  const body = Buffer.alloc(size, 'x');
  const request = Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`,
    ),
    body,
  ]);
  const warmupMs = 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const measureFrom = started + warmupMs;
  const measureUntil = measureFrom + seconds * 1000;
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;

  const run = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const next = (): void => {
        if (performance.now() >= measureUntil) {
          socket.end();
          resolve();
          return;
        }
        sentAt = performance.now();
        socket.write(request);
      };
      socket.on('connect', next);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffer.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffer.length < end + 4 + length) return;
          buffer = buffer.subarray(end + 4 + length);
          const status = head.slice(9, 12);
          const now = performance.now();
          if (sentAt >= measureFrom && now <= measureUntil) {
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (status === '200') {
              requests++;
              latencies.push(now - sentAt);
            }
          }
          if (/\r\nconnection:\s*close/i.test(head)) {
            socket.destroy();
            resolve();
            return;
          }
          next();
        }
      });
      socket.on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(Array.from({ length: connections }, run));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  const cpu = process.cpuUsage(cpuBefore);
  const answered = Math.max(1, (requests * (seconds + warmupMs / 1000)) / seconds);
  const clientCpuMicrosPerRequest = Math.round((cpu.user + cpu.system) / answered);
  return { requests, seconds, statuses, errors, p50Ms: at(0.5), p99Ms: at(0.99), clientCpuMicrosPerRequest };
}

function runClient(port: number, path: string, seconds: number, connections: number, size: number): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', here, 'client', ...[port, path, seconds, connections, size].map(String)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`the client failed (exit ${code}): ${out}`));
      else resolve(JSON.parse(line));
    });
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    }),
  );
}

/** The baseline: bare Node reads the body and answers 200. */
async function bare(seconds: number, connections: number, size: number): Promise<ClientResult> {
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
    });
  });
  server.keepAliveTimeout = 5000;
  const port = await listen(server);
  try {
    return await measured(port, '/contentListener', seconds, connections, size);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

function flow(port: number): FlowDocumentInput {
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'http bench',
      processors: [
        {
          id: 'listen',
          name: 'Listen',
          type: 'ListenHTTP',
          properties: { port: String(port), maxConcurrentRequests: '1000' },
          state: 'RUNNING',
        },
        {
          // NiFi's usual debug sink; at DEBUG (below the engine's log level here) it logs nothing.
          id: 'sink',
          name: 'Sink',
          type: 'LogAttribute',
          properties: { logLevel: 'DEBUG' },
          autoTerminate: ['success'],
          state: 'RUNNING',
        },
      ],
      connections: [{ id: 'c1', source: { id: 'listen' }, destination: { id: 'sink' }, relationships: ['success'] }],
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return port;
}

/** ListenHTTP on durable repositories with provenance, feeding an auto-terminating sink. */
async function sluice(
  seconds: number,
  connections: number,
  size: number,
  provenance: 'durable' | 'volatile' = 'durable',
): Promise<ClientResult & { flowFiles: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-http-'));
  const engine = await Engine.open({ dataDir: join(dir, 'data'), registry: standardRegistry(), logLevel: 'ERROR', provenance });
  try {
    const port = await freePort();
    await engine.applyFlow(flow(port));
    const listener = engine.component('listen');
    for (let i = 0; i < 200 && listener?.runState !== 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 10));
    const result = await measured(port, '/contentListener', seconds, connections, size);
    const failures = engine.bulletins.list().filter((b) => b.level !== 'INFO' && !b.message.startsWith('provenance indexing'));
    if (failures.length > 0) throw new Error(`the flow reported problems: ${failures[0]?.message}`);
    const flowFiles = engine.component('sink')?.stats.inCount.sum(Date.now()) ?? 0;
    return { ...result, flowFiles };
  } finally {
    await engine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const connections = Number(process.argv[3] ?? 32);
  const size = Number(process.argv[4] ?? 100);
  const rounds = Number(process.argv[5] ?? 3);
  const bareRounds: ClientResult[] = [];
  const sluiceRounds: Array<ClientResult & { flowFiles: number }> = [];
  const volatileRounds: ClientResult[] = [];
  for (let round = 0; round < rounds; round++) {
    bareRounds.push(await bare(seconds, connections, size));
    sluiceRounds.push(await sluice(seconds, connections, size));
    volatileRounds.push(await sluice(seconds, connections, size, 'volatile'));
  }
  const rate = (r: ClientResult) => r.requests / r.seconds;
  const bareRate = median(bareRounds.map(rate));
  const listenRate = median(sluiceRounds.map(rate));
  const listen = sluiceRounds.find((r) => rate(r) === listenRate);
  const bareMedian = bareRounds.find((r) => rate(r) === bareRate);
  console.log(
    JSON.stringify({
      size,
      connections,
      seconds,
      rounds,
      bareRequestsPerSecond: bareRate,
      listenHttpRequestsPerSecond: listenRate,
      ratio: listenRate / bareRate,
      bareP50Ms: bareMedian?.p50Ms,
      bareP99Ms: bareMedian?.p99Ms,
      listenHttpP50Ms: listen?.p50Ms,
      listenHttpP99Ms: listen?.p99Ms,
      listenHttpStatuses: listen?.statuses,
      // CPU of the server process per answered request (medians): steadier than rates on a shared machine.
      bareCpuMicrosPerRequest: median(bareRounds.map((r) => r.serverCpuMicrosPerRequest ?? 0)),
      listenHttpCpuMicrosPerRequest: median(sluiceRounds.map((r) => r.serverCpuMicrosPerRequest ?? 0)),
      clientCpuMicrosPerRequest: {
        bare: median(bareRounds.map((r) => r.clientCpuMicrosPerRequest)),
        listenHttp: median(sluiceRounds.map((r) => r.clientCpuMicrosPerRequest)),
      },
      bareRounds: bareRounds.map(rate),
      listenHttpRounds: sluiceRounds.map(rate),
      volatileProvenanceRequestsPerSecond: median(volatileRounds.map(rate)),
      volatileProvenanceRatio: median(volatileRounds.map(rate)) / bareRate,
      volatileProvenanceCpuMicrosPerRequest: median(volatileRounds.map((r) => r.serverCpuMicrosPerRequest ?? 0)),
      volatileProvenanceRounds: volatileRounds.map(rate),
    }),
  );
}

if (process.argv[2] === 'client') {
  const [port, path, seconds, connections, size] = process.argv.slice(3);
  client(Number(port), path ?? '/', Number(seconds), Number(connections), Number(size)).then((r) =>
    console.log(JSON.stringify(r)),
  );
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
