import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { mgmt } from '../../src/routes/mgmt/index.js';
import { escapeLike } from '../../src/store/mgmt.js';
import { basic, countCustomers, fixtureCustomers, putJson, req } from './helpers.js';

const CHALLENGE = 'Basic realm="UniPay Management API", charset="UTF-8"';

describe('UniPay authentication', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const cases: [string, string | null, string][] = [
    ['no credentials', null, 'Authentication required: use HTTP Basic with a service user (login api-...)'],
    [
      'a Bearer token',
      'Bearer abc.def.ghi',
      'Unsupported authorization: use HTTP Basic with a service user (login api-...)',
    ],
    [
      'Basic without a colon',
      'Basic ' + Buffer.from('api-sandbox').toString('base64'),
      'Malformed Basic credentials: expected login:password',
    ],
    ['a wrong password', basic('api-sandbox', 'wrong'), 'Invalid login or password'],
    ['an empty password', basic('api-sandbox', ''), 'Invalid login or password'],
    ['an unknown service user', basic('api-nobody', 'mgmt-sandbox-password'), 'Invalid login or password'],
    ["another user's password", basic('api-other', 'mgmt-sandbox-password'), 'Invalid login or password'],
    [
      'a portal user with the right password',
      basic('jsmith', 'portal-password'),
      'User jsmith is not a service user: the Management API accepts only logins starting with api-',
    ],
    [
      'a login that only contains api-',
      basic('x-api-sandbox', 'mgmt-sandbox-password'),
      'User x-api-sandbox is not a service user: the Management API accepts only logins starting with api-',
    ],
    ['a disabled service user', basic('api-disabled', 'mgmt-disabled-password'), 'User api-disabled is disabled'],
  ];

  it.each(cases)('answers 401 with a Basic challenge for %s', async (_name, auth, message) => {
    for (const [method, url] of [
      ['GET', '/api/v01/customers'],
      ['GET', '/api/v01/customers/1'],
    ] as const) {
      const res = await req(app, { method, url, auth });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
      expect(res.json()).toEqual({ response: { code: 'E401', status: 401, message } });
    }
  });

  it('refuses create without credentials before reading the body, creating nothing', async () => {
    const res = await putJson(app, '{not even json', {}, undefined);
    expect(res.statusCode).toBe(400); // authenticated: the body is read
    const anon = await req(app, {
      method: 'PUT',
      url: '/api/v01/customers',
      auth: null,
      headers: { 'content-type': 'application/json' },
      payload: '{"accountId":2001}',
    });
    expect(anon.statusCode).toBe(401);
    expect(countCustomers(app)).toBe(fixtureCustomers.length);
  });

  it('answers 401 in XML when XML is asked for', async () => {
    const res = await req(app, {
      method: 'GET',
      url: '/api/v01/customers',
      auth: basic('api-sandbox', 'nope'),
      headers: { accept: 'application/xml' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<response code="E401" status="401">
  <message>Invalid login or password</message>
</response>
`);
  });

  it('lets the second service user in, with its own merchant only', async () => {
    const res = await req(app, {
      method: 'GET',
      url: '/api/v01/customers',
      auth: basic('api-other', 'mgmt-other-password'),
    });
    expect(res.statusCode).toBe(200);
    expect(new Set(res.json().map((c: { accountId: number }) => c.accountId))).toEqual(new Set([3001]));
  });
});

describe('UniPay formats, methods and paths', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 406 for an Accept it cannot serve, on every operation, creating nothing', async () => {
    for (const accept of ['text/html', 'application/pdf', 'text/csv;q=0.5, image/*']) {
      const a = await req(app, { method: 'GET', url: '/api/v01/customers', headers: { accept } });
      const b = await req(app, { method: 'GET', url: '/api/v01/customers/1', headers: { accept } });
      const c = await putJson(app, { accountId: 2001, lastName: 'Unseen' }, { accept });
      for (const res of [a, b, c]) {
        expect(res.statusCode, accept).toBe(406);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.json()).toEqual({
          response: {
            code: 'E406',
            status: 406,
            message: `Cannot produce ${accept}: ask for application/json or application/xml`,
          },
        });
      }
    }
    expect(countCustomers(app)).toBe(fixtureCustomers.length);
  });

  it('answers 415 for bodies that are neither JSON nor XML, creating nothing', async () => {
    for (const [type, payload] of [
      ['application/x-www-form-urlencoded', 'accountId=2001&lastName=Form'],
      ['text/plain', 'accountId=2001'],
      ['application/octet-stream', 'xx'],
      ['multipart/form-data; boundary=x', '--x--'],
    ]) {
      const res = await req(app, {
        method: 'PUT',
        url: '/api/v01/customers',
        headers: { 'content-type': type, accept: 'application/xml' },
        payload,
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<response code="E415" status="415">
  <message>Unsupported Content-Type ${type}: send the Customer as application/json or application/xml</message>
</response>
`);
    }
    expect(countCustomers(app)).toBe(fixtureCustomers.length);
  });

  it('answers 405 with Allow for methods a resource does not support', async () => {
    const cases: [string, string, string][] = [
      ['POST', '/api/v01/customers', 'GET, HEAD, PUT'],
      ['DELETE', '/api/v01/customers', 'GET, HEAD, PUT'],
      ['PATCH', '/api/v01/customers', 'GET, HEAD, PUT'],
      ['PUT', '/api/v01/customers/1', 'GET, HEAD'],
      ['DELETE', '/api/v01/customers/1', 'GET, HEAD'],
      ['POST', '/api/v01/customers/1/', 'GET, HEAD'],
      ['OPTIONS', '/api/v01/customers/1', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await req(app, {
        method: method as 'GET',
        url,
        headers: { 'content-type': 'application/json' },
        payload: method === 'OPTIONS' ? undefined : '{not json',
      });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.json()).toEqual({
        response: {
          code: 'E405',
          status: 405,
          message: `Method ${method} is not supported by ${url.replace(/\/$/, '')}; allowed: ${allow}`,
        },
      });
    }
    expect(countCustomers(app)).toBe(fixtureCustomers.length);
  });

  it('answers 404 in the UniPay format for unknown paths under /api/v01', async () => {
    for (const url of ['/api/v01/nothing', '/api/v01/customers/1/cards', '/api/v01']) {
      const res = await req(app, { method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().response.code).toBe('E404');
      expect(res.json().response.message).toContain(
        'the Management API serves /api/v01/customers and /api/v01/customers/{id}',
      );
    }
    const xml = await req(app, {
      method: 'GET',
      url: '/api/v01/accounts',
      auth: null,
      headers: { accept: 'application/xml' },
    });
    expect(xml.statusCode).toBe(404);
    expect(xml.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<response code="E404" status="404">
  <message>No resource at /api/v01/accounts: the Management API serves /api/v01/customers and /api/v01/customers/{id}</message>
</response>
`);
  });

  it('serves the resources with a trailing slash too', async () => {
    const res = await req(app, { method: 'GET', url: '/api/v01/customers/1/' });
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(1);
  });
});

describe('UniPay fault presets and helpers', () => {
  it('produce the UniPay error body in JSON or XML by Accept', () => {
    const presets = mgmt.faultPresets!;
    expect(presets.badRequest({})).toEqual({
      status: 400,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: '{"response":{"code":"E400","status":400,"message":"lastName must be at most 125 characters","field":"lastName"}}',
    });
    expect(presets.serverError({ accept: 'application/xml' })).toEqual({
      status: 500,
      headers: { 'Content-Type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="UTF-8"?>\n<response code="E500" status="500">\n  <message>Internal error: the request could not be processed</message>\n</response>\n',
    });
    expect(presets.unauthorized({ message: 'Nope' }).headers!['WWW-Authenticate']).toBe(CHALLENGE);
    expect(JSON.parse(presets.unavailable({ message: 'busy' }).body)).toEqual({
      response: { code: 'E503', status: 503, message: 'busy' },
    });
    expect(JSON.parse(presets.notFound({}).body).response.code).toBe('E404');
  });

  it('escapes LIKE metacharacters', () => {
    expect(escapeLike('100%_a\\b')).toBe('100\\%\\_a\\\\b');
  });
});
