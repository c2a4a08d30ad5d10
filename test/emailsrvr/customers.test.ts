import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { SANDBOX, OTHER, XML_HEAD, call, dump, signed } from './helpers.js';

// The documentation's examples, verbatim.
const DOC_INDEX_XML = `<?xml version="1.0" encoding="utf-8"?>
<customerList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="urn:xml:customerList">
  <offset>0</offset>
  <size>50</size>
  <total>3</total>
  <customers>
    <customer>
      <name>API Customer 17</name>
      <accountNumber>460182</accountNumber>
      <referenceNumber>49</referenceNumber>
    </customer>
    <customer>
      <name>API Customer 39</name>
      <accountNumber>460181</accountNumber>
      <referenceNumber>23</referenceNumber>
    </customer>
    <customer>
      <name>API Customer 50</name>
      <accountNumber>460183</accountNumber>
      <referenceNumber>10</referenceNumber>
    </customer>
  </customers>
</customerList>`;
const DOC_INDEX_JSON = `{"offset":0,"size":50,"total":3,"customers":
[{"name":"API Customer 17","accountNumber":"460182","referenceNumber":"49"},
{"name":"API Customer 39","accountNumber":"460181","referenceNumber":"23"},
{"name":"API Customer 50","accountNumber":"460183","referenceNumber":"10"}]}`;
const DOC_SHOW_XML = `<?xml version="1.0" encoding="utf-8"?>
<customer xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="urn:xml:customer">
  <name>API Customer 17</name>
  <accountNumber>460182</accountNumber>
  <referenceNumber>49</referenceNumber>
</customer>`;
const DOC_SHOW_JSON = `{"name":"API Customer 17","accountNumber":"460182","referenceNumber":"49"}`;

const PREFIXES = ['/v0/customers', '/v1/customers', '/customers'];
const SANDBOX_CUSTOMERS = 133;

function xmlFault(root: string, code: number, message: string, details: string): string {
  return `${XML_HEAD}\n<${root} code="${code}">\n  <message>${message}</message>\n  <details>${details}</details>\n</${root}>`;
}

let session = 0;
/** A private copy of the fixtures for a test that writes. */
function newSession(): string {
  return `emailsrvr-${++session}`;
}

describe('read operations', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  describe.each(PREFIXES)('under %s', (prefix) => {
    it('Index in XML matches the documentation byte for byte (search "API Customer")', async () => {
      const res = await call(app, { method: 'GET', url: `${prefix}?contains=API%20Customer`, accept: 'text/xml' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
      expect(res.body).toBe(DOC_INDEX_XML);
    });
    it('Index in JSON matches the documentation (account and reference numbers as strings)', async () => {
      const res = await call(app, {
        method: 'GET',
        url: `${prefix}?contains=API%20Customer`,
        accept: 'application/json',
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe(DOC_INDEX_JSON.replace(/\n/g, ''));
    });
    it('Show in both formats matches the documentation', async () => {
      const xml = await call(app, { method: 'GET', url: `${prefix}/460182`, accept: 'text/xml' });
      expect(xml.statusCode).toBe(200);
      expect(xml.body).toBe(DOC_SHOW_XML);
      const json = await call(app, { method: 'GET', url: `${prefix}/460182`, accept: 'application/json' });
      expect(json.body).toBe(DOC_SHOW_JSON);
    });
    it('?referenceNumber= answers like Show, in both formats', async () => {
      const xml = await call(app, { method: 'GET', url: `${prefix}?referenceNumber=49`, accept: 'application/xml' });
      expect(xml.statusCode).toBe(200);
      expect(xml.body).toBe(DOC_SHOW_XML);
      const json = await call(app, { method: 'GET', url: `${prefix}?referenceNumber=49` });
      expect(json.body).toBe(DOC_SHOW_JSON);
    });
    it('Show me is the reseller itself (no reference number: the element is left out)', async () => {
      const xml = await call(app, { method: 'GET', url: `${prefix}/me`, accept: 'text/xml' });
      expect(xml.body).toBe(`${XML_HEAD}
<customer xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="urn:xml:customer">
  <name>Sandbox Reseller</name>
  <accountNumber>460180</accountNumber>
</customer>`);
      const json = await call(app, { method: 'GET', url: `${prefix}/me` });
      expect(json.body).toBe('{"name":"Sandbox Reseller","accountNumber":"460180"}');
    });
    it('unknown account: 404 itemNotFoundFault "Invalid account number" in both formats', async () => {
      const json = await call(app, { method: 'GET', url: `${prefix}/999999` });
      expect(json.statusCode).toBe(404);
      expect(json.body).toBe(
        '{"itemNotFoundFault":{"code":404,"message":"Invalid account number","details":"Invalid account number: 999999"}}',
      );
      const xml = await call(app, { method: 'GET', url: `${prefix}/999999`, accept: 'text/xml' });
      expect(xml.statusCode).toBe(404);
      expect(xml.body).toBe(
        xmlFault('itemNotFoundFault', 404, 'Invalid account number', 'Invalid account number: 999999'),
      );
    });
  });

  it('lists by name (then account number), default size 50, v0 page numbers', async () => {
    const res = await call(app, { method: 'GET', url: '/v0/customers' });
    const body = res.json();
    expect(body).toMatchObject({ offset: 0, size: 50, total: SANDBOX_CUSTOMERS });
    expect(body.customers).toHaveLength(50);
    const names = body.customers.map((c: { name: string }) => c.name);
    expect(names.slice(0, 3)).toEqual(['API Customer 17', 'API Customer 39', 'API Customer 50']);
    expect([...names].sort((a: string, b: string) => a.toLowerCase().localeCompare(b.toLowerCase()))).toEqual(names);
    for (const c of body.customers) expect(typeof c.accountNumber).toBe('string');
  });

  it('pages by page (v0) and by offset (v1) at size 50 to the same rows, on every prefix', async () => {
    const all: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const byPage = (await call(app, { method: 'GET', url: `/v0/customers?page=${page}&size=50` })).json();
      const byOffset = (
        await call(app, { method: 'GET', url: `/v1/customers?offset=${(page - 1) * 50}&size=50` })
      ).json();
      const bare = (await call(app, { method: 'GET', url: `/customers?offset=${(page - 1) * 50}` })).json();
      expect(byPage).toEqual(byOffset);
      expect(bare).toEqual(byOffset);
      expect(byPage.offset).toBe((page - 1) * 50);
      expect(byPage.total).toBe(SANDBOX_CUSTOMERS);
      all.push(...byPage.customers.map((c: { accountNumber: string }) => c.accountNumber));
    }
    expect(all).toHaveLength(SANDBOX_CUSTOMERS);
    expect(new Set(all).size).toBe(SANDBOX_CUSTOMERS);
    const last = (await call(app, { method: 'GET', url: '/v0/customers?page=3&size=50' })).json();
    expect(last.customers).toHaveLength(33);
    const beyond = await call(app, { method: 'GET', url: '/v0/customers?page=4&size=50', accept: 'text/xml' });
    expect(beyond.body).toContain(
      '<offset>150</offset>\n  <size>50</size>\n  <total>133</total>\n  <customers></customers>\n</customerList>',
    );
  });

  it('serves size=250 in one page, and clamps larger sizes to 250', async () => {
    const page = (await call(app, { method: 'GET', url: '/v1/customers?size=250&offset=0' })).json();
    expect(page.size).toBe(250);
    expect(page.customers).toHaveLength(SANDBOX_CUSTOMERS);
    const v0 = (await call(app, { method: 'GET', url: '/v0/customers?size=250&page=1' })).json();
    expect(v0).toEqual(page);
    const big = (await call(app, { method: 'GET', url: '/v0/customers?size=1000' })).json();
    expect(big.size).toBe(250);
    const tail = (await call(app, { method: 'GET', url: '/v1/customers?size=250&offset=120' })).json();
    expect(tail.customers).toHaveLength(13);
    expect(tail.offset).toBe(120);
  });

  it('offset wins over page when both are given', async () => {
    const both = (await call(app, { method: 'GET', url: '/v0/customers?page=3&offset=10&size=5' })).json();
    expect(both.offset).toBe(10);
  });

  it('refuses bad paging parameters with a 400 validationFault, in both formats', async () => {
    const json = await call(app, { method: 'GET', url: '/v0/customers?page=0' });
    expect(json.statusCode).toBe(400);
    expect(json.json().validationFault).toEqual({
      code: 400,
      message: 'Invalid value for page',
      details: 'page must be >= 1',
    });
    const xml = await call(app, { method: 'GET', url: '/v1/customers?size=abc', accept: 'text/xml' });
    expect(xml.statusCode).toBe(400);
    expect(xml.body).toBe(xmlFault('validationFault', 400, 'Invalid value for size', 'size must be an integer'));
    const huge = await call(app, { method: 'GET', url: '/v0/customers?offset=100000000000000000000' });
    expect(huge.statusCode).toBe(400);
    expect(huge.json().validationFault).toEqual({
      code: 400,
      message: 'Invalid value for offset',
      details: 'offset must be <= 2147483647',
    });
    const far = (await call(app, { method: 'GET', url: '/v0/customers?page=2147483647&size=250' })).json();
    expect(far).toMatchObject({ offset: 2147483646 * 250, size: 250, total: SANDBOX_CUSTOMERS, customers: [] });
  });

  it('searches with startswith on name, account number and reference number', async () => {
    const byName = (await call(app, { method: 'GET', url: '/v0/customers?startswith=api%20customer%205' })).json();
    expect(byName.customers.map((c: { name: string }) => c.name)).toEqual(['API Customer 50']);
    const byAccount = (await call(app, { method: 'GET', url: '/v0/customers?startswith=46018' })).json();
    expect(byAccount.total).toBe(9); // 460181..460189
    const byRef = (await call(app, { method: 'GET', url: '/v1/customers?startswith=1007' })).json();
    expect(byRef.customers.map((c: { referenceNumber: string }) => c.referenceNumber)).toEqual(['1007']);
    const none = (await call(app, { method: 'GET', url: '/v0/customers?startswith=Customer' })).json();
    expect(none.total).toBe(0);
  });

  it('searches with contains on name, account number and reference number; combined with paging', async () => {
    const byName = (await call(app, { method: 'GET', url: '/v0/customers?contains=Dental' })).json();
    expect(byName.total).toBe(13);
    expect(byName.customers.every((c: { name: string }) => c.name.includes('Dental'))).toBe(true);
    const byAccount = (await call(app, { method: 'GET', url: '/v0/customers?contains=0183' })).json();
    expect(byAccount.customers.map((c: { accountNumber: string }) => c.accountNumber)).toEqual(['460183']);
    const byRef = (await call(app, { method: 'GET', url: '/customers?contains=23' })).json();
    expect(byRef.customers.map((c: { accountNumber: string }) => c.accountNumber)).toContain('460181');
    const paged = (await call(app, { method: 'GET', url: '/v0/customers?contains=Dental&size=5&page=3' })).json();
    expect(paged).toMatchObject({ offset: 10, size: 5, total: 13 });
    expect(paged.customers).toHaveLength(3);
    // LIKE wildcards in the search text are literal.
    expect((await call(app, { method: 'GET', url: '/v0/customers?contains=%25' })).json().total).toBe(0);
  });

  it('?referenceNumber= with no such customer: 404 Invalid account number in both formats', async () => {
    const json = await call(app, { method: 'GET', url: '/v0/customers?referenceNumber=nope' });
    expect(json.statusCode).toBe(404);
    expect(json.json().itemNotFoundFault.message).toBe('Invalid account number');
    const xml = await call(app, { method: 'GET', url: '/v0/customers?referenceNumber=4', accept: 'text/xml' });
    expect(xml.statusCode).toBe(404);
    expect(xml.body).toContain('<itemNotFoundFault code="404">\n  <message>Invalid account number</message>');
  });

  it('negotiates: no Accept and */* give XML; q-values are honoured', async () => {
    const none = await app.inject({ method: 'GET', url: '/v0/customers/460182', headers: signed(app) });
    expect(none.body).toBe(DOC_SHOW_XML);
    const star = await call(app, { method: 'GET', url: '/v0/customers/460182', accept: '*/*' });
    expect(star.body).toBe(DOC_SHOW_XML);
    const q = await call(app, {
      method: 'GET',
      url: '/v0/customers/460182',
      accept: 'text/xml;q=0.5, application/json',
    });
    expect(q.body).toBe(DOC_SHOW_JSON);
  });

  it('answers 406 Invalid format (in XML) for an Accept it cannot serve, before authentication', async () => {
    const res = await app.inject({ method: 'GET', url: '/v0/customers', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(406);
    expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(res.body).toBe(
      xmlFault(
        'badRequestFault',
        406,
        'Invalid format',
        'Accept &quot;text/html&quot; names no format served: use text/xml, application/xml or application/json',
      ),
    );
  });

  it('accepts Content-Type: application/json on a GET with no body', async () => {
    const res = await call(app, {
      method: 'GET',
      url: '/v1/customers/me',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers unknown paths with 404 and wrong methods with 405, as faults', async () => {
    const nf = await call(app, { method: 'GET', url: '/v0/customers/460182/domains' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().itemNotFoundFault.message).toBe('Resource not found');
    const na = await call(app, { method: 'PATCH', url: '/customers/460182', accept: 'text/xml' });
    expect(na.statusCode).toBe(405);
    expect(na.headers.allow).toBe('GET, HEAD, PUT, DELETE');
    expect(na.body).toContain('<badRequestFault code="405">');
  });
});

describe('reseller isolation', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it("Index lists only the reseller's own customers", async () => {
    const other = (await call(app, { method: 'GET', url: '/v0/customers', key: OTHER })).json();
    expect(other.total).toBe(5);
    expect(other.customers.map((c: { accountNumber: string }) => c.accountNumber).sort()).toEqual([
      '460101',
      '460102',
      '460103',
      '460104',
      '460105',
    ]);
    const mine = (await call(app, { method: 'GET', url: '/v0/customers?size=250' })).json();
    const numbers = mine.customers.map((c: { accountNumber: string }) => Number(c.accountNumber));
    expect(numbers.some((n: number) => n <= 460180)).toBe(false);
    const search = (await call(app, { method: 'GET', url: '/v0/customers?contains=API%20Customer%2099' })).json();
    expect(search.total).toBe(0);
  });

  it("Show, edit and delete of another reseller's customer (or the other reseller) answer 404 like an unknown one", async () => {
    const s = newSession();
    const before = dump(app, s);
    for (const target of ['460101', '460100']) {
      const show = await call(app, { method: 'GET', url: `/v0/customers/${target}`, session: s });
      expect(show.statusCode).toBe(404);
      expect(show.json().itemNotFoundFault.message).toBe('Invalid account number');
      const edit = await call(app, {
        method: 'PUT',
        url: `/customers/${target}`,
        session: s,
        payload: { name: 'Hijacked' },
      });
      expect(edit.statusCode).toBe(404);
      const del = await call(app, { method: 'DELETE', url: `/customers/${target}`, session: s, accept: 'text/xml' });
      expect(del.statusCode).toBe(404);
      expect(del.body).toBe(
        xmlFault('itemNotFoundFault', 404, 'Invalid account number', `Invalid account number: ${target}`),
      );
    }
    expect(dump(app, s)).toBe(before);
  });

  it("the exact reference lookup never finds another reseller's customer", async () => {
    // 460101 (Other Reseller) has reference 49 too; the sandbox gets its own 460182.
    expect((await call(app, { method: 'GET', url: '/v0/customers?referenceNumber=49' })).json().accountNumber).toBe(
      '460182',
    );
    expect(
      (await call(app, { method: 'GET', url: '/v0/customers?referenceNumber=49', key: OTHER })).json().accountNumber,
    ).toBe('460101');
    expect((await call(app, { method: 'GET', url: '/v0/customers?referenceNumber=53' })).statusCode).toBe(404);
  });

  it("me is each key's own account", async () => {
    expect((await call(app, { method: 'GET', url: '/customers/me', key: OTHER })).json()).toEqual({
      name: 'Other Reseller',
      accountNumber: '460100',
    });
    expect((await call(app, { method: 'GET', url: '/customers/me', key: SANDBOX })).json().accountNumber).toBe(
      '460180',
    );
  });
});

describe('add', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(PREFIXES)(
    'POST %s (form-urlencoded) answers 200 with the new customer and a Location; numbers are next in sequence',
    async (prefix) => {
      const s = newSession();
      const res = await call(app, {
        method: 'POST',
        url: prefix,
        session: s,
        accept: 'text/xml',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=Name&referenceNumber=12345',
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers.location).toBe(`${prefix}/460314`);
      expect(res.body).toBe(`${XML_HEAD}
<customer xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="urn:xml:customer">
  <name>Name</name>
  <accountNumber>460314</accountNumber>
  <referenceNumber>12345</referenceNumber>
</customer>`);
      const second = await call(app, { method: 'POST', url: prefix, session: s, payload: { name: 'Second' } });
      expect(second.json()).toEqual({ name: 'Second', accountNumber: '460315' });
      const shown = await call(app, { method: 'GET', url: `${prefix}/460314`, session: s });
      expect(shown.json()).toEqual({ name: 'Name', accountNumber: '460314', referenceNumber: '12345' });
      const listed = (await call(app, { method: 'GET', url: `${prefix}?size=250`, session: s })).json();
      expect(listed.total).toBe(SANDBOX_CUSTOMERS + 2);
    },
  );

  it('accepts JSON bodies (a numeric referenceNumber becomes a string)', async () => {
    const s = newSession();
    const res = await call(app, {
      method: 'POST',
      url: '/v1/customers',
      session: s,
      payload: { name: 'Json Co', referenceNumber: 777 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'Json Co', accountNumber: '460314', referenceNumber: '777' });
    expect(res.headers.location).toBe('/v1/customers/460314');
  });

  it('accepts XML bodies', async () => {
    const s = newSession();
    const res = await call(app, {
      method: 'POST',
      url: '/customers',
      session: s,
      headers: { 'content-type': 'text/xml' },
      payload:
        '<?xml version="1.0" encoding="utf-8"?><customer xmlns="urn:xml:customer"><name>Xml &amp; Co</name><referenceNumber>X-1</referenceNumber></customer>',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'Xml & Co', accountNumber: '460314', referenceNumber: 'X-1' });
    const xml = await call(app, { method: 'GET', url: '/customers/460314', session: s, accept: 'text/xml' });
    expect(xml.body).toContain('<name>Xml &amp; Co</name>');
  });

  it('keeps the session prefix in the Location header', async () => {
    const s = newSession();
    const res = await app.inject({
      method: 'POST',
      url: `/_sessions/${s}/customers`,
      headers: { ...signed(app, SANDBOX, {}, s), 'content-type': 'application/json' },
      payload: { name: 'Path Session' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.location).toBe(`/_sessions/${s}/customers/460314`);
  });

  const errors: Array<[string, { ct: string; payload: string }, string]> = [
    [
      'missing name (form)',
      { ct: 'application/x-www-form-urlencoded', payload: 'referenceNumber=1' },
      'Missing required field: name',
    ],
    ['missing name (no body)', { ct: '', payload: '' }, 'Missing required field: name'],
    [
      'missing name (XML)',
      { ct: 'application/xml', payload: '<customer><referenceNumber>1</referenceNumber></customer>' },
      'Missing required field: name',
    ],
    [
      'empty name (form)',
      { ct: 'application/x-www-form-urlencoded', payload: 'name=' },
      'Required field name cannot be empty',
    ],
    ['empty name (JSON)', { ct: 'application/json', payload: '{"name":""}' }, 'Required field name cannot be empty'],
    [
      'empty name (XML)',
      { ct: 'text/xml', payload: '<customer><name></name></customer>' },
      'Required field name cannot be empty',
    ],
    [
      'name starting with a space (form)',
      { ct: 'application/x-www-form-urlencoded', payload: 'name=%20Spacey' },
      'Improper Customer Name',
    ],
    [
      'name starting with a space (JSON)',
      { ct: 'application/json', payload: '{"name":" Spacey"}' },
      'Improper Customer Name',
    ],
  ];
  for (const [what, req, message] of errors) {
    it(`${what}: 400 badRequestFault "${message}" in JSON and XML, nothing stored`, async () => {
      const s = newSession();
      const before = dump(app, s);
      const headers: Record<string, string> = req.ct ? { 'content-type': req.ct } : {};
      const json = await call(app, { method: 'POST', url: '/customers', session: s, headers, payload: req.payload });
      expect(json.statusCode).toBe(400);
      expect(json.json().badRequestFault).toMatchObject({ code: 400, message });
      const xml = await call(app, {
        method: 'POST',
        url: '/v0/customers',
        session: s,
        headers,
        payload: req.payload,
        accept: 'text/xml',
      });
      expect(xml.statusCode).toBe(400);
      expect(xml.body).toMatch(
        new RegExp(
          `^${XML_HEAD.replace(/[?.]/g, '\\$&')}\\n<badRequestFault code="400">\\n  <message>${message}</message>\\n  <details>[^<]*</details>\\n</badRequestFault>$`,
        ),
      );
      expect(dump(app, s)).toBe(before);
    });
  }

  it('refuses a non-string name with a validationFault', async () => {
    const res = await call(app, { method: 'POST', url: '/customers', payload: { name: 42 } });
    expect(res.statusCode).toBe(400);
    expect(res.json().validationFault.message).toBe('Invalid value for field: name');
  });

  it('refuses malformed JSON and XML, DOCTYPEs and unknown content types, in the vendor format, nothing stored', async () => {
    const s = newSession();
    const before = dump(app, s);
    const bad = await call(app, {
      method: 'POST',
      url: '/customers',
      session: s,
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().badRequestFault.message).toBe('Invalid request body');
    const badXml = await call(app, {
      method: 'POST',
      url: '/customers',
      session: s,
      headers: { 'content-type': 'text/xml' },
      payload: '<customer><name>x</customer>',
      accept: 'text/xml',
    });
    expect(badXml.statusCode).toBe(400);
    expect(badXml.body).toContain('<badRequestFault code="400">\n  <message>Invalid XML body</message>');
    const doctype = await call(app, {
      method: 'POST',
      url: '/customers',
      session: s,
      headers: { 'content-type': 'text/xml' },
      payload: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><customer><name>&a;</name></customer>',
    });
    expect(doctype.statusCode).toBe(400);
    expect(doctype.json().badRequestFault.details).toContain('DOCTYPE');
    const media = await call(app, {
      method: 'POST',
      url: '/customers',
      session: s,
      headers: { 'content-type': 'text/csv' },
      payload: 'name\nx',
    });
    expect(media.statusCode).toBe(415);
    expect(media.json().badRequestFault.message).toBe('Unsupported Content-Type');
    expect(dump(app, s)).toBe(before);
  });

  it('answers an oversized body with 413 in the vendor format', async () => {
    const small = await makeApp({ maxBodyBytes: 1024 });
    try {
      const res = await call(small, { method: 'POST', url: '/customers', payload: { name: 'x'.repeat(5000) } });
      expect(res.statusCode).toBe(413);
      expect(res.json().badRequestFault).toMatchObject({ code: 413, message: 'Request body too large' });
    } finally {
      await small.close();
    }
  });
});

describe('edit', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(PREFIXES)('PUT %s/{n} changes only the fields given and answers 200 with the customer', async (prefix) => {
    const s = newSession();
    const res = await call(app, {
      method: 'PUT',
      url: `${prefix}/460182`,
      session: s,
      accept: 'text/xml',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=NewName&referenceNumber=12345',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(DOC_SHOW_XML.replace('API Customer 17', 'NewName').replace('>49<', '>12345<'));
    const nameOnly = await call(app, {
      method: 'PUT',
      url: `${prefix}/460182`,
      session: s,
      payload: { name: 'Renamed' },
    });
    expect(nameOnly.json()).toEqual({ name: 'Renamed', accountNumber: '460182', referenceNumber: '12345' });
    const xmlBody = await call(app, {
      method: 'PUT',
      url: `${prefix}/460182`,
      session: s,
      headers: { 'content-type': 'application/xml' },
      payload: '<customer xmlns="urn:xml:customer"><referenceNumber>99</referenceNumber></customer>',
    });
    expect(xmlBody.json()).toEqual({ name: 'Renamed', accountNumber: '460182', referenceNumber: '99' });
    const cleared = await call(app, {
      method: 'PUT',
      url: `${prefix}/460182`,
      session: s,
      payload: { referenceNumber: '' },
    });
    expect(cleared.json()).toEqual({ name: 'Renamed', accountNumber: '460182' });
    expect((await call(app, { method: 'GET', url: `/v0/customers/460182`, session: s })).json().name).toBe('Renamed');
  });

  it("edits me (the reseller's own display name)", async () => {
    const s = newSession();
    const res = await call(app, {
      method: 'PUT',
      url: '/customers/me',
      session: s,
      payload: { name: 'Renamed Reseller' },
    });
    expect(res.json()).toEqual({ name: 'Renamed Reseller', accountNumber: '460180' });
  });

  it('unknown account: 404; bad names: 400 in both formats; nothing changes', async () => {
    const s = newSession();
    const before = dump(app, s);
    const nf = await call(app, { method: 'PUT', url: '/customers/999999', session: s, payload: { name: 'X' } });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().itemNotFoundFault.message).toBe('Invalid account number');
    for (const [payload, message] of [
      ['name=', 'Required field name cannot be empty'],
      ['name=%20Lead', 'Improper Customer Name'],
    ]) {
      const json = await call(app, {
        method: 'PUT',
        url: '/customers/460182',
        session: s,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload,
      });
      expect(json.statusCode).toBe(400);
      expect(json.json().badRequestFault.message).toBe(message);
      const xml = await call(app, {
        method: 'PUT',
        url: '/v1/customers/460182',
        session: s,
        accept: 'text/xml',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload,
      });
      expect(xml.statusCode).toBe(400);
      expect(xml.body).toContain(`<badRequestFault code="400">\n  <message>${message}</message>`);
    }
    expect(dump(app, s)).toBe(before);
  });
});

describe('delete', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(PREFIXES)('DELETE %s/{n} answers 200 with no body; the customer is gone', async (prefix) => {
    const s = newSession();
    const res = await call(app, { method: 'DELETE', url: `${prefix}/460181`, session: s, accept: 'text/xml' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    const gone = await call(app, { method: 'GET', url: `${prefix}/460181`, session: s });
    expect(gone.statusCode).toBe(404);
    expect((await call(app, { method: 'GET', url: prefix, session: s })).json().total).toBe(SANDBOX_CUSTOMERS - 1);
    const again = await call(app, { method: 'DELETE', url: `${prefix}/460181`, session: s, accept: 'text/xml' });
    expect(again.statusCode).toBe(404);
    expect(again.body).toBe(
      xmlFault('itemNotFoundFault', 404, 'Invalid account number', 'Invalid account number: 460181'),
    );
    // The default state is untouched.
    expect((await call(app, { method: 'GET', url: `${prefix}/460181` })).statusCode).toBe(200);
  });

  it('tolerates Content-Type: application/json with no body', async () => {
    const s = newSession();
    const res = await call(app, {
      method: 'DELETE',
      url: '/v1/customers/460183',
      session: s,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('refuses to delete me, in both formats', async () => {
    const s = newSession();
    const before = dump(app, s);
    const json = await call(app, { method: 'DELETE', url: '/customers/me', session: s });
    expect(json.statusCode).toBe(400);
    expect(json.json().badRequestFault.message).toBe('Cannot delete the authenticated account');
    const xml = await call(app, { method: 'DELETE', url: '/customers/me', session: s, accept: 'text/xml' });
    expect(xml.statusCode).toBe(400);
    expect(dump(app, s)).toBe(before);
  });
});

describe('answers from the current data, whatever changed it', () => {
  // Index pages, keys and accounts are remembered while the database is unchanged: a change by
  // any path (the API, SQL from elsewhere, a per-vendor reset of a --db file) must show at once.
  it('the same signed request sees writes made by the API, by plain SQL and by a per-vendor reset', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'emailsrvr-fresh-')), 'emulator.db');
    const app = await makeApp({ db: file });
    try {
      const headers = { ...signed(app), accept: 'text/xml' };
      const index = async () => (await app.inject({ method: 'GET', url: '/v0/customers?size=2&page=1', headers })).body;
      const first = await index();
      expect(await index()).toBe(first);
      expect(first).toContain('<total>133</total>');
      const added = await app.inject({
        method: 'POST',
        url: '/v0/customers',
        headers: { ...headers, 'content-type': 'application/json' },
        payload: { name: 'AAA First' },
      });
      expect(added.statusCode).toBe(200);
      const afterAdd = await index();
      expect(afterAdd).toContain('<total>134</total>');
      expect(afterAdd).toContain('<name>AAA First</name>');
      app.registry.defaultState.db
        .prepare("UPDATE emailsrvr_accounts SET name = 'AAA & Renamed' WHERE name = 'AAA First'")
        .run();
      expect(await index()).toContain('<name>AAA &amp; Renamed</name>');
      // Another connection to the --db file (another process, say).
      const other = new Database(file);
      other.prepare("UPDATE emailsrvr_accounts SET name = 'AAA Elsewhere' WHERE name = 'AAA & Renamed'").run();
      other.close();
      expect(await index()).toContain('<name>AAA Elsewhere</name>');
      expect((await app.inject({ method: 'POST', url: '/_emulator/reset?vendor=emailsrvr' })).statusCode).toBe(200);
      expect(await index()).toBe(first);
      // A key removed by SQL no longer signs, and comes back when it is put back.
      const db = app.registry.defaultState.db;
      db.prepare('DELETE FROM emailsrvr_api_keys WHERE user_key = ?').run(SANDBOX.userKey);
      const refused = await app.inject({ method: 'GET', url: '/v0/customers?size=2&page=1', headers });
      expect(refused.statusCode).toBe(403);
      expect(refused.body).toContain('Unknown user key');
      db.prepare('INSERT INTO emailsrvr_api_keys (user_key, secret_key, account_number) VALUES (?, ?, ?)').run(
        SANDBOX.userKey,
        SANDBOX.secretKey,
        SANDBOX.account,
      );
      expect(await index()).toBe(first);
      // A signature found valid before is checked against the secret the key has now.
      db.prepare('UPDATE emailsrvr_api_keys SET secret_key = ? WHERE user_key = ?').run('rotated', SANDBOX.userKey);
      const stale = await app.inject({ method: 'GET', url: '/v0/customers?size=2&page=1', headers });
      expect(stale.statusCode).toBe(403);
      expect(stale.body).toContain('Invalid X-Api-Signature hash');
      db.prepare('UPDATE emailsrvr_api_keys SET secret_key = ? WHERE user_key = ?').run(
        SANDBOX.secretKey,
        SANDBOX.userKey,
      );
      expect(await index()).toBe(first);
    } finally {
      await app.close();
    }
  });

  it('a remembered signature still has its timestamp checked against the clock on every request', async () => {
    const app = await makeApp();
    try {
      const clock = app.registry.defaultState.clock;
      clock.freeze(Date.UTC(2024, 0, 1));
      const headers = signed(app);
      expect((await app.inject({ method: 'GET', url: '/v0/customers/me', headers })).statusCode).toBe(200);
      clock.advance(86_401);
      const late = await app.inject({ method: 'GET', url: '/v0/customers/me', headers });
      expect(late.statusCode).toBe(403);
      expect(late.body).toContain('X-Api-Signature timestamp outside the allowed window');
      clock.advance(-2);
      expect((await app.inject({ method: 'GET', url: '/v0/customers/me', headers })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
