/**
 * Text survives XML both ways: character references in a request body are decoded (`&#13;`,
 * `&#x41;`), and a stored carriage return is written as `&#13;` (a parser reads a literal CR as LF,
 * XML 1.0 section 2.11). Found by the round-trip property (test/roundtrip/mgmt.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { putJson, putXml, req } from './helpers.js';
import { parseXml } from '../../src/routes/shared/xml.js';
import { call } from '../emailsrvr/helpers.js';

describe('XML text round trip (UniPay, Rackspace)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('UniPay: character references in an XML create are decoded', async () => {
    const res = await putXml(
      app,
      '<customer accountId="2001" code="R&#x41;1"><lastName>a&#13;b&#x263A;</lastName></customer>',
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ code: 'RA1', lastName: 'a\rb\u263a' });
  });

  it('UniPay: a CR stored from JSON reads back as a CR from the XML answer', async () => {
    const res = await putJson(app, { accountId: 2001, lastName: 'a\rb' });
    expect(res.statusCode, res.body).toBe(200);
    const xml = await req(app, {
      method: 'GET',
      url: `/api/v01/customers/${res.json().id}`,
      headers: { accept: 'application/xml' },
    });
    expect(xml.body).toContain('<lastName>a&#13;b</lastName>');
    expect((parseXml(xml.body).customer as Record<string, unknown>).lastName).toBe('a\rb');
  });

  it('Rackspace: an XML add with character references, read back as XML, keeps them', async () => {
    const add = await call(app, {
      method: 'POST',
      url: '/v0/customers',
      headers: { 'content-type': 'application/xml' },
      payload: '<customer><name>N&#x41;me&#13;x</name></customer>',
    });
    expect(add.statusCode, add.body).toBeLessThan(300);
    const list = await call(app, { method: 'GET', url: '/v0/customers?contains=NAme', accept: 'application/xml' });
    expect(list.body).toContain('<name>NAme&#13;x</name>');
    expect(JSON.stringify(parseXml(list.body))).toContain('NAme\\rx');
  });

  it('Rackspace: XML values are trimmed after their character references are decoded', async () => {
    const add = await call(app, {
      method: 'POST',
      url: '/v0/customers',
      headers: { 'content-type': 'application/xml' },
      payload: '<customer><name>Trim&#32;me&#13;</name><referenceNumber>&#9;77&#10;</referenceNumber></customer>',
    });
    expect(add.statusCode, add.body).toBe(200);
    expect(add.json()).toMatchObject({ name: 'Trim me', referenceNumber: '77' });
  });
});
