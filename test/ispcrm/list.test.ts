import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { SANDBOX, call, creds, fail, fx, ids, ok, servicesOf, visible, ISP1, R1, type FxCustomer } from './helpers.js';

const mine = visible(R1);
const list = (app: FastifyInstance, fields: Record<string, string>) =>
  ok(app, 'list', { ...SANDBOX, rows_limit: '100', ...fields });

describe('ISP CRM list: filters', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const expectIds = async (fields: Record<string, string>, pred: (c: FxCustomer) => boolean) => {
    const want = ids(mine.filter(pred));
    expect(ids(await list(app, fields))).toEqual(want.slice(0, 100));
    expect(await ok(app, 'list', { ...SANDBOX, ...fields, show_count: '1' })).toBe(want.length);
    return want;
  };

  it('has enough fixture data for the filters to mean something', () => {
    expect(mine.length).toBeGreaterThanOrEqual(60);
    expect(fx.services.some((s) => s.username.startsWith('xyzA'))).toBe(true);
    expect(fx.services.some((s) => s.username.startsWith('xyz_'))).toBe(true);
  });

  it('a name holding a NUL character answers the envelope, not a 500 (regression: FTS5 query cut at the NUL)', async () => {
    for (const name of ['ab\u0000cd', '%\u0000\u0000\u0000%', `${mine[0].name}\u0000`]) {
      const res = await app.inject({ method: 'POST', url: '/api/customer/list', payload: { ...SANDBOX, name } });
      expect(res.statusCode).toBe(200);
      expect(res.json().error).toBeNull();
      expect(Array.isArray(res.json().result)).toBe(true);
    }
  });

  it('customerid is exact', async () => {
    expect(await expectIds({ customerid: '1150' }, (c) => c.id === 1150)).toEqual([1150]);
    expect(await list(app, { customerid: '999999' })).toEqual([]);
  });

  it('serviceid finds the customer owning that service', async () => {
    const s = fx.services.find((x) => x.customerid === 1160)!;
    expect(await expectIds({ serviceid: String(s.id) }, (c) => c.id === 1160)).toEqual([1160]);
  });

  it("username without % is an exact match on any of the customer's services", async () => {
    const second = fx.services.find((s) => s.username.startsWith('abc_') && mine.some((c) => c.id === s.customerid))!;
    expect(await expectIds({ username: second.username }, (c) => c.id === second.customerid)).toHaveLength(1);
    expect(await list(app, { username: 'xyz_' })).toEqual([]);
  });

  it('username xyz_% means "begins with xyz_": the underscore is literal, so xyzA... does not match', async () => {
    const got = await expectIds({ username: 'xyz_%' }, (c) =>
      servicesOf(c.id).some((s) => s.username.startsWith('xyz_')),
    );
    expect(got.length).toBeGreaterThan(10);
    const excluded = mine.filter(
      (c) => servicesOf(c.id).every((s) => s.username.startsWith('xyzA')) && servicesOf(c.id).length > 0,
    );
    expect(excluded.length).toBeGreaterThan(0);
    for (const c of excluded) expect(got).not.toContain(c.id);
  });

  it('username xyzA% and xyz% and %A11%', async () => {
    await expectIds({ username: 'xyzA%' }, (c) => servicesOf(c.id).some((s) => s.username.startsWith('xyzA')));
    await expectIds({ username: 'xyz%' }, (c) => servicesOf(c.id).some((s) => s.username.startsWith('xyz')));
    await expectIds({ username: '%A11%' }, (c) =>
      servicesOf(c.id).some((s) => s.username.toLowerCase().includes('a11')),
    );
  });

  it('a username pattern can contain % more than once and _ anywhere, literal', async () => {
    await expectIds({ username: '%_11%' }, (c) => servicesOf(c.id).some((s) => s.username.includes('_11')));
    // `_` would match any character in plain LIKE: here it matches nothing since no username holds `z_1_`.
    expect(await list(app, { username: 'xyz_1_%' })).toEqual([]);
  });

  it('name: exact without %, literal underscore, % as wildcard, case-insensitive', async () => {
    expect(await expectIds({ name: 'R_K Traders' }, (c) => c.name === 'R_K Traders')).toEqual([1150]);
    expect(await expectIds({ name: 'r_k traders' }, (c) => c.name === 'R_K Traders')).toEqual([1150]);
    expect(await expectIds({ name: 'R%K Traders' }, (c) => /^R.*K Traders$/.test(c.name))).toEqual([1150, 1151]);
    expect(await list(app, { name: 'R_K' })).toEqual([]);
    await expectIds({ name: 'Priya' }, (c) => c.name === 'Priya');
    await expectIds({ name: '%a' }, (c) => c.name.toLowerCase().endsWith('a'));
    await expectIds({ name: '%Traders%' }, (c) => c.name.includes('Traders'));
  });

  it('type is Individual or Organisation', async () => {
    const org = await expectIds({ type: 'Organisation' }, (c) => c.type === 'Organisation');
    const ind = await expectIds({ type: 'Individual' }, (c) => c.type === 'Individual');
    expect(org.length + ind.length).toBe(mine.length);
  });

  it('mobile, email, zipcode, state and city are exact', async () => {
    const c = mine[17];
    await expectIds({ mobile: c.mobile }, (x) => x.mobile === c.mobile);
    expect(await list(app, { mobile: c.mobile.slice(0, 5) })).toEqual([]);
    await expectIds({ email: c.email }, (x) => x.email === c.email);
    expect(await list(app, { email: c.email.slice(1) })).toEqual([]);
    await expectIds({ email: 'mixed.case1160@example.in' }, (x) => x.id === 1160);
    await expectIds({ zipcode: '403001' }, (x) => x.zipcode === '403001');
    await expectIds({ state: 'Maharashtra' }, (x) => x.state === 'Maharashtra');
    await expectIds({ state: 'Goa' }, (x) => x.state === 'Goa');
    await expectIds({ city: 'Vasco da Gama' }, (x) => x.city === 'Vasco da Gama');
    expect(await list(app, { city: 'Vasco' })).toEqual([]);
    expect(await list(app, { state: 'Go%' })).toEqual([]);
  });

  it('created_from and created_upto are inclusive days', async () => {
    const c = fx.customers.find((x) => x.id === 1150)!; // created 2023-05-31 09:15:00
    const day = c.created.slice(0, 10);
    expect(await expectIds({ created_from: day, created_upto: day }, (x) => x.created.startsWith(day))).toEqual([1150]);
    await expectIds({ created_from: day }, (x) => x.created.slice(0, 10) >= day);
    await expectIds({ created_upto: day }, (x) => x.created.slice(0, 10) <= day);
    await expectIds({ created_from: '2023-01-01', created_upto: '2023-12-31' }, (x) => x.created.startsWith('2023'));
    expect(await list(app, { created_from: '2024-01-01', created_upto: '2023-01-01' })).toEqual([]);
  });

  it('filters combine with AND', async () => {
    await expectIds(
      { state: 'Goa', type: 'Individual', username: 'xyz_%' },
      (c) =>
        c.state === 'Goa' && c.type === 'Individual' && servicesOf(c.id).some((s) => s.username.startsWith('xyz_')),
    );
  });

  it('an empty filter value is no filter', async () => {
    expect(ids(await list(app, { name: '', city: '' }))).toEqual(ids(mine.slice(0, 100)));
  });

  it("ispid and resellerid naming the user's own ISP and reseller are accepted", async () => {
    expect(ids(await list(app, { ispid: '1', resellerid: '1' }))).toEqual(ids(mine.slice(0, 100)));
  });
});

describe('ISP CRM list: paging, sorting, show_count', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('rows_limit defaults to 10 and rows_offset to 0', async () => {
    expect(ids(await ok(app, 'list', SANDBOX))).toEqual(ids(mine.slice(0, 10)));
  });

  it('rows_limit and rows_offset page through the results', async () => {
    expect(ids(await ok(app, 'list', { ...SANDBOX, rows_limit: '3', rows_offset: '5' }))).toEqual(
      ids(mine.slice(5, 8)),
    );
    expect(ids(await ok(app, 'list', { ...SANDBOX, rows_limit: '1' }))).toEqual([mine[0].id]);
    expect(ids(await ok(app, 'list', { ...SANDBOX, rows_limit: '100', rows_offset: '100' }))).toEqual(
      ids(mine.slice(100)),
    );
    expect(await ok(app, 'list', { ...SANDBOX, rows_offset: String(mine.length) })).toEqual([]);
    expect(await ok(app, 'list', { ...SANDBOX, rows_offset: '100000' })).toEqual([]);
  });

  it('a rows_limit above 100 is treated as 100', async () => {
    expect(mine.length).toBeGreaterThan(100);
    expect(await ok(app, 'list', { ...SANDBOX, rows_limit: '101' })).toHaveLength(100);
    expect(ids(await ok(app, 'list', { ...SANDBOX, rows_limit: '5000' }))).toEqual(ids(mine.slice(0, 100)));
  });

  const sorted = (key: 'id' | 'name' | 'mobile' | 'email', desc: boolean) => {
    const k = (c: FxCustomer) =>
      key === 'id' ? c.id : key === 'name' || key === 'email' ? c[key].toLowerCase() : c[key];
    return [...mine].sort((a, b) => {
      const x = k(a),
        y = k(b);
      const cmp = x < y ? -1 : x > y ? 1 : 0;
      return (desc ? -cmp : cmp) || (desc ? b.id - a.id : a.id - b.id);
    });
  };

  for (const field of ['id', 'name', 'mobile', 'email'] as const) {
    for (const order of ['asc', 'desc'] as const) {
      it(`sort_field=${field} sort_order=${order}`, async () => {
        const got = await ok(app, 'list', {
          ...SANDBOX,
          sort_field: field,
          sort_order: order,
          rows_limit: '100',
          rows_offset: '7',
        });
        expect(ids(got)).toEqual(ids(sorted(field, order === 'desc').slice(7, 107)));
      });
    }
  }

  it('sort_order defaults to asc, sort_field to id', async () => {
    expect(ids(await ok(app, 'list', { ...SANDBOX, sort_field: 'name' }))).toEqual(
      ids(sorted('name', false).slice(0, 10)),
    );
    expect(ids(await ok(app, 'list', { ...SANDBOX, sort_order: 'desc' }))).toEqual(
      ids(sorted('id', true).slice(0, 10)),
    );
  });

  it('sorting by name keeps ties in a stable order (by id)', async () => {
    const names = mine.map((c) => c.name.toLowerCase());
    expect(new Set(names).size).toBeLessThan(names.length);
    const a = ids(await ok(app, 'list', { ...SANDBOX, sort_field: 'name', rows_limit: '100' }));
    const b = ids(await ok(app, 'list', { ...SANDBOX, sort_field: 'name', rows_limit: '100' }));
    expect(a).toEqual(b);
  });

  it('show_count=1 answers the number of matching records and ignores rows_limit / rows_offset', async () => {
    const a = await call(app, 'list', { ...SANDBOX, show_count: '1' });
    expect(a.raw).toBe(`{"result":${mine.length},"error":null}`);
    expect(await ok(app, 'list', { ...SANDBOX, show_count: '1', rows_limit: '2', rows_offset: '50' })).toBe(
      mine.length,
    );
    expect(await ok(app, 'list', { ...SANDBOX, show_count: '1', rows_limit: 'lots', rows_offset: '-3' })).toBe(
      mine.length,
    );
    expect(await ok(app, 'list', { ...SANDBOX, show_count: '1', customerid: '999999' })).toBe(0);
    expect(await ok(app, 'list', { ...creds(ISP1), show_count: '1' })).toBe(visible(ISP1).length);
  });

  it('show_count=0 lists', async () => {
    expect(ids(await ok(app, 'list', { ...SANDBOX, show_count: '0' }))).toEqual(ids(mine.slice(0, 10)));
  });

  it.each([
    [{ rows_limit: '0' }, 'Invalid rows_limit. Expected a number of 1 or more'],
    [{ rows_limit: '-1' }, 'Invalid rows_limit. Expected a number of 1 or more'],
    [{ rows_limit: 'ten' }, 'Invalid rows_limit. Expected a number of 1 or more'],
    [{ rows_limit: '2.5' }, 'Invalid rows_limit. Expected a number of 1 or more'],
    [{ rows_offset: '-1' }, 'Invalid rows_offset. Expected a number of 0 or more'],
    [{ rows_offset: 'x' }, 'Invalid rows_offset. Expected a number of 0 or more'],
    [{ sort_field: 'created' }, 'Invalid sort_field. Allowed values are: id, name, mobile, email'],
    [{ sort_field: 'ID' }, 'Invalid sort_field. Allowed values are: id, name, mobile, email'],
    [
      { sort_field: 'name; DROP TABLE ispcrm_customers' },
      'Invalid sort_field. Allowed values are: id, name, mobile, email',
    ],
    [{ sort_order: 'up' }, 'Invalid sort_order. Allowed values are: asc, desc'],
    [{ sort_order: 'DESC' }, 'Invalid sort_order. Allowed values are: asc, desc'],
    [{ show_count: '2' }, 'Invalid show_count. Allowed values are: 0, 1'],
    [{ show_count: 'yes' }, 'Invalid show_count. Allowed values are: 0, 1'],
    [{ type: 'Company' }, 'Invalid type. Allowed values are: Individual, Organisation'],
    [{ type: 'individual' }, 'Invalid type. Allowed values are: Individual, Organisation'],
    [{ created_from: '2023-13-01' }, 'Invalid created_from. Date must be a valid date in yyyy-mm-dd format'],
    [{ created_from: '01-05-2023' }, 'Invalid created_from. Date must be a valid date in yyyy-mm-dd format'],
    [{ created_upto: '2023-02-29' }, 'Invalid created_upto. Date must be a valid date in yyyy-mm-dd format'],
    [{ created_upto: '2023-5-1' }, 'Invalid created_upto. Date must be a valid date in yyyy-mm-dd format'],
    [{ customerid: 'abc' }, 'Invalid customerid'],
    [{ serviceid: '12x' }, 'Invalid serviceid'],
    [{ ispid: 'one' }, 'Invalid ispid'],
    [{ resellerid: '-1' }, 'Invalid resellerid'],
  ])('%j answers an error naming the field', async (fields, message) => {
    expect(await fail(app, 'list', { ...SANDBOX, ...fields })).toBe(message);
  });

  it('JSON bodies work like form bodies, numbers included', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      headers: { 'content-type': 'application/json' },
      payload: {
        userid: 5,
        api_key: SANDBOX.api_key,
        rows_limit: 3,
        rows_offset: 2,
        sort_field: 'mobile',
        sort_order: 'desc',
      },
    });
    expect(res.statusCode).toBe(200);
    const want = [...mine].sort((a, b) => (a.mobile < b.mobile ? 1 : -1)).slice(2, 5);
    expect(ids(res.json().result)).toEqual(ids(want));
  });
});
