/**
 * The dashboard's coverage and drift panel in headless Chromium (as test/ui/dashboard.test.ts:
 * skipped only off CI when /usr/bin/chromium is missing).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { startEmulator } from '../../src/server/start.js';
import { SANDBOX as MGMT } from '../mgmt/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && process.env.CI !== 'true';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let context: BrowserContext;
let userDataDir: string;
beforeAll(async () => {
  if (skip) return;
  userDataDir = mkdtempSync(join(tmpdir(), 'emu-contract-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 1000 } });
}, 60_000);
afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('dashboard: contract coverage and drift', () => {
  it.skipIf(skip)('shows what the requests exercised and the drift shadow mode found', async () => {
    const standIn = await startEmulator({ port: 0, logLevel: 'silent' });
    await standIn.addFault({ vendor: 'mgmt', operation: 'load', status: 200, body: { id: 1, code: 'CUST-00001', accountId: 2001, givenName: 'James' } });
    const emu = await startEmulator({ port: 0, logLevel: 'silent', upstream: [`mgmt=${standIn.url}`] });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      const res = await fetch(`${emu.url}/api/v01/customers/1`, { headers: { authorization: MGMT, accept: 'application/json' } });
      expect((await res.json()).givenName).toBe('James');
      await page.goto(`${emu.url}/_emulator/ui`);
      const mgmtRow = page.locator('#coverage tr[data-vendor="mgmt"]');
      await expect.poll(() => mgmtRow.locator('td').nth(1).textContent(), { timeout: 10_000 }).toBe('1/3');
      expect(await mgmtRow.textContent()).toContain('find');
      await page.locator('#drift tbody tr', { hasText: 'field $.givenName: only upstream (string)' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#coverage-md').getAttribute('href')).toBe('/_emulator/coverage?format=markdown');
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await emu.close();
      await standIn.close();
    }
  });
});
