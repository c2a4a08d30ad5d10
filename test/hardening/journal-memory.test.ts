/**
 * The journal is bounded in bytes (issue #20): a few hundred near-limit bodies, with and without
 * credentials, to every vendor, must leave the process within a small multiple of the configured
 * journal bounds. Before, each entry kept the whole parsed body: 300 RackCorp bodies of 1 MB grew
 * the process by about 330 MB whatever --journal-body-bytes said.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { makeApp, sessionHeader } from '../helpers.js';
import { API_SECRET, API_UUID } from '../rackcorp/helpers.js';
import { signed } from '../emailsrvr/helpers.js';
import { SANDBOX as ISPCRM } from '../ispcrm/helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const BODY_BYTES = 1024;
const STATE_BYTES = 64 * 1024;
const TOTAL_BYTES = 256 * 1024;
const MAX_BODY = 128 * 1024;
const ROUNDS = 12;
const SESSIONS = [null, 's1', 's2', 's3', 's4', 's5'];
const MGMT = `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}`;

function memory(): number {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

describe('journal memory is bounded in bytes', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({
      validateResponses: false,
      journalBodyBytes: BODY_BYTES,
      journalStateBytes: STATE_BYTES,
      journalTotalBytes: TOTAL_BYTES,
      maxBodyBytes: MAX_BODY,
    });
  });
  afterAll(async () => {
    await app.close();
  });

  /** One near-limit request to each vendor, with credentials and without. */
  function requests(session: string | null, i: number): InjectOptions[] {
    const junk = `${i}`.padEnd(MAX_BODY - 600, 'x');
    const s = sessionHeader(session);
    const json = { 'content-type': 'application/json', ...s };
    return [
      {
        method: 'POST',
        url: '/api/rest/v2.9/json.php',
        headers: json,
        payload: JSON.stringify({ cmd: 'customer.create', APIUUID: API_UUID, APISECRET: API_SECRET, junk }),
      },
      {
        method: 'POST',
        url: '/api/rest/v2.9/json.php',
        headers: json,
        payload: JSON.stringify({ cmd: 'customer.create', junk }),
      },
      {
        method: 'POST',
        url: '/v1/customers',
        headers: { ...signed(app, undefined, { accept: 'application/json' }, session ?? undefined), ...json },
        payload: JSON.stringify({ name: 'x', junk }),
      },
      {
        method: 'POST',
        url: '/v1/customers',
        headers: { accept: 'application/json', ...json },
        payload: JSON.stringify({ name: 'x', junk }),
      },
      {
        method: 'POST',
        url: '/api/customer/create',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...s },
        payload: new URLSearchParams({ ...ISPCRM, name: 'x', junk }).toString(),
      },
      {
        method: 'POST',
        url: '/api/customer/create',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...s },
        payload: new URLSearchParams({ name: 'x', junk }).toString(),
      },
      {
        method: 'PUT',
        url: '/api/v01/customers',
        headers: { authorization: MGMT, accept: 'application/json', ...json },
        payload: JSON.stringify({ firstName: 'x', junk }),
      },
      {
        method: 'PUT',
        url: '/api/v01/customers',
        headers: { accept: 'application/json', ...json },
        payload: JSON.stringify({ firstName: 'x', junk }),
      },
    ];
  }

  it(`${ROUNDS * SESSIONS.length * 8} near-limit bodies grow the process by a small multiple of --journal-total-bytes`, async () => {
    // Warm every route and every session up first (compiled validators, session databases).
    for (const s of SESSIONS) for (const r of requests(s, 0)) await app.inject(r);
    const before = memory();
    for (let i = 1; i <= ROUNDS; i++) {
      for (const s of SESSIONS) {
        for (const r of requests(s, i)) {
          const res = await app.inject(r);
          expect(res.statusCode).toBeLessThan(500);
        }
      }
    }
    const grown = memory() - before;
    // Every entry kept its body cut to --journal-body-bytes; the byte bounds hold.
    const sessions = (await app.inject({ method: 'GET', url: '/_emulator/sessions' })).json();
    expect(sessions.journalBytes).toBeLessThanOrEqual(TOTAL_BYTES);
    for (const s of sessions.sessions) expect(s.journalBytes).toBeLessThanOrEqual(STATE_BYTES);
    const list = (await app.inject({ method: 'GET', url: '/_emulator/requests?session=*' })).json();
    expect(list.count).toBeGreaterThan(8);
    for (const e of list.requests) {
      // (A request refused before its body was read has none.)
      if (e.body !== null) {
        expect(Buffer.byteLength(e.body)).toBeLessThanOrEqual(BODY_BYTES);
        expect(e.bodyTruncated).toBe(true);
      }
    }
    // Credential fields of a body are still named, though the body is not kept.
    expect(list.requests.some((e: { credentials: string[] }) => e.credentials.includes('body:APISECRET'))).toBe(true);
    console.log(
      `journal memory: ${ROUNDS * SESSIONS.length * 8} bodies of ${MAX_BODY} bytes; accounted ${sessions.journalBytes} bytes; heap+external grew ${(grown / 1024).toFixed(0)} KiB`,
    );
    expect(grown).toBeLessThan(8 * TOTAL_BYTES + 4 * 1024 * 1024);
  });
});
