/**
 * The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
 * playwright-core against startEmulator({ port: 0 }). Skipped only off CI when Chromium is missing;
 * in CI (CI=true, .ci/run installs chromium) it must run.
 */
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { browserForFile, skipBrowser } from './browser.js';
import type { Page } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../src/server/start.js';
import { basic, newCustomer } from '../rackcorp/helpers.js';

const browser = browserForFile('test/ui/dashboard.test.ts');
const skip = skipBrowser;

async function rackcorp(emu: RunningEmulator, payload: unknown, contentType = 'application/json') {
  const res = await fetch(`${emu.url}/api/rest/v2.9/json.php`, {
    method: 'POST',
    headers: { ...basic(), 'content-type': contentType },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.status, text: await res.text() };
}

const customersOption = (page: Page) => page.locator('#data-table option[value="rackcorp/rackcorp_customers"]');

describe('dashboard in headless Chromium', () => {
  it.skipIf(skip)(
    'shows a RackCorp request, adds a fault that fails the next one, resets',
    async () => {
      const emu = await startEmulator({ port: 0, logLevel: 'silent' });
      const page = await browser().newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      try {
        await page.goto(`${emu.url}/_emulator/ui`);
        await expect.poll(() => page.locator('#vendors .card').count()).toBe(4);
        const rcCard = page.locator('#vendors .card[data-vendor="rackcorp"]');
        expect(await rcCard.textContent()).toContain('11111111-2222-4333-8444-555555555555 / rackcorp-sandbox-secret');
        expect(await rcCard.textContent()).toContain(`${emu.url}/api/rest/v2.9`);
        const fixtureCustomers = Number(/\((\d+)\)/.exec((await customersOption(page).textContent())!)![1]);

        // A request appears in the journal; its bodies are shown formatted.
        const ok = await rackcorp(emu, { cmd: 'customer.get', id: 123 });
        expect(ok.status).toBe(200);
        expect(JSON.parse(ok.text).code).toBe('OK');
        const row = page.locator('#journal tbody tr', { hasText: 'customer.get' });
        await row.first().waitFor({ timeout: 10_000 });
        await row.first().click();
        await expect
          .poll(() => page.locator('#request-body pre').textContent())
          .toBe('{\n  "cmd": "customer.get",\n  "id": 123\n}');
        expect(await page.locator('#response-body pre').textContent()).toContain('\n  "code": "OK",\n');

        // A write shows in the data browser's row count.
        const created = await rackcorp(emu, {
          cmd: 'customer.create',
          ...newCustomer,
          companyName: 'Dashboard Widgets',
        });
        expect(JSON.parse(created.text).code).toBe('OK');
        await expect
          .poll(() => customersOption(page).textContent(), { timeout: 10_000 })
          .toBe(`rackcorp_customers (${fixtureCustomers + 1})`);

        // A fault added from the page fails the next RackCorp request.
        await page.selectOption('#fault-vendor', 'rackcorp');
        await page.selectOption('#fault-kind', 'status');
        await page.fill('#fault-status', '503');
        await page.fill('#fault-body', '{"error":"down for the dashboard test"}');
        await page.click('#fault-add');
        await page.locator('#faults tbody tr[data-id]', { hasText: 'status 503' }).waitFor({ timeout: 10_000 });
        expect(await emu.faults()).toMatchObject([
          { vendor: 'rackcorp', kind: 'status', status: 503, body: { error: 'down for the dashboard test' } },
        ]);
        const failed = await rackcorp(emu, { cmd: 'customer.get', id: 123 });
        expect(failed.status).toBe(503);
        expect(JSON.parse(failed.text)).toEqual({ error: 'down for the dashboard test' });
        await expect
          .poll(() => page.locator('#faults tbody tr[data-id] .fired').textContent(), { timeout: 10_000 })
          .toBe('1');
        await page.locator('#journal tbody tr.err', { hasText: '503' }).first().waitFor({ timeout: 10_000 });
        await page.locator('#journal tbody tr.err').first().click();
        await expect
          .poll(() => page.locator('#response-body pre').textContent())
          .toBe('{\n  "error": "down for the dashboard test"\n}');

        mkdirSync('test-output', { recursive: true });
        await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });

        // Reset from the page: no faults, empty journal, fixtures data again.
        await page.click('#reset-all');
        await page.locator('#faults tbody', { hasText: 'No fault rules' }).waitFor({ timeout: 10_000 });
        await expect.poll(() => page.locator('#journal tbody tr').count(), { timeout: 10_000 }).toBe(0);
        await expect
          .poll(() => customersOption(page).textContent(), { timeout: 10_000 })
          .toBe(`rackcorp_customers (${fixtureCustomers})`);
        expect(await emu.faults()).toEqual([]);
        expect((await rackcorp(emu, { cmd: 'customer.get', id: 123 })).status).toBe(200);
        await page.screenshot({ path: 'test-output/dashboard-after-reset.png', fullPage: true });
        expect(pageErrors).toEqual([]);
      } finally {
        await page.close();
        await emu.close();
      }
    },
    90_000,
  );

  it.skipIf(skip)(
    'shows attacker-controlled bodies as text, and formats XML',
    async () => {
      const emu = await startEmulator({ port: 0, logLevel: 'silent' });
      const page = await browser().newPage();
      try {
        await page.goto(`${emu.url}/_emulator/ui`);
        const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
        await rackcorp(emu, evil, 'text/plain');
        await fetch(`${emu.url}/v0/customers`, { headers: { accept: 'text/xml' } }); // emailsrvr refuses it in XML
        await page.locator('#journal tbody tr', { hasText: 'emailsrvr' }).first().click({ timeout: 10_000 });
        const xml = (await page.locator('#response-body pre').textContent())!;
        expect(xml).toMatch(/^<\?xml[^\n]*\n<\w+[^\n]*>\n {2}</);
        await page.locator('#journal tbody tr', { hasText: 'rackcorp' }).first().click();
        // It starts with '<' so it is indented like XML, but as text: no element, no script ran.
        await expect
          .poll(() => page.locator('#request-body pre').textContent())
          .toBe('<img src=x onerror="window.__pwned=1">\n  <script>window.__pwned=2</script>');
        expect(await page.locator('#detail img, #detail script').count()).toBe(0);
        expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      } finally {
        await page.close();
        await emu.close();
      }
    },
    60_000,
  );

  it.skipIf(skip)(
    'with --control-token: the page asks for the token, its calls fail without it and work with it',
    async () => {
      const emu = await startEmulator({ port: 0, logLevel: 'silent', controlToken: 'dash-secret' });
      const page = await browser().newPage();
      try {
        await page.goto(`${emu.url}/_emulator/ui`);
        await page.locator('#token-form').waitFor({ state: 'visible', timeout: 10_000 });
        expect(await page.locator('#token-msg').textContent()).toContain('control token');
        expect(await page.locator('#status').textContent()).toContain('401');
        expect(await page.locator('#vendors .card').count()).toBe(0);
        mkdirSync('test-output', { recursive: true });
        await page.screenshot({ path: 'test-output/dashboard-token.png' });

        await page.fill('#token', 'wrong-token');
        await page.click('#token-form button[type=submit]');
        await expect.poll(() => page.locator('#token-msg').textContent()).toContain('refused');
        expect(await page.locator('#vendors .card').count()).toBe(0);

        await page.fill('#token', 'dash-secret');
        await page.click('#token-form button[type=submit]');
        await expect.poll(() => page.locator('#vendors .card').count(), { timeout: 10_000 }).toBe(4);
        expect(await page.locator('#token-form').isHidden()).toBe(true);
        expect(await page.evaluate(() => sessionStorage.getItem('emu.token'))).toBe('dash-secret');

        // Its actions carry the token too.
        await page.selectOption('#fault-kind', 'drop');
        await page.fill('#fault-times', '1');
        await page.click('#fault-add');
        await page.locator('#faults tbody tr[data-id]', { hasText: 'drop' }).waitFor({ timeout: 10_000 });
        expect(await emu.faults()).toMatchObject([{ kind: 'drop', times: 1 }]);
      } finally {
        await page.close();
        await emu.close();
      }
    },
    60_000,
  );
});
