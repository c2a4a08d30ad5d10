import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { fixtureCustomers, OTHER, putJson, req } from './helpers.js';
import { FOLDS_TO_ASCII } from '../../src/store/mgmt.js';

const CUSTOMER_1_JSON = {
  id: 1,
  code: 'CUST-00001',
  accountId: 2001,
  title: 'Mr',
  firstName: 'James',
  middleName: 'Lee',
  lastName: 'Smith',
  suffix: 'Jr',
  birthDate: '19600101',
  gender: 'M',
  email: 'james.smith1@example.com',
  phone: '12125551000',
  street: '10 Main St',
  city: 'New York',
  state: 'NY',
  zipCode: '10001',
  countryCode: 'US',
};

const CUSTOMER_1_XML = `<?xml version="1.0" encoding="UTF-8"?>
<customer id="1" code="CUST-00001" accountId="2001">
  <title>Mr</title>
  <firstName>James</firstName>
  <middleName>Lee</middleName>
  <lastName>Smith</lastName>
  <suffix>Jr</suffix>
  <birthDate>19600101</birthDate>
  <gender>M</gender>
  <email>james.smith1@example.com</email>
  <phone>12125551000</phone>
  <street>10 Main St</street>
  <city>New York</city>
  <state>NY</state>
  <zipCode>10001</zipCode>
  <countryCode>US</countryCode>
</customer>
`;

const SANDBOX_ACCOUNTS = [2001, 2002];
const visible = fixtureCustomers.filter((c) => SANDBOX_ACCOUNTS.includes(c.account_id));

describe('UniPay load', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers a customer in JSON by default, absent fields left out', async () => {
    const res = await req(app, { method: 'GET', url: '/api/v01/customers/1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual(CUSTOMER_1_JSON);
    expect(Object.keys(res.json())).toEqual(Object.keys(CUSTOMER_1_JSON));
  });

  it('answers JSON for Accept */* and application/json', async () => {
    for (const accept of ['*/*', 'application/json', 'application/*']) {
      const res = await req(app, { method: 'GET', url: '/api/v01/customers/1', headers: { accept } });
      expect(res.json(), accept).toEqual(CUSTOMER_1_JSON);
    }
  });

  it('answers the documented XML form: id, code, accountId as attributes', async () => {
    for (const accept of ['application/xml', 'text/xml', 'application/json;q=0.5, application/xml']) {
      const res = await req(app, { method: 'GET', url: '/api/v01/customers/1', headers: { accept } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
      expect(res.body).toBe(CUSTOMER_1_XML);
    }
  });

  it('escapes XML text and shows organisations', async () => {
    const res = await req(app, { method: 'GET', url: '/api/v01/customers/4', headers: { accept: 'application/xml' } });
    expect(res.body).toContain('<customer id="4" code="CUST-00004" accountId="2001">');
    expect(res.body).toContain('<organizationName>Vandelay Labs GmbH</organizationName>');
    expect(res.body).toContain('<firstName>Zoë</firstName>');
  });

  it('answers 404 for an unknown, non-numeric or huge id, in the UniPay error body', async () => {
    for (const id of ['999999', 'abc', '1'.repeat(40)]) {
      const res = await req(app, { method: 'GET', url: `/api/v01/customers/${id}` });
      expect(res.statusCode, id).toBe(404);
      expect(res.json()).toEqual({
        response: { code: 'E404', status: 404, message: `Customer ${id} not found`, field: 'id' },
      });
    }
    const xml = await req(app, {
      method: 'GET',
      url: '/api/v01/customers/999999',
      headers: { accept: 'application/xml' },
    });
    expect(xml.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<response code="E404" status="404" field="id">
  <message>Customer 999999 not found</message>
</response>
`);
  });

  it("answers another merchant's customer as not found, both ways", async () => {
    const theirs = fixtureCustomers.find((c) => c.account_id === 3001)!;
    const mine = fixtureCustomers.find((c) => c.account_id === 2001)!;
    const a = await req(app, { method: 'GET', url: `/api/v01/customers/${theirs.id}` });
    expect(a.statusCode).toBe(404);
    expect(a.json().response.message).toBe(`Customer ${theirs.id} not found`);
    const b = await req(app, { method: 'GET', url: `/api/v01/customers/${mine.id}`, auth: OTHER });
    expect(b.statusCode).toBe(404);
    const c = await req(app, { method: 'GET', url: `/api/v01/customers/${theirs.id}`, auth: OTHER });
    expect(c.statusCode).toBe(200);
    expect(c.json().accountId).toBe(3001);
  });
});

describe('UniPay find: paging', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const ids = (body: { id: number }[]) => body.map((c) => c.id);

  it('defaults to offset 0 and limit 100, ordered by id, with the total in headers', async () => {
    expect(visible.length).toBeGreaterThan(100);
    const res = await req(app, { method: 'GET', url: '/api/v01/customers' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe(String(visible.length));
    expect(res.headers['x-offset']).toBe('0');
    expect(res.headers['x-limit']).toBe('100');
    const body = res.json();
    expect(Array.isArray(body)).toBe(true);
    expect(ids(body)).toEqual(visible.slice(0, 100).map((c) => c.id));
  });

  it('walks every page without gaps or overlaps', async () => {
    const seen: number[] = [];
    for (let offset = 0; offset < visible.length + 100; offset += 100) {
      const res = await req(app, { method: 'GET', url: `/api/v01/customers?offset=${offset}&limit=100` });
      expect(res.statusCode).toBe(200);
      seen.push(...ids(res.json()));
    }
    expect(seen).toEqual(visible.map((c) => c.id));
  });

  it('answers the last partial page, an empty page past the end, and limit 1000', async () => {
    const last = await req(app, { method: 'GET', url: `/api/v01/customers?offset=${visible.length - 1}&limit=100` });
    expect(ids(last.json())).toEqual([visible[visible.length - 1].id]);
    const past = await req(app, { method: 'GET', url: `/api/v01/customers?offset=${visible.length}` });
    expect(past.statusCode).toBe(200);
    expect(past.json()).toEqual([]);
    expect(past.headers['x-total-count']).toBe(String(visible.length));
    const all = await req(app, { method: 'GET', url: '/api/v01/customers?limit=1000' });
    expect(all.json()).toHaveLength(visible.length);
    const one = await req(app, { method: 'GET', url: '/api/v01/customers?limit=1&offset=1' });
    expect(ids(one.json())).toEqual([visible[1].id]);
  });

  it('refuses bad offset and limit with 400 naming the parameter', async () => {
    const cases: [string, string, string][] = [
      ['limit=0', 'limit', 'limit must be an integer between 1 and 1000'],
      ['limit=1001', 'limit', 'limit must be an integer between 1 and 1000'],
      ['limit=-1', 'limit', 'limit must be an integer between 1 and 1000'],
      ['limit=1.5', 'limit', 'limit must be an integer between 1 and 1000'],
      ['limit=ten', 'limit', 'limit must be an integer between 1 and 1000'],
      ['offset=-1', 'offset', 'offset must be a non-negative integer'],
      ['offset=abc', 'offset', 'offset must be a non-negative integer'],
      ['offset=99999999999', 'offset', 'offset must be <= 2147483647'],
      ['accountId=x', 'accountId', 'accountId must be a non-negative integer'],
    ];
    for (const [qs, field, message] of cases) {
      const res = await req(app, { method: 'GET', url: `/api/v01/customers?${qs}` });
      expect(res.statusCode, qs).toBe(400);
      expect(res.json(), qs).toEqual({ response: { code: 'E400', status: 400, message, field } });
    }
  });

  it('answers the documented XML list form', async () => {
    const res = await req(app, {
      method: 'GET',
      url: '/api/v01/customers?limit=2&offset=2&countryCode=US',
      headers: { accept: 'application/xml' },
    });
    const us = visible.filter((c) => c.country_code === 'US');
    expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(
      res.body.startsWith(`<?xml version="1.0" encoding="UTF-8"?>
<customers offset="2" limit="2" total="${us.length}">
  <customer id="${us[2].id}" code="${us[2].code}" accountId="${us[2].account_id}">
`),
    ).toBe(true);
    expect(res.body.match(/<customer /g)).toHaveLength(2);
    expect(res.body.endsWith('  </customer>\n</customers>\n')).toBe(true);
  });

  it('answers an empty XML list as one element', async () => {
    const res = await req(app, {
      method: 'GET',
      url: '/api/v01/customers?lastName=nobody-has-this',
      headers: { accept: 'text/xml' },
    });
    expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<customers offset="0" limit="100" total="0"/>\n');
  });

  it('answers the list of one customer in XML exactly', async () => {
    const res = await req(app, {
      method: 'GET',
      url: '/api/v01/customers?email=james.smith1@example.com',
      headers: { accept: 'application/xml' },
    });
    expect(res.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<customers offset="0" limit="100" total="1">
  <customer id="1" code="CUST-00001" accountId="2001">
    <title>Mr</title>
    <firstName>James</firstName>
    <middleName>Lee</middleName>
    <lastName>Smith</lastName>
    <suffix>Jr</suffix>
    <birthDate>19600101</birthDate>
    <gender>M</gender>
    <email>james.smith1@example.com</email>
    <phone>12125551000</phone>
    <street>10 Main St</street>
    <city>New York</city>
    <state>NY</state>
    <zipCode>10001</zipCode>
    <countryCode>US</countryCode>
  </customer>
</customers>
`);
  });
});

describe('UniPay find: filters', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  async function findIds(qs: string, auth?: string): Promise<number[]> {
    const res = await req(app, { method: 'GET', url: `/api/v01/customers?limit=1000&${qs}`, auth });
    expect(res.statusCode, qs).toBe(200);
    return res.json().map((c: { id: number }) => c.id);
  }
  const idsWhere = (pred: (c: (typeof fixtureCustomers)[number]) => boolean) => visible.filter(pred).map((c) => c.id);

  it('filters by accountId, and a merchant outside reach yields nothing', async () => {
    expect(await findIds('accountId=2002')).toEqual(idsWhere((c) => c.account_id === 2002));
    expect(await findIds('accountId=2001')).toEqual(idsWhere((c) => c.account_id === 2001));
    expect(await findIds('accountId=3001')).toEqual([]);
    expect(await findIds('accountId=9999')).toEqual([]);
    const theirs = await findIds('accountId=3001', OTHER);
    expect(theirs).toEqual(fixtureCustomers.filter((c) => c.account_id === 3001).map((c) => c.id));
    expect(theirs).toHaveLength(30);
    expect(await findIds('', OTHER)).toEqual(theirs);
  });

  it('matches firstName, lastName, organizationName, street and city as case-insensitive substrings', async () => {
    const contains = (v: string | null, needle: string) => v !== null && v.toLowerCase().includes(needle.toLowerCase());
    const cases: [string, keyof (typeof fixtureCustomers)[number], string][] = [
      ['firstName', 'first_name', 'JAM'],
      ['firstName', 'first_name', 'zoë'],
      ['lastName', 'last_name', 'son'],
      ['lastName', 'last_name', "o'brien"],
      ['organizationName', 'organization_name', 'coffee'],
      ['street', 'street', 'oak av'],
      ['city', 'city', 'york'],
      ['city', 'city', 'MÜNCHEN'],
    ];
    for (const [param, col, value] of cases) {
      const expected = idsWhere((c) => contains(c[col] as string | null, value));
      expect(expected.length, `${param}=${value}`).toBeGreaterThan(0);
      expect(await findIds(`${param}=${encodeURIComponent(value)}`), `${param}=${value}`).toEqual(expected);
    }
  });

  it('matches email, phone, state, zipCode and countryCode exactly (case-insensitive)', async () => {
    const one = visible[5];
    expect(await findIds(`email=${encodeURIComponent(one.email!.toUpperCase())}`)).toEqual([one.id]);
    expect(await findIds(`email=${encodeURIComponent(one.email!.slice(0, 5))}`)).toEqual([]);
    expect(await findIds(`phone=${one.phone}`)).toEqual(idsWhere((c) => c.phone === one.phone));
    expect(await findIds(`phone=${one.phone!.slice(0, 4)}`)).toEqual([]);
    expect(await findIds('state=ny')).toEqual(idsWhere((c) => c.state === 'NY'));
    expect(await findIds('state=N')).toEqual([]);
    expect(await findIds(`zipCode=${encodeURIComponent('SW1A 1AA')}`)).toEqual(
      idsWhere((c) => c.zip_code === 'SW1A 1AA'),
    );
    expect(await findIds('countryCode=gb')).toEqual(idsWhere((c) => c.country_code === 'GB'));
    expect(await findIds('countryCode=DE')).toEqual(idsWhere((c) => c.country_code === 'DE'));
  });

  it('combines filters with AND, and paging applies to the filtered set', async () => {
    const expected = idsWhere((c) => c.country_code === 'US' && c.account_id === 2001 && c.city === 'Seattle');
    expect(expected.length).toBeGreaterThan(1);
    expect(await findIds('countryCode=US&accountId=2001&city=seattle')).toEqual(expected);
    const page = await req(app, {
      method: 'GET',
      url: '/api/v01/customers?countryCode=US&accountId=2001&city=seattle&limit=1&offset=1',
    });
    expect(page.json().map((c: { id: number }) => c.id)).toEqual([expected[1]]);
    expect(page.headers['x-total-count']).toBe(String(expected.length));
  });

  it('treats LIKE metacharacters in filters literally', async () => {
    expect(await findIds('organizationName=100%25')).toEqual([12]);
    expect(await findIds('organizationName=_')).toEqual([16]);
    expect(await findIds('organizationName=r_s')).toEqual([16]);
    expect(await findIds('firstName=%25')).toEqual([]);
    expect(await findIds('lastName=_')).toEqual([]);
    expect(await findIds('city=%5C')).toEqual([]);
  });

  it('ignores empty filter values', async () => {
    expect(await findIds('firstName=&city=')).toEqual(visible.map((c) => c.id));
  });

  it('refuses filter values longer than the documented lengths', async () => {
    const cases: [string, number][] = [
      ['firstName', 125],
      ['lastName', 125],
      ['organizationName', 255],
      ['email', 100],
      ['phone', 15],
      ['street', 128],
      ['city', 50],
      ['state', 3],
      ['zipCode', 10],
      ['countryCode', 2],
    ];
    for (const [field, max] of cases) {
      const ok = await req(app, { method: 'GET', url: `/api/v01/customers?${field}=${'a'.repeat(max)}` });
      expect(ok.statusCode, field).toBe(200);
      const res = await req(app, { method: 'GET', url: `/api/v01/customers?${field}=${'a'.repeat(max + 1)}` });
      expect(res.statusCode, field).toBe(400);
      expect(res.json(), field).toEqual({
        response: { code: 'E400', status: 400, message: `${field} must be at most ${max} characters`, field },
      });
    }
  });

  it('folds case as String.prototype.toLowerCase does, beyond ASCII too (special characters included)', async () => {
    // The store runs its JavaScript fold only for values holding FOLDS_TO_ASCII: that list must be
    // every code point beyond ASCII whose lower case is or holds ASCII, in this engine's Unicode data.
    const folds: string[] = [];
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      if (/[\x00-\x7f]/.test(String.fromCodePoint(cp).toLowerCase())) folds.push(String.fromCodePoint(cp));
    }
    expect(folds).toEqual([...FOLDS_TO_ASCII]);
    const made: number[] = [];
    for (const [lastName, city, email] of [
      ['\u212aelvinsson', 'İzmir', 'K@EXAMPLE.COM'],
      ['MÜLLERSTRASSE', 'KÖLN', 'x@example.com'],
      ['plain', 'Ankara', 'k@example.com'],
    ]) {
      const res = await putJson(app, { accountId: 2001, lastName, city, email });
      expect(res.statusCode).toBe(200);
      made.push(res.json().id);
    }
    const [kelvin, muller, plain] = made;
    expect(await findIds('lastName=kelvin')).toEqual([kelvin]);
    expect(await findIds('lastName=KELV')).toEqual([kelvin]);
    expect(await findIds(`lastName=${encodeURIComponent('\u212aELV')}`)).toEqual([kelvin]);
    expect(await findIds('city=i')).toEqual(
      idsWhere((c) => (c.city ?? '').toLowerCase().includes('i')).concat([kelvin]),
    );
    expect(await findIds('city=izmir')).toEqual([]);
    expect(await findIds(`city=${encodeURIComponent('i\u0307zm')}`)).toEqual([kelvin]);
    expect(await findIds(`lastName=${encodeURIComponent('müllers')}`)).toEqual([muller]);
    expect(await findIds('lastName=llerstr')).toEqual([muller]);
    expect(await findIds('city=k%C3%B6ln')).toEqual(
      idsWhere((c) => (c.city ?? '').toLowerCase().includes('köln')).concat([muller]),
    );
    expect(await findIds('email=k@example.com')).toEqual([kelvin, plain]);
    expect(await findIds(`email=${encodeURIComponent('\u212a@example.com')}`)).toEqual([kelvin, plain]);
  });
});
