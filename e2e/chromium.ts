import { existsSync } from 'node:fs';

/** The system Chromium the e2e tests and the editor benchmark drive (Playwright's own download is not used). */
export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';

/** Launch flags: headless, no sandbox (root in containers), software rendering, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** @throws {Error} saying how to install Chromium when there is none. */
export function requireChromium(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is needed at ${CHROMIUM}. Install it (Debian/Ubuntu: "apt-get update && apt-get install -y chromium") ` +
        'or point SLUICE_CHROMIUM at a Chromium or Chrome binary.',
    );
  }
  return CHROMIUM;
}
