/**
 * Every error message the vendors' documents (/work/shared/specs: the copies of the vendors' docs
 * and vendor-notes.md) name can be produced over HTTP, in the vendor's format, through each binding
 * that reaches it. Where a document names a message exactly, the answer carries it word for word;
 * where it names a scenario (RackCorp's "Invalid customer ID", "Permission denied", "Customer not
 * found"), the answer is the FAULT envelope the document shows, with the `error` object naming the
 * field. Rackspace's error table is also read from the document itself, so a message added to it
 * without a row here fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { makeApp } from '../helpers.js';
import { call as rsCall } from '../emailsrvr/helpers.js';
import { basic, OTHER_SECRET, OTHER_UUID } from '../rackcorp/helpers.js';
import { SANDBOX as ISPCRM } from '../ispcrm/helpers.js';
import { SANDBOX as UNIPAY, basic as unipayBasic } from '../mgmt/helpers.js';
import { formBody, xmlBody } from './common.js';

const SPECS = path.resolve(import.meta.dirname, '../../../shared/specs');
const haveSpecs = fs.existsSync(path.join(SPECS, 'emailsrvr-customers.txt'));

interface Documented {
  /** The message or scenario as the document words it. */
  doc: string;
  /** Where the document says it. */
  source: string;
  /** Produce it; each answer must carry `message`. */
  requests(app: FastifyInstance): Promise<LightMyRequestResponse>[];
  status: number;
  message: string | RegExp;
}

/** Rackspace's Errors table (Description, HTTP code, sample message) as the document has it. */
function rackspaceErrorTable(): { status: number; message: string }[] {
  const text = fs.readFileSync(path.join(SPECS, 'emailsrvr-customers.txt'), 'utf8');
  const rows: { status: number; message: string }[] = [];
  for (const block of text.split(/\nErrors:\n/).slice(1)) {
    for (const line of block.split('\n')) {
      const m = /^.+? (\d{3}) (.+)$/.exec(line.trim());
      if (m && !/^Description/.test(line)) rows.push({ status: Number(m[1]), message: m[2].trim() });
      if (/^(Delete|URL:)/.test(line.trim())) break;
    }
  }
  return rows;
}

const rs = (
  app: FastifyInstance,
  method: 'POST' | 'PUT',
  url: string,
  body: Record<string, unknown>,
  accept = 'application/json',
) => [
  rsCall(app, { method, url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body), accept }),
  rsCall(app, {
    method,
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: formBody(body),
    accept: 'text/xml',
  }),
];

const RACKSPACE: Documented[] = [
  {
    doc: 'The name field was not specified',
    source: 'emailsrvr-customers.txt, Errors',
    status: 400,
    message: 'Missing required field: name',
    requests: (app) => [
      ...rs(app, 'POST', '/customers', { referenceNumber: '1' }),
      ...rs(app, 'POST', '/v0/customers', {}),
    ],
  },
  {
    doc: 'The name field cannot be blank',
    source: 'emailsrvr-customers.txt, Errors',
    status: 400,
    message: 'Required field name cannot be empty',
    requests: (app) => [
      ...rs(app, 'POST', '/customers', { name: '' }),
      ...rs(app, 'PUT', '/customers/460181', { name: '' }),
    ],
  },
  {
    doc: 'Names cannot start with a space',
    source: 'emailsrvr-customers.txt, Errors',
    status: 400,
    message: 'Improper Customer Name',
    requests: (app) => [
      ...rs(app, 'POST', '/customers', { name: ' Leading' }),
      ...rs(app, 'PUT', '/v1/customers/460181', { name: ' Leading' }),
    ],
  },
  {
    doc: 'itemNotFoundFault (404, e.g. "Invalid account number")',
    source: 'vendor-notes.md, Rackspace',
    status: 404,
    message: 'Invalid account number',
    requests: (app) => [
      rsCall(app, { method: 'GET', url: '/v0/customers/999999999' }),
      rsCall(app, {
        method: 'PUT',
        url: '/customers/460100',
        headers: { 'content-type': 'application/json' },
        payload: '{"name":"x"}',
        accept: 'text/xml',
      }),
      rsCall(app, { method: 'GET', url: '/v0/customers?referenceNumber=no-such-ref' }),
    ],
  },
  {
    doc: '406 "Invalid format" for an Accept it cannot serve',
    source: 'vendor-notes.md, Rackspace',
    status: 406,
    message: 'Invalid format',
    requests: (app) => [rsCall(app, { method: 'GET', url: '/v0/customers/me', accept: 'image/png' })],
  },
  {
    doc: 'Failed authentication answers 403 (unauthorizedFault)',
    source: 'vendor-notes.md, Rackspace',
    status: 403,
    message: /./,
    requests: (app) => [
      app.inject({
        method: 'GET',
        url: '/v0/customers/me',
        headers: { 'user-agent': 'x', accept: 'application/json' },
      }),
      rsCall(app, {
        method: 'GET',
        url: '/v0/customers/me',
        headers: { 'x-api-signature': 'nope:20240101000000:AAAA' },
      }),
    ],
  },
];

describe('every documented error message is reachable', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it.skipIf(!haveSpecs)("Rackspace: every row of the document's Errors table has a case below", () => {
    const table = rackspaceErrorTable();
    expect(table.length).toBeGreaterThanOrEqual(3);
    for (const row of table)
      expect(
        RACKSPACE.some((d) => d.status === row.status && d.message === row.message),
        `${row.status} ${row.message}`,
      ).toBe(true);
  });

  for (const d of RACKSPACE) {
    it(`Rackspace ${d.status} ${String(d.message)} (${d.source}: ${d.doc})`, async () => {
      for (const res of await Promise.all(d.requests(app))) {
        expect(res.statusCode, res.body).toBe(d.status);
        const xml = /xml/.test(String(res.headers['content-type']));
        const message = xml
          ? /<message>([^<]*)<\/message>/.exec(res.body)?.[1]
          : Object.values(res.json() as Record<string, { message: string }>)[0].message;
        expect(message, res.body).toMatch(
          typeof d.message === 'string'
            ? new RegExp(`^${d.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
            : d.message,
        );
        expect(res.body).toMatch(/Fault/);
      }
    });
  }

  it('Rackspace "Exceeded request limits" (vendor-notes.md: throttling answers 403 with this message)', async () => {
    const limited = await makeApp({ emailsrvrRateLimit: 1 });
    try {
      await rsCall(limited, { method: 'GET', url: '/v0/customers/me' });
      for (const accept of ['application/json', 'text/xml']) {
        const res = await rsCall(limited, {
          method: 'POST',
          url: '/customers',
          headers: { 'content-type': 'application/json' },
          payload: '{"name":"x"}',
          accept,
        });
        expect(res.statusCode).toBe(403);
        expect(res.body).toContain('Exceeded request limits');
        expect(res.body).toContain('unauthorizedFault');
      }
    } finally {
      await limited.close();
    }
  });

  /**
   * RackCorp: a FAULT with HTTP 200, the documented envelope, `error` naming `field`, through REST,
   * json.php GET and POST.
   */
  async function rackcorpFault(
    cases: {
      rest: [string, string, Record<string, unknown>?];
      cmd: string;
      params: Record<string, unknown>;
      headers?: Record<string, string>;
    },
    field: string,
    message: RegExp,
  ) {
    const h = cases.headers ?? basic();
    const [method, url, body] = cases.rest;
    const answers = await Promise.all([
      app.inject({
        method: method as 'GET',
        url: `/api/rest/v2.9${url}`,
        headers: h,
        ...(body ? { payload: body } : {}),
      }),
      app.inject({
        method: 'GET',
        url: `/api/rest/v2.9/json.php?${new URLSearchParams({ cmd: cases.cmd, ...Object.fromEntries(Object.entries(cases.params).map(([k, v]) => [k, String(v)])) })}`,
        headers: h,
      }),
      app.inject({
        method: 'POST',
        url: '/api/rest/v2.9/json.php',
        headers: h,
        payload: { cmd: cases.cmd, ...cases.params },
      }),
    ]);
    for (const res of answers) {
      expect(res.statusCode, res.body).toBe(200);
      const b = res.json();
      expect(b.code).toBe('FAULT');
      expect(b.message).toMatch(message);
      expect(b.error?.[field], res.body).toMatch(/./);
    }
  }

  it('RackCorp "Invalid customer ID" (rackcorp-customers.txt, Error Responses)', () =>
    rackcorpFault({ rest: ['GET', '/customers/abc'], cmd: 'customer.get', params: { id: 'abc' } }, 'id', /id/));
  it('RackCorp "Customer not found" (rackcorp-customers.txt, Error Responses)', () =>
    rackcorpFault(
      {
        rest: ['PUT', '/customers/987654', { firstName: 'x' }],
        cmd: 'customer.update',
        params: { id: 987654, firstName: 'x' },
      },
      'id',
      /Customer not found/,
    ));
  it('RackCorp "Permission denied" (rackcorp-customers.txt, Error Responses): another tenant\'s customer', () =>
    rackcorpFault(
      {
        rest: ['GET', '/customers/123'],
        cmd: 'customer.get',
        params: { id: 123 },
        headers: basic(OTHER_UUID, OTHER_SECRET),
      },
      'id',
      /permission denied/,
    ));
  it('RackCorp billing FAULT (rackcorp-billing.txt, Error Responses): a bad parameter of a billing call', () =>
    rackcorpFault(
      { rest: ['GET', '/billing/pricing?customerId=987654'], cmd: 'pricing.get', params: { customerId: 987654 } },
      'customerId',
      /not found/,
    ));

  it('NeuCRM "error contains error description" (ispcrm-customers.txt): result null, error a description, on every call', async () => {
    for (const [op, fields] of [
      ['create', { type: 'Individual' }],
      ['update', { customerid: '999999' }],
      ['delete', { customerid: '999999' }],
      ['list', { rows_limit: 'x' }],
    ] as const) {
      for (const [type, payload] of [
        ['application/x-www-form-urlencoded', formBody({ ...ISPCRM, ...fields })],
        ['application/json', JSON.stringify({ ...ISPCRM, ...fields })],
      ]) {
        const res = await app.inject({
          method: 'POST',
          url: `/api/customer/${op}`,
          headers: { 'content-type': type },
          payload,
        });
        expect(res.statusCode).toBe(200);
        expect(res.json().result, res.body).toBeNull();
        expect(res.json().error).toMatch(/\w/);
      }
    }
  });

  it('UniPay "longer values are rejected with a clear error naming the field" (vendor-notes.md), JSON and XML', async () => {
    const customer = { accountId: 2001, phone: '1'.repeat(16) };
    const schema = {
      type: 'object',
      xml: { name: 'customer' },
      properties: { accountId: { type: 'integer', xml: { attribute: true } } },
    };
    for (const [type, payload] of [
      ['application/json', JSON.stringify(customer)],
      ['application/xml', xmlBody(customer, schema, { paths: {}, components: { schemas: {} } })],
    ]) {
      const res = await app.inject({
        method: 'PUT',
        url: '/api/v01/customers',
        headers: { authorization: UNIPAY, 'content-type': type, accept: 'application/json' },
        payload,
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().response).toMatchObject({ status: 400, field: 'phone' });
      expect(res.json().response.message).toMatch(/phone/);
    }
  });

  it('UniPay authentication: a service user whose login does not start with api- is refused (vendor-notes.md)', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v01/customers/1',
      headers: { authorization: unipayBasic('sandbox', 'mgmt-sandbox-password') },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().response.status).toBe(401);
  });
});
