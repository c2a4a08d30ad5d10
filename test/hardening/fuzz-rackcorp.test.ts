/**
 * RackCorp under generated bad input. Valid requests are generated from each operation's input
 * schema in the `operations` table (every REST binding, json.php GET, json.php POST as JSON, form
 * and text/plain), then broken. Properties: never a 5xx, always the RackCorp envelope (HTTP 200,
 * or 413 for an oversized body), a FAULT changes nothing, and `keyword` search with
 * metacharacters answers what a literal match over the fixture rows answers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { makeApp } from '../helpers.js';
import { operations } from '../../src/routes/rackcorp/index.js';
import {
  ChangeWatcher,
  META,
  fcParams,
  malformedBody,
  mutate,
  mutation,
  nastyString,
  toQuery,
  RUNS,
} from './common.js';

const BASIC = `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`;
const fixtures = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../../fixtures/rackcorp/rackcorp_customers.json'), 'utf8'),
) as Record<string, any>[];
const VISIBLE_IDS = [1, 2, 5, 61, 123, 456];

type Schema = Record<string, any>;

/** A valid value for a JSON schema (TypeBox output): what a well-behaved client would send. */
function valid(schema: Schema, key = ''): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s: Schema) => valid(s, key)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer': {
      if (/id$/i.test(key)) return fc.constantFrom(...VISIBLE_IDS, 999999);
      const min = schema.minimum ?? 0;
      return fc.integer({ min, max: Math.min(schema.maximum ?? min + 50, min + 50) });
    }
    case 'number':
      return fc.oneof(fc.integer({ min: 1, max: 99 }), fc.constantFrom(12.5, 0.01));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'string': {
      if (schema.format === 'email') return fc.constantFrom('a@example.com', 'x.y+z@example.org');
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      if (/^time_/.test(key) || key === 'expires') return fc.constantFrom('2024-01-01', '2024-12-31', '2099-01-01');
      if (/promocode/i.test(key)) return fc.constantFrom('PROMO123', 'SUMMER2023', 'LAUNCH50', 'NOPE');
      if (key === 'type') return fc.constantFrom('usage', 'billing');
      if (key === 'summary') return fc.constantFrom('services', 'customer_resource');
      if (key === 'url') return fc.constantFrom('https://portal.example.com', 'http://x.example');
      const min = schema.minLength ?? 0;
      return fc.string({ minLength: Math.max(min, 1), maxLength: Math.max(min, Math.min(schema.maxLength ?? 20, 20)) });
    }
    case 'array':
      return fc.array(valid(schema.items), { minLength: Math.max(schema.minItems ?? 0, 1), maxLength: 2 });
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set<string>(schema.required ?? []);
      const rec: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) rec[k] = valid(s as Schema, k);
      return fc.record(rec, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    default:
      return fc.string({ maxLength: 10 });
  }
}

type Binding =
  | { kind: 'rest'; method: string; path: string }
  | { kind: 'getphp' }
  | { kind: 'postphp'; as: 'json' | 'form' | 'text' };

const bindingsOf = (op: (typeof operations)[number]): Binding[] => [
  ...op.rest.map((r) => ({ kind: 'rest' as const, method: r.method as string, path: r.path })),
  { kind: 'getphp' },
  { kind: 'postphp', as: 'json' },
  { kind: 'postphp', as: 'form' },
  { kind: 'postphp', as: 'text' },
];

/** Build the HTTP request for params through a binding. */
function request(
  cmd: string,
  binding: Binding,
  params: Record<string, unknown>,
  headers: Record<string, string>,
): InjectOptions {
  if (binding.kind === 'getphp')
    return { method: 'GET', url: `/api/rest/v2.9/json.php?${toQuery({ cmd, ...params })}`, headers };
  if (binding.kind === 'postphp') {
    const body = { cmd, ...params };
    if (binding.as === 'form')
      return {
        method: 'POST',
        url: '/api/v2.9/json.php',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: toQuery(body),
      };
    return {
      method: 'POST',
      url: '/api/rest/v2.9/json.php',
      headers: { ...headers, 'content-type': binding.as === 'json' ? 'application/json' : 'text/plain' },
      payload: JSON.stringify(body),
    };
  }
  const rest = { ...params };
  const url = binding.path.replace(/:(\w+)/g, (_m, name: string) => {
    const v = rest[name];
    delete rest[name];
    return encodeURIComponent(v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  });
  if (binding.method === 'GET') return { method: 'GET', url: `/api/rest/v2.9${url}?${toQuery(rest)}`, headers };
  return {
    method: binding.method as 'POST',
    url: `/api/v2.9${url}`,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(rest),
  };
}

const authHeaders = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ authorization: BASIC }) },
  { weight: 1, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      nastyString.map((s) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` })),
      nastyString.map((s) => ({ authorization: `Bearer ${encodeURIComponent(s)}` })),
      fc.constantFrom(
        { authorization: 'Basic' },
        { authorization: 'Basic !!!' },
        { authorization: 'Bearer a.b.c' },
        { cookie: 'JWTSESSIONID=%zz' },
        { cookie: 'JWTSESSIONID=' },
        { apiuuid: "' OR 1=1 --", apisecret: '%' },
      ),
    ),
  },
);

const opArb = fc.constantFrom(...operations).chain((op) =>
  fc.record({
    op: fc.constant(op),
    binding: fc.constantFrom(...bindingsOf(op)),
    params: valid(op.input as Schema) as fc.Arbitrary<Record<string, unknown>>,
    muts: fc.array(mutation, { maxLength: 3 }),
    auth: authHeaders,
    broken: fc.option(malformedBody, { freq: 8 }),
  }),
);

function checkEnvelope(status: number, text: string, what = ''): { code: string; body: any } {
  expect(status, `${what} -> ${text.slice(0, 300)}`).toBeLessThan(500);
  expect([200, 413]).toContain(status);
  const body = JSON.parse(text);
  expect(['OK', 'FAULT']).toContain(body.code);
  if (body.code === 'FAULT') {
    expect(typeof body.message).toBe('string');
    expect(['Client', 'Auth']).toContain(body.fault.faultcode);
    expect(body.fault.faultstring).toBe(body.message);
  }
  return { code: body.code, body };
}

describe('RackCorp: generated bad input', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it(`never 5xx, always the envelope, a FAULT changes nothing (${RUNS} cases)`, async () => {
    let session = 0;
    let watcher: ChangeWatcher | null = null;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(opArb, async ({ op, binding, params, muts, auth, broken }) => {
        // A fresh session every 250 cases, so accumulated writes never starve the rest of the run.
        if (n++ % 250 === 0 || watcher === null) {
          session++;
          watcher = new ChangeWatcher(app, 'rackcorp_', `fuzz-rc-${session}`);
        }
        const headers = { ...auth, 'x-emulator-session': `fuzz-rc-${session}` } as Record<string, string>;
        const req = request(op.cmd, binding, mutate(params, muts), headers);
        if (broken && req.method !== 'GET') {
          req.payload = broken.payload;
          if (broken.contentType) (req.headers as Record<string, string>)['content-type'] = broken.contentType;
          else delete (req.headers as Record<string, string>)['content-type'];
        }
        const res = await app.inject(req);
        const { code } = checkEnvelope(
          res.statusCode,
          res.body,
          JSON.stringify({ m: req.method, u: req.url, h: req.headers, p: String(req.payload ?? '').slice(0, 300) }),
        );
        const changed = watcher.changed();
        if (code === 'FAULT') expect(changed, `${op.cmd} refused but wrote: ${res.body}`).toBe(false);
      }),
      fcParams(),
    );
  });

  it('keyword search with metacharacters answers the literal match over the fixture rows', async () => {
    // The sandbox key acts as customer 1: its tree is every fixture customer below it.
    const tree = new Set<number>([1]);
    for (let grew = true; grew;) {
      grew = false;
      for (const c of fixtures)
        if (c.parentID !== null && tree.has(c.parentID) && !tree.has(c.id)) {
          tree.add(c.id);
          grew = true;
        }
    }
    const mine = fixtures.filter((c) => tree.has(c.id));
    const hay = (c: Record<string, any>) =>
      [
        c.stdName,
        c.companyName,
        c.firstName,
        c.lastName,
        `${c.firstName} ${c.lastName}`,
        c.customID,
        c.companyABN,
        c.companyACN,
      ]
        .filter((v) => typeof v === 'string')
        .map((v: string) => v.toLowerCase());
    const pieces = fc.oneof(
      fc.constantFrom(...META.filter((m) => !m.includes('\u0000')), 'a', 'E', 'x', ' ', '1', '0'),
      fc.constantFrom(...mine.flatMap(hay)).chain((s) => fc.nat(s.length).map((i) => s.slice(i, i + 4))),
    );
    const keyword = fc
      .array(pieces, { minLength: 1, maxLength: 3 })
      .map((a) => a.join(''))
      .filter((k) => k !== '' && k.length <= 255);
    const bindings = ['rest', 'getphp', 'postphp'] as const;
    await fc.assert(
      fc.asyncProperty(keyword, fc.constantFrom(...bindings), async (kw, b) => {
        const params = { keyword: kw, resWindow: 1000 };
        const req: InjectOptions =
          b === 'rest'
            ? { method: 'GET', url: `/api/v2.9/customers?${toQuery(params)}` }
            : b === 'getphp'
              ? { method: 'GET', url: `/api/rest/v2.9/json.php?${toQuery({ cmd: 'customer.getall', ...params })}` }
              : { method: 'POST', url: '/api/rest/v2.9/json.php', payload: { cmd: 'customer.getall', ...params } };
        req.headers = { authorization: BASIC, 'x-emulator-session': 'fuzz-rc-search' };
        const res = await app.inject(req);
        const { body } = checkEnvelope(res.statusCode, res.body);
        expect(body.code, res.body).toBe('OK');
        const k = kw.toLowerCase();
        const expected = mine
          .filter((c) => hay(c).some((h) => h.includes(k)))
          .map((c) => c.id)
          .sort((a, b2) => a - b2);
        expect(
          body.customers.map((c: { id: number }) => c.id),
          `keyword ${JSON.stringify(kw)}`,
        ).toEqual(expected);
        expect(body.count).toBe(expected.length);
      }),
      fcParams(Math.max(200, Math.floor(RUNS / 5))),
    );
  });
});
