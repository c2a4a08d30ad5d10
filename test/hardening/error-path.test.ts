/**
 * The one error path, vendor by vendor, over HTTP: malformed bodies in the vendor's own words,
 * validator messages that name the allowed values, RackCorp's auth FAULTs with their `error`
 * object and its unknown-path FAULT naming the path the client sent, paths that aim at a vendor
 * in another case answered by that vendor, 405 worked out from each vendor's routes, and HEAD on
 * every GET route answering like GET without a body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { routes as rackcorpRoutes } from '../../src/routes/rackcorp/index.js';
import { operations as emailsrvrOperations } from '../../src/routes/emailsrvr/customers.js';
import { operations as mgmtOperations } from '../../src/routes/mgmt/customers.js';
import { signed } from '../emailsrvr/helpers.js';
import { newCustomer } from '../rackcorp/helpers.js';

const RC = {
  authorization: `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`,
};
const MG = { authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}` };
const JSON_CT = { 'content-type': 'application/json' };
const FASTIFY_WORDS = /Body is not valid JSON|content-type is set to|FST_ERR/;

/** A RackCorp customer with only the documented fields of the create example (no customID, parentID ...). */
const newRackcorpCustomer = (({ firstName, lastName, companyName, status, locations, contacts }) => ({
  firstName,
  lastName,
  companyName,
  status,
  locations,
  contacts,
}))(newCustomer);

let app: FastifyInstance;
beforeAll(async () => {
  app = await makeApp();
});
afterAll(async () => {
  await app.close();
});

describe("malformed JSON is answered in each vendor's envelope and words", () => {
  it('rackcorp: a FAULT naming the body (REST and json.php)', async () => {
    for (const url of ['/api/v2.8/customers', '/api/rest/v2.9/json.php']) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { ...RC, ...JSON_CT },
        payload: '{"cmd": "customer.create",',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        code: 'FAULT',
        message: 'The request body is not valid JSON',
        error: { body: 'not valid JSON' },
        fault: { faultcode: 'Client', faultstring: 'The request body is not valid JSON' },
      });
    }
  });

  it('emailsrvr: badRequestFault in the negotiated format', async () => {
    const json = await app.inject({
      method: 'POST',
      url: '/v0/customers',
      headers: { ...signed(app, undefined, { accept: 'application/json' }), ...JSON_CT },
      payload: '{"name":',
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toEqual({
      badRequestFault: { code: 400, message: 'Invalid request body', details: 'The request body is not valid JSON' },
    });
    const xml = await app.inject({
      method: 'POST',
      url: '/customers',
      headers: { ...signed(app, undefined, { accept: 'text/xml' }), ...JSON_CT },
      payload: '{"name":',
    });
    expect(xml.statusCode).toBe(400);
    expect(xml.body).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<badRequestFault code="400">\n  <message>Invalid request body</message>\n  <details>The request body is not valid JSON</details>\n</badRequestFault>',
    );
  });

  it('ispcrm: the NeuCRM envelope', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      headers: JSON_CT,
      payload: '{"userid": 5,',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ result: null, error: 'Invalid request: the body is not valid JSON' });
  });

  it('mgmt: E400 naming the customer, in JSON and XML', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v01/customers',
      headers: { ...MG, ...JSON_CT },
      payload: '{"accountId": 2001,',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      response: {
        code: 'E400',
        status: 400,
        message: 'Malformed JSON body: the Customer is not valid JSON',
        field: 'customer',
      },
    });
    const xml = await app.inject({
      method: 'PUT',
      url: '/api/v01/customers',
      headers: { ...MG, ...JSON_CT, accept: 'application/xml' },
      payload: '{"accountId": 2001,',
    });
    expect(xml.body).toContain('<response code="E400" status="400" field="customer">');
    expect(xml.body).toContain('<message>Malformed JSON body: the Customer is not valid JSON</message>');
  });

  it("a JSON key that is a prototype property is refused as malformed JSON, in each vendor's words", async () => {
    const payload = '{"__proto__": {"x": 1}}';
    const answers = await Promise.all([
      app.inject({ method: 'POST', url: '/api/v2.8/customers', headers: { ...RC, ...JSON_CT }, payload }),
      app.inject({
        method: 'POST',
        url: '/v0/customers',
        headers: { ...signed(app, undefined, { accept: 'application/json' }), ...JSON_CT },
        payload,
      }),
      app.inject({ method: 'POST', url: '/api/customer/create', headers: JSON_CT, payload }),
      app.inject({ method: 'PUT', url: '/api/v01/customers', headers: { ...MG, ...JSON_CT }, payload }),
    ]);
    for (const res of answers) {
      expect(res.statusCode).toBeLessThan(500);
      expect(res.body).toMatch(/not valid JSON/);
      expect(res.body).not.toMatch(FASTIFY_WORDS);
    }
  });
});

describe('validator messages name the allowed values', () => {
  it('rackcorp: a status outside the enum, and a contact email that is neither empty nor an email', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v2.8/customers',
      headers: { ...RC, ...JSON_CT },
      payload: {
        ...newRackcorpCustomer,
        status: 'CLOSED',
        contacts: [{ ...newRackcorpCustomer.contacts[0], email: 'not-an-email' }],
      },
    });
    const body = res.json();
    expect(body.code).toBe('FAULT');
    expect(body.error).toEqual({
      status: 'status must be one of ACTIVE, INACTIVE, SUSPENDED',
      'contacts.0.email': 'contacts.0.email must be empty or a valid email',
    });
    expect(body.message).not.toMatch(/constant/);
  });

  it('rackcorp: the same words through json.php and a form body, and for customer.update', async () => {
    const form = await app.inject({
      method: 'POST',
      url: '/api/rest/v2.9/json.php',
      headers: { ...RC, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'cmd=customer.update&id=123&status=closed',
    });
    expect(form.json().error).toEqual({ status: 'status must be one of ACTIVE, INACTIVE, SUSPENDED' });
  });

  it('mgmt: a gender outside M/F', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v01/customers',
      headers: { ...MG, ...JSON_CT },
      payload: { accountId: 2001, lastName: 'Roe', gender: 'X' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().response.message).not.toMatch(/constant/);
    expect(res.json().response).toMatchObject({ code: 'E400', field: 'gender' });
  });
});

describe('RackCorp authentication FAULTs carry the error object', () => {
  const cases: [string, Record<string, string>, Record<string, string>][] = [
    ['no credentials', {}, { credentials: 'no credentials were given' }],
    [
      'a wrong secret',
      { authorization: `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:wrong').toString('base64')}` },
      { APIUUID: 'invalid API key' },
    ],
    [
      'a Basic value without a colon',
      { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` },
      { Authorization: 'Basic credentials must be uuid:secret' },
    ],
    ['an unsupported scheme', { authorization: 'Digest x' }, { Authorization: 'unsupported Authorization scheme' }],
    [
      'a forged bearer token',
      { authorization: 'Bearer abc.def.ghi' },
      { Authorization: 'the session token is invalid or has expired' },
    ],
    [
      'a forged session cookie',
      { cookie: 'JWTSESSIONID=abc.def.ghi' },
      { JWTSESSIONID: 'the session token is invalid or has expired' },
    ],
    [
      'an APIUUID header without APISECRET',
      { apiuuid: '11111111-2222-4333-8444-555555555555' },
      { APISECRET: 'APIUUID and APISECRET must both be given' },
    ],
  ];
  it.each(cases)('%s', async (_what, headers, error) => {
    const res = await app.inject({ method: 'GET', url: '/api/v2.8/customers/123', headers });
    expect(res.statusCode).toBe(200);
    const message = `Authentication failed: ${Object.values(error)[0]}`;
    expect(res.json()).toEqual({ code: 'FAULT', message, error, fault: { faultcode: 'Auth', faultstring: message } });
  });

  it('a failed session.login names the field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/rest/v2.9/json.php',
      payload: { cmd: 'session.login', username: 'sandbox@example.com', password: 'nope', jwt: 1 },
    });
    expect(res.json()).toMatchObject({
      code: 'FAULT',
      message: 'Authentication failed: wrong username or password',
      error: { password: 'wrong username or password' },
    });
  });
});

describe('RackCorp names the path the client sent', () => {
  it.each(['/api/v2.8/dns/domain', '/api/rest/v1/dns/domain', '/api/v1.2/customers/123/nothing'])('%s', async (url) => {
    const res = await app.inject({ method: 'GET', url: `${url}?x=1`, headers: RC });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      code: 'FAULT',
      message: `Unknown API path: GET ${url}`,
      error: { path: 'no such API path' },
      fault: { faultcode: 'Client', faultstring: `Unknown API path: GET ${url}` },
    });
  });

  it('inside a session too (without the session prefix)', async () => {
    const res = await app.inject({ method: 'GET', url: '/_sessions/errors-a/api/v2.8/dns/domain', headers: RC });
    expect(res.json().message).toBe('Unknown API path: GET /api/v2.8/dns/domain');
  });
});

describe("a path that aims at a vendor in another case gets that vendor's not-found answer", () => {
  it.each([
    '/API/rest/v2.9/customers',
    '/api/REST/v2.9/customers/123',
    '/api/V2.9/customers',
    '/api/rest/latest/customers',
  ])('rackcorp: %s', async (url) => {
    const res = await app.inject({ method: 'GET', url, headers: RC });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      code: 'FAULT',
      message: `Unknown API path: GET ${url}`,
      error: { path: 'no such API path' },
    });
  });

  it.each(['/v0/Customers', '/V1/customers/460182', '/CUSTOMERS', '/v0/domains'])('emailsrvr: %s', async (url) => {
    const res = await app.inject({ method: 'GET', url, headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      itemNotFoundFault: { code: 404, message: 'Resource not found', details: `Nothing is served at GET ${url}` },
    });
  });

  it.each(['/api/Customer/list', '/api/customers/list', '/API/CUSTOMER/create'])('ispcrm: %s', async (url) => {
    const res = await app.inject({ method: 'POST', url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      result: null,
      error: `Unknown API method ${url}. Available: /api/customer/list, /api/customer/create, /api/customer/update, /api/customer/delete`,
    });
  });

  it.each(['/api/V01/customers', '/API/v01/customers/1'])('mgmt: %s', async (url) => {
    const res = await app.inject({ method: 'GET', url, headers: { accept: 'application/xml' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(res.body).toContain('<response code="E404" status="404">');
    expect(res.body).toContain(
      `<message>No resource at ${url}: the Management API serves /api/v01/customers and /api/v01/customers/{id}</message>`,
    );
  });

  it.each(['/nothing', '/api', '/api/orders', '/v2/customers', '/_emulator/nothing-here'])(
    '%s belongs to no vendor: the generic 404',
    async (url) => {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toBe('Not Found');
    },
  );

  it('the real routes still answer (no catch-all shadows them)', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers/123', headers: RC })).json().code).toBe(
      'OK',
    );
    expect((await app.inject({ method: 'GET', url: '/api/v01/customers/1', headers: MG })).statusCode).not.toBe(404);
  });
});

describe("405 is worked out from each vendor's routes", () => {
  it('rackcorp: a FAULT naming the methods the path serves', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/api/v2.8/customers/123', headers: RC });
    expect(res.statusCode).toBe(200);
    expect(res.headers.allow).toBe('GET, HEAD, PUT');
    expect(res.json()).toMatchObject({
      code: 'FAULT',
      message: 'Method DELETE is not allowed on /api/v2.8/customers/123: use GET, HEAD, PUT',
      error: { method: 'use GET, HEAD, PUT' },
    });
    const promo = await app.inject({ method: 'DELETE', url: '/api/rest/v2.9/billing/promocode', headers: RC });
    expect(promo.headers.allow).toBe('GET, HEAD, POST');
  });

  it('emailsrvr, ispcrm and mgmt answer 405 with Allow', async () => {
    const e = await app.inject({
      method: 'PATCH',
      url: '/v1/customers',
      headers: signed(app, undefined, { accept: 'application/json' }),
    });
    expect(e.statusCode).toBe(405);
    expect(e.headers.allow).toBe('GET, HEAD, POST');
    expect(e.json()).toEqual({
      badRequestFault: {
        code: 405,
        message: 'Method not allowed',
        details: 'PATCH is not supported here; use GET, HEAD, POST',
      },
    });
    const i = await app.inject({ method: 'PUT', url: '/api/customer/update' });
    expect(i.statusCode).toBe(405);
    expect(i.headers.allow).toBe('POST');
    const m = await app.inject({ method: 'DELETE', url: '/api/v01/customers/1' });
    expect(m.statusCode).toBe(405);
    expect(m.headers.allow).toBe('GET, HEAD');
  });
});

describe('HEAD answers like GET without a body on every GET route', () => {
  const fill = (url: string) =>
    url
      .replace(/:id\b/, '123')
      .replace(/:customerId\b/, '123')
      .replace(/:account\b/, '460182')
      .replace(/:\w+/g, '1');
  const gets: [string, string, () => Record<string, string>][] = [
    ...rackcorpRoutes
      .filter((r) => r.method === 'GET')
      .map((r): [string, string, () => Record<string, string>] => [
        'rackcorp',
        `/api/rest/v2.9${fill(r.url)}${r.url === '/json.php' ? '?cmd=customer.get&id=123' : ''}`,
        () => RC,
      ]),
    ...emailsrvrOperations
      .filter((o) => o.method === 'GET')
      .map((o): [string, string, () => Record<string, string>] => [
        'emailsrvr',
        `/v0/customers${o.url === '/' ? '' : fill(o.url)}`,
        () => signed(app, undefined, { accept: 'application/json' }),
      ]),
    ...mgmtOperations
      .filter((o) => o.method === 'GET')
      .map((o): [string, string, () => Record<string, string>] => ['mgmt', `/api/v01${fill(o.url)}`, () => MG]),
  ];
  it('covers every vendor with GET routes', () => {
    expect(new Set(gets.map((g) => g[0]))).toEqual(new Set(['rackcorp', 'emailsrvr', 'mgmt']));
  });
  it.each(gets)('%s HEAD %s', async (_vendor, url, headers) => {
    const get = await app.inject({ method: 'GET', url, headers: headers() });
    const head = await app.inject({ method: 'HEAD', url, headers: headers() });
    expect(head.statusCode).toBe(get.statusCode);
    expect(head.statusCode).toBeLessThan(500);
    expect(head.body).toBe('');
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(get.body));
  });
});
