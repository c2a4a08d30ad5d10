import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ctl, makeApp } from '../helpers.js';
import { API_SECRET, createCustomer, login, rc } from '../rackcorp/helpers.js';
import { call } from '../emailsrvr/helpers.js';

let app: FastifyInstance;
afterEach(async () => {
  await app?.close();
});

describe('request journal', () => {
  it('records a vendor request as received and as answered, credentials marked', async () => {
    app = await makeApp();
    const raw =
      '{"cmd":"customer.get","id":123,"APIUUID":"11111111-2222-4333-8444-555555555555","APISECRET":"rackcorp-sandbox-secret"}';
    const res = await app.inject({
      method: 'POST',
      url: '/api/v2.9/json.php?trace=1',
      payload: raw,
      headers: { 'content-type': 'text/plain', authorization: 'Bearer nothing' },
    });
    const { body } = await ctl(app, 'GET', '/_emulator/requests');
    expect(body.count).toBe(1);
    const e = body.requests[0];
    expect(e).toMatchObject({
      seq: 1,
      session: null,
      vendor: 'rackcorp',
      operation: 'customer.get',
      method: 'POST',
      url: '/api/v2.9/json.php?trace=1',
      path: '/api/v2.9/json.php',
      query: { trace: '1' },
      body: raw,
      status: 200,
      responseBody: res.body,
    });
    expect(e.headers.authorization).toBe('Bearer nothing');
    expect(e.credentials).toEqual(expect.arrayContaining(['header:authorization', 'body:APIUUID', 'body:APISECRET']));
    expect(e.body).toContain(API_SECRET);
    expect(typeof e.durationMs).toBe('number');
    expect(Date.parse(e.time)).not.toBeNaN();
  });

  it('keeps headers and query as the request had them: repeated names, line feeds, empty values', async () => {
    app = await makeApp();
    // Over a real socket, so Node reads the header lines: the journal shows the headers object the
    // vendor route saw (repeats joined or dropped by Node's rules, set-cookie a list, names in lower case).
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const sock = await import('node:net').then((net) => net.connect(port, '127.0.0.1'));
    let answer = '';
    const answered = new Promise<void>((resolve) => sock.on('data', (d) => (answer += d) && resolve()));
    sock.write(
      'GET /api/rest/v2.9/customers/123?q=a%0Ab&tag=x&tag=y&empty= HTTP/1.1\r\nHost: x\r\n' +
        'X-Many: one\r\nx-many: two\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nCookie: c=3\r\nCookie: d=4\r\n' +
        'User-Agent: first\r\nUser-Agent: second\r\nX-Blank:\r\n__proto__: p\r\nConnection: close\r\n\r\n',
    );
    await answered;
    sock.destroy();
    const { body } = await ctl(app, 'GET', '/_emulator/requests');
    const e = body.requests[0];
    expect(e.query).toEqual({ q: 'a\nb', tag: ['x', 'y'], empty: '' });
    expect(e.headers).toEqual({
      host: 'x',
      'x-many': 'one, two',
      'set-cookie': ['a=1', 'b=2'],
      cookie: 'c=3; d=4',
      'user-agent': 'first',
      'x-blank': '',
      connection: 'close',
    });
    expect(Object.keys(e.headers)).not.toContain('__proto__');
    // The answer's headers are those the emulator set, as sent; not the ones Node adds (date, connection).
    expect(answer).toMatch(/\r\nDate: /);
    expect(e.responseHeaders).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(e.responseBody)),
    });
  });

  it('keeps the body of a GET (which no parser reads) and of a PUT, as sent', async () => {
    app = await makeApp();
    const token = await login(app);
    await app.inject({
      method: 'GET',
      url: '/api/rest/v2.9/customers/123',
      payload: 'odd=body',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` },
    });
    await app.inject({
      method: 'PUT',
      url: '/api/v01/customers',
      payload: '{"accountId":2001',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}`,
      },
    });
    const { body } = await ctl(app, 'GET', '/_emulator/requests');
    const byMethod = Object.fromEntries(body.requests.map((e: { method: string }) => [e.method, e]));
    expect(byMethod.GET).toMatchObject({
      vendor: 'rackcorp',
      path: '/api/rest/v2.9/customers/123',
      body: 'odd=body',
      status: 200,
    });
    expect(byMethod.PUT).toMatchObject({ vendor: 'mgmt', path: '/api/v01/customers', body: '{"accountId":2001' });
  });

  it('keeps the body of a request no route serves as sent, not as the parser read it', async () => {
    app = await makeApp();
    // Rackspace checks the signature before it routes, so its 404 comes after the body was parsed (as XML here).
    const xml = '<customer xmlns="urn:xml:customer"><name>Kept &amp; raw</name></customer>';
    const rs = await call(app, {
      method: 'POST',
      url: '/v0/customers/460182/no-such-thing',
      payload: xml,
      headers: { 'content-type': 'text/xml' },
    });
    expect(rs.statusCode).toBe(404);
    const { body } = await ctl(app, 'GET', '/_emulator/requests');
    expect(body.requests[0]).toMatchObject({
      vendor: 'emailsrvr',
      path: '/v0/customers/460182/no-such-thing',
      body: xml,
      status: 404,
    });
  });

  it('never records control requests', async () => {
    app = await makeApp();
    await ctl(app, 'GET', '/_emulator/health');
    await ctl(app, 'GET', '/_emulator/sessions');
    expect((await ctl(app, 'GET', '/_emulator/requests/count')).body.count).toBe(0);
  });

  it('filters by vendor, operation, status, since and limit, newest first, and clears', async () => {
    app = await makeApp();
    await ctl(app, 'PUT', '/_emulator/clock', { now: '2031-05-01T00:00:00Z' });
    await rc(app, 'customer.get', { id: 123 });
    await ctl(app, 'PUT', '/_emulator/clock', { advance: 3600 });
    await createCustomer(app);
    await app.inject({ method: 'GET', url: '/api/rest/v2.9/no/such/path' });
    const count = async (q: string) => (await ctl(app, 'GET', `/_emulator/requests/count${q}`)).body.count;
    expect(await count('')).toBe(3);
    expect(await count('?vendor=rackcorp')).toBe(3);
    expect(await count('?vendor=mgmt')).toBe(0);
    expect(await count('?operation=customer.create')).toBe(1);
    expect(await count('?status=200')).toBe(3);
    expect(await count('?status=2xx')).toBe(3);
    expect(await count('?status=4xx')).toBe(0);
    expect(await count('?since=2031-05-01T00:30:00Z')).toBe(2);
    expect(await count(`?since=${Date.parse('2031-05-01T00:30:00Z') / 1000}`)).toBe(2);
    const limited = await ctl(app, 'GET', '/_emulator/requests?limit=2');
    expect(limited.body.requests.map((r: any) => r.seq)).toEqual([3, 2]);
    expect((await ctl(app, 'GET', '/_emulator/requests?status=600')).status).toBe(400);
    expect((await ctl(app, 'GET', '/_emulator/requests?limit=zero')).status).toBe(400);
    expect((await ctl(app, 'GET', '/_emulator/requests?since=yesterday')).status).toBe(400);
    expect((await ctl(app, 'DELETE', '/_emulator/requests')).body.cleared).toBe(3);
    expect(await count('')).toBe(0);
  });

  it('is a bounded ring: the oldest entries go first', async () => {
    app = await makeApp({ journalSize: 3 });
    for (let i = 0; i < 5; i++) await rc(app, 'customer.get', { id: 123 });
    const { body } = await ctl(app, 'GET', '/_emulator/requests');
    expect(body.requests.map((r: any) => r.seq)).toEqual([5, 4, 3]);
  });

  it('bounds the bodies it keeps', async () => {
    app = await makeApp({ journalBodyBytes: 16 });
    await rc(app, 'customer.get', { id: 123 });
    const e = (await ctl(app, 'GET', '/_emulator/requests')).body.requests[0];
    expect(e.body).toHaveLength(16);
    expect(e.bodyTruncated).toBe(true);
    expect(e.responseBodyTruncated).toBe(true);
  });

  it('?session=* looks across every session', async () => {
    app = await makeApp();
    await rc(app, 'customer.get', { id: 123 }, 'x1');
    await rc(app, 'customer.get', { id: 123 }, 'x2');
    await rc(app, 'customer.get', { id: 123 });
    expect((await ctl(app, 'GET', '/_emulator/requests/count?session=*')).body.count).toBe(3);
    expect((await ctl(app, 'GET', '/_emulator/requests/count?session=x1')).body.count).toBe(1);
  });
});

describe('clock', () => {
  it('freezes, advances and lets time run, per session', async () => {
    app = await makeApp();
    const h = { 'x-emulator-session': 'c1' };
    let r = await ctl(app, 'PUT', '/_emulator/clock', { now: '2030-06-01T12:00:00Z' }, h);
    expect(r.body).toMatchObject({ session: 'c1', now: '2030-06-01T12:00:00.000Z', frozen: true });
    r = await ctl(app, 'PUT', '/_emulator/clock', { advance: 90 }, h);
    expect(r.body.now).toBe('2030-06-01T12:01:30.000Z');
    r = await ctl(app, 'PUT', '/_emulator/clock', { now: 1900000000 }, h);
    expect(r.body.epoch).toBe(1900000000);
    expect((await ctl(app, 'GET', '/_emulator/clock')).body.frozen).toBe(false);
    r = await ctl(app, 'PUT', '/_emulator/clock', { real: true }, h);
    expect(r.body.frozen).toBe(false);
  });

  it('refuses bad clock requests with a 400', async () => {
    app = await makeApp();
    for (const body of [{}, { now: 'soon' }, { advance: 'x' }, { now: 1, advance: 1 }, { real: false }, { other: 1 }]) {
      const r = await ctl(app, 'PUT', '/_emulator/clock', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('Bad Request');
      expect(typeof r.body.message).toBe('string');
    }
  });

  it('drives RackCorp JWT expiry and created dates', async () => {
    app = await makeApp({ jwtTtl: 600 });
    const h = { 'x-emulator-session': 'jwt' };
    await ctl(app, 'PUT', '/_emulator/clock', { now: '2030-01-01T00:00:00Z' }, h);
    const token = await login(app, 'jwt');
    const get = () =>
      app.inject({
        method: 'GET',
        url: '/api/rest/v2.9/customers/123',
        headers: { ...h, authorization: `Bearer ${token}` },
      });
    expect((await get()).json().code).toBe('OK');
    await ctl(app, 'PUT', '/_emulator/clock', { advance: 599 }, h);
    expect((await get()).json().code).toBe('OK');
    await ctl(app, 'PUT', '/_emulator/clock', { advance: 2 }, h);
    expect((await get()).json()).toMatchObject({ code: 'FAULT', message: expect.stringContaining('expired') });
    // Dates written by the vendor come from the same clock.
    const id = await createCustomer(app, 'jwt');
    const c = (await rc(app, 'customer.get', { id }, 'jwt')).json().customer;
    expect(JSON.stringify(c)).toContain(String(Date.parse('2030-01-01T00:10:01Z') / 1000));
  });
});

describe('outbox', () => {
  it('lists RackCorp contact emails, newest first, with vendor and table', async () => {
    app = await makeApp();
    const send = (message: string) =>
      rc(
        app,
        'customer.contact.send',
        { id: 123, companyname: 'Example Corp', name: 'John Doe', email: 'john@example.com', phone: '1', message },
        'ob',
      );
    await send('first');
    await ctl(app, 'PUT', '/_emulator/clock', { advance: 10 }, { 'x-emulator-session': 'ob' });
    await send('second');
    const { body } = await ctl(app, 'GET', '/_emulator/outbox?session=ob');
    expect(body.count).toBe(2);
    expect(body.messages.map((m: any) => m.message)).toEqual(['second', 'first']);
    expect(body.messages[0]).toMatchObject({
      vendor: 'rackcorp',
      table: 'rackcorp_contact_emails',
      email: 'john@example.com',
    });
    expect((await ctl(app, 'GET', '/_emulator/outbox')).body.count).toBe(0);
  });
});
