import type { FastifyInstance, InjectOptions } from 'fastify';
import { rowOrder } from '../../src/store/overlay.js';

export const API_UUID = '11111111-2222-4333-8444-555555555555';
export const API_SECRET = 'rackcorp-sandbox-secret';
export const LOGIN = { username: 'sandbox@example.com', password: 'rackcorp-sandbox-password' };
export const OTHER_UUID = '99999999-8888-4777-8666-555555555555';
export const OTHER_SECRET = 'rackcorp-other-secret';

export const basic = (uuid = API_UUID, secret = API_SECRET) => ({ authorization: `Basic ${Buffer.from(`${uuid}:${secret}`).toString('base64')}` });
export const apiKeyHeaders = { APIUUID: API_UUID, APISECRET: API_SECRET };

export async function login(app: FastifyInstance, session?: string): Promise<string> {
  const res = await app.inject({
    method: 'POST', url: '/api/rest/v2.9/json.php', payload: { cmd: 'session.login', ...LOGIN, jwt: 1 },
    headers: session ? { 'x-emulator-session': session } : {},
  });
  const body = res.json();
  if (body.code !== 'OK') throw new Error(`login failed: ${res.body}`);
  return body.token as string;
}

/** Inject and parse; RackCorp answers FAULTs with HTTP 200, so callers check `code`. */
export async function call(app: FastifyInstance, opts: InjectOptions): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const res = await app.inject(opts);
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

/** A digest of the RackCorp tables, to prove a refused request changed nothing. */
export function digest(app: FastifyInstance, session?: string): string {
  const db = app.registry.get(session).db;
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rackcorp_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY ${rowOrder(db, t)}`).all()]));
}
