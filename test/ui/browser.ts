/**
 * Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by playwright-core,
 * with the flags this closed network needs. Skipped only off CI when Chromium is missing; with
 * CI=true (.ci/run installs chromium) the tests must run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const skipBrowser = !existsSync(CHROMIUM) && process.env.CI !== 'true';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** One browser context for the calling test file (launched before its tests, closed after); read it inside a test. */
export function browserForFile(name: string): () => BrowserContext {
  let context: BrowserContext | undefined;
  let userDataDir: string | undefined;
  if (skipBrowser)
    console.warn(
      `${name}: skipping the browser tests: ${CHROMIUM} is missing (apt-get install chromium); they always run with CI=true`,
    );
  beforeAll(async () => {
    if (skipBrowser) return;
    userDataDir = mkdtempSync(join(tmpdir(), 'emu-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 1000 },
    });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });
  return () => context!;
}
