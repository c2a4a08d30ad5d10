/**
 * RackCorp billing: every read operation through REST (with and without `rest/`, other versions)
 * and json.php (GET and POST), computed figures against independent sums of the fixture JSON,
 * scoping, and bad input -> FAULT naming the field with nothing changed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { basic, call, digest, login, OTHER_SECRET, OTHER_UUID } from './helpers.js';
import { percentOf } from '../../src/routes/rackcorp/billing.js';

const fx = (t: string) =>
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'rackcorp', `rackcorp_${t}.json`), 'utf8'));
const usageRows: { serviceId: number; date: string; quantity: number; costCents: number }[] = fx('usage');
const services: { id: number; customerId: number; currency: string; monthlyPriceCents: number }[] = fx('services');
const invoices: { id: number; customerId: number; period: string; amountCents: number }[] = fx('invoices');
const payments: { reference: string; customerId: number; invoiceId: number; amountCents: number; method: string }[] =
  fx('payments');

type Params = Record<string, string | number>;
const REST = '/api/rest/v2.9';
const other = basic(OTHER_UUID, OTHER_SECRET);

/** The same call through the four bindings: REST (documented), REST without rest/ (v1), json.php GET, json.php POST. */
function bindings(
  method: 'GET' | 'POST' | 'PUT',
  restPath: string,
  cmd: string,
  params: Params,
  pathParams: Params = {},
) {
  const qs = (p: Params) => new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString();
  const all = { ...params, ...pathParams };
  const rest = (base: string) =>
    method === 'GET'
      ? { method, url: `${base}${restPath}${Object.keys(params).length ? `?${qs(params)}` : ''}` }
      : { method, url: `${base}${restPath}`, payload: params };
  return [
    ['REST', rest(REST)],
    ['REST without rest/', rest('/api/v1')],
    ['json.php GET', { method: 'GET' as const, url: `${REST}/json.php?${qs({ cmd, ...all })}` }],
    ['json.php POST', { method: 'POST' as const, url: `${REST}/json.php`, payload: { cmd, ...all } }],
  ] as const;
}

async function everyBinding(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT',
  restPath: string,
  cmd: string,
  params: Params = {},
  headers = basic(),
  pathParams: Params = {},
) {
  const out = [];
  for (const [name, opts] of bindings(method, restPath, cmd, params, pathParams)) {
    const r = await call(app, { ...opts, headers });
    out.push({ name, ...r });
  }
  return out;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const visibleToSandbox = services.filter((s) => s.customerId !== 901).map((s) => s.id);
const usageOf = (ids: number[], from: string, to: string) =>
  usageRows.filter((u) => ids.includes(u.serviceId) && u.date >= from && u.date <= to);

let app: FastifyInstance;
beforeAll(async () => {
  app = await makeApp();
});
afterAll(async () => {
  await app.close();
});

describe('currencies', () => {
  it('lists AUD and USD with name and symbol, through every binding', async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/currencies', 'billing.currency.get')) {
      expect(r.status, r.name).toBe(200);
      expect(r.body, r.name).toEqual({
        code: 'OK',
        message: 'Currencies Retrieved Successfully',
        currencies: [
          { code: 'AUD', name: 'Australian Dollar', symbol: '$' },
          { code: 'USD', name: 'US Dollar', symbol: '$' },
        ],
      });
    }
  });
  it('answers with a bearer token too and refuses no credentials', async () => {
    const token = await login(app);
    const ok = await call(app, {
      method: 'GET',
      url: `${REST}/billing/currencies`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.body.code).toBe('OK');
    const none = await call(app, { method: 'GET', url: `${REST}/billing/currencies` });
    expect(none.body.code).toBe('FAULT');
    expect(none.body.message).toMatch(/^Authentication failed/);
  });
});

describe('pricing', () => {
  it("pricing.get answers the customer's tier and currency, through every binding", async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/pricing', 'pricing.get', { customerId: 123 })) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Pricing List Retrieved Successfully');
      expect(r.body.pricing).toMatchObject({ customerId: 123, currency: 'AUD', customerTierID: 'DEFAULT' });
      expect(r.body.pricing.prices).toHaveLength(8);
      expect(r.body.pricing.prices[0]).toEqual({
        productId: 1,
        code: 'VPS-2G',
        name: 'Cloud VPS 2GB',
        category: 'vps',
        billingType: 'MONTHLY',
        unit: 'month',
        price: 20,
        currency: 'AUD',
        tier: 'DEFAULT',
      });
    }
  });
  it('differs between customers of different tiers and currencies', async () => {
    const price = async (id: number, code: string) => {
      const r = await call(app, { method: 'GET', url: `${REST}/billing/pricing?customerId=${id}`, headers: basic() });
      return r.body.pricing.prices.find((p: { code: string }) => p.code === code);
    };
    expect(await price(123, 'VPS-2G')).toMatchObject({ price: 20, currency: 'AUD', tier: 'DEFAULT' });
    expect(await price(2, 'VPS-2G')).toMatchObject({ price: 18, currency: 'AUD', tier: '2' }); // customer 2 is tier 2
    expect(await price(3, 'BW-GB')).toMatchObject({ price: 0.07, currency: 'AUD', tier: '3' });
    expect(await price(5, 'VPS-2G')).toMatchObject({ price: 13.3, currency: 'USD', tier: '1' }); // customer 5: USD, tier 1
  });
  it("get all pricing (/billing/{customerId}) lists every currency at the customer's tier", async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/2', 'billing.pricing.getall', {}, basic(), {
      customerId: 2,
    })) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Pricing Retrieved Successfully');
      expect(r.body.pricing[0]).toMatchObject({
        code: 'VPS-2G',
        customerTierID: '2',
        prices: [
          { currency: 'AUD', price: 18, tier: '2' },
          { currency: 'USD', price: 12.6, tier: '2' },
        ],
      });
    }
    // json.php without customerId: the authenticated customer.
    const own = await call(app, {
      method: 'GET',
      url: `${REST}/json.php?cmd=billing.pricing.getall`,
      headers: basic(),
    });
    expect(own.body).toMatchObject({ code: 'OK', customerId: 1 });
  });
  it('pricing options answer at both documented paths and by cmd', async () => {
    const expected = {
      code: 'OK',
      message: 'Pricing Options Retrieved Successfully',
      pricing: [
        { option: 'currency', values: ['AUD', 'USD'] },
        { option: 'customerTierID', values: ['DEFAULT', '1', '2', '3'] },
        { option: 'billingType', values: ['MONTHLY', 'USAGE'] },
        { option: 'contractMonths', values: [1, 12, 24, 36] },
        { option: 'category', values: ['vps', 'colocation', 'storage', 'dns', 'bandwidth', 'compute'] },
      ],
    };
    for (const p of ['/billing/options', '/billing/pricing/options']) {
      for (const r of await everyBinding(app, 'GET', p, 'billing.pricing.options'))
        expect(r.body, `${p} ${r.name}`).toEqual(expected);
    }
  });
  it("a customer outside the caller's tree answers the same FAULT as a missing one", async () => {
    const before = digest(app);
    for (const url of [
      '/billing/pricing?customerId=900',
      '/billing/pricing?customerId=99999',
      '/billing/900',
      '/billing/99999',
    ]) {
      const r = await call(app, { method: 'GET', url: `${REST}${url}`, headers: basic() });
      expect(r.body, url).toMatchObject({
        code: 'FAULT',
        message: 'Customer not found or permission denied',
        error: { customerId: 'Customer not found or permission denied' },
      });
    }
    // The other tenant cannot see the sandbox's customers either.
    const r = await call(app, { method: 'GET', url: `${REST}/billing/pricing?customerId=123`, headers: other });
    expect(r.body.message).toBe('Customer not found or permission denied');
    expect(digest(app)).toBe(before);
  });
  it('refuses a missing or non-integer customerId, naming it', async () => {
    const missing = await call(app, { method: 'GET', url: `${REST}/billing/pricing`, headers: basic() });
    expect(missing.body).toMatchObject({ code: 'FAULT', error: { customerId: 'customerId is required' } });
    const word = await call(app, { method: 'GET', url: `${REST}/billing/abc`, headers: basic() });
    expect(word.body).toMatchObject({ code: 'FAULT', error: { customerId: 'customerId must be an integer' } });
    const post = await call(app, {
      method: 'POST',
      url: `${REST}/json.php`,
      headers: basic(),
      payload: { cmd: 'pricing.get', customerId: 'x' },
    });
    expect(post.body.error).toEqual({ customerId: 'customerId must be an integer' });
  });
});

describe('usage', () => {
  const base = { type: 'usage', summary: 'services', time_start: '2024-01-01', time_finish: '2024-12-31' };

  it('the documented example answers per service quantities summed from the daily records, through every binding', async () => {
    const expected = visibleToSandbox.map((id) => ({
      serviceId: id,
      quantity: sum(usageOf([id], '2024-01-01', '2024-12-31').map((u) => u.quantity)),
    }));
    for (const r of await everyBinding(app, 'GET', '/billing/usage', 'billing.usage.get', base)) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Billing usage retrieved successfully');
      expect(
        r.body.usage.map((u: { serviceId: number; quantity: number }) => ({
          serviceId: u.serviceId,
          quantity: u.quantity,
        })),
      ).toEqual(expected);
      expect(r.body.usage[0]).not.toHaveProperty('cost');
      expect(r.body.totals).toBeUndefined();
    }
  });
  it('a hand-checked figure: Example Corp, January 2024, 605 GB at $0.10', async () => {
    const r = await call(app, {
      method: 'GET',
      url: `${REST}/billing/usage?type=billing&summary=customer_resource&time_start=2024-01-01&time_finish=2024-01-31&customerid=123`,
      headers: basic(),
    });
    expect(r.body.usage).toEqual([
      {
        customerId: 123,
        customerName: 'Example Corp',
        resource: 'BW-GB',
        unit: 'GB',
        currency: 'AUD',
        serviceCount: 1,
        amount: 60.5,
        services: [{ serviceId: 4, serviceName: 'example-app01', quantity: 605, cost: 60.5 }],
      },
    ]);
    expect(r.body.totals).toEqual([{ currency: 'AUD', amount: 60.5 }]);
    // the same figure from the fixture rows
    expect(sum(usageOf([4], '2024-01-01', '2024-01-31').map((u) => u.quantity))).toBe(605);
  });
  it('type=billing with summary=customer_resource groups by customer and resource, totals per currency', async () => {
    const r = await call(app, {
      method: 'GET',
      url: `${REST}/billing/usage?type=billing&summary=customer_resource&time_start=2024-03-01&time_finish=2024-06-30`,
      headers: basic(),
    });
    const rows = usageOf(visibleToSandbox, '2024-03-01', '2024-06-30');
    const aud = sum(
      rows.filter((u) => services.find((s) => s.id === u.serviceId)!.currency === 'AUD').map((u) => u.costCents),
    );
    const usd = sum(
      rows.filter((u) => services.find((s) => s.id === u.serviceId)!.currency === 'USD').map((u) => u.costCents),
    );
    expect(r.body.totals).toEqual([
      { currency: 'AUD', amount: aud / 100 },
      { currency: 'USD', amount: usd / 100 },
    ]);
    const sandboxBw = r.body.usage.find(
      (g: { customerId: number; resource: string }) => g.customerId === 1 && g.resource === 'BW-GB',
    );
    expect(sandboxBw.serviceCount).toBe(2);
    expect(sandboxBw.amount).toBe(sum(usageOf([1, 2], '2024-03-01', '2024-06-30').map((u) => u.costCents)) / 100);
    expect(r.body.usage.some((g: { customerId: number }) => g.customerId === 901)).toBe(false);
  });
  it("costs=1 adds each service's cost; contracts=1 adds its contract", async () => {
    const r = await call(app, {
      method: 'GET',
      url: `${REST}/billing/usage?type=usage&summary=services&time_start=2024-01-01&time_finish=2024-12-31&customerid=123&costs=1&contracts=1`,
      headers: basic(),
    });
    expect(r.body.usage.map((u: { serviceId: number }) => u.serviceId)).toEqual([4, 5]);
    const app01 = r.body.usage[0];
    expect(app01.cost).toBe(sum(usageOf([4], '2024-01-01', '2024-12-31').map((u) => u.costCents)) / 100);
    expect(app01.days).toBe(366);
    expect(app01.contracts).toEqual([
      {
        serviceId: 4,
        product: 'VPS-2G',
        monthlyPrice: 20,
        discount: 3,
        monthlyTotal: 17,
        currency: 'AUD',
        contractMonths: 12,
        dateStart: '2023-10-01',
        dateEnd: null,
        promocode: 'VPSDEAL',
      },
    ]);
    // example-db01 started on 2024-03-15: usage from that day only
    expect(r.body.usage[1].days).toBe(usageOf([5], '2024-01-01', '2024-12-31').length);
    expect(r.body.usage[1].days).toBe(292);
  });
  it('a range without records answers an empty list; the other tenant sees only its own service', async () => {
    const empty = await call(app, {
      method: 'GET',
      url: `${REST}/billing/usage?type=usage&summary=services&time_start=2022-01-01&time_finish=2022-12-31`,
      headers: basic(),
    });
    expect(empty.body).toMatchObject({ code: 'OK', usage: [] });
    const mine = await call(app, {
      method: 'GET',
      url: `${REST}/billing/usage?type=billing&summary=services&time_start=2024-01-01&time_finish=2024-12-31`,
      headers: other,
    });
    expect(mine.body.usage.map((u: { serviceId: number }) => u.serviceId)).toEqual([9]);
    expect(mine.body.totals).toEqual([
      { currency: 'USD', amount: sum(usageOf([9], '2024-01-01', '2024-12-31').map((u) => u.costCents)) / 100 },
    ]);
  });
  const bad: [string, Params, string, string][] = [
    [
      'missing type',
      { summary: 'services', time_start: '2024-01-01', time_finish: '2024-12-31' },
      'type',
      'type is required',
    ],
    ['unknown type', { ...base, type: 'bogus' }, 'type', 'type must be one of usage, billing'],
    [
      'missing summary',
      { type: 'usage', time_start: '2024-01-01', time_finish: '2024-12-31' },
      'summary',
      'summary is required',
    ],
    ['unknown summary', { ...base, summary: 'daily' }, 'summary', 'summary must be one of customer_resource, services'],
    [
      'missing time_start',
      { type: 'usage', summary: 'services', time_finish: '2024-12-31' },
      'time_start',
      'time_start is required',
    ],
    [
      'missing time_finish',
      { type: 'usage', summary: 'services', time_start: '2024-01-01' },
      'time_finish',
      'time_finish is required',
    ],
    [
      'bad date format',
      { ...base, time_start: '01/01/2024' },
      'time_start',
      'time_start must be a date in YYYY-MM-DD format',
    ],
    ['impossible date', { ...base, time_finish: '2024-02-30' }, 'time_finish', 'time_finish is not a valid date'],
    [
      'start after finish',
      { ...base, time_start: '2024-12-31', time_finish: '2024-01-01' },
      'time_start',
      'time_start must not be after time_finish',
    ],
    ['non-integer customerid', { ...base, customerid: 'abc' }, 'customerid', 'customerid must be an integer'],
    ['customer of another tree', { ...base, customerid: 900 }, 'customerid', 'Customer not found or permission denied'],
    ['missing customer', { ...base, customerid: 99999 }, 'customerid', 'Customer not found or permission denied'],
    ['bad costs flag', { ...base, costs: 5 }, 'costs', 'costs must be one of true, false, 1, 0'],
  ];
  for (const [name, params, field, message] of bad) {
    it(`FAULT for ${name}, by REST and json.php`, async () => {
      const before = digest(app);
      for (const r of await everyBinding(app, 'GET', '/billing/usage', 'billing.usage.get', params)) {
        expect(r.status, r.name).toBe(200);
        expect(r.body.code, r.name).toBe('FAULT');
        expect(r.body.error[field], r.name).toBe(message);
      }
      expect(digest(app)).toBe(before);
    });
  }
});

describe('statistics', () => {
  it('per month, from invoices, payments and usage, through every binding', async () => {
    const mine = invoices.filter((i) => i.customerId === 1);
    for (const r of await everyBinding(app, 'GET', '/billing/statistics', 'billing.statistics.get')) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Statistics Retrieved Successfully');
      expect(r.body.statistics).toHaveLength(13);
      const jan = r.body.statistics.find((s: { period: string }) => s.period === '2024-01');
      expect(jan.usageCost).toBe(sum(usageOf([1, 2, 3], '2024-01-01', '2024-01-31').map((u) => u.costCents)) / 100);
      expect(jan.invoiced).toBe(mine.find((i) => i.period === '2024-01')!.amountCents / 100);
      // recurring: VPS-8G 80 + COLO-1RU 99 + STORAGE-100 15
      expect(jan.recurring).toBe(194);
      expect(jan.invoiced).toBe(jan.recurring + jan.usage);
      const dec = r.body.statistics.find((s: { period: string }) => s.period === '2024-12');
      expect(dec.paid).toBe(0);
      expect(dec.outstanding).toBe(dec.invoiced);
      const invoiced = sum(mine.map((i) => i.amountCents));
      const paid = sum(payments.filter((p) => p.customerId === 1).map((p) => p.amountCents));
      expect(r.body.totals).toEqual([
        {
          currency: 'AUD',
          invoices: 13,
          invoiced: invoiced / 100,
          paid: paid / 100,
          outstanding: (invoiced - paid) / 100,
          usageCost: sum(usageOf([1, 2, 3], '2024-01-01', '2024-12-31').map((u) => u.costCents)) / 100,
        },
      ]);
    }
  });
  it("for a visible customerid; Example Corp's part-paid November", async () => {
    const r = await call(app, { method: 'GET', url: `${REST}/billing/statistics?customerid=123`, headers: basic() });
    const nov = r.body.statistics.find((s: { period: string }) => s.period === '2024-11');
    const inv = invoices.find((i) => i.customerId === 123 && i.period === '2024-11')!;
    expect(nov.paid).toBe(Math.floor(inv.amountCents / 2) / 100);
    expect(nov.outstanding).toBe((inv.amountCents - Math.floor(inv.amountCents / 2)) / 100);
    const hidden = await call(app, { method: 'GET', url: `${REST}/billing/statistics?customerid=123`, headers: other });
    expect(hidden.body).toMatchObject({
      code: 'FAULT',
      error: { customerid: 'Customer not found or permission denied' },
    });
  });
});

describe('history', () => {
  it('invoices and payments, newest first, paged; default window 20', async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/history', 'billing.history.get')) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Billing History Retrieved Successfully');
      expect(r.body.matches).toBe(
        invoices.filter((i) => i.customerId === 1).length + payments.filter((p) => p.customerId === 1).length,
      );
      expect(r.body.matches).toBe(25);
      expect(r.body.history).toHaveLength(20);
      expect(r.body.history[0]).toMatchObject({
        type: 'INVOICE',
        reference: 'INV-100073',
        description: 'Services for 2024-12',
        status: 'UNPAID',
        paid: 0,
      });
      expect(r.body.history[1]).toMatchObject({ type: 'PAYMENT', invoiceNumber: 'INV-100067' });
      expect(r.body.history[1].description).toBe(
        `Payment by ${payments.find((p) => p.reference === r.body.history[1].reference)!.method}`,
      );
      expect(r.body.history[1].amount).toBe(r.body.history[2].amount);
      expect(r.body.history[2]).toMatchObject({ type: 'INVOICE', status: 'PAID', balance: 0 });
    }
    const page = await call(app, {
      method: 'GET',
      url: `${REST}/billing/history?resStart=20&resWindow=50`,
      headers: basic(),
    });
    expect(page.body.history).toHaveLength(5);
    expect(page.body.history.at(-1)).toMatchObject({
      type: 'INVOICE',
      description: 'Services for 2023-12',
      amount: 194,
    });
  });
  it("is the authenticated customer's own: the other tenant (900) has none of the sandbox's", async () => {
    const r = await call(app, { method: 'GET', url: `${REST}/billing/history`, headers: other });
    expect(r.body).toMatchObject({
      code: 'OK',
      history: [],
      matches: invoices.filter((i) => i.customerId === 900).length,
    });
    expect(r.body.matches).toBe(0);
  });
  it('bad paging answers a FAULT naming the field', async () => {
    const before = digest(app);
    for (const [q, field] of [
      ['resWindow=abc', 'resWindow'],
      ['resStart=-1', 'resStart'],
      ['resStart=abc', 'resStart'],
    ]) {
      const r = await call(app, { method: 'GET', url: `${REST}/billing/history?${q}`, headers: basic() });
      expect(r.body.code, q).toBe('FAULT');
      expect(Object.keys(r.body.error), q).toEqual([field]);
    }
    expect(digest(app)).toBe(before);
  });
});

describe('quotations', () => {
  it('with lines and totals, and matches, through every binding', async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/quotes', 'billing.quotes.get')) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Quotation Retrieved Successfully');
      expect(r.body.matches).toBe(4);
      const q1 = r.body.quotations.find((q: { id: number }) => q.id === 1);
      // 4 x VPS-8G at 80 + 2000 GB at 0.10 + 3 DNS zones at 5
      expect(q1.lines).toEqual([
        { productCode: 'VPS-8G', description: 'Cloud VPS 8GB', quantity: 4, unitPrice: 80, total: 320 },
        { productCode: 'BW-GB', description: 'Data Transfer', quantity: 2000, unitPrice: 0.1, total: 200 },
        { productCode: 'DNS-ZONE', description: 'DNS Hosting (per zone)', quantity: 3, unitPrice: 5, total: 15 },
      ]);
      expect(q1.total).toBe(535);
      expect(r.body.quotations.map((q: { id: number }) => q.id)).toEqual([4, 2, 1, 3]);
    }
  });
});

describe('service billing', () => {
  it("every service of the caller's tree with its billing, and matches, through every binding", async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/services', 'billing.services.get')) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Service Billing retrieved successfully');
      expect(r.body.matches).toBe(8);
      expect(r.body.servicebilling.map((s: { serviceId: number }) => s.serviceId)).toEqual(visibleToSandbox);
      const s4 = r.body.servicebilling.find((s: { serviceId: number }) => s.serviceId === 4);
      expect(s4).toMatchObject({
        customerId: 123,
        monthlyPrice: 20,
        discount: 3,
        monthlyTotal: 17,
        promocode: 'VPSDEAL',
        contractMonths: 12,
        currency: 'AUD',
      });
      const s7 = r.body.servicebilling.find((s: { serviceId: number }) => s.serviceId === 7);
      expect(s7).toMatchObject({ customerId: 5, currency: 'USD', monthlyPrice: 13.3 });
    }
  });
  it("filters by a visible customerid and refuses another tree's", async () => {
    const r = await call(app, { method: 'GET', url: `${REST}/billing/services?customerid=456`, headers: basic() });
    expect(r.body.servicebilling.map((s: { serviceId: number }) => s.serviceId)).toEqual([8]);
    const o = await call(app, { method: 'GET', url: `${REST}/billing/services?customerid=901`, headers: basic() });
    expect(o.body).toMatchObject({
      code: 'FAULT',
      message: 'Customer not found or permission denied',
      error: { customerid: 'Customer not found or permission denied' },
    });
    const t = await call(app, { method: 'GET', url: `${REST}/billing/services`, headers: other });
    expect(t.body.servicebilling.map((s: { serviceId: number }) => s.serviceId)).toEqual([9]);
  });
  it('percentage discounts round once, half-up, in cents', () => {
    expect(percentOf(2000, 1500)).toBe(300);
    expect(percentOf(1999, 1500)).toBe(300); // 299.85 -> 300
    expect(percentOf(1990, 1500)).toBe(299); // 298.5 -> 299
    expect(percentOf(1, 1000)).toBe(0); // 0.1 -> 0
    expect(percentOf(5, 1000)).toBe(1); // 0.5 -> 1
  });
});

describe('promo listings (read-only)', () => {
  it('promo types, through every binding', async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/promo/types', 'billing.promo.types')) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Promo Types Retrieved Successfully');
      expect(r.body.promotypes.map((t: { type: string }) => t.type)).toEqual(['PERCENTAGE', 'FIXED']);
    }
  });
  it('service (campaign) promo codes, each with its id', async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/service/promo', 'billing.service.promo')) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Campaign Promo Codes Retrieved Successfully');
      expect(
        r.body.servicepromos.map((p: { id: number; code: string; serviceCategory: string }) => [
          p.id,
          p.code,
          p.serviceCategory,
        ]),
      ).toEqual([
        [5, 'VPSDEAL', 'vps'],
        [6, 'COLO10', 'colocation'],
      ]);
    }
    const o = await call(app, { method: 'GET', url: `${REST}/billing/service/promo`, headers: other });
    expect(o.body.servicepromos).toEqual([]);
  });
  it('promo codes offered to the caller, each with id and status', async () => {
    for (const r of await everyBinding(app, 'GET', '/billing/promocode', 'billing.promo.getall')) {
      expect(r.body.code, r.name).toBe('OK');
      expect(r.body.message).toBe('Promo Codes Retrieved Successfully');
      expect(
        r.body.promocodes.map((p: { id: number; code: string; status: string }) => [p.id, p.code, p.status]),
      ).toEqual([
        [1, 'PROMO123', 'ACTIVE'],
        [2, 'SUMMER2023', 'EXPIRED'],
        [3, 'LAUNCH50', 'USED_UP'],
        [4, 'WELCOMEUSD', 'ACTIVE'],
        [5, 'VPSDEAL', 'ACTIVE'],
        [6, 'COLO10', 'EXPIRED'],
      ]);
      expect(r.body.promocodes[0]).toEqual({
        id: 1,
        code: 'PROMO123',
        description: 'Ten percent off',
        type: 'PERCENTAGE',
        discount: 10,
        currencycode: 'AUD',
        expires: '2099-12-31',
        maxUses: 0,
        timesUsed: 3,
        status: 'ACTIVE',
        serviceCategory: null,
        campaign: null,
      });
    }
    const o = await call(app, { method: 'GET', url: `${REST}/billing/promocode`, headers: other });
    expect(o.body.promocodes.map((p: { code: string }) => p.code)).toEqual(['TENANT900']);
  });
});
