/**
 * Deep list pages (src/store/page-marks.ts): a page at any offset is exactly the slice a walk of
 * the whole list in its order gives, with the same total, on every vendor, before and right after
 * writes (insert, delete, and a move in the RackCorp tree). The lists are made long enough (a few
 * thousand rows, interleaved with rows the caller must not see) that pages start from page marks,
 * and RackCorp's tree is big enough to be read by id rather than walked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { basic, call as rackcorp } from '../rackcorp/helpers.js';
import { SANDBOX as ISP, ok as ispcrm } from '../ispcrm/helpers.js';
import { call as emailsrvr } from '../emailsrvr/helpers.js';
import { req as mgmt } from '../mgmt/helpers.js';

const SESSION = 'deep-pages';
/** Offsets around the marks (every 256th row) and the end of each list. */
const offsets = (total: number) =>
  [0, 1, 255, 256, 257, 511, 512, 700, 1023, 1024, 2000, total - 21, total - 1, total, total + 5].filter((o) => o >= 0);

describe('deep list pages equal the walk of the whole list', () => {
  let app: FastifyInstance;
  const db = () => app.registry.get(SESSION).db;
  const h = (headers: Record<string, string> = {}) => ({ ...headers, 'x-emulator-session': SESSION });

  beforeAll(async () => {
    app = await makeApp();
    const d = app.registry.get(SESSION).db;
    d.transaction(() => {
      const rc = d.prepare(
        'INSERT INTO rackcorp_customers (parentID, companyName, stdName, status, dateCreated, dateModified) VALUES (?, ?, ?, ?, 0, 0)',
      );
      const isp =
        d.prepare(`INSERT INTO ispcrm_customers (ispid, resellerid, type, name, mobile, email, zipcode, state, city, street, created, updated)
        VALUES (1, ?, 'Individual', ?, '1', 'a@example.com', '1', 'Goa', 'Panaji', 'x', '2024-01-01 00:00:00', '2024-01-01 00:00:00')`);
      const es = d.prepare(
        'INSERT INTO emailsrvr_accounts (name, reference_number, reseller_account) VALUES (?, NULL, ?)',
      );
      const mg = d.prepare(
        "INSERT INTO mgmt_customers (code, account_id, last_name, created_at) VALUES ('c', ?, ?, '2024-01-01')",
      );
      const names = ['beta', 'Beta', 'alpha', 'ALPHA', 'gamma', 'Alpha', 'beta'];
      let sub = 1;
      for (let i = 0; i < 3000; i++) {
        // Most under the caller (1), some two and three levels down, some in customer 900's tree.
        const parent = i % 5 === 4 ? 900 : i % 7 === 3 ? sub : 1;
        const id = Number(
          rc.run(parent, `Deep ${i}`, `Deep ${i}`, i % 3 === 0 ? 'INACTIVE' : 'ACTIVE').lastInsertRowid,
        );
        if (i % 50 === 0) sub = id;
        isp.run(i % 4 === 0 ? 2 : 1, `Name ${i}`);
        es.run(`${names[i % names.length]} ${i % 11}`, i % 6 === 0 ? 460100 : 460180);
        mg.run(i % 5 === 0 ? 3001 : 2001 + (i % 2), i % 9 === 0 ? 'Smith' : 'Jones');
      }
    })();
  });
  afterAll(async () => {
    await app.close();
  });

  const column = (sql: string, ...params: unknown[]) =>
    db()
      .prepare(sql)
      .pluck()
      .all(...params) as number[];
  const rcWalk = (filter = '') =>
    column(`WITH RECURSIVE tree(id) AS (SELECT 1 UNION ALL SELECT c.id FROM rackcorp_customers c JOIN tree t ON c.parentID = t.id)
    SELECT c.id FROM rackcorp_customers c JOIN tree t ON t.id = c.id ${filter} ORDER BY c.id`);

  async function rackcorpPages(query = '', filter = '') {
    const all = rcWalk(filter);
    expect(all.length).toBeGreaterThan(1000);
    for (const start of offsets(all.length)) {
      const { body } = await rackcorp(app, {
        method: 'GET',
        url: `/api/rest/v2.9/customers?resStart=${start}&resWindow=25${query}`,
        headers: h(basic()),
      });
      expect(body.code).toBe('OK');
      expect(body.count).toBe(all.length);
      expect(body.customers.map((c: { id: number }) => c.id)).toEqual(all.slice(start, start + 25));
    }
  }

  async function ispcrmPages(order: 'asc' | 'desc') {
    const all = column(`SELECT id FROM ispcrm_customers WHERE ispid = 1 AND resellerid = 1 ORDER BY id ${order}`);
    for (const start of offsets(all.length)) {
      const rows = await ispcrm(
        app,
        'list',
        { ...ISP, rows_offset: String(start), rows_limit: '30', sort_order: order },
        SESSION,
      );
      expect((rows ?? []).map((c: { id: number }) => c.id)).toEqual(all.slice(start, start + 30));
    }
  }

  async function emailsrvrPages(search = '', where = '') {
    const all = column(
      `SELECT account_number FROM emailsrvr_accounts WHERE reseller_account = 460180 ${where} ORDER BY name COLLATE NOCASE, name, account_number`,
    );
    for (const start of offsets(all.length)) {
      const res = await emailsrvr(app, {
        method: 'GET',
        url: `/v1/customers?offset=${start}&size=40${search}`,
        session: SESSION,
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.total).toBe(all.length);
      expect(body.customers.map((c: { accountNumber: string }) => Number(c.accountNumber))).toEqual(
        all.slice(start, start + 40),
      );
    }
  }

  async function mgmtPages(search = '', where = '') {
    const all = column(`SELECT id FROM mgmt_customers WHERE account_id IN (2001, 2002) ${where} ORDER BY id`);
    for (const start of offsets(all.length)) {
      const res = await mgmt(app, {
        method: 'GET',
        url: `/api/v01/customers?offset=${start}&limit=20${search}`,
        headers: h(),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().map((c: { id: number }) => c.id)).toEqual(all.slice(start, start + 20));
      if (start < all.length) expect(Number(res.headers['x-total-count'])).toBe(all.length);
    }
  }

  it("RackCorp customer.getall: the caller's whole tree and a filtered one, right after an insert, a delete and a move", async () => {
    await rackcorpPages();
    await rackcorpPages('&status=ACTIVE', "WHERE c.status = 'ACTIVE'");
    const first = await rackcorp(app, {
      method: 'POST',
      url: '/api/rest/v2.9/json.php',
      headers: h({ 'content-type': 'application/json' }),
      payload: JSON.stringify({
        cmd: 'customer.create',
        ...{ APIUUID: '11111111-2222-4333-8444-555555555555', APISECRET: 'rackcorp-sandbox-secret' },
        companyName: 'Deep New',
        parentID: 1,
        locations: [{ suburb: 'Sydney' }],
        contacts: [{ name: 'Ada', email: 'ada@example.com' }],
      }),
    });
    expect(first.body).toMatchObject({ code: 'OK' });
    await rackcorpPages();
    const victim = rcWalk()[600];
    db().prepare('DELETE FROM rackcorp_customers WHERE id = ?').run(victim);
    await rackcorpPages();
    // A whole subtree moves out of the caller's tree, and another into it.
    const inner = column(
      'SELECT id FROM rackcorp_customers WHERE parentID IN (SELECT id FROM rackcorp_customers WHERE parentID = 1) LIMIT 1',
    )[0];
    const parentOfInner = column('SELECT parentID FROM rackcorp_customers WHERE id = ?', inner)[0];
    db().prepare('UPDATE rackcorp_customers SET parentID = 900 WHERE id = ?').run(parentOfInner);
    db()
      .prepare(
        'UPDATE rackcorp_customers SET parentID = 1 WHERE id = (SELECT MAX(id) FROM rackcorp_customers WHERE parentID = 900 AND id <> ?)',
      )
      .run(parentOfInner);
    await rackcorpPages();
  });

  it('NeuCRM customer.list in id order, both ways, right after a create and a delete', async () => {
    await ispcrmPages('asc');
    await ispcrmPages('desc');
    await ispcrm(
      app,
      'create',
      {
        ...ISP,
        type: 'Individual',
        name: 'Deep',
        mobile: '12344444',
        email: 'deep@example.com',
        zipcode: '1',
        state: 'Goa',
        city: 'Panaji',
        street: 'x',
      },
      SESSION,
    );
    db()
      .prepare(
        'DELETE FROM ispcrm_customers WHERE id = (SELECT id FROM ispcrm_customers WHERE resellerid = 1 ORDER BY id LIMIT 1 OFFSET 700)',
      )
      .run();
    await ispcrmPages('asc');
    await ispcrmPages('desc');
  });

  it('Rackspace Index in name order, with and without a search, right after an Add and a rename', async () => {
    await emailsrvrPages();
    await emailsrvrPages('&startswith=b', "AND substr(lower(name), 1, 1) = 'b'");
    const add = await emailsrvr(app, {
      method: 'POST',
      url: '/v1/customers',
      session: SESSION,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=alpha%203',
    });
    expect(add.statusCode).toBeLessThan(300);
    await emailsrvrPages();
    db()
      .prepare(
        "UPDATE emailsrvr_accounts SET name = 'aaa' WHERE account_number = (SELECT account_number FROM emailsrvr_accounts WHERE reseller_account = 460180 ORDER BY account_number DESC LIMIT 1 OFFSET 10)",
      )
      .run();
    await emailsrvrPages();
  });

  it('UniPay find in id order over two accounts, with and without a filter, right after a create', async () => {
    await mgmtPages();
    await mgmtPages('&lastName=smi', "AND lower(last_name) LIKE '%smi%'");
    const created = await mgmt(app, {
      method: 'PUT',
      url: '/api/v01/customers',
      headers: h({ 'content-type': 'application/json' }),
      payload: JSON.stringify({ accountId: 2002, lastName: 'Smith' }),
    });
    expect(created.statusCode).toBe(200);
    await mgmtPages();
    await mgmtPages('&lastName=smi', "AND lower(last_name) LIKE '%smi%'");
  });
});
