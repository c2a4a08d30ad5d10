import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { SANDBOX, call, callJson, creds, everything, fail, fx, ok, visible, ISP1, R1 } from './helpers.js';

const NEW = {
  type: 'Organisation',
  name: 'Mandovi Cafe',
  surname: 'Pvt Ltd',
  dob: '2015-04-01',
  mobile: '9812345678',
  email: 'cafe@mandovi.in',
  uniqueid: 'GST30ABC',
  zipcode: '403001',
  state: 'Goa',
  city: 'Panaji',
  street: '5 Dayanand Bandodkar Marg',
  notes: 'Corporate link',
};
const FROZEN = Date.UTC(2025, 2, 14, 10, 30, 0);
const get = async (app: FastifyInstance, id: number) =>
  (await ok(app, 'list', { ...SANDBOX, customerid: String(id) }))[0];
const withActive = visible(R1).find((c) => fx.services.some((s) => s.customerid === c.id && s.status === 'Active'))!;
const inactiveOnly = visible(R1).find((c) => {
  const s = fx.services.filter((x) => x.customerid === c.id);
  return s.length > 0 && s.every((x) => x.status !== 'Active');
})!;
const noServices = visible(R1).find((c) => !fx.services.some((s) => s.customerid === c.id))!;

describe('ISP CRM create', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
    app.registry.defaultState.clock.freeze(FROZEN);
  });
  afterEach(async () => {
    await app.close();
  });

  it('stores every field and dates the customer with the emulator clock', async () => {
    const id = await ok(app, 'create', { ...SANDBOX, ...NEW });
    expect(await get(app, id)).toEqual({
      id,
      ispid: 1,
      resellerid: 1,
      ...NEW,
      created: '2025-03-14 10:30:00',
      updated: '2025-03-14 10:30:00',
      services: [],
    });
    expect(
      await ok(app, 'list', { ...SANDBOX, created_from: '2025-03-14', created_upto: '2025-03-14', show_count: '1' }),
    ).toBe(1);
  });

  it('accepts JSON bodies and trims values', async () => {
    const a = await callJson(app, 'create', {
      userid: 5,
      api_key: SANDBOX.api_key,
      ...NEW,
      name: '  Spaced  ',
      mobile: 9812345678,
    });
    expect(a).toMatchObject({ status: 200, result: 1243, error: null });
    expect(await get(app, 1243)).toMatchObject({ name: 'Spaced', mobile: '9812345678' });
  });

  const required = ['type', 'name', 'mobile', 'email', 'zipcode', 'state', 'city', 'street'] as const;
  for (const field of required) {
    it(`missing ${field} answers "${field} is required" and creates nothing`, async () => {
      const before = await everything(app);
      const fields: Record<string, string> = { ...SANDBOX, ...NEW };
      delete fields[field];
      expect(await fail(app, 'create', fields)).toBe(`${field} is required`);
      expect(await fail(app, 'create', { ...fields, [field]: '   ' })).toBe(`${field} is required`);
      expect(await everything(app)).toEqual(before);
    });
  }

  it.each([
    [{ type: 'Company' }, 'Invalid type. Allowed values are: Individual, Organisation'],
    [{ type: 'organisation' }, 'Invalid type. Allowed values are: Individual, Organisation'],
    [{ dob: '14-03-1990' }, 'Invalid dob. Date must be a valid date in yyyy-mm-dd format'],
    [{ dob: '1990-02-30' }, 'Invalid dob. Date must be a valid date in yyyy-mm-dd format'],
    [{ dob: 'yesterday' }, 'Invalid dob. Date must be a valid date in yyyy-mm-dd format'],
    [{ email: 'not-an-email' }, 'Invalid email. Please provide a valid email address'],
    [{ email: 'a@b' }, 'Invalid email. Please provide a valid email address'],
    [{ email: 'two@@example.in' }, 'Invalid email. Please provide a valid email address'],
    [{ name: 'N'.repeat(101) }, 'name is too long. Maximum 100 characters allowed'],
    [{ street: 'S'.repeat(256) }, 'street is too long. Maximum 255 characters allowed'],
    [{ resellerid: 'one' }, 'Invalid resellerid'],
    [{ ispid: '1.0' }, 'Invalid ispid'],
  ])('%j answers an error naming the field and creates nothing', async (bad, message) => {
    const before = await everything(app);
    expect(await fail(app, 'create', { ...SANDBOX, ...NEW, ...bad })).toBe(message);
    expect(await everything(app)).toEqual(before);
  });

  it("the first problem in the doc's field order is the one reported", async () => {
    expect(await fail(app, 'create', { ...SANDBOX, type: 'x', name: '', email: 'bad' })).toBe(
      'Invalid type. Allowed values are: Individual, Organisation',
    );
    expect(await fail(app, 'create', { ...SANDBOX, type: 'Individual', email: 'bad' })).toBe('name is required');
  });

  it('a field sent twice keeps its last value, as PHP does; name[]= (a list) is refused by name', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...SANDBOX, ...NEW }).toString() + '&name=Second',
    });
    const id = res.json().result;
    expect(res.json()).toEqual({ result: expect.any(Number), error: null });
    expect((await ok(app, 'list', { ...SANDBOX, customerid: String(id) }))[0].name).toBe('Second');
    const before = await everything(app);
    const list = await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...SANDBOX, ...NEW, name: '' }).toString() + '&name[]=A&name[]=B',
    });
    expect(list.json()).toEqual({ result: null, error: 'Invalid name' });
    expect(await everything(app)).toEqual(before);
  });
});

describe('ISP CRM update', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
    app.registry.defaultState.clock.freeze(FROZEN);
  });
  afterEach(async () => {
    await app.close();
  });

  const target = visible(R1)[3];
  const fields = (extra: Record<string, string>) => ({ ...SANDBOX, customerid: String(target.id), ...extra });

  it('changes only the fields given, and the update time', async () => {
    const before = await get(app, target.id);
    expect(await ok(app, 'update', fields({ name: 'Renamed', city: 'Mapusa', zipcode: '403507' }))).toBe('done');
    expect(await get(app, target.id)).toEqual({
      ...before,
      name: 'Renamed',
      city: 'Mapusa',
      zipcode: '403507',
      updated: '2025-03-14 10:30:00',
    });
  });

  it('every documented field can be updated', async () => {
    const before = await get(app, target.id);
    expect(await ok(app, 'update', fields(NEW))).toBe('done');
    expect(await get(app, target.id)).toEqual({ ...before, ...NEW, updated: '2025-03-14 10:30:00' });
  });

  it('an empty optional field clears it; an empty mandatory one is refused', async () => {
    await ok(app, 'update', fields({ surname: 'X', notes: 'N', uniqueid: 'U', dob: '1990-01-01' }));
    expect(await ok(app, 'update', fields({ surname: '', notes: '', uniqueid: '', dob: '' }))).toBe('done');
    expect(await get(app, target.id)).toMatchObject({ surname: null, notes: null, uniqueid: null, dob: null });
    const before = await everything(app);
    expect(await fail(app, 'update', fields({ name: '' }))).toBe('name cannot be empty');
    expect(await fail(app, 'update', fields({ city: 'Panaji', email: '' }))).toBe('email cannot be empty');
    expect(await everything(app)).toEqual(before);
  });

  it('no fields at all answers "done" and changes nothing', async () => {
    const before = await everything(app);
    expect(await ok(app, 'update', fields({}))).toBe('done');
    expect(await everything(app)).toEqual(before);
  });

  it('reset_password=Y records one password-reset message; N records none', async () => {
    expect(await ok(app, 'update', fields({ reset_password: 'N' }))).toBe('done');
    const db = app.registry.defaultState.db;
    expect(db.prepare('SELECT COUNT(*) AS n FROM ispcrm_password_resets').get()).toEqual({ n: 0 });
    expect(await ok(app, 'update', fields({ reset_password: 'Y', email: 'new@example.in' }))).toBe('done');
    const rows = db.prepare('SELECT * FROM ispcrm_password_resets').all() as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: 1,
      customerid: target.id,
      userid: 5,
      email: 'new@example.in',
      mobile: target.mobile,
      subject: 'Your customer portal password has been reset',
      created: '2025-03-14 10:30:00',
    });
    expect(rows[0].body).toMatch(
      /^Dear .+, your customer portal password has been reset\. Login: new@example\.in New password: [0-9a-f]{10}$/,
    );
  });

  it.each([
    [{ customerid: '' }, 'customerid is required'],
    [{ customerid: 'abc' }, 'Invalid customerid'],
    [{ customerid: '0' }, 'Invalid customerid'],
    [{ customerid: '999999' }, 'Invalid customerid. Customer not found'],
    [{ type: 'Person' }, 'Invalid type. Allowed values are: Individual, Organisation'],
    [{ dob: '2001-02-29' }, 'Invalid dob. Date must be a valid date in yyyy-mm-dd format'],
    [{ email: 'nobody' }, 'Invalid email. Please provide a valid email address'],
    [{ reset_password: 'yes' }, 'Invalid reset_password. Allowed values are: Y, N'],
    [
      { name: 'Good', reset_password: 'Y', mobile: 'M'.repeat(21) },
      'mobile is too long. Maximum 20 characters allowed',
    ],
    [
      { name: 'Good', reset_password: 'Y', notes: 'x'.repeat(1001) },
      'notes is too long. Maximum 1000 characters allowed',
    ],
  ])('%j answers an error naming the field and changes nothing', async (bad, message) => {
    const before = await everything(app);
    expect(await fail(app, 'update', fields(bad))).toBe(message);
    expect(await everything(app)).toEqual(before);
  });

  it('missing customerid answers "customerid is required"', async () => {
    expect(await fail(app, 'update', { ...SANDBOX, name: 'X' })).toBe('customerid is required');
  });
});

describe('ISP CRM delete', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('deletes a customer with an active service, as the doc promises, and its services with it', async () => {
    const svc = fx.services.filter((s) => s.customerid === withActive.id);
    expect(svc.some((s) => s.status === 'Active')).toBe(true);
    expect(await ok(app, 'delete', { ...SANDBOX, customerid: String(withActive.id) })).toBe('done');
    expect(await ok(app, 'list', { ...SANDBOX, customerid: String(withActive.id) })).toEqual([]);
    expect(await ok(app, 'list', { ...SANDBOX, serviceid: String(svc[0].id), show_count: '1' })).toBe(0);
    expect(await fail(app, 'delete', { ...SANDBOX, customerid: String(withActive.id) })).toBe(
      'Invalid customerid. Customer not found',
    );
  });

  it("takes the customer's suspended or terminated services with it", async () => {
    const svc = fx.services.filter((s) => s.customerid === inactiveOnly.id);
    expect(await ok(app, 'list', { ...SANDBOX, serviceid: String(svc[0].id), show_count: '1' })).toBe(1);
    expect(await ok(app, 'delete', { ...SANDBOX, customerid: String(inactiveOnly.id) })).toBe('done');
    expect(await ok(app, 'list', { ...SANDBOX, customerid: String(inactiveOnly.id) })).toEqual([]);
    expect(await ok(app, 'list', { ...SANDBOX, serviceid: String(svc[0].id) })).toEqual([]);
    expect(await ok(app, 'list', { ...SANDBOX, username: svc[0].username })).toEqual([]);
    const left = app.registry.defaultState.db
      .prepare('SELECT COUNT(*) AS n FROM ispcrm_services WHERE customerid = ?')
      .get(inactiveOnly.id);
    expect(left).toEqual({ n: 0 });
    expect(await ok(app, 'list', { ...SANDBOX, show_count: '1' })).toBe(visible(R1).length - 1);
  });

  it('deletes a customer without services; a second delete answers not found', async () => {
    expect(await ok(app, 'delete', { ...SANDBOX, customerid: String(noServices.id) })).toBe('done');
    expect(await fail(app, 'delete', { ...SANDBOX, customerid: String(noServices.id) })).toBe(
      'Invalid customerid. Customer not found',
    );
  });

  it.each([
    [{}, 'customerid is required'],
    [{ customerid: 'x1' }, 'Invalid customerid'],
    [{ customerid: '999999' }, 'Invalid customerid. Customer not found'],
  ])('%j answers an error and deletes nothing', async (bad, message) => {
    const before = await everything(app);
    expect(await fail(app, 'delete', { ...SANDBOX, ...bad })).toBe(message);
    expect(await everything(app)).toEqual(before);
  });

  it('the ISP user counts the deleted customer out too', async () => {
    await ok(app, 'delete', { ...SANDBOX, customerid: String(noServices.id) });
    expect(await ok(app, 'list', { ...creds(ISP1), show_count: '1' })).toBe(visible(ISP1).length - 1);
    expect((await call(app, 'list', SANDBOX)).status).toBe(200);
  });
});
