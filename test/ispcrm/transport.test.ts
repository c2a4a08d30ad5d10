import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { makeApp } from '../helpers.js';
import { ispcrm } from '../../src/routes/ispcrm/index.js';
import { SANDBOX, answer, call, everything, ok, visible, R1 } from './helpers.js';

const form = new URLSearchParams(SANDBOX).toString();

describe('ISP CRM transport-level answers, all in the envelope', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ maxBodyBytes: 4096 });
  });
  afterAll(async () => {
    await app.close();
  });

  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'] as const) {
    it(`${method} on an operation answers 405 with Allow: POST`, async () => {
      const res = await app.inject({ method, url: '/api/customer/list' });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(answer(res)).toMatchObject({
        result: null,
        error: 'Method ' + method + ' not allowed. Use POST /api/customer/list',
      });
    });
  }

  it('GET with the credentials in the query string is still 405 (NeuCRM reads POST fields only)', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/customer/delete?${form}&customerid=1243` });
    expect(res.statusCode).toBe(405);
    expect(res.json().error).toBe('Method GET not allowed. Use POST /api/customer/delete');
  });

  it.each(['/api/customer/show', '/api/customer', '/api/customer/list/extra', '/api/customer/List'])(
    'unknown path %s answers 404 in the envelope',
    async (url) => {
      const res = await app.inject({
        method: 'POST',
        url,
        payload: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.json()).toEqual({
        result: null,
        error: `Unknown API method ${url}. Available: /api/customer/list, /api/customer/create, /api/customer/update, /api/customer/delete`,
      });
    },
  );

  it.each(['/api/customers/list', '/api/Customer/list', '/API/CUSTOMER/create'])(
    "%s (a near miss of /api/customer) answers NeuCRM's 404, in the envelope",
    async (url) => {
      const res = await app.inject({
        method: 'POST',
        url,
        payload: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        result: null,
        error: `Unknown API method ${url}. Available: /api/customer/list, /api/customer/create, /api/customer/update, /api/customer/delete`,
      });
    },
  );

  it("paths that aim at no vendor get the emulator's generic 404", async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/orders/list',
      payload: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: 'Not Found',
      message: 'Nothing is served at POST /api/orders/list; see the README for the vendor base paths',
    });
  });

  it('a trailing slash is tolerated', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list/',
      payload: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().result).toHaveLength(10);
  });

  it('an oversized body answers 413 in the envelope and changes nothing', async () => {
    const before = await everything(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      payload: `${form}&notes=${'x'.repeat(5000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ result: null, error: 'Request body too large. Maximum 4096 bytes allowed' });
    expect(await everything(app)).toEqual(before);
  });

  // PHP fills $_POST from form and multipart bodies only: any other body leaves the fields absent.
  for (const type of ['text/plain', 'application/xml', 'text/plain; charset=utf-8']) {
    it(`a ${type} body is not read (as PHP does not): the call answers as without fields, with a journal warning`, async () => {
      const before = await everything(app);
      const res = await app.inject({
        method: 'POST',
        url: '/api/customer/create',
        payload: `${form}&type=Individual&name=Plain`,
        headers: { 'content-type': type },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ result: null, error: 'userid is required' });
      const journal = (await app.inject({ method: 'GET', url: '/_emulator/requests?limit=1' })).json();
      expect(journal.requests[0].warnings).toEqual([
        `the ${JSON.stringify(type)} body is not read: NeuCRM reads form (url-encoded or multipart) and JSON bodies only, so its fields are absent`,
      ]);
      expect(await everything(app)).toEqual(before);
    });
  }

  it('a body above --max-body-bytes of a type that is not read is still a 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      payload: 'x'.repeat(5000),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(413);
  });

  it('a Content-Type that is not a media type answers 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      payload: form,
      headers: { 'content-type': ';;;' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      result: null,
      error: 'Unsupported Content-Type ";;;". Send application/x-www-form-urlencoded or application/json',
    });
  });

  it('malformed JSON answers 400 in the envelope', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      payload: '{"userid": 5,',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().result).toBeNull();
    expect(res.json().error).toMatch(/^Invalid request: /);
  });

  it('a JSON body that is not an object is an API error (HTTP 200)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      payload: '[5]',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      result: null,
      error: 'Invalid request: send the fields as form data or as a JSON object',
    });
  });

  it('a POST without a body asks for userid', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/customer/list' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ result: null, error: 'userid is required' });
  });
});

describe('ISP CRM sessions, fixtures and fault presets', () => {
  it('sessions are isolated copies of the fixtures (header and path prefix)', async () => {
    const app = await makeApp();
    const NEW = {
      type: 'Individual',
      name: 'Session Person',
      mobile: '1',
      email: 's@example.in',
      zipcode: '1',
      state: 'Goa',
      city: 'Panaji',
      street: 'x',
    };
    expect(await ok(app, 'create', { ...SANDBOX, ...NEW }, 'ci-job-1')).toBe(1243);
    expect(await ok(app, 'list', { ...SANDBOX, show_count: '1' }, 'ci-job-1')).toBe(visible(R1).length + 1);
    expect(await ok(app, 'list', { ...SANDBOX, show_count: '1' })).toBe(visible(R1).length);
    const res = await app.inject({
      method: 'POST',
      url: '/_sessions/ci-job-2/api/customer/create',
      payload: new URLSearchParams({ ...SANDBOX, ...NEW }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.json()).toEqual({ result: 1243, error: null });
    expect((await call(app, 'list', { ...SANDBOX, customerid: '1243' })).result).toEqual([]);
    await app.close();
  });

  it('the first new customer is 1243 even when a fixtures folder has fewer customers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ispcrm-fx-'));
    const src = path.resolve(import.meta.dirname, '../../fixtures/ispcrm');
    fs.mkdirSync(path.join(dir, 'ispcrm'));
    for (const t of ['ispcrm_isps', 'ispcrm_resellers', 'ispcrm_users'])
      fs.copyFileSync(path.join(src, `${t}.json`), path.join(dir, 'ispcrm', `${t}.json`));
    const app = await makeApp({ fixtures: dir });
    expect(await ok(app, 'list', { ...SANDBOX, show_count: '1' })).toBe(0);
    expect(
      await ok(app, 'create', {
        ...SANDBOX,
        type: 'Individual',
        name: 'A',
        mobile: '1',
        email: 'a@b.in',
        zipcode: '1',
        state: 'Goa',
        city: 'Panaji',
        street: 'x',
      }),
    ).toBe(1243);
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the password-reset table is flagged as an outbox', () => {
    expect(ispcrm.tables.filter((t) => t.outbox).map((t) => t.name)).toEqual(['ispcrm_password_resets']);
  });

  it("fault presets produce NeuCRM's error envelope", () => {
    const p = ispcrm.faultPresets!;
    expect(p.error({})).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"result":null,"error":"Something went wrong. Please try again later"}',
    });
    expect(p.error({ message: 'Database busy' }).body).toBe('{"result":null,"error":"Database busy"}');
    expect(p.auth({}).body).toBe('{"result":null,"error":"Invalid userid or api_key"}');
    expect(p.server_error({}).status).toBe(500);
    expect(JSON.parse(p.server_error({ message: 'boom' }).body)).toEqual({ result: null, error: 'boom' });
  });

  it('every answer names its operation for the request journal', async () => {
    // The plugin alone on a bare Fastify, so a hook can watch request.emulator.operation.
    const app = await makeApp();
    const f = Fastify({ logger: false });
    await f.register(formbody);
    f.decorateRequest('emulator', null as never);
    const seen: (string | null)[] = [];
    f.addHook('onRequest', async (req) => {
      req.emulator = {
        state: app.registry.defaultState,
        sessionId: null,
        vendor: 'ispcrm',
        operation: null,
        warnings: [],
      };
    });
    f.addHook('onResponse', async (req) => {
      seen.push(req.emulator.operation);
    });
    await f.register(
      async (scope) => {
        await scope.register(ispcrm.plugin, { config: app.config });
      },
      { prefix: '/api/customer' },
    );
    await f.ready();
    for (const op of ['list', 'create', 'update', 'delete']) {
      await f.inject({
        method: 'POST',
        url: `/api/customer/${op}`,
        payload: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    }
    await f.inject({ method: 'GET', url: '/api/customer/update' });
    await f.inject({ method: 'POST', url: '/api/customer/zzz' });
    expect(seen).toEqual([
      'customer.list',
      'customer.create',
      'customer.update',
      'customer.delete',
      'customer.update',
      'notFound',
    ]);
    await f.close();
    await app.close();
  });
});
