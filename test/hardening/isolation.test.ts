/**
 * Tenant isolation matrix: every fixture credential of every vendor against every fixture
 * resource, through every binding. A tenant sees and changes only what it owns, and a foreign id
 * answers exactly like a missing one (same status, same body once the id itself is masked).
 * Sessions: what is written in one session is invisible to another and to the default state.
 * (Journal and fault isolation need the control plane, which is not in this branch.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { makeApp, tableDigest } from '../helpers.js';
import { signed, SANDBOX as ES_SANDBOX, OTHER as ES_OTHER } from '../emailsrvr/helpers.js';
import { fx, creds } from '../ispcrm/helpers.js';

const fixture = (v: string, t: string) =>
  JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, `../../fixtures/${v}/${t}.json`), 'utf8')) as any[];
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const MISSING = 987654;
const mask = (body: string, id: number | string) =>
  body.replace(new RegExp(`(?<![\\w.-])${id}(?![\\w.])`, 'g'), '<ID>');

let app: FastifyInstance;
beforeAll(async () => {
  app = await makeApp();
});
afterAll(async () => {
  await app.close();
});

async function same(a: InjectOptions, b: InjectOptions, idA: number | string, idB: number | string) {
  const [ra, rb] = [await app.inject(a), await app.inject(b)];
  expect(ra.statusCode, `${a.method} ${a.url}`).toBe(rb.statusCode);
  expect(mask(ra.body, idA), `${a.method} ${a.url}`).toBe(mask(rb.body, idB));
}

describe('RackCorp: customer trees', () => {
  const customers = fixture('rackcorp', 'rackcorp_customers');
  const treeOf = (root: number) => {
    const t = new Set([root]);
    for (let grew = true; grew;) {
      grew = false;
      for (const c of customers)
        if (c.parentID !== null && t.has(c.parentID) && !t.has(c.id)) {
          t.add(c.id);
          grew = true;
        }
    }
    return t;
  };
  const tenants = [
    {
      name: 'sandbox',
      auth: basic('11111111-2222-4333-8444-555555555555', 'rackcorp-sandbox-secret'),
      tree: treeOf(1),
    },
    { name: 'other', auth: basic('99999999-8888-4777-8666-555555555555', 'rackcorp-other-secret'), tree: treeOf(900) },
  ];
  const bindings: ((id: number, auth: string) => InjectOptions)[] = [
    (id, auth) => ({ method: 'GET', url: `/api/rest/v2.9/customers/${id}`, headers: { authorization: auth } }),
    (id, auth) => ({ method: 'GET', url: `/api/v1.2/customers/${id}`, headers: { authorization: auth } }),
    (id, auth) => ({
      method: 'GET',
      url: `/api/rest/v2.9/json.php?cmd=customer.get&id=${id}`,
      headers: { authorization: auth },
    }),
    (id, auth) => ({
      method: 'POST',
      url: '/api/v2.9/json.php',
      headers: { authorization: auth },
      payload: { cmd: 'customer.get', id: String(id) },
    }),
    (id, auth) => ({
      method: 'GET',
      url: `/api/rest/v2.9/billing/pricing?customerId=${id}`,
      headers: { authorization: auth },
    }),
    (id, auth) => ({
      method: 'GET',
      url: `/api/rest/v2.9/billing/services?customerid=${id}`,
      headers: { authorization: auth },
    }),
  ];

  it('every credential x every customer x every binding: own tree answers, anything else is exactly "missing"', async () => {
    for (const t of tenants) {
      for (const c of customers) {
        for (const b of bindings.slice(0, 4)) {
          const res = await app.inject(b(c.id, t.auth));
          if (t.tree.has(c.id)) expect(res.json().customer.id).toBe(c.id);
          else await same(b(c.id, t.auth), b(MISSING, t.auth), c.id, MISSING);
        }
        for (const b of bindings.slice(4))
          if (!t.tree.has(c.id)) await same(b(c.id, t.auth), b(MISSING, t.auth), c.id, MISSING);
      }
      const list = await app.inject({
        method: 'GET',
        url: '/api/rest/v2.9/customers?resWindow=1000',
        headers: { authorization: t.auth },
      });
      expect(
        list
          .json()
          .customers.map((c: { id: number }) => c.id)
          .sort((a: number, b: number) => a - b),
      ).toEqual([...t.tree].sort((a, b) => a - b));
    }
  });

  it('updates of a foreign customer answer like a missing one and change nothing', async () => {
    const before = tableDigest(app, 'rackcorp_');
    for (const t of tenants)
      for (const c of customers.filter((x) => !t.tree.has(x.id))) {
        await same(
          {
            method: 'PUT',
            url: `/api/rest/v2.9/customers/${c.id}`,
            headers: { authorization: t.auth },
            payload: { companyName: 'pwned' },
          },
          {
            method: 'PUT',
            url: `/api/rest/v2.9/customers/${MISSING}`,
            headers: { authorization: t.auth },
            payload: { companyName: 'pwned' },
          },
          c.id,
          MISSING,
        );
      }
    expect(tableDigest(app, 'rackcorp_')).toBe(before);
  });
});

describe('Rackspace Email & Apps: resellers', () => {
  const accounts = fixture('emailsrvr', 'emailsrvr_accounts');
  it('every key x every account x Show/Edit/Delete on every prefix: own customers only, foreign = missing, nothing changes', async () => {
    const before = tableDigest(app, 'emailsrvr_');
    for (const key of [ES_SANDBOX, ES_OTHER]) {
      for (const a of accounts) {
        const own = a.reseller_account === key.account;
        for (const prefix of ['/v0/customers', '/v1/customers', '/customers']) {
          const req = (n: number, method: 'GET' | 'PUT' | 'DELETE'): InjectOptions => ({
            method,
            url: `${prefix}/${n}`,
            headers: signed(app, key, { accept: 'application/json', 'content-type': 'application/json' }),
            payload: method === 'PUT' ? { name: 'pwned' } : undefined,
          });
          if (own) {
            expect((await app.inject(req(a.account_number, 'GET'))).statusCode).toBe(200);
            continue;
          }
          for (const m of ['GET', 'PUT', 'DELETE'] as const)
            await same(req(a.account_number, m), req(MISSING, m), a.account_number, MISSING);
        }
      }
      const list = await app.inject({
        method: 'GET',
        url: '/v1/customers?size=250',
        headers: signed(app, key, { accept: 'application/json' }),
      });
      const want = accounts
        .filter((a) => a.reseller_account === key.account)
        .map((a) => String(a.account_number))
        .sort();
      expect(
        list
          .json()
          .customers.map((c: { accountNumber: string }) => c.accountNumber)
          .sort(),
      ).toEqual(want);
    }
    expect(tableDigest(app, 'emailsrvr_')).toBe(before);
  });
});

describe('ISP CRM: ISPs and resellers', () => {
  it('every active user x every customer x list/update/delete: own scope only, foreign = missing, nothing changes', async () => {
    const before = tableDigest(app, 'ispcrm_');
    const post = (op: string, fields: Record<string, string>): InjectOptions => ({
      method: 'POST',
      url: `/api/customer/${op}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
    });
    for (const u of fx.users.filter((x) => x.active === 1)) {
      for (const c of fx.customers) {
        const own = c.ispid === u.ispid && (u.resellerid === null || c.resellerid === u.resellerid);
        const list = (await app.inject(post('list', { ...creds(u.userid), customerid: String(c.id) }))).json();
        expect(
          list.result.map((r: { id: number }) => r.id),
          `user ${u.userid} customer ${c.id}`,
        ).toEqual(own ? [c.id] : []);
        if (own) continue;
        for (const op of ['update', 'delete']) {
          await same(
            post(op, { ...creds(u.userid), customerid: String(c.id), street: 'pwned' }),
            post(op, { ...creds(u.userid), customerid: String(MISSING), street: 'pwned' }),
            c.id,
            MISSING,
          );
        }
      }
    }
    expect(tableDigest(app, 'ispcrm_')).toBe(before);
  });
});

describe('UniPay: merchant accounts', () => {
  const customers = fixture('mgmt', 'mgmt_customers');
  const users = [
    { auth: basic('api-sandbox', 'mgmt-sandbox-password'), accounts: [2001, 2002] },
    { auth: basic('api-other', 'mgmt-other-password'), accounts: [3001] },
  ];
  it('every user x every customer (JSON and XML): own accounts only, foreign = missing; find and create stay inside', async () => {
    const before = tableDigest(app, 'mgmt_');
    for (const u of users) {
      for (const c of customers) {
        for (const accept of ['application/json', 'application/xml']) {
          const req = (id: number): InjectOptions => ({
            method: 'GET',
            url: `/api/v01/customers/${id}`,
            headers: { authorization: u.auth, accept },
          });
          if (u.accounts.includes(c.account_id)) expect((await app.inject(req(c.id))).statusCode).toBe(200);
          else await same(req(c.id), req(MISSING), c.id, MISSING);
        }
      }
      for (const acct of [2001, 2002, 3001]) {
        const found = (
          await app.inject({
            method: 'GET',
            url: `/api/v01/customers?accountId=${acct}&limit=1000`,
            headers: { authorization: u.auth },
          })
        ).json();
        expect(found.length).toBe(
          u.accounts.includes(acct) ? customers.filter((c) => c.account_id === acct).length : 0,
        );
        if (!u.accounts.includes(acct)) {
          const res = await app.inject({
            method: 'PUT',
            url: '/api/v01/customers',
            headers: { authorization: u.auth, 'content-type': 'application/json' },
            payload: { accountId: acct, lastName: 'pwned' },
          });
          expect(res.statusCode).toBe(403);
        }
      }
    }
    expect(tableDigest(app, 'mgmt_')).toBe(before);
  });
});

describe('sessions', () => {
  it('a write in one session is invisible to another session and to the default state, by header or by path prefix', async () => {
    const rc = basic('11111111-2222-4333-8444-555555555555', 'rackcorp-sandbox-secret');
    const mg = basic('api-sandbox', 'mgmt-sandbox-password');
    const created = await app.inject({
      method: 'PUT',
      url: '/_sessions/iso-a/api/v01/customers',
      headers: { authorization: mg, 'content-type': 'application/json' },
      payload: { accountId: 2001, lastName: 'OnlyInA' },
    });
    const id = created.json().id;
    const rcNew = (
      await app.inject({
        method: 'POST',
        url: '/api/rest/v2.9/json.php',
        headers: { authorization: rc, 'x-emulator-session': 'iso-a' },
        payload: {
          cmd: 'customer.create',
          companyName: 'OnlyInA',
          locations: [{ suburb: 'x' }],
          contacts: [{ name: 'x' }],
        },
      })
    ).json().customerid;
    const isp = (
      await app.inject({
        method: 'POST',
        url: '/_sessions/iso-a/api/customer/create',
        payload: {
          ...creds(5),
          type: 'Individual',
          name: 'OnlyInA',
          mobile: '1234567',
          email: 'a@b.co',
          zipcode: '1',
          state: 'Goa',
          city: 'P',
          street: 'x',
        },
      })
    ).json().result;
    const es = (
      await app.inject({
        method: 'POST',
        url: '/customers',
        headers: { ...signed(app, ES_SANDBOX, { accept: 'application/json' }, 'iso-a') },
        payload: { name: 'OnlyInA' },
      })
    ).json().accountNumber;
    for (const where of [
      { h: { 'x-emulator-session': 'iso-b' }, p: '' },
      { h: {}, p: '/_sessions/iso-c' },
      { h: {}, p: '' },
    ]) {
      expect(
        (
          await app.inject({
            method: 'GET',
            url: `${where.p}/api/v01/customers/${id}`,
            headers: { authorization: mg, ...where.h },
          })
        ).statusCode,
      ).toBe(404);
      expect(
        (
          await app.inject({
            method: 'GET',
            url: `${where.p}/api/v01/customers?lastName=OnlyInA`,
            headers: { authorization: mg, ...where.h },
          })
        ).json(),
      ).toEqual([]);
      expect(
        (
          await app.inject({
            method: 'GET',
            url: `${where.p}/api/rest/v2.9/customers/${rcNew}`,
            headers: { authorization: rc, ...where.h },
          })
        ).json().code,
      ).toBe('FAULT');
      expect(
        (
          await app.inject({
            method: 'POST',
            url: `${where.p}/api/customer/list`,
            headers: where.h,
            payload: { ...creds(5), customerid: String(isp) },
          })
        ).json().result,
      ).toEqual([]);
      const sess = (where.h as Record<string, string>)['x-emulator-session'] ?? (where.p ? 'iso-c' : undefined);
      const esRes = await app.inject({
        method: 'GET',
        url: `${where.p}/v1/customers/${es}`,
        headers: signed(app, ES_SANDBOX, { accept: 'application/json' }, sess),
      });
      expect(esRes.statusCode).toBe(404);
    }
    // ...and it is there in its own session.
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `/api/v01/customers/${id}`,
          headers: { authorization: mg, 'x-emulator-session': 'iso-a' },
        })
      ).json().lastName,
    ).toBe('OnlyInA');
  });
});
