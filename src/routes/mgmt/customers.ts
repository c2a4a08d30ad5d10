/**
 * The customers resource: create, find and load. One definition per operation; each handler takes
 * plain input (a body already turned into a plain object, a query, a path id) and a context, and
 * returns plain data or throws a MgmtError. No request/reply, no wire format here.
 */
import { Type, type Static } from '@sinclair/typebox';
import { compile, fieldErrors } from '../shared/validation.js';
import type { Clock } from '../shared/clock.js';
import type { CustomerFilter, MatchKind, MgmtCustomer, MgmtStore } from '../../store/mgmt.js';
import type { MgmtAuth } from './auth.js';
import { MgmtError, fieldError } from './errors.js';

export interface MgmtContext {
  store: MgmtStore;
  auth: MgmtAuth;
  clock: Clock;
}

/** Lengths: the doc's String(n) for the fields it lists; our choice (README) for the others. */
export const LENGTHS = {
  code: 60,
  title: 10,
  firstName: 125,
  middleName: 125,
  lastName: 125,
  suffix: 10,
  organizationName: 255,
  email: 100,
  phone: 15,
  street: 128,
  city: 50,
  state: 3,
  zipCode: 10,
  countryCode: 2,
} as const;

const str = (field: keyof typeof LENGTHS, extra: Record<string, unknown> = {}) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: LENGTHS[field], ...extra }));

export const CustomerInputSchema = Type.Object({
  code: str('code'),
  accountId: Type.Integer({ minimum: 1 }),
  title: str('title'),
  firstName: str('firstName'),
  middleName: str('middleName'),
  lastName: str('lastName'),
  suffix: str('suffix'),
  birthDate: Type.Optional(Type.String({ pattern: '^[0-9]{8}$' })),
  gender: Type.Optional(Type.Union([Type.Literal('M'), Type.Literal('F')])),
  organizationName: str('organizationName'),
  email: str('email', { format: 'email' }),
  phone: str('phone'),
  street: str('street'),
  city: str('city'),
  state: str('state'),
  zipCode: str('zipCode'),
  countryCode: str('countryCode', { pattern: '^[A-Za-z]{2}$' }),
}, { additionalProperties: false });
export type CustomerInput = Static<typeof CustomerInputSchema>;

/** Every Customer field, in the documented order (input checks report the first bad one in this order). */
export const CUSTOMER_FIELDS = ['id', 'code', 'accountId', 'title', 'firstName', 'middleName', 'lastName', 'suffix', 'birthDate', 'gender',
  'organizationName', 'email', 'phone', 'street', 'city', 'state', 'zipCode', 'countryCode'] as const;
/** Fields that travel as XML attributes of <customer>. */
export const ATTRIBUTE_FIELDS = ['id', 'code', 'accountId'] as const;
const READ_ONLY = new Set<string>(['id']);

const MAX_OFFSET = 2_147_483_647;
export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

/** The find filters: how each matches (README documents the same table). */
export const FILTERS: Record<string, MatchKind> = {
  firstName: 'contains',
  lastName: 'contains',
  organizationName: 'contains',
  street: 'contains',
  city: 'contains',
  email: 'exact',
  phone: 'exact',
  state: 'exact',
  zipCode: 'exact',
  countryCode: 'exact',
};

export const FindQuerySchema = Type.Object({
  offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
  accountId: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  firstName: Type.Optional(Type.String({ maxLength: LENGTHS.firstName })),
  lastName: Type.Optional(Type.String({ maxLength: LENGTHS.lastName })),
  organizationName: Type.Optional(Type.String({ maxLength: LENGTHS.organizationName })),
  email: Type.Optional(Type.String({ maxLength: LENGTHS.email })),
  phone: Type.Optional(Type.String({ maxLength: LENGTHS.phone })),
  street: Type.Optional(Type.String({ maxLength: LENGTHS.street })),
  city: Type.Optional(Type.String({ maxLength: LENGTHS.city })),
  state: Type.Optional(Type.String({ maxLength: LENGTHS.state })),
  zipCode: Type.Optional(Type.String({ maxLength: LENGTHS.zipCode })),
  countryCode: Type.Optional(Type.String({ maxLength: LENGTHS.countryCode })),
}, { additionalProperties: false });
export type FindQuery = Static<typeof FindQuerySchema>;

const validateCustomer = compile(CustomerInputSchema, false);
const validateQuery = compile(FindQuerySchema, true);

/** Friendlier words than ajv's for the fields with a format. */
const FORMAT_MESSAGES: Record<string, string> = {
  birthDate: 'birthDate must be a date in yyyyMMdd format',
  countryCode: 'countryCode must be a two-letter ISO 3166 country code',
  email: 'email must be a valid email address',
  gender: 'gender must be M or F',
};

function firstError(schemaErrors: ReturnType<typeof fieldErrors>, order: readonly string[]): MgmtError {
  const rank = (f: string) => { const i = order.indexOf(f); return i < 0 ? order.length : i; };
  const e = [...schemaErrors].sort((a, b) => rank(a.field) - rank(b.field))[0];
  const special = FORMAT_MESSAGES[e.field];
  const useSpecial = special !== undefined && !/at most|must be a string|cannot be empty/.test(e.message);
  return fieldError(e.field, useSpecial ? special : e.message);
}

function isRealDate(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4)), m = Number(yyyymmdd.slice(4, 6)), d = Number(yyyymmdd.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1800 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** A Customer body (JSON, or XML already turned into the same plain shape) -> validated create input. */
export function parseCustomerInput(body: unknown): CustomerInput {
  if (body === undefined || body === null || (typeof body === 'string' && body === '')) {
    throw fieldError('customer', 'A Customer object is required in the request body');
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw fieldError('customer', 'The request body must be a Customer object');
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (!(CUSTOMER_FIELDS as readonly string[]).includes(k)) throw fieldError(k, `${k} is not a known field of Customer`);
    if (READ_ONLY.has(k)) throw fieldError(k, `${k} is read-only: the gateway assigns it`);
    // An empty value means "not given" (XML's <title/> and JSON's null alike).
    if (v === null || v === '') continue;
    input[k] = v;
  }
  if (!validateCustomer(input)) throw firstError(fieldErrors(validateCustomer.errors), CUSTOMER_FIELDS);
  const c = input as CustomerInput;
  if (c.birthDate !== undefined && !isRealDate(c.birthDate)) throw fieldError('birthDate', `birthDate ${c.birthDate} is not a valid date (yyyyMMdd)`);
  if (c.countryCode !== undefined) c.countryCode = c.countryCode.toUpperCase();
  return c;
}

/** Query string -> validated find query (unknown, repeated or malformed parameters are refused). */
export function parseFindQuery(raw: unknown): FindQuery {
  const query: Record<string, unknown> = {};
  const known = Object.keys(FindQuerySchema.properties);
  for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (!known.includes(k)) throw fieldError(k, `${k} is not a known parameter of find`);
    if (Array.isArray(v)) throw fieldError(k, `${k} must be given at most once`);
    if (v === '') continue;
    if ((k === 'offset' || k === 'limit' || k === 'accountId') && !/^[0-9]{1,16}$/.test(String(v))) {
      throw fieldError(k, k === 'limit' ? `limit must be an integer between 1 and ${MAX_LIMIT}` : `${k} must be a non-negative integer`);
    }
    query[k] = v;
  }
  if (!validateQuery(query)) {
    const e = fieldErrors(validateQuery.errors).sort((a, b) => known.indexOf(a.field) - known.indexOf(b.field))[0];
    if (e.field === 'limit') throw fieldError('limit', `limit must be an integer between 1 and ${MAX_LIMIT}`);
    throw fieldError(e.field, e.message);
  }
  return query as FindQuery;
}

export interface CustomerList {
  offset: number;
  limit: number;
  total: number;
  items: MgmtCustomer[];
}

export type OperationResult = { kind: 'customer'; customer: MgmtCustomer } | { kind: 'list'; list: CustomerList };

export interface Operation<I> {
  name: 'create' | 'find' | 'load';
  method: 'GET' | 'PUT';
  url: string;
  /** Whether the operation reads a request body (Content-Type checked, 415 otherwise). */
  consumesBody: boolean;
  input(parts: { body: unknown; query: unknown; params: Record<string, string> }): I;
  handler(input: I, ctx: MgmtContext): OperationResult;
}

const create: Operation<CustomerInput> = {
  name: 'create',
  method: 'PUT',
  url: '/customers',
  consumesBody: true,
  input: ({ body }) => parseCustomerInput(body),
  handler(input, { store, auth, clock }) {
    if (!auth.accountIds.includes(input.accountId)) {
      throw new MgmtError('E403', `accountId ${input.accountId} is not an account user ${auth.login} may act on`, 'accountId');
    }
    const customer = store.create({
      code: input.code ?? null,
      accountId: input.accountId,
      title: input.title ?? null,
      firstName: input.firstName ?? null,
      middleName: input.middleName ?? null,
      lastName: input.lastName ?? null,
      suffix: input.suffix ?? null,
      birthDate: input.birthDate ?? null,
      gender: input.gender ?? null,
      organizationName: input.organizationName ?? null,
      email: input.email ?? null,
      phone: input.phone ?? null,
      street: input.street ?? null,
      city: input.city ?? null,
      state: input.state ?? null,
      zipCode: input.zipCode ?? null,
      countryCode: input.countryCode ?? null,
    }, clock.nowDate().toISOString());
    return { kind: 'customer', customer };
  },
};

const find: Operation<FindQuery> = {
  name: 'find',
  method: 'GET',
  url: '/customers',
  consumesBody: false,
  input: ({ query }) => parseFindQuery(query),
  handler(q, { store, auth }) {
    // A merchant outside the user's reach is filtered out like any other non-match: never an error, never a row.
    const accounts = q.accountId === undefined ? auth.accountIds : auth.accountIds.filter((a) => a === q.accountId);
    const filters: CustomerFilter[] = [];
    for (const [field, match] of Object.entries(FILTERS)) {
      const value = (q as Record<string, unknown>)[field];
      if (typeof value === 'string') filters.push({ field: field as CustomerFilter['field'], match, value });
    }
    const { total, items } = store.find(accounts, filters, q.offset, q.limit);
    return { kind: 'list', list: { offset: q.offset, limit: q.limit, total, items } };
  },
};

const load: Operation<string> = {
  name: 'load',
  method: 'GET',
  url: '/customers/:id',
  consumesBody: false,
  input: ({ params }) => params.id,
  handler(rawId, { store, auth }) {
    const c = /^[0-9]{1,15}$/.test(rawId) ? store.get(Number(rawId)) : undefined;
    // Another merchant's customer answers exactly like a missing one.
    if (!c || !auth.accountIds.includes(c.accountId)) throw new MgmtError('E404', `Customer ${rawId} not found`, 'id');
    return { kind: 'customer', customer: c };
  },
};

export const operations: readonly Operation<unknown>[] = [create, find, load] as Operation<unknown>[];
