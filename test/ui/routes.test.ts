/** The dashboard's server side: its static files, /_emulator/vendors and the data browser routes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ctl, makeApp } from '../helpers.js';
import { buildApp } from '../../src/server/app.js';
import { createCustomer } from '../rackcorp/helpers.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await makeApp();
});
afterAll(async () => {
  await app.close();
});

describe('GET /_emulator/ui', () => {
  it('serves the page and its assets with a strict content security policy', async () => {
    const page = await app.inject({ method: 'GET', url: '/_emulator/ui' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.body).toContain('<script src="/_emulator/ui/app.js" defer></script>');
    const js = await app.inject({ method: 'GET', url: '/_emulator/ui/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write|outerHTML/);
    const css = await app.inject({ method: 'GET', url: '/_emulator/ui/style.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await app.inject({ method: 'GET', url: '/_emulator/ui/' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/_emulator/ui/../package.json' })).statusCode).toBe(404);
  });
});

describe('GET /_emulator/vendors', () => {
  it('lists every vendor with base paths, tables, sandbox credentials and fault presets', async () => {
    const { status, body } = await ctl(app, 'GET', '/_emulator/vendors');
    expect(status).toBe(200);
    expect(body.vendors.map((v: { name: string }) => v.name)).toEqual(['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt']);
    const rc = body.vendors[0];
    expect(rc.basePaths).toContain('/api/rest/v2.9');
    expect(rc.tables).toContain('rackcorp_customers');
    expect(rc.faultPresets).toEqual(expect.arrayContaining(['fault', 'auth']));
    expect(rc.sandbox.map((c: { value: string }) => c.value)).toContain(
      '11111111-2222-4333-8444-555555555555 / rackcorp-sandbox-secret',
    );
    for (const v of body.vendors) expect(v.sandbox.length).toBeGreaterThan(0);
  });
});

describe('GET /_emulator/data', () => {
  it('counts the rows of every table, per session', async () => {
    const before = await ctl(app, 'GET', '/_emulator/data?session=ui-count');
    const n = before.body.vendors.rackcorp.rackcorp_customers;
    expect(n).toBeGreaterThan(0);
    await createCustomer(app, 'ui-count');
    expect((await ctl(app, 'GET', '/_emulator/data?session=ui-count')).body.vendors.rackcorp.rackcorp_customers).toBe(
      n + 1,
    );
    expect((await ctl(app, 'GET', '/_emulator/data')).body.vendors.rackcorp.rackcorp_customers).toBe(n);
    expect(Object.keys(before.body.vendors)).toEqual(['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt']);
  });

  it('pages through one table in rowid order', async () => {
    const all = await ctl(app, 'GET', '/_emulator/data/rackcorp/rackcorp_customers?limit=500');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      vendor: 'rackcorp',
      table: 'rackcorp_customers',
      offset: 0,
      limit: 500,
      session: null,
    });
    expect(all.body.columns.length).toBeGreaterThan(3);
    expect(all.body.rows.length).toBe(all.body.total);
    const page = await ctl(app, 'GET', '/_emulator/data/rackcorp/rackcorp_customers?limit=2&offset=3');
    expect(page.body.rows).toEqual(all.body.rows.slice(3, 5));
    expect(page.body.total).toBe(all.body.total);
  });

  it('shows a session its own rows', async () => {
    const id = await createCustomer(app, 'ui-rows', 'Only In This Session');
    const last = async (session?: string) => {
      const total = (
        await ctl(
          app,
          'GET',
          `/_emulator/data/rackcorp/rackcorp_customers?limit=1${session ? `&session=${session}` : ''}`,
        )
      ).body.total;
      return (
        await ctl(
          app,
          'GET',
          `/_emulator/data/rackcorp/rackcorp_customers?limit=1&offset=${total - 1}${session ? `&session=${session}` : ''}`,
        )
      ).body.rows[0];
    };
    expect(Object.values(await last('ui-rows'))).toContain('Only In This Session');
    expect(Object.values(await last('ui-rows'))).toContain(id);
    expect(Object.values(await last())).not.toContain('Only In This Session');
  });

  it('refuses unknown vendors and tables (404) and bad paging (400)', async () => {
    expect((await ctl(app, 'GET', '/_emulator/data/nope/x')).status).toBe(404);
    const t = await ctl(app, 'GET', '/_emulator/data/rackcorp/sqlite_master');
    expect(t.status).toBe(404);
    expect(t.body.message).toContain('rackcorp_customers');
    expect((await ctl(app, 'GET', '/_emulator/data/rackcorp/emailsrvr_customers')).status).toBe(404);
    expect((await ctl(app, 'GET', '/_emulator/data/rackcorp/rackcorp_customers?limit=0')).status).toBe(400);
    expect((await ctl(app, 'GET', '/_emulator/data/rackcorp/rackcorp_customers?limit=501')).status).toBe(400);
    expect((await ctl(app, 'GET', '/_emulator/data/rackcorp/rackcorp_customers?offset=-1')).status).toBe(400);
  });
});

describe('with --control-token', () => {
  it('serves the page without the token, but no data', async () => {
    const locked = await buildApp({ logLevel: 'silent', controlToken: 'ui-secret' });
    try {
      for (const url of ['/_emulator/ui', '/_emulator/ui/app.js', '/_emulator/ui/style.css']) {
        expect((await locked.inject({ method: 'GET', url })).statusCode).toBe(200);
      }
      for (const url of [
        '/_emulator/vendors',
        '/_emulator/data',
        '/_emulator/data/rackcorp/rackcorp_customers',
        '/_emulator/ui/x',
        '/_emulator/uix',
      ]) {
        expect((await locked.inject({ method: 'GET', url })).statusCode).toBe(401);
      }
      const ok = await locked.inject({
        method: 'GET',
        url: '/_emulator/vendors',
        headers: { authorization: 'Bearer ui-secret' },
      });
      expect(ok.statusCode).toBe(200);
    } finally {
      await locked.close();
    }
  });
});

describe('the journal the dashboard shows', () => {
  it('records a request a fault answers before routing (a rule naming no operation)', async () => {
    const s = 'ui-fault-journal';
    await ctl(app, 'POST', `/_emulator/faults?session=${s}`, {
      vendor: 'rackcorp',
      status: 503,
      body: { error: 'down' },
    });
    const res = await app.inject({
      method: 'GET',
      url: `/_sessions/${s}/api/rest/v2.9/json.php?cmd=customer.get&id=123`,
    });
    expect(res.statusCode).toBe(503);
    const journal = (await ctl(app, 'GET', `/_emulator/requests?session=${s}`)).body;
    expect(journal.count).toBe(1);
    expect(journal.requests[0]).toMatchObject({
      vendor: 'rackcorp',
      status: 503,
      fault: 1,
      responseBody: '{"error":"down"}',
    });
  });
});
