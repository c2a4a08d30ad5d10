import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import {
  SANDBOX,
  call,
  creds,
  everything,
  fail,
  fx,
  ids,
  ok,
  visible,
  INACTIVE,
  ISP1,
  ISP2,
  R1,
  R2,
  R3,
} from './helpers.js';

const NEW = {
  type: 'Individual',
  name: 'Scope Test',
  mobile: '9000000001',
  email: 'scope@example.in',
  zipcode: '403001',
  state: 'Goa',
  city: 'Panaji',
  street: '1 Main Road',
};
const ops = ['list', 'create', 'update', 'delete'] as const;
const someFields = (op: string): Record<string, string> =>
  op === 'create'
    ? { resellerid: '1', ...NEW }
    : op === 'list'
      ? {}
      : {
          customerid: String(visible(R1).find((c) => !fx.services.some((s) => s.customerid === c.id))!.id),
          name: 'Changed',
        };

describe('ISP CRM authentication', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
  });
  afterEach(async () => {
    await app.close();
  });

  const cases: [string, Record<string, string>, string][] = [
    ['missing userid', { api_key: SANDBOX.api_key }, 'userid is required'],
    ['empty userid', { userid: '', api_key: SANDBOX.api_key }, 'userid is required'],
    ['missing api_key', { userid: '5' }, 'api_key is required'],
    ['non-numeric userid', { userid: 'admin', api_key: SANDBOX.api_key }, 'Invalid userid. userid must be numeric'],
    ['userid with a sign', { userid: '-5', api_key: SANDBOX.api_key }, 'Invalid userid. userid must be numeric'],
    ['wrong api_key', { userid: '5', api_key: SANDBOX.api_key.replace(/.$/, '0') }, 'Invalid userid or api_key'],
    ['upper-case api_key', { userid: '5', api_key: SANDBOX.api_key.toUpperCase() }, 'Invalid userid or api_key'],
    ["another user's api_key", { userid: '5', api_key: creds(ISP1).api_key }, 'Invalid userid or api_key'],
    ['unknown userid', { userid: '77', api_key: SANDBOX.api_key }, 'Invalid userid or api_key'],
    ['a disabled user', creds(INACTIVE), 'Invalid userid or api_key'],
    ['nothing at all', {}, 'userid is required'],
  ];
  for (const op of ops) {
    for (const [what, auth, message] of cases) {
      it(`${op}: ${what} answers "${message}" and changes nothing`, async () => {
        const before = await everything(app);
        const a = await call(app, op, { ...someFields(op), ...auth });
        expect(a).toMatchObject({ status: 200, result: null, error: message });
        expect(await everything(app)).toEqual(before);
      });
    }
  }

  it('credentials are checked before any other field', async () => {
    expect(await fail(app, 'list', { userid: '5', api_key: 'nope', sort_field: 'bad' })).toBe(
      'Invalid userid or api_key',
    );
    expect(await fail(app, 'create', { userid: '5', api_key: 'nope' })).toBe('Invalid userid or api_key');
  });

  it('api keys are 50 lowercase hex characters', () => {
    for (const u of fx.users) expect(u.api_key).toMatch(/^[0-9a-f]{50}$/);
  });

  it('userid may come as a JSON number, api_key must be a string', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      headers: { 'content-type': 'application/json' },
      payload: { userid: 5, api_key: SANDBOX.api_key, show_count: 1 },
    });
    expect(res.json()).toEqual({ result: visible(R1).length, error: null });
    const bad = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      headers: { 'content-type': 'application/json' },
      payload: { userid: 5, api_key: [SANDBOX.api_key] },
    });
    expect(bad.json()).toEqual({ result: null, error: 'Invalid api_key' });
  });
});

describe('ISP CRM scoping', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
  });
  afterEach(async () => {
    await app.close();
  });

  const count = (userid: number, extra: Record<string, string> = {}) =>
    ok(app, 'list', { ...creds(userid), show_count: '1', ...extra });

  it("each user sees its own reseller's or ISP's customers only", async () => {
    for (const u of [ISP1, ISP2, R1, R2, R3]) {
      const want = visible(u);
      expect(want.length).toBeGreaterThan(0);
      expect(await count(u)).toBe(want.length);
      expect(ids(await ok(app, 'list', { ...creds(u), rows_limit: '100' }))).toEqual(ids(want).slice(0, 100));
    }
    expect(visible(ISP1).length).toBe(visible(R1).length + visible(R2).length);
  });

  it('an ISP user may filter by any reseller of its ISP', async () => {
    expect(ids(await ok(app, 'list', { ...creds(ISP1), resellerid: '2', rows_limit: '100' }))).toEqual(
      ids(visible(R2)),
    );
    expect(await count(ISP1, { resellerid: '1' })).toBe(visible(R1).length);
    expect(await count(ISP1, { ispid: '1' })).toBe(visible(ISP1).length);
  });

  it.each([
    [R1, { ispid: '2' }, 'Invalid ispid'],
    [R1, { resellerid: '2' }, 'Invalid resellerid'],
    [R1, { resellerid: '3' }, 'Invalid resellerid'],
    [R1, { resellerid: '99' }, 'Invalid resellerid'],
    [ISP1, { resellerid: '3' }, 'Invalid resellerid'],
    [ISP1, { resellerid: '99' }, 'Invalid resellerid'],
    [ISP1, { ispid: '2' }, 'Invalid ispid'],
    [ISP2, { resellerid: '1' }, 'Invalid resellerid'],
    [ISP2, { ispid: '1' }, 'Invalid ispid'],
    [R3, { resellerid: '1' }, 'Invalid resellerid'],
  ])('list by user %i with %j outside its reach: %s', async (userid, fields, message) => {
    expect(await fail(app, 'list', { ...creds(userid), ...fields })).toBe(message);
  });

  it('filters never reach outside the scope (customerid, serviceid, username, name)', async () => {
    const other = visible(ISP2)[0];
    const otherService = fx.services.find((s) => s.customerid === other.id)!;
    expect(await ok(app, 'list', { ...SANDBOX, customerid: String(other.id) })).toEqual([]);
    expect(await ok(app, 'list', { ...SANDBOX, serviceid: String(otherService.id) })).toEqual([]);
    expect(await ok(app, 'list', { ...SANDBOX, username: otherService.username })).toEqual([]);
    expect(await ok(app, 'list', { ...creds(R2), customerid: String(visible(R1)[0].id) })).toEqual([]);
    const xyz = await ok(app, 'list', { ...creds(ISP2), username: 'xyz_%', rows_limit: '100' });
    expect(xyz.length).toBeGreaterThan(0);
    for (const c of xyz) expect(c.ispid).toBe(2);
  });

  it('create by a reseller user: resellerid optional (its own), anything else refused', async () => {
    const id = await ok(app, 'create', { ...SANDBOX, ...NEW });
    expect(id).toBe(1243);
    expect((await ok(app, 'list', { ...SANDBOX, customerid: String(id) }))[0]).toMatchObject({
      ispid: 1,
      resellerid: 1,
    });
    expect(await ok(app, 'create', { ...SANDBOX, ispid: '1', resellerid: '1', ...NEW })).toBe(1244);
    const before = await everything(app);
    expect(await fail(app, 'create', { ...SANDBOX, resellerid: '2', ...NEW })).toBe('Invalid resellerid');
    expect(await fail(app, 'create', { ...SANDBOX, resellerid: '3', ...NEW })).toBe('Invalid resellerid');
    expect(await fail(app, 'create', { ...SANDBOX, ispid: '2', ...NEW })).toBe('Invalid ispid');
    expect(await fail(app, 'create', { ...creds(R2), resellerid: '1', ...NEW })).toBe('Invalid resellerid');
    expect(await everything(app)).toEqual(before);
  });

  it('create by an ISP user: resellerid required and must be a reseller of its ISP', async () => {
    const before = await everything(app);
    expect(await fail(app, 'create', { ...creds(ISP1), ...NEW })).toBe('resellerid is required');
    expect(await fail(app, 'create', { ...creds(ISP1), resellerid: '3', ...NEW })).toBe('Invalid resellerid');
    expect(await fail(app, 'create', { ...creds(ISP1), resellerid: '99', ...NEW })).toBe('Invalid resellerid');
    expect(await fail(app, 'create', { ...creds(ISP1), ispid: '2', resellerid: '2', ...NEW })).toBe('Invalid ispid');
    expect(await fail(app, 'create', { ...creds(ISP2), resellerid: '1', ...NEW })).toBe('Invalid resellerid');
    expect(await everything(app)).toEqual(before);
    const id = await ok(app, 'create', { ...creds(ISP1), resellerid: '2', ...NEW });
    expect((await ok(app, 'list', { ...creds(R2), customerid: String(id) }))[0]).toMatchObject({
      ispid: 1,
      resellerid: 2,
    });
    expect(await ok(app, 'list', { ...SANDBOX, customerid: String(id) })).toEqual([]);
    const id2 = await ok(app, 'create', { ...creds(ISP2), ispid: '2', resellerid: '3', ...NEW });
    expect((await ok(app, 'list', { ...creds(R3), customerid: String(id2) }))[0]).toMatchObject({
      ispid: 2,
      resellerid: 3,
    });
  });

  it("update and delete of another tenant's customer answer the same error as a missing one, changing nothing", async () => {
    const missing = await fail(app, 'update', { ...SANDBOX, customerid: '999999', name: 'X' });
    expect(missing).toBe('Invalid customerid. Customer not found');
    const before = await everything(app);
    for (const [userid, victim] of [
      [R1, visible(R2)[0]],
      [R2, visible(R1)[0]],
      [R1, visible(ISP2)[0]],
      [ISP1, visible(ISP2)[0]],
      [ISP2, visible(ISP1)[0]],
      [R3, visible(R1)[0]],
    ] as const) {
      expect(await fail(app, 'update', { ...creds(userid), customerid: String(victim.id), name: 'Hijacked' })).toBe(
        missing,
      );
      expect(await fail(app, 'update', { ...creds(userid), customerid: String(victim.id), reset_password: 'Y' })).toBe(
        missing,
      );
      expect(await fail(app, 'delete', { ...creds(userid), customerid: String(victim.id) })).toBe(missing);
    }
    expect(await everything(app)).toEqual(before);
  });

  it('an ISP user may update and delete customers of any of its resellers', async () => {
    const victim = visible(R2).find((c) => !fx.services.some((s) => s.customerid === c.id))!;
    expect(await ok(app, 'update', { ...creds(ISP1), customerid: String(victim.id), city: 'Mapusa' })).toBe('done');
    expect((await ok(app, 'list', { ...creds(R2), customerid: String(victim.id) }))[0].city).toBe('Mapusa');
    expect(await ok(app, 'delete', { ...creds(ISP1), customerid: String(victim.id) })).toBe('done');
    expect(await ok(app, 'list', { ...creds(R2), customerid: String(victim.id) })).toEqual([]);
  });
});
