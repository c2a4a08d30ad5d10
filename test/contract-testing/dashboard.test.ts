/**
 * The dashboard's coverage and drift panel in headless Chromium (as test/ui/dashboard.test.ts:
 * skipped only off CI when /usr/bin/chromium is missing).
 */
import { describe, expect, it } from 'vitest';
import { browserForFile, skipBrowser } from '../ui/browser.js';
import { startEmulator } from '../../src/server/start.js';
import { SANDBOX as MGMT } from '../mgmt/helpers.js';

const browser = browserForFile('test/contract-testing/dashboard.test.ts');
const skip = skipBrowser;

describe('dashboard: contract coverage and drift', () => {
  it.skipIf(skip)('shows what the requests exercised and the drift shadow mode found', async () => {
    const standIn = await startEmulator({ port: 0, logLevel: 'silent' });
    await standIn.addFault({
      vendor: 'mgmt',
      operation: 'load',
      status: 200,
      body: { id: 1, code: 'CUST-00001', accountId: 2001, givenName: 'James' },
    });
    const emu = await startEmulator({ port: 0, logLevel: 'silent', upstream: [`mgmt=${standIn.url}`] });
    const page = await browser().newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      const res = await fetch(`${emu.url}/api/v01/customers/1`, {
        headers: { authorization: MGMT, accept: 'application/json' },
      });
      expect((await res.json()).givenName).toBe('James');
      await page.goto(`${emu.url}/_emulator/ui`);
      const mgmtRow = page.locator('#coverage tr[data-vendor="mgmt"]');
      await expect.poll(() => mgmtRow.locator('td').nth(1).textContent(), { timeout: 10_000 }).toBe('1/3');
      expect(await mgmtRow.textContent()).toContain('find');
      await page
        .locator('#drift tbody tr', { hasText: 'field $.givenName: only upstream (string)' })
        .waitFor({ timeout: 10_000 });
      expect(await page.locator('#coverage-md').getAttribute('href')).toBe('/_emulator/coverage?format=markdown');
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await emu.close();
      await standIn.close();
    }
  });
});
