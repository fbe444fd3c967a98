// Server benchmark: REST latency of reading a 500-component flow, and the server's CPU cost of
// pushing status for 500 components to 20 connected sockets (every component changed on every
// push: the worst case; real pushes carry only deltas). Prints one JSON line.
//
//   node --import tsx bench/server.ts [reads=300] [seconds=10] [sockets=20]
//
// The socket clients run in a child process (this file with `clients`), so the CPU measured with
// process.cpuUsage() is the server's alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FlowDocumentInput } from '@sluice/engine';
import { createServer } from '@sluice/server';
import { io } from 'socket.io-client';

const COMPONENTS = 500;

function flow(): FlowDocumentInput {
  // One source and a chain of UpdateAttribute processors, with a connection between each: 500
  // processors and 499 connections, all stopped.
  type ProcessorEntry = NonNullable<FlowDocumentInput['rootGroup']['processors']>[number];
  const processors = Array.from(
    { length: COMPONENTS },
    (_, i): ProcessorEntry =>
      i === 0
        ? { id: 'p0', name: 'Source', type: 'GenerateFlowFile', position: { x: 0, y: 0 }, properties: { customText: 'x' } }
        : {
            id: `p${i}`,
            name: `Step ${i}`,
            type: 'UpdateAttribute',
            position: { x: (i % 25) * 300, y: Math.floor(i / 25) * 200 },
            properties: { step: String(i), [`note${i}`]: 'a value of moderate length to look like a real flow' },
            autoTerminate: i === COMPONENTS - 1 ? ['success'] : [],
          },
  );
  const connections = Array.from({ length: COMPONENTS - 1 }, (_, i) => ({
    id: `c${i}`,
    source: { id: `p${i}` },
    destination: { id: `p${i + 1}` },
    relationships: ['success'],
  }));
  return { sluiceFlow: 1, rootGroup: { id: 'root', name: 'Bench', processors, connections } };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

async function main(): Promise<void> {
  const reads = Number(process.argv[2] ?? 300);
  const seconds = Number(process.argv[3] ?? 10);
  const socketCount = Number(process.argv[4] ?? 20);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-server-'));
  const server = await createServer({
    dataDir: dir,
    port: 0,
    initialFlow: flow(),
    engine: { repositories: 'volatile', provenance: 'off' },
    statusIntervalMs: 1000,
    fullStatusEveryTick: true,
    fileRoots: [dir],
  });
  try {
    const credentials = server.initialCredentials;
    if (credentials === undefined) throw new Error('no generated login');
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

    // REST: GET /api/v1/flow, sequentially (latency, not throughput).
    const get = async (): Promise<number> => {
      const response = await fetch(`${server.url}/api/v1/flow`, { headers: { cookie } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`GET /flow: ${response.status}`);
      return text.length;
    };
    let flowBytes = 0;
    for (let i = 0; i < 30; i++) flowBytes = await get();
    const latencies: number[] = [];
    for (let i = 0; i < reads; i++) {
      const start = performance.now();
      await get();
      latencies.push(performance.now() - start);
    }

    // Idle baseline: the server with no sockets for the same time.
    const idleStart = process.cpuUsage();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const idle = process.cpuUsage(idleStart);

    // Pushing: 20 sockets in a child process.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, 'clients', server.url, cookie, String(socketCount)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => {
      output += String(d);
    });
    const deadline = Date.now() + 60_000;
    while (!output.includes('connected')) {
      if (Date.now() > deadline) throw new Error('sockets did not connect');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500)); // let the first full snapshots go out
    const pushStart = process.cpuUsage();
    const wallStart = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const push = process.cpuUsage(pushStart);
    const wall = (performance.now() - wallStart) / 1000;
    child.stdin.write('stop\n');
    await new Promise((r) => child.once('exit', r));
    const result = JSON.parse(output.split('\n').find((l) => l.startsWith('{')) ?? '{}') as { deltas?: number; bytes?: number };

    const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    console.log(
      JSON.stringify({
        components: COMPONENTS,
        connections: COMPONENTS - 1,
        flowBytes,
        reads,
        flowReadP50Ms: Math.round(percentile(latencies, 50) * 100) / 100,
        flowReadP99Ms: Math.round(percentile(latencies, 99) * 100) / 100,
        sockets: socketCount,
        pushSeconds: Math.round(wall * 10) / 10,
        pushesReceived: result.deltas ?? 0,
        pushBytes: result.bytes ?? 0,
        idleCpuMsPerSecond: Math.round((ms(idle) / seconds) * 10) / 10,
        pushingCpuMsPerSecond: Math.round((ms(push) / wall) * 10) / 10,
        pushCpuMsPerSecond: Math.round(((ms(push) - ms(idle)) / wall) * 10) / 10,
      }),
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Dispatch last: everything above is initialized by now.
if (process.argv[2] === 'clients') {
  // Child: connect N sockets, report when all are connected, count pushes until told to stop.
  const [, , , url = '', cookie = '', countText = '20'] = process.argv;
  const count = Number(countText);
  let connected = 0;
  let deltas = 0;
  let bytes = 0;
  const sockets = Array.from({ length: count }, () => {
    const socket = io(url, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false, forceNew: true });
    socket.on('connect', () => {
      connected++;
      if (connected === count) process.stdout.write('connected\n');
    });
    socket.on('status:delta', (delta: unknown) => {
      deltas++;
      if (deltas <= count) bytes = JSON.stringify(delta).length;
    });
    return socket;
  });
  process.stdin.on('data', () => {
    for (const s of sockets) s.disconnect();
    process.stdout.write(`${JSON.stringify({ deltas, bytes })}\n`);
    process.exit(0);
  });
} else {
  await main();
}
