/**
 * The customers resource: one definition per operation. Handlers take plain input and a context
 * and return plain data (or throw an EmailsrvrFault); the plugin binds them to HTTP and the
 * envelope turns their results into XML or JSON.
 */
import { Type, type Static } from '@sinclair/typebox';
import { compile, fieldErrors } from '../shared/validation.js';
import type { AccountRow, EmailsrvrStore } from '../../store/emailsrvr.js';
import { faults, type Customer, type CustomerList } from './envelope.js';

export const DEFAULT_PAGE_SIZE = 50;
/** The largest page served; a larger `size` is clamped to it (the answer's `size` says so). */
export const MAX_PAGE_SIZE = 250;

export interface Context {
  store: EmailsrvrStore;
  /** The authenticated (reseller) account. */
  me: AccountRow;
}

/** Bounds that keep every offset a safe SQLite integer. */
const MAX_INT32 = 2_147_483_647;

export const IndexQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INT32 })),
  size: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INT32 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INT32 })),
  startswith: Type.Optional(Type.String()),
  contains: Type.Optional(Type.String()),
  referenceNumber: Type.Optional(Type.String()),
});
export type IndexQuery = Static<typeof IndexQuery>;
const validateIndexQuery = compile(IndexQuery, true);

/** Query string -> validated input, or a 400 validationFault naming the parameter. */
export function parseIndexQuery(query: unknown): IndexQuery {
  const q: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    // A repeated parameter: the first one wins (as ASP.NET-style query readers do).
    q[k] = Array.isArray(v) ? v[0] : v;
  }
  if (!validateIndexQuery(q)) {
    const e = fieldErrors(validateIndexQuery.errors)[0];
    throw faults.validation(`Invalid value for ${e.field}`, e.message);
  }
  return q as IndexQuery;
}

export function toCustomer(row: AccountRow): Customer {
  return { name: row.name, accountNumber: row.account_number, referenceNumber: row.reference_number };
}

/** `me`, or a customer of the authenticated reseller; anything else is 404 "Invalid account number". */
function resolveAccount(ctx: Context, param: string): AccountRow {
  if (param.toLowerCase() === 'me') return ctx.me;
  if (!/^\d{1,15}$/.test(param)) throw faults.invalidAccount(param);
  const row = ctx.store.customer(ctx.me.account_number, Number(param));
  if (!row) throw faults.invalidAccount(param);
  return row;
}

export interface CustomerFields {
  name?: string;
  /** null clears it. */
  referenceNumber?: string | null;
}

/**
 * The add/edit body, whichever way it came (form fields, a JSON object, or an XML document whose
 * root element holds `name` and `referenceNumber`), as plain fields. Unknown fields are ignored.
 */
export function readCustomerFields(body: unknown, xml: boolean): CustomerFields {
  let obj: Record<string, unknown> = {};
  if (body !== undefined && body !== null && body !== '') {
    if (typeof body !== 'object' || Array.isArray(body)) throw faults.badRequest('Invalid request body', 'Expected form fields, a JSON object or an XML customer document');
    obj = body as Record<string, unknown>;
    if (xml) {
      const root = Object.entries(obj).find(([k]) => !k.startsWith('?'));
      const inner = root?.[1];
      obj = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? inner as Record<string, unknown> : {};
    }
  }
  const out: CustomerFields = {};
  if ('name' in obj && obj.name !== undefined && obj.name !== null) {
    if (typeof obj.name !== 'string') throw faults.validation('Invalid value for field: name', 'name must be a string');
    out.name = obj.name;
  }
  if ('referenceNumber' in obj && obj.referenceNumber !== undefined) {
    const r = obj.referenceNumber;
    if (r === null || r === '') out.referenceNumber = null;
    else if (typeof r === 'string') out.referenceNumber = r;
    else if (typeof r === 'number' && Number.isFinite(r)) out.referenceNumber = String(r);
    else throw faults.validation('Invalid value for field: referenceNumber', 'referenceNumber must be a string');
  }
  return out;
}

function checkName(name: string): void {
  if (name === '') throw faults.badRequest('Required field name cannot be empty', 'name');
  if (/^\s/.test(name)) throw faults.badRequest('Improper Customer Name', 'Names cannot start with a space');
}

export type Result =
  | { kind: 'customer'; customer: Customer }
  | { kind: 'list'; list: CustomerList }
  | { kind: 'created'; customer: Customer }
  | { kind: 'deleted' };

export interface Operation<I> {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the mounted prefix (`/v0/customers`). */
  url: string;
  input(req: { params: Record<string, string>; query: unknown; body: unknown; xmlBody: boolean }): I;
  handler(input: I, ctx: Context): Result;
}

const index: Operation<IndexQuery> = {
  name: 'customers.index',
  method: 'GET',
  url: '/',
  input: (req) => parseIndexQuery(req.query),
  handler(q, ctx) {
    // ?referenceNumber=X is an exact lookup that answers like Show.
    if (q.referenceNumber !== undefined) {
      const row = ctx.store.customerByReference(ctx.me.account_number, q.referenceNumber);
      if (!row) throw faults.invalidAccount(`referenceNumber ${q.referenceNumber}`);
      return { kind: 'customer', customer: toCustomer(row) };
    }
    const size = Math.min(q.size ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    // v1 pages by offset, v0 by 1-based page; offset wins when both are given.
    const offset = q.offset ?? ((q.page ?? 1) - 1) * size;
    const { total, rows } = ctx.store.customers(ctx.me.account_number, { startswith: q.startswith, contains: q.contains }, offset, size);
    return { kind: 'list', list: { offset, size, total, customers: rows.map(toCustomer) } };
  },
};

const show: Operation<{ account: string }> = {
  name: 'customers.show',
  method: 'GET',
  url: '/:account',
  input: (req) => ({ account: req.params.account }),
  handler: ({ account }, ctx) => ({ kind: 'customer', customer: toCustomer(resolveAccount(ctx, account)) }),
};

const add: Operation<CustomerFields> = {
  name: 'customers.add',
  method: 'POST',
  url: '/',
  input: (req) => readCustomerFields(req.body, req.xmlBody),
  handler(fields, ctx) {
    if (fields.name === undefined) throw faults.badRequest('Missing required field: name', 'name');
    checkName(fields.name);
    const row = ctx.store.addCustomer(ctx.me.account_number, fields.name, fields.referenceNumber ?? null);
    return { kind: 'created', customer: toCustomer(row) };
  },
};

const edit: Operation<{ account: string; fields: CustomerFields }> = {
  name: 'customers.edit',
  method: 'PUT',
  url: '/:account',
  input: (req) => ({ account: req.params.account, fields: readCustomerFields(req.body, req.xmlBody) }),
  handler({ account, fields }, ctx) {
    const row = resolveAccount(ctx, account);
    if (fields.name !== undefined) checkName(fields.name);
    return { kind: 'customer', customer: toCustomer(ctx.store.editAccount(row.account_number, fields)) };
  },
};

const del: Operation<{ account: string }> = {
  name: 'customers.delete',
  method: 'DELETE',
  url: '/:account',
  input: (req) => ({ account: req.params.account }),
  handler({ account }, ctx) {
    if (account.toLowerCase() === 'me') throw faults.badRequest('Cannot delete the authenticated account', 'Delete works on the reseller\'s customers only');
    const row = resolveAccount(ctx, account);
    ctx.store.deleteAccount(row.account_number);
    return { kind: 'deleted' };
  },
};

/** Every operation of the resource, in routing order. */
export const operations = [index, show, add, edit, del] as Operation<unknown>[];
