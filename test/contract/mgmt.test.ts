/**
 * UniPay Management API contract: document details the generic test does not look at, the response
 * schemas against every fixture customer, drift detection, and --strict / --lenient with the
 * journal warnings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { lastJournalEntry, makeApp } from '../helpers.js';
import { CustomerInputSchema, FindQuerySchema, LENGTHS } from '../../src/routes/mgmt/customers.js';
import { CustomerSchema } from '../../src/routes/mgmt/contract.js';
import { OTHER, SANDBOX, basic, countCustomers, fixtureCustomers, req } from '../mgmt/helpers.js';

type Doc = {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, any> };
  'x-unmatched-requests': Record<string, Record<string, any>>;
};

const CUSTOMERS = '/api/v01/customers';

describe('UniPay OpenAPI document', () => {
  let app: FastifyInstance;
  let doc: Doc;
  beforeAll(async () => {
    app = await makeApp();
    doc = (await app.inject({ method: 'GET', url: '/_emulator/openapi/mgmt.json' })).json();
  });
  afterAll(async () => {
    await app.close();
  });

  it('publishes the schemas the routes validate with, not a copy', () => {
    expect(doc.components.schemas.MgmtCustomerInput).toEqual(JSON.parse(JSON.stringify(CustomerInputSchema)));
    const find = doc.paths[CUSTOMERS].get;
    expect(find['x-operation']).toBe('find');
    expect(find.parameters.map((p: { name: string }) => p.name)).toEqual(Object.keys(FindQuerySchema.properties));
    const byName = Object.fromEntries(
      find.parameters.map((p: { name: string; schema: unknown }) => [p.name, p.schema]),
    );
    for (const f of [
      'firstName',
      'lastName',
      'organizationName',
      'email',
      'phone',
      'street',
      'city',
      'state',
      'zipCode',
      'countryCode',
    ] as const) {
      expect(byName[f], f).toMatchObject({ type: 'string', maxLength: LENGTHS[f] });
    }
    expect(byName.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 100 });
    expect(byName.offset).toMatchObject({ type: 'integer', minimum: 0, default: 0 });
  });

  it('describes the XML layout: attributes of <customer>, <customers> wrapping <customer>, the error <response>', () => {
    const input = doc.components.schemas.MgmtCustomerInput;
    expect(input.xml).toEqual({ name: 'customer' });
    expect(input.properties.code.xml).toEqual({ attribute: true });
    expect(input.properties.accountId.xml).toEqual({ attribute: true });
    expect(input.properties.lastName.xml).toBeUndefined();
    expect(input.required).toEqual(['accountId']);
    const page = doc.components.schemas.MgmtCustomerPage;
    expect(page.xml).toEqual({ name: 'customers' });
    for (const a of ['offset', 'limit', 'total']) expect(page.properties[a].xml).toEqual({ attribute: true });
    expect(page.properties.customer.items).toEqual({ $ref: '#/components/schemas/MgmtCustomer' });
    expect(doc.components.schemas.MgmtCustomer.properties.id.xml).toEqual({ attribute: true });
    const err = doc.components.schemas.MgmtError400;
    expect(err.xml).toEqual({ name: 'response' });
    expect(err.properties.field.xml).toEqual({ attribute: true });
    expect(err.properties.message.xml).toBeUndefined();
    expect(doc.components.schemas.MgmtErrorBody400.properties.response).toEqual({
      $ref: '#/components/schemas/MgmtError400',
    });
    const body = doc.paths[CUSTOMERS].put.requestBody.content;
    expect(Object.keys(body)).toEqual(['application/json', 'application/xml', 'text/xml']);
  });

  it('documents every status with its headers, and Basic security except on the 404/405 answers', () => {
    const create = doc.paths[CUSTOMERS].put;
    expect(Object.keys(create.responses).sort()).toEqual(['200', '400', '401', '403', '406', '413', '415']);
    expect(create.responses[200].headers.Location).toBeDefined();
    expect(create.responses[401].headers['WWW-Authenticate'].schema.const).toBe(
      'Basic realm="UniPay Management API", charset="UTF-8"',
    );
    expect(Object.keys(create.responses[406].content)).toEqual(['application/json']);
    expect(Object.keys(create.responses[400].content)).toEqual(['application/json', 'application/xml']);
    const find = doc.paths[CUSTOMERS].get;
    expect(Object.keys(find.responses[200].headers)).toEqual(['X-Total-Count', 'X-Offset', 'X-Limit']);
    expect(find.responses[200].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/MgmtCustomerList',
    });
    expect(Object.keys(doc.paths[`${CUSTOMERS}/{id}`].get.responses).sort()).toEqual(['200', '401', '404', '406']);
    // 405s and unknown paths are no operations (no 2xx answer): documented under x-unmatched-requests.
    expect(doc.paths[`${CUSTOMERS}/{id}`].delete).toBeUndefined();
    expect(doc['x-unmatched-requests'].mgmt.methodNotAllowed.responses[405].headers.Allow.schema.enum).toEqual([
      'GET, HEAD, PUT',
      'GET, HEAD',
    ]);
    expect(doc['x-unmatched-requests'].mgmt.methodNotAllowed.requests).toContain(`POST ${CUSTOMERS}`);
    expect(doc.components.securitySchemes.mgmtBasic).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(create.security).toEqual([{ mgmtBasic: [] }]);
    expect(doc['x-unmatched-requests'].mgmt.notFound.responses[404]).toBeDefined();
  });
});

describe('UniPay answers match the response schemas', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('every fixture customer, in JSON and XML, through find and load', async () => {
    let seen = 0;
    for (const auth of [SANDBOX, OTHER]) {
      for (const accept of ['application/json', 'application/xml']) {
        const res = await req(app, { method: 'GET', url: `${CUSTOMERS}?limit=1000`, auth, headers: { accept } });
        expect(res.statusCode).toBe(200);
        expect(
          app.contracts.check('mgmt', 'find', 200, res.headers['content-type'] as string, res.body).errors,
        ).toEqual([]);
        if (accept === 'application/json') seen += (res.json() as unknown[]).length;
      }
    }
    expect(seen).toBe(fixtureCustomers.length);
    const one = await req(app, { method: 'GET', url: `${CUSTOMERS}/1`, headers: { accept: 'application/xml' } });
    expect(app.contracts.check('mgmt', 'load', 200, one.headers['content-type'] as string, one.body).errors).toEqual(
      [],
    );
  });

  it('names a drift: a wrong type, a missing attribute, an error code that does not match its status', () => {
    const c = app.contracts;
    expect(c.check('mgmt', 'load', 200, 'application/json', '{"id":"1","code":"1","accountId":2001}').errors).toEqual([
      '/id must be integer',
    ]);
    expect(
      c.check(
        'mgmt',
        'load',
        200,
        'application/xml',
        '<customer id="1" accountId="2001"><lastName>a</lastName></customer>',
      ).errors,
    ).toEqual(["(root) must have required property 'code'"]);
    expect(
      c.check('mgmt', 'load', 200, 'application/xml', '<customer id="1" code="1" accountId="2001" lastName="a"/>')
        .errors,
    ).toEqual([]); // attributes the schema does not name are not read
    expect(
      c.check('mgmt', 'load', 404, 'application/json', '{"response":{"code":"E400","status":404,"message":"x"}}')
        .errors[0],
    ).toMatch(/^\/response\/code must be equal to constant/);
    expect(
      c.check(
        'mgmt',
        'find',
        200,
        'application/xml',
        '<customers offset="0" limit="1" total="1"><customer id="1" code="1" accountId="2001"><nick>a</nick></customer></customers>',
      ).errors,
    ).toEqual(['/customer/0 must NOT have additional properties: nick']);
    expect(c.check('mgmt', 'find', 200, 'application/json', '{"customers":[]}').errors).toEqual([
      '(root) must be array',
    ]);
  });

  it('the TypeBox Customer schema is the published one', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/_emulator/openapi/mgmt.json' })).json();
    expect(doc.components.schemas.MgmtCustomer).toEqual(JSON.parse(JSON.stringify(CustomerSchema)));
  });
});

describe('UniPay --strict (default)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses unknown fields, id, wrong types and malformed parameters, with no warning recorded', async () => {
    const cases: [string, string, string][] = [
      ['{"accountId":2001,"nickname":"Al"}', 'nickname', 'nickname is not a known field of Customer'],
      ['{"accountId":2001,"id":5}', 'id', 'id is read-only: the gateway assigns it'],
      ['{"accountId":"2001"}', 'accountId', 'accountId must be an integer'],
      ['{"accountId":2001,"phone":2125551000}', 'phone', 'phone must be a string'],
    ];
    for (const [body, field, message] of cases) {
      const res = await req(app, {
        method: 'PUT',
        url: CUSTOMERS,
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      expect(res.statusCode, body).toBe(400);
      expect(res.json().response, body).toEqual({ code: 'E400', status: 400, message, field });
      expect((await lastJournalEntry(app)).warnings, body).toBeUndefined();
    }
    const res = await req(app, { method: 'GET', url: `${CUSTOMERS}?limit=%205` });
    expect(res.statusCode).toBe(400);
    expect(res.json().response.field).toBe('limit');
    expect(countCustomers(app)).toBe(fixtureCustomers.length);
  });

  it('find ignores an unknown query parameter (a cache-buster) and reads the first of a repeated one, as a Java service does, with a journal warning each', async () => {
    const res = await req(app, { method: 'GET', url: `${CUSTOMERS}?_=12345&limit=3&countryCode=US&countryCode=GB` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['x-limit']).toBe('3');
    const items = res.json() as { countryCode: string }[];
    expect(items).toHaveLength(3);
    expect(items.every((c) => c.countryCode === 'US')).toBe(true);
    expect((await lastJournalEntry(app)).warnings).toEqual([
      '_ is not a known parameter of find: ignored',
      'countryCode was given 2 times: the first value ("US") was used',
    ]);
  });

  it('load and create name the query parameters they ignore in a journal warning', async () => {
    const id = fixtureCustomers.find((c) => c.account_id === 2001)!.id;
    const load = await req(app, { method: 'GET', url: `${CUSTOMERS}/${id}?_=12345` });
    expect(load.statusCode, load.body).toBe(200);
    expect((await lastJournalEntry(app)).warnings).toEqual(['_ is not a known parameter of load: ignored']);
    const create = await req(app, {
      method: 'PUT',
      url: `${CUSTOMERS}?_=1`,
      headers: { 'content-type': 'application/json', 'x-emulator-session': 'strict-create-query' },
      payload: '{"accountId":2001,"lastName":"Query"}',
    });
    expect(create.statusCode, create.body).toBe(200);
    const journal = (
      await app.inject({
        method: 'GET',
        url: '/_emulator/requests?limit=1',
        headers: { 'x-emulator-session': 'strict-create-query' },
      })
    ).json();
    expect(journal.requests[0].warnings).toEqual(['_ is not a known parameter of create: ignored']);
  });
});

describe('UniPay --lenient', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ strict: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('accepts a JSON Customer with unknown fields, id and coercible types, one warning each', async () => {
    const res = await req(app, {
      method: 'PUT',
      url: CUSTOMERS,
      headers: { 'content-type': 'application/json', 'x-emulator-session': 'lenient-json' },
      payload: JSON.stringify({ id: 5, accountId: '2001', nickname: 'Al', lastName: 'Turing', phone: 4420795000 }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ id: 171, code: '171', accountId: 2001, lastName: 'Turing', phone: '4420795000' });
    const entry = (
      await app.inject({
        method: 'GET',
        url: '/_emulator/requests?limit=1',
        headers: { 'x-emulator-session': 'lenient-json' },
      })
    ).json().requests[0];
    expect(entry.operation).toBe('create');
    expect(entry.warnings).toEqual([
      'id is read-only: ignored (the gateway assigns it)',
      'nickname is not a known field of Customer: ignored',
      'accountId "2001" is not an integer: taken as 2001',
      'phone 4420795000 is not a string: taken as "4420795000"',
    ]);
  });

  it('accepts an XML Customer with misplaced, unknown and repeated parts', async () => {
    const res = await req(app, {
      method: 'PUT',
      url: CUSTOMERS,
      headers: { 'content-type': 'application/xml', accept: 'application/xml', 'x-emulator-session': 'lenient-xml' },
      payload:
        '<customer lastName="Hopper" vip="yes"><accountId>2002</accountId><city>Arlington</city><city>Boston</city></customer>',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<customer id="171" code="171" accountId="2002">
  <lastName>Hopper</lastName>
  <city>Arlington</city>
</customer>
`);
    const entry = (
      await app.inject({
        method: 'GET',
        url: '/_emulator/requests?limit=1',
        headers: { 'x-emulator-session': 'lenient-xml' },
      })
    ).json().requests[0];
    expect(entry.warnings).toEqual([
      'accountId was sent as a child element of <customer>, not an attribute: accepted',
      '<city> was given 2 times: the first one was used',
      'lastName was sent as an attribute of <customer>, not a child element: accepted',
      'vip is not a known attribute of <customer>: ignored',
    ]);
  });

  it('find: ignores unknown parameters, takes the first of repeated ones, reads " 5" as 5', async () => {
    const res = await req(app, {
      method: 'GET',
      url: `${CUSTOMERS}?nickname=Al&limit=%205&countryCode=US&countryCode=GB`,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['x-limit']).toBe('5');
    const items = res.json() as { countryCode: string }[];
    expect(items).toHaveLength(5);
    expect(items.every((c) => c.countryCode === 'US')).toBe(true);
    expect((await lastJournalEntry(app)).warnings).toEqual([
      'nickname is not a known parameter of find: ignored',
      'limit " 5" is not a plain integer: taken as 5',
      'countryCode was given 2 times: the first value ("US") was used',
    ]);
  });

  it('still enforces lengths, formats, ranges, required fields and credentials, changing nothing', async () => {
    const bodies: [string, string, string][] = [
      [
        JSON.stringify({ accountId: 2001, lastName: 'x'.repeat(126), nickname: 'Al' }),
        'lastName',
        'lastName must be at most 125 characters',
      ],
      [JSON.stringify({ accountId: 2001, email: 'not-an-email' }), 'email', 'email must be a valid email address'],
      [JSON.stringify({ accountId: 'two thousand' }), 'accountId', 'accountId must be an integer'],
      [JSON.stringify({ lastName: 'Nobody' }), 'accountId', 'accountId is required'],
      [JSON.stringify({ accountId: 2001, lastName: { first: 'a' } }), 'lastName', 'lastName must be a string'],
    ];
    for (const [payload, field, message] of bodies) {
      const res = await req(app, {
        method: 'PUT',
        url: CUSTOMERS,
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().response, payload).toEqual({ code: 'E400', status: 400, message, field });
    }
    for (const [query, field] of [
      ['limit=1001', 'limit'],
      ['limit=2.5', 'limit'],
      ['offset=-1', 'offset'],
      [`city=${'y'.repeat(51)}`, 'city'],
    ]) {
      const res = await req(app, { method: 'GET', url: `${CUSTOMERS}?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().response.field, query).toBe(field);
    }
    const denied = await req(app, { method: 'GET', url: CUSTOMERS, auth: basic('jsmith', 'portal-password') });
    expect(denied.statusCode).toBe(401);
    expect(countCustomers(app)).toBe(fixtureCustomers.length);
  });
});
