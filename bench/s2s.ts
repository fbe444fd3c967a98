// Site-to-Site throughput between two Sluice instances (separate processes) on loopback, next to a
// bare HTTP POST of the same bytes in the same run.
//
//   node --import tsx bench/s2s.ts [size=1024] [seconds=10] [provenance=durable|volatile|off]
//
// S2S: an edge instance queues FlowFiles (GenerateFlowFile, its Remote Process Group port stopped),
// then pushes them all to a core instance (input port -> auto-terminated UpdateAttribute); both with
// durable repositories and provenance. The rate is FlowFiles over the time until the edge's queue
// is empty (every batch confirmed by the core and committed at the edge).
// Bare: a Node http server that reads and discards each body, and a client process that POSTs
// bodies of `size` bytes over keep-alive connections (the same bytes per FlowFile, no framing, no
// repositories). Prints one JSON line; with the CPU time the edge and the core spent per FlowFile
// while sending (the machine is shared: rates drift with other load, CPU per FlowFile much less; the
// core's is read from /proc, in clock ticks, so approximate).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '@sluice/server';

const here = new URL(import.meta.url).pathname;
const TOKEN = 'bench-s2s-token-0123456789';
const WARMUP_MS = 2000;

/** The provenance repository of both instances (`sluice start --provenance`); children inherit it. */
function provenance(): 'durable' | 'volatile' | 'off' {
  const mode = process.env.SLUICE_BENCH_PROVENANCE ?? 'durable';
  if (mode === 'durable' || mode === 'volatile' || mode === 'off') return mode;
  throw new Error(`provenance must be durable, volatile or off, not "${mode}"`);
}
const BARE_CONNECTIONS = 8;

/** Runs this script in a child process with `args`; resolves with its JSON lines, one per line. */
function child(args: readonly string[], onLine: (value: Record<string, unknown>) => void) {
  const process_ = spawn(process.execPath, [...process.execArgv, here, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  process_.stdout.on('data', (chunk: Buffer) => {
    buffer += String(chunk);
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (line.startsWith('{')) onLine(JSON.parse(line));
    }
  });
  const exited = new Promise<number>((resolve) => process_.on('exit', (code) => resolve(code ?? 1)));
  return { process: process_, exited };
}

/** The core instance: serves its input port until killed. */
async function core(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-core-'));
  const server = await createServer({
    dataDir,
    port: 0,
    statusIntervalMs: 60_000,
    engine: { provenance: provenance() },
    siteToSite: { tokens: { bench: TOKEN } },
    initialFlow: {
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'core',
        inputPorts: [{ id: 'in', name: 'in', allowRemoteAccess: true, allowedIdentities: ['bench'] }],
        processors: [{ id: 'done', name: 'Done', type: 'UpdateAttribute', autoTerminate: ['success'], state: 'RUNNING' }],
        connections: [{ id: 'received', source: { id: 'in' }, destination: { id: 'done' } }],
      },
    },
  });
  console.log(JSON.stringify({ port: server.port, pid: process.pid }));
  process.on('SIGTERM', () => {
    void server.close().then(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/**
 * The edge instance: queues `count` generated FlowFiles (its Remote Process Group port stopped),
 * then starts the port and times how long the core takes to confirm them all (the edge commits a
 * batch only after the core confirmed it). Prints the rate and exits.
 */
/** CPU time (user + system) of process `pid` in microseconds, from /proc (undefined elsewhere). */
function processCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / 100 : undefined;
  } catch {
    return undefined;
  }
}

async function edge(size: number, count: number, corePort: number, corePid: number): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-edge-'));
  const small = size < 64 * 1024;
  const server = await createServer({
    dataDir,
    port: 0,
    statusIntervalMs: 60_000,
    engine: { provenance: provenance() },
    initialFlow: {
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'edge',
        processors: [
          {
            id: 'gen',
            name: 'Generate',
            type: 'GenerateFlowFile',
            properties: { fileSize: `${size} B`, batchSize: small ? '1000' : '4', dataFormat: 'Binary' },
            state: 'RUNNING',
          },
        ],
        remoteProcessGroups: [
          {
            id: 'core',
            name: 'core',
            targetUris: `http://127.0.0.1:${corePort}/nifi`,
            accessToken: TOKEN,
            yieldDuration: '10 ms',
            inputPorts: [{ id: 'core-in', name: 'in', concurrentTasks: small ? 2 : 4, state: 'STOPPED' }],
          },
        ],
        connections: [
          {
            id: 'to-core',
            source: { id: 'gen' },
            destination: { id: 'core-in' },
            relationships: ['success'],
            backPressureObjectThreshold: count,
            backPressureDataSizeThreshold: '0 B',
          },
        ],
      },
    },
  });
  const queue = server.engine.connection('to-core')?.queue;
  if (queue === undefined) throw new Error('no connection "to-core"');
  while (queue.size().count < count) await new Promise((r) => setTimeout(r, 50));
  await server.engine.stopComponent('gen');
  const queued = queue.size().count;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const coreCpuBefore = processCpuMicros(corePid);
  await server.engine.startComponent('core-in');
  while (queue.size().count > 0) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const coreCpuAfter = processCpuMicros(corePid);
  const rate = queued / seconds;
  // CPU the edge spent per FlowFile while sending (user + system), in microseconds.
  const edgeCpuMicros = (cpu.user + cpu.system) / queued;
  console.log(
    JSON.stringify({
      flowFilesPerSecond: rate,
      megabytesPerSecond: (rate * size) / 1e6,
      flowFiles: queued,
      seconds,
      edgeCpuMicros,
      coreCpuMicros:
        coreCpuBefore === undefined || coreCpuAfter === undefined ? undefined : (coreCpuAfter - coreCpuBefore) / queued,
    }),
  );
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/** Bare server: reads and discards bodies. Prints its port, then counts until the client is done. */
async function bareServer(): Promise<void> {
  const server = createHttpServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/** Bare client: POSTs bodies of `size` bytes on keep-alive connections; prints the rate. */
async function bareClient(size: number, seconds: number, port: number): Promise<void> {
  const body = Buffer.alloc(size, 'x');
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: BARE_CONNECTIONS });
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-length': size } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const warmUntil = performance.now() + WARMUP_MS;
  const until = warmUntil + seconds * 1000;
  let counted = 0;
  const loop = async () => {
    while (performance.now() < until) {
      await post();
      if (performance.now() >= warmUntil) counted++;
    }
  };
  await Promise.all(Array.from({ length: BARE_CONNECTIONS }, loop));
  const rate = counted / seconds;
  console.log(JSON.stringify({ flowFilesPerSecond: rate, megabytesPerSecond: (rate * size) / 1e6 }));
  agent.destroy();
}

/**
 * Starts a server role, then a client role given the port the server printed; resolves with what
 * the client printed last, once it exited (the server is stopped then).
 */
async function serverAndClient(
  server: readonly string[],
  client: (port: number, pid: number) => string[],
): Promise<Record<string, unknown>> {
  let result: Record<string, unknown> | undefined;
  let clientProcess: ReturnType<typeof child> | undefined;
  const serverProcess = child(server, (line) => {
    if (typeof line.port === 'number')
      clientProcess = child(client(line.port, typeof line.pid === 'number' ? line.pid : 0), (r) => {
        result = r;
      });
  });
  while (clientProcess === undefined) await new Promise((r) => setTimeout(r, 20));
  await clientProcess.exited;
  serverProcess.process.kill('SIGTERM');
  await serverProcess.exited;
  if (result === undefined) throw new Error(`${client(0, 0)[0]} reported nothing`);
  return result;
}

const [role = '', ...rest] = process.argv.slice(2);
const n = (i: number, fallback: number) => Number(rest[i] ?? fallback);
switch (role) {
  case 'core':
    await core();
    break;
  case 'edge':
    await edge(n(0, 1024), n(1, 1000), n(2, 0), n(3, 0));
    process.exit(0);
    break;
  case 'bare-server':
    await bareServer();
    break;
  case 'bare-client':
    await bareClient(n(0, 1024), n(1, 10), n(2, 0));
    process.exit(0);
    break;
  default: {
    const size = Number(role === '' ? 1024 : role);
    const seconds = n(0, 10);
    if (rest[1] !== undefined) process.env.SLUICE_BENCH_PROVENANCE = rest[1];
    // Enough FlowFiles for a few seconds at the targets, bounded on disk (about 600 MB at 1 MiB).
    const count = size < 64 * 1024 ? Math.max(50_000, seconds * 25_000) : Math.max(200, seconds * 60);
    const bare = await serverAndClient(['bare-server'], (port) => ['bare-client', String(size), String(seconds), String(port)]);
    const s2s = await serverAndClient(['core'], (port, pid) => ['edge', String(size), String(count), String(port), String(pid)]);
    console.log(
      JSON.stringify({
        size,
        provenance: provenance(),
        flowFiles: s2s.flowFiles,
        s2sSeconds: s2s.seconds,
        s2sFlowFilesPerSecond: s2s.flowFilesPerSecond,
        s2sMegabytesPerSecond: s2s.megabytesPerSecond,
        s2sEdgeCpuMicrosPerFlowFile: s2s.edgeCpuMicros,
        s2sCoreCpuMicrosPerFlowFile: s2s.coreCpuMicros,
        bareSeconds: seconds,
        bareFlowFilesPerSecond: bare.flowFilesPerSecond,
        bareMegabytesPerSecond: bare.megabytesPerSecond,
        ratioToBare: Number(s2s.flowFilesPerSecond) / Number(bare.flowFilesPerSecond),
      }),
    );
  }
}
