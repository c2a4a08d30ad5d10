/**
 * A session shares the seeded data and keeps only its own changes (copy-on-write); its answers must
 * be exactly those of a full copy. Every vendor's recorded examples (reads, creates, updates,
 * deletes, searches) run in order in a session of one app and in the default state (a plain
 * database) of another, with the same frozen clock, then every read example runs again over the
 * changed data: each answer must be the same, status and body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { makeApp } from '../helpers.js';
import { vendors } from '../../src/vendors.js';
import { isOverlay } from '../../src/store/overlay.js';

const NOW = '2026-01-02T03:04:05.000Z';
/** Each app signs RackCorp session JWTs with a key of its own: compare them without the signature. */
const unsigned = (body: string) => body.replace(/(eyJ[\w-]+\.eyJ[\w-]+)\.[\w-]+/g, '$1.<signature>');

describe('a session answers exactly as a full copy of the data would', () => {
  let plain: FastifyInstance;
  let cow: FastifyInstance;
  beforeAll(async () => {
    plain = await makeApp({ validateResponses: false });
    cow = await makeApp({ validateResponses: false });
  });
  afterAll(async () => { await plain.close(); await cow.close(); });

  for (const v of vendors.filter((x) => x.contract)) {
    it(`${v.name}: every example, then every read again, in a session and in the default state`, async () => {
      const session = `cow-${v.name}`;
      const send = (app: FastifyInstance, ex: { method: string; url: string; headers?: Record<string, string>; body?: unknown }, s: string | null) => app.inject({
        method: ex.method as InjectOptions['method'], url: ex.url, headers: { ...(s ? { 'x-emulator-session': s } : {}), ...(ex.headers ?? {}) },
        payload: typeof ex.body === 'string' || ex.body === undefined ? ex.body : JSON.stringify(ex.body),
      });
      for (const [app, s] of [[plain, null], [cow, session]] as const) {
        const res = await app.inject({ method: 'PUT', url: '/_emulator/clock', headers: s ? { 'x-emulator-session': s } : {}, payload: { now: NOW } });
        expect(res.statusCode, res.body).toBe(200);
      }
      expect(isOverlay(cow.registry.get(session).db)).toBe(true);
      expect(isOverlay(plain.registry.defaultState.db)).toBe(false);
      const examples = v.contract!.examples();
      const reads = examples.filter((ex) => ex.method === 'GET' || (v.name === 'rackcorp' && /"cmd":"customer\.get/.test(JSON.stringify(ex.body ?? ''))));
      let compared = 0;
      for (const ex of [...examples, ...reads]) {
        const a = await send(plain, ex, null);
        const b = await send(cow, ex, session);
        expect(b.statusCode, `${ex.name}: ${b.body}`).toBe(a.statusCode);
        expect(unsigned(b.body), ex.name).toBe(unsigned(a.body));
        compared++;
      }
      expect(compared).toBeGreaterThan(examples.length);
    });
  }
});
