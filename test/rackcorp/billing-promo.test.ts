/**
 * RackCorp promo codes: validate, create, update, add to a customer, and customer.update's
 * promoCode check, each through REST and json.php; each rule; each refusal changes nothing.
 * Tests that write use their own app.
 */
import { describe, it, expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { appsClosedAfterEach } from '../helpers.js';
import { basic, call, digest, OTHER_SECRET, OTHER_UUID } from './helpers.js';

const REST = '/api/rest/v2.9';
const other = basic(OTHER_UUID, OTHER_SECRET);
type Params = Record<string, unknown>;

const fresh = appsClosedAfterEach();

/** One operation by REST and by json.php (GET query for reads, POST JSON body). */
function rest(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  params: Params = {},
  headers = basic(),
) {
  if (method === 'GET') {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
    return call(app, { method, url: `${REST}${url}${qs ? `?${qs}` : ''}`, headers });
  }
  return call(app, { method, url: `${REST}${url}`, headers, payload: params as Record<string, string> });
}
function jsonGet(app: FastifyInstance, cmd: string, params: Params = {}, headers = basic()) {
  const qs = new URLSearchParams(Object.entries({ cmd, ...params }).map(([k, v]) => [k, String(v)])).toString();
  return call(app, { method: 'GET', url: `${REST}/json.php?${qs}`, headers });
}
function jsonPost(app: FastifyInstance, cmd: string, params: Params = {}, headers = basic()) {
  return call(app, {
    method: 'POST',
    url: `${REST}/json.php`,
    headers,
    payload: { cmd, ...params } as Record<string, string>,
  });
}
async function promo(app: FastifyInstance, code: string, headers = basic()) {
  const r = await rest(app, 'GET', '/billing/promocode', {}, headers);
  return r.body.promocodes.find((p: { code: string }) => p.code === code);
}

describe('billing.promo.validate', () => {
  it('PROMO123 is valid, as documented, through REST, json.php GET and POST', async () => {
    const app = await fresh();
    const expected = {
      code: 'OK',
      message: 'Promo Code is valid',
      promocode: {
        id: 1,
        code: 'PROMO123',
        discount: 10,
        type: 'PERCENTAGE',
        currencycode: 'AUD',
        expires: '2099-12-31',
      },
    };
    expect((await rest(app, 'GET', '/billing/promocode/validate', { promocode: 'PROMO123' })).body).toEqual(expected);
    expect(
      (
        await call(app, {
          method: 'GET',
          url: '/api/v2.8/billing/promocode/validate?promocode=PROMO123',
          headers: basic(),
        })
      ).body,
    ).toEqual(expected);
    expect((await jsonGet(app, 'billing.promo.validate', { promocode: 'PROMO123' })).body).toEqual(expected);
    expect((await jsonPost(app, 'billing.promo.validate', { promocode: 'PROMO123' })).body).toEqual(expected);
    expect((await jsonGet(app, 'billing.promo.validate', { promocode: 'promo123' })).body.code).toBe('OK');
  });
  const refusals: [string, string][] = [
    ['NOPE', 'Promo Code NOPE does not exist'],
    ['SUMMER2023', 'Promo Code SUMMER2023 has expired'],
    ['LAUNCH50', 'Promo Code LAUNCH50 has been used up'],
    ['TENANT900', 'Promo Code TENANT900 does not exist'], // another tenant's code
  ];
  for (const [code, message] of refusals) {
    it(`FAULT for ${code}: ${message}`, async () => {
      const app = await fresh();
      const before = digest(app);
      for (const r of [
        await rest(app, 'GET', '/billing/promocode/validate', { promocode: code }),
        await jsonGet(app, 'billing.promo.validate', { promocode: code }),
        await jsonPost(app, 'billing.promo.validate', { promocode: code }),
      ]) {
        expect(r.status).toBe(200);
        expect(r.body).toEqual({
          code: 'FAULT',
          message,
          error: { promocode: message },
          fault: { faultcode: 'Client', faultstring: message },
        });
      }
      expect(digest(app)).toBe(before);
    });
  }
  it("another tenant cannot use the sandbox's PROMO123 but can use its own code", async () => {
    const app = await fresh();
    expect((await rest(app, 'GET', '/billing/promocode/validate', { promocode: 'PROMO123' }, other)).body.message).toBe(
      'Promo Code PROMO123 does not exist',
    );
    expect((await rest(app, 'GET', '/billing/promocode/validate', { promocode: 'TENANT900' }, other)).body.code).toBe(
      'OK',
    );
  });
  it('expiry follows the emulator clock: valid on its last day, expired the day after', async () => {
    const app = await fresh();
    const clock = app.registry.get().clock;
    clock.freeze(Date.UTC(2099, 11, 31, 23, 59, 0));
    expect((await jsonGet(app, 'billing.promo.validate', { promocode: 'PROMO123' })).body.code).toBe('OK');
    clock.advance(120);
    expect((await jsonGet(app, 'billing.promo.validate', { promocode: 'PROMO123' })).body.message).toBe(
      'Promo Code PROMO123 has expired',
    );
    expect((await promo(app, 'PROMO123')).status).toBe('EXPIRED');
  });
  it('a missing promocode is named', async () => {
    const app = await fresh();
    const r = await rest(app, 'GET', '/billing/promocode/validate');
    expect(r.body).toMatchObject({ code: 'FAULT', error: { promocode: 'promocode is required' } });
  });
});

describe('billing.promo.create', () => {
  it('creates a code (REST) that then validates and is listed with its id', async () => {
    const app = await fresh();
    const r = await rest(app, 'POST', '/billing/promocode', {
      code: 'SPRING25',
      discount: 25,
      type: 'PERCENTAGE',
      expires: '2099-06-30',
    });
    expect(r.body).toEqual({ code: 'OK', message: 'Promo Code Created Successfully', id: 8 });
    const listed = await promo(app, 'SPRING25');
    expect(listed).toMatchObject({
      id: 8,
      discount: 25,
      type: 'PERCENTAGE',
      currencycode: 'AUD',
      expires: '2099-06-30',
      maxUses: 0,
      timesUsed: 0,
      status: 'ACTIVE',
    });
    expect((await jsonGet(app, 'billing.promo.validate', { promocode: 'SPRING25' })).body.promocode).toMatchObject({
      id: 8,
      discount: 25,
    });
  });
  it('an empty campaign or serviceCategory means none, on create as on update (read back as null)', async () => {
    const app = await fresh();
    expect(
      (await jsonPost(app, 'billing.promo.create', { code: 'EMPTY1', discount: 5, campaign: '', serviceCategory: '' }))
        .body,
    ).toMatchObject({ code: 'OK' });
    expect(await promo(app, 'EMPTY1')).toMatchObject({ campaign: null, serviceCategory: null });
  });
  it('creates through json.php POST and GET too; FIXED amounts keep their cents', async () => {
    const app = await fresh();
    expect(
      (
        await jsonPost(app, 'billing.promo.create', {
          code: 'FIXED1999',
          discount: 19.99,
          type: 'FIXED',
          currencycode: 'USD',
          maxUses: 2,
        })
      ).body,
    ).toMatchObject({ code: 'OK', id: 8 });
    expect((await jsonGet(app, 'billing.promo.create', { code: 'QS10', discount: '10' })).body).toMatchObject({
      code: 'OK',
      id: 9,
    });
    expect(await promo(app, 'FIXED1999')).toMatchObject({
      discount: 19.99,
      type: 'FIXED',
      currencycode: 'USD',
      expires: null,
      maxUses: 2,
    });
    expect(await promo(app, 'QS10')).toMatchObject({ discount: 10, type: 'PERCENTAGE' });
  });
  const bad: [string, Params, string, string][] = [
    ['a duplicate code', { code: 'PROMO123', discount: 5 }, 'code', 'Promo Code PROMO123 already exists'],
    ['a duplicate code in other case', { code: 'promo123', discount: 5 }, 'code', 'Promo Code promo123 already exists'],
    ['a negative discount', { code: 'NEG', discount: -5 }, 'discount', 'discount must be greater than 0'],
    ['a zero discount', { code: 'ZERO', discount: 0 }, 'discount', 'discount must be greater than 0'],
    [
      'a percentage above 100',
      { code: 'BIG', discount: 150 },
      'discount',
      'discount must be at most 100 for a PERCENTAGE code',
    ],
    [
      'a fixed amount out of range',
      { code: 'HUGE', discount: 100000.01, type: 'FIXED' },
      'discount',
      'discount must be at most 100000 for a FIXED code',
    ],
    ['three decimals', { code: 'FINE', discount: 1.005 }, 'discount', 'discount can have at most two decimal places'],
    // Below a cent the stored value would be 0 (found by test/roundtrip: 1e-323 was accepted and read back as 0).
    ['a discount below a cent', { code: 'TINY', discount: 0.004 }, 'discount', 'discount must be at least 0.01'],
    ['a discount of 1e-323', { code: 'TINY2', discount: 1e-323 }, 'discount', 'discount must be at least 0.01'],
    ['a non-numeric discount', { code: 'WORD', discount: 'ten' }, 'discount', 'discount must be a number'],
    ['a missing discount', { code: 'NONE' }, 'discount', 'discount is required'],
    ['a missing code', { discount: 5 }, 'code', 'code is required'],
    ['a code with spaces', { code: 'NO SPACES', discount: 5 }, 'code', 'code has an invalid format'],
    ['an unknown type', { code: 'TYPE', discount: 5, type: 'BOGO' }, 'type', 'type must be one of PERCENTAGE, FIXED'],
    [
      'a bad date format',
      { code: 'DATE1', discount: 5, expires: '31/12/2099' },
      'expires',
      'expires must be a date in YYYY-MM-DD format',
    ],
    [
      'an impossible date',
      { code: 'DATE2', discount: 5, expires: '2099-02-30' },
      'expires',
      'expires is not a valid date',
    ],
    [
      'a past date',
      { code: 'DATE3', discount: 5, expires: '2020-01-01' },
      'expires',
      'expires must not be in the past',
    ],
    [
      'an unknown currency',
      { code: 'EUR1', discount: 5, currencycode: 'EUR' },
      'currencycode',
      'currencycode must be one of AUD, USD',
    ],
    ['a negative maxUses', { code: 'MAXU', discount: 5, maxUses: -1 }, 'maxUses', 'maxUses must be >= 0'],
    [
      'an unknown serviceCategory',
      { code: 'CAT1', discount: 5, serviceCategory: 'boats' },
      'serviceCategory',
      'serviceCategory must be one of vps, colocation, storage, dns, bandwidth, compute',
    ],
  ];
  for (const [name, params, field, message] of bad) {
    it(`refuses ${name} (REST and json.php), changing nothing`, async () => {
      const app = await fresh();
      const before = digest(app);
      for (const r of [
        await rest(app, 'POST', '/billing/promocode', params),
        await jsonPost(app, 'billing.promo.create', params),
      ]) {
        expect(r.body.code).toBe('FAULT');
        expect(r.body.error[field]).toBe(message);
      }
      expect(digest(app)).toBe(before);
    });
  }
});

describe('billing.promo.update', () => {
  it('changes only the fields given (REST PUT with the listed id)', async () => {
    const app = await fresh();
    const before = await promo(app, 'PROMO123');
    const r = await rest(app, 'PUT', `/billing/promocode/${before.id}`, { discount: 15 });
    expect(r.body).toEqual({ code: 'OK', message: 'Promo Code Updated Successfully' });
    expect(await promo(app, 'PROMO123')).toEqual({ ...before, discount: 15 });
    await rest(app, 'PUT', `/billing/promocode/${before.id}`, { expires: '2098-12-31' });
    expect(await promo(app, 'PROMO123')).toEqual({ ...before, discount: 15, expires: '2098-12-31' });
  });
  it('by json.php POST and GET (id as a parameter)', async () => {
    const app = await fresh();
    expect(
      (await jsonPost(app, 'billing.promo.update', { id: 4, maxUses: 1000, description: 'More room' })).body.code,
    ).toBe('OK');
    expect((await jsonGet(app, 'billing.promo.update', { id: '4', discount: '30.5' })).body.code).toBe('OK');
    expect(await promo(app, 'WELCOMEUSD')).toMatchObject({
      id: 4,
      maxUses: 1000,
      description: 'More room',
      discount: 30.5,
      type: 'FIXED',
      currencycode: 'USD',
    });
  });
  it('raising maxUses revives a used-up code; clearing expires (null) revives an expired one', async () => {
    const app = await fresh();
    await rest(app, 'PUT', '/billing/promocode/3', { maxUses: 101 });
    expect((await jsonGet(app, 'billing.promo.validate', { promocode: 'LAUNCH50' })).body.code).toBe('OK');
    await jsonPost(app, 'billing.promo.update', { id: 2, expires: null });
    expect((await jsonGet(app, 'billing.promo.validate', { promocode: 'SUMMER2023' })).body.code).toBe('OK');
  });
  const bad: [string, string, Params, string, string][] = [
    ['an unknown id', '/billing/promocode/999', {}, 'id', 'Promo Code not found or permission denied'],
    ['a non-integer id', '/billing/promocode/abc', { discount: 5 }, 'id', 'id must be an integer'],
    ['a negative discount', '/billing/promocode/1', { discount: -1 }, 'discount', 'discount must be greater than 0'],
    [
      'a percentage above 100',
      '/billing/promocode/1',
      { discount: 101 },
      'discount',
      'discount must be at most 100 for a PERCENTAGE code',
    ],
    [
      'a type that no longer fits the discount',
      '/billing/promocode/3',
      { type: 'PERCENTAGE', discount: 150 },
      'discount',
      'discount must be at most 100 for a PERCENTAGE code',
    ],
    ['a bad date', '/billing/promocode/1', { expires: '2099-13-01' }, 'expires', 'expires is not a valid date'],
    ['an unknown type', '/billing/promocode/1', { type: 'HALF' }, 'type', 'type must be one of PERCENTAGE, FIXED'],
  ];
  for (const [name, url, params, field, message] of bad) {
    it(`refuses ${name}, changing nothing`, async () => {
      const app = await fresh();
      const before = digest(app);
      const r = await rest(app, 'PUT', url, params);
      expect(r.body.code).toBe('FAULT');
      expect(r.body.error[field]).toBe(message);
      expect(digest(app)).toBe(before);
    });
  }
  it('refuses a type change that leaves the stored discount out of range, naming type', async () => {
    const app = await fresh();
    await rest(app, 'POST', '/billing/promocode', { code: 'BIGFIX', discount: 150, type: 'FIXED' });
    const before = digest(app);
    const r = await rest(app, 'PUT', '/billing/promocode/8', { type: 'PERCENTAGE' });
    expect(r.body.error).toEqual({ type: 'discount must be at most 100 for a PERCENTAGE code' });
    expect(digest(app)).toBe(before);
  });
  it("another tenant cannot update the sandbox's code: the same FAULT as a missing one", async () => {
    const app = await fresh();
    const before = digest(app);
    const r = await rest(app, 'PUT', '/billing/promocode/1', { discount: 50 }, other);
    expect(r.body).toMatchObject({
      code: 'FAULT',
      message: 'Promo Code not found or permission denied',
      error: { id: 'Promo Code not found or permission denied' },
    });
    expect(digest(app)).toBe(before);
  });
});

describe('billing.promo.addcode', () => {
  it('adds PROMO123 to customer 123 as documented (json.php POST), counting one use; twice is refused', async () => {
    const app = await fresh();
    const r = await jsonPost(app, 'billing.promo.addcode', { promocode: 'PROMO123', customerid: 123 });
    expect(r.body).toEqual({ code: 'OK', message: 'Promo Code Added Successfully' });
    expect((await promo(app, 'PROMO123')).timesUsed).toBe(4);
    const rows = app.registry
      .get()
      .db.prepare('SELECT customerId, promoId FROM rackcorp_customer_promos WHERE customerId = 123 ORDER BY id')
      .all();
    expect(rows).toEqual([
      { customerId: 123, promoId: 5 },
      { customerId: 123, promoId: 1 },
    ]);
    const before = digest(app);
    const again = await rest(app, 'POST', '/billing/promocode/add', { promocode: 'PROMO123', customerid: 123 });
    expect(again.body).toMatchObject({
      code: 'FAULT',
      message: 'Promo Code PROMO123 has already been added to customer 123',
      error: { promocode: 'Promo Code PROMO123 has already been added to customer 123' },
    });
    expect(digest(app)).toBe(before);
  });
  it('by REST and json.php GET', async () => {
    const app = await fresh();
    expect(
      (await rest(app, 'POST', '/billing/promocode/add', { promocode: 'PROMO123', customerid: 6 })).body.code,
    ).toBe('OK');
    expect((await jsonGet(app, 'billing.promo.addcode', { promocode: 'PROMO123', customerid: '51' })).body.code).toBe(
      'OK',
    );
    expect((await promo(app, 'PROMO123')).timesUsed).toBe(5);
  });
  it('a code with one use left: the first customer gets it, the next is refused as used up', async () => {
    const app = await fresh();
    await rest(app, 'POST', '/billing/promocode', { code: 'ONCE', discount: 5, maxUses: 1 });
    expect((await rest(app, 'POST', '/billing/promocode/add', { promocode: 'ONCE', customerid: 123 })).body.code).toBe(
      'OK',
    );
    const before = digest(app);
    const r = await rest(app, 'POST', '/billing/promocode/add', { promocode: 'ONCE', customerid: 2 });
    expect(r.body.message).toBe('Promo Code ONCE has been used up');
    expect(digest(app)).toBe(before);
    // the customer that holds it may still set it on its account
    expect((await rest(app, 'PUT', '/customers/123', { promoCode: 'ONCE' })).body.code).toBe('OK');
  });
  const bad: [string, Params, string, string][] = [
    [
      'a customer of another tree',
      { promocode: 'PROMO123', customerid: 900 },
      'customerid',
      'Customer not found or permission denied',
    ],
    [
      'a missing customer',
      { promocode: 'PROMO123', customerid: 99999 },
      'customerid',
      'Customer not found or permission denied',
    ],
    ['an expired code', { promocode: 'SUMMER2023', customerid: 123 }, 'promocode', 'Promo Code SUMMER2023 has expired'],
    ['a used-up code', { promocode: 'LAUNCH50', customerid: 123 }, 'promocode', 'Promo Code LAUNCH50 has been used up'],
    ['an unknown code', { promocode: 'NOPE', customerid: 123 }, 'promocode', 'Promo Code NOPE does not exist'],
    [
      'a code in another currency',
      { promocode: 'PROMO123', customerid: 5 },
      'promocode',
      'Promo Code PROMO123 is only for AUD accounts',
    ],
    ['a missing promocode', { customerid: 123 }, 'promocode', 'promocode is required'],
    ['a missing customerid', { promocode: 'PROMO123' }, 'customerid', 'customerid is required'],
    [
      'a non-integer customerid',
      { promocode: 'PROMO123', customerid: 'x' },
      'customerid',
      'customerid must be an integer',
    ],
  ];
  for (const [name, params, field, message] of bad) {
    it(`refuses ${name} (REST and json.php), changing nothing`, async () => {
      const app = await fresh();
      const before = digest(app);
      for (const r of [
        await rest(app, 'POST', '/billing/promocode/add', params),
        await jsonPost(app, 'billing.promo.addcode', params),
      ]) {
        expect(r.body.code).toBe('FAULT');
        expect(r.body.error[field]).toBe(message);
      }
      expect(digest(app)).toBe(before);
    });
  }
  it("the other tenant cannot add its code to the sandbox's customer", async () => {
    const app = await fresh();
    const r = await rest(app, 'POST', '/billing/promocode/add', { promocode: 'TENANT900', customerid: 123 }, other);
    expect(r.body.error).toEqual({ customerid: 'Customer not found or permission denied' });
    expect(
      (await rest(app, 'POST', '/billing/promocode/add', { promocode: 'TENANT900', customerid: 901 }, other)).body.code,
    ).toBe('OK');
  });
});

describe('customer.update promoCode checks the promo data', () => {
  it('accepts a live code and refuses expired, used-up and unknown ones, naming promoCode', async () => {
    const app = await fresh();
    expect((await rest(app, 'PUT', '/customers/123', { promoCode: 'PROMO123' })).body.code).toBe('OK');
    const before = digest(app);
    for (const [code, problem] of [
      ['SUMMER2023', 'has expired'],
      ['LAUNCH50', 'has been used up'],
      ['NOPE', 'does not exist'],
    ]) {
      const r = await rest(app, 'PUT', '/customers/123', { promoCode: code });
      expect(r.body).toMatchObject({ code: 'FAULT', error: { promoCode: `Promo Code ${code} ${problem}` } });
    }
    expect(digest(app)).toBe(before);
  });
  it('a code created through the billing API is then accepted', async () => {
    const app = await fresh();
    expect((await rest(app, 'PUT', '/customers/123', { promoCode: 'FRESH10' })).body.code).toBe('FAULT');
    await rest(app, 'POST', '/billing/promocode', { code: 'FRESH10', discount: 10 });
    expect((await jsonPost(app, 'customer.update', { id: 123, promoCode: 'FRESH10' })).body.code).toBe('OK');
  });
});
