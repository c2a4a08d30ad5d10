import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { countCustomers, fixtureCustomers, OTHER, putJson, putXml, req } from './helpers.js';

const NEXT_ID = Math.max(...fixtureCustomers.map((c) => c.id)) + 1;

const FULL = {
  code: 'ACME-42',
  accountId: 2002,
  title: 'Dr',
  firstName: 'Ada',
  middleName: 'King',
  lastName: 'Lovelace',
  suffix: 'III',
  birthDate: '19151210',
  gender: 'F',
  organizationName: 'Analytical Engines Ltd',
  email: 'ada@example.org',
  phone: '+44 20 7946 01',
  street: '12 St James Sq',
  city: 'London',
  state: 'LND',
  zipCode: 'SW1Y 4JH',
  countryCode: 'GB',
};

describe('UniPay create', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('creates a customer from JSON and answers it with its new id', async () => {
    const res = await putJson(app, FULL);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers.location).toBe(`/api/v01/customers/${NEXT_ID}`);
    expect(res.json()).toEqual({ id: NEXT_ID, ...FULL });
    const loaded = await req(app, { method: 'GET', url: `/api/v01/customers/${NEXT_ID}` });
    expect(loaded.json()).toEqual({ id: NEXT_ID, ...FULL });
    const found = await req(app, { method: 'GET', url: '/api/v01/customers?organizationName=analytical' });
    expect(found.json()).toEqual([{ id: NEXT_ID, ...FULL }]);
    expect(countCustomers(app)).toBe(fixtureCustomers.length + 1);
  });

  it('trims text as the XML reader does; white space alone is "not given" (regression: "\\r\\n" was kept and broke the XML answer)', async () => {
    const res = await putJson(app, { accountId: 2001, lastName: '  Lovelace \t', title: '\r\n', suffix: ' ' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.lastName).toBe('Lovelace');
    expect(body).not.toHaveProperty('title');
    expect(body).not.toHaveProperty('suffix');
  });

  it('defaults code to the id, as a string, and takes ids in sequence', async () => {
    const a = await putJson(app, { accountId: 2001, lastName: 'First' });
    const b = await putJson(app, { accountId: 2001, lastName: 'Second', code: '' });
    expect(a.json()).toEqual({ id: NEXT_ID, code: String(NEXT_ID), accountId: 2001, lastName: 'First' });
    expect(b.json()).toEqual({ id: NEXT_ID + 1, code: String(NEXT_ID + 1), accountId: 2001, lastName: 'Second' });
  });

  it('creates from XML and answers the documented XML form', async () => {
    const res = await putXml(
      app,
      `<?xml version="1.0" encoding="UTF-8"?>
<customer accountId="2001" code="X&amp;Y">
  <firstName>Grace</firstName>
  <lastName>Hopper</lastName>
  <birthDate>19061209</birthDate>
  <gender>F</gender>
  <title/>
  <city>Arlington &lt;VA&gt;</city>
  <countryCode>us</countryCode>
</customer>`,
      { accept: 'application/xml' },
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(res.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<customer id="${NEXT_ID}" code="X&amp;Y" accountId="2001">
  <firstName>Grace</firstName>
  <lastName>Hopper</lastName>
  <birthDate>19061209</birthDate>
  <gender>F</gender>
  <city>Arlington &lt;VA&gt;</city>
  <countryCode>US</countryCode>
</customer>
`);
    const json = await req(app, { method: 'GET', url: `/api/v01/customers/${NEXT_ID}` });
    expect(json.json()).toEqual({
      id: NEXT_ID,
      code: 'X&Y',
      accountId: 2001,
      firstName: 'Grace',
      lastName: 'Hopper',
      birthDate: '19061209',
      gender: 'F',
      city: 'Arlington <VA>',
      countryCode: 'US',
    });
  });

  it('accepts JSON in, XML out and XML in, JSON out', async () => {
    const a = await putJson(app, { accountId: 2001, lastName: 'Mixed' }, { accept: 'text/xml' });
    expect(a.body).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<customer id="${NEXT_ID}" code="${NEXT_ID}" accountId="2001">\n  <lastName>Mixed</lastName>\n</customer>\n`,
    );
    const b = await putXml(app, '<customer accountId="2002"><lastName>Other</lastName></customer>', {
      'content-type': 'text/xml; charset=utf-8',
    });
    expect(b.json()).toEqual({ id: NEXT_ID + 1, code: String(NEXT_ID + 1), accountId: 2002, lastName: 'Other' });
  });

  it('accepts every field at its documented length and refuses one character more, naming the field', async () => {
    const lengths: Record<string, number> = {
      code: 60,
      title: 10,
      firstName: 125,
      middleName: 125,
      lastName: 125,
      suffix: 10,
      organizationName: 255,
      phone: 15,
      street: 128,
      city: 50,
      state: 3,
      zipCode: 10,
    };
    const atMax: Record<string, unknown> = {
      accountId: 2001,
      email: `${'e'.repeat(88)}@example.com`,
      countryCode: 'US',
    };
    for (const [f, n] of Object.entries(lengths)) atMax[f] = 'é'.repeat(n);
    expect((atMax.email as string).length).toBe(100);
    const ok = await putJson(app, atMax);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().lastName).toBe('é'.repeat(125));
    const before = countCustomers(app);
    for (const [f, n] of Object.entries({ ...lengths, email: 100, countryCode: 2 })) {
      const value = f === 'email' ? `${'e'.repeat(89)}@example.com` : f === 'countryCode' ? 'USA' : 'x'.repeat(n + 1);
      const res = await putJson(app, { accountId: 2001, [f]: value });
      expect(res.statusCode, f).toBe(400);
      expect(res.json(), f).toEqual({
        response: { code: 'E400', status: 400, message: `${f} must be at most ${n} characters`, field: f },
      });
      const xml = await putXml(
        app,
        f === 'code'
          ? `<customer accountId="2001" code="${value}"/>`
          : `<customer accountId="2001"><${f}>${value}</${f}></customer>`,
        { accept: 'application/xml' },
      );
      expect(xml.statusCode, f).toBe(400);
      expect(xml.body, f).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<response code="E400" status="400" field="${f}">
  <message>${f} must be at most ${n} characters</message>
</response>
`);
    }
    expect(countCustomers(app)).toBe(before);
  });

  it("refuses a merchant account outside the user's reach with 403, creating nothing", async () => {
    const before = countCustomers(app);
    const a = await putJson(app, { accountId: 3001, lastName: 'Intruder' });
    expect(a.statusCode).toBe(403);
    expect(a.json()).toEqual({
      response: {
        code: 'E403',
        status: 403,
        message: 'accountId 3001 is not an account user api-sandbox may act on',
        field: 'accountId',
      },
    });
    const b = await putJson(app, { accountId: 2001, lastName: 'Intruder' }, {}, OTHER);
    expect(b.statusCode).toBe(403);
    const c = await putJson(app, { accountId: 9999, lastName: 'Nowhere' });
    expect(c.statusCode).toBe(403);
    expect(countCustomers(app)).toBe(before);
    const d = await putJson(app, { accountId: 3001, lastName: 'Theirs' }, {}, OTHER);
    expect(d.statusCode).toBe(200);
    const seen = await req(app, { method: 'GET', url: `/api/v01/customers/${d.json().id}` });
    expect(seen.statusCode).toBe(404);
  });

  it("keeps a session's customers to that session", async () => {
    const res = await putJson(app, { accountId: 2001, lastName: 'Sessioned' }, { 'x-emulator-session': 'mgmt-a' });
    expect(res.statusCode).toBe(200);
    const other = await req(app, { method: 'GET', url: '/api/v01/customers?lastName=Sessioned' });
    expect(other.json()).toEqual([]);
    const same = await req(app, {
      method: 'GET',
      url: '/api/v01/customers?lastName=Sessioned',
      headers: { 'x-emulator-session': 'mgmt-a' },
    });
    expect(same.json()).toHaveLength(1);
  });
});

describe('UniPay create: bad input is a 400 and changes nothing', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
  });
  afterEach(async () => {
    await app.close();
  });

  const JSON_CASES: [string, string, string, string][] = [
    ['malformed JSON', '{"accountId": 2001,', 'customer', 'Malformed JSON body: the Customer is not valid JSON'],
    ['an array', '[{"accountId": 2001}]', 'customer', 'The request body must be a Customer object'],
    ['a string', '"customer"', 'customer', 'The request body must be a Customer object'],
    [
      'an unknown field',
      '{"accountId": 2001, "nickname": "Al"}',
      'nickname',
      'nickname is not a known field of Customer',
    ],
    ['the read-only id', '{"id": 5, "accountId": 2001}', 'id', 'id is read-only: the gateway assigns it'],
    ['no accountId', '{"lastName": "Solo"}', 'accountId', 'accountId is required'],
    ['accountId as a string', '{"accountId": "2001"}', 'accountId', 'accountId must be an integer'],
    ['accountId as a fraction', '{"accountId": 2001.5}', 'accountId', 'accountId must be an integer'],
    ['a number for a name', '{"accountId": 2001, "firstName": 42}', 'firstName', 'firstName must be a string'],
    ['an object for a name', '{"accountId": 2001, "lastName": {"x": 1}}', 'lastName', 'lastName must be a string'],
    ['a bad gender', '{"accountId": 2001, "gender": "X"}', 'gender', 'gender must be M or F'],
    [
      'a bad birthDate format',
      '{"accountId": 2001, "birthDate": "1990-01-01"}',
      'birthDate',
      'birthDate must be a date in yyyyMMdd format',
    ],
    [
      'an impossible birthDate',
      '{"accountId": 2001, "birthDate": "19990231"}',
      'birthDate',
      'birthDate 19990231 is not a valid date (yyyyMMdd)',
    ],
    ['a bad email', '{"accountId": 2001, "email": "not-an-email"}', 'email', 'email must be a valid email address'],
    [
      'a bad countryCode',
      '{"accountId": 2001, "countryCode": "1A"}',
      'countryCode',
      'countryCode must be a two-letter ISO 3166 country code',
    ],
    ['a prototype-poisoning key', '{"accountId": 2001, "__proto__": {"x": 1}}', 'customer', ''],
  ];

  it.each(JSON_CASES)('refuses JSON with %s', async (_name, body, field, message) => {
    const before = countCustomers(app);
    const res = await putJson(app, body);
    expect(res.statusCode).toBe(400);
    const r = res.json().response;
    expect(r.code).toBe('E400');
    expect(r.field).toBe(field);
    if (message) expect(r.message).toBe(message);
    else expect(r.message).toMatch(/^Malformed JSON body: /);
    expect(countCustomers(app)).toBe(before);
  });

  it('refuses an empty body', async () => {
    const a = await req(app, { method: 'PUT', url: '/api/v01/customers' });
    expect(a.statusCode).toBe(400);
    expect(a.json().response.message).toBe('A Customer object is required in the request body');
    const b = await putJson(app, '');
    expect(b.statusCode).toBe(400);
    expect(b.json().response.message).toBe('A Customer object is required in the request body');
  });

  const XML_CASES: [string, string, string, string][] = [
    [
      'malformed XML',
      '<customer accountId="2001"><lastName>x</customer>',
      'customer',
      'Malformed XML body: malformed XML: ',
    ],
    [
      'an entity declaration',
      '<?xml version="1.0"?><!DOCTYPE customer [<!ENTITY lol "lol">]><customer accountId="2001"><lastName>&lol;</lastName></customer>',
      'customer',
      'Malformed XML body: DOCTYPE and entity declarations are not accepted',
    ],
    [
      'an external entity',
      '<!DOCTYPE customer [<!ENTITY x SYSTEM "file:///etc/passwd">]><customer accountId="2001"><lastName>&x;</lastName></customer>',
      'customer',
      'Malformed XML body: DOCTYPE and entity declarations are not accepted',
    ],
    [
      'deep nesting',
      `<customer accountId="2001"><lastName>${'<a>'.repeat(50)}${'</a>'.repeat(50)}</lastName></customer>`,
      'customer',
      'Malformed XML body: XML nested deeper than 8 elements',
    ],
    [
      'a huge document',
      `<customer accountId="2001"><lastName>${'x'.repeat(70_000)}</lastName></customer>`,
      'customer',
      'Malformed XML body: XML body larger than 65536 bytes',
    ],
    [
      'another root element',
      '<client accountId="2001"/>',
      'customer',
      'The XML root element must be <customer>, not <client>',
    ],
    [
      'the read-only id attribute',
      '<customer id="7" accountId="2001"/>',
      'id',
      'id is read-only: the gateway assigns it',
    ],
    [
      'accountId as a child element',
      '<customer><accountId>2001</accountId></customer>',
      'accountId',
      'accountId must be an attribute of <customer>, not a child element',
    ],
    [
      'a field as an attribute',
      '<customer accountId="2001" lastName="x"/>',
      'lastName',
      'lastName must be a child element of <customer>, not an attribute',
    ],
    [
      'an unknown attribute',
      '<customer accountId="2001" vip="yes"/>',
      'vip',
      'vip is not a known attribute of <customer>',
    ],
    [
      'an unknown element',
      '<customer accountId="2001"><nickname>Al</nickname></customer>',
      'nickname',
      'nickname is not a known field of Customer',
    ],
    [
      'a repeated element',
      '<customer accountId="2001"><lastName>a</lastName><lastName>b</lastName></customer>',
      'lastName',
      'lastName must be given at most once',
    ],
    [
      'a nested element',
      '<customer accountId="2001"><lastName><b>x</b></lastName></customer>',
      'lastName',
      'lastName must be a string',
    ],
    ['a non-numeric accountId', '<customer accountId="abc"/>', 'accountId', 'accountId must be an integer'],
    ['no accountId', '<customer><lastName>x</lastName></customer>', 'accountId', 'accountId is required'],
    [
      'text in customer',
      '<customer accountId="2001">hello</customer>',
      'customer',
      '<customer> must hold child elements, not text',
    ],
  ];

  it.each(XML_CASES)('refuses XML with %s', async (_name, body, field, message) => {
    const before = countCustomers(app);
    const res = await putXml(app, body);
    expect(res.statusCode).toBe(400);
    const r = res.json().response;
    expect(r.code).toBe('E400');
    expect(r.field).toBe(field);
    if (message.endsWith(': ')) expect(r.message.startsWith(message)).toBe(true);
    else expect(r.message).toBe(message);
    expect(countCustomers(app)).toBe(before);
  });

  it('answers a body over the server limit with 413 in the UniPay format', async () => {
    const small = await makeApp({ maxBodyBytes: 2048 });
    try {
      const res = await putJson(small, { accountId: 2001, lastName: 'x'.repeat(4000) });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual({ response: { code: 'E413', status: 413, message: 'Request body is too large' } });
      expect(countCustomers(small)).toBe(fixtureCustomers.length);
    } finally {
      await small.close();
    }
  });
});
