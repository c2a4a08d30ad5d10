/** Shared bits of the UniPay tests: credentials, request shortcuts and the fixture rows. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

type Res = Promise<LightMyRequestResponse>;

const here = path.dirname(fileURLToPath(import.meta.url));

export const basic = (login: string, password: string) =>
  'Basic ' + Buffer.from(`${login}:${password}`).toString('base64');
export const SANDBOX = basic('api-sandbox', 'mgmt-sandbox-password');
export const OTHER = basic('api-other', 'mgmt-other-password');

export interface FixtureCustomer {
  id: number;
  code: string;
  account_id: number;
  title: string | null;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  suffix: string | null;
  birth_date: string | null;
  gender: string | null;
  organization_name: string | null;
  email: string | null;
  phone: string | null;
  street: string | null;
  city: string | null;
  state: string | null;
  zip_code: string | null;
  country_code: string | null;
}
export const fixtureCustomers: FixtureCustomer[] = JSON.parse(
  fs.readFileSync(path.join(here, '../../fixtures/mgmt/mgmt_customers.json'), 'utf8'),
);

export function countCustomers(app: FastifyInstance): number {
  return (app.registry.defaultState.db.prepare('SELECT COUNT(*) AS n FROM mgmt_customers').get() as { n: number }).n;
}

/** A request as the sandbox user (unless headers say otherwise). */
export function req(app: FastifyInstance, opts: InjectOptions & { auth?: string | null }): Res {
  const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
  if (opts.auth !== null) headers.authorization = opts.auth ?? SANDBOX;
  const { auth: _a, ...rest } = opts;
  return app.inject({ ...rest, headers });
}

export function putJson(app: FastifyInstance, body: unknown, headers: Record<string, string> = {}, auth?: string): Res {
  return req(app, {
    method: 'PUT',
    url: '/api/v01/customers',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    auth,
  });
}

export function putXml(app: FastifyInstance, xml: string, headers: Record<string, string> = {}): Res {
  return req(app, {
    method: 'PUT',
    url: '/api/v01/customers',
    headers: { 'content-type': 'application/xml', ...headers },
    payload: xml,
  });
}
