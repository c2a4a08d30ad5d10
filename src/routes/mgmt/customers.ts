/**
 * The customers resource: create, find and load. One definition per operation; each handler takes
 * plain input (a body already turned into a plain object, a query, a path id) and a context, and
 * returns plain data or throws a MgmtError. No request/reply, no wire format here.
 */
import { Type, type Static } from '@sinclair/typebox';
import { compile, fieldErrors } from '../shared/validation.js';
import type { Clock } from '../../core/clock.js';
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

/** OpenAPI `xml` annotation: this field travels as an attribute of <customer> (ajv ignores `xml`). */
export const XML_ATTRIBUTE = { xml: { attribute: true } } as const;

/**
 * The Customer a create takes, in JSON and (through the `xml` annotations) XML alike. The routes
 * validate with it and contract.ts publishes it as `MgmtCustomerInput`: one definition.
 */
export const CustomerInputSchema = Type.Object(
  {
    code: str('code', { ...XML_ATTRIBUTE, description: 'Create-only; defaults to the new id (as a string).' }),
    accountId: Type.Integer({
      minimum: 1,
      ...XML_ATTRIBUTE,
      description: 'The merchant account (one the service user may act on).',
    }),
    title: str('title'),
    firstName: str('firstName'),
    middleName: str('middleName'),
    lastName: str('lastName'),
    suffix: str('suffix'),
    birthDate: Type.Optional(Type.String({ pattern: '^[0-9]{8}$', description: 'yyyyMMdd, a real date.' })),
    gender: Type.Optional(Type.Union([Type.Literal('M'), Type.Literal('F')])),
    organizationName: str('organizationName'),
    email: str('email', { format: 'email' }),
    phone: str('phone'),
    street: str('street'),
    city: str('city'),
    state: str('state'),
    zipCode: str('zipCode'),
    countryCode: str('countryCode', { pattern: '^[A-Za-z]{2}$', description: 'ISO 3166 alpha-2; stored upper-case.' }),
  },
  {
    additionalProperties: false,
    xml: { name: 'customer' },
    description:
      'A Customer to create. In XML, `code` and `accountId` are attributes of <customer>, the other fields child elements. ' +
      'An empty value ("", null, <title/>) means "not given". `id` is read-only: giving it is a 400 (ignored with a warning under --lenient).',
  },
);
export type CustomerInput = Static<typeof CustomerInputSchema>;

/** Every Customer field, in the documented order (input checks report the first bad one in this order). */
export const CUSTOMER_FIELDS = [
  'id',
  'code',
  'accountId',
  'title',
  'firstName',
  'middleName',
  'lastName',
  'suffix',
  'birthDate',
  'gender',
  'organizationName',
  'email',
  'phone',
  'street',
  'city',
  'state',
  'zipCode',
  'countryCode',
] as const;
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

export const FindQuerySchema = Type.Object(
  {
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
  },
  { additionalProperties: false },
);
export type FindQuery = Static<typeof FindQuerySchema>;

const validateCustomer = compile(CustomerInputSchema, false);
/** The same schema with ajv's type coercion: --lenient only ("2001" for accountId, 2125551000 for phone). */
const validateCustomerCoercing = compile(CustomerInputSchema, true);
const validateQuery = compile(FindQuerySchema, true);

/** Friendlier words than ajv's for the fields with a format. */
const FORMAT_MESSAGES: Record<string, string> = {
  birthDate: 'birthDate must be a date in yyyyMMdd format',
  countryCode: 'countryCode must be a two-letter ISO 3166 country code',
  email: 'email must be a valid email address',
  gender: 'gender must be M or F',
};

function firstError(schemaErrors: ReturnType<typeof fieldErrors>, order: readonly string[]): MgmtError {
  const rank = (f: string) => {
    const i = order.indexOf(f);
    return i < 0 ? order.length : i;
  };
  const e = [...schemaErrors].sort((a, b) => rank(a.field) - rank(b.field))[0];
  const special = FORMAT_MESSAGES[e.field];
  const useSpecial = special !== undefined && !/at most|must be a string|cannot be empty/.test(e.message);
  return fieldError(e.field, useSpecial ? special : e.message);
}

function isRealDate(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4)),
    m = Number(yyyymmdd.slice(4, 6)),
    d = Number(yyyymmdd.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1800 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * Strict (`--strict`, the default) refuses what the gateway refuses. Lenient (`--lenient`) lets the
 * shape deviations through (unknown fields and parameters ignored, a repeated parameter or element
 * taken once, misplaced XML attributes/elements, wrong JSON types coerced when they can be) and
 * records one warning per deviation on the journal entry. Values stay checked in both modes:
 * lengths, formats, ranges and required fields are the gateway's own limits.
 */
export interface InputMode {
  strict: boolean;
  warn(message: string): void;
}

export const STRICT: InputMode = { strict: true, warn: () => {} };

/** Refuse (strict) or let through with a warning (lenient). */
export function deviation(mode: InputMode, field: string, refusal: string, warning: string): void {
  if (mode.strict) throw fieldError(field, refusal);
  mode.warn(warning);
}

const describe = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A Customer body (JSON, or XML already turned into the same plain shape) -> validated create input. */
export function parseCustomerInput(body: unknown, mode: InputMode = STRICT): CustomerInput {
  if (body === undefined || body === null || (typeof body === 'string' && body === '')) {
    throw fieldError('customer', 'A Customer object is required in the request body');
  }
  if (typeof body !== 'object' || Array.isArray(body))
    throw fieldError('customer', 'The request body must be a Customer object');
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (!(CUSTOMER_FIELDS as readonly string[]).includes(k)) {
      deviation(mode, k, `${k} is not a known field of Customer`, `${k} is not a known field of Customer: ignored`);
      continue;
    }
    if (READ_ONLY.has(k)) {
      deviation(
        mode,
        k,
        `${k} is read-only: the gateway assigns it`,
        `${k} is read-only: ignored (the gateway assigns it)`,
      );
      continue;
    }
    // Text is trimmed, as the XML reader trims it, so JSON and XML store the same value; an empty
    // value means "not given" (XML's <title/>, JSON's null, or only white space).
    const value = typeof v === 'string' ? v.trim() : v;
    if (value === null || value === '') continue;
    input[k] = value;
  }
  if (!validateCustomer(input)) {
    if (mode.strict) throw firstError(fieldErrors(validateCustomer.errors), CUSTOMER_FIELDS);
    // Lenient: coerce the types that can be coerced, then check everything else as strictly as ever.
    const coerced: Record<string, unknown> = { ...input };
    if (!(validateCustomerCoercing as (data: unknown) => boolean)(coerced))
      throw firstError(fieldErrors(validateCustomerCoercing.errors), CUSTOMER_FIELDS);
    for (const f of CUSTOMER_FIELDS) {
      if (f in input && typeof input[f] !== typeof coerced[f]) {
        mode.warn(
          `${f} ${describe(input[f])} is not ${f === 'accountId' ? 'an integer' : 'a string'}: taken as ${describe(coerced[f])}`,
        );
      }
    }
    Object.assign(input, coerced);
  }
  const c = input as CustomerInput;
  if (c.birthDate !== undefined && !isRealDate(c.birthDate))
    throw fieldError('birthDate', `birthDate ${c.birthDate} is not a valid date (yyyyMMdd)`);
  if (c.countryCode !== undefined) c.countryCode = c.countryCode.toUpperCase();
  return c;
}

const INTEGER_PARAMS = new Set(['offset', 'limit', 'accountId']);

/**
 * Query parameters of an operation that reads none: ignored, as a Java service ignores them, each
 * named in a journal warning.
 */
function unreadQuery(query: unknown, op: string, mode: InputMode): void {
  for (const k of Object.keys((query ?? {}) as Record<string, unknown>))
    mode.warn(`${k} is not a known parameter of ${op}: ignored`);
}

/**
 * Query string -> validated find query; malformed values are refused (lenient: repaired when they can be).
 * Unknown and repeated parameters are not refused in either mode: a Java service ignores query
 * parameters it does not bind (cache-busters such as `_=12345` are common) and reads the first
 * value of a repeated one (the servlet's getParameter). Each is a journal warning.
 */
export function parseFindQuery(raw: unknown, mode: InputMode = STRICT): FindQuery {
  const query: Record<string, unknown> = {};
  const known = Object.keys(FindQuerySchema.properties);
  for (const [k, given] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (!known.includes(k)) {
      mode.warn(`${k} is not a known parameter of find: ignored`);
      continue;
    }
    let v = given;
    if (Array.isArray(v)) {
      mode.warn(`${k} was given ${v.length} times: the first value (${describe(v[0])}) was used`);
      v = v[0];
    }
    if (v === '') continue;
    if (INTEGER_PARAMS.has(k) && !/^[0-9]{1,16}$/.test(String(v))) {
      // Lenient: " 20", "+20" and "20.0" are 20; "abc", "2.5" and "-1" stay errors.
      const m = /^\s*\+?0*([0-9]{1,16})(\.0*)?\s*$/.exec(String(v));
      if (mode.strict || !m) {
        throw fieldError(
          k,
          k === 'limit' ? `limit must be an integer between 1 and ${MAX_LIMIT}` : `${k} must be a non-negative integer`,
        );
      }
      mode.warn(`${k} ${describe(v)} is not a plain integer: taken as ${m[1]}`);
      v = m[1];
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
  /** Reads only: its answer can be remembered until the database changes. */
  readOnly: boolean;
  input(parts: { body: unknown; query: unknown; params: Record<string, string> }, mode: InputMode): I;
  handler(input: I, ctx: MgmtContext): OperationResult;
}

const create: Operation<CustomerInput> = {
  name: 'create',
  method: 'PUT',
  url: '/customers',
  consumesBody: true,
  readOnly: false,
  input: ({ body, query }, mode) => {
    unreadQuery(query, 'create', mode);
    return parseCustomerInput(body, mode);
  },
  handler(input, { store, auth, clock }) {
    if (!auth.accountIds.includes(input.accountId)) {
      throw new MgmtError(
        'E403',
        `accountId ${input.accountId} is not an account user ${auth.login} may act on`,
        'accountId',
      );
    }
    const customer = store.create(
      {
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
      },
      clock.nowDate().toISOString(),
    );
    return { kind: 'customer', customer };
  },
};

const find: Operation<FindQuery> = {
  name: 'find',
  method: 'GET',
  url: '/customers',
  consumesBody: false,
  readOnly: true,
  input: ({ query }, mode) => parseFindQuery(query, mode),
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
  readOnly: true,
  input: ({ params, query }, mode) => {
    unreadQuery(query, 'load', mode);
    return params.id;
  },
  handler(rawId, { store, auth }) {
    const c = /^[0-9]{1,15}$/.test(rawId) ? store.get(Number(rawId)) : undefined;
    // Another merchant's customer answers exactly like a missing one.
    if (!c || !auth.accountIds.includes(c.accountId)) throw new MgmtError('E404', `Customer ${rawId} not found`, 'id');
    return { kind: 'customer', customer: c };
  },
};

export const operations: readonly Operation<unknown>[] = [create, find, load] as Operation<unknown>[];
