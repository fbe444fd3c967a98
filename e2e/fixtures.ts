import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Locator, type Page } from '@playwright/test';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'apps/server/dist/cli.js');

/** Logins every test server has (one per role). */
export const USERS = {
  admin: { username: 'admin', password: 'admin-password-e2e' },
  operator: { username: 'operator', password: 'operator-password-e2e' },
  viewer: { username: 'viewer', password: 'viewer-password-e2e' },
} as const;
export type UserName = keyof typeof USERS;

/** A real server started from the built app in a temporary directory. */
export interface TestServer {
  readonly url: string;
  /** The temporary directory (the server's working directory and allowed path). */
  readonly dir: string;
  /** An output directory for PutFile under `dir`. */
  readonly outDir: string;
}

function run(args: string[], cwd: string, input?: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`sluice ${args.join(' ')} exited ${code}: ${output}`))));
    child.stdin.end(input ?? '');
  });
}

async function startServer(): Promise<{ server: TestServer; stop: () => Promise<void> }> {
  for (const built of [CLI, join(ROOT, 'apps/editor/dist/index.html')]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run build" first (npm test does)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const dataDir = join(dir, 'data');
  const outDir = join(dir, 'out');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  for (const [role, user] of Object.entries(USERS)) {
    await run(
      ['set-credentials', '--data-dir', dataDir, '--username', user.username, '--role', role, '--password-stdin'],
      dir,
      user.password,
    );
  }
  const empty = join(dir, 'empty-flow.json');
  writeFileSync(empty, JSON.stringify({ sluiceFlow: 1, name: 'e2e', rootGroup: { id: 'root', name: 'E2E flow' } }));
  await run(['import', empty, '--data-dir', dataDir], dir);
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', dataDir, '--allow-path', dir], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start in 30 s:\n${log}`)), 30_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(log);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        done(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the server exited (${code}) before listening:\n${log}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { server: { url, dir, outDir }, stop };
}

/** Tests get a fresh server each (an empty flow, one login per role). */
export const test = base.extend<{ server: TestServer }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern
  server: async ({}, use) => {
    const { server, stop } = await startServer();
    await use(server);
    await stop();
  },
  baseURL: async ({ server }, use) => {
    await use(server.url);
  },
});
export { expect };

/** Logs in through the login page and waits for the canvas. */
export async function login(page: Page, user: UserName = 'admin'): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-username').fill(USERS[user].username);
  await page.getByTestId('login-password').fill(USERS[user].password);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('canvas')).toBeVisible();
}

/** A processor node on the canvas, by name. */
export function processor(page: Page, name: string): Locator {
  return page.locator(`[data-testid="processor-node"][data-name="${name}"]`);
}

/** Drags a processor type from the palette onto the canvas at (x, y) inside the canvas. */
export async function dragProcessor(page: Page, type: string, x: number, y: number): Promise<void> {
  await page.getByTestId('palette-search').fill(type);
  await page.getByTestId(`palette-${type}`).dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
  // Wait for its first live status (validation problems change the node's height).
  await expect(processor(page, type)).toHaveAttribute('data-live', 'yes');
  await page.getByTestId('palette-search').fill('');
}

/** Drags from one node's source handle to another's target handle (hover waits for each to be stable). */
export async function connect(page: Page, from: Locator, to: Locator): Promise<void> {
  await from.getByTestId('handle-source').hover();
  await page.mouse.down();
  await to.getByTestId('handle-target').hover();
  await page.mouse.up();
}

/** Drags a node by its title bar `dx` pixels to the right; returns where it was on screen. */
export async function dragBy(page: Page, node: Locator, dx: number): Promise<{ x: number; y: number }> {
  const box = await node.boundingBox();
  if (box === null) throw new Error('node not visible');
  await page.mouse.move(box.x + 60, box.y + 12);
  await page.mouse.down();
  await page.mouse.move(box.x + 60 + dx, box.y + 12, { steps: 8 });
  await page.mouse.up();
  return { x: box.x, y: box.y };
}

/** GenerateFlowFile -> LogAttribute, built by drag and drop and connected (success). */
export async function buildPair(page: Page): Promise<{ source: Locator; sink: Locator }> {
  await dragProcessor(page, 'GenerateFlowFile', 250, 100);
  await dragProcessor(page, 'LogAttribute', 250, 400);
  const source = processor(page, 'GenerateFlowFile');
  const sink = processor(page, 'LogAttribute');
  await connect(page, source, sink);
  await page.getByTestId('relationship-create').click();
  await expect(page.getByTestId('connection-label')).toHaveCount(1);
  return { source, sink };
}

/** A screenshot for the docs (docs/images/). */
export async function docScreenshot(page: Page, name: string, locator?: Locator): Promise<void> {
  const path = join(ROOT, 'docs/images', name);
  if (locator === undefined) await page.screenshot({ path });
  else await locator.screenshot({ path });
}
