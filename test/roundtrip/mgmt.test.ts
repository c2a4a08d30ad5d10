/**
 * UniPay round trip: every create the request schema of the served OpenAPI document allows, sent
 * as JSON and as XML, is either answered with the new Customer and then loaded (in JSON and in XML)
 * showing every field it set, or refused with UniPay's error body, nothing written.
 * The Management API has one write operation, `create` (PUT /api/v01/customers): the document's
 * PUT and POST on /customers/{id} answer 405.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { arbitraryOf } from './arbitrary.js';
import {
  RUNS,
  Tally,
  answerValue,
  xmlBody,
  bodySchema,
  fcParams,
  openapi,
  operationsOf,
  writes,
  type OpenApiDoc,
} from './common.js';
import type { JsonSchema } from '../../src/routes/shared/contract.js';
import { SANDBOX } from '../mgmt/helpers.js';

/** The merchant accounts api-sandbox may act on (fixtures/mgmt/mgmt_user_accounts.json). */
const OWN_ACCOUNTS = [2001, 2002];

type Binding = 'json' | 'xml';

describe('UniPay: every write round-trips', () => {
  let app: FastifyInstance;
  let doc: OpenApiDoc;
  let createOp: { method: string; path: string; op: any };
  let loadOp: { method: string; path: string; op: any };
  beforeAll(async () => {
    app = await makeApp();
    doc = await openapi(app, 'mgmt');
    const ops = operationsOf(doc);
    createOp = ops.get('create')![0];
    loadOp = ops.get('load')![0];
  });
  afterAll(async () => {
    await app.close();
  });

  it('the contract documents exactly one write operation, create', () => {
    const writesDocumented = [...operationsOf(doc).entries()].filter(
      ([name, list]) => name !== 'methodNotAllowed' && name !== 'notFound' && list.some((b) => b.method !== 'GET'),
    );
    expect(writesDocumented.map(([name]) => name)).toEqual(['create']);
  });

  const bindings: Binding[] = ['json', 'xml'];
  for (const binding of bindings) {
    it(`create (${binding}): an accepted Customer loads with every field it set, in JSON and XML`, async () => {
      const schema = bodySchema(doc, createOp.op, binding === 'json' ? 'application/json' : 'application/xml');
      const props = schema.properties as Record<string, JsonSchema>;
      const session = `rt-mgmt-${binding}`;
      const tally = new Tally();
      // Drawn from the schema, and (most of the time) from the values the business rules accept.
      const hints = {
        accountId: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(...OWN_ACCOUNTS) },
          { weight: 1, arbitrary: arbitraryOf(props.accountId, doc) },
        ),
        birthDate: fc.oneof(
          {
            weight: 5,
            arbitrary: fc
              .date({ min: new Date('1900-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
              .map((d) => d.toISOString().slice(0, 10).replace(/-/g, '')),
          },
          { weight: 1, arbitrary: arbitraryOf(props.birthDate, doc) },
        ),
      };
      const arb = fc.record({
        customer: arbitraryOf(schema, doc, { xmlSafe: binding === 'xml' }, hints) as fc.Arbitrary<
          Record<string, unknown>
        >,
        accept: fc.constantFrom('application/json', 'application/xml'),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ customer, accept }) => {
          const payload = binding === 'json' ? JSON.stringify(customer) : xmlBody(customer, schema, doc);
          const before = writes(app, session);
          const res = await app.inject({
            method: 'PUT',
            url: createOp.path,
            headers: {
              authorization: SANDBOX,
              'content-type': binding === 'json' ? 'application/json' : 'application/xml',
              accept: 'application/json',
              'x-emulator-session': session,
            },
            payload,
          });
          if (res.statusCode !== 200) {
            // Refused: UniPay's error body naming the field, and nothing written.
            expect([400, 403], res.body).toContain(res.statusCode);
            const err = res.json().response;
            expect(err.status).toBe(res.statusCode);
            expect(typeof err.message).toBe('string');
            expect(typeof err.field, res.body).toBe('string');
            expect(writes(app, session)).toBe(before);
            tally.refuse(`${err.field}: ${err.message}`.slice(0, 80));
            return;
          }
          tally.accepted++;
          const created = res.json();
          const id = created.id as number;
          expect(res.headers.location).toBe(`/api/v01/customers/${id}`);
          const read = await app.inject({
            method: 'GET',
            url: loadOp.path.replace('{id}', String(id)),
            headers: { authorization: SANDBOX, accept, 'x-emulator-session': session },
          });
          expect(read.statusCode, read.body).toBe(200);
          const loaded = answerValue(read, loadOp.op, doc);
          for (const [field, sent] of Object.entries(customer)) {
            // An empty code means "not given": it defaults to the id.
            const shown = expected(field, sent) ?? (field === 'code' ? String(id) : undefined);
            expect(
              loaded[field],
              `${field} sent ${JSON.stringify(sent)} (${binding}), read in ${accept}: ${read.body}`,
            ).toEqual(shown);
          }
          if (accept === 'application/json')
            expect(loaded, 'the create answer is the Customer the load shows').toEqual(created);
        }),
        fcParams(Math.ceil(RUNS / bindings.length)),
      );
      tally.expectAccepted(`UniPay create (${binding})`);
    });
  }
});

/** What a load shows for a field sent on create: text trimmed, empty as absent, countryCode upper-case. */
function expected(field: string, sent: unknown): unknown {
  if (typeof sent !== 'string') return sent ?? undefined;
  const t = sent.trim();
  if (t === '') return undefined;
  return field === 'countryCode' ? t.toUpperCase() : t;
}
