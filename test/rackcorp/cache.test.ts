/**
 * customer.get and customer.getall answers are kept until the data changes (src/store/rackcorp.ts,
 * `memo`). Whatever changes the data, the next answer shows it: writes through the API, writes
 * straight to the database (as the control plane or a test would), rolled-back transactions, and
 * credentials that change between two requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { createRackcorpStore } from '../../src/store/rackcorp.js';
import { readCache } from '../../src/store/read-cache.js';
import { API_SECRET, API_UUID, basic, call, login } from './helpers.js';

const REST = '/api/rest/v2.9';

describe('RackCorp answers kept until the data changes', () => {
  let app: FastifyInstance;
  let token: string;
  const session = 'cache-test';
  const headers = () => ({ authorization: `Bearer ${token}`, 'x-emulator-session': session });
  const db = () => app.registry.get(session).db;

  beforeAll(async () => {
    app = await makeApp();
    token = await login(app, session);
  });
  afterAll(async () => {
    await app.close();
  });

  const get = async (id: number) =>
    (await call(app, { method: 'GET', url: `${REST}/customers/${id}`, headers: headers() })).body;
  const list = async (q: string) =>
    (await call(app, { method: 'GET', url: `${REST}/customers?${q}`, headers: headers() })).body;

  it('answers the same bytes twice', async () => {
    const a = await app.inject({ method: 'GET', url: `${REST}/customers/123`, headers: headers() });
    const b = await app.inject({ method: 'GET', url: `${REST}/customers/123`, headers: headers() });
    expect(b.body).toBe(a.body);
    expect(b.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(b.body).customer.stdName).toBe('Example Corp');
  });

  it('shows a write made straight to the database (not through the store)', async () => {
    expect((await get(123)).customer.companyName).toBe('Example Corp');
    expect((await list('keyword=Example')).count).toBe(1);
    db()
      .prepare(
        "UPDATE rackcorp_customers SET companyName = 'Direct Write Corp', stdName = 'Direct Write Corp' WHERE id = 123",
      )
      .run();
    expect((await get(123)).customer.companyName).toBe('Direct Write Corp');
    expect((await list('keyword=Example')).count).toBe(0);
    expect((await list('keyword=Direct')).customers.map((c: { id: number }) => c.id)).toEqual([123]);
    db().prepare("UPDATE rackcorp_locations SET suburb = 'Hobart' WHERE customerId = 123").run();
    expect((await get(123)).customer.locations[0].suburb).toBe('Hobart');
  });

  it("shows a parent renamed, and a customer moved out of the caller's tree", async () => {
    db().prepare("UPDATE rackcorp_customers SET stdName = 'Renamed Parent' WHERE id = 1").run();
    expect((await get(123)).customer.parentStdName).toBe('Renamed Parent');
    db().prepare('UPDATE rackcorp_customers SET parentID = 900 WHERE id = 123').run();
    expect((await get(123)).code).toBe('FAULT');
    expect((await list('id=123')).count).toBe(0);
    db().prepare('UPDATE rackcorp_customers SET parentID = 1 WHERE id = 123').run();
    expect((await get(123)).code).toBe('OK');
  });

  it('does not keep what a rolled-back transaction showed', async () => {
    const state = app.registry.get(session);
    const store = state.use(createRackcorpStore);
    const name = () =>
      readCache(state.db).get(
        'test.name',
        () => store.detail(456)?.companyName ?? null,
        () => 1,
      );
    const before = name();
    const d = db();
    expect(() =>
      d.transaction(() => {
        d.prepare("UPDATE rackcorp_customers SET companyName = 'Never Committed' WHERE id = 456").run();
        expect(name()).toBe('Never Committed'); // read inside the transaction: not kept
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    expect(name()).toBe(before);
    expect((await get(456)).customer?.companyName ?? null).toBe(before);
  });

  it('sees a rotated API key and a suspended user on the next request', async () => {
    const h = { ...basic(API_UUID, API_SECRET), 'x-emulator-session': session };
    expect((await call(app, { method: 'GET', url: `${REST}/customers/123`, headers: h })).body.code).toBe('OK');
    db().prepare("UPDATE rackcorp_api_keys SET secret = 'rotated' WHERE uuid = ?").run(API_UUID);
    expect((await call(app, { method: 'GET', url: `${REST}/customers/123`, headers: h })).body.code).toBe('FAULT');
    expect(
      (
        await call(app, {
          method: 'GET',
          url: `${REST}/customers/123`,
          headers: { ...basic(API_UUID, 'rotated'), 'x-emulator-session': session },
        })
      ).body.code,
    ).toBe('OK');

    expect((await get(123)).code).toBe('OK');
    db().prepare("UPDATE rackcorp_users SET status = 'SUSPENDED' WHERE id = 1").run();
    const refused = await get(123);
    expect(refused.code).toBe('FAULT');
    expect(refused.message).toMatch(/no longer active/);
    db().prepare("UPDATE rackcorp_users SET status = 'ACTIVE' WHERE id = 1").run();
    expect((await get(123)).code).toBe('OK');
  });

  it('shows customers created through the API in lists', async () => {
    const before = (await list('keyword=Cachetest')).count;
    const created = await call(app, {
      method: 'POST',
      url: `${REST}/customers`,
      headers: { ...headers(), 'content-type': 'application/json' },
      payload: { companyName: 'Cachetest Pty', locations: [{}], contacts: [{}] },
    });
    expect(created.body.code).toBe('OK');
    const after = await list('keyword=Cachetest');
    expect(after.count).toBe(before + 1);
    expect((await get(created.body.customerid)).customer.stdName).toBe('Cachetest Pty');
  });
});

describe('RackCorp: requests with made-up credentials do not fill the read cache', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('an unknown API key is looked up every time and leaves the cache as it was', async () => {
    const state = app.registry.defaultState;
    const h = basic(API_UUID, API_SECRET);
    expect((await call(app, { method: 'GET', url: '/api/rest/v2.9/customers/123', headers: h })).body.code).toBe('OK');
    const held = readCache(state.db).bytes;
    expect(held).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) {
      const uuid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const r = await call(app, {
        method: 'GET',
        url: '/api/rest/v2.9/customers/123',
        headers: basic(uuid, 'x'.repeat(200)),
      });
      expect(r.body.code).toBe('FAULT');
    }
    expect(readCache(state.db).bytes).toBe(held);
    expect((await call(app, { method: 'GET', url: '/api/rest/v2.9/customers/123', headers: h })).body.code).toBe('OK');
  });
});
