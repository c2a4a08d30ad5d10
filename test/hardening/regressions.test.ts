/** One test per defect the hardening suites found, each failing before its fix. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { signed } from '../emailsrvr/helpers.js';

const BASIC = `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`;

describe('hardening regressions', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('RackCorp: a JWTSESSIONID cookie with a malformed %-escape is an Auth FAULT, not a 500', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/rest/v2.9/customers/1',
      headers: { cookie: 'JWTSESSIONID=%zz' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ code: 'FAULT', fault: { faultcode: 'Auth' } });
  });

  it.each([
    '/api/rest/v2.9/customers?resStart=331545680058611184298',
    '/api/rest/v2.9/billing/history?resStart=1e21',
    '/api/rest/v2.9/billing/quotes?resStart=99999999999999999999',
    '/api/rest/v2.9/billing/services?resStart=99999999999999999999',
  ])('RackCorp: a resStart beyond 2^53 is past the end, not a 500 (%s)', async (url) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: BASIC } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.code, res.body).toBe('OK');
  });

  it("Rackspace: a startswith/contains longer than SQLite's LIKE limit answers an empty list, not a 500", async () => {
    for (const p of ['startswith', 'contains']) {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/customers?${p}=${'x'.repeat(60_000)}`,
        headers: signed(app, undefined, { accept: 'application/json' }),
      });
      expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
      expect(res.json()).toMatchObject({ total: 0, customers: [] });
    }
  });

  // Fastify's router answered these itself (400 FST_ERR_BAD_URL, 414 FST_ERR_MAX_PARAM_LENGTH) in
  // its own JSON, not the vendor's.
  const long = 'x'.repeat(2000);
  it.each([
    [
      'rackcorp',
      `/api/rest/v2.9/customers/${long}`,
      { authorization: BASIC },
      (r: any) => expect(r.json()).toMatchObject({ code: 'FAULT' }),
    ],
    [
      'rackcorp',
      '/api/rest/v2.9/customers/%zz',
      { authorization: BASIC },
      (r: any) => expect(r.json()).toMatchObject({ code: 'FAULT' }),
    ],
    [
      'rackcorp',
      '/api/rest/v2.9/customers/%ff',
      { authorization: BASIC },
      (r: any) => expect(r.json()).toMatchObject({ code: 'FAULT' }),
    ],
    [
      'mgmt',
      `/api/v01/customers/${long}`,
      { authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}` },
      (r: any) => expect(r.json().response.code).toBe('E404'),
    ],
    [
      'mgmt',
      '/api/v01/customers/%zz',
      { authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}` },
      (r: any) => expect(r.json().response.code).toMatch(/^E4/),
    ],
    ['emailsrvr', `/v1/customers/${long}`, null, (r: any) => expect(Object.keys(r.json())[0]).toMatch(/Fault$/)],
    ['emailsrvr', '/v1/customers/%E0%A4%A', null, (r: any) => expect(Object.keys(r.json())[0]).toMatch(/Fault$/)],
    ['ispcrm', '/api/customer/%zz', {}, (r: any) => expect(r.json()).toMatchObject({ result: null })],
  ])('%s: an over-long or undecodable path segment is answered by the vendor (%#)', async (_v, url, headers, check) => {
    const h = headers ?? signed(app, undefined, { accept: 'application/json' });
    const res = await app.inject({ method: 'GET', url, headers: { accept: 'application/json', ...h } });
    expect(res.statusCode, res.body.slice(0, 200)).toBeLessThan(500);
    expect(res.json().code === 'FST_ERR_BAD_URL' || res.json().code === 'FST_ERR_MAX_PARAM_LENGTH').toBe(false);
    check(res);
  });
});
