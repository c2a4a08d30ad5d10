/**
 * Rackspace Email & Apps contract details: the document's shape (prefixes, security scheme, XML
 * layout), the response schemas against live answers, and --strict / --lenient with journal warnings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { lastJournalEntry, makeApp } from '../helpers.js';
import { call, dump } from '../emailsrvr/helpers.js';
import { CustomerListSchema, CustomerSchema, emailsrvrContract } from '../../src/routes/emailsrvr/contract.js';

describe('emailsrvr OpenAPI document', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('documents the three prefixes, the X-Api-Signature scheme and the XML layout', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/_emulator/openapi/emailsrvr.json' })).json();
    for (const p of [
      '/v0/customers',
      '/v0/customers/{accountNumber}',
      '/v1/customers',
      '/v1/customers/{accountNumber}',
      '/customers',
      '/customers/{accountNumber}',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.paths['/v0/customers'].get['x-operation']).toBe('customers.index');
    expect(doc.paths['/customers'].post.operationId).toBe('customersAddUnversioned');
    expect(doc.paths['/v1/customers/{accountNumber}'].delete['x-operation']).toBe('customers.delete');
    const scheme = doc.components.securitySchemes.EmailsrvrApiSignature;
    expect(scheme).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Api-Signature' });
    expect(scheme.description).toContain(
      'UserKey:yyyyMMddHHmmss:Base64(SHA1(UserKey + UserAgent + Timestamp + SecretKey))',
    );
    expect(doc.paths['/v0/customers'].get.security).toEqual([{ EmailsrvrApiSignature: [] }]);
    expect(doc.paths['/v0/customers'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'User-Agent',
      'page',
      'size',
      'offset',
      'startswith',
      'contains',
      'referenceNumber',
    ]);
    const s = doc.components.schemas;
    expect(s.EmailsrvrCustomerList.xml).toEqual({ name: 'customerList', namespace: 'urn:xml:customerList' });
    expect(s.EmailsrvrCustomer.xml).toEqual({ name: 'customer', namespace: 'urn:xml:customer' });
    expect(s.EmailsrvrCustomerList.properties.customers.xml).toEqual({ name: 'customers', wrapped: true });
    expect(s.EmailsrvrUnauthorizedFaultXml.xml).toEqual({ name: 'unauthorizedFault' });
    expect(s.EmailsrvrUnauthorizedFaultXml.properties.code.xml).toEqual({ attribute: true });
    expect(s.EmailsrvrItemNotFoundFault.required).toEqual(['itemNotFoundFault']);
    // The request bodies come from the schemas the routes validate with, in all three media types.
    const add = doc.paths['/customers'].post.requestBody.content;
    expect(Object.keys(add).sort()).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
      'application/xml',
      'text/xml',
    ]);
    expect(s.EmailsrvrCustomerAdd.required).toEqual(['name']);
    expect(s.EmailsrvrCustomerEdit.required).toBeUndefined();
    // 400 names both fault roots.
    const bad = doc.paths['/v0/customers'].post.responses['400'].content;
    expect(bad['application/json'].schema.oneOf).toHaveLength(2);
    expect(bad['text/xml'].schema.anyOf).toHaveLength(2);
  });

  it('every example is signed with a current timestamp', () => {
    const now = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 8);
    const signed = emailsrvrContract.examples().filter((e) => e.headers?.['x-api-signature']);
    expect(signed.length).toBeGreaterThan(20);
    for (const e of signed)
      expect(e.headers!['x-api-signature']).toMatch(
        new RegExp(`^emailsrvr-sandbox-user-key:${now}\\d{6}:[A-Za-z0-9+/]{27}=$`),
      );
  });

  it('live JSON answers match the exported response schemas', async () => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: 'x', components: { schemas: emailsrvrContract.components.schemas } });
    const list = ajv.compile({ ...CustomerListSchema, components: emailsrvrContract.components });
    const one = ajv.compile(CustomerSchema);
    const page = (await call(app, { method: 'GET', url: '/v1/customers?size=3' })).json();
    expect(list(page), JSON.stringify(list.errors)).toBe(true);
    expect(page.customers[0].accountNumber).toMatch(/^\d+$/);
    const me = (await call(app, { method: 'GET', url: '/v0/customers/me' })).json();
    expect(one(me), JSON.stringify(one.errors)).toBe(true);
    expect(one({ ...me, accountNumber: 460180 })).toBe(false);
  });

  it('a reference-number lookup is journaled as Show; a request to no operation as notFound', async () => {
    await call(app, { method: 'GET', url: '/customers?referenceNumber=49', accept: 'text/xml' });
    expect((await lastJournalEntry(app)).operation).toBe('customers.show');
    await app.inject({ method: 'GET', url: '/v0/customers/1/domains' });
    const j = await lastJournalEntry(app);
    expect(j).toMatchObject({ operation: 'notFound', status: 403 });
  });
});

describe('emailsrvr --strict (default)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses a paging parameter of the wrong type with a validationFault, no warning', async () => {
    const res = await call(app, { method: 'GET', url: '/v0/customers?size=1.5' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      validationFault: { code: 400, message: 'Invalid value for size', details: 'size must be an integer' },
    });
    expect((await lastJournalEntry(app)).warnings).toBeUndefined();
  });

  it('refuses a name that is not a string, and stores nothing', async () => {
    const before = dump(app, 'strict-1');
    const res = await call(app, { method: 'POST', url: '/customers', session: 'strict-1', payload: { name: 42 } });
    expect(res.statusCode).toBe(400);
    expect(res.json().validationFault).toEqual({
      code: 400,
      message: 'Invalid value for field: name',
      details: 'name must be a string',
    });
    expect(dump(app, 'strict-1')).toBe(before);
  });

  it('ignores unknown fields (as the real service does), naming them in a journal warning', async () => {
    const res = await call(app, {
      method: 'POST',
      url: '/customers',
      session: 'strict-2',
      payload: { name: 'Extra', colour: 'blue' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'Extra', accountNumber: '460314' });
    expect((await lastJournalEntry(app, 'strict-2')).warnings).toEqual(['unknown field "colour" ignored']);
  });

  it('ignores an unknown query parameter (a cache-buster) and takes the first of a repeated one, with a journal warning each', async () => {
    const res = await call(app, { method: 'GET', url: '/v0/customers?_=12345&size=5&size=7' });
    expect(res.statusCode).toBe(200);
    expect(res.json().size).toBe(5);
    expect((await lastJournalEntry(app)).warnings).toEqual([
      '_ is not a known parameter: ignored',
      'size was given 2 times: the first ("5") is used',
    ]);
  });

  it('serves a size above 250 as 250 and says so on the journal entry', async () => {
    const res = await call(app, { method: 'GET', url: '/v0/customers?size=1000' });
    expect(res.json().size).toBe(250);
    expect((await lastJournalEntry(app)).warnings).toEqual(['size=1000 is above 250: served as 250']);
  });
});

describe('emailsrvr --lenient', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ strict: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('reads paging parameters as best it can, with a warning each', async () => {
    const res = await call(app, { method: 'GET', url: '/v0/customers?size=1.5&page=0&offset=abc' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ offset: 0, size: 1, total: 133 });
    expect((await lastJournalEntry(app)).warnings).toEqual([
      'page="0" read as 1 (--strict answers 400 validationFault)',
      'size="1.5" read as 1 (--strict answers 400 validationFault)',
      'offset="abc" is not a whole number: ignored (--strict answers 400 validationFault)',
    ]);
  });

  it('takes a number or boolean as its text, and the first of a repeated field, with warnings', async () => {
    const res = await call(app, {
      method: 'POST',
      url: '/customers',
      session: 'lenient-1',
      payload: { name: 42, referenceNumber: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: '42', accountNumber: '460314', referenceNumber: 'true' });
    expect((await lastJournalEntry(app, 'lenient-1')).warnings).toEqual([
      'name 42 is not a string: read as "42" (--strict answers 400 validationFault)',
      'referenceNumber true is not a string: read as "true" (--strict answers 400 validationFault)',
    ]);
    const form = await call(app, {
      method: 'PUT',
      url: '/customers/460182',
      session: 'lenient-1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=First&name=Second',
    });
    expect(form.json().name).toBe('First');
    expect((await lastJournalEntry(app, 'lenient-1')).warnings).toEqual([
      'name was given 2 times: the first is used (--strict answers 400 validationFault)',
    ]);
  });

  it('still refuses what cannot be read, and the documented name rules', async () => {
    const before = dump(app, 'lenient-2');
    const obj = await call(app, {
      method: 'POST',
      url: '/customers',
      session: 'lenient-2',
      payload: { name: { first: 'x' } },
    });
    expect(obj.json().validationFault.message).toBe('Invalid value for field: name');
    const space = await call(app, { method: 'POST', url: '/customers', session: 'lenient-2', payload: { name: ' x' } });
    expect(space.json().badRequestFault.message).toBe('Improper Customer Name');
    const missing = await call(app, {
      method: 'POST',
      url: '/customers',
      session: 'lenient-2',
      payload: { referenceNumber: '1' },
    });
    expect(missing.json().badRequestFault.message).toBe('Missing required field: name');
    expect(dump(app, 'lenient-2')).toBe(before);
  });
});
