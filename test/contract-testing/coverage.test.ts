/**
 * /_emulator/coverage: every documented operation, binding, outcome and parameter, counted from
 * the requests a client sent, in JSON, Markdown and JUnit, per session and over the app's life.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { basic, API_UUID, API_SECRET } from '../rackcorp/helpers.js';
import { call as emailsrvr } from '../emailsrvr/helpers.js';
import { SANDBOX as MGMT } from '../mgmt/helpers.js';
import { SANDBOX as CRM } from '../ispcrm/helpers.js';
import { parseXml } from '../../src/routes/shared/xml.js';
import { Coverage } from '../../src/server/control/coverage.js';
import { startEmulator } from '../../src/server/start.js';

type Report = {
  scope: string;
  vendors: {
    vendor: string;
    summary: Record<string, number>;
    neverExercised: string[];
    outcomesNeverSeen: string[];
    operations: Op[];
    otherRequests: { name: string; requests: number; outcomes: Record<string, number> }[];
  }[];
};
type Op = {
  operation: string;
  requests: number;
  bindings: { binding: string; count: number }[];
  outcomes: { outcome: string; count: number; transport: boolean }[];
  parameters: { name: string; count: number }[];
  undocumentedParameters: { name: string; count: number }[];
  undocumentedOutcomes: { outcome: string; count: number }[];
};

async function report(app: FastifyInstance, query = ''): Promise<Report> {
  const r = await app.inject({ method: 'GET', url: `/_emulator/coverage${query}` });
  expect(r.statusCode).toBe(200);
  return r.json() as Report;
}
const op = (r: Report, vendor: string, name: string): Op =>
  r.vendors.find((v) => v.vendor === vendor)!.operations.find((o) => o.operation === name)!;
const count = (list: { count: number }[] & { binding?: string }[], key: string) =>
  (list as { count: number; binding?: string; outcome?: string; name?: string }[]).find(
    (x) => (x.binding ?? x.outcome ?? x.name) === key,
  )?.count;

describe('contract coverage', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('lists every documented operation and response status of each served OpenAPI document, all at zero on a fresh app', async () => {
    const r = await report(app, '?session=fresh-one');
    expect(r.vendors.map((v) => v.vendor)).toEqual(['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt']);
    for (const v of r.vendors) {
      const doc = (await app.inject({ method: 'GET', url: `/_emulator/openapi/${v.vendor}.json` })).json() as {
        paths: Record<string, Record<string, { 'x-operation'?: string; responses?: Record<string, unknown> }>>;
      };
      const documented = new Map<string, Set<string>>();
      for (const item of Object.values(doc.paths)) {
        for (const o of Object.values(item)) {
          if (typeof o !== 'object' || !o['x-operation']) continue;
          const s = documented.get(o['x-operation']) ?? new Set<string>();
          for (const status of Object.keys(o.responses ?? {})) s.add(status);
          documented.set(o['x-operation'], s);
        }
      }
      expect(new Set(v.operations.map((o) => o.operation))).toEqual(new Set(documented.keys()));
      for (const o of v.operations) {
        expect(new Set(o.outcomes.map((x) => x.outcome.split(' ')[0]))).toEqual(documented.get(o.operation));
        expect(o.requests).toBe(0);
      }
      expect(v.neverExercised).toEqual(v.operations.map((o) => o.operation));
      expect(v.summary.operationsExercised).toBe(0);
      expect(v.outcomesNeverSeen.length).toBe(v.summary.outcomes);
    }
  });

  it('RackCorp: counts REST, json.php GET and json.php POST, and tells the FAULT kinds apart', async () => {
    const s = { 'x-emulator-session': 'rc' };
    await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers/123', headers: { ...s, ...basic() } });
    await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers/123', headers: s });
    await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers/999999', headers: { ...s, ...basic() } });
    await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers/abc', headers: { ...s, ...basic() } });
    await app.inject({
      method: 'GET',
      url: `/api/rest/v2.9/json.php?cmd=customer.get&id=123&APIUUID=${API_UUID}&APISECRET=${API_SECRET}`,
      headers: s,
    });
    await app.inject({
      method: 'POST',
      url: '/api/rest/v2.9/json.php',
      headers: { ...s, 'content-type': 'application/json' },
      payload: { cmd: 'customer.get', id: 123, APIUUID: API_UUID, APISECRET: API_SECRET, bogus: 1 },
    });
    await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers?keyword=Example', headers: { ...s, ...basic() } });
    const r = await report(app, '?session=rc');
    const get = op(r, 'rackcorp', 'customer.get');
    expect(get.requests).toBe(6);
    expect(get.bindings).toEqual([
      { binding: 'REST', count: 4 },
      { binding: 'json.php GET', count: 1 },
      { binding: 'json.php POST', count: 1 },
    ]);
    expect(count(get.outcomes, '200 success')).toBe(3);
    expect(count(get.outcomes, '200 fault: auth')).toBe(1);
    expect(count(get.outcomes, '200 fault: not-found')).toBe(1);
    expect(count(get.outcomes, '200 fault: validation')).toBe(1);
    expect(get.undocumentedOutcomes).toEqual([]);
    // `id` is a path parameter in REST and a field in json.php; `bogus` is no documented field.
    expect(get.undocumentedParameters).toEqual(
      expect.arrayContaining([
        { name: 'cmd', count: 2 },
        { name: 'id', count: 2 },
        { name: 'bogus', count: 1 },
      ]),
    );
    const all = op(r, 'rackcorp', 'customer.getall');
    expect(count(all.parameters, 'keyword')).toBe(1);
    expect(count(all.parameters, 'resWindow')).toBe(0);
    const v = r.vendors.find((x) => x.vendor === 'rackcorp')!;
    expect(v.neverExercised).not.toContain('customer.get');
    expect(v.neverExercised).toContain('billing.usage.get');
    expect(v.outcomesNeverSeen).toContain('customer.getall -> 200 fault: auth');
    expect(v.outcomesNeverSeen).not.toContain('customer.get -> 200 fault: auth');
    // The default state saw none of it.
    expect(op(await report(app), 'rackcorp', 'customer.get').requests).toBe(0);
  });

  it('a repeated answer counts as the same outcome each time, interleaved with other answers at the same status', async () => {
    const s = { 'x-emulator-session': 'rc-repeat', ...basic() };
    const get = (id: string) => app.inject({ method: 'GET', url: `/api/rest/v2.9/customers/${id}`, headers: s });
    for (const id of ['999999', '123', '999999', 'abc', '123', '999999', '999998', 'abc'])
      expect((await get(id)).statusCode).toBe(200);
    const c = op(await report(app, '?session=rc-repeat'), 'rackcorp', 'customer.get');
    expect(c.requests).toBe(8);
    expect(count(c.outcomes, '200 fault: not-found')).toBe(4);
    expect(count(c.outcomes, '200 success')).toBe(2);
    expect(count(c.outcomes, '200 fault: validation')).toBe(2);
    expect(c.undocumentedOutcomes).toEqual([]);
  });

  it('Rackspace: JSON and XML bindings, the 200, 400 kinds, 403 and 404 outcomes', async () => {
    const session = 'es';
    await emailsrvr(app, { method: 'GET', url: '/v0/customers/460182', session });
    await emailsrvr(app, { method: 'GET', url: '/v0/customers/460182', session, accept: 'text/xml' });
    await emailsrvr(app, { method: 'GET', url: '/v0/customers/999999', session, accept: 'text/xml' });
    await app.inject({
      method: 'GET',
      url: '/v0/customers/460182',
      headers: { 'x-emulator-session': session, 'user-agent': 'x', accept: 'application/json' },
    });
    await emailsrvr(app, {
      method: 'POST',
      url: '/customers',
      session,
      headers: { 'content-type': 'application/json' },
      payload: { name: 5 },
    });
    await emailsrvr(app, { method: 'GET', url: '/v0/customers?size=5&page=1', session, accept: 'text/xml' });
    const r = await report(app, `?session=${session}`);
    const show = op(r, 'emailsrvr', 'customers.show');
    expect(show.bindings).toEqual([
      { binding: 'JSON', count: 2 },
      { binding: 'XML', count: 2 },
    ]);
    expect(count(show.outcomes, '200')).toBe(2);
    expect(count(show.outcomes, '404')).toBe(1);
    expect(count(show.outcomes, '403')).toBe(1);
    const add = op(r, 'emailsrvr', 'customers.add');
    expect(count(add.outcomes, '400 validationFault')).toBe(1);
    expect(count(add.outcomes, '400 badRequestFault')).toBe(0);
    expect(count(add.parameters, 'name')).toBe(1);
    const index = op(r, 'emailsrvr', 'customers.index');
    expect(count(index.outcomes, '200 customerList')).toBe(1);
    expect(count(index.parameters, 'size')).toBe(1);
    expect(count(index.parameters, 'contains')).toBe(0);
  });

  it('UniPay: JSON and XML bindings, 200, 400, 401, 403 and 404, and XML body fields as parameters', async () => {
    const h = { 'x-emulator-session': 'mg', authorization: MGMT };
    await app.inject({ method: 'GET', url: '/api/v01/customers/1', headers: { ...h, accept: 'application/json' } });
    await app.inject({ method: 'GET', url: '/api/v01/customers/1', headers: { ...h, accept: 'application/xml' } });
    await app.inject({ method: 'GET', url: '/api/v01/customers/99999', headers: { ...h, accept: 'application/xml' } });
    await app.inject({
      method: 'GET',
      url: '/api/v01/customers/1',
      headers: { 'x-emulator-session': 'mg', accept: 'application/json' },
    });
    await app.inject({
      method: 'PUT',
      url: '/api/v01/customers',
      headers: { ...h, accept: 'application/xml', 'content-type': 'application/xml' },
      payload: '<customer accountId="9999"><firstName>Ada</firstName></customer>',
    });
    await app.inject({
      method: 'GET',
      url: '/api/v01/customers?limit=0',
      headers: { ...h, accept: 'application/json' },
    });
    const r = await report(app, '?session=mg');
    const load = op(r, 'mgmt', 'load');
    expect(load.bindings).toEqual([
      { binding: 'JSON', count: 2 },
      { binding: 'XML', count: 2 },
    ]);
    expect(count(load.outcomes, '200')).toBe(2);
    expect(count(load.outcomes, '404')).toBe(1);
    expect(count(load.outcomes, '401')).toBe(1);
    const create = op(r, 'mgmt', 'create');
    expect(count(create.outcomes, '403')).toBe(1);
    expect(count(create.parameters, 'accountId')).toBe(1);
    expect(count(create.parameters, 'firstName')).toBe(1);
    expect(count(create.parameters, 'email')).toBe(0);
    expect(count(op(r, 'mgmt', 'find').outcomes, '400')).toBe(1);
  });

  it('NeuCRM: form and JSON bindings and the error strings as kinds', async () => {
    const s = { 'x-emulator-session': 'crm' };
    const form = { ...s, 'content-type': 'application/x-www-form-urlencoded' };
    await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      headers: form,
      payload: new URLSearchParams(CRM).toString(),
    });
    await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      headers: { ...s, 'content-type': 'application/json' },
      payload: { userid: 5, api_key: 'x'.repeat(50) },
    });
    await app.inject({
      method: 'POST',
      url: '/api/customer/update',
      headers: form,
      payload: new URLSearchParams({ ...CRM, customerid: '1243', street: 'x' }).toString(),
    });
    await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      headers: form,
      payload: new URLSearchParams({ ...CRM, name: '' }).toString(),
    });
    const r = await report(app, '?session=crm');
    const list = op(r, 'ispcrm', 'customer.list');
    expect(list.bindings).toEqual([
      { binding: 'JSON', count: 1 },
      { binding: 'form', count: 1 },
    ]);
    expect(count(list.outcomes, '200 success')).toBe(1);
    expect(count(list.outcomes, '200 error: auth')).toBe(1);
    expect(count(op(r, 'ispcrm', 'customer.update').outcomes, '200 error: not-found')).toBe(1);
    expect(count(op(r, 'ispcrm', 'customer.create').outcomes, '200 error: validation')).toBe(1);
    expect(count(op(r, 'ispcrm', 'customer.update').parameters, 'street')).toBe(1);
  });

  it('answers Markdown for a CI summary and JUnit with one test case per operation x outcome, skipped when never seen', async () => {
    const md = await app.inject({ method: 'GET', url: '/_emulator/coverage?session=rc&format=markdown' });
    expect(md.headers['content-type']).toMatch(/^text\/markdown/);
    expect(md.body).toMatch(/^# Contract coverage \(session rc\)/);
    expect(md.body).toContain('**Outcomes never seen');
    expect(md.body).toContain('- `customer.getall -> 200 fault: auth`');
    expect(md.body).toMatch(/\| `customer\.get` \| 6 \| REST: 4, json\.php GET: 1, json\.php POST: 1 \| 4\/4 \|/);

    const xml = await app.inject({ method: 'GET', url: '/_emulator/coverage?session=rc&format=junit' });
    expect(xml.headers['content-type']).toMatch(/^application\/xml/);
    const doc = parseXml(xml.body) as any;
    const suites = [doc.testsuites.testsuite].flat();
    expect(suites.map((x: any) => x['@_name'])).toEqual([
      'contract coverage: rackcorp',
      'contract coverage: emailsrvr',
      'contract coverage: ispcrm',
      'contract coverage: mgmt',
    ]);
    const json = await report(app, '?session=rc');
    const rc = json.vendors[0];
    const cases = [suites[0].testcase].flat();
    expect(cases.length).toBe(rc.operations.reduce((n, o) => n + o.outcomes.length, 0));
    expect(Number(suites[0]['@_skipped'])).toBe(cases.filter((c: any) => c.skipped !== undefined).length);
    const seen = cases
      .filter((c: any) => c.skipped === undefined)
      .map((c: any) => c['@_name'])
      .sort();
    expect(seen).toEqual(
      rc.operations
        .flatMap((o) => o.outcomes.filter((x) => x.count > 0).map((x) => `${o.operation} -> ${x.outcome}`))
        .sort(),
    );
    expect(Number(doc.testsuites['@_failures'])).toBe(0);
  });

  it('session=* adds up every session, including dropped ones; DELETE clears; bad queries are 400', async () => {
    const before = op(await report(app, '?session=*'), 'rackcorp', 'customer.get').requests;
    await app.inject({
      method: 'GET',
      url: '/api/rest/v2.9/customers/123',
      headers: { 'x-emulator-session': 'gone', ...basic() },
    });
    await app.inject({ method: 'DELETE', url: '/_emulator/sessions/gone' });
    const all = await report(app, '?session=*');
    expect(all.scope).toBe('every session, since start');
    expect(op(all, 'rackcorp', 'customer.get').requests).toBe(before + 1);
    expect(before).toBeGreaterThanOrEqual(6);
    expect((await app.inject({ method: 'DELETE', url: '/_emulator/coverage?session=rc' })).statusCode).toBe(200);
    expect(op(await report(app, '?session=rc'), 'rackcorp', 'customer.get').requests).toBe(0);
    expect(op(await report(app, '?session=*'), 'rackcorp', 'customer.get').requests).toBe(before + 1);
    expect((await app.inject({ method: 'GET', url: '/_emulator/coverage?format=pdf' })).statusCode).toBe(400);
    const bad = await app.inject({ method: 'GET', url: '/_emulator/coverage?vendor=nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('Unknown vendor "nope"');
    const one = await report(app, '?session=*&vendor=mgmt');
    expect(one.vendors.map((v) => v.vendor)).toEqual(['mgmt']);
  });

  it('a fault preset answer counts as the outcome the client saw, and as answered by a fault', async () => {
    const added = await app.inject({
      method: 'POST',
      url: '/_emulator/faults?session=fp',
      payload: { vendor: 'rackcorp', operation: 'customer.get', preset: 'auth', times: 1 },
    });
    expect(added.statusCode).toBe(201);
    await app.inject({
      method: 'GET',
      url: '/api/rest/v2.9/customers/123',
      headers: { 'x-emulator-session': 'fp', ...basic() },
    });
    await app.inject({
      method: 'GET',
      url: '/api/rest/v2.9/customers/123',
      headers: { 'x-emulator-session': 'fp', ...basic() },
    });
    const get = op(await report(app, '?session=fp'), 'rackcorp', 'customer.get') as Op & { viaFault: number };
    expect(get.requests).toBe(2);
    expect(get.viaFault).toBe(1);
    expect(count(get.outcomes, '200 fault: auth')).toBe(1);
    expect(count(get.outcomes, '200 success')).toBe(1);
  });
});

describe('what the documents do not name, and --no-coverage', () => {
  it('an answer no document lists is an undocumented outcome; a parameter no document lists is named apart', async () => {
    const app = await makeApp();
    try {
      await app.inject({
        method: 'POST',
        url: '/_emulator/faults',
        payload: { vendor: 'mgmt', operation: 'load', status: 418, body: { teapot: true } },
      });
      await app.inject({
        method: 'GET',
        url: '/api/v01/customers/1?x-trace=1',
        headers: { authorization: MGMT, accept: 'application/json' },
      });
      await app.inject({
        method: 'GET',
        url: '/api/v01/customers/1/cards',
        headers: { authorization: MGMT, accept: 'application/json' },
      });
      const r = await report(app);
      const load = op(r, 'mgmt', 'load');
      expect(load.undocumentedOutcomes).toEqual([{ outcome: '418 undocumented', count: 1 }]);
      expect(load.undocumentedParameters).toEqual([{ name: 'x-trace', count: 1 }]);
      expect(load.outcomes.every((o) => o.count === 0)).toBe(true);
      // A path that reaches no operation (x-unmatched-requests) is counted apart.
      expect(r.vendors.find((v) => v.vendor === 'mgmt')!.otherRequests).toEqual([
        { name: 'notFound', requests: 1, outcomes: { 404: 1 } },
      ]);
    } finally {
      await app.close();
    }
  });

  it('--no-coverage counts nothing', async () => {
    const app = await makeApp({ coverage: false });
    try {
      await app.inject({
        method: 'GET',
        url: '/api/v01/customers/1',
        headers: { authorization: MGMT, accept: 'application/json' },
      });
      expect(op(await report(app), 'mgmt', 'load').requests).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe('coverage is derived from the documents', () => {
  it('a new operation, outcome kind or parameter in a document shows up with no code change', async () => {
    const app = await makeApp();
    const doc = structuredClone(app.contracts.documents.get('mgmt')!) as any;
    await app.close();
    doc.paths['/api/v01/customers/{id}/cards'] = {
      get: {
        operationId: 'mgmt.cards.list',
        'x-operation': 'cards.list',
        tags: ['mgmt'],
        parameters: [{ name: 'brand', in: 'query', schema: { type: 'string' } }],
        responses: {
          200: { description: 'ok', content: { 'application/json': { schema: { type: 'array' } } } },
          402: {
            description: 'card declined',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/MgmtErrorBody404' } } },
          },
        },
      },
    };
    const cov = new Coverage(() => new Map([['mgmt', doc]]));
    const r = cov.report(cov.all, 'test');
    const cards = r.vendors[0].operations.find((o) => o.operation === 'cards.list')!;
    expect(cards.outcomes.map((o) => o.outcome)).toEqual(['200', '402']);
    expect(cards.parameters).toEqual([{ name: 'brand', count: 0 }]);
    expect(r.vendors[0].neverExercised).toContain('cards.list');
    expect(r.vendors[0].outcomesNeverSeen).toEqual(expect.arrayContaining(['cards.list -> 200', 'cards.list -> 402']));
  });
});

describe('--coverage-out', () => {
  it('startEmulator writes the report of every session when it closes (format from the file name)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coverage-out-'));
    try {
      for (const [file, check] of [
        ['report.md', (t: string) => expect(t).toMatch(/^# Contract coverage \(every session, since start\)/)],
        ['report.xml', (t: string) => expect(t).toMatch(/^<\?xml[^>]*>\n<testsuites name="contract coverage/)],
        [
          'report.json',
          (t: string) =>
            expect(JSON.parse(t).vendors[3].operations.find((o: Op) => o.operation === 'load').requests).toBe(1),
        ],
      ] as const) {
        const out = path.join(dir, file);
        const em = await startEmulator({ port: 0, logLevel: 'silent', coverageOut: out });
        const res = await fetch(`${em.url}/_sessions/ci/api/v01/customers/1`, {
          headers: { authorization: MGMT, accept: 'application/json' },
        });
        expect(res.status).toBe(200);
        const md = await em.coverage({ format: 'markdown', session: '*' });
        expect(md).toContain('| mgmt | 1/3 |');
        expect(fs.existsSync(out)).toBe(false);
        await em.close();
        check(fs.readFileSync(out, 'utf8'));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
