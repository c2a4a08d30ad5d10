/**
 * The customers resource: one definition per operation. Handlers take plain input and a context
 * and return plain data (or throw an EmailsrvrFault); the plugin binds them to HTTP and the
 * envelope turns their results into XML or JSON.
 */
import { Type, type Static } from '@sinclair/typebox';
import { compile, fieldErrors } from '../shared/validation.js';
import type { AccountRow, CustomerPage, EmailsrvrStore } from '../../store/emailsrvr.js';
import type { ReadCache } from '../../store/read-cache.js';
import { faults, type Customer, type CustomerList } from './envelope.js';

export const DEFAULT_PAGE_SIZE = 50;
/** The largest page served; a larger `size` is clamped to it (the answer's `size` says so). */
export const MAX_PAGE_SIZE = 250;

export interface Context {
  store: EmailsrvrStore;
  /** The state's read cache: list pages are remembered there until the data changes. */
  reads: ReadCache;
  /** The authenticated (reseller) account. */
  me: AccountRow;
  /** Record a deviation on the journal entry. */
  warn(message: string): void;
}

/** Bounds that keep every offset a safe SQLite integer. */
const MAX_INT32 = 2_147_483_647;

/** Query parameters of Index (v0 pages by `page`, v1 by `offset`; both work everywhere). */
export const IndexQuery = Type.Object(
  {
    page: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_INT32,
        description: 'v0 paging: 1-based page number (default 1); ignored when `offset` is given',
      }),
    ),
    size: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_INT32,
        description: `Page size (default ${DEFAULT_PAGE_SIZE}); a larger value than ${MAX_PAGE_SIZE} is served as ${MAX_PAGE_SIZE} and the answer's \`size\` says so`,
      }),
    ),
    offset: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_INT32,
        description: 'v1 paging: 0-based offset of the first customer; wins over `page`',
      }),
    ),
    startswith: Type.Optional(
      Type.String({
        description:
          'Customers whose name, account number or reference number starts with this (case-insensitive; % and _ are literal)',
      }),
    ),
    contains: Type.Optional(
      Type.String({
        description: 'Customers whose name, account number or reference number contains this (case-insensitive)',
      }),
    ),
    referenceNumber: Type.Optional(
      Type.String({
        description:
          'Exact reference number: answers one customer like Show (lowest account number when several share it), 404 when none; wins over the other parameters',
      }),
    ),
  },
  { additionalProperties: true },
);
export type IndexQuery = Static<typeof IndexQuery>;
const validateIndexQuery = compile(IndexQuery, true);

/** How the request is read: `--strict` refuses what the real service refuses; `--lenient` repairs and warns. */
export interface Leniency {
  strict: boolean;
  warn(message: string): void;
}

const INTEGER_PARAMS = ['page', 'size', 'offset'] as const;

/**
 * Query string -> validated input, or a 400 validationFault naming the parameter (lenient:
 * repaired, with a warning).
 */
export function parseIndexQuery(query: unknown, mode: Leniency = { strict: true, warn: () => undefined }): IndexQuery {
  const q: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    // Neither is refused by the real service; each is named in a journal warning, in both modes.
    if (!(k in IndexQuery.properties)) {
      mode.warn(`${k} is not a known parameter: ignored`);
      continue;
    }
    // A repeated parameter: the first one wins (as ASP.NET-style query readers do).
    if (Array.isArray(v)) mode.warn(`${k} was given ${v.length} times: the first (${JSON.stringify(v[0])}) is used`);
    q[k] = Array.isArray(v) ? v[0] : v;
  }
  if (!validateIndexQuery(q)) {
    const e = fieldErrors(validateIndexQuery.errors)[0];
    if (mode.strict || !(INTEGER_PARAMS as readonly string[]).includes(e.field))
      throw faults.validation(`Invalid value for ${e.field}`, e.message);
    // Lenient: a number is truncated and brought into range, anything else is ignored (the default applies).
    for (const name of INTEGER_PARAMS) {
      const raw = q[name];
      if (raw === undefined) continue;
      const schema = IndexQuery.properties[name] as { minimum: number; maximum: number };
      const n = Number(String(raw).trim());
      if (String(raw).trim() === '' || !Number.isFinite(n)) {
        delete q[name];
        mode.warn(
          `${name}=${JSON.stringify(String(raw))} is not a whole number: ignored (--strict answers 400 validationFault)`,
        );
        continue;
      }
      const fixed = Math.min(Math.max(Math.trunc(n), schema.minimum), schema.maximum);
      if (fixed !== n || typeof raw !== 'number') {
        if (fixed !== n)
          mode.warn(`${name}=${JSON.stringify(String(raw))} read as ${fixed} (--strict answers 400 validationFault)`);
        q[name] = fixed;
      }
    }
    if (!validateIndexQuery(q)) {
      const again = fieldErrors(validateIndexQuery.errors)[0];
      throw faults.validation(`Invalid value for ${again.field}`, again.message);
    }
  }
  return q as IndexQuery;
}

export function toCustomer(row: Pick<AccountRow, 'name' | 'account_number' | 'reference_number'>): Customer {
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

const NameField = Type.String({ description: "The customer's display name; cannot be empty or start with a space" });
const ReferenceField = Type.Union([Type.String(), Type.Number(), Type.Null()], {
  description: 'The reference number of this account (a number is taken as its text); empty or null clears it on Edit',
});
/**
 * The Add body: form fields, a JSON object, or an XML document whose root element (any name;
 * `customer` by convention) holds `name` and `referenceNumber` child elements. Other fields are
 * ignored, as the real service ignores them.
 */
export const AddBody = Type.Object(
  { name: NameField, referenceNumber: Type.Optional(ReferenceField) },
  { additionalProperties: true },
);
/** The Edit body: the fields to change, nothing else required. */
export const EditBody = Type.Object(
  { name: Type.Optional(NameField), referenceNumber: Type.Optional(ReferenceField) },
  { additionalProperties: true },
);
const validateAddBody = compile(AddBody, false);
const validateEditBody = compile(EditBody, false);
const BODY_FIELDS = ['name', 'referenceNumber'] as const;

/**
 * The add/edit body, whichever way it came, as plain fields. `--strict` refuses a field of the
 * wrong type (400 validationFault); `--lenient` takes a number or boolean as its text and the first
 * of a repeated field, with a warning. Unknown fields are ignored in both modes, with a journal warning.
 */
export function readCustomerFields(
  body: unknown,
  xml: boolean,
  forAdd: boolean,
  mode: Leniency = { strict: true, warn: () => undefined },
): CustomerFields {
  let obj: Record<string, unknown> = {};
  if (body !== undefined && body !== null && body !== '') {
    if (typeof body !== 'object' || Array.isArray(body))
      throw faults.badRequest(
        'Invalid request body',
        'Expected form fields, a JSON object or an XML customer document',
      );
    obj = body as Record<string, unknown>;
    if (xml) {
      const root = Object.entries(obj).find(([k]) => !k.startsWith('?'));
      const inner = root?.[1];
      obj =
        inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
    }
  }
  const fields: Record<string, unknown> = {};
  for (const k of BODY_FIELDS) if (k in obj && obj[k] !== undefined) fields[k] = obj[k];
  // XML values are trimmed (the contract says so). The parser trims before it decodes character
  // references, so `<name>x&#13;</name>` would keep its CR: trim the decoded text once more.
  if (xml) for (const k of BODY_FIELDS) if (typeof fields[k] === 'string') fields[k] = (fields[k] as string).trim();
  // Ignored, as the real service ignores them, but named in a journal warning (XML attributes and text aside).
  const unknown = Object.keys(obj).filter((k) => !(BODY_FIELDS as readonly string[]).includes(k) && !/^[@#?]/.test(k));
  if (unknown.length)
    mode.warn(
      `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(k)).join(', ')} ignored`,
    );
  // A null name is no name (Add: "Missing required field").
  if (fields.name === null) delete fields.name;
  if (!mode.strict) {
    for (const k of BODY_FIELDS) {
      let v = fields[k];
      if (Array.isArray(v) && v.length > 0 && (typeof v[0] !== 'object' || v[0] === null)) {
        mode.warn(`${k} was given ${v.length} times: the first is used (--strict answers 400 validationFault)`);
        v = fields[k] = v[0];
      }
      if ((k === 'name' && typeof v === 'number') || typeof v === 'boolean') {
        mode.warn(
          `${k} ${JSON.stringify(v)} is not a string: read as "${String(v)}" (--strict answers 400 validationFault)`,
        );
        fields[k] = String(v);
      }
    }
  }
  const validate = forAdd ? validateAddBody : validateEditBody;
  if (!validate(fields)) {
    // A field of the wrong type is reported before a missing name.
    const typeErrors = (validate.errors ?? []).filter((e) => e.keyword !== 'required');
    if (typeErrors.length === 0) throw faults.badRequest('Missing required field: name', 'name');
    const field = fieldErrors(typeErrors)[0].field;
    throw faults.validation(`Invalid value for field: ${field}`, `${field} must be a string`);
  }
  const out: CustomerFields = {};
  if (typeof fields.name === 'string') out.name = fields.name;
  if ('referenceNumber' in fields) {
    const r = fields.referenceNumber;
    out.referenceNumber = r === null || r === '' ? null : String(r);
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
  input(req: { params: Record<string, string>; query: unknown; body: unknown; xmlBody: boolean; mode: Leniency }): I;
  handler(input: I, ctx: Context): Result;
}

/**
 * The list answering a page. The store hands out the same page object while the database is
 * unchanged, so the list made from it (and the documents serialized from that) is made once
 * too. It is kept on the page itself (not in a WeakMap: V8 keeps WeakMap values of short-lived
 * keys until a full collection, and with a write between most Index requests that piled up).
 */
const LIST = Symbol('list');
type PageWithList = CustomerPage & { [LIST]?: CustomerList };

function listOf(page: CustomerPage, offset: number, size: number): CustomerList {
  const p = page as PageWithList;
  let list = p[LIST];
  if (list === undefined || !Object.is(list.offset, offset) || list.size !== size) {
    list = { offset, size, total: page.total, customers: page.rows.map(toCustomer) };
    p[LIST] = list;
  }
  return list;
}

const index: Operation<IndexQuery> = {
  name: 'customers.index',
  method: 'GET',
  url: '/',
  input: (req) => parseIndexQuery(req.query, req.mode),
  handler(q, ctx) {
    // ?referenceNumber=X is an exact lookup that answers like Show.
    if (q.referenceNumber !== undefined) {
      const row = ctx.store.customerByReference(ctx.me.account_number, q.referenceNumber);
      if (!row) throw faults.invalidAccount(`referenceNumber ${q.referenceNumber}`);
      return { kind: 'customer', customer: toCustomer(row) };
    }
    const size = Math.min(q.size ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    // Capped, not refused (as the real service serves at most 250); the answer's `size` and the journal say so.
    if (q.size !== undefined && q.size > MAX_PAGE_SIZE)
      ctx.warn(`size=${q.size} is above ${MAX_PAGE_SIZE}: served as ${MAX_PAGE_SIZE}`);
    // v1 pages by offset, v0 by 1-based page; offset wins when both are given.
    const offset = q.offset ?? ((q.page ?? 1) - 1) * size;
    // The page depends on the caller, the search and the data alone: remembered until the data changes.
    // JSON.stringify keeps the search texts apart whatever they contain; -0 is its own key.
    const key = `es page ${ctx.me.account_number} ${Object.is(offset, -0) ? '-0' : offset} ${size} ${JSON.stringify(q.startswith ?? null)} ${JSON.stringify(q.contains ?? null)}`;
    // About what a page holds once its list and documents are made from it (listOf).
    const page = ctx.reads.get(
      key,
      () =>
        ctx.store.customers(ctx.me.account_number, { startswith: q.startswith, contains: q.contains }, offset, size),
      (p) => 64 + p.rows.length * 600,
    );
    return { kind: 'list', list: listOf(page, offset, size) };
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
  input: (req) => readCustomerFields(req.body, req.xmlBody, true, req.mode),
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
  input: (req) => ({ account: req.params.account, fields: readCustomerFields(req.body, req.xmlBody, false, req.mode) }),
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
    if (account.toLowerCase() === 'me')
      throw faults.badRequest(
        'Cannot delete the authenticated account',
        "Delete works on the reseller's customers only",
      );
    const row = resolveAccount(ctx, account);
    ctx.store.deleteAccount(row.account_number);
    return { kind: 'deleted' };
  },
};

/** Every operation of the resource, in routing order. */
export const operations = [index, show, add, edit, del] as Operation<unknown>[];
