/**
 * RackCorp's json.php (and REST paths) read the query string and form bodies as PHP fills
 * $_GET / $_POST / $_REQUEST: bracket notation builds arrays and objects, a repeated field keeps its
 * last value, multipart bodies are read like url-encoded ones. Everything stays bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { lastJournalEntry, makeApp, multipart } from '../helpers.js';
import { basic, call, digest, JSON_PHP } from './helpers.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The fields of a customer with one location and one contact, in bracket notation. */
const bracketFields: [string, string][] = [
  ['cmd', 'customer.create'],
  ['companyName', 'Bracket Pty Ltd'],
  ['autobilling', '1'],
  ['parentID', '0'],
  ['locations[0][typeOfAddress]', 'primary'],
  ['locations[0][addressLine1]', '1 George St'],
  ['locations[0][suburb]', 'Sydney'],
  ['locations[0][state]', 'NSW'],
  ['locations[0][postcode]', '2000'],
  ['locations[0][country]', 'AU'],
  ['contacts[0][typeOfContact]', 'administrative'],
  ['contacts[0][name]', 'Ann Bracket'],
  ['contacts[0][email]', 'ann@example.com'],
  ['contacts[1][name]', 'Bob Bracket'],
  ['contacts[1][phoneNumber]', '+61 2 9999 0000'],
];
const encode = (pairs: [string, string][]) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

async function customerOf(app: FastifyInstance, id: number) {
  const res = await call(app, { method: 'GET', url: `${JSON_PHP}?cmd=customer.get&id=${id}`, headers: basic() });
  expect(res.body.code, JSON.stringify(res.body)).toBe('OK');
  return res.body.customer;
}

const expectedLocations = [
  {
    typeOfAddress: 'primary',
    addressLine1: '1 George St',
    addressLine2: '',
    addressLine3: '',
    suburb: 'Sydney',
    state: 'NSW',
    postcode: '2000',
    country: 'AU',
  },
];
const expectedContacts = [
  {
    typeOfContact: 'administrative',
    name: 'Ann Bracket',
    phoneNumber: '',
    mobileNumber: '',
    faxNumber: '',
    email: 'ann@example.com',
  },
  {
    typeOfContact: expect.any(String),
    name: 'Bob Bracket',
    phoneNumber: '+61 2 9999 0000',
    mobileNumber: '',
    faxNumber: '',
    email: '',
  },
];

describe('RackCorp: PHP request conventions', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ maxBodyBytes: 256 * 1024 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('a json.php GET with bracket notation creates a customer with its locations and contacts', async () => {
    const res = await call(app, { method: 'GET', url: `${JSON_PHP}?${encode(bracketFields)}`, headers: basic() });
    expect(res.body).toMatchObject({ code: 'OK', message: 'Customer Created Successfully' });
    const c = await customerOf(app, res.body.customerid);
    expect(c).toMatchObject({
      companyName: 'Bracket Pty Ltd',
      locations: expectedLocations,
      contacts: expectedContacts,
    });
  });

  it('the docs example (docs/rackcorp.md, PHP request conventions) answers as shown on a fresh start', async () => {
    const fresh = await makeApp();
    try {
      const url =
        '/api/rest/v2.9/json.php?cmd=customer.create&companyName=Bracket%20Pty%20Ltd&locations[0][suburb]=Sydney&locations[0][postcode]=2000&contacts[0][name]=Ann&contacts[0][email]=ann@example.com';
      const res = await fresh.inject({ method: 'GET', url, headers: basic() });
      expect(res.body).toBe('{"code":"OK","message":"Customer Created Successfully","customerid":906}');
      const c = await customerOf(fresh, 906);
      expect(c.locations).toEqual([
        {
          typeOfAddress: expect.any(String),
          addressLine1: '',
          addressLine2: '',
          addressLine3: '',
          suburb: 'Sydney',
          state: '',
          postcode: '2000',
          country: expect.any(String),
        },
      ]);
      expect(c.contacts).toEqual([
        {
          typeOfContact: expect.any(String),
          name: 'Ann',
          phoneNumber: '',
          mobileNumber: '',
          faxNumber: '',
          email: 'ann@example.com',
        },
      ]);
    } finally {
      await fresh.close();
    }
  });

  it('a json.php form POST with bracket notation (brackets percent-encoded, as clients send them) does the same', async () => {
    const res = await call(app, {
      method: 'POST',
      url: JSON_PHP,
      headers: { ...basic(), ...FORM },
      payload: encode(bracketFields),
    });
    expect(res.body).toMatchObject({ code: 'OK', message: 'Customer Created Successfully' });
    expect(encode(bracketFields)).toContain('%5B0%5D');
    const c = await customerOf(app, res.body.customerid);
    expect(c).toMatchObject({
      companyName: 'Bracket Pty Ltd',
      locations: expectedLocations,
      contacts: expectedContacts,
    });
  });

  it('the REST binding reads a form body with brackets too', async () => {
    const res = await call(app, {
      method: 'POST',
      url: '/api/rest/v2.9/customers',
      headers: { ...basic(), ...FORM },
      payload: encode(bracketFields.slice(1)),
    });
    expect(res.body).toMatchObject({ code: 'OK' });
    expect((await customerOf(app, res.body.customerid)).locations).toEqual(expectedLocations);
  });

  it('a multipart json.php POST is read like a form; a file part is ignored with a journal warning', async () => {
    const body = await multipart([...bracketFields, ['attachment', new Blob(['%PDF-1.4 not read']), 'contract.pdf']]);
    const res = await call(app, {
      method: 'POST',
      url: JSON_PHP,
      headers: { ...basic(), ...body.headers },
      payload: body.payload,
    });
    expect(res.body).toMatchObject({ code: 'OK', message: 'Customer Created Successfully' });
    expect((await lastJournalEntry(app)).warnings).toEqual([
      'file part "attachment" ("contract.pdf") ignored: the API reads form fields only',
    ]);
    const c = await customerOf(app, res.body.customerid);
    expect(c).toMatchObject({
      companyName: 'Bracket Pty Ltd',
      locations: expectedLocations,
      contacts: expectedContacts,
    });
  });

  it('a field sent twice keeps its last value, with a journal warning (query and body)', async () => {
    const q = await call(app, { method: 'GET', url: `${JSON_PHP}?cmd=customer.get&id=1&id=123`, headers: basic() });
    expect(q.body.code).toBe('OK');
    expect(q.body.customer.id).toBe(123);
    expect((await lastJournalEntry(app)).warnings).toEqual([
      'id was sent 2 times; the last value "123" is used (as PHP does)',
    ]);

    const f = await call(app, {
      method: 'POST',
      url: JSON_PHP,
      headers: { ...basic(), ...FORM },
      payload: 'cmd=customer.getall&status=INACTIVE&status=ACTIVE&keyword=Example',
    });
    expect(f.body.code).toBe('OK');
    expect(f.body.customers.map((c: { id: number }) => c.id)).toEqual([123]);
    expect((await lastJournalEntry(app)).warnings).toEqual([
      'status was sent 2 times; the last value "ACTIVE" is used (as PHP does)',
    ]);
  });

  it('name[]= makes an array, which a text field refuses naming the field', async () => {
    const before = digest(app);
    const res = await call(app, {
      method: 'POST',
      url: JSON_PHP,
      headers: { ...basic(), ...FORM },
      payload: `${encode(bracketFields)}&companyName[]=a&companyName[]=b`,
    });
    expect(res.body.code).toBe('FAULT');
    expect(res.body.message).toMatch(/companyName must be a string/);
    expect(digest(app)).toBe(before);
  });

  it('an unknown field (a cache-buster) is ignored, as the PHP service ignores it, with a journal warning (strict)', async () => {
    const res = await call(app, {
      method: 'GET',
      url: `${JSON_PHP}?cmd=customer.get&id=123&_=1712345678`,
      headers: basic(),
    });
    expect(res.body.code).toBe('OK');
    expect((await lastJournalEntry(app)).warnings).toEqual(['_ is not a field of customer.get: ignored']);
  });

  it('the query and the body are each read by PHP rules before they are compared: a field in both must agree', async () => {
    const same = await call(app, {
      method: 'POST',
      url: `${JSON_PHP}?cmd=customer.get&id=1&id=123`,
      headers: { ...basic(), ...FORM },
      payload: 'id=123',
    });
    expect(same.body.customer.id).toBe(123);
    const differs = await call(app, {
      method: 'POST',
      url: `${JSON_PHP}?cmd=customer.get&id=123`,
      headers: { ...basic(), ...FORM },
      payload: 'id=1',
    });
    expect(differs.body.code).toBe('FAULT');
    expect(Object.keys(differs.body.error)).toEqual(['id']);
  });

  describe('limits: refused with a FAULT naming the part, nothing changed', () => {
    it('more than 1000 query fields', async () => {
      const before = digest(app);
      const many = Array.from({ length: 1001 }, (_, i) => `f${i}=1`).join('&');
      const res = await call(app, {
        method: 'GET',
        url: `${JSON_PHP}?cmd=customer.get&id=123&${many}`,
        headers: basic(),
      });
      expect(res.status).toBe(200);
      expect(res.body.code).toBe('FAULT');
      expect(res.body.message).toMatch(/^The query string cannot be read: Parameter limit exceeded/);
      expect(Object.keys(res.body.error)).toEqual(['query']);
      expect(digest(app)).toBe(before);
    });

    it('brackets nested deeper than 64', async () => {
      const before = digest(app);
      const res = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        headers: { ...basic(), ...FORM },
        payload: `${encode(bracketFields)}&x${'[a]'.repeat(65)}=1`,
      });
      expect(res.body.code).toBe('FAULT');
      expect(res.body.message).toMatch(/^The form body cannot be read: Input depth exceeded/);
      expect(Object.keys(res.body.error)).toEqual(['body']);
      expect(digest(app)).toBe(before);
    });

    it('a multipart body above --max-body-bytes is a 413', async () => {
      const before = digest(app);
      const body = await multipart([...bracketFields, ['notes', 'x'.repeat(300 * 1024)]]);
      const res = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        headers: { ...basic(), ...body.headers },
        payload: body.payload,
      });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('FAULT');
      expect(digest(app)).toBe(before);
    });

    it('a multipart body with more than 1000 fields', async () => {
      const before = digest(app);
      const body = await multipart([
        ...bracketFields,
        ...Array.from({ length: 1001 }, (_, i): [string, string] => [`f${i}`, '1']),
      ]);
      const res = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        headers: { ...basic(), ...body.headers },
        payload: body.payload,
      });
      expect(res.body.code).toBe('FAULT');
      expect(res.body.message).toBe('The multipart body cannot be read: more than 1000 fields');
      expect(digest(app)).toBe(before);
    });

    it('a multipart body without a boundary, or cut short', async () => {
      const before = digest(app);
      const none = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        headers: { ...basic(), 'content-type': 'multipart/form-data' },
        payload: 'cmd=customer.get',
      });
      expect(none.body.code).toBe('FAULT');
      expect(none.body.message).toMatch(/^The multipart body cannot be read/);
      const body = await multipart(bracketFields);
      const cut = await call(app, {
        method: 'POST',
        url: JSON_PHP,
        headers: { ...basic(), ...body.headers },
        payload: body.payload.subarray(0, body.payload.length - 40),
      });
      expect(cut.body.code).toBe('FAULT');
      expect(cut.body.message).toMatch(/^The multipart body cannot be read/);
      expect(digest(app)).toBe(before);
    });
  });
});
