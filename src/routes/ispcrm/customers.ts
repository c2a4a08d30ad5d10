/**
 * The four NeuCRM customer operations. Each is one definition: its path under /api/customer and
 * a handler taking the call's fields and a context (store, clock, authenticated user), returning
 * plain data or throwing an IspcrmError. Fields are checked in the order of the doc's tables and
 * the first problem is the answer; nothing is written until every field has passed.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
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
import { textBytes, type ReadCache } from '../../store/read-cache.js';
import type { TObject } from '@sinclair/typebox';
import { IspcrmError, RawJson, listJson } from './envelope.js';
import { datetime, type Input } from './input.js';
import {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DoneResult,
  ListRequest,
  ListResult,
  MAX_ROWS_LIMIT,
  UpdateRequest,
} from './schemas.js';

export interface IspcrmContext {
  store: IspcrmStore;
  /** The state's read cache: list answers are remembered there until the data changes. */
  reads: ReadCache;
  clock: Clock;
  user: IspcrmUser;
}

export interface IspcrmOperation<S extends TObject = TObject> {
  /** Journal name (`x-operation` in the OpenAPI document). */
  name: string;
  /** OpenAPI operationId. */
  operationId: string;
  summary: string;
  /** Path below the /api/customer prefix. */
  path: string;
  /** The request fields: drives the checks (input.ts) and the document (contract.ts). */
  request: S;
  /** The success envelope. */
  result: TObject;
  /**
   * Reads only (changes nothing, and its answer depends on the fields and the data alone, not on
   * the clock): the same fields answer the same until the data changes (see run() in index.ts).
   */
  readOnly?: true;
  handler(input: Input<S>, ctx: IspcrmContext): unknown;
}

/** Fields with the ids and filters every scoped call shares. */
type Scoped = { get(field: 'ispid' | 'resellerid'): number | undefined };
type WithCustomer = { get(field: 'customerid'): number | undefined };

/** What the user can see: a reseller's user its reseller, an ISP's user the whole ISP. */
export function scopeOf(user: IspcrmUser): IspcrmScope {
  return { ispid: user.ispid, resellerid: user.resellerid };
}

/** `ispid` may only name the user's own ISP (every user belongs to exactly one). */
function checkIsp(input: Scoped, user: IspcrmUser): number | undefined {
  const ispid = input.get('ispid');
  if (ispid !== undefined && ispid !== user.ispid) throw new IspcrmError('Invalid ispid');
  return ispid;
}

/** `resellerid` may name the user's own reseller, or (for an ISP user) any reseller of its ISP. */
function checkReseller(input: Scoped, ctx: IspcrmContext, required: boolean): number | undefined {
  const { user } = ctx;
  const resellerid = input.get('resellerid');
  if (resellerid === undefined) {
    if (required) throw new IspcrmError('resellerid is required');
    return undefined;
  }
  if (user.resellerid !== null) {
    if (resellerid !== user.resellerid) throw new IspcrmError('Invalid resellerid');
  } else if (ctx.store.reseller(resellerid)?.ispid !== user.ispid) {
    throw new IspcrmError('Invalid resellerid');
  }
  return resellerid;
}

/** The customer named by `customerid`, if the user may see it; another tenant's id reads as missing. */
function ownCustomer(input: WithCustomer, ctx: IspcrmContext): IspcrmCustomerRow {
  const id = input.get('customerid')!;
  const c = ctx.store.customer(scopeOf(ctx.user), id);
  if (!c) throw new IspcrmError('Invalid customerid. Customer not found');
  return c;
}

const list: IspcrmOperation<typeof ListRequest> = {
  name: 'customer.list',
  operationId: 'ispcrmCustomerList',
  summary: 'List customers (or count them with show_count=1)',
  path: '/list',
  request: ListRequest,
  result: ListResult,
  readOnly: true,
  handler(input, ctx) {
    const like = (v: string | undefined) => (v === undefined ? null : likePattern(v));
    const filter: IspcrmListFilter = {
      ispid: checkIsp(input, ctx.user) ?? null,
      resellerid: checkReseller(input, ctx, false) ?? null,
      customerid: input.get('customerid') ?? null,
      serviceid: input.get('serviceid') ?? null,
      username: like(input.get('username')),
      type: input.get('type') ?? null,
      name: like(input.get('name')),
      mobile: input.get('mobile') ?? null,
      email: input.get('email') ?? null,
      zipcode: input.get('zipcode') ?? null,
      state: input.get('state') ?? null,
      city: input.get('city') ?? null,
      createdFrom: input.get('created_from') ?? null,
      createdUpto: input.get('created_upto') ?? null,
    };
    const showCount = input.get('show_count') === '1';
    const scope = scopeOf(ctx.user);
    // show_count=1 ignores rows_limit and rows_offset entirely (they are not even checked).
    // Answers depend on the caller's scope and the filter alone (and the data): remembered until it changes.
    if (showCount)
      return ctx.reads.get(
        `isp count ${JSON.stringify([scope, filter])}`,
        () => ctx.store.count(scope, filter),
        () => 8,
      );
    const asked = input.get('rows_limit') ?? ListRequest.properties.rows_limit.default;
    if (asked > MAX_ROWS_LIMIT) input.note(`rows_limit ${asked} counts as ${MAX_ROWS_LIMIT} (NeuCRM's maximum)`);
    const limit = Math.min(asked, MAX_ROWS_LIMIT);
    const offset = input.get('rows_offset') ?? ListRequest.properties.rows_offset.default;
    const sort: IspcrmSortField = input.get('sort_field') ?? 'id';
    const order: IspcrmSortOrder = input.get('sort_order') ?? 'asc';
    return ctx.reads.get(
      `isp page ${JSON.stringify([scope, filter, sort, order, limit, offset])}`,
      () => new RawJson(listJson(ctx.store.page(scope, filter, sort, order, limit, offset))),
      // The list's text and its envelope's.
      (r) => 2 * textBytes(r.json) + 64,
    );
  },
};

const create: IspcrmOperation<typeof CreateRequest> = {
  name: 'customer.create',
  operationId: 'ispcrmCustomerCreate',
  summary: 'Create a customer; answers its new id',
  path: '/create',
  request: CreateRequest,
  result: CreateResult,
  handler(input, ctx) {
    const { user } = ctx;
    checkIsp(input, user);
    // A reseller's user creates under its own reseller; an ISP's user must say which reseller.
    const resellerid = checkReseller(input, ctx, user.resellerid === null) ?? user.resellerid!;
    const c = {
      ispid: user.ispid,
      resellerid,
      type: input.get('type')!,
      name: input.get('name')!,
      surname: input.get('surname') ?? null,
      dob: input.get('dob') ?? null,
      mobile: input.get('mobile')!,
      email: input.get('email')!,
      uniqueid: input.get('uniqueid') ?? null,
      zipcode: input.get('zipcode')!,
      state: input.get('state')!,
      city: input.get('city')!,
      street: input.get('street')!,
      notes: input.get('notes') ?? null,
      created: datetime(ctx.clock.now()),
    };
    return ctx.store.create(c);
  },
};

const update: IspcrmOperation<typeof UpdateRequest> = {
  name: 'customer.update',
  operationId: 'ispcrmCustomerUpdate',
  summary: 'Change the fields sent of one customer (optionally reset its portal password)',
  path: '/update',
  request: UpdateRequest,
  result: DoneResult,
  handler(input, ctx) {
    const customer = ownCustomer(input, ctx);
    const changes: Partial<Record<CustomerField, string | null>> = {};
    // A mandatory column sent empty is refused by its schema (minLength 1: `<field> cannot be
    // empty`); an optional one sent empty is cleared.
    const take = (field: CustomerField & keyof typeof UpdateRequest.properties) => {
      const v = input.get(field);
      if (v !== undefined) changes[field] = String(v);
      else if (input.sent(field)) changes[field] = null;
    };
    take('type');
    take('name');
    take('surname');
    take('dob');
    take('mobile');
    take('email');
    take('uniqueid');
    const reset = input.get('reset_password') === 'Y';
    take('zipcode');
    take('state');
    take('city');
    take('street');
    take('notes');

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

const remove: IspcrmOperation<typeof DeleteRequest> = {
  name: 'customer.delete',
  operationId: 'ispcrmCustomerDelete',
  summary: 'Delete a customer and its services',
  path: '/delete',
  request: DeleteRequest,
  result: DoneResult,
  handler(input, ctx) {
    const customer = ownCustomer(input, ctx);
    // The doc sets no precondition and promises "done": the customer goes, and its services with it.
    ctx.store.remove(customer.id);
    return 'done';
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const operations: readonly IspcrmOperation<any>[] = [list, create, update, remove];
