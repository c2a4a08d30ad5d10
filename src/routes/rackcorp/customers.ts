/**
 * RackCorp customer operations (rackcorp-customers.txt), plus `session.login`.
 * Operations the doc shows only as REST get cmd names in the doc's style; the README lists them.
 */
import { Type } from '@sinclair/typebox';
import type { CustomerDetailRow, CustomerRow, CustomerSummaryRow, ContactInput, LocationInput } from '../../store/rackcorp.js';
import { defineOperation, Flag, isTrue, Message, type OperationResult, type RackcorpContext, type RackcorpOperation } from './operation.js';
import { RackcorpFault, AUTH_FAILED, CUSTOMER_NOT_FOUND, okBody } from './envelope.js';
import { checkPromoCode } from './promo.js';

export const CUSTOMER_STATUSES = ['ACTIVE', 'INACTIVE', 'SUSPENDED'] as const;
export const CURRENCY_CODES = ['AUD', 'USD'] as const;
export const TIERS = ['DEFAULT', '1', '2', '3'] as const;
/** resWindow below this is raised to it (documented minimum); above MAX_WINDOW it is capped. */
export const MIN_WINDOW = 20;
export const MAX_WINDOW = 1000;

const Id = Type.Integer({ minimum: 1 });
const Text = (max = 255) => Type.String({ maxLength: max });

/** The customer, when the authenticated customer may see it (itself or a descendant). */
export function visibleCustomer(ctx: RackcorpContext, id: number): CustomerRow {
  const row = ctx.store.get(id);
  if (!row || !ctx.store.visible(ctx.auth.customerId, id)) throw new RackcorpFault(CUSTOMER_NOT_FOUND, { id: CUSTOMER_NOT_FOUND });
  return row;
}

function summary(c: CustomerSummaryRow) {
  return {
    id: c.id,
    companyName: c.companyName,
    stdName: c.stdName,
    firstName: c.firstName,
    lastName: c.lastName,
    status: c.status,
    dateCreated: c.dateCreated,
    dateModified: c.dateModified,
    currency: c.currency,
    isreseller: c.isreseller === 1,
  };
}

function detail(ctx: RackcorpContext, c: CustomerDetailRow) {
  return {
    id: c.id,
    companyName: c.companyName,
    stdName: c.stdName,
    firstName: c.firstName,
    lastName: c.lastName,
    companyABN: c.companyABN,
    companyACN: c.companyACN,
    customID: c.customID,
    status: c.status,
    parentID: c.parentID,
    parentStdName: c.parentStdName,
    dateCreated: c.dateCreated,
    dateModified: c.dateModified,
    currency: c.currency,
    isreseller: c.isreseller === 1,
    // Not in the doc's customer object, but create and update take it: without it no read shows it.
    autobilling: c.autobilling,
    locations: ctx.store.locationsWithoutId(c.id),
    contacts: ctx.store.contactsWithoutId(c.id),
  };
}

/**
 * The answer of customer.get for `id` (null: no such customer), with its JSON text: it depends on
 * the data alone, so it is built once and kept until the database changes (the store's memo).
 * Visibility depends on the caller and is checked on every request.
 */
function customerAnswer(ctx: RackcorpContext, id: number): OperationResult | null {
  return ctx.store.memo('customer.get', id, () => {
    const row = ctx.store.detail(id);
    if (!row) return null;
    const body = { customer: detail(ctx, row) };
    return { body, text: JSON.stringify(okBody(body)) };
  }, weighAnswer);
}

/** About the memory an answer holds: its text, and the body as much again. */
const weighAnswer = (a: OperationResult | null) => (a?.text ? 2 * a.text.length : 0);

// Response schemas (the fields of the OK envelope after `code`): the contract publishes them.
const Str = Type.String();
const Int = Type.Integer();
const strict = { additionalProperties: false } as const;
export const CustomerSummary = Type.Object({
  id: Int, companyName: Str, stdName: Str, firstName: Str, lastName: Str, status: Str,
  dateCreated: Type.Integer({ description: 'Unix seconds' }), dateModified: Type.Integer({ description: 'Unix seconds' }), currency: Str, isreseller: Type.Boolean(),
}, strict);
export const CustomerMin = Type.Object({ id: Int, stdName: Str }, strict);
const LocationOut = Type.Object({
  typeOfAddress: Str, addressLine1: Str, addressLine2: Str, addressLine3: Str, suburb: Str, state: Str, postcode: Str, country: Str,
}, strict);
const ContactOut = Type.Object({
  typeOfContact: Str, name: Str, phoneNumber: Str, mobileNumber: Str, faxNumber: Str, email: Str,
}, strict);
export const CustomerDetail = Type.Object({
  id: Int, companyName: Str, stdName: Str, firstName: Str, lastName: Str, companyABN: Str, companyACN: Str, customID: Str, status: Str,
  parentID: Type.Union([Int, Type.Null()]), parentStdName: Type.Union([Str, Type.Null()]),
  dateCreated: Int, dateModified: Int, currency: Str, isreseller: Type.Boolean(),
  autobilling: Type.Integer({ minimum: 0, maximum: 1, description: 'Auto-billing (1 = enabled), as set on create or update; not in the doc\'s customer object' }),
  locations: Type.Array(LocationOut), contacts: Type.Array(ContactOut),
}, strict);
const CustomerList = Type.Object({ count: Type.Integer({ description: 'All matches, not only this page' }), customers: Type.Array(Type.Union([CustomerSummary, CustomerMin])) });

const ListInput = Type.Object({
  resStart: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  resWindow: Type.Optional(Type.Integer({ minimum: 1, default: MIN_WINDOW })),
  id: Type.Optional(Id),
  keyword: Type.Optional(Text()),
  stdName: Type.Optional(Text()),
  companyName: Type.Optional(Text()),
  status: Type.Optional(Text(32)),
  customerParentId: Type.Optional(Id),
  minimal: Type.Optional(Flag),
});

function listCustomers(input: typeof ListInput.static, ctx: RackcorpContext, minimal: boolean): OperationResult {
  // Past 2^53 SQLite cannot take the offset as an integer; any such offset is past the end anyway.
  const start = Math.min(input.resStart ?? 0, Number.MAX_SAFE_INTEGER);
  const window = Math.min(Math.max(input.resWindow ?? MIN_WINDOW, MIN_WINDOW), MAX_WINDOW);
  const root = ctx.auth.customerId;
  const build = (): OperationResult => {
    const { count, rows } = ctx.store.list(root, input, start, window);
    const customers = minimal ? rows.map((c) => ({ id: c.id, stdName: c.stdName })) : rows.map(summary);
    const body = { count, customers };
    return { body, text: JSON.stringify(okBody(body)) };
  };
  // The answer depends on the data, the caller's tree and the filters alone: kept until the data changes.
  const key = JSON.stringify([root, start, window, minimal, input.id, input.keyword, input.stdName, input.companyName, input.status, input.customerParentId]);
  return ctx.store.memo('customer.getall', key, build, weighAnswer);
}

const LocationSchema = Type.Object({
  typeOfAddress: Type.Optional(Text(32)),
  addressLine1: Type.Optional(Text()),
  addressLine2: Type.Optional(Text()),
  addressLine3: Type.Optional(Text()),
  suburb: Type.Optional(Text(128)),
  state: Type.Optional(Text(64)),
  postcode: Type.Optional(Text(16)),
  country: Type.Optional(Text(64)),
});
const ContactSchema = Type.Object({
  typeOfContact: Type.Optional(Text(32)),
  name: Type.Optional(Text()),
  phoneNumber: Type.Optional(Text(32)),
  mobileNumber: Type.Optional(Text(32)),
  faxNumber: Type.Optional(Text(32)),
  email: Type.Optional(Type.Union([Type.Literal(''), Type.String({ format: 'email', maxLength: 255 })])),
});

const CreateFields = {
  firstName: Type.Optional(Text()),
  lastName: Type.Optional(Text()),
  companyName: Type.Optional(Text()),
  status: Type.Optional(Type.Union(CUSTOMER_STATUSES.map((s) => Type.Literal(s)))),
  customID: Type.Optional(Text(64)),
  parentID: Type.Optional(Type.Integer({ minimum: 0 })),
  currencycode: Type.Optional(Type.Union(CURRENCY_CODES.map((s) => Type.Literal(s)))),
  customerTierID: Type.Optional(Type.Union(TIERS.map((s) => Type.Literal(s)))),
  promoCode: Type.Optional(Text(64)),
  autobilling: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
  locations: Type.Array(LocationSchema, { minItems: 1, maxItems: 20 }),
  contacts: Type.Array(ContactSchema, { minItems: 1, maxItems: 20 }),
};
const CreateInput = Type.Object(CreateFields);
const SignupInput = Type.Object({
  ...CreateFields,
  userLogin: Type.String({ minLength: 1, maxLength: 255 }),
  userPassword: Type.String({ minLength: 1, maxLength: 255 }),
});

/** Checks shared by create and signup; returns the row to insert. */
function newCustomer(input: typeof CreateInput.static, ctx: RackcorpContext) {
  const fields: Record<string, string> = {};
  const company = (input.companyName ?? '').trim();
  if (!company) {
    if (!(input.firstName ?? '').trim()) fields.firstName = 'firstName is required when companyName is not given';
    if (!(input.lastName ?? '').trim()) fields.lastName = 'lastName is required when companyName is not given';
    if (Object.keys(fields).length) fields.companyName = 'companyName is required when firstName and lastName are not given';
  }
  let parentID = ctx.auth.customerId;
  if (input.parentID !== undefined && input.parentID !== 0) {
    if (!ctx.store.get(input.parentID) || !ctx.store.visible(ctx.auth.customerId, input.parentID)) fields.parentID = CUSTOMER_NOT_FOUND;
    else parentID = input.parentID;
  }
  const now = ctx.clock.nowSeconds();
  if (input.promoCode) {
    const problem = checkPromoCode(ctx, input.promoCode);
    if (problem) fields.promoCode = problem;
  }
  if (Object.keys(fields).length) throw new RackcorpFault(`Invalid parameters: ${Object.values(fields).join('; ')}`, fields);
  return {
    parentID,
    companyName: company,
    firstName: (input.firstName ?? '').trim(),
    lastName: (input.lastName ?? '').trim(),
    // Trimmed like the names here and like every text field of customer.update.
    customID: (input.customID ?? '').trim(),
    status: input.status ?? 'ACTIVE',
    currency: input.currencycode ?? ctx.store.currency(parentID) ?? 'AUD',
    customerTierID: input.customerTierID ?? 'DEFAULT',
    autobilling: input.autobilling ?? 0,
    promoCode: input.promoCode ?? '',
    now,
    locations: input.locations as LocationInput[],
    contacts: input.contacts as ContactInput[],
  };
}

const UpdateInput = Type.Object({
  id: Id,
  firstName: Type.Optional(Text()),
  lastName: Type.Optional(Text()),
  companyName: Type.Optional(Text()),
  status: Type.Optional(Type.Union(CUSTOMER_STATUSES.map((s) => Type.Literal(s)))),
  promoCode: Type.Optional(Text(64)),
  customID: Type.Optional(Text(64)),
  companyABN: Type.Optional(Type.String({ pattern: '^(\\d{11})?$' })),
  companyACN: Type.Optional(Type.String({ pattern: '^(\\d{9})?$' })),
  currency: Type.Optional(Type.Union(CURRENCY_CODES.map((s) => Type.Literal(s)))),
  currencycode: Type.Optional(Type.Union(CURRENCY_CODES.map((s) => Type.Literal(s)))),
  customerTierID: Type.Optional(Type.Union(TIERS.map((s) => Type.Literal(s)))),
  autobilling: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
});

/** Columns `customer.update` may set, by input field. */
const UPDATABLE: Record<string, keyof CustomerRow> = {
  firstName: 'firstName', lastName: 'lastName', companyName: 'companyName', status: 'status', promoCode: 'promoCode',
  customID: 'customID', companyABN: 'companyABN', companyACN: 'companyACN', currency: 'currency', currencycode: 'currency',
  customerTierID: 'customerTierID', autobilling: 'autobilling',
};

export const customerOperations: RackcorpOperation[] = [
  defineOperation({
    cmd: 'session.login',
    summary: 'Log in with a portal user; answers a JWT in the body and the JWTSESSIONID cookie',
    rest: [{ method: 'POST', path: '/session/login' }],
    public: true,
    output: Type.Object({ message: Message('Login successful'), sessionId: Type.String({ description: 'The JWT' }), token: Type.String({ description: 'The JWT (same as sessionId)' }), customerId: Int, userId: Int, expires: Type.Integer({ description: 'Unix seconds' }) }),
    input: Type.Object({
      username: Type.String({ minLength: 1, maxLength: 255 }),
      password: Type.String({ minLength: 1, maxLength: 255 }),
      jwt: Type.Optional(Flag),
    }),
    async handler(input, ctx) {
      const user = ctx.store.userByLogin(input.username);
      if (!user || user.password !== input.password) throw new RackcorpFault(`${AUTH_FAILED}: wrong username or password`, undefined, 'Auth');
      if (user.status !== 'ACTIVE') throw new RackcorpFault(`${AUTH_FAILED}: the user account is ${user.status}`, undefined, 'Auth');
      const token = await ctx.tokens.sign(user.id, user.customerId, ctx.clock);
      return {
        body: { message: 'Login successful', sessionId: token, token, customerId: user.customerId, userId: user.id, expires: ctx.clock.nowSeconds() + ctx.config.jwtTtl },
        cookies: { JWTSESSIONID: token },
      };
    },
  }),
  defineOperation({
    cmd: 'customer.get',
    summary: 'Get one customer by id',
    rest: [{ method: 'GET', path: '/customers/:id' }],
    output: Type.Object({ customer: CustomerDetail }),
    input: Type.Object({ id: Id }),
    handler(input, ctx) {
      const answer = customerAnswer(ctx, input.id);
      if (!answer || !ctx.store.visible(ctx.auth.customerId, input.id)) throw new RackcorpFault(CUSTOMER_NOT_FOUND, { id: CUSTOMER_NOT_FOUND });
      return answer;
    },
  }),
  defineOperation({
    cmd: 'customer.getall',
    summary: 'List customers (the caller and its descendants) with filters and paging',
    rest: [{ method: 'GET', path: '/customers' }],
    output: CustomerList,
    input: ListInput,
    handler(input, ctx) {
      return listCustomers(input, ctx, isTrue(input.minimal));
    },
  }),
  defineOperation({
    cmd: 'customer.getall.min',
    summary: 'List customers, id and stdName only',
    rest: [{ method: 'GET', path: '/customers/min' }],
    output: Type.Object({ count: Int, customers: Type.Array(CustomerMin) }),
    input: ListInput,
    handler(input, ctx) {
      return listCustomers(input, ctx, true);
    },
  }),
  defineOperation({
    cmd: 'customer.partner.check',
    summary: 'Validate a partner registration code',
    rest: [{ method: 'GET', path: '/customer/partner' }],
    output: Type.Object({ message: Message('Partner Code is valid'), partnercheck: Type.Object({ customerid: Int }, strict) }),
    input: Type.Object({ CODE: Type.String({ minLength: 1, maxLength: 64 }) }),
    handler(input, ctx) {
      const customerid = ctx.store.partnerCustomer(input.CODE);
      if (customerid === undefined) throw new RackcorpFault('Partner Code is not valid', { CODE: 'Partner Code is not valid' });
      return { body: { message: 'Partner Code is valid', partnercheck: { customerid } } };
    },
  }),
  defineOperation({
    cmd: 'customer.reseller.get',
    summary: 'Reseller portals of the authenticated customer and its descendants',
    rest: [{ method: 'GET', path: '/customers/reseller' }],
    output: Type.Object({ message: Message('Resellers Data retrieved successfully'), data: Type.Array(Type.Object({ id: Int, customerid: Int, stdName: Str, name: Str, url: Str, dateCreated: Int }, strict)) }),
    input: Type.Object({}),
    handler(_input, ctx) {
      const data = ctx.store.portals(ctx.auth.customerId).map((p) => ({
        id: p.id, customerid: p.customerId, stdName: p.stdName, name: p.name, url: p.url, dateCreated: p.dateCreated,
      }));
      return { body: { message: 'Resellers Data retrieved successfully', data } };
    },
  }),
  defineOperation({
    cmd: 'customer.create',
    summary: 'Create a customer under the caller (or a visible parentID)',
    rest: [{ method: 'POST', path: '/customers' }],
    output: Type.Object({ message: Message('Customer Created Successfully'), customerid: Int }),
    input: CreateInput,
    handler(input, ctx) {
      const customerid = ctx.store.create(newCustomer(input, ctx));
      return { body: { message: 'Customer Created Successfully', customerid } };
    },
  }),
  defineOperation({
    cmd: 'customer.signup',
    summary: 'Create a customer and an INACTIVE portal user',
    rest: [{ method: 'POST', path: '/customers/signup' }],
    output: Type.Object({ message: Message('Customer Created Successfully'), customer: Type.Object({ customerid: Int, userid: Int }, strict) }),
    input: SignupInput,
    handler(input, ctx) {
      if (ctx.store.userByLogin(input.userLogin)) {
        throw new RackcorpFault('Invalid parameters: userLogin is already in use', { userLogin: 'userLogin is already in use' });
      }
      const { customerId, userId } = ctx.store.createWithUser(newCustomer(input, ctx), input.userLogin, input.userPassword);
      return { body: { message: 'Customer Created Successfully', customer: { customerid: customerId, userid: userId } } };
    },
  }),
  defineOperation({
    cmd: 'customer.reseller.create',
    summary: 'Create a reseller portal for a customer',
    rest: [{ method: 'POST', path: '/customers/reseller' }],
    output: Type.Object({ message: Message('Reseller Created Successfully') }),
    input: Type.Object({
      customerid: Id,
      name: Type.String({ minLength: 1, maxLength: 255 }),
      url: Type.String({ minLength: 1, maxLength: 2048 }),
    }),
    handler(input, ctx) {
      visibleCustomer(ctx, input.customerid);
      let ok = false;
      try {
        const u = new URL(input.url);
        ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname.includes('.');
      } catch {
        ok = false;
      }
      if (!ok) throw new RackcorpFault('Invalid parameters: url must be a valid URL', { url: 'url must be a valid URL' });
      ctx.store.createPortal(input.customerid, input.name, input.url, ctx.clock.nowSeconds());
      return { body: { message: 'Reseller Created Successfully' } };
    },
  }),
  defineOperation({
    cmd: 'customer.contact.send',
    summary: 'Send a contact/sales e-mail for a customer (recorded in the outbox, not sent)',
    rest: [{ method: 'POST', path: '/customers/:id/contact' }],
    output: Type.Object({ message: Message('Email send successfully.\nOne of our sales team will contact you soon. Thanks for your enquiry') }),
    input: Type.Object({
      id: Id,
      companyname: Type.String({ minLength: 1, maxLength: 255 }),
      name: Type.String({ minLength: 1, maxLength: 255 }),
      email: Type.String({ format: 'email', maxLength: 255 }),
      phone: Type.Optional(Text(32)),
      message: Type.String({ minLength: 1, maxLength: 10_000 }),
    }),
    handler(input, ctx) {
      visibleCustomer(ctx, input.id);
      ctx.store.recordContactEmail({
        customerId: input.id, companyname: input.companyname, name: input.name, email: input.email,
        phone: input.phone ?? '', message: input.message, now: ctx.clock.nowSeconds(),
      });
      return { body: { message: 'Email send successfully.\nOne of our sales team will contact you soon. Thanks for your enquiry' } };
    },
  }),
  defineOperation({
    cmd: 'customer.update',
    summary: 'Update a customer; only the fields given change',
    rest: [{ method: 'PUT', path: '/customers/:id' }],
    output: Type.Object({ message: Message('Customer Updated Successfully') }),
    input: UpdateInput,
    handler(input, ctx) {
      const current = visibleCustomer(ctx, input.id);
      const changes: Partial<CustomerRow> = {};
      for (const [field, column] of Object.entries(UPDATABLE)) {
        const v = (input as Record<string, unknown>)[field];
        if (v !== undefined) (changes as Record<string, unknown>)[column] = typeof v === 'string' ? v.trim() : v;
      }
      const fields: Record<string, string> = {};
      // Both spellings name one column: two different values would leave one silently unapplied.
      if (input.currency !== undefined && input.currencycode !== undefined && input.currency !== input.currencycode) {
        fields.currencycode = `currencycode ${input.currencycode} contradicts currency ${input.currency}: send one of them`;
      }
      const merged = { ...current, ...changes };
      if (!merged.companyName && !(merged.firstName && merged.lastName)) {
        fields.companyName = 'a customer needs companyName or firstName and lastName';
      }
      if (input.promoCode) {
        const problem = checkPromoCode(ctx, input.promoCode, input.id);
        if (problem) fields.promoCode = problem;
      }
      if (Object.keys(fields).length) throw new RackcorpFault(`Invalid parameters: ${Object.values(fields).join('; ')}`, fields);
      ctx.store.update(input.id, changes, ctx.clock.nowSeconds());
      return { body: { message: 'Customer Updated Successfully' } };
    },
  }),
];
