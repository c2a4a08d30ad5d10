/**
 * A session shares the seeded data and keeps only its own changes (copy-on-write); its answers must
 * be exactly those of a full copy. Every vendor's recorded examples (reads, creates, updates,
 * deletes, searches) run in order in a session of one app and in the default state (a plain
 * database) of another, with the same frozen clock, then every read example runs again over the
 * changed data: each answer must be the same, status and body. Then a snapshot of each exports
 * the same fixtures, byte for byte, and restores to the same data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { makeApp } from '../helpers.js';
import { vendors } from '../../src/vendors.js';
import { isOverlay } from '../../src/store/overlay.js';
import { call as esCall } from '../emailsrvr/helpers.js';

const NOW = '2026-01-02T03:04:05.000Z';
/** Each app signs RackCorp session JWTs with a key of its own: compare them without the signature. */
const unsigned = (body: string) => body.replace(/(eyJ[\w-]+\.eyJ[\w-]+)\.[\w-]+/g, '$1.<signature>');

/**
 * One app for the block whose sessions are all overlays (the shipped fixtures are small enough that a session would
 * otherwise be a plain copy of them, see --session-copy-max-bytes).
 */
function withOverlayApp(set: (app: FastifyInstance) => void): void {
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    app = await makeApp({ sessionCopyMaxBytes: 0 });
    set(app);
  });
  afterAll(async () => {
    await app?.close();
  });
}

describe('a session answers exactly as a full copy of the data would', () => {
  let plain: FastifyInstance;
  let cow: FastifyInstance;
  beforeAll(async () => {
    plain = await makeApp({ validateResponses: false });
    cow = await makeApp({ validateResponses: false, sessionCopyMaxBytes: 0 });
  });
  afterAll(async () => {
    await plain.close();
    await cow.close();
  });

  for (const v of vendors.filter((x) => x.contract)) {
    it(`${v.name}: every example, then every read again, in a session and in the default state`, async () => {
      const session = 'cow';
      const send = (
        app: FastifyInstance,
        ex: { method: string; url: string; headers?: Record<string, string>; body?: unknown },
        s: string | null,
      ) =>
        app.inject({
          method: ex.method as InjectOptions['method'],
          url: ex.url,
          headers: { ...(s ? { 'x-emulator-session': s } : {}), ...(ex.headers ?? {}) },
          payload: typeof ex.body === 'string' || ex.body === undefined ? ex.body : JSON.stringify(ex.body),
        });
      for (const [app, s] of [
        [plain, null],
        [cow, session],
      ] as const) {
        const res = await app.inject({
          method: 'PUT',
          url: '/_emulator/clock',
          headers: s ? { 'x-emulator-session': s } : {},
          payload: { now: NOW },
        });
        expect(res.statusCode, res.body).toBe(200);
      }
      expect(isOverlay(cow.registry.get(session).db)).toBe(true);
      expect(isOverlay(plain.registry.defaultState.db)).toBe(false);
      const examples = v.contract!.examples();
      const reads = examples.filter(
        (ex) =>
          ex.method === 'GET' || (v.name === 'rackcorp' && /"cmd":"customer\.get/.test(JSON.stringify(ex.body ?? ''))),
      );
      let compared = 0;
      for (const ex of [...examples, ...reads]) {
        const a = await send(plain, ex, null);
        const b = await send(cow, ex, session);
        expect(b.statusCode, `${ex.name}: ${b.body}`).toBe(a.statusCode);
        expect(unsigned(b.body), ex.name).toBe(unsigned(a.body));
        compared++;
      }
      expect(compared).toBeGreaterThan(examples.length);
    });
  }

  it('a snapshot of the session holds only its changes, and exports and restores the same data as the full copy', async () => {
    const take = async (app: FastifyInstance, s: string | null) => {
      const res = await app.inject({
        method: 'POST',
        url: '/_emulator/snapshots/after',
        headers: s ? { 'x-emulator-session': s } : {},
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().bytes as number;
    };
    const fullBytes = await take(plain, null);
    const ownBytes = await take(cow, 'cow');
    expect(ownBytes).toBeLessThan(fullBytes);
    const fixtures = async (app: FastifyInstance) =>
      (await app.inject({ method: 'GET', url: '/_emulator/snapshots/after/fixtures' })).body;
    const exported = await fixtures(plain);
    expect(JSON.parse(exported).rackcorp.rackcorp_customers.length).toBeGreaterThan(0);
    expect(await fixtures(cow)).toBe(exported);
    // Restored into the default state (a plain database) and into another session (an overlay again).
    for (const s of [null, 'restored']) {
      const res = await cow.inject({
        method: 'POST',
        url: '/_emulator/snapshots/after/restore',
        headers: s ? { 'x-emulator-session': s } : {},
      });
      expect(res.statusCode, res.body).toBe(200);
      const again = await cow.inject({
        method: 'POST',
        url: '/_emulator/snapshots/again',
        headers: s ? { 'x-emulator-session': s } : {},
      });
      expect(again.statusCode, again.body).toBe(201);
      expect((await cow.inject({ method: 'GET', url: '/_emulator/snapshots/again/fixtures' })).body).toBe(exported);
    }
    expect(isOverlay(cow.registry.defaultState.db)).toBe(false);
    expect(isOverlay(cow.registry.get('restored').db)).toBe(true);
  });
});

describe('counts in sessions', () => {
  let app: FastifyInstance;
  withOverlayApp((a) => (app = a));
  const basic = { authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}` };
  // limit=1: a full page, so the total is counted (the seed's share of that count is kept for every session).
  const total = async (s: string | null) => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v01/customers?lastName=smi&limit=1',
      headers: { ...basic, ...(s ? { 'x-emulator-session': s } : {}) },
    });
    expect(res.statusCode, res.body).toBe(200);
    return Number(res.headers['x-total-count']);
  };

  it("one session's own rows count in its totals only, before and after another session counted the same filter", async () => {
    const base = await total(null);
    expect(base).toBeGreaterThan(1);
    expect(await total('count-b')).toBe(base);
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: 'PUT',
        url: '/api/v01/customers',
        headers: { ...basic, 'content-type': 'application/json', 'x-emulator-session': 'count-a' },
        payload: { accountId: 2001, firstName: 'Ann', lastName: `Smithers${i}` },
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(await total('count-a')).toBe(base + 2);
    expect(await total('count-b')).toBe(base);
    expect(await total('count-c')).toBe(base);
    expect(await total(null)).toBe(base);
  });
});

describe('name searches in sessions', () => {
  let app: FastifyInstance;
  withOverlayApp((a) => (app = a));
  const creds = { userid: '5', api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4' };
  const call = async (path: string, fields: Record<string, string>, s: string | null) => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/customer/${path}`,
      headers: s ? { 'x-emulator-session': s } : {},
      payload: { ...creds, ...fields },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().error, res.body).toBeNull();
    return res.json().result;
  };
  const ids = async (s: string | null) =>
    ((await call('list', { name: '%Trad%' }, s)) as { id: string | number }[]).map((c) => Number(c.id));

  it("find the session's own rows through the seed's trigram index, and not the seed rows it renamed or deleted", async () => {
    // A NeuCRM create body with every required field; only the name differs.
    const person = (name: string) => ({
      type: 'Individual',
      name,
      mobile: '12344444',
      email: 'bench@example.com',
      zipcode: '12345',
      state: 'Goa',
      city: 'Panaji',
      street: '3rd street',
    });
    const before = await ids(null);
    expect(before.length).toBeGreaterThan(2);
    const [renamed, deleted] = before;
    const made = await call('create', person('Tradewind Bench'), 'isp-a');
    await call('create', person('Elsewhere'), 'isp-a');
    await call('update', { customerid: String(renamed), name: 'Renamed' }, 'isp-a');
    await call('delete', { customerid: String(deleted) }, 'isp-a');
    const id = Number(made); // create answers the new customer's id
    expect(id).toBeGreaterThan(0);
    expect(await ids('isp-a')).toEqual(
      [...before.filter((x) => x !== renamed && x !== deleted), id].sort((a, b) => a - b),
    );
    expect(await ids('isp-b')).toEqual(before);
    expect(await ids(null)).toEqual(before);
  });
});

describe('Rackspace Index in sessions', () => {
  let app: FastifyInstance;
  withOverlayApp((a) => (app = a));

  it("merges the session's own accounts into the seed's in Index's order (name without case, name, number), page by page", async () => {
    // The same adds and a delete in a session and in the default state: the same pages, the session's untouched.
    const untouched = (await esCall(app, { method: 'GET', url: '/v0/customers?size=250&page=1', session: 'es-b' }))
      .body;
    for (const s of ['es-a', undefined]) {
      for (const name of ['aardvark', 'Aardvark', 'mmm', 'MMM', 'zz top', '0 first']) {
        const res = await esCall(app, {
          method: 'POST',
          url: '/customers',
          session: s,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: `name=${encodeURIComponent(name)}`,
        });
        expect(res.statusCode, res.body).toBe(200);
      }
      const gone = await esCall(app, { method: 'DELETE', url: '/v0/customers/460181', session: s });
      expect(gone.statusCode, gone.body).toBe(200);
    }
    for (const page of ['size=50&page=1', 'size=50&page=2', 'size=7&page=3', 'size=250&page=1']) {
      const a = await esCall(app, { method: 'GET', url: `/v0/customers?${page}`, session: 'es-a' });
      const b = await esCall(app, { method: 'GET', url: `/v0/customers?${page}` });
      expect(a.statusCode, a.body).toBe(200);
      expect(a.body, page).toBe(b.body);
    }
    const all = (await esCall(app, { method: 'GET', url: '/v0/customers?size=250&page=1', session: 'es-a' })).body;
    expect(all).toContain('Aardvark');
    expect(all).not.toContain('"accountNumber":"460181"');
    expect((await esCall(app, { method: 'GET', url: '/v0/customers?size=250&page=1', session: 'es-b' })).body).toBe(
      untouched,
    );
  });
});

describe('--session-copy-max-bytes', () => {
  it('copies a seed up to the limit into each new session and overlays a bigger one', async () => {
    const header = { 'x-emulator-session': 'copy-or-overlay' };
    const get = { method: 'GET' as const, url: '/api/v01/customers?limit=5', headers: header };
    const copied = await makeApp();
    const overlaid = await makeApp({ sessionCopyMaxBytes: 0 });
    try {
      const auth = { authorization: 'Basic ' + Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64') };
      const a = await copied.inject({ ...get, headers: { ...header, ...auth } });
      const b = await overlaid.inject({ ...get, headers: { ...header, ...auth } });
      expect(a.statusCode).toBe(200);
      expect(a.body).toBe(b.body);
      // The shipped fixtures' seed is well under the 2 MiB default.
      expect(isOverlay(copied.registry.get('copy-or-overlay').db)).toBe(false);
      expect(isOverlay(overlaid.registry.get('copy-or-overlay').db)).toBe(true);
    } finally {
      await copied.close();
      await overlaid.close();
    }
  });
});
