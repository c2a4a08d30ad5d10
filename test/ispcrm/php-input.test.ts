/**
 * NeuCRM is PHP: its fields are $_POST, filled from url-encoded and multipart bodies alike
 * (`curl -d` and `curl -F`), with PHP's naming rules. Bounded by --max-body-bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { lastJournalEntry, makeApp, multipart } from '../helpers.js';
import { SANDBOX, everything, ok } from './helpers.js';

const NEW = {
  type: 'Individual',
  name: 'Multi Part',
  mobile: '9812345678',
  email: 'mp@example.com',
  zipcode: '403001',
  state: 'Goa',
  city: 'Panaji',
  street: '1 Form St',
};

describe('NeuCRM: PHP request conventions', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ maxBodyBytes: 8192 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('create takes a multipart body (curl -F) like a form; a file part is ignored with a journal warning', async () => {
    const body = await multipart([
      ...Object.entries({ ...SANDBOX, ...NEW }),
      ['photo', new Blob(['GIF89a']), 'me.gif'],
    ]);
    const res = await app.inject({ method: 'POST', url: '/api/customer/create', ...body });
    expect(res.statusCode).toBe(200);
    const id = res.json().result;
    expect(res.json()).toEqual({ result: expect.any(Number), error: null });
    expect((await lastJournalEntry(app)).warnings).toEqual([
      'file part "photo" ("me.gif") ignored: the API reads form fields only',
    ]);
    expect((await ok(app, 'list', { ...SANDBOX, customerid: String(id) }))[0]).toMatchObject({
      name: 'Multi Part',
      street: '1 Form St',
      city: 'Panaji',
    });
  });

  it('a field sent twice keeps its last value, with a journal warning, with or without brackets elsewhere', async () => {
    for (const extra of ['', '&tags[0]=x']) {
      const payload = `${new URLSearchParams({ ...SANDBOX, ...NEW }).toString()}&city=Margao${extra}`;
      const id = (
        await app.inject({
          method: 'POST',
          url: '/api/customer/create',
          payload,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).json().result;
      expect((await lastJournalEntry(app)).warnings, extra).toEqual([
        'city was sent 2 times; the last value "Margao" is used (as PHP does)',
        ...(extra ? ['unknown field "tags" ignored (NeuCRM ignores unknown fields in both modes)'] : []),
      ]);
      expect((await ok(app, 'list', { ...SANDBOX, customerid: String(id) }))[0].city, extra).toBe('Margao');
    }
  });

  it('a field repeated in a multipart body keeps its last value, with a journal warning', async () => {
    const body = await multipart([...Object.entries({ ...SANDBOX, ...NEW }), ['city', 'Margao']]);
    const id = (await app.inject({ method: 'POST', url: '/api/customer/create', ...body })).json().result;
    expect((await lastJournalEntry(app)).warnings).toEqual([
      'city was sent 2 times; the last value "Margao" is used (as PHP does)',
    ]);
    expect((await ok(app, 'list', { ...SANDBOX, customerid: String(id) }))[0].city).toBe('Margao');
  });

  it('a dot or a space in a field name becomes "_", as PHP renames it (api.key is api_key)', async () => {
    // Without brackets (fast-querystring splits) and with them (qs nests): the same rules.
    for (const extra of ['', '&tags[]=a&tags[]=b']) {
      const payload = `userid=5&api.key=${SANDBOX.api_key}&show count=1${extra}`;
      const res = await app.inject({
        method: 'POST',
        url: '/api/customer/list',
        payload,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.json().error, extra).toBeNull();
      expect(typeof res.json().result, extra).toBe('number');
    }
  });

  it('a multipart body above --max-body-bytes is a 413 in the envelope, changing nothing', async () => {
    const before = await everything(app);
    const body = await multipart([...Object.entries({ ...SANDBOX, ...NEW }), ['notes', 'x'.repeat(9000)]]);
    const res = await app.inject({ method: 'POST', url: '/api/customer/create', ...body });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ result: null, error: 'Request body too large. Maximum 8192 bytes allowed' });
    expect(await everything(app)).toEqual(before);
  });

  it('an unreadable multipart body is a 400 in the envelope, changing nothing', async () => {
    const before = await everything(app);
    const body = await multipart(Object.entries({ ...SANDBOX, ...NEW }));
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      headers: body.headers,
      payload: body.payload.subarray(0, 200),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/^Invalid request: The multipart body cannot be read: /);
    const none = await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      headers: { 'content-type': 'multipart/form-data' },
      payload: 'userid=5',
    });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatch(/^Invalid request: The multipart body cannot be read: /);
    expect(await everything(app)).toEqual(before);
  });
});
