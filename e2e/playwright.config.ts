import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, requireChromium } from './chromium.ts';

// Real Chromium from the system (set SLUICE_CHROMIUM for another binary); without one, the run
// stops here with how to install it.
const chromium = requireChromium();

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-results',
  // Every test starts its own server; one browser at a time keeps the machine's load (and timings) sane.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  // One retry: real Chromium rasterizing in software next to a real server on a shared 2-vCPU
  // machine occasionally misses a timing. A test that needed it is reported as "flaky" (its first
  // failure keeps its trace and screenshot); one that fails twice fails the run.
  retries: 1,
  expect: { timeout: 15_000 },
  reporter: process.env.CI === undefined ? [['list']] : [['list'], ['json', { outputFile: '../test-results/e2e.json' }]],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: chromium,
      args: CHROMIUM_ARGS,
    },
  },
});
