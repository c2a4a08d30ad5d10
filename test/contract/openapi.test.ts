/**
 * The emulator checking itself: every vendor's OpenAPI document validates as OpenAPI 3.1, and every
 * recorded example, sent to a live app, answers the documented status with a body that validates
 * against the documented schema (JSON and XML alike).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { makeApp } from '../helpers.js';
import { vendors } from '../../src/vendors.js';

const published = vendors.filter((v) => v.contract);

describe('OpenAPI contracts', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ validateResponses: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('has a contract for every vendor', () => {
    expect(published.map((v) => v.name)).toEqual(vendors.map((v) => v.name));
  });

  it('serves the combined document and one per vendor', async () => {
    const all = await app.inject({ method: 'GET', url: '/_emulator/openapi.json' });
    expect(all.statusCode).toBe(200);
    expect(all.json().openapi).toBe('3.1.0');
    for (const v of published) {
      const res = await app.inject({ method: 'GET', url: `/_emulator/openapi/${v.name}.json` });
      expect(res.statusCode, v.name).toBe(200);
      expect(Object.keys(res.json().paths).length, v.name).toBeGreaterThan(0);
    }
    const missing = await app.inject({ method: 'GET', url: '/_emulator/openapi/nope.json' });
    expect(missing.statusCode).toBe(404);
  });

  it('validates as OpenAPI 3.1, combined and per vendor', async () => {
    const docs = [(await app.inject({ method: 'GET', url: '/_emulator/openapi.json' })).json()];
    for (const v of published)
      docs.push((await app.inject({ method: 'GET', url: `/_emulator/openapi/${v.name}.json` })).json());
    for (const doc of docs) {
      const result = await new Validator().validate(doc);
      expect(result.errors ?? [], doc.info.title).toEqual([]);
      expect(result.valid).toBe(true);
    }
  });

  for (const v of published) {
    describe(`${v.name}: every example answers as documented`, () => {
      const examples = v.contract!.examples();
      it('has examples for every documented operation', () => {
        const doc = app.contracts.documents.get(v.name)!;
        const operations = new Set<string>();
        for (const item of Object.values(doc.paths)) {
          for (const op of Object.values(item))
            if (op && typeof op === 'object' && 'x-operation' in op)
              operations.add((op as { 'x-operation': string })['x-operation']);
        }
        expect(examples.length).toBeGreaterThanOrEqual(operations.size);
      });
      let n = 0;
      for (const ex of examples) {
        it(`${ex.name}: ${ex.method} ${ex.url} -> ${ex.status}`, async () => {
          const session = `contract-${v.name}-${++n}`;
          // Made by a control call first: a request to no vendor operation (404, 405) makes no session.
          await app.inject({
            method: 'DELETE',
            url: '/_emulator/requests',
            headers: { 'x-emulator-session': session },
          });
          const res = await app.inject({
            method: ex.method,
            url: ex.url,
            headers: { 'x-emulator-session': session, ...(ex.headers ?? {}) },
            payload: typeof ex.body === 'string' || ex.body === undefined ? ex.body : JSON.stringify(ex.body),
          });
          expect(res.statusCode, res.body).toBe(ex.status);
          const entry = (
            await app.inject({
              method: 'GET',
              url: '/_emulator/requests?limit=1',
              headers: { 'x-emulator-session': session },
            })
          ).json().requests[0];
          const check = app.contracts.check(
            v.name,
            entry.operation,
            res.statusCode,
            res.headers['content-type'] as string | undefined,
            res.body,
          );
          expect(check.errors, res.body).toEqual([]);
        });
      }
    });
  }
});
