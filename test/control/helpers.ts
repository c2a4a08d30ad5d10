import type { LightMyRequestResponse, FastifyInstance } from 'fastify';
import { API_SECRET, API_UUID, basic } from '../rackcorp/helpers.js';

export const JSON_PHP = '/api/rest/v2.9/json.php';

export const newCustomer = {
  firstName: 'Jane', lastName: 'Roe', companyName: 'Roe Widgets', status: 'ACTIVE', customID: 'ROE-1', parentID: 0,
  currencycode: 'AUD', customerTierID: 'DEFAULT', promoCode: '', autobilling: 1,
  locations: [{ typeOfAddress: 'primary', addressLine1: '1 Roe St', addressLine2: '', addressLine3: '', suburb: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' }],
  contacts: [{ typeOfContact: 'administrative', name: 'Jane Roe', phoneNumber: '+61 2 1234 5678', mobileNumber: '', faxNumber: '', email: 'jane@example.com' }],
};

/** A RackCorp json.php call, in a session (header) or the default state. */
export async function rc(app: FastifyInstance, cmd: string, params: Record<string, unknown> = {}, session?: string): Promise<LightMyRequestResponse> {
  const res = await app.inject({
    method: 'POST', url: JSON_PHP, payload: { cmd, APIUUID: API_UUID, APISECRET: API_SECRET, ...params },
    headers: session ? { 'x-emulator-session': session } : {},
  });
  return res;
}

export async function createCustomer(app: FastifyInstance, session?: string, companyName = 'Roe Widgets') {
  const res = await rc(app, 'customer.create', { ...newCustomer, companyName }, session);
  const body = res.json();
  if (body.code !== 'OK') throw new Error(`customer.create failed: ${res.body}`);
  return body.customerid as number;
}

export async function getAll(app: FastifyInstance, session?: string): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/api/rest/v2.9/customers?limit=1000', headers: { ...basic(), ...(session ? { 'x-emulator-session': session } : {}) } });
  return res.body;
}

export async function ctl(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method, url, payload: payload as any, headers });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}
