/**
 * The four NeuCRM customer operations. Each is one definition: its path under /api/customer and
 * a handler taking the call's fields and a context (store, clock, authenticated user), returning
 * plain data or throwing an IspcrmError. Fields are checked in the order of the doc's tables and
 * the first problem is the answer; nothing is written until every field has passed.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import {
  type CustomerField,
  type IspcrmCustomerRow,
  type IspcrmListFilter,
  type IspcrmScope,
  type IspcrmSortField,
  type IspcrmSortOrder,
  type IspcrmStore,
  type IspcrmUser,
  likePattern,
} from '../../store/ispcrm.js';
import { IspcrmError } from './envelope.js';
import { datetime, type Input } from './input.js';

export interface IspcrmContext {
  store: IspcrmStore;
  clock: Clock;
  user: IspcrmUser;
}

export interface IspcrmOperation {
  /** Journal name. */
  name: string;
  /** Path below the /api/customer prefix. */
  path: string;
  handler(input: Input, ctx: IspcrmContext): unknown;
}

export const CUSTOMER_TYPES = ['Individual', 'Organisation'] as const;
export const SORT_FIELDS = ['id', 'name', 'mobile', 'email'] as const satisfies readonly IspcrmSortField[];
export const SORT_ORDERS = ['asc', 'desc'] as const satisfies readonly IspcrmSortOrder[];
export const DEFAULT_ROWS_LIMIT = 10;
export const MAX_ROWS_LIMIT = 100;

/** NeuCRM's column lengths for the free-text fields. */
const MAX: Record<Exclude<CustomerField, 'type' | 'dob' | 'email'>, number> = {
  name: 100,
  surname: 100,
  mobile: 20,
  uniqueid: 50,
  zipcode: 12,
  state: 50,
  city: 50,
  street: 255,
  notes: 1000,
};

/** What the user can see: a reseller's user its reseller, an ISP's user the whole ISP. */
export function scopeOf(user: IspcrmUser): IspcrmScope {
  return { ispid: user.ispid, resellerid: user.resellerid };
}

/** `ispid` may only name the user's own ISP (every user belongs to exactly one). */
function checkIsp(input: Input, user: IspcrmUser): number | undefined {
  const ispid = input.id('ispid');
  if (ispid !== undefined && ispid !== user.ispid) throw new IspcrmError('Invalid ispid');
  return ispid;
}

/** `resellerid` may name the user's own reseller, or (for an ISP user) any reseller of its ISP. */
function checkReseller(input: Input, ctx: IspcrmContext, required: boolean): number | undefined {
  const { user } = ctx;
  const resellerid = input.id('resellerid', required);
  if (resellerid === undefined) return undefined;
  if (user.resellerid !== null) {
    if (resellerid !== user.resellerid) throw new IspcrmError('Invalid resellerid');
  } else if (ctx.store.reseller(resellerid)?.ispid !== user.ispid) {
    throw new IspcrmError('Invalid resellerid');
  }
  return resellerid;
}

/** The customer named by `customerid`, if the user may see it; another tenant's id reads as missing. */
function ownCustomer(input: Input, ctx: IspcrmContext): IspcrmCustomerRow {
  const id = input.id('customerid', true)!;
  const c = ctx.store.customer(scopeOf(ctx.user), id);
  if (!c) throw new IspcrmError('Invalid customerid. Customer not found');
  return c;
}

function present(c: IspcrmCustomerRow, ctx: IspcrmContext) {
  return {
    id: c.id,
    ispid: c.ispid,
    resellerid: c.resellerid,
    type: c.type,
    name: c.name,
    surname: c.surname,
    dob: c.dob,
    mobile: c.mobile,
    email: c.email,
    uniqueid: c.uniqueid,
    zipcode: c.zipcode,
    state: c.state,
    city: c.city,
    street: c.street,
    notes: c.notes,
    created: c.created,
    updated: c.updated,
    services: ctx.store.services(c.id).map((s) => ({ serviceid: s.id, username: s.username, plan: s.plan, status: s.status, created: s.created })),
  };
}

const list: IspcrmOperation = {
  name: 'customer.list',
  path: '/list',
  handler(input, ctx) {
    const like = (field: string) => {
      const v = input.text(field, 100);
      return v === undefined ? null : likePattern(v);
    };
    const filter: IspcrmListFilter = {
      ispid: checkIsp(input, ctx.user) ?? null,
      resellerid: checkReseller(input, ctx, false) ?? null,
      customerid: input.id('customerid') ?? null,
      serviceid: input.id('serviceid') ?? null,
      username: like('username'),
      type: input.choice('type', CUSTOMER_TYPES) ?? null,
      name: like('name'),
      mobile: input.text('mobile', 100) ?? null,
      email: input.text('email', 100) ?? null,
      zipcode: input.text('zipcode', 100) ?? null,
      state: input.text('state', 100) ?? null,
      city: input.text('city', 100) ?? null,
      createdFrom: input.date('created_from') ?? null,
      createdUpto: input.date('created_upto') ?? null,
    };
    const showCount = input.choice('show_count', ['0', '1'] as const) === '1';
    // show_count=1 ignores rows_limit and rows_offset entirely (they are not even checked).
    const limit = showCount ? 0 : Math.min(input.int('rows_limit', 1, 'Expected a number of 1 or more') ?? DEFAULT_ROWS_LIMIT, MAX_ROWS_LIMIT);
    const offset = showCount ? 0 : input.int('rows_offset', 0, 'Expected a number of 0 or more') ?? 0;
    const sort = input.choice('sort_field', SORT_FIELDS) ?? 'id';
    const order = input.choice('sort_order', SORT_ORDERS) ?? 'asc';
    const scope = scopeOf(ctx.user);
    if (showCount) return ctx.store.count(scope, filter);
    return ctx.store.page(scope, filter, sort, order, limit, offset).map((c) => present(c, ctx));
  },
};

const create: IspcrmOperation = {
  name: 'customer.create',
  path: '/create',
  handler(input, ctx) {
    const { user } = ctx;
    checkIsp(input, user);
    // A reseller's user creates under its own reseller; an ISP's user must say which reseller.
    const resellerid = checkReseller(input, ctx, user.resellerid === null) ?? user.resellerid!;
    const c = {
      ispid: user.ispid,
      resellerid,
      type: input.choice('type', CUSTOMER_TYPES, true)!,
      name: input.text('name', MAX.name, true)!,
      surname: input.text('surname', MAX.surname) ?? null,
      dob: input.date('dob') ?? null,
      mobile: input.text('mobile', MAX.mobile, true)!,
      email: input.email('email', true)!,
      uniqueid: input.text('uniqueid', MAX.uniqueid) ?? null,
      zipcode: input.text('zipcode', MAX.zipcode, true)!,
      state: input.text('state', MAX.state, true)!,
      city: input.text('city', MAX.city, true)!,
      street: input.text('street', MAX.street, true)!,
      notes: input.text('notes', MAX.notes) ?? null,
      created: datetime(ctx.clock.now()),
    };
    return ctx.store.create(c);
  },
};

/** Fields a customer must always have: sending them empty on update is refused, not a clear. */
const KEPT: ReadonlySet<CustomerField> = new Set(['type', 'name', 'mobile', 'email', 'zipcode', 'state', 'city', 'street']);

const update: IspcrmOperation = {
  name: 'customer.update',
  path: '/update',
  handler(input, ctx) {
    const customer = ownCustomer(input, ctx);
    const changes: Partial<Record<CustomerField, string | null>> = {};
    const take = (field: CustomerField, read: () => string | undefined) => {
      const v = read();
      if (v !== undefined) changes[field] = v;
      else if (input.sent(field)) {
        if (KEPT.has(field)) throw new IspcrmError(`${field} cannot be empty`);
        changes[field] = null;
      }
    };
    take('type', () => input.choice('type', CUSTOMER_TYPES));
    take('name', () => input.text('name', MAX.name));
    take('surname', () => input.text('surname', MAX.surname));
    take('dob', () => input.date('dob'));
    take('mobile', () => input.text('mobile', MAX.mobile));
    take('email', () => input.email('email'));
    take('uniqueid', () => input.text('uniqueid', MAX.uniqueid));
    const reset = input.choice('reset_password', ['Y', 'N'] as const) === 'Y';
    take('zipcode', () => input.text('zipcode', MAX.zipcode));
    take('state', () => input.text('state', MAX.state));
    take('city', () => input.text('city', MAX.city));
    take('street', () => input.text('street', MAX.street));
    take('notes', () => input.text('notes', MAX.notes));

    if (Object.keys(changes).length === 0 && !reset) return 'done';
    const now = ctx.clock.now();
    const stamp = datetime(now);
    const after = { ...customer, ...changes } as IspcrmCustomerRow;
    const message = reset ? passwordReset(after, ctx.user.userid, now, stamp) : null;
    ctx.store.update(customer.id, changes, stamp, message);
    return 'done';
  },
};

/** The message NeuCRM sends on reset_password=Y: a new portal password, by email and SMS. */
function passwordReset(c: IspcrmCustomerRow, userid: number, nowMs: number, stamp: string) {
  // Derived from the customer and the (controllable) clock so that tests can predict it.
  const password = createHash('sha256').update(`${c.id}:${nowMs}`).digest('hex').slice(0, 10);
  return {
    customerid: c.id,
    userid,
    email: c.email,
    mobile: c.mobile,
    subject: 'Your customer portal password has been reset',
    body: `Dear ${c.name}, your customer portal password has been reset. Login: ${c.email} New password: ${password}`,
    created: stamp,
  };
}

const remove: IspcrmOperation = {
  name: 'customer.delete',
  path: '/delete',
  handler(input, ctx) {
    const customer = ownCustomer(input, ctx);
    // NeuCRM provisions PPPoE (RADIUS) accounts from services: a customer with a live service
    // cannot be deleted; suspended and terminated services go with the customer.
    const active = ctx.store.activeServiceCount(customer.id);
    if (active > 0) {
      throw new IspcrmError(`Cannot delete customerid ${customer.id}: the customer has ${active} active service${active === 1 ? '' : 's'}; suspend or terminate ${active === 1 ? 'it' : 'them'} before deleting the customer`);
    }
    ctx.store.remove(customer.id);
    return 'done';
  },
};

export const operations: readonly IspcrmOperation[] = [list, create, update, remove];
