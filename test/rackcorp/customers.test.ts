import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { makeApp } from '../helpers.js';
import { operations } from '../../src/routes/rackcorp/index.js';
import {
  API_SECRET,
  API_UUID,
  LOGIN,
  OTHER_SECRET,
  OTHER_UUID,
  apiKeyHeaders,
  basic,
  call,
  digest,
  login,
  newCustomer,
} from './helpers.js';

const REST = '/api/rest/v2.9';
const JSON_PHP = `${REST}/json.php`;

/** A valid input for every customer operation (path parameters included), and what its OK answer holds. */
const samples: Record<string, { input: Record<string, unknown>; expect: (body: any) => void }> = {
  'session.login': { input: { ...LOGIN, jwt: 1 }, expect: (b) => expect(b.token).toMatch(/^ey/) },
  'customer.get': { input: { id: 123 }, expect: (b) => expect(b.customer.stdName).toBe('Example Corp') },
  'customer.getall': {
    input: { keyword: 'Example' },
    expect: (b) => expect(b.customers.map((c: any) => c.id)).toEqual([123]),
  },
  'customer.getall.min': {
    input: { id: 123 },
    expect: (b) => expect(b.customers).toEqual([{ id: 123, stdName: 'Example Corp' }]),
  },
  'customer.partner.check': {
    input: { CODE: 'PARTNER123' },
    expect: (b) => expect(b.partnercheck).toEqual({ customerid: 456 }),
  },
  'customer.reseller.get': { input: {}, expect: (b) => expect(b.data.map((d: any) => d.customerid)).toEqual([1, 456]) },
  'customer.create': { input: newCustomer, expect: (b) => expect(b.customerid).toBe(906) },
  'customer.signup': {
    input: { ...newCustomer, userLogin: 'jane@example.com', userPassword: 'pw' },
    expect: (b) => expect(b.customer).toEqual({ customerid: 906, userid: 4 }),
  },
  'customer.reseller.create': {
    input: { customerid: 123, name: 'Example Portal', url: 'https://reseller.example.com' },
    expect: (b) => expect(b.message).toBe('Reseller Created Successfully'),
  },
  'customer.contact.send': {
    input: {
      id: 123,
      companyname: 'Example Corp',
      name: 'John Doe',
      email: 'john@example.com',
      phone: '+61 2 1234 5678',
      message: 'Hello',
    },
    expect: (b) => expect(b.message).toMatch(/^Email send successfully/),
  },
  'customer.update': {
    input: { id: 123, companyName: 'Updated Corp Name', promoCode: 'PROMO123' },
    expect: (b) => expect(b.message).toBe('Customer Updated Successfully'),
  },
};

function fillPath(path: string, input: Record<string, unknown>): { url: string; rest: Record<string, unknown> } {
  const rest = { ...input };
  const url = path.replace(/:(\w+)/g, (_m, name: string) => {
    const v = rest[name];
    delete rest[name];
    return encodeURIComponent(String(v));
  });
  return { url, rest };
}

function toQuery(input: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(input)) if (typeof v !== 'object') q.set(k, String(v));
  return q.toString();
}

describe('RackCorp customer API', () => {
  let app: FastifyInstance;
  let token: string;
  beforeAll(async () => {
    app = await makeApp();
    token = await login(app);
  });
  afterAll(async () => {
    await app.close();
  });

  describe('every operation answers through every binding', () => {
    const customerOps = operations.filter((op) => samples[op.cmd] !== undefined);
    it('has a sample for every customer operation in the table', () => {
      const names = operations
        .filter((op) => op.cmd.startsWith('customer.') || op.cmd.startsWith('session.'))
        .map((op) => op.cmd);
      expect(names.sort()).toEqual(Object.keys(samples).sort());
    });

    let n = 0;
    const session = () => `binding-${++n}`;
    for (const op of customerOps) {
      const sample = samples[op.cmd];
      const hasObjects = Object.values(sample.input).some((v) => typeof v === 'object');
      for (const rest of op.rest) {
        for (const prefix of ['/api/rest/v2.9', '/api/v2.9', '/api/v1', '/api/rest/v1.2', '/api/v2.4']) {
          it(`${op.cmd}: ${rest.method} ${prefix}${rest.path}`, async () => {
            const { url, rest: remaining } = fillPath(rest.path, sample.input);
            const isGet = rest.method === 'GET';
            const qs = isGet ? toQuery(remaining) : '';
            const res = await call(app, {
              method: rest.method as InjectOptions['method'],
              url: `${prefix}${url}${qs ? `?${qs}` : ''}`,
              payload: isGet ? undefined : remaining,
              headers: { authorization: `Bearer ${token}`, 'x-emulator-session': session() },
            });
            expect(res.status).toBe(200);
            expect(res.body.code, JSON.stringify(res.body)).toBe('OK');
            sample.expect(res.body);
          });
        }
      }
      it(`${op.cmd}: POST json.php`, async () => {
        const res = await call(app, {
          method: 'POST',
          url: JSON_PHP,
          payload: { cmd: op.cmd, ...sample.input },
          headers: { ...basic(), 'x-emulator-session': session() },
        });
        expect(res.body.code, JSON.stringify(res.body)).toBe('OK');
        sample.expect(res.body);
      });
      if (!hasObjects) {
        it(`${op.cmd}: GET json.php?cmd=`, async () => {
          const res = await call(app, {
            method: 'GET',
            url: `/api/v2.8/json.php?cmd=${op.cmd}&${toQuery(sample.input)}`,
            headers: { ...apiKeyHeaders, 'x-emulator-session': session() },
          });
          expect(res.body.code, JSON.stringify(res.body)).toBe('OK');
          sample.expect(res.body);
        });
      }
    }
  });

  describe('customer.get', () => {
    it('answers the documented example customer', async () => {
      const res = await call(app, {
        method: 'GET',
        url: `${JSON_PHP}?cmd=customer.get&id=123`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.body).toMatchObject({
        code: 'OK',
        customer: {
          id: 123,
          companyName: 'Example Corp',
          stdName: 'Example Corp',
          firstName: 'John',
          lastName: 'Doe',
          companyABN: '12345678901',
          companyACN: '123456789',
          customID: 'CUST-001',
          status: 'ACTIVE',
          parentID: 1,
          parentStdName: 'RackCorp Sandbox Reseller',
          dateCreated: 1699123456,
          dateModified: 1699123456,
          currency: 'AUD',
          isreseller: false,
        },
      });
      expect(res.body.customer.locations).toEqual([
        {
          typeOfAddress: 'primary',
          addressLine1: '123 Main St',
          addressLine2: '',
          addressLine3: '',
          suburb: 'Sydney',
          state: 'NSW',
          postcode: '2000',
          country: 'AU',
        },
      ]);
      expect(res.body.customer.contacts[0]).toMatchObject({
        typeOfContact: 'administrative',
        name: 'John Doe',
        email: 'john@example.com',
      });
    });

    it('gives the top of the tree parentID null and parentStdName null', async () => {
      const res = await call(app, { method: 'GET', url: `${REST}/customers/1`, headers: basic() });
      expect(res.body.customer.parentID).toBeNull();
      expect(res.body.customer.parentStdName).toBeNull();
      expect(res.body.customer.isreseller).toBe(true);
    });

    it('accepts the id as a numeric string in a JSON body', async () => {
      const res = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        payload: { cmd: 'customer.get', id: '123', APIUUID: API_UUID, APISECRET: API_SECRET },
      });
      expect(res.body.customer.id).toBe(123);
    });

    it("answers the same FAULT for another tenant's customer as for a missing one", async () => {
      const foreign = await call(app, { method: 'GET', url: `${REST}/customers/900`, headers: basic() });
      const missing = await call(app, { method: 'GET', url: `${REST}/customers/77777`, headers: basic() });
      expect(foreign.status).toBe(200);
      expect(foreign.body).toEqual({
        code: 'FAULT',
        message: 'Customer not found or permission denied',
        error: { id: 'Customer not found or permission denied' },
        fault: { faultcode: 'Client', faultstring: 'Customer not found or permission denied' },
      });
      expect(missing.body).toEqual(foreign.body);
    });

    it('lets the other tenant see its own tree and not the sandbox', async () => {
      const own = await call(app, {
        method: 'GET',
        url: `${REST}/customers/903`,
        headers: basic(OTHER_UUID, OTHER_SECRET),
      });
      expect(own.body.customer.parentStdName).toBe('Other Reseller Ltd');
      const sandbox = await call(app, {
        method: 'GET',
        url: `${REST}/customers/123`,
        headers: basic(OTHER_UUID, OTHER_SECRET),
      });
      expect(sandbox.body.code).toBe('FAULT');
    });

    it('refuses a non-numeric id with a FAULT naming the field', async () => {
      const res = await call(app, { method: 'GET', url: `${REST}/customers/abc`, headers: basic() });
      expect(res.body.code).toBe('FAULT');
      expect(res.body.error).toEqual({ id: 'id must be an integer' });
    });
  });

  describe('customer.getall', () => {
    const list = async (q: string, headers: Record<string, string> = basic()) =>
      (await call(app, { method: 'GET', url: `${JSON_PHP}?cmd=customer.getall&${q}`, headers })).body;

    it('counts every match, pages by resStart/resWindow, ordered by id', async () => {
      const first = await list('resStart=0&resWindow=50');
      expect(first.count).toBe(63);
      expect(first.customers).toHaveLength(50);
      expect(first.customers.map((c: any) => c.id)).toEqual(
        [...first.customers.map((c: any) => c.id)].sort((a: number, b: number) => a - b),
      );
      const second = await list('resStart=50&resWindow=50');
      expect(second.count).toBe(63);
      expect(second.customers.map((c: any) => c.id)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 123, 456]);
      const past = await list('resStart=500');
      expect(past).toEqual({ code: 'OK', count: 63, customers: [] });
    });

    it('defaults to 20 a page and raises a smaller window to 20', async () => {
      expect((await list('')).customers).toHaveLength(20);
      const small = await list('resWindow=5');
      expect(small.customers).toHaveLength(20);
      expect(small.customers[0].id).toBe(1);
    });

    it('caps a huge window at 1000', async () => {
      const res = await list('resWindow=100000');
      expect(res.customers).toHaveLength(63);
    });

    it('lists the documented summary fields only', async () => {
      const res = await list('id=123');
      expect(res.customers).toEqual([
        {
          id: 123,
          companyName: 'Example Corp',
          stdName: 'Example Corp',
          firstName: 'John',
          lastName: 'Doe',
          status: 'ACTIVE',
          dateCreated: 1699123456,
          dateModified: 1699123456,
          currency: 'AUD',
          isreseller: false,
        },
      ]);
    });

    it('searches a keyword holding a NUL character without a 500 (regression: FTS5 query cut at the NUL)', async () => {
      for (const kw of ['Exa\u0000mple', '\u0000\u0000\u0000', 'Example\u0000']) {
        const res = await list(`keyword=${encodeURIComponent(kw)}`);
        expect(res.code).toBe('OK');
        expect(res.customers.length).toBeLessThanOrEqual(res.count);
      }
    });

    it('searches keyword across names, customID, ABN and ACN', async () => {
      expect((await list('keyword=CUST-001')).customers.map((c: any) => c.id)).toEqual([123]);
      expect((await list('keyword=12345678901')).customers.map((c: any) => c.id)).toEqual([123]);
      expect((await list('keyword=123456789')).customers.map((c: any) => c.id)).toContain(123);
      expect((await list('keyword=john')).customers.map((c: any) => c.id)).toContain(123);
      expect((await list('keyword=Petra%20Partner')).customers.map((c: any) => c.id)).toEqual([456]);
    });

    it('treats LIKE metacharacters in keyword literally', async () => {
      expect((await list('keyword=%25')).count).toBe(0);
      expect((await list('keyword=_')).count).toBe(0);
      expect((await list(`keyword=${encodeURIComponent("'; DROP TABLE rackcorp_customers; --")}`)).count).toBe(0);
    });

    it('filters by status, stdName, companyName, customerParentId and id', async () => {
      const inactive = await list('status=INACTIVE&minimal=true');
      expect(inactive.customers).toEqual([
        { id: 11, stdName: expect.any(String) },
        { id: 22, stdName: expect.any(String) },
        { id: 33, stdName: expect.any(String) },
        { id: 44, stdName: expect.any(String) },
        { id: 55, stdName: expect.any(String) },
      ]);
      expect((await list('stdName=Example%20Corp')).customers.map((c: any) => c.id)).toEqual([123]);
      expect((await list('companyName=Partner%20Hosting%20Pty%20Ltd')).customers.map((c: any) => c.id)).toEqual([456]);
      const under456 = await list('customerParentId=456&resWindow=50');
      expect(under456.customers.map((c: any) => c.id)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61]);
      expect((await list('customerParentId=900')).count).toBe(0);
      expect((await list('id=900')).count).toBe(0);
    });

    it('minimal=true and /customers/min answer id and stdName only', async () => {
      const viaFlag = await list('minimal=1&resWindow=20');
      const viaPath = (await call(app, { method: 'GET', url: `${REST}/customers/min?resWindow=20`, headers: basic() }))
        .body;
      expect(viaFlag.customers[0]).toEqual({ id: 1, stdName: 'RackCorp Sandbox Reseller' });
      expect(viaPath).toEqual(viaFlag);
    });

    it("scopes the list to the caller's tree", async () => {
      const other = await list('resWindow=50', basic(OTHER_UUID, OTHER_SECRET));
      expect(other.count).toBe(6);
      expect(other.customers.map((c: any) => c.id)).toEqual([900, 901, 902, 903, 904, 905]);
    });

    it('refuses bad paging values', async () => {
      const res = await list('resStart=-1');
      expect(res.code).toBe('FAULT');
      expect(res.error.resStart).toMatch(/resStart/);
      expect((await list('resWindow=lots')).error.resWindow).toBe('resWindow must be an integer');
    });
  });

  describe('authentication', () => {
    const get = (headers: Record<string, string>, extra = '') =>
      call(app, { method: 'GET', url: `${JSON_PHP}?cmd=customer.get&id=123${extra}`, headers });

    it('accepts a Bearer JWT from session.login, and its cookie', async () => {
      const res = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        payload: { cmd: 'session.login', ...LOGIN, jwt: 1 },
      });
      expect(res.body.code).toBe('OK');
      expect(res.body.sessionId).toBe(res.body.token);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(/^JWTSESSIONID=ey[^;]+; Path=\//);
      expect((await get({ authorization: `Bearer ${res.body.token}` })).body.code).toBe('OK');
      expect((await get({ cookie: `other=1; ${cookie.split(';')[0]}` })).body.code).toBe('OK');
    });

    it('accepts the API key in the query/body, as headers, and as Basic', async () => {
      expect((await get({}, `&APIUUID=${API_UUID}&APISECRET=${API_SECRET}`)).body.code).toBe('OK');
      expect((await get(apiKeyHeaders)).body.code).toBe('OK');
      expect((await get(basic())).body.code).toBe('OK');
    });

    const failures: [string, Record<string, string>, string, RegExp][] = [
      ['no credentials', {}, '', /no credentials/],
      ['a wrong secret', basic(API_UUID, 'nope'), '', /invalid API key/],
      ['an unknown uuid in headers', { APIUUID: 'x', APISECRET: 'y' }, '', /invalid API key/],
      ['half an API key in the body', {}, `&APIUUID=${API_UUID}`, /must both be given/],
      [
        'a forged JWT',
        { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiY2lkIjoxfQ.AAAA' },
        '',
        /invalid or has expired/,
      ],
      ['garbage bearer', { authorization: 'Bearer not-a-jwt' }, '', /invalid or has expired/],
      ['an unknown scheme', { authorization: 'Digest abc' }, '', /unsupported Authorization scheme/],
      ['a bad cookie', { cookie: 'JWTSESSIONID=xyz' }, '', /invalid or has expired/],
    ];
    for (const [what, headers, extra, message] of failures) {
      it(`answers an authentication FAULT for ${what}`, async () => {
        const res = await get(headers, extra);
        expect(res.status).toBe(200);
        expect(res.body.code).toBe('FAULT');
        expect(res.body.message).toMatch(/^Authentication failed/);
        expect(res.body.message).toMatch(message);
        expect(res.body.fault.faultcode).toBe('Auth');
        expect(res.body.customer).toBeUndefined();
      });
    }

    it('refuses a wrong password and an inactive user at login', async () => {
      const wrong = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        payload: { cmd: 'session.login', username: LOGIN.username, password: 'x' },
      });
      expect(wrong.body.message).toBe('Authentication failed: wrong username or password');
      expect(wrong.headers['set-cookie']).toBeUndefined();
      const inactive = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        payload: { cmd: 'session.login', username: 'inactive@example.com', password: 'rackcorp-inactive-password' },
      });
      expect(inactive.body.message).toBe('Authentication failed: the user account is INACTIVE');
    });

    it('expires JWTs by the session clock', async () => {
      const s = { 'x-emulator-session': 'jwt-expiry' };
      const t = await login(app, 'jwt-expiry');
      const clock = app.registry.get('jwt-expiry').clock;
      clock.advance(3599);
      expect((await get({ ...s, authorization: `Bearer ${t}` })).body.code).toBe('OK');
      clock.advance(2);
      const expired = await get({ ...s, authorization: `Bearer ${t}` });
      expect(expired.body.message).toBe('Authentication failed: the session token is invalid or has expired');
    });
  });

  describe('writes', () => {
    const S = (id: string) => ({ ...basic(), 'x-emulator-session': id });

    // In the default state (a plain database) new rows wait out of the index for a batch; in a
    // session every row it wrote is read beside the seed's index, which never takes them.
    for (const where of ['the default state', 'a session'] as const) {
      it(`finds new customers by keyword before and after they are written to the keyword index in a batch (${where})`, async () => {
        const own = where === 'the default state' ? await makeApp() : null;
        // Sessions on a seed this small are plain copies; the overlay is what this case is about.
        const overlaid = own ? null : await makeApp({ sessionCopyMaxBytes: 0 });
        const target = own ?? overlaid!;
        const H = own ? basic() : S('keyword-batch');
        const db = own ? own.registry.defaultState.db : overlaid!.registry.get('keyword-batch').db;
        const ids = (q: string) => db.prepare(`SELECT ${q}`).pluck().all() as number[];
        const search = async (kw: string) =>
          (
            await call(target, {
              method: 'GET',
              url: `${JSON_PHP}?cmd=customer.getall&resWindow=1000&keyword=${encodeURIComponent(kw)}`,
              headers: H,
            })
          ).body;
        try {
          const made: number[] = [];
          for (let i = 0; i < 150; i++) {
            const r = await call(target, {
              method: 'POST',
              url: `${REST}/customers`,
              payload: { ...newCustomer, companyName: `Zephyr Works ${i}`, customID: `ZW-${i}` },
              headers: H,
            });
            made.push(r.body.customerid);
            if (i % 37 === 0) {
              const found = await search('zephyr works');
              expect(found.count).toBe(made.length);
              expect(found.customers.map((c: any) => c.id)).toEqual(made);
            }
          }
          const waiting = ids('id FROM fts_rackcorp_unindexed');
          const indexed = ids(`rowid FROM fts_rackcorp_customers('"Zep" AND "hyr"')`).length;
          if (own) {
            // Some rows wait out of the index, the others are in it; never both.
            expect(waiting.length).toBeGreaterThan(0);
            expect(waiting.length).toBeLessThan(64);
            expect(indexed).toBe(150 - waiting.length);
          } else {
            expect(waiting).toEqual(made);
            expect(indexed).toBe(0);
          }
          // Updates reach the search whether the row waits or is in the index.
          for (const id of [made[0], made[149]]) {
            await call(target, {
              method: 'PUT',
              url: `${REST}/customers/${id}`,
              payload: { companyName: `Quasar Labs ${id}` },
              headers: H,
            });
          }
          expect((await search('quasar labs')).customers.map((c: any) => c.id)).toEqual([made[0], made[149]]);
          expect((await search('zephyr works')).count).toBe(148);
          expect((await search('ZW-149')).customers.map((c: any) => c.id)).toEqual([made[149]]);
          // (A session's index is the seed's, which its writes never touch.)
          if (own)
            db.prepare("INSERT INTO fts_rackcorp_customers (fts_rackcorp_customers) VALUES ('integrity-check')").run();
        } finally {
          await own?.close();
          await overlaid?.close();
        }
      });
    }

    it("creates a customer under the caller, with the clock's time, visible afterwards", async () => {
      app.registry.get('create-1').clock.freeze(Date.UTC(2025, 0, 2, 3, 4, 5));
      const created = await call(app, {
        method: 'POST',
        url: `${REST}/customers`,
        payload: newCustomer,
        headers: S('create-1'),
      });
      expect(created.body).toEqual({ code: 'OK', message: 'Customer Created Successfully', customerid: 906 });
      const got = await call(app, { method: 'GET', url: `${REST}/customers/906`, headers: S('create-1') });
      expect(got.body.customer).toMatchObject({
        id: 906,
        companyName: 'Roe Widgets',
        stdName: 'Roe Widgets',
        parentID: 1,
        status: 'ACTIVE',
        dateCreated: 1735787045,
        dateModified: 1735787045,
      });
      expect(got.body.customer.locations[0].addressLine1).toBe('1 Roe St');
      expect(got.body.customer.contacts[0].email).toBe('jane@example.com');
      const again = await call(app, {
        method: 'POST',
        url: `${REST}/customers`,
        payload: { ...newCustomer, companyName: '' },
        headers: S('create-1'),
      });
      expect(again.body.customerid).toBe(907);
      const person = await call(app, { method: 'GET', url: `${REST}/customers/907`, headers: S('create-1') });
      expect(person.body.customer.stdName).toBe('Jane Roe');
    });

    it('creates under a visible parentID, and refuses one outside the tree', async () => {
      const ok = await call(app, {
        method: 'POST',
        url: `${REST}/customers`,
        payload: { ...newCustomer, parentID: 456 },
        headers: S('create-2'),
      });
      const got = await call(app, {
        method: 'GET',
        url: `${REST}/customers/${ok.body.customerid}`,
        headers: S('create-2'),
      });
      expect(got.body.customer.parentStdName).toBe('Partner Hosting Pty Ltd');
      const before = digest(app, 'create-2');
      const bad = await call(app, {
        method: 'POST',
        url: `${REST}/customers`,
        payload: { ...newCustomer, parentID: 900 },
        headers: S('create-2'),
      });
      expect(bad.body.code).toBe('FAULT');
      expect(bad.body.error).toEqual({ parentID: 'Customer not found or permission denied' });
      expect(digest(app, 'create-2')).toBe(before);
    });

    it('signup creates the customer and an INACTIVE user that cannot log in yet', async () => {
      const res = await call(app, {
        method: 'POST',
        url: `${REST}/customers/signup`,
        payload: { ...newCustomer, userLogin: 'new@example.com', userPassword: 'secret' },
        headers: S('signup'),
      });
      expect(res.body).toEqual({
        code: 'OK',
        message: 'Customer Created Successfully',
        customer: { customerid: 906, userid: 4 },
      });
      const loginRes = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        payload: { cmd: 'session.login', username: 'new@example.com', password: 'secret' },
        headers: { 'x-emulator-session': 'signup' },
      });
      expect(loginRes.body.message).toBe('Authentication failed: the user account is INACTIVE');
      const dup = await call(app, {
        method: 'POST',
        url: `${REST}/customers/signup`,
        payload: { ...newCustomer, userLogin: 'NEW@example.com', userPassword: 'x' },
        headers: S('signup'),
      });
      expect(dup.body.error).toEqual({ userLogin: 'userLogin is already in use' });
    });

    it('update changes only the fields given and sets dateModified from the clock', async () => {
      const clock = app.registry.get('update-1').clock;
      clock.freeze(1_800_000_000_000);
      const res = await call(app, {
        method: 'PUT',
        url: `${REST}/customers/123`,
        payload: { id: 123, companyName: 'Updated Corp Name', status: 'INACTIVE' },
        headers: S('update-1'),
      });
      expect(res.body).toEqual({ code: 'OK', message: 'Customer Updated Successfully' });
      const got = (await call(app, { method: 'GET', url: `${REST}/customers/123`, headers: S('update-1') })).body
        .customer;
      expect(got).toMatchObject({
        companyName: 'Updated Corp Name',
        stdName: 'Updated Corp Name',
        status: 'INACTIVE',
        firstName: 'John',
        customID: 'CUST-001',
        dateCreated: 1699123456,
        dateModified: 1_800_000_000,
      });
    });

    it('update through json.php takes the id from the body', async () => {
      const res = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        payload: { cmd: 'customer.update', id: '5', customID: 'NEW-5' },
        headers: S('update-2'),
      });
      expect(res.body.code).toBe('OK');
      const got = (await call(app, { method: 'GET', url: `${REST}/customers/5`, headers: S('update-2') })).body
        .customer;
      expect(got.customID).toBe('NEW-5');
    });

    it('creates a reseller portal and lists it', async () => {
      await call(app, {
        method: 'POST',
        url: `${REST}/customers/reseller`,
        payload: { customerid: 123, name: 'Example Portal', url: 'https://reseller.example.com' },
        headers: S('portal'),
      });
      const list = await call(app, { method: 'GET', url: `${REST}/customers/reseller`, headers: S('portal') });
      expect(list.body.data.at(-1)).toMatchObject({
        customerid: 123,
        name: 'Example Portal',
        url: 'https://reseller.example.com',
      });
      const cust = await call(app, { method: 'GET', url: `${REST}/customers/123`, headers: S('portal') });
      expect(cust.body.customer.isreseller).toBe(true);
    });

    it('records the contact e-mail instead of sending it', async () => {
      await call(app, {
        method: 'POST',
        url: `${REST}/customers/123/contact`,
        payload: samples['customer.contact.send'].input,
        headers: S('mail'),
      });
      const rows = app.registry
        .get('mail')
        .db.prepare('SELECT customerId, email, message FROM rackcorp_contact_emails')
        .all();
      expect(rows).toEqual([{ customerId: 123, email: 'john@example.com', message: 'Hello' }]);
    });
  });

  describe('bad input answers a FAULT and changes nothing', () => {
    const S = { ...basic(), 'x-emulator-session': 'bad-input' };
    const cases: [
      string,
      { method: 'GET' | 'POST' | 'PUT'; url: string; payload?: any; headers?: Record<string, string> },
      Record<string, string> | RegExp,
    ][] = [
      [
        'create without any name',
        {
          method: 'POST',
          url: `${REST}/customers`,
          payload: { ...newCustomer, firstName: '', lastName: '', companyName: '' },
        },
        {
          firstName: 'firstName is required when companyName is not given',
          lastName: 'lastName is required when companyName is not given',
          companyName: 'companyName is required when firstName and lastName are not given',
        },
      ],
      [
        'create without locations',
        { method: 'POST', url: `${REST}/customers`, payload: { ...newCustomer, locations: [] } },
        { locations: 'locations needs at least 1 item' },
      ],
      [
        'create without contacts',
        { method: 'POST', url: `${REST}/customers`, payload: { ...newCustomer, contacts: undefined } },
        { contacts: 'contacts is required' },
      ],
      [
        'create with a bad contact email',
        {
          method: 'POST',
          url: `${REST}/customers`,
          payload: { ...newCustomer, contacts: [{ name: 'x', email: 'not-an-email' }] },
        },
        /contacts\.0\.email/,
      ],
      [
        'create with an unknown promo code',
        { method: 'POST', url: `${REST}/customers`, payload: { ...newCustomer, promoCode: 'NOPE' } },
        { promoCode: 'Promo Code NOPE does not exist' },
      ],
      [
        'create with a wrong type',
        { method: 'POST', url: `${REST}/customers`, payload: { ...newCustomer, locations: 'here' } },
        { locations: 'locations must be an array' },
      ],
      [
        'create with an unknown status',
        { method: 'POST', url: `${REST}/customers`, payload: { ...newCustomer, status: 'WEIRD' } },
        /status/,
      ],
      [
        'create with an unknown currency',
        { method: 'POST', url: `${REST}/customers`, payload: { ...newCustomer, currencycode: 'XYZ' } },
        /currencycode/,
      ],
      [
        'signup without a password',
        { method: 'POST', url: `${REST}/customers/signup`, payload: { ...newCustomer, userLogin: 'a@b.c' } },
        { userPassword: 'userPassword is required' },
      ],
      [
        'reseller with a bad url',
        {
          method: 'POST',
          url: `${REST}/customers/reseller`,
          payload: { customerid: 123, name: 'x', url: 'not a url' },
        },
        { url: 'url must be a valid URL' },
      ],
      [
        'reseller for a foreign customer',
        {
          method: 'POST',
          url: `${REST}/customers/reseller`,
          payload: { customerid: 901, name: 'x', url: 'https://x.example.com' },
        },
        { customerid: 'Customer not found or permission denied' },
      ],
      [
        'contact email without a message',
        {
          method: 'POST',
          url: `${REST}/customers/123/contact`,
          payload: { companyname: 'a', name: 'b', email: 'c@d.com' },
        },
        { message: 'message is required' },
      ],
      [
        'contact email without companyname, name and email',
        { method: 'POST', url: `${REST}/customers/123/contact`, payload: { message: 'hi' } },
        { companyname: 'companyname is required', name: 'name is required', email: 'email is required' },
      ],
      [
        'update with an unknown promo code',
        { method: 'PUT', url: `${REST}/customers/123`, payload: { promoCode: 'NOPE' } },
        { promoCode: 'Promo Code NOPE does not exist' },
      ],
      [
        'update removing every name',
        { method: 'PUT', url: `${REST}/customers/5`, payload: { companyName: '', firstName: '' } },
        { companyName: 'a customer needs companyName or firstName and lastName' },
      ],
      [
        'update of a foreign customer',
        { method: 'PUT', url: `${REST}/customers/901`, payload: { companyName: 'mine' } },
        { id: 'Customer not found or permission denied' },
      ],
      [
        'update with a bad ABN',
        { method: 'PUT', url: `${REST}/customers/123`, payload: { companyABN: '12' } },
        { companyABN: 'companyABN has an invalid format' },
      ],
      [
        'an unknown cmd',
        { method: 'POST', url: JSON_PHP, payload: { cmd: 'customer.explode' } },
        { cmd: 'unknown command customer.explode' },
      ],
      ['no cmd', { method: 'GET', url: JSON_PHP }, { cmd: 'cmd is required' }],
      [
        'malformed JSON',
        {
          method: 'POST',
          url: JSON_PHP,
          payload: '{"cmd": "customer.create",',
          headers: { 'content-type': 'application/json' },
        },
        { body: 'not valid JSON' },
      ],
      [
        'malformed JSON as text/plain',
        { method: 'POST', url: JSON_PHP, payload: '{oops', headers: { 'content-type': 'text/plain' } },
        { body: 'not valid JSON' },
      ],
      [
        'a JSON array body',
        { method: 'POST', url: JSON_PHP, payload: '[1,2]', headers: { 'content-type': 'application/json' } },
        { body: 'must be a JSON object' },
      ],
      ['an unknown REST path', { method: 'GET', url: `${REST}/customers/123/nothing` }, { path: 'no such API path' }],
    ];
    for (const [what, req, expected] of cases) {
      it(what, async () => {
        const before = digest(app, 'bad-input');
        const res = await call(app, { ...req, headers: { ...S, ...(req.headers ?? {}) } });
        expect(res.status).toBe(200);
        expect(res.body.code).toBe('FAULT');
        expect(typeof res.body.message).toBe('string');
        expect(res.body.fault).toEqual({ faultcode: 'Client', faultstring: res.body.message });
        if (expected instanceof RegExp) expect(JSON.stringify(res.body.error)).toMatch(expected);
        else expect(res.body.error).toEqual(expected);
        expect(digest(app, 'bad-input')).toBe(before);
      });
    }

    it('answers an oversized body with a FAULT and HTTP 413', async () => {
      const small = await makeApp({ maxBodyBytes: 2048 });
      const res = await call(small, {
        method: 'POST',
        url: JSON_PHP,
        payload: { cmd: 'customer.create', companyName: 'x'.repeat(5000) },
        headers: basic(),
      });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('FAULT');
      expect(res.body.message).toBe('Request body is larger than 2048 bytes');
      await small.close();
    });
  });
});
