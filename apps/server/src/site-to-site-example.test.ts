/**
 * docs/site-to-site.md without Docker, as a user runs it: the two example flows imported into two
 * data directories, two `sluice start` processes (core: input port -> PutFile; edge: ConsumeMQTT ->
 * Remote Process Group), MQTT messages published to the edge's broker, files appearing at the core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { importFlow } from './admin-commands.ts';
import { mapImport } from './flow/import.ts';
import { SensitivePolicy } from './flow/sensitive.ts';
import { standardRegistry } from './run-command.ts';
import { until } from './test-server.test-helper.ts';

const cli = new URL('./cli.ts', import.meta.url).pathname;
const repo = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-s2s-example-'));
const TOKEN = 'example-edge-token-0123456789';
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode === null ? c.once('exit', resolve) : resolve(0)))));
  for (const cleanup of cleanups) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Mosquitto when one answers on MQTT_URL (default 127.0.0.1:1883), else Aedes in this process. */
async function broker(): Promise<string> {
  const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  try {
    const probe = await connectAsync(url, { connectTimeout: 1500, reconnectPeriod: 0 });
    await probe.endAsync(true);
    return url;
  } catch {
    const aedes = await Aedes.createBroker();
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const address = server.address();
    return `mqtt://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }
}

/** `sluice start` on a free port; resolves with its URL once it listens. */
async function start(dataDir: string, env: Record<string, string>, extra: string[] = []): Promise<string> {
  let output = '';
  const child = spawn(
    process.execPath,
    [
      '--conditions=sluice-source',
      '--import',
      join(repo, 'node_modules/tsx/dist/esm/index.mjs'),
      cli,
      'start',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      ...extra,
    ],
    { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  return until(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], `sluice start (${dataDir}) to listen:\n${output}`, 60_000);
}

async function imported(name: string, dataDir: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  let log = '';
  const status = await importFlow({
    dataDir,
    file: join(repo, 'examples', name),
    keepRunStates: true,
    write: (line) => {
      log += `${line}\n`;
    },
  });
  expect(status, log).toBe(0);
}

describe('docs/site-to-site.md without Docker', () => {
  it('an import without --keep-run-states leaves the Remote Process Group ports stopped too', () => {
    const registry = standardRegistry();
    const input: unknown = JSON.parse(readFileSync(join(repo, 'examples', 'site-to-site-edge.json'), 'utf8'));
    const { document } = mapImport(input, registry, new SensitivePolicy(registry), false);
    const ports = (document.rootGroup.remoteProcessGroups ?? []).flatMap((r) => [...r.inputPorts, ...r.outputPorts]);
    expect(ports.map((p) => p.state)).toEqual(['STOPPED']);
    expect(document.rootGroup.processors.map((p) => p.state)).toEqual(['STOPPED', 'STOPPED']);
  });

  it('MQTT messages at the edge end up as files at the core', async () => {
    const mqttUrl = await broker();
    const received = join(dir, 'received');
    mkdirSync(received);
    const coreData = join(dir, 'core-data');
    const edgeData = join(dir, 'edge-data');
    await imported('site-to-site-core.json', coreData);
    await imported('site-to-site-edge.json', edgeData);
    const core = await start(coreData, { SLUICE_S2S_TOKENS: `edge=${TOKEN}`, SLUICE_OUTPUT_DIR: received }, [
      '--allow-path',
      dir,
    ]);
    await start(edgeData, { SLUICE_S2S_TOKEN: TOKEN, SLUICE_CORE_URL: `${core}/nifi`, MQTT_BROKER_URI: mqttUrl });

    const publisher = await connectAsync(mqttUrl, { reconnectPeriod: 0 });
    const topic = `sensors/s2s-example-${process.pid}`;
    const expected = new Set<string>();
    // The edge subscribes shortly after it starts: publish until the first file arrives.
    await until(
      async () => {
        const text = JSON.stringify({ reading: expected.size });
        expected.add(text);
        await publisher.publishAsync(topic, text, { qos: 1 });
        return readdirSync(received, { withFileTypes: true }).some((e) => e.isFile());
      },
      'the first file at the core',
      60_000,
    );
    for (let i = 0; i < 20; i++) {
      const text = JSON.stringify({ reading: `after-${i}` });
      expected.add(text);
      await publisher.publishAsync(topic, text, { qos: 1 });
    }
    await publisher.endAsync();
    // Files of the readings published while waiting for the first one arrive too: wait for the 20.
    const wanted = Array.from({ length: 20 }, (_, i) => JSON.stringify({ reading: `after-${i}` }));
    const contents = await until(
      () => {
        const names = readdirSync(received).filter((n) => n.startsWith(topic.replace('/', '-')) && !n.startsWith('.'));
        const found = new Set(names.map((name) => readFileSync(join(received, name), 'utf8')));
        return wanted.every((text) => found.has(text)) ? found : undefined;
      },
      'the messages as files at the core',
      30_000,
    );
    for (const text of wanted) expect(contents.has(text)).toBe(true);
    // Nothing arrives that was not published.
    for (const text of contents) expect(expected.has(text)).toBe(true);
  });
});
