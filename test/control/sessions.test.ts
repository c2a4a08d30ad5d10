import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ctl, makeApp } from '../helpers.js';
import { basic, createCustomer, getAll, rc } from '../rackcorp/helpers.js';

let app: FastifyInstance;
afterEach(async () => {
  await app?.close();
});

describe('isolated sessions', () => {
  it("two sessions writing in parallel never see each other's data, ids or journal", async () => {
    app = await makeApp();
    const [a, b] = await Promise.all([
      createCustomer(app, 'job-a', 'Alpha Pty'),
      createCustomer(app, 'job-b', 'Beta Pty'),
    ]);
    expect(a).toBe(906);
    expect(b).toBe(906);
    const inA = await rc(app, 'customer.get', { id: 906 }, 'job-a');
    const inB = await rc(app, 'customer.get', { id: 906 }, 'job-b');
    expect(inA.json().customer.companyName).toBe('Alpha Pty');
    expect(inB.json().customer.companyName).toBe('Beta Pty');
    // The default state is untouched.
    expect((await rc(app, 'customer.get', { id: 906 })).json().code).toBe('FAULT');
    const ja = await ctl(app, 'GET', '/_emulator/requests', undefined, { 'x-emulator-session': 'job-a' });
    expect(ja.body.requests.map((r: any) => r.operation)).toEqual(['customer.get', 'customer.create']);
    expect(ja.body.requests.every((r: any) => r.session === 'job-a')).toBe(true);
    expect(ja.body.requests[1].body).toContain('Alpha Pty');
    const jb = await ctl(app, 'GET', '/_emulator/requests?session=job-b');
    expect(jb.body.requests.map((r: any) => r.body).join()).not.toContain('Alpha');
  });

  it('the /_sessions/<id>/ path prefix joins the same session as the header', async () => {
    app = await makeApp();
    await createCustomer(app, 'pfx');
    const res = await app.inject({
      method: 'GET',
      url: '/_sessions/pfx/api/rest/v2.9/customers/906',
      headers: basic(),
    });
    expect(res.json().code).toBe('OK');
    const j = await ctl(app, 'GET', '/_emulator/requests?session=pfx&limit=1');
    expect(j.body.requests[0].url).toBe('/_sessions/pfx/api/rest/v2.9/customers/906');
    expect(j.body.requests[0].operation).toBe('customer.get');
  });

  it('lists and deletes sessions; a deleted session starts again from the fixtures', async () => {
    app = await makeApp();
    await createCustomer(app, 's1');
    await createCustomer(app, 's2');
    const list = await ctl(app, 'GET', '/_emulator/sessions');
    expect(list.body.sessions.map((s: any) => s.id).sort()).toEqual(['s1', 's2']);
    expect(list.body.max).toBe(100);
    expect((await ctl(app, 'DELETE', '/_emulator/sessions/s1')).body).toEqual({ deleted: 's1' });
    expect((await ctl(app, 'DELETE', '/_emulator/sessions/s1')).status).toBe(404);
    expect((await rc(app, 'customer.get', { id: 906 }, 's1')).json().code).toBe('FAULT');
    expect(await createCustomer(app, 's1')).toBe(906);
  });

  it('at the limit evicts the least recently used idle session', async () => {
    app = await makeApp({ maxSessions: 2 });
    await createCustomer(app, 'old');
    await createCustomer(app, 'mid');
    await rc(app, 'customer.get', { id: 906 }, 'old'); // `mid` is now the least recently used
    await new Promise((r) => setTimeout(r, 5));
    await rc(app, 'customer.get', { id: 1 }, 'new');
    const ids = (await ctl(app, 'GET', '/_emulator/sessions')).body.sessions.map((s: any) => s.id).sort();
    expect(ids).toEqual(['new', 'old']);
    expect(app.registry.evicted).toBe(1);
  });

  it('answers a clear 503 when every session at the limit is busy', async () => {
    app = await makeApp({ maxSessions: 1 });
    const busy = app.registry.get('busy');
    busy.acquire(); // a request still running in it
    const res = await rc(app, 'customer.get', { id: 123 }, 'another');
    // RackCorp's own refusal (its FAULT, at HTTP 200 as all its errors), as when over the in-flight cap.
    expect(res.statusCode).toBe(200);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ code: 'FAULT', message: expect.stringContaining('All 1 sessions are busy') });
    busy.release();
    expect((await rc(app, 'customer.get', { id: 123 }, 'another')).statusCode).toBe(200);
  });

  it('drops sessions idle for longer than the idle limit', async () => {
    app = await makeApp({ sessionIdleSeconds: 60 });
    await createCustomer(app, 'sleepy');
    expect(app.registry.sessions.has('sleepy')).toBe(true);
    expect(app.registry.sweep(Date.now() + 61_000)).toBe(1);
    expect(app.registry.sessions.has('sleepy')).toBe(false);
  });

  it('counts a request as running only until it is answered', async () => {
    app = await makeApp();
    await rc(app, 'customer.get', { id: 123 }, 'count');
    expect(app.registry.get('count').inFlight).toBe(0);
  });

  it('refuses a bad session id with a 400', async () => {
    app = await makeApp();
    const res = await app.inject({
      method: 'GET',
      url: '/api/rest/v2.9/customers',
      headers: { 'x-emulator-session': 'bad id!' },
    });
    expect(res.statusCode).toBe(400);
    expect((await ctl(app, 'GET', '/_emulator/requests?session=bad%20id')).status).toBe(400);
  });
});

describe('reset', () => {
  it('puts a session back to the fixtures: byte-identical vendor answers, ids from the start again', async () => {
    app = await makeApp();
    const before = await getAll(app, 'r');
    await createCustomer(app, 'r');
    expect(await getAll(app, 'r')).not.toBe(before);
    const res = await ctl(app, 'POST', '/_emulator/reset', undefined, { 'x-emulator-session': 'r' });
    expect(res.body).toEqual({ reset: 'all', session: 'r' });
    expect(await getAll(app, 'r')).toBe(before);
    expect(await createCustomer(app, 'r')).toBe(906);
    // The journal was emptied by the reset (only the last create is in it).
    expect((await ctl(app, 'GET', '/_emulator/requests/count?session=r')).body.count).toBe(2);
  });

  it('?vendor= resets one vendor only and leaves the clock, journal and faults alone', async () => {
    app = await makeApp();
    const before = await getAll(app);
    await createCustomer(app);
    await ctl(app, 'PUT', '/_emulator/clock', { now: '2030-01-01T00:00:00Z' });
    const res = await ctl(app, 'POST', '/_emulator/reset?vendor=rackcorp');
    expect(res.body).toEqual({ reset: 'rackcorp', session: null });
    expect(await getAll(app)).toBe(before);
    expect((await ctl(app, 'GET', '/_emulator/clock')).body.now).toBe('2030-01-01T00:00:00.000Z');
    expect((await ctl(app, 'GET', '/_emulator/requests/count')).body.count).toBe(3);
    expect(await createCustomer(app)).toBe(906);
  });

  it('a per-vendor reset leaves every RackCorp customer in the keyword index, none waiting to be indexed', async () => {
    app = await makeApp();
    await createCustomer(app, 'kw', 'Quokka Traders');
    const db = app.registry.get('kw').db;
    const waiting = () => db.prepare('SELECT COUNT(*) FROM fts_rackcorp_unindexed').pluck().get();
    expect(waiting()).toBe(1); // a create's row waits for a batch
    await ctl(app, 'POST', '/_emulator/reset?vendor=rackcorp', undefined, { 'x-emulator-session': 'kw' });
    // The copied fixture rows went to the index with the reset, as after a fixture load.
    expect(waiting()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM fts_rackcorp_customers').pluck().get()).toBe(
      db.prepare('SELECT COUNT(*) FROM rackcorp_customers').pluck().get(),
    );
    expect(await getAll(app, 'kw')).toBe(await getAll(app));
  });

  it('refuses an unknown vendor with a 400', async () => {
    app = await makeApp();
    const res = await ctl(app, 'POST', '/_emulator/reset?vendor=nope');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('Unknown vendor "nope"');
  });
});
