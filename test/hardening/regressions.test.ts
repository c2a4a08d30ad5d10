/** One test per defect the hardening suites found, each failing before its fix. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { signed } from '../emailsrvr/util.js';

const BASIC = `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`;

describe('hardening regressions', () => {
  let app: FastifyInstance;
  beforeAll(async () => { app = await makeApp(); });
  afterAll(async () => { await app.close(); });

  it('RackCorp: a JWTSESSIONID cookie with a malformed %-escape is an Auth FAULT, not a 500', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers/1', headers: { cookie: 'JWTSESSIONID=%zz' } });
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

  it('Rackspace: a startswith/contains longer than SQLite\'s LIKE limit answers an empty list, not a 500', async () => {
    for (const p of ['startswith', 'contains']) {
      const res = await app.inject({ method: 'GET', url: `/v1/customers?${p}=${'x'.repeat(60_000)}`, headers: signed(app, undefined, { accept: 'application/json' }) });
      expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
      expect(res.json()).toMatchObject({ total: 0, customers: [] });
    }
  });
});
