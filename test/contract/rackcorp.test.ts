/**
 * RackCorp's contract beyond the generic self-check: every example answers the envelope its name
 * promises, the document's json.php discriminator and x-operation wiring, drift detection with the
 * RackCorp schemas, and --strict / --lenient on typed (JSON) and text (query, form) input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { lastJournalEntry, makeApp } from '../helpers.js';
import { rackcorp, operations } from '../../src/routes/rackcorp/index.js';
import { schemaName } from '../../src/routes/rackcorp/contract.js';
import { API_UUID, API_SECRET, basic, digest } from '../rackcorp/helpers.js';

const BASE = '/api/rest/v2.9';
const creds = { APIUUID: API_UUID, APISECRET: API_SECRET };
const location = { addressLine1: '1 Example St', suburb: 'Sydney', postcode: '2000', country: 'AU' };
const contact = { name: 'Ada', email: 'ada@example.com' };

describe('RackCorp contract document', () => {
  let app: FastifyInstance;
  let doc: any;
  beforeAll(async () => {
    app = await makeApp();
    doc = (await app.inject({ method: 'GET', url: '/_emulator/openapi/rackcorp.json' })).json();
  });
  afterAll(async () => {
    await app.close();
  });

  it('documents every operation at its REST path, with the aliases in the path item description', () => {
    const ops = rackcorp.contract!.examples; // keep the import used
    expect(ops).toBeTypeOf('function');
    expect(doc.paths[`${BASE}/customers/{id}`].get['x-operation']).toBe('customer.get');
    expect(doc.paths[`${BASE}/customers/{id}`].put['x-operation']).toBe('customer.update');
    expect(doc.paths[`${BASE}/billing/{customerId}`].get['x-operation']).toBe('billing.pricing.getall');
    expect(doc.paths[`${BASE}/customers/{id}`].description).toMatch(/\/api\/v2\.9\/.*v<major>\[\.<minor>\]/s);
    expect(doc.paths[`${BASE}/session/login`].post.security).toEqual([]);
    expect(doc.paths[`${BASE}/customers/{id}`].get.security).toEqual(rackcorp.contract!.security);
    expect(rackcorp.contract!.security!.length).toBe(5);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(
      expect.arrayContaining(['bearerAuth', 'cookieAuth', 'basicAuth', 'apiUuidHeader', 'apiSecretHeader']),
    );
  });

  it('json.php: a POST body discriminated on cmd (one schema per cmd), a GET cmd enum, its own x-operation', () => {
    const item = doc.paths[`${BASE}/json.php`];
    const cmds = rackcorp.contract!.paths[`${BASE}/json.php`].post!['x-commands'] as string[];
    expect(cmds.length).toBe(operations.length);
    const body = item.post.requestBody.content['application/json'].schema;
    expect(body.discriminator.propertyName).toBe('cmd');
    expect(Object.keys(body.discriminator.mapping).sort()).toEqual([...cmds].sort());
    for (const cmd of cmds) {
      const target = body.discriminator.mapping[cmd].replace('#/components/schemas/', '');
      expect(target).toBe(`${schemaName(cmd)}Request`);
      expect(doc.components.schemas[target].properties.cmd).toEqual({ const: cmd });
      expect(doc.components.schemas[target].required).toContain('cmd');
    }
    expect(item.get.parameters.find((p: any) => p.name === 'cmd').schema.enum).toEqual(cmds);
    expect(item.get['x-operation']).toBe('json.php');
    expect(item.post['x-operation']).toBe('json.php');
    // The 200 answer of json.php: any cmd's OK body, or the FAULT.
    expect(item.get.responses[200].content['application/json'].schema.anyOf).toHaveLength(cmds.length + 1);
  });

  it('each cmd resolves (first documented x-operation) to its REST operation with its own OK schema', () => {
    const first = new Map<string, string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const m of ['get', 'post', 'put', 'delete', 'patch'])
        if (item[m] && !first.has(item[m]['x-operation'])) first.set(item[m]['x-operation'], path);
    }
    const cmds = rackcorp.contract!.paths[`${BASE}/json.php`].post!['x-commands'] as string[];
    for (const cmd of cmds) {
      const path = first.get(cmd)!;
      expect(path, cmd).not.toMatch(/json\.php|unknownPath/);
      const op = Object.values<any>(doc.paths[path]).find((o) => o?.['x-operation'] === cmd);
      expect(op.responses[200].content['application/json'].schema.oneOf).toEqual([
        { $ref: `#/components/schemas/${schemaName(cmd)}Ok` },
        { $ref: '#/components/schemas/RackcorpFault' },
      ]);
    }
  });

  it('the checker catches drift from the RackCorp schemas', () => {
    const ok = (b: unknown) =>
      app.contracts.check('rackcorp', 'billing.promo.create', 200, 'application/json; charset=utf-8', JSON.stringify(b))
        .errors;
    expect(ok({ code: 'OK', message: 'Promo Code Created Successfully', id: 8 })).toEqual([]);
    expect(ok({ code: 'OK', message: 'Promo Code Created Successfully', id: '8' })).not.toEqual([]);
    expect(ok({ code: 'OK', message: 'x', id: 8, extra: 1 })).not.toEqual([]);
    expect(ok({ code: 'FAULT', message: 'm', fault: { faultcode: 'Client', faultstring: 'm' } })).toEqual([]);
    expect(ok({ code: 'FAULT', message: 'm' })).not.toEqual([]);
    expect(app.contracts.check('rackcorp', 'customer.get', 404, 'application/json', '{}').errors[0]).toMatch(
      /status 404 is not documented/,
    );
  });
});

describe('RackCorp examples answer the envelope they name', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });
  let n = 0;
  for (const ex of rackcorp.contract!.examples()) {
    it(ex.name, async () => {
      const res = await app.inject({
        method: ex.method,
        url: ex.url,
        headers: { 'x-emulator-session': `rc-ex-${++n}`, ...(ex.headers ?? {}) },
        payload: typeof ex.body === 'string' || ex.body === undefined ? ex.body : JSON.stringify(ex.body),
      });
      expect(res.statusCode).toBe(ex.status);
      expect(res.json().code, res.body).toBe(/FAULT/.test(ex.name) ? 'FAULT' : 'OK');
    });
  }
});

describe('RackCorp --strict (default)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses a JSON value of the wrong type with the FAULT naming the field, changing nothing', async () => {
    const session = 'strict-1';
    const before = digest(app, session);
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/customers`,
      headers: { ...basic(), 'x-emulator-session': session },
      payload: { companyName: 'Typed Pty Ltd', autobilling: true, locations: [location], contacts: [contact] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      code: 'FAULT',
      message: 'Invalid parameters: autobilling must be an integer',
      error: { autobilling: 'autobilling must be an integer' },
      fault: { faultcode: 'Client', faultstring: 'Invalid parameters: autobilling must be an integer' },
    });
    expect(digest(app, session)).toBe(before);
    expect((await lastJournalEntry(app, session)).warnings).toBeUndefined();
  });

  it('refuses null for a string and a flag word it does not know', async () => {
    const a = await app.inject({
      method: 'PUT',
      url: `${BASE}/customers/123`,
      headers: basic(),
      payload: { companyName: null },
    });
    expect(a.json().error).toEqual({ companyName: 'companyName must be a string' });
    const b = await app.inject({ method: 'GET', url: `${BASE}/customers?minimal=yes`, headers: basic() });
    expect(b.json().code).toBe('FAULT');
    expect(Object.keys(b.json().error)).toEqual(['minimal']);
  });

  it('reads JSON as PHP does: numeric strings as numbers, numbers as strings; ignores unknown fields; no warnings', async () => {
    const session = 'strict-2';
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/json.php`,
      headers: { 'x-emulator-session': session },
      payload: {
        cmd: 'customer.create',
        ...creds,
        parentID: '123',
        companyName: 4242,
        notAField: { deep: true },
        locations: [{ ...location, postcode: 2000 }],
        contacts: [contact],
      },
    });
    expect(res.json().code, res.body).toBe('OK');
    const id = res.json().customerid;
    const got = (
      await app.inject({
        method: 'GET',
        url: `${BASE}/customers/${id}`,
        headers: { ...basic(), 'x-emulator-session': session },
      })
    ).json().customer;
    expect(got).toMatchObject({
      companyName: '4242',
      parentID: 123,
      locations: [expect.objectContaining({ postcode: '2000' })],
    });
    expect((await lastJournalEntry(app, session)).warnings).toBeUndefined();
  });

  it('still coerces text: query strings and form bodies', async () => {
    const q = await app.inject({
      method: 'GET',
      url: `${BASE}/json.php?cmd=customer.get&id=123&minimal=1`,
      headers: basic(),
    });
    expect(q.json().customer.id).toBe(123);
    const f = await app.inject({
      method: 'POST',
      url: `${BASE}/billing/promocode/add`,
      headers: { ...basic(), 'content-type': 'application/x-www-form-urlencoded', 'x-emulator-session': 'strict-3' },
      payload: 'promocode=PROMO123&customerid=123',
    });
    expect(f.json()).toEqual({ code: 'OK', message: 'Promo Code Added Successfully' });
  });

  it('refuses what cannot be read as the type, in both modes ("abc" for an id)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/json.php`,
      payload: { cmd: 'customer.get', id: 'abc', ...creds },
    });
    expect(res.json().error).toEqual({ id: 'id must be an integer' });
  });
});

describe('RackCorp --lenient', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ strict: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('coerces a JSON value of the wrong type and records a warning on the journal entry', async () => {
    const session = 'lenient-1';
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/customers`,
      headers: { ...basic(), 'x-emulator-session': session },
      payload: { companyName: 'Typed Pty Ltd', autobilling: true, locations: [location], contacts: [contact] },
    });
    expect(res.json()).toMatchObject({ code: 'OK', message: 'Customer Created Successfully' });
    const entry = await lastJournalEntry(app, session);
    expect(entry.operation).toBe('customer.create');
    expect(entry.warnings).toEqual([
      'autobilling: autobilling must be an integer; the JSON value was coerced (--lenient)',
    ]);
    const db = app.registry.get(session).db;
    expect(db.prepare('SELECT autobilling FROM rackcorp_customers WHERE id = ?').get(res.json().customerid)).toEqual({
      autobilling: 1,
    });
  });

  it('reads flag words ("yes"/"no") with a warning', async () => {
    const session = 'lenient-2';
    const res = await app.inject({
      method: 'GET',
      url: `${BASE}/customers?minimal=yes&resWindow=20`,
      headers: { ...basic(), 'x-emulator-session': session },
    });
    expect(res.json().code).toBe('OK');
    expect(Object.keys(res.json().customers[0])).toEqual(['id', 'stdName']);
    expect((await lastJournalEntry(app, session)).warnings).toEqual([
      'minimal: "yes" is not a flag value (true/false, 1/0); read as true (--lenient)',
    ]);
  });

  it('null for a string is read as empty, with a warning', async () => {
    const session = 'lenient-3';
    const res = await app.inject({
      method: 'PUT',
      url: `${BASE}/customers/123`,
      headers: { ...basic(), 'x-emulator-session': session },
      payload: { customID: null },
    });
    expect(res.json().code, res.body).toBe('OK');
    expect((await lastJournalEntry(app, session)).warnings).toEqual([
      'customID: customID must be a string; the JSON value was coerced (--lenient)',
    ]);
  });

  it('still refuses what cannot be coerced, and ignores unknown fields (as the PHP service does) with a journal warning', async () => {
    const a = await app.inject({
      method: 'POST',
      url: `${BASE}/json.php`,
      payload: { cmd: 'customer.get', id: 'abc', ...creds },
    });
    expect(a.json().error).toEqual({ id: 'id must be an integer' });
    const session = 'lenient-4';
    const b = await app.inject({
      method: 'POST',
      url: `${BASE}/json.php`,
      headers: { 'x-emulator-session': session },
      payload: { cmd: 'customer.get', id: 123, colour: 'blue', ...creds },
    });
    expect(b.json().code).toBe('OK');
    expect((await lastJournalEntry(app, session)).warnings).toEqual(['colour is not a field of customer.get: ignored']);
  });
});
