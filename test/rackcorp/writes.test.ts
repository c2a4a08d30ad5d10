/**
 * RackCorp writes apply what they accept, or refuse it naming the field (issue #15): customer.update's
 * locations, contacts and parentID; the body's id against the path's; promoCode on create and update
 * going through addcode's one path; the server-set fields of the customer object; customerId and
 * customerid; resWindow's one rule; billing.promo.update's code. Each through REST, json.php GET
 * (query) and json.php POST (JSON body) where the binding can carry the input; each refusal changes
 * nothing.
 */
import { describe, it, expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { appsClosedAfterEach } from '../helpers.js';
import { API_UUID, basic, call, digest } from './helpers.js';

const REST = '/api/rest/v2.9';
type Params = Record<string, unknown>;
type Binding = 'rest' | 'get' | 'post';

const fresh = appsClosedAfterEach();

const qs = (params: Params) => new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();

/**
 * One operation through one binding. REST: `path` with `:name` filled from params (those leave the
 * body), GET params in the query, others as a JSON body. json.php GET: everything in the query;
 * json.php POST: a JSON body with cmd.
 */
function send(
  app: FastifyInstance,
  binding: Binding,
  cmd: string,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  params: Params,
  headers = basic(),
) {
  if (binding === 'get')
    return call(app, { method: 'GET', url: `${REST}/json.php?${qs({ cmd, ...params })}`, headers });
  if (binding === 'post')
    return call(app, {
      method: 'POST',
      url: `${REST}/json.php`,
      headers,
      payload: { cmd, ...params } as Record<string, string>,
    });
  const rest = { ...params };
  const url = path.replace(/:(\w+)/g, (_m, name: string) => {
    const v = rest[name];
    delete rest[name];
    return String(v);
  });
  if (method === 'GET')
    return call(app, { method, url: `${REST}${url}${Object.keys(rest).length ? `?${qs(rest)}` : ''}`, headers });
  return call(app, { method, url: `${REST}${url}`, headers, payload: rest as Record<string, string> });
}
const update = (app: FastifyInstance, b: Binding, params: Params, headers = basic()) =>
  send(app, b, 'customer.update', 'PUT', '/customers/:id', params, headers);
const getCustomer = async (app: FastifyInstance, id: number) =>
  (await call(app, { method: 'GET', url: `${REST}/customers/${id}`, headers: basic() })).body.customer;
const promoOf = async (app: FastifyInstance, code: string) =>
  (await call(app, { method: 'GET', url: `${REST}/billing/promocode`, headers: basic() })).body.promocodes.find(
    (p: { code: string }) => p.code === code,
  );

const location = {
  typeOfAddress: 'billing',
  addressLine1: '9 New Rd',
  addressLine2: 'Level 2',
  addressLine3: '',
  suburb: 'Perth',
  state: 'WA',
  postcode: '6000',
  country: 'AU',
};
const contact = {
  typeOfContact: 'technical',
  name: 'Tess Tech',
  phoneNumber: '+61 8 0000 0000',
  mobileNumber: '',
  faxNumber: '',
  email: 'tess@example.com',
};
const newCustomer = {
  companyName: 'Promo Pty Ltd',
  locations: [{ suburb: 'Sydney' }],
  contacts: [{ name: 'Ada', email: 'ada@example.com' }],
};

describe('customer.update: locations and contacts replace the lists', () => {
  for (const b of ['rest', 'post'] as const) {
    it(`the next customer.get shows the new lists (${b})`, async () => {
      const app = await fresh();
      const r = await update(app, b, {
        id: 123,
        locations: [location, { ...location, typeOfAddress: 'postal', suburb: 'Fremantle' }],
        contacts: [contact],
      });
      expect(r.body).toMatchObject({ code: 'OK', message: 'Customer Updated Successfully' });
      const c = await getCustomer(app, 123);
      expect(c.locations).toEqual([location, { ...location, typeOfAddress: 'postal', suburb: 'Fremantle' }]);
      expect(c.contacts).toEqual([contact]);
    });
  }
  it('one list alone leaves the other as it was', async () => {
    const app = await fresh();
    const before = await getCustomer(app, 123);
    expect((await update(app, 'rest', { id: 123, contacts: [contact] })).body.code).toBe('OK');
    const after = await getCustomer(app, 123);
    expect(after.locations).toEqual(before.locations);
    expect(after.contacts).toEqual([contact]);
  });
  const bad: [string, Params, string][] = [
    ['locations not a list', { locations: 'x' }, 'locations'],
    ['contacts not a list', { contacts: 'x' }, 'contacts'],
    ['an empty locations list', { locations: [] }, 'locations'],
    ['a contact with a bad e-mail', { contacts: [{ name: 'x', email: 'nope' }] }, 'contacts.0.email'],
  ];
  for (const [what, params, field] of bad) {
    it(`refuses ${what}, naming ${field}, changing nothing`, async () => {
      const app = await fresh();
      const before = digest(app);
      const bindings: Binding[] =
        typeof params[Object.keys(params)[0]] === 'string' ? ['rest', 'get', 'post'] : ['rest', 'post'];
      for (const b of bindings) {
        const r = await update(app, b, { id: 123, ...params });
        expect(r.body.code, b).toBe('FAULT');
        expect(Object.keys(r.body.error), b).toContain(field);
      }
      expect(digest(app)).toBe(before);
    });
  }
});

describe("customer.update: parentID moves the customer within the caller's tree", () => {
  for (const b of ['rest', 'get', 'post'] as const) {
    it(`moves 51 from 456 to 123, visible on the next read (${b})`, async () => {
      const app = await fresh();
      expect((await update(app, b, { id: 51, parentID: 123 })).body.code).toBe('OK');
      expect(await getCustomer(app, 51)).toMatchObject({ parentID: 123, parentStdName: 'Example Corp' });
      const under = await call(app, { method: 'GET', url: `${REST}/customers?customerParentId=123`, headers: basic() });
      expect(under.body.customers.map((c: { id: number }) => c.id)).toEqual([51]);
      // 0 is the caller, as on create
      expect((await update(app, b, { id: 51, parentID: 0 })).body.code).toBe('OK');
      expect(await getCustomer(app, 51)).toMatchObject({ parentID: 1, parentStdName: 'RackCorp Sandbox Reseller' });
    });
  }
  it('the current parent again is no move', async () => {
    const app = await fresh();
    expect((await update(app, 'rest', { id: 51, parentID: 456 })).body.code).toBe('OK');
    expect((await getCustomer(app, 51)).parentID).toBe(456);
  });
  const refused: [string, Params, string][] = [
    ['a parent of another tenant', { id: 123, parentID: 900 }, 'Customer not found or permission denied'],
    ['a missing parent', { id: 123, parentID: 99999 }, 'Customer not found or permission denied'],
    ['the customer itself', { id: 123, parentID: 123 }, 'parentID cannot be the customer itself'],
    [
      'one of its descendants',
      { id: 456, parentID: 51 },
      'parentID 51 is below customer 456: a customer cannot move under its own descendant',
    ],
    [
      'the caller under its own tree (0 is the caller)',
      { id: 1, parentID: 0 },
      'parentID cannot be the customer itself',
    ],
    [
      'the caller under a descendant',
      { id: 1, parentID: 123 },
      'parentID 123 is below customer 1: a customer cannot move under its own descendant',
    ],
    ['a parentID that is not a number', { id: 123, parentID: 'abc' }, 'parentID must be an integer'],
  ];
  for (const [what, params, message] of refused) {
    it(`refuses ${what}, naming parentID, changing nothing`, async () => {
      const app = await fresh();
      const before = digest(app);
      for (const b of ['rest', 'get', 'post'] as const) {
        const r = await update(app, b, params);
        expect(r.body.code, b).toBe('FAULT');
        expect(r.body.error, b).toEqual({ parentID: message });
      }
      expect(digest(app)).toBe(before);
    });
  }
});

describe("the body's id (or any field) must agree with the path's", () => {
  it('PUT /customers/123 with {"id": 5} is a FAULT naming id, and neither customer changes', async () => {
    const app = await fresh();
    const before = digest(app);
    const r = await call(app, {
      method: 'PUT',
      url: `${REST}/customers/123`,
      headers: basic(),
      payload: { id: 5, companyName: 'Wrong One' },
    });
    expect(r.body).toMatchObject({
      code: 'FAULT',
      error: { id: 'id in the path (123) differs from id in the body (5)' },
    });
    expect(digest(app)).toBe(before);
  });
  it('the same id in the body, as a number or as text, is fine', async () => {
    const app = await fresh();
    for (const id of [123, '123']) {
      const r = await call(app, {
        method: 'PUT',
        url: `${REST}/customers/123`,
        headers: basic(),
        payload: { id, companyName: `Same ${id}` },
      });
      expect(r.body.code).toBe('OK');
    }
    expect((await getCustomer(app, 123)).companyName).toBe('Same 123');
  });
  it("a query id against the path's, and json.php's query against its body, are refused too", async () => {
    const app = await fresh();
    const before = digest(app);
    const q = await call(app, {
      method: 'PUT',
      url: `${REST}/customers/123?id=5`,
      headers: basic(),
      payload: { companyName: 'Wrong' },
    });
    expect(q.body.error).toEqual({ id: 'id in the path (123) differs from id in the query (5)' });
    const j = await call(app, {
      method: 'POST',
      url: `${REST}/json.php?id=5`,
      headers: basic(),
      payload: { cmd: 'customer.update', id: 123, companyName: 'Wrong' },
    });
    expect(j.body.error).toEqual({ id: 'id in the body (123) differs from id in the query (5)' });
    expect(digest(app)).toBe(before);
  });
  it('two different API secrets are refused without echoing either', async () => {
    const app = await fresh();
    const r = await call(app, {
      method: 'POST',
      url: `${REST}/json.php?APIUUID=${API_UUID}&APISECRET=first-secret`,
      payload: { cmd: 'customer.get', id: 123, APIUUID: API_UUID, APISECRET: 'second-secret' },
    });
    expect(r.body).toMatchObject({
      code: 'FAULT',
      error: { APISECRET: 'APISECRET in the body differs from APISECRET in the query' },
    });
    expect(JSON.stringify(r.body)).not.toMatch(/first-secret|second-secret/);
  });
  it('other operations with a path id: contact.send and promo.update', async () => {
    const app = await fresh();
    const before = digest(app);
    const c = await call(app, {
      method: 'POST',
      url: `${REST}/customers/123/contact`,
      headers: basic(),
      payload: { id: 2, companyname: 'a', name: 'b', email: 'c@d.com', message: 'hi' },
    });
    expect(Object.keys(c.body.error)).toEqual(['id']);
    const p = await call(app, {
      method: 'PUT',
      url: `${REST}/billing/promocode/1`,
      headers: basic(),
      payload: { id: 2, description: 'x' },
    });
    expect(Object.keys(p.body.error)).toEqual(['id']);
    expect(digest(app)).toBe(before);
  });
});

describe('promoCode on create and update is applied as addcode applies it', () => {
  for (const b of ['rest', 'post'] as const) {
    it(`create records the code and counts a use; addcode of it is then refused (${b})`, async () => {
      const app = await fresh();
      const used = (await promoOf(app, 'PROMO123')).timesUsed;
      const r = await send(app, b, 'customer.create', 'POST', '/customers', { ...newCustomer, promoCode: 'PROMO123' });
      expect(r.body.code).toBe('OK');
      expect((await promoOf(app, 'PROMO123')).timesUsed).toBe(used + 1);
      const again = await send(app, 'rest', 'billing.promo.addcode', 'POST', '/billing/promocode/add', {
        promocode: 'PROMO123',
        customerid: r.body.customerid,
      });
      expect(again.body).toMatchObject({
        code: 'FAULT',
        error: { promocode: `Promo Code PROMO123 has already been added to customer ${r.body.customerid}` },
      });
    });
  }
  it('signup applies the code too', async () => {
    const app = await fresh();
    const used = (await promoOf(app, 'PROMO123')).timesUsed;
    const r = await send(app, 'rest', 'customer.signup', 'POST', '/customers/signup', {
      ...newCustomer,
      promoCode: 'PROMO123',
      userLogin: 'promo@example.com',
      userPassword: 'pw',
    });
    expect(r.body.code).toBe('OK');
    expect((await promoOf(app, 'PROMO123')).timesUsed).toBe(used + 1);
  });
  for (const b of ['rest', 'get', 'post'] as const) {
    it(`update records the code once; setting it again is no new use; addcode is then refused (${b})`, async () => {
      const app = await fresh();
      const used = (await promoOf(app, 'PROMO123')).timesUsed;
      expect((await update(app, b, { id: 6, promoCode: 'PROMO123' })).body.code).toBe('OK');
      expect((await update(app, b, { id: 6, promoCode: 'PROMO123' })).body.code).toBe('OK');
      expect((await promoOf(app, 'PROMO123')).timesUsed).toBe(used + 1);
      const again = await send(app, b, 'billing.promo.addcode', 'POST', '/billing/promocode/add', {
        promocode: 'PROMO123',
        customerid: 6,
      });
      expect(again.body.error).toEqual({ promocode: 'Promo Code PROMO123 has already been added to customer 6' });
    });
  }
  it('the last use of a code goes to one customer only, whichever path applies it', async () => {
    const app = await fresh();
    await send(app, 'rest', 'billing.promo.create', 'POST', '/billing/promocode', {
      code: 'ONCE',
      discount: 5,
      maxUses: 1,
    });
    expect(
      (await send(app, 'rest', 'customer.create', 'POST', '/customers', { ...newCustomer, promoCode: 'ONCE' })).body
        .code,
    ).toBe('OK');
    const before = digest(app);
    const r = await update(app, 'rest', { id: 123, promoCode: 'ONCE' });
    expect(r.body.error).toEqual({ promoCode: 'Promo Code ONCE has been used up' });
    expect(digest(app)).toBe(before);
  });
  for (const b of ['rest', 'post'] as const) {
    it(`create applies the currency rule: an AUD customer cannot take WELCOMEUSD, a USD one can (${b})`, async () => {
      const app = await fresh();
      const before = digest(app);
      const r = await send(app, b, 'customer.create', 'POST', '/customers', {
        ...newCustomer,
        currencycode: 'AUD',
        promoCode: 'WELCOMEUSD',
      });
      expect(r.body).toMatchObject({
        code: 'FAULT',
        error: { promoCode: 'Promo Code WELCOMEUSD is only for USD accounts' },
      });
      // no currency given: the parent's (the sandbox, AUD)
      const inherited = await send(app, b, 'customer.create', 'POST', '/customers', {
        ...newCustomer,
        promoCode: 'WELCOMEUSD',
      });
      expect(inherited.body.error).toEqual({ promoCode: 'Promo Code WELCOMEUSD is only for USD accounts' });
      expect(digest(app)).toBe(before);
      const usd = await send(app, b, 'customer.create', 'POST', '/customers', {
        ...newCustomer,
        currencycode: 'USD',
        promoCode: 'WELCOMEUSD',
      });
      expect(usd.body.code).toBe('OK');
    });
  }
  it("promocode (the billing doc's spelling) is read as promoCode on create and update; the two must agree", async () => {
    const app = await fresh();
    const used = (await promoOf(app, 'PROMO123')).timesUsed;
    const created = await send(app, 'post', 'customer.create', 'POST', '/customers', {
      ...newCustomer,
      promocode: 'PROMO123',
    });
    expect(created.body.code).toBe('OK');
    for (const b of ['rest', 'get', 'post'] as const)
      expect((await update(app, b, { id: 6, promocode: 'PROMO123' })).body.code, b).toBe('OK');
    expect((await promoOf(app, 'PROMO123')).timesUsed).toBe(used + 2);
    const before = digest(app);
    const r = await update(app, 'rest', { id: 7, promoCode: 'PROMO123', promocode: 'VPSDEAL' });
    expect(r.body.error).toEqual({ promoCode: 'promoCode (PROMO123) and promocode (VPSDEAL) differ' });
    const bad = await update(app, 'get', { id: 7, promocode: 'NOPE' });
    expect(bad.body.error).toEqual({ promocode: 'Promo Code NOPE does not exist' });
    expect(digest(app)).toBe(before);
  });
  it('update checks the code against the currency the customer will have', async () => {
    const app = await fresh();
    const before = digest(app);
    expect((await update(app, 'rest', { id: 123, promoCode: 'WELCOMEUSD' })).body.error).toEqual({
      promoCode: 'Promo Code WELCOMEUSD is only for USD accounts',
    });
    expect(digest(app)).toBe(before);
    expect((await update(app, 'rest', { id: 123, currency: 'USD', promoCode: 'WELCOMEUSD' })).body.code).toBe('OK');
    expect((await getCustomer(app, 123)).currency).toBe('USD');
  });
});

describe("the customer object's fields on create and update", () => {
  it('writing back what customer.get answered is accepted and changes nothing but dateModified', async () => {
    const app = await fresh();
    const read = await getCustomer(app, 123);
    for (const b of ['rest', 'post'] as const) {
      const current = await getCustomer(app, 123);
      const r = await update(app, b, current);
      expect(r.body.code, b).toBe('OK');
    }
    const after = await getCustomer(app, 123);
    expect({ ...after, dateModified: 0 }).toEqual({ ...read, dateModified: 0 });
  });
  it("a stale read written back (its dateModified is no longer the customer's) is refused, naming dateModified", async () => {
    const app = await fresh();
    const read = await getCustomer(app, 123);
    app.registry.get().clock.advance(60);
    expect((await update(app, 'rest', { id: 123, customID: 'CHANGED' })).body.code).toBe('OK');
    const before = digest(app);
    const r = await update(app, 'post', { ...read, customID: 'STALE' });
    expect(Object.keys(r.body.error)).toEqual(['dateModified']);
    expect(digest(app)).toBe(before);
  });
  const serverSet: [string, Params, string][] = [
    [
      'stdName',
      { stdName: 'Other Name' },
      'stdName is the companyName, or firstName and lastName; it is "Example Corp", not "Other Name"',
    ],
    [
      'parentStdName',
      { parentStdName: 'Someone' },
      'parentStdName is the parent\'s stdName (set parentID to move the customer); it is "RackCorp Sandbox Reseller", not "Someone"',
    ],
    ['dateCreated', { dateCreated: 1 }, 'dateCreated is set when the customer is created; it is 1699123456, not 1'],
    ['isreseller', { isreseller: true }, 'isreseller is set by customer.reseller.create; it is false, not true'],
  ];
  for (const [field, params, message] of serverSet) {
    it(`update refuses a different ${field}, naming it, changing nothing`, async () => {
      const app = await fresh();
      const before = digest(app);
      for (const b of ['rest', 'get', 'post'] as const) {
        const r = await update(app, b, { id: 123, ...params });
        expect(r.body.code, b).toBe('FAULT');
        if (b !== 'get') expect(r.body.error, b).toEqual({ [field]: message });
        else expect(Object.keys(r.body.error), b).toEqual([field]);
      }
      expect(digest(app)).toBe(before);
    });
  }
  it('with a rename or a move, stdName and parentStdName may be the old values (an edited read) or the new ones', async () => {
    const app = await fresh();
    const read = await getCustomer(app, 51);
    expect((await update(app, 'post', { ...read, companyName: 'Renamed Ltd', parentID: 123 })).body.code).toBe('OK');
    expect(await getCustomer(app, 51)).toMatchObject({ stdName: 'Renamed Ltd', parentStdName: 'Example Corp' });
    expect(
      (
        await update(app, 'rest', {
          id: 51,
          companyName: 'Again Ltd',
          stdName: 'Again Ltd',
          parentID: 456,
          parentStdName: 'Partner Hosting Pty Ltd',
        })
      ).body.code,
    ).toBe('OK');
    expect(await getCustomer(app, 51)).toMatchObject({
      stdName: 'Again Ltd',
      parentStdName: 'Partner Hosting Pty Ltd',
    });
    const r = await update(app, 'rest', { id: 51, companyName: 'Third Ltd', stdName: 'Something Else' });
    expect(r.body.error).toEqual({
      stdName: 'stdName is the companyName, or firstName and lastName; it is "Third Ltd", not "Something Else"',
    });
  });
  it('currency and currencycode must agree', async () => {
    const app = await fresh();
    const r = await update(app, 'rest', { id: 123, currency: 'USD', currencycode: 'AUD' });
    expect(r.body.error).toEqual({ currencycode: 'currencycode (AUD) and currency (USD) differ' });
  });
  for (const b of ['rest', 'post'] as const) {
    it(`create applies companyABN, companyACN and currency, refuses an id (${b})`, async () => {
      const app = await fresh();
      const r = await send(app, b, 'customer.create', 'POST', '/customers', {
        ...newCustomer,
        companyABN: '12345678901',
        companyACN: '123456789',
        currency: 'USD',
      });
      expect(r.body.code).toBe('OK');
      expect(await getCustomer(app, r.body.customerid)).toMatchObject({
        companyABN: '12345678901',
        companyACN: '123456789',
        currency: 'USD',
        stdName: 'Promo Pty Ltd',
        isreseller: false,
      });
      const before = digest(app);
      const withId = await send(app, b, 'customer.create', 'POST', '/customers', { ...newCustomer, id: 123 });
      expect(withId.body.error).toEqual({
        id: 'id is assigned when the customer is created; to change a customer use customer.update',
      });
      const withStd = await send(app, b, 'customer.create', 'POST', '/customers', {
        ...newCustomer,
        stdName: 'Else',
        isreseller: 1,
      });
      expect(Object.keys(withStd.body.error).sort()).toEqual(['isreseller', 'stdName']);
      expect(digest(app)).toBe(before);
    });
  }
});

describe('customerId and customerid are both read wherever a customer is named', () => {
  // [cmd, REST path, base params, what the answer shows of the customer]
  const reads: [string, string, Params, (body: any) => unknown][] = [
    ['billing.statistics.get', '/billing/statistics', {}, (body) => body.customerId],
    [
      'billing.services.get',
      '/billing/services',
      {},
      (body) => [...new Set(body.servicebilling.map((s: { customerId: number }) => s.customerId))],
    ],
    [
      'billing.usage.get',
      '/billing/usage',
      { type: 'usage', summary: 'services', time_start: '2024-01-01', time_finish: '2024-12-31' },
      (body) => [...new Set(body.usage.map((u: { customerId: number }) => u.customerId))],
    ],
    ['pricing.get', '/billing/pricing', {}, (body) => body.pricing.customerId],
    ['billing.pricing.getall', '/billing/:customerId', {}, (body) => body.customerId],
  ];
  for (const [cmd, path, base, shown] of reads) {
    it(`${cmd}: customerId=123 and customerid=123 both answer customer 123's data`, async () => {
      const app = await fresh();
      for (const b of ['rest', 'get', 'post'] as const) {
        for (const spelling of ['customerId', 'customerid']) {
          if (cmd === 'billing.pricing.getall' && b === 'rest' && spelling === 'customerid') continue; // the path spells it
          const r = await send(app, b, cmd, 'GET', path, { ...base, [spelling]: 123 });
          expect(r.body.code, `${b} ${spelling}`).toBe('OK');
          const got = shown(r.body);
          expect(Array.isArray(got) ? got : [got], `${b} ${spelling}`).toEqual([123]);
        }
      }
    });
    it(`${cmd}: the two spellings naming different customers is a FAULT, another tenant's is not found`, async () => {
      const app = await fresh();
      for (const b of ['get', 'post'] as const) {
        const r = await send(app, b, cmd, 'GET', path, { ...base, customerId: 123, customerid: 456 });
        expect(r.body.error, b).toEqual({
          customerid: 'customerid (456) and customerId (123) name different customers',
        });
        const foreign = await send(app, b, cmd, 'GET', path, { ...base, customerId: 901 });
        expect(foreign.body.error, b).toEqual({ customerId: 'Customer not found or permission denied' });
      }
    });
  }
  it('billing.promo.validate reads customerId: the currency rule applies to that customer', async () => {
    const app = await fresh();
    for (const b of ['rest', 'get', 'post'] as const) {
      const r = await send(app, b, 'billing.promo.validate', 'GET', '/billing/promocode/validate', {
        promocode: 'PROMO123',
        customerId: 5,
      });
      expect(r.body.error, b).toEqual({ promocode: 'Promo Code PROMO123 is only for AUD accounts' });
    }
  });
  it('billing.promo.addcode takes customerId too', async () => {
    const app = await fresh();
    const r = await send(app, 'post', 'billing.promo.addcode', 'POST', '/billing/promocode/add', {
      promocode: 'PROMO123',
      customerId: 6,
    });
    expect(r.body.code).toBe('OK');
    const again = await send(app, 'rest', 'billing.promo.addcode', 'POST', '/billing/promocode/add', {
      promocode: 'PROMO123',
      customerid: 6,
    });
    expect(again.body.code).toBe('FAULT');
    const none = await send(app, 'rest', 'billing.promo.addcode', 'POST', '/billing/promocode/add', {
      promocode: 'PROMO123',
    });
    expect(none.body.error).toEqual({ customerid: 'customerid is required' });
  });
});

describe('resWindow: one rule for every RackCorp list', () => {
  const lists: [string, string, (body: any) => unknown[]][] = [
    ['customer.getall', '/customers', (body) => body.customers],
    ['billing.history.get', '/billing/history', (body) => body.history],
  ];
  for (const [cmd, path, rows] of lists) {
    it(`${cmd}: 0, negative and small windows are raised to 20; a huge one is capped; a word is a FAULT`, async () => {
      const app = await fresh();
      for (const b of ['rest', 'get', 'post'] as const) {
        for (const w of [0, -5, 1, 19]) {
          const r = await send(app, b, cmd, 'GET', path, { resWindow: w });
          expect(r.body.code, `${b} ${w}`).toBe('OK');
          expect(rows(r.body), `${b} ${w}`).toHaveLength(20);
        }
        const word = await send(app, b, cmd, 'GET', path, { resWindow: 'lots' });
        expect(word.body.error, b).toEqual({ resWindow: 'resWindow must be an integer' });
      }
    });
  }
});

describe('billing.promo.update applies code', () => {
  for (const b of ['rest', 'get', 'post'] as const) {
    it(`renames the code, keeps who holds it, refuses a taken name (${b})`, async () => {
      const app = await fresh();
      const r = await send(app, b, 'billing.promo.update', 'PUT', '/billing/promocode/:id', {
        id: 1,
        code: 'PROMO999',
      });
      expect(r.body.code).toBe('OK');
      expect((await promoOf(app, 'PROMO999')).id).toBe(1);
      expect(await promoOf(app, 'PROMO123')).toBeUndefined();
      const held = await send(app, 'rest', 'billing.promo.addcode', 'POST', '/billing/promocode/add', {
        promocode: 'PROMO999',
        customerid: 2,
      });
      expect(held.body.error).toEqual({ promocode: 'Promo Code PROMO999 has already been added to customer 2' });
      const before = digest(app);
      const taken = await send(app, b, 'billing.promo.update', 'PUT', '/billing/promocode/:id', {
        id: 1,
        code: 'LAUNCH50',
      });
      expect(taken.body.error).toEqual({ code: 'Promo Code LAUNCH50 already exists' });
      expect(digest(app)).toBe(before);
    });
  }
});
