/**
 * NeuCRM round trip: every create and update that the request schemas of the served OpenAPI
 * document allow, in every media type the document lists (form fields, JSON), is either answered
 * `{"result": ..., "error": null}` and then listed (customer.list with its customerid) showing every
 * field it set, or refused `{"result": null, "error": "..."}`, nothing written. Delete either makes
 * the customer unknown to list or is refused the same way.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { makeApp } from '../helpers.js';
import { arbitraryOf, without } from './arbitrary.js';
import {
  RUNS,
  Tally,
  bodySchema,
  fcParams,
  formBody,
  multipartBody,
  openapi,
  operationsOf,
  writes,
  type OpenApiDoc,
} from './common.js';
import { SANDBOX, visible, R1 } from '../ispcrm/helpers.js';
import type { JsonSchema } from '../../src/routes/shared/contract.js';

const SESSION = 'rt-ispcrm';
/** The sandbox user (userid 5) belongs to reseller 1 of ISP 1. */
const OWN = { ispid: 1, resellerid: 1 };
/** Fields that are credentials or name the target, not data to write. */
const NOT_DATA = ['userid', 'api_key', 'customerid'];

interface Route {
  method: string;
  path: string;
  op: any;
}

describe('NeuCRM: every write round-trips', () => {
  let app: FastifyInstance;
  let doc: OpenApiDoc;
  let ops: Map<string, Route[]>;
  const own = visible(R1).map((c) => c.id);
  beforeAll(async () => {
    app = await makeApp();
    doc = await openapi(app, 'ispcrm');
    ops = operationsOf(doc);
  });
  afterAll(async () => {
    await app.close();
  });

  async function post(path: string, mediaType: string, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
    if (mediaType === 'multipart/form-data') {
      const m = await multipartBody(body);
      return app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': m.contentType, 'x-emulator-session': SESSION },
        payload: m.payload,
      });
    }
    const payload = mediaType === 'application/json' ? JSON.stringify(body) : formBody(body);
    return app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': mediaType, 'x-emulator-session': SESSION },
      payload,
    });
  }

  async function listed(id: number): Promise<Record<string, unknown> | undefined> {
    const res = await post(ops.get('customer.list')![0].path, 'application/json', { ...SANDBOX, customerid: id });
    const body = res.json();
    // An id list refuses (0, or past 2^31) names no customer.
    if (body.error === 'Invalid customerid') return undefined;
    expect(body.error, res.body).toBeNull();
    return (body.result as Record<string, unknown>[])[0];
  }

  async function outboxCount(): Promise<number> {
    const res = await app.inject({
      method: 'GET',
      url: '/_emulator/outbox?vendor=ispcrm',
      headers: { 'x-emulator-session': SESSION },
    });
    return res.json().count as number;
  }

  /** A refusal: NeuCRM's envelope with the error text, and nothing written. */
  function expectRefusal(res: LightMyRequestResponse, before: number, tally: Tally): void {
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['error', 'result']);
    expect(body.result).toBeNull();
    expect(typeof body.error).toBe('string');
    expect(writes(app, SESSION)).toBe(before);
    tally.refuse(String(body.error).replace(/\d+/g, 'N').slice(0, 80));
  }

  /**
   * What list shows for a field as sent: text trimmed (a number as its text), empty as not sent
   * (create) or cleared (update).
   */
  function expected(field: string, sent: unknown, schema: JsonSchema): unknown {
    const types = ([] as unknown[]).concat(schema.type ?? []);
    if (types.includes('integer')) return Number(String(sent).trim());
    const t = String(sent).trim();
    if (t === '') return null;
    return t;
  }

  /** The media types a write is documented with. */
  const mediaTypesOf = (route: Route) => Object.keys(route.op.requestBody.content);

  async function roundTrip(name: 'customer.create' | 'customer.update', runs = RUNS): Promise<void> {
    const route = ops.get(name)![0];
    const documented = mediaTypesOf(route);
    expect(documented).toEqual(expect.arrayContaining(['application/x-www-form-urlencoded', 'application/json']));
    // A multipart body has the form's fields (PHP reads both into $_POST).
    const mediaTypes = documented;
    const schemaType = (mediaType: string) =>
      mediaType === 'multipart/form-data' ? 'application/x-www-form-urlencoded' : mediaType;
    const tally = new Tally();
    // One arbitrary per media type, built once (a chain callback runs for every case).
    const perMediaType = mediaTypes.map((mediaType) => {
      const schema = bodySchema(doc, route.op, schemaType(mediaType));
      const props = schema.properties as Record<string, JsonSchema>;
      const hints: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(OWN))
        if (props[k])
          hints[k] = fc.oneof(
            { weight: 4, arbitrary: fc.constant(v) },
            { weight: 1, arbitrary: arbitraryOf(props[k], doc) },
          );
      if (props.dob)
        hints.dob = fc.oneof(
          {
            weight: 4,
            arbitrary: fc
              .date({ min: new Date('1900-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
              .map((d) => d.toISOString().slice(0, 10)),
          },
          { weight: 1, arbitrary: arbitraryOf(props.dob, doc) },
        );
      return fc.record({
        mediaType: fc.constant(mediaType),
        fields: arbitraryOf(without(schema, doc, NOT_DATA), doc, {}, hints) as fc.Arbitrary<Record<string, unknown>>,
        target: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(...own) },
          { weight: 1, arbitrary: arbitraryOf(props.customerid ?? { type: 'integer', minimum: 1 }, doc) },
        ),
      });
    });
    const arb = fc.oneof(...perMediaType);
    await fc.assert(
      fc.asyncProperty(arb, async ({ mediaType, fields, target }) => {
        const schema = bodySchema(doc, route.op, schemaType(mediaType));
        const props = schema.properties as Record<string, JsonSchema>;
        const isUpdate = name === 'customer.update';
        const old = isUpdate ? await listed(Number(target)) : undefined;
        const mails = 'reset_password' in fields ? await outboxCount() : 0;
        const before = writes(app, SESSION);
        const res = await post(route.path, mediaType, {
          ...SANDBOX,
          ...(isUpdate ? { customerid: target } : {}),
          ...fields,
        });
        const body = res.json();
        if (body.error !== null) {
          expectRefusal(res, before, tally);
          if (isUpdate && old) expect(await listed(Number(target))).toEqual(old);
          return;
        }
        tally.accepted++;
        expect(res.statusCode).toBe(200);
        const id = isUpdate ? Number(target) : (body.result as number);
        if (isUpdate) expect(body.result).toBe('done');
        else expect(Number.isInteger(id)).toBe(true);
        const row = await listed(id);
        expect(row, `customer ${id} is listed`).toBeDefined();
        for (const [field, sent] of Object.entries(fields)) {
          if (field === 'reset_password') {
            // Not a column: Y sends the customer a new password (the outbox), N nothing.
            expect(await outboxCount(), 'reset_password').toBe(mails + (sent === 'Y' ? 1 : 0));
            continue;
          }
          expect(row![field], `${field} sent ${JSON.stringify(sent)} as ${mediaType}`).toEqual(
            expected(field, sent, props[field]),
          );
        }
        if (old) {
          for (const [field, value] of Object.entries(old)) {
            if (!(field in fields) && field !== 'updated')
              expect(row![field], `${field} (not sent) is kept`).toEqual(value);
          }
        }
      }),
      fcParams(runs),
    );
    tally.expectAccepted(name);
  }

  for (const name of ['customer.create', 'customer.update'] as const) {
    it(`${name}: an accepted write is listed with every field it set, in every documented body encoding`, () =>
      roundTrip(name));
  }

  it('customer.delete: an accepted delete makes the customer unknown to list; a refused one changes nothing', async () => {
    const route = ops.get('customer.delete')![0];
    const tally = new Tally();
    const create = ops.get('customer.create')![0];
    let n = 0;
    const arb = fc.record({
      mediaType: fc.constantFrom(...mediaTypesOf(route)),
      which: fc.oneof(
        { weight: 5, arbitrary: fc.constant('fresh' as const) },
        { weight: 2, arbitrary: fc.constantFrom(...own) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 31 - 1 }) },
      ),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ mediaType, which }) => {
        let id = which;
        if (which === 'fresh') {
          const made = await post(create.path, 'application/json', {
            ...SANDBOX,
            type: 'Individual',
            name: `Delete me ${++n}`,
            mobile: '0400000000',
            email: 'd@example.com',
            zipcode: '1',
            state: 'S',
            city: 'C',
            street: '1 St',
          });
          id = made.json().result as number;
          expect(Number.isInteger(id), made.body).toBe(true);
        }
        const before = writes(app, SESSION);
        const res = await post(route.path, mediaType, { ...SANDBOX, customerid: id });
        if (res.json().error !== null) {
          expectRefusal(res, before, tally);
          return;
        }
        tally.accepted++;
        expect(res.json().result).toBe('done');
        expect(await listed(id as number)).toBeUndefined();
      }),
      fcParams(RUNS),
    );
    tally.expectAccepted('customer.delete');
  });
});
