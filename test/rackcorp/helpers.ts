/** RackCorp test helpers: credentials, a login, json.php calls, a sample customer, a table digest. */
import fs from 'node:fs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { injectJson, sessionHeader, tableDigest } from '../helpers.js';

export const API_UUID = '11111111-2222-4333-8444-555555555555';
export const API_SECRET = 'rackcorp-sandbox-secret';
export const LOGIN = { username: 'sandbox@example.com', password: 'rackcorp-sandbox-password' };
export const OTHER_UUID = '99999999-8888-4777-8666-555555555555';
export const OTHER_SECRET = 'rackcorp-other-secret';
export const JSON_PHP = '/api/rest/v2.9/json.php';

export const basic = (uuid = API_UUID, secret = API_SECRET) => ({
  authorization: `Basic ${Buffer.from(`${uuid}:${secret}`).toString('base64')}`,
});
export const apiKeyHeaders = { APIUUID: API_UUID, APISECRET: API_SECRET };

export async function login(app: FastifyInstance, session?: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: JSON_PHP,
    payload: { cmd: 'session.login', ...LOGIN, jwt: 1 },
    headers: sessionHeader(session),
  });
  const body = res.json();
  if (body.code !== 'OK') throw new Error(`login failed: ${res.body}`);
  return body.token as string;
}

/** Inject and parse; RackCorp answers FAULTs with HTTP 200, so callers check `code`. */
export const call = injectJson;

/** A digest of the RackCorp tables, to prove a refused request changed nothing. */
export function digest(app: FastifyInstance, session?: string): string {
  return tableDigest(app, 'rackcorp_', session);
}

/** A complete customer.create body (also what .ci/compose-check.mjs creates, with its own company name). */
export const newCustomer: typeof import('./new-customer.json') = JSON.parse(
  fs.readFileSync(new URL('./new-customer.json', import.meta.url), 'utf8'),
);

/** A json.php call with the sandbox API key, in a session (header) or the default state. */
export async function rc(
  app: FastifyInstance,
  cmd: string,
  params: Record<string, unknown> = {},
  session?: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: JSON_PHP,
    payload: { cmd, APIUUID: API_UUID, APISECRET: API_SECRET, ...params },
    headers: sessionHeader(session),
  });
}

export async function createCustomer(app: FastifyInstance, session?: string, companyName = 'Roe Widgets') {
  const res = await rc(app, 'customer.create', { ...newCustomer, companyName }, session);
  const body = res.json();
  if (body.code !== 'OK') throw new Error(`customer.create failed: ${res.body}`);
  return body.customerid as number;
}

/** Every customer the sandbox key sees, as the REST list answers it (text). */
export async function getAll(app: FastifyInstance, session?: string): Promise<string> {
  const res = await app.inject({
    method: 'GET',
    url: '/api/rest/v2.9/customers?limit=1000',
    headers: { ...basic(), ...sessionHeader(session) },
  });
  return res.body;
}
