/**
 * UniPay Management API under generated bad input: create (JSON and XML), find, load, valid
 * requests broken. Properties: never a 5xx, always the UniPay error body (`response` with
 * `E<status>`) in JSON or XML, a refused request changes nothing, and the "contains" filters
 * with metacharacters and non-ASCII text answer the Unicode-folded literal match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { makeApp } from '../helpers.js';
import { SANDBOX, OTHER, basic, fixtureCustomers } from '../mgmt/helpers.js';
import {
  META,
  RUNS,
  absurdNumber,
  fcParams,
  fuzzVendor,
  malformedBody,
  mutate,
  mutation,
  nastyString,
  toQuery,
  withBroken,
  type CaseBuilder,
} from './common.js';

function classify(res: LightMyRequestResponse, req: InjectOptions): 'ok' | 'refused' {
  const ct = String(res.headers['content-type'] ?? '');
  if (res.statusCode < 300) {
    expect(ct).toMatch(/json|xml/);
    return 'ok';
  }
  if (/json/.test(ct)) {
    const body = res.json();
    expect(Object.keys(body)).toEqual(['response']);
    expect(body.response.code).toBe(`E${res.statusCode}`);
    expect(body.response.status).toBe(res.statusCode);
    expect(typeof body.response.message).toBe('string');
  } else {
    expect(ct).toMatch(/xml/);
    expect(res.body).toMatch(
      new RegExp(
        `^<\\?xml version="1\\.0" encoding="UTF-8"\\?>\\r?\\n<response code="E${res.statusCode}" status="${res.statusCode}"[^>]*>\\r?\\n  <message>`,
      ),
    );
  }
  // JSON unless the client asked for XML.
  const accept = (req.headers as Record<string, string>).accept;
  if (accept === undefined || accept === 'application/json') expect(ct).toMatch(/json/);
  return 'refused';
}

const text = (valid: string[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: nastyString });
const customer = fc.record(
  {
    accountId: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(2001, 2002, '2001') },
      { weight: 1, arbitrary: fc.constantFrom(3001, 9999) },
      { weight: 1, arbitrary: absurdNumber },
    ),
    code: text(['ACME-1']),
    title: text(['Mr']),
    firstName: text(['Ada']),
    middleName: text(['B']),
    lastName: text(['Lovelace']),
    suffix: text(['Jr']),
    birthDate: text(['19600101', '20240230']),
    gender: text(['M', 'F']),
    organizationName: text(['Acme']),
    email: text(['ada@example.org']),
    phone: text(['12125551000']),
    street: text(['1 Main St']),
    city: text(['York']),
    state: text(['NY']),
    zipCode: text(['10001']),
    countryCode: text(['GB', 'us']),
  },
  { requiredKeys: ['accountId'] },
);
const findQuery = fc.record(
  {
    offset: fc.oneof(fc.nat(200), absurdNumber),
    limit: fc.oneof(fc.integer({ min: 1, max: 1000 }), absurdNumber),
    accountId: text(['2001', '3001']),
    firstName: text(['a']),
    lastName: text(['Smith']),
    organizationName: text(['Organic']),
    street: text(['Main']),
    city: text(['york']),
    email: text(['x@y.z']),
    phone: text(['1']),
    state: text(['NY']),
    zipCode: text(['10001']),
    countryCode: text(['US']),
  },
  { requiredKeys: [] },
);

const str = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
function toXml(c: Record<string, unknown>): string {
  const attrs = ['id', 'code', 'accountId']
    .filter((k) => k in c)
    .map((k) => ` ${k}="${str(c[k]).replace(/[&<"]/g, (m) => ({ '&': '&amp;', '<': '&lt;', '"': '&quot;' })[m]!)}"`)
    .join('');
  const kids = Object.entries(c)
    .filter(([k]) => !['id', 'code', 'accountId'].includes(k) && /^[A-Za-z]\w*$/.test(k))
    .map(([k, v]) => `<${k}>${str(v).replace(/[&<]/g, (m) => (m === '&' ? '&amp;' : '&lt;'))}</${k}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><customer${attrs}>${kids}</customer>`;
}

const cases: fc.Arbitrary<CaseBuilder> = fc
  .record({
    op: fc.oneof(
      fc.record({ kind: fc.constant('create' as const), body: customer, as: fc.constantFrom('json', 'xml') }),
      fc.record({ kind: fc.constant('find' as const), query: findQuery }),
      fc.record({
        kind: fc.constant('load' as const),
        id: fc.oneof(
          fc.constantFrom('1', '111', '150', '170', '171', '0', '99999'),
          nastyString.map(encodeURIComponent),
        ),
      }),
      fc.record({
        kind: fc.constant('other' as const),
        method: fc.constantFrom('DELETE', 'POST', 'PATCH', 'GET', 'PUT'),
        path: fc.constantFrom('/api/v01/customers/1', '/api/v01/nope', '/api/v01/customers/1/x', '/api/v01/customers'),
      }),
    ),
    auth: fc.oneof(
      { weight: 8, arbitrary: fc.constant(SANDBOX as string | undefined) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          OTHER,
          undefined,
          basic('api-disabled', 'mgmt-disabled-password'),
          basic('jsmith', 'portal-password'),
          'Basic %%%',
          'Basic ' + Buffer.from("api-' OR 1=1 --:x").toString('base64'),
          'Bearer x',
        ),
      },
    ),
    accept: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(undefined, 'application/json', 'application/xml') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('text/html', '*/*', 'text/xml;q=0.5, application/json', ';;', 'application/*'),
      },
    ),
    muts: fc.array(mutation, { maxLength: 3 }),
    broken: fc.option(malformedBody, { freq: 6 }),
  })
  .map(({ op, auth, accept, muts, broken }) => (session: string) => {
    const headers: Record<string, string> = { 'x-emulator-session': session };
    if (auth) headers.authorization = auth;
    if (accept) headers.accept = accept;
    let req: InjectOptions;
    if (op.kind === 'create') {
      const body = mutate(op.body, muts);
      headers['content-type'] = op.as === 'json' ? 'application/json' : 'application/xml';
      req = {
        method: 'PUT',
        url: '/api/v01/customers',
        headers,
        payload: op.as === 'json' ? JSON.stringify(body) : toXml(body),
      };
    } else if (op.kind === 'find')
      req = { method: 'GET', url: `/api/v01/customers?${toQuery(mutate(op.query, muts))}`, headers };
    else if (op.kind === 'load') req = { method: 'GET', url: `/api/v01/customers/${op.id}`, headers };
    else req = { method: op.method as 'GET', url: op.path, headers, payload: op.method === 'GET' ? undefined : '{}' };
    return withBroken(req, broken);
  });

describe('UniPay Management API: generated bad input', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it(`never 5xx, always the UniPay error body, a refusal changes nothing (${RUNS} cases)`, async () => {
    await fuzzVendor(app, { prefix: 'mgmt_', name: 'mgmt', cases, classify });
  });

  it('contains filters with metacharacters and non-ASCII text answer the folded literal match', async () => {
    const mine = fixtureCustomers.filter((c) => c.account_id === 2001 || c.account_id === 2002);
    const cols = {
      lastName: 'last_name',
      city: 'city',
      organizationName: 'organization_name',
      street: 'street',
      firstName: 'first_name',
    } as const;
    const piece = fc.oneof(
      fc.constantFrom(...META.filter((m) => !/[\u0000\r\n\t]/.test(m)), 'ü', 'Ü', 'ß', 'a', 'o', ' '),
      fc
        .constantFrom(...mine.flatMap((c) => Object.values(cols).map((k) => c[k])).filter((v): v is string => !!v))
        .chain((s) => fc.nat(s.length).map((i) => s.slice(i, i + 3))),
    );
    const value = fc
      .array(piece, { minLength: 1, maxLength: 3 })
      .map((a) => a.join(''))
      .filter((v) => v.trim() !== '' && v.length <= 50);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...(Object.keys(cols) as (keyof typeof cols)[])), value, async (field, v) => {
        const res = await app.inject({
          method: 'GET',
          url: `/api/v01/customers?${toQuery({ [field]: v, limit: 1000 })}`,
          headers: { authorization: SANDBOX, 'x-emulator-session': 'mgmt-search' },
        });
        expect(res.statusCode, res.body).toBe(200);
        const want = mine
          .filter((c) => (c[cols[field]] ?? '').toLowerCase().includes(v.toLowerCase()))
          .map((c) => c.id);
        expect(
          (res.json() as { id: number }[]).map((c) => c.id),
          JSON.stringify({ field, v }),
        ).toEqual(want);
      }),
      fcParams(Math.max(200, Math.floor(RUNS / 5))),
    );
  });
});
