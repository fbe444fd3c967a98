// Editor benchmark: real Chromium against a real server. A flow of N processors (a source and a
// chain of UpdateAttribute, all running, connections between them) is created through the import
// API; then: time from navigation to the first processor on screen, time until a click selects a
// processor (interactive), and frame times (requestAnimationFrame deltas) while panning and while
// status streams in (every component's status pushed every second: the worst case), and while
// panning zoomed in to details (55 %). The same is measured for a 10-processor flow in the same run
// as the baseline. Prints one JSON line.
//
//   node --import tsx bench/editor.ts [processors=1000] [seconds=5]
//
// Needs the editor built (npm run build) and Chromium (/usr/bin/chromium or SLUICE_CHROMIUM).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Browser, chromium, type Page } from '@playwright/test';
import { createServer, type SluiceServer } from '@sluice/server';
import { CHROMIUM_ARGS, requireChromium } from '../e2e/chromium.ts';

const here = new URL('.', import.meta.url).pathname;
// SLUICE_EDITOR_DIR measures another build of the editor (e.g. one built with --outDir elsewhere).
const EDITOR_DIR = process.env.SLUICE_EDITOR_DIR ?? join(here, '../apps/editor/dist');

function flowDocument(count: number) {
  const processors = Array.from({ length: count }, (_, i) =>
    i === 0
      ? {
          id: 'p0',
          name: 'Source',
          type: 'GenerateFlowFile',
          position: { x: 0, y: 0 },
          properties: { customText: 'x' },
          scheduling: { period: '100 ms' },
          state: 'RUNNING' as const,
        }
      : {
          id: `p${i}`,
          name: `Step ${i}`,
          type: 'UpdateAttribute',
          position: { x: (i % 40) * 280, y: Math.floor(i / 40) * 200 },
          properties: { step: String(i) },
          autoTerminate: i === count - 1 ? ['success'] : [],
          state: 'RUNNING' as const,
        },
  );
  const connections = Array.from({ length: count - 1 }, (_, i) => ({
    id: `c${i}`,
    source: { id: `p${i}` },
    destination: { id: `p${i + 1}` },
    relationships: ['success'],
  }));
  return { sluiceFlow: 1, name: `Bench ${count}`, rootGroup: { id: 'root', name: 'Bench', processors, connections } };
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const stats = (deltas: readonly number[]) => ({
  frames: deltas.length,
  p50Ms: Number(percentile(deltas, 50).toFixed(1)),
  p95Ms: Number(percentile(deltas, 95).toFixed(1)),
  maxMs: Number(Math.max(0, ...deltas).toFixed(1)),
});

async function importFlow(server: SluiceServer, count: number): Promise<void> {
  const credentials = server.initialCredentials;
  if (credentials === undefined) throw new Error('no generated login');
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  const session: unknown = await login.json();
  const csrf = typeof session === 'object' && session !== null && 'csrfToken' in session ? String(session.csrfToken) : '';
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const response = await fetch(`${server.url}/api/v1/flow/import`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf, origin: server.url },
    body: JSON.stringify({ document: flowDocument(count), mode: 'replace', keepRunStates: true }),
  });
  if (response.status !== 200) throw new Error(`import: ${response.status} ${await response.text()}`);
}

/** The canvas's zoom, from React Flow's viewport transform. */
async function viewportZoom(page: Page): Promise<number> {
  const transform: unknown = await page.evaluate(`document.querySelector('.react-flow__viewport')?.style.transform ?? ''`);
  return Number(/scale\(([\d.]+)\)/.exec(String(transform))?.[1] ?? 1);
}

async function measure(browser: Browser, server: SluiceServer, count: number, seconds: number) {
  await importFlow(server, count);
  const credentials = server.initialCredentials;
  if (credentials === undefined) throw new Error('no generated login');
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto('/');
  await page.getByTestId('login-username').fill(credentials.username);
  await page.getByTestId('login-password').fill(credentials.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('canvas').waitFor();

  // Cold load of the editor with the session cookie: navigation -> first processor -> a click works.
  const start = performance.now();
  await page.goto('/');
  await page.locator('[data-testid="processor-node"]').first().waitFor();
  const firstRenderMs = performance.now() - start;
  const node = page.locator('.react-flow__node').first();
  await node.click();
  await page.locator('.react-flow__node.selected').first().waitFor();
  const interactiveMs = performance.now() - start;
  await page.locator('[data-testid="processor-node"][data-live="yes"]').first().waitFor();

  // requestAnimationFrame deltas over `ms`, recorded in the page while `during` runs.
  const recordFrames = async (ms: number, during: () => Promise<void>): Promise<number[]> => {
    // A string, not a function: tsx's name-keeping helper (__name) does not exist in the page.
    const frames = page.evaluate(`new Promise((resolve) => {
      const deltas = [];
      const end = performance.now() + ${ms};
      let last = 0;
      const tick = (now) => {
        deltas.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(tick);
        else resolve(deltas);
      };
      requestAnimationFrame((now) => { last = now; requestAnimationFrame(tick); });
    })`);
    await during();
    const deltas: unknown = await frames;
    return Array.isArray(deltas) ? deltas.filter((d): d is number => typeof d === 'number') : [];
  };

  // Panning: drag the pane back and forth for `seconds`.
  const box = await page.getByTestId('canvas').boundingBox();
  if (box === null) throw new Error('no canvas');
  const panning = await recordFrames(seconds * 1000, async () => {
    const deadline = performance.now() + seconds * 1000;
    let direction = 1;
    while (performance.now() < deadline) {
      const x = box.x + box.width / 2;
      const y = box.y + 30; // the top strip of the pane: empty in these flows
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x + direction * 300, y + 20, { steps: 30 });
      await page.mouse.up();
      direction = -direction;
    }
  });
  // Status streaming: sit still while every component's status arrives each second.
  const streaming = await recordFrames(seconds * 1000, async () => undefined);
  const rendered = await page.locator('.react-flow__node').count();
  // Zoomed in to details (55 %, processors with names and figures, connections with labels): the
  // same panning (fitted, both flows here are below the 45 % of details: plain boxes).
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let zoom = await viewportZoom(page), i = 0; (zoom < 0.55 || zoom > 0.6) && i < 100; zoom = await viewportZoom(page), i++) {
    await page.mouse.wheel(0, zoom < 0.55 ? -50 : 50);
    await page.waitForTimeout(50);
  }
  await page.locator('.node-stats').first().waitFor();
  await page.waitForTimeout(1000);
  const zoomedIn = await recordFrames(seconds * 1000, async () => {
    const deadline = performance.now() + seconds * 1000;
    let direction = 1;
    while (performance.now() < deadline) {
      const x = box.x + box.width / 2;
      const y = box.y + 30;
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x + direction * 300, y + 20, { steps: 30 });
      await page.mouse.up();
      direction = -direction;
    }
  });
  await context.close();
  return {
    processors: count,
    nodesRendered: rendered,
    firstRenderMs: Math.round(firstRenderMs),
    interactiveMs: Math.round(interactiveMs),
    panning: stats(panning.slice(1)),
    statusStreaming: stats(streaming.slice(1)),
    zoomedInPanning: stats(zoomedIn.slice(1)),
  };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1000);
  const seconds = Number(process.argv[3] ?? 5);
  if (!existsSync(join(EDITOR_DIR, 'index.html'))) throw new Error(`the editor is not built (${EDITOR_DIR}): npm run build`);
  const executablePath = requireChromium();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-editor-'));
  const server = await createServer({
    dataDir: dir,
    port: 0,
    initialFlow: 'empty',
    editorDir: EDITOR_DIR,
    engine: { repositories: 'volatile', provenance: 'off' },
    statusIntervalMs: 1000,
    fullStatusEveryTick: true,
    fileRoots: [dir],
  });
  const browser = await chromium.launch({
    executablePath,
    args: CHROMIUM_ARGS,
  });
  try {
    const baseline = await measure(browser, server, 10, seconds);
    const large = await measure(browser, server, count, seconds);
    console.log(
      JSON.stringify({
        ...large,
        baseline,
        targets: { interactiveMs: 2000, frameMs: 33 },
        meetsTargets: large.interactiveMs < 2000 && large.panning.p95Ms < 33 && large.statusStreaming.p95Ms < 33,
      }),
    );
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
