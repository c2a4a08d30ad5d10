/**
 * Rackspace Email & Apps under generated bad input: every route (Index/Search on the three
 * prefixes, Show, Show me, Add, Edit, Delete), valid requests broken. Properties: never a 5xx,
 * a fault's root element in the negotiated format (XML by default), a refused request changes
 * nothing, and startswith/contains with metacharacters answer the literal match.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { makeApp } from '../helpers.js';
import { signed, SANDBOX, OTHER } from '../emailsrvr/helpers.js';
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
  toQuery,
  withBroken,
  type CaseBuilder,
} from './common.js';

const accounts = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../../fixtures/emailsrvr/emailsrvr_accounts.json'), 'utf8'),
) as { account_number: number; name: string; reference_number: string | null; reseller_account: number | null }[];
const FAULTS = ['badRequestFault', 'validationFault', 'unauthorizedFault', 'itemNotFoundFault'];

function classify(res: LightMyRequestResponse, req: InjectOptions): 'ok' | 'refused' {
  const ct = String(res.headers['content-type'] ?? '');
  const accept = (req.headers as Record<string, string>).accept;
  if (req.method === 'HEAD') return res.statusCode < 300 ? 'ok' : 'refused'; // no body to judge
  if (res.statusCode < 300) {
    if (res.body !== '') expect(ct).toMatch(/json|xml/);
    return 'ok';
  }
  // The error is in the negotiated format: JSON only when asked for, and never for a 406.
  if (accept === 'application/json' && res.statusCode !== 406) expect(ct).toMatch(/json/);
  if (/json/.test(ct)) {
    const body = res.json();
    const keys = Object.keys(body);
    expect(keys).toHaveLength(1);
    expect(FAULTS).toContain(keys[0]);
    expect(body[keys[0]].code).toBe(res.statusCode);
    expect(typeof body[keys[0]].message).toBe('string');
  } else {
    expect(ct).toMatch(/xml/);
    const m =
      /^<\?xml version="1\.0" encoding="utf-8"\?>\r?\n<(\w+) code="(\d+)">\r?\n {2}<message>[^<]*<\/message>/.exec(
        res.body,
      );
    expect(m, res.body).not.toBeNull();
    expect(FAULTS).toContain(m![1]);
    expect(Number(m![2])).toBe(res.statusCode);
  }
  return 'refused';
}

const acct = fc.constantFrom(
  '460181',
  '460182',
  '460250',
  '460101',
  '460100',
  '460180',
  'me',
  '999999',
  '0',
  '-1',
  '1e3',
  '%20',
  '460182.0',
);
const prefixes = fc.constantFrom('/v0/customers', '/v1/customers', '/customers', '/_sessions/SESSION/v1/customers');
const accepts = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'text/xml', 'application/xml') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      '*/*',
      'application/json;q=0.1, text/xml',
      'text/html',
      'application/json;q=0',
      ';;;',
      'application/*',
    ),
  },
  { weight: 1, arbitrary: nastyString },
);
const keys = fc.oneof(
  { weight: 9, arbitrary: fc.constant(SANDBOX) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      OTHER,
      { userKey: 'nope', secretKey: 'x', account: 0 },
      { userKey: "'%_", secretKey: '\\', account: 0 },
    ),
  },
);
const customerFields = fc.record(
  {
    name: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), nastyString),
    referenceNumber: fc.oneof(fc.integer({ min: 0, max: 99999 }).map(String), nastyString),
  },
  { requiredKeys: [] },
);

const ops: fc.Arbitrary<{
  method: InjectOptions['method'];
  path: (p: string) => string;
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
}> = fc.oneof(
  fc.record({
    method: fc.constant('GET' as const),
    path: fc.constant((p: string) => p),
    query: fc.record(
      {
        page: fc.oneof(fc.integer({ min: 1, max: 5 }), absurdNumber),
        size: fc.oneof(fc.integer({ min: 1, max: 300 }), absurdNumber),
        offset: fc.oneof(fc.nat(200), absurdNumber),
        startswith: nastyString,
        contains: nastyString,
        referenceNumber: fc.oneof(fc.constantFrom('49', '23'), nastyString),
      },
      { requiredKeys: [] },
    ),
  }),
  acct.map((a) => ({ method: 'GET' as const, path: (p: string) => `${p}/${a}` })),
  customerFields.map((body) => ({ method: 'POST' as const, path: (p: string) => p, body })),
  fc
    .tuple(acct, customerFields)
    .map(([a, body]) => ({ method: 'PUT' as const, path: (p: string) => `${p}/${a}`, body })),
  acct.map((a) => ({ method: 'DELETE' as const, path: (p: string) => `${p}/${a}` })),
  fc
    .constantFrom('PATCH', 'HEAD', 'OPTIONS')
    .map((m) => ({ method: m as 'PATCH', path: (p: string) => `${p}/460182` })),
);

const cases: fc.Arbitrary<CaseBuilder> = fc
  .record({
    op: ops,
    prefix: prefixes,
    accept: accepts,
    key: keys,
    muts: fc.array(mutation, { maxLength: 3 }),
    as: fc.constantFrom('json', 'form', 'xml') as fc.Arbitrary<'json' | 'form' | 'xml'>,
    broken: fc.option(malformedBody, { freq: 6 }),
  })
  .map(({ op, prefix, accept, key, muts, as, broken }) => (session: string) => {
    const headers: Record<string, string> = signed(appRef, key, {}, session);
    if (accept !== undefined) headers.accept = accept;
    let url = op.path(prefix.replace('SESSION', session));
    if (op.query) url += `?${toQuery(mutate(op.query, muts))}`;
    const req: InjectOptions = { method: op.method, url, headers };
    if (op.body) {
      const enc = encodeBody(mutate(op.body, muts), as);
      headers['content-type'] = enc.contentType;
      req.payload = enc.payload;
    }
    return withBroken(req, broken);
  });

let appRef: FastifyInstance;

describe('Rackspace Email & Apps: generated bad input', () => {
  beforeAll(async () => {
    appRef = await makeApp();
  });
  afterAll(async () => {
    await appRef.close();
  });

  it(`never 5xx, faults in the negotiated format, a refusal changes nothing (${RUNS} cases)`, async () => {
    await fuzzVendor(appRef, { prefix: 'emailsrvr_', name: 'es', cases, classify });
  });

  it('startswith / contains with metacharacters answer the literal match over the fixture rows', async () => {
    const mine = accounts.filter((a) => a.reseller_account === SANDBOX.account);
    const hay = (a: (typeof mine)[number]) =>
      [a.name, String(a.account_number), a.reference_number ?? ''].map((s) => s.toLowerCase());
    const piece = fc.oneof(
      fc.constantFrom(...META.filter((m) => !/[\u0000\r\n\t]/.test(m)), 'api', 'Customer', '1', '4601', ' '),
      fc.constantFrom(...mine.flatMap(hay)).chain((s) => fc.nat(s.length).map((i) => s.slice(i, i + 3))),
    );
    const text = fc.array(piece, { minLength: 1, maxLength: 3 }).map((a) => a.join(''));
    await fc.assert(
      fc.asyncProperty(fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), async (sw, ct) => {
        const q: Record<string, unknown> = { size: 250 };
        if (sw !== undefined) q.startswith = sw;
        if (ct !== undefined) q.contains = ct;
        const res = await appRef.inject({
          method: 'GET',
          url: `/v1/customers?${toQuery(q)}`,
          headers: signed(appRef, SANDBOX, { accept: 'application/json' }, 'es-search'),
        });
        expect(res.statusCode, res.body).toBe(200);
        const got = (res.json().customers as { accountNumber: string }[]).map((c) => Number(c.accountNumber)).sort();
        const want = mine
          .filter(
            (a) =>
              (sw === undefined || sw === '' || hay(a).some((h) => h.startsWith(sw.toLowerCase()))) &&
              (ct === undefined || ct === '' || hay(a).some((h) => h.includes(ct.toLowerCase()))),
          )
          .map((a) => a.account_number)
          .sort();
        expect(got, JSON.stringify(q)).toEqual(want);
      }),
      fcParams(Math.max(200, Math.floor(RUNS / 5))),
    );
  });
});
