import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportFlow, importFlow, setCredentials } from './admin-commands.ts';
import { Client, until } from './test-server.test-helper.ts';

// The `sluice` command as people run it: `start` in a real process (first-start login, demo flow,
// SIGTERM), and set-credentials, export and import (called in-process: starting a process per
// command would cost seconds each).

const cli = new URL('./cli.ts', import.meta.url).pathname;
const repo = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
const dataDir = join(dir, 'data');
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs an admin command, capturing what it writes. */
async function run(command: (io: { write: (l: string) => void; print: (t: string) => void }) => Promise<number>) {
  let log = '';
  let out = '';
  const status = await command({
    write: (line) => {
      log += `${line}\n`;
    },
    print: (text) => {
      out += text;
    },
  });
  return { status, log, out };
}

function start(): { child: ChildProcess; output: () => string } {
  let output = '';
  // Sources through tsx, resolved from the repository (the child runs in a temp dir).
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
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  return { child, output: () => output };
}

describe('sluice start', () => {
  it('prints the generated login once, serves the demo flow stopped, takes new credentials and stops cleanly on SIGTERM', {
    timeout: 90_000,
  }, async () => {
    const server = start();
    const url = await until(() => /listening on (http:\/\/[^ ]+)/.exec(server.output())?.[1], 'the server to listen', 60_000);
    const password = await until(() => /password: (\S+)/.exec(server.output())?.[1], 'the generated password');
    const admin = await Client.login(url, 'admin', password);
    const flow = await admin.get<{ flow: { rootGroup: { processors: { id: string; state: string }[] } } }>('/flow');
    expect(flow.body.flow.rootGroup.processors.map((p) => p.state)).toEqual(Array(5).fill('STOPPED'));

    // A running server picks up set-credentials at the next login.
    expect(
      (await run((io) => setCredentials({ dataDir, username: 'admin', password: 'a-brand-new-password', ...io }))).status,
    ).toBe(0);
    await Client.login(url, 'admin', 'a-brand-new-password');
    await expect(Client.login(url, 'admin', password)).rejects.toThrow();
    const ops = await run((io) => setCredentials({ dataDir, username: 'ops', role: 'operator', ...io }));
    expect(ops.status).toBe(0);
    const generated = /password: (\S+)/.exec(ops.out)?.[1] ?? '';
    expect((await Client.login(url, 'ops', generated)).username).toBe('ops');
    expect((await run((io) => setCredentials({ dataDir, username: 'admin', password: 'short', ...io }))).status).toBe(2);
    expect((await run((io) => setCredentials({ dataDir, username: 'admin', role: 'root', ...io }))).status).toBe(2);

    // Import refuses while the server runs.
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ sluiceFlow: 1, rootGroup: { id: 'root', name: 'Tiny' } }));
    const refused = await run((io) => importFlow({ dataDir, file: join(dir, 'tiny.json'), keepRunStates: false, ...io }));
    expect(refused.status).toBe(1);
    expect(refused.log).toContain('stop it first');

    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(server.output()).toContain('stopped cleanly');
  });
});

describe('sluice export and import', () => {
  it('exports the stored flow without sensitive values and imports a document as a new version', async () => {
    const exported = await run((io) => exportFlow({ dataDir, ...io }));
    expect(exported.status).toBe(0);
    const document = JSON.parse(exported.out);
    expect(document.rootGroup.processors.map((p: { id: string }) => p.id)).toContain('generate');
    document.rootGroup.processors.push({ id: 'ghost', name: 'Ghost', type: 'NoSuchProcessor' });
    document.rootGroup.name = 'Imported demo';
    writeFileSync(join(dir, 'edited.json'), JSON.stringify(document));
    const imported = await run((io) => importFlow({ dataDir, file: join(dir, 'edited.json'), keepRunStates: false, ...io }));
    expect(imported.status).toBe(0);
    expect(imported.log).toContain('unknown processor type "NoSuchProcessor"');
    const stored = JSON.parse(readFileSync(join(dataDir, 'flow.json'), 'utf8'));
    expect(stored.flow.rootGroup.name).toBe('Imported demo');
    expect(stored.version).toBeGreaterThan(1);
    const into = await run((io) =>
      importFlow({ dataDir, file: join(dir, 'tiny.json'), groupId: 'root', keepRunStates: false, ...io }),
    );
    expect(into.status).toBe(0);
    const written = await run((io) => exportFlow({ dataDir, output: join(dir, 'out.json'), ...io }));
    expect(written.status).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    expect(out.rootGroup.processGroups.map((g: { name: string }) => g.name)).toEqual(['Tiny']);
    expect((await run((io) => exportFlow({ dataDir, groupId: 'nope', ...io }))).status).toBe(1);
    expect((await run((io) => importFlow({ dataDir, file: join(dir, 'nope.json'), keepRunStates: false, ...io }))).status).toBe(
      2,
    );
    writeFileSync(
      join(dir, 'invalid.json'),
      JSON.stringify({
        sluiceFlow: 1,
        rootGroup: { id: 'root', name: 'x', connections: [{ id: 'c', source: { id: 'a' }, destination: { id: 'b' } }] },
      }),
    );
    const invalid = await run((io) => importFlow({ dataDir, file: join(dir, 'invalid.json'), keepRunStates: false, ...io }));
    expect(invalid.status).toBe(1);
    expect(invalid.log).toContain('does not exist');

    // Into a data directory that does not exist yet: prepared, and the flow stored there.
    const fresh = join(dir, 'fresh', 'data');
    const first = await run((io) => importFlow({ dataDir: fresh, file: join(dir, 'tiny.json'), keepRunStates: false, ...io }));
    expect(first.status, first.log).toBe(0);
    const freshFlow = JSON.parse(readFileSync(join(fresh, 'flow.json'), 'utf8'));
    expect(freshFlow.flow.rootGroup.name).toBe('Tiny');
  });
});
