/**
 * ISP CRM (NeuCRM) under generated bad input: list, create, update, delete, as form and JSON
 * bodies, valid requests broken. Properties: never a 5xx, always NeuCRM's
 * `{"result": ..., "error": ...}` envelope, a refused call changes nothing, and `name` /
 * `username` filters (where only `%` is a wildcard) answer what the documented match computes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { makeApp } from '../helpers.js';
import { creds, fx, visible, R1 } from '../ispcrm/helpers.js';
import {
  META,
  RUNS,
  absurdNumber,
  encodeBody,
  fcParams,
  fuzzVendor,
  malformedBody,
  mutate,
  mutation,
  nastyString,
  type CaseBuilder,
} from './common.js';

function classify(res: LightMyRequestResponse): 'ok' | 'refused' {
  expect(String(res.headers['content-type'])).toMatch(/application\/json/);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['error', 'result']);
  if (body.error !== null) {
    expect(body.result).toBeNull();
    expect(typeof body.error).toBe('string');
    expect([200, 400, 404, 405, 413, 415]).toContain(res.statusCode);
    return 'refused';
  }
  expect(res.statusCode).toBe(200);
  return 'ok';
}

const customerId = fc.oneof(
  fc.constantFrom(
    ...visible(R1)
      .slice(0, 5)
      .map((c) => c.id),
    1230,
    1235,
    99999,
  ),
  absurdNumber,
);
const text = (valid: string[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: nastyString });
const customerFields = {
  type: text(['Individual', 'Organisation']),
  name: text(['Some Name', 'R_K Traders']),
  surname: text(['Rao']),
  dob: text(['1990-01-31', '2024-02-30']),
  mobile: text(['12344444']),
  email: text(['abc@email.com']),
  uniqueid: text(['U1']),
  zipcode: text(['403001']),
  state: text(['Goa']),
  city: text(['Panaji']),
  street: text(['3rd street']),
  notes: text(['n']),
  resellerid: text(['1', '2', '3']),
  ispid: text(['1', '2']),
};
const required = [
  'type',
  'name',
  'mobile',
  'email',
  'zipcode',
  'state',
  'city',
  'street',
] as (keyof typeof customerFields)[];
const listFields = {
  customerid: customerId,
  serviceid: fc.oneof(fc.constantFrom('5001', '5002'), absurdNumber),
  type: text(['Individual']),
  name: text(['xyz%', '%Traders', 'R_K%']),
  username: text(['xyz_%', 'abc_1094']),
  mobile: text(['1']),
  email: text(['a@b.c']),
  zipcode: text(['1']),
  state: text(['Goa']),
  city: text(['Margao']),
  created_from: text(['2023-01-01']),
  created_upto: text(['2024-12-31']),
  rows_limit: fc.oneof(fc.integer({ min: 1, max: 100 }), absurdNumber),
  rows_offset: fc.oneof(fc.nat(150), absurdNumber),
  sort_field: text(['id', 'name', 'mobile', 'email']),
  sort_order: text(['asc', 'desc']),
  show_count: text(['1', '0']),
  ispid: text(['1']),
  resellerid: text(['1']),
};
const users = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(creds(5), creds(1)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      creds(4),
      {},
      { userid: '5' },
      { userid: "5' OR 1=1 --", api_key: '%' },
      { userid: '٥', api_key: creds(5).api_key },
    ),
  },
);

const ops = fc.oneof(
  fc.record({ op: fc.constant('list'), fields: fc.record(listFields, { requiredKeys: [] }) }),
  fc.record({ op: fc.constant('create'), fields: fc.record(customerFields, { requiredKeys: required }) }),
  fc.record({
    op: fc.constant('update'),
    fields: fc.record(
      { customerid: customerId, ...customerFields, reset_password: text(['Y', 'N']) },
      { requiredKeys: ['customerid'] },
    ),
  }),
  fc.record({ op: fc.constant('delete'), fields: fc.record({ customerid: customerId }) }),
  fc.record({ op: fc.constantFrom('x', 'list/extra', '', '..%2Flist', 'LIST'), fields: fc.constant({}) }),
);

const cases: fc.Arbitrary<CaseBuilder> = fc
  .record({
    op: ops,
    user: users,
    muts: fc.array(mutation, { maxLength: 3 }),
    as: fc.constantFrom('json', 'form') as fc.Arbitrary<'json' | 'form'>,
    method: fc.oneof(
      { weight: 9, arbitrary: fc.constant('POST') },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH') },
    ),
    broken: fc.option(malformedBody, { freq: 6 }),
  })
  .map(({ op, user, muts, as, method, broken }) => (session: string) => {
    const fields = mutate({ ...user, ...op.fields }, muts);
    const enc = encodeBody(fields, as);
    const req: InjectOptions = {
      method: method as 'POST',
      url: `/api/customer/${op.op}`,
      headers: { 'x-emulator-session': session, 'content-type': enc.contentType },
      payload: enc.payload,
    };
    if (broken) {
      req.payload = broken.payload;
      if (broken.contentType) (req.headers as Record<string, string>)['content-type'] = broken.contentType;
      else delete (req.headers as Record<string, string>)['content-type'];
    }
    return req;
  });

describe('ISP CRM: generated bad input', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it(`never 5xx, always the NeuCRM envelope, a refusal changes nothing (${RUNS} cases)`, async () => {
    await fuzzVendor(app, { prefix: 'ispcrm_', name: 'isp', cases, classify });
  });

  it('name / username filters with metacharacters answer the documented match (only % is a wildcard)', async () => {
    const mine = visible(R1);
    const matcher = (pattern: string) => {
      const re = new RegExp(
        `^${pattern
          .split('%')
          .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'is',
      );
      return (s: string) => re.test(s);
    };
    const piece = fc.oneof(
      fc.constantFrom(...META.filter((m) => !/[\u0000]/.test(m)), 'xyz', 'R', 'K', 'Traders', 'A', '1'),
      fc
        .constantFrom(...mine.map((c) => c.name), ...fx.services.map((s) => s.username))
        .chain((s) => fc.nat(s.length).map((i) => s.slice(i, i + 4))),
    );
    const pattern = fc
      .array(piece, { minLength: 1, maxLength: 4 })
      .map((a) => a.join(''))
      .filter((p) => p.trim() !== '');
    await fc.assert(
      fc.asyncProperty(pattern, fc.constantFrom('name', 'username'), async (p, field) => {
        const res = await app.inject({
          method: 'POST',
          url: '/api/customer/list',
          headers: { 'x-emulator-session': 'isp-search' },
          payload: { ...creds(R1), [field]: p, show_count: '1' },
        });
        const body = res.json();
        expect(body.error, JSON.stringify({ field, p })).toBeNull();
        // NeuCRM trims values; the match is on the trimmed pattern.
        const m = matcher(p.trim());
        const want = mine.filter((c) =>
          field === 'name' ? m(c.name) : fx.services.some((s) => s.customerid === c.id && m(s.username)),
        );
        expect(body.result, JSON.stringify({ field, p })).toBe(want.length);
      }),
      fcParams(Math.max(200, Math.floor(RUNS / 5))),
    );
  });
});
