/**
 * ISP CRM (NeuCRM) contract details the generic tests do not cover: the document's shape (form and
 * JSON bodies from the same schemas, the 200 oneOf of success and error envelopes, credentials as
 * body fields), the examples' success/error split, and --strict / --lenient with journal warnings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { ispcrmContract } from '../../src/routes/ispcrm/contract.js';
import { CreateRequest, ListRequest } from '../../src/routes/ispcrm/schemas.js';

const SANDBOX = { userid: '5', api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4' };
const NEW = {
  type: 'Individual',
  name: 'Some Name',
  mobile: '12344444',
  email: 'abc@email.com',
  zipcode: '12345',
  state: 'Goa',
  city: 'Panaji',
  street: '3rd street',
};

async function post(app: FastifyInstance, op: string, fields: Record<string, string | string[]>, session: string) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  const res = await app.inject({
    method: 'POST',
    url: `/api/customer/${op}`,
    payload: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-emulator-session': session },
  });
  expect(res.statusCode, res.body).toBe(200);
  const journal = (
    await app.inject({ method: 'GET', url: '/_emulator/requests?limit=1', headers: { 'x-emulator-session': session } })
  ).json();
  return {
    ...(res.json() as { result: any; error: string | null }),
    warnings: journal.requests[0].warnings as string[] | undefined,
  };
}

describe('ISP CRM OpenAPI document', () => {
  let app: FastifyInstance;
  let doc: any;
  beforeAll(async () => {
    app = await makeApp();
    doc = (await app.inject({ method: 'GET', url: '/_emulator/openapi/ispcrm.json' })).json();
  });
  afterAll(async () => {
    await app.close();
  });

  it('documents the four POST calls with form and JSON bodies from the validation schemas', () => {
    for (const [op, name] of [
      ['list', 'List'],
      ['create', 'Create'],
      ['update', 'Update'],
      ['delete', 'Delete'],
    ]) {
      const item = doc.paths[`/api/customer/${op}`];
      expect(Object.keys(item).filter((k) => k !== 'description')).toEqual(['post']);
      const content = item.post.requestBody.content;
      expect(content['application/x-www-form-urlencoded'].schema).toEqual({
        $ref: `#/components/schemas/Ispcrm${name}Request`,
      });
      expect(content['multipart/form-data'].schema).toEqual({ $ref: `#/components/schemas/Ispcrm${name}Request` });
      expect(content['application/json'].schema).toEqual({ $ref: `#/components/schemas/Ispcrm${name}RequestJson` });
      expect(item.post['x-operation']).toBe(`customer.${op}`);
      expect(Object.keys(item.post.responses).sort()).toEqual(['200', '400', '405', '413', '415', '500']);
      expect(item.post.responses['200'].content['application/json'].schema.oneOf).toEqual([
        { $ref: `#/components/schemas/Ispcrm${name}Result` },
        { $ref: '#/components/schemas/IspcrmError' },
      ]);
      expect(item.post.responses['405'].headers.Allow.schema.const).toBe('POST');
      // Credentials are body fields, not an OpenAPI security scheme.
      expect(item.post.security).toEqual([]);
      expect(item.post['x-ispcrm-credentials'].fields).toEqual(['userid', 'api_key']);
      expect(doc.components.schemas[`Ispcrm${name}Request`].required).toEqual(
        expect.arrayContaining(['userid', 'api_key']),
      );
    }
    expect(doc.components.securitySchemes).toEqual({});
    // The document is the schema the checks use: same required list, same limits, same messages.
    expect(doc.components.schemas.IspcrmCreateRequest.required).toEqual(CreateRequest.required);
    expect(doc.components.schemas.IspcrmCreateRequest.required).toEqual([
      'userid',
      'api_key',
      'type',
      'name',
      'mobile',
      'email',
      'zipcode',
      'state',
      'city',
      'street',
    ]);
    expect(doc.components.schemas.IspcrmCreateRequest.properties.name.maxLength).toBe(100);
    expect(doc.components.schemas.IspcrmListRequest.properties.rows_limit).toMatchObject({
      type: 'integer',
      minimum: 1,
      default: 10,
    });
    expect(doc.components.schemas.IspcrmListRequest.properties.sort_order.enum).toEqual(
      ListRequest.properties.sort_order.enum,
    );
    expect(doc.components.schemas.IspcrmListRequestJson.properties.customerid.type).toEqual(['integer', 'string']);
    // Not an operation (no 2xx answer): documented with the other requests that reach none.
    expect(doc.paths['/api/customer/{method}']).toBeUndefined();
    expect(doc['x-unmatched-requests'].ispcrm.notFound.responses['404']).toBeDefined();
  });

  it('the checker tells a success from an error envelope and catches drift', () => {
    const check = (op: string, body: unknown, status = 200) =>
      app.contracts.check('ispcrm', op, status, 'application/json; charset=utf-8', JSON.stringify(body));
    expect(check('customer.create', { result: 1243, error: null }).ok).toBe(true);
    expect(check('customer.create', { result: null, error: 'name is required' }).ok).toBe(true);
    expect(check('customer.create', { result: 'done', error: null }).ok).toBe(false);
    expect(check('customer.update', { result: 'done', error: null }).ok).toBe(true);
    expect(check('customer.update', { result: 1, error: null }).ok).toBe(false);
    expect(check('customer.list', { result: 7, error: null }).ok).toBe(true);
    expect(check('customer.list', { result: [{ id: 1 }], error: null }).ok).toBe(false);
    expect(check('customer.list', { result: null, error: null }).ok).toBe(false);
    expect(check('customer.delete', { result: null, error: 'x' }, 404).ok).toBe(false);
    expect(check('notFound', { result: null, error: 'Unknown API method /api/customer/x' }, 404).ok).toBe(true);
  });

  it('success examples answer result, error examples answer error (HTTP 200 both)', async () => {
    let n = 0;
    for (const ex of ispcrmContract.examples()) {
      const res = await app.inject({
        method: ex.method,
        url: ex.url,
        headers: { 'x-emulator-session': `ex-${++n}`, ...(ex.headers ?? {}) },
        payload: typeof ex.body === 'string' || ex.body === undefined ? ex.body : JSON.stringify(ex.body),
      });
      const body = res.json();
      const isError = /: /.test(ex.name) || ex.status !== 200;
      expect(body.error === null, `${ex.name}: ${res.body}`).toBe(!isError);
      expect(body.result === null, `${ex.name}: ${res.body}`).toBe(isError);
    }
  });
});

describe('ISP CRM --strict (default)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses an enum in another case, a list for one value, an unreadable rows_limit, a yyyy/m/d date; records no warnings', async () => {
    const cases: [string, Record<string, string | string[]>, string][] = [
      [
        'create',
        { ...SANDBOX, ...NEW, type: 'individual' },
        'Invalid type. Allowed values are: Individual, Organisation',
      ],
      ['list', { ...SANDBOX, sort_order: 'DESC' }, 'Invalid sort_order. Allowed values are: asc, desc'],
      ['list', { ...SANDBOX, rows_limit: 'ten' }, 'Invalid rows_limit. Expected a number of 1 or more'],
      [
        'list',
        { ...SANDBOX, created_from: '2024/1/5' },
        'Invalid created_from. Date must be a valid date in yyyy-mm-dd format',
      ],
      ['update', { ...SANDBOX, customerid: '1093', 'street[]': ['1st street', '2nd street'] }, 'Invalid street'],
    ];
    let n = 0;
    for (const [op, fields, error] of cases) {
      const a = await post(app, op, fields, `strict-${++n}`);
      expect(a).toEqual({ result: null, error, warnings: undefined });
    }
  });

  it('ignores unknown fields and caps rows_limit, as NeuCRM does, with a journal warning for each', async () => {
    const a = await post(app, 'list', { ...SANDBOX, rows_limit: '500', customer_id: '7' }, 'strict-unknown');
    expect(a.error).toBeNull();
    expect(a.result).toHaveLength(100);
    expect(a.warnings).toEqual([
      'unknown field "customer_id" ignored (NeuCRM ignores unknown fields in both modes)',
      "rows_limit 500 counts as 100 (NeuCRM's maximum)",
    ]);
  });

  it('takes the last value of a field sent twice, as PHP does, with a journal warning', async () => {
    const a = await post(
      app,
      'update',
      { ...SANDBOX, customerid: '1093', street: ['1st street', '2nd street'] },
      'strict-repeated',
    );
    expect(a).toEqual({
      result: 'done',
      error: null,
      warnings: ['street was sent 2 times; the last value "2nd street" is used (as PHP does)'],
    });
    expect((await post(app, 'list', { ...SANDBOX, customerid: '1093' }, 'strict-repeated')).result[0].street).toBe(
      '2nd street',
    );
  });

  it('still refuses a wrong type on update in strict mode, changing nothing', async () => {
    const a = await post(
      app,
      'update',
      { ...SANDBOX, customerid: '1093', type: 'organisation', street: 'New' },
      'strict-nochange',
    );
    expect(a.error).toBe('Invalid type. Allowed values are: Individual, Organisation');
    const after = await post(app, 'list', { ...SANDBOX, customerid: '1093' }, 'strict-nochange');
    expect(after.result[0].street).not.toBe('New');
  });
});

describe('ISP CRM --lenient', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ strict: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('reads `individual` as Individual and records the warning on the journal entry', async () => {
    const a = await post(app, 'create', { ...SANDBOX, ...NEW, type: 'individual' }, 'lenient-type');
    expect(a.error).toBeNull();
    expect(a.result).toBe(1243);
    expect(a.warnings).toEqual([
      'type "individual" read as "Individual" (NeuCRM accepts only Individual, Organisation)',
    ]);
    const listed = await post(app, 'list', { ...SANDBOX, customerid: '1243' }, 'lenient-type');
    expect(listed.result[0].type).toBe('Individual');
  });

  it('sort_order DESC sorts descending; an unreadable rows_limit uses the default; a cap is reported', async () => {
    const desc = await post(app, 'list', { ...SANDBOX, sort_order: 'DESC', rows_limit: 'ten' }, 'lenient-list');
    expect(desc.error).toBeNull();
    expect(desc.result).toHaveLength(10);
    expect(desc.result[0].id).toBeGreaterThan(desc.result[9].id);
    expect(desc.warnings).toEqual([
      'rows_limit "ten" ignored, the default 10 is used (NeuCRM answers "Invalid rows_limit. Expected a number of 1 or more")',
      'sort_order "DESC" read as "desc" (NeuCRM accepts only asc, desc)',
    ]);
    const capped = await post(app, 'list', { ...SANDBOX, rows_limit: '500' }, 'lenient-list');
    expect(capped.result).toHaveLength(100);
    expect(capped.warnings).toEqual(["rows_limit 500 counts as 100 (NeuCRM's maximum)"]);
  });

  it('a list for one value takes the last value, a yyyy/m/d date is normalised, unknown fields are named', async () => {
    const a = await post(
      app,
      'update',
      { ...SANDBOX, customerid: '1093', 'street[]': ['1st street', '2nd street'], dob: '1990/1/5', customer_name: 'x' },
      'lenient-update',
    );
    expect(a).toMatchObject({ result: 'done', error: null });
    expect(a.warnings).toEqual([
      'unknown field "customer_name" ignored (NeuCRM ignores unknown fields in both modes)',
      'dob "1990/1/5" read as "1990-01-05" (NeuCRM accepts only yyyy-mm-dd)',
      'street is a list of 2 values; the last one "2nd street" is used',
    ]);
    const c = (await post(app, 'list', { ...SANDBOX, customerid: '1093' }, 'lenient-update')).result[0];
    expect(c).toMatchObject({ street: '2nd street', dob: '1990-01-05' });
  });

  it('still refuses what cannot be read: a missing field, a wrong value without a default, a too-long text, another tenant', async () => {
    expect((await post(app, 'create', { ...SANDBOX, ...NEW, name: '' }, 'lenient-refuse')).error).toBe(
      'name is required',
    );
    expect((await post(app, 'create', { ...SANDBOX, ...NEW, type: 'Company' }, 'lenient-refuse')).error).toBe(
      'Invalid type. Allowed values are: Individual, Organisation',
    );
    expect((await post(app, 'create', { ...SANDBOX, ...NEW, name: 'x'.repeat(101) }, 'lenient-refuse')).error).toBe(
      'name is too long. Maximum 100 characters allowed',
    );
    expect((await post(app, 'delete', { ...SANDBOX, customerid: '1223' }, 'lenient-refuse')).error).toBe(
      'Invalid customerid. Customer not found',
    );
    const count = await post(app, 'list', { ...SANDBOX, show_count: '1' }, 'lenient-refuse');
    expect(count.result).toBe(110);
  });
});
