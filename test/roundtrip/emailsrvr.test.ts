/**
 * Rackspace Email & Apps round trip: every Add and Edit that the request schema of the served
 * OpenAPI document allows, in every media type the document lists for it (form, JSON, XML) and on
 * every path form (/v0, /v1, none), is either answered with the account and then shown (in JSON
 * and in XML) with every field it set, or refused with a Rackspace fault, nothing written. Delete
 * either makes the account unknown to Show or is refused the same way.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { makeApp } from '../helpers.js';
import { arbitraryOf } from './arbitrary.js';
import {
  RUNS,
  Tally,
  answerValue,
  bodySchema,
  fcParams,
  formBody,
  openapi,
  operationsOf,
  writes,
  xmlBody,
  type OpenApiDoc,
} from './common.js';
import { call } from '../emailsrvr/helpers.js';

const SESSION = 'rt-emailsrvr';
const FAULTS = ['badRequestFault', 'validationFault', 'itemNotFoundFault', 'unauthorizedFault'];

interface Route {
  method: string;
  path: string;
  op: any;
}

describe('Rackspace: every write round-trips', () => {
  let app: FastifyInstance;
  let doc: OpenApiDoc;
  let ops: Map<string, Route[]>;
  let accounts: string[];
  beforeAll(async () => {
    app = await makeApp();
    doc = await openapi(app, 'emailsrvr');
    ops = operationsOf(doc);
    const list = await call(app, { method: 'GET', url: '/v0/customers?size=250', session: SESSION });
    accounts = (list.json().customers as { accountNumber: string }[]).map((c) => c.accountNumber);
    expect(accounts.length).toBeGreaterThan(3);
  });
  afterAll(async () => {
    await app.close();
  });

  /** Send a body in one of the documented media types. */
  function send(
    route: Route,
    url: string,
    mediaType: string,
    body: Record<string, unknown>,
  ): Promise<LightMyRequestResponse> {
    const schema = bodySchema(doc, route.op, mediaType);
    const payload = /xml/.test(mediaType)
      ? xmlBody(body, schema, doc)
      : /json/.test(mediaType)
        ? JSON.stringify(body)
        : formBody(body);
    return call(app, {
      method: route.method as 'POST' | 'PUT',
      url,
      headers: { 'content-type': mediaType },
      payload,
      session: SESSION,
    });
  }

  /** A refusal: a documented fault status, the fault element named for it, and nothing written. */
  function expectFault(res: LightMyRequestResponse, before: number, tally: Tally): void {
    expect([400, 404], res.body).toContain(res.statusCode);
    const body = res.json();
    const [fault] = Object.keys(body);
    expect(FAULTS).toContain(fault);
    expect(body[fault].code).toBe(res.statusCode);
    expect(typeof body[fault].message).toBe('string');
    expect(writes(app, SESSION)).toBe(before);
    tally.refuse(`${fault}: ${body[fault].message}`);
  }

  /** Show the account in JSON or XML, as the JSON value the document describes. */
  async function show(
    account: string,
    accept: string,
  ): Promise<{ status: number; value: Record<string, unknown>; body: string }> {
    const route = ops.get('customers.show')![0];
    const res = await call(app, {
      method: 'GET',
      url: route.path.replace('{accountNumber}', account),
      accept,
      session: SESSION,
    });
    return { status: res.statusCode, value: answerValue(res, route.op, doc), body: res.body };
  }

  /**
   * What Show says of a field as sent: XML text is trimmed by the reader, a number is its text,
   * empty or null clears.
   */
  function expected(field: string, sent: unknown, xml: boolean): unknown {
    if (field === 'referenceNumber') {
      if (sent === null || sent === '') return undefined;
      const t = String(sent);
      const v = xml ? t.trim() : t;
      return v === '' ? undefined : v;
    }
    return typeof sent === 'string' && xml ? sent.trim() : sent;
  }

  for (const name of ['customers.add', 'customers.edit'] as const) {
    it(`${name}: an accepted write is shown with every field it set, on every path and media type`, async () => {
      const routes = ops.get(name)!;
      const mediaTypes = Object.keys(routes[0].op.requestBody.content);
      expect(mediaTypes).toEqual(
        expect.arrayContaining(['application/x-www-form-urlencoded', 'application/json', 'application/xml']),
      );
      const tally = new Tally();
      // One arbitrary per route and media type, built once (the route by its index, so that a
      // counterexample prints short).
      const arb = fc.oneof(
        ...routes.flatMap((route, r) =>
          mediaTypes.map((mediaType) =>
            fc.record({
              r: fc.constant(r),
              mediaType: fc.constant(mediaType),
              fields: arbitraryOf(bodySchema(doc, route.op, mediaType), doc, {
                xmlSafe: /xml/.test(mediaType),
              }) as fc.Arbitrary<Record<string, unknown>>,
              target: fc.oneof(
                { weight: 8, arbitrary: fc.constantFrom(...accounts) },
                { weight: 1, arbitrary: fc.constantFrom('me', '999999999') },
              ),
              accept: fc.constantFrom('application/json', 'application/xml', 'text/xml'),
            }),
          ),
        ),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ({ r, mediaType, fields, target, accept }) => {
          const route = routes[r];
          const xml = /xml/.test(mediaType);
          const url = route.path.replace('{accountNumber}', target);
          const old = name === 'customers.edit' ? await show(target, 'application/json') : undefined;
          const before = writes(app, SESSION);
          const res = await send(route, url, mediaType, fields);
          if (res.statusCode >= 400) {
            expectFault(res, before, tally);
            if (old) expect((await show(target, 'application/json')).value).toEqual(old.value);
            return;
          }
          expect(res.statusCode, res.body).toBe(200);
          tally.accepted++;
          const answered = res.json() as Record<string, unknown>;
          const account = String(answered.accountNumber);
          if (name === 'customers.add') expect(res.headers.location).toBe(`${route.path}/${account}`);
          const shown = await show(target === 'me' && name === 'customers.edit' ? 'me' : account, accept);
          expect(shown.status, shown.body).toBe(200);
          for (const [field, sent] of Object.entries(fields)) {
            expect(
              shown.value[field],
              `${field} sent ${JSON.stringify(sent)} as ${mediaType}, shown as ${accept}: ${shown.body}`,
            ).toEqual(expected(field, sent, xml));
          }
          // Fields not sent keep their values.
          if (old)
            for (const field of ['name', 'referenceNumber'])
              if (!(field in fields)) expect(shown.value[field], field).toEqual(old.value[field]);
          if (accept === 'application/json')
            expect(shown.value, 'the write answers the account Show shows').toEqual(answered);
        }),
        fcParams(RUNS),
      );
      tally.expectAccepted(name);
    });
  }

  it('customers.delete: an accepted delete makes the account unknown to Show; a refused one changes nothing', async () => {
    const routes = ops.get('customers.delete')!;
    const tally = new Tally();
    const arb = fc.record({
      r: fc.nat({ max: routes.length - 1 }),
      which: fc.oneof(
        { weight: 6, arbitrary: fc.constant('fresh') },
        { weight: 1, arbitrary: fc.constantFrom('me', '999999999', '0') },
      ),
      accept: fc.constantFrom('application/json', 'application/xml'),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arb, async ({ r, which, accept }) => {
        const route = routes[r];
        let target: string = which;
        if (which === 'fresh') {
          const add = await call(app, {
            method: 'POST',
            url: '/v0/customers',
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify({ name: `Delete me ${++n}` }),
            session: SESSION,
          });
          expect(add.statusCode, add.body).toBe(200);
          target = String(add.json().accountNumber);
        }
        const before = writes(app, SESSION);
        const res = await call(app, {
          method: 'DELETE',
          url: route.path.replace('{accountNumber}', target),
          accept,
          session: SESSION,
        });
        if (res.statusCode >= 400) {
          expect(res.headers['content-type']).toMatch(accept === 'application/json' ? /json/ : /xml/);
          expect([400, 404]).toContain(res.statusCode);
          expect(writes(app, SESSION)).toBe(before);
          tally.refuse(`${res.statusCode} ${target}`);
          return;
        }
        expect(res.statusCode).toBe(200);
        tally.accepted++;
        const after = await call(app, { method: 'GET', url: `/v0/customers/${target}`, session: SESSION });
        expect(after.statusCode).toBe(404);
        expect(after.json().itemNotFoundFault.message).toBe('Invalid account number');
      }),
      fcParams(RUNS),
    );
    tally.expectAccepted('customers.delete');
  });
});
