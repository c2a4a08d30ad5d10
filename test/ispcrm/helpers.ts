/** ISP CRM (NeuCRM) test helpers: calls, a literal curl runner, fixture oracles. */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { sessionHeader } from '../helpers.js';
import type { IspcrmCustomerRow } from '../../src/store/ispcrm.js';

export const SANDBOX = { userid: '5', api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4' };

const dir = path.resolve(import.meta.dirname, '../../fixtures/ispcrm');
const load = <T>(t: string): T[] => JSON.parse(fs.readFileSync(path.join(dir, `${t}.json`), 'utf8')) as T[];

export interface FxUser {
  userid: number;
  api_key: string;
  ispid: number;
  resellerid: number | null;
  active: number;
}
/** A customer row of the fixtures, as the store reads it. */
export type FxCustomer = IspcrmCustomerRow;
export interface FxService {
  id: number;
  customerid: number;
  username: string;
  plan: string;
  status: string;
  created: string;
}

export const fx = {
  users: load<FxUser>('ispcrm_users'),
  customers: load<FxCustomer>('ispcrm_customers'),
  services: load<FxService>('ispcrm_services'),
};

/** Credentials of a fixture user, as form fields. */
export function creds(userid: number): Record<string, string> {
  const u = fx.users.find((x) => x.userid === userid)!;
  return { userid: String(u.userid), api_key: u.api_key };
}
export const ISP1 = 1; // ISP-level user of ISP 1
export const ISP2 = 2; // ISP-level user of ISP 2
export const R2 = 3; // user of reseller 2 (ISP 1)
export const INACTIVE = 4; // disabled user of reseller 1
export const R1 = 5; // the sandbox user, reseller 1 (ISP 1)
export const R3 = 6; // user of reseller 3 (ISP 2)

/** Fixture customers a user can see, in id order. */
export function visible(userid: number): FxCustomer[] {
  const u = fx.users.find((x) => x.userid === userid)!;
  return fx.customers.filter((c) => c.ispid === u.ispid && (u.resellerid === null || c.resellerid === u.resellerid));
}
export const ids = (rows: { id: number }[]) => rows.map((r) => r.id);
export const servicesOf = (id: number) => fx.services.filter((s) => s.customerid === id);

export interface Answer {
  status: number;
  result: any;
  error: string | null;
  headers: Record<string, unknown>;
  raw: string;
}

/** POST form fields (urlencoded, as a browser or an HTTP library would send them). */
export async function call(
  app: FastifyInstance,
  op: string,
  fields: Record<string, string>,
  session?: string,
): Promise<Answer> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/customer/${op}`,
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...sessionHeader(session) },
  });
  return answer(res);
}

/** POST a JSON body. */
export async function callJson(app: FastifyInstance, op: string, body: unknown): Promise<Answer> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/customer/${op}`,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return answer(res);
}

export function answer(res: { statusCode: number; body: string; headers: Record<string, unknown> }): Answer {
  const body = JSON.parse(res.body);
  expect(Object.keys(body).sort()).toEqual(['error', 'result']);
  return { status: res.statusCode, result: body.result, error: body.error, headers: res.headers, raw: res.body };
}

/** A successful call's result (fails the test on an error). */
export async function ok(
  app: FastifyInstance,
  op: string,
  fields: Record<string, string>,
  session?: string,
): Promise<any> {
  const a = await call(app, op, fields, session);
  expect(a.error).toBeNull();
  expect(a.status).toBe(200);
  return a.result;
}

/** A failing call's error text (HTTP 200, result null). */
export async function fail(
  app: FastifyInstance,
  op: string,
  fields: Record<string, string>,
  session?: string,
): Promise<string> {
  const a = await call(app, op, fields, session);
  expect(a.status).toBe(200);
  expect(a.result).toBeNull();
  expect(typeof a.error).toBe('string');
  return a.error!;
}

/**
 * Run a curl command line as written in the doc: `-X` method, URL with $BASE_URL, and every
 * `-d` value sent as-is (curl does not encode -d data), joined with `&`, as form data.
 */
export async function curl(app: FastifyInstance, line: string): Promise<Answer> {
  // A tiny shell-like word splitter: quotes group and are removed (name="Some Name" -> name=Some Name).
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  expect(words[0]).toBe('curl');
  let method = 'GET';
  let url = '';
  const data: string[] = [];
  for (let i = 1; i < words.length; i++) {
    if (words[i] === '-X') method = words[++i];
    else if (words[i] === '-d') data.push(words[++i]);
    else url = words[i];
  }
  if (data.length && method === 'GET') method = 'POST';
  const res = await app.inject({
    method: method as 'POST',
    url: url.replace('$BASE_URL', ''),
    payload: data.join('&'),
    headers: data.length ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
  });
  return answer(res);
}

/**
 * Everything the API shows, for "nothing changed" checks: every customer of both ISPs as their
 * ISP-level users list them (all pages), plus the password-reset outbox.
 */
export async function everything(app: FastifyInstance, session?: string): Promise<unknown> {
  const out: unknown[] = [];
  for (const u of [ISP1, ISP2]) {
    for (let offset = 0; ; offset += 100) {
      const page = await ok(app, 'list', { ...creds(u), rows_limit: '100', rows_offset: String(offset) }, session);
      out.push(...page);
      if (page.length < 100) break;
    }
  }
  const state = app.registry.get(session ?? null);
  const outbox = state.db.prepare('SELECT * FROM ispcrm_password_resets ORDER BY id').all();
  return { customers: out, outbox };
}
