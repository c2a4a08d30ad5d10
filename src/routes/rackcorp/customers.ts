/**
 * RackCorp customer operations (rackcorp-customers.txt), plus `session.login`.
 * Operations the doc shows only as REST get cmd names in the doc's style; the README lists them.
 */
import { Type } from '@sinclair/typebox';
import {
  standardName,
  type NewCustomer,
  type CustomerDetailRow,
  type CustomerRow,
  type CustomerSummaryRow,
  type ContactInput,
  type LocationInput,
} from '../../store/rackcorp.js';
import {
  defineOperation,
  Flag,
  isTrue,
  Message,
  type OperationResult,
  type RackcorpContext,
  type RackcorpOperation,
} from './operation.js';
import { RackcorpFault, CUSTOMER_NOT_FOUND, authFault, okBody } from './envelope.js';
import { promoToApply, recordPromo } from './promo.js';
import { readCache, textBytes } from '../../store/read-cache.js';

export const CUSTOMER_STATUSES = ['ACTIVE', 'INACTIVE', 'SUSPENDED'] as const;
export const CURRENCY_CODES = ['AUD', 'USD'] as const;
export const TIERS = ['DEFAULT', '1', '2', '3'] as const;
/**
 * One rule for `resWindow` on every RackCorp list: any integer is taken; below MIN_WINDOW (the
 * doc's "minimum: 20", 0 and negatives included) it is raised to it, above MAX_WINDOW capped.
 */
export const MIN_WINDOW = 20;
export const MAX_WINDOW = 1000;
export const ResWindow = Type.Optional(
  Type.Integer({
    default: MIN_WINDOW,
    description: `Results per page (default ${MIN_WINDOW}); a smaller value, 0 or negative included, is raised to ${MIN_WINDOW}, a larger one than ${MAX_WINDOW} is capped`,
  }),
);
export const pageWindow = (w: number | undefined) => Math.min(Math.max(w ?? MIN_WINDOW, MIN_WINDOW), MAX_WINDOW);

const Id = Type.Integer({ minimum: 1 });
const Text = (max = 255, description?: string) =>
  Type.String({ maxLength: max, ...(description ? { description } : {}) });

/** The customer, when the authenticated customer may see it (itself or a descendant). */
export function visibleCustomer(ctx: RackcorpContext, id: number, field = 'id'): CustomerRow {
  const row = ctx.store.get(id);
  if (!row || !ctx.store.visible(ctx.auth.customerId, id))
    throw new RackcorpFault(CUSTOMER_NOT_FOUND, { [field]: CUSTOMER_NOT_FOUND });
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
 * the data alone, so it is built once and kept until the database changes (its read cache).
 * Visibility depends on the caller and is checked on every request.
 */
function customerAnswer(ctx: RackcorpContext, id: number): OperationResult | null {
  return readCache(ctx.state.db).get(
    `rc customer.get ${id}`,
    () => {
      const row = ctx.store.detail(id);
      if (!row) return null;
      const body = { customer: detail(ctx, row) };
      return { body, text: JSON.stringify(okBody(body)) };
    },
    weighAnswer,
  );
}

/** About the memory an answer holds: its text, and the body as much again. */
const weighAnswer = (a: OperationResult | null) => (a?.text ? 2 * textBytes(a.text) : 0);

// Response schemas (the fields of the OK envelope after `code`): the contract publishes them.
const Str = Type.String();
const Int = Type.Integer();
const strict = { additionalProperties: false } as const;
export const CustomerSummary = Type.Object(
  {
    id: Int,
    companyName: Str,
    stdName: Str,
    firstName: Str,
    lastName: Str,
    status: Str,
    dateCreated: Type.Integer({ description: 'Unix seconds' }),
    dateModified: Type.Integer({ description: 'Unix seconds' }),
    currency: Str,
    isreseller: Type.Boolean(),
  },
  strict,
);
export const CustomerMin = Type.Object({ id: Int, stdName: Str }, strict);
const LocationOut = Type.Object(
  {
    typeOfAddress: Str,
    addressLine1: Str,
    addressLine2: Str,
    addressLine3: Str,
    suburb: Str,
    state: Str,
    postcode: Str,
    country: Str,
  },
  strict,
);
const ContactOut = Type.Object(
  {
    typeOfContact: Str,
    name: Str,
    phoneNumber: Str,
    mobileNumber: Str,
    faxNumber: Str,
    email: Str,
  },
  strict,
);
export const CustomerDetail = Type.Object(
  {
    id: Int,
    companyName: Str,
    stdName: Str,
    firstName: Str,
    lastName: Str,
    companyABN: Str,
    companyACN: Str,
    customID: Str,
    status: Str,
    parentID: Type.Union([Int, Type.Null()]),
    parentStdName: Type.Union([Str, Type.Null()]),
    dateCreated: Int,
    dateModified: Int,
    currency: Str,
    isreseller: Type.Boolean(),
    autobilling: Type.Integer({
      minimum: 0,
      maximum: 1,
      description: "Auto-billing (1 = enabled), as set on create or update; not in the doc's customer object",
    }),
    locations: Type.Array(LocationOut),
    contacts: Type.Array(ContactOut),
  },
  strict,
);
const CustomerList = Type.Object({
  count: Type.Integer({ description: 'All matches, not only this page' }),
  customers: Type.Array(Type.Union([CustomerSummary, CustomerMin])),
});

const ListInput = Type.Object({
  resStart: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  resWindow: ResWindow,
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
  const window = pageWindow(input.resWindow);
  const root = ctx.auth.customerId;
  const build = (): OperationResult => {
    const { count, rows } = ctx.store.list(root, input, start, window);
    const customers = minimal ? rows.map((c) => ({ id: c.id, stdName: c.stdName })) : rows.map(summary);
    const body = { count, customers };
    return { body, text: JSON.stringify(okBody(body)) };
  };
  // The answer depends on the data, the caller's tree and the filters alone: kept until the data changes.
  const key = JSON.stringify([
    root,
    start,
    window,
    minimal,
    input.id,
    input.keyword,
    input.stdName,
    input.companyName,
    input.status,
    input.customerParentId,
  ]);
  return readCache(ctx.state.db).get(`rc customer.getall ${key}`, build, weighAnswer);
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

const Status = Type.Union(CUSTOMER_STATUSES.map((s) => Type.Literal(s)));
const Currency = Type.Union(CURRENCY_CODES.map((s) => Type.Literal(s)));
const Tier = Type.Union(TIERS.map((s) => Type.Literal(s)));
const ABN = Type.String({ pattern: '^(\\d{11})?$' });
const ACN = Type.String({ pattern: '^(\\d{9})?$' });
const Locations = Type.Array(LocationSchema, { minItems: 1, maxItems: 20 });
const Contacts = Type.Array(ContactSchema, { minItems: 1, maxItems: 20 });

/**
 * Fields of the customer object the server sets. A request may repeat the value the customer shows
 * (a client writing back what it read, other fields edited) or will show after the request, never
 * set another: that is a FAULT naming the field, not a silent no-op.
 */
const SERVER_SET =
  'Set by the server: may repeat the value the customer shows (or will show after this request), any other value is a FAULT naming it';
const ServerFields = {
  stdName: Type.Optional(Text(255, SERVER_SET)),
  parentStdName: Type.Optional(Type.Union([Text(), Type.Null()], { description: SERVER_SET })),
  dateCreated: Type.Optional(Type.Integer({ description: SERVER_SET })),
  dateModified: Type.Optional(Type.Integer({ description: SERVER_SET })),
  isreseller: Type.Optional(Type.Unsafe<boolean | number | string>({ ...Flag, description: SERVER_SET })),
};
interface ServerValues {
  stdName: string;
  parentStdName: string | null;
  dateCreated: number;
  dateModified: number;
  isreseller: boolean;
}
const SERVER_FIELD_RULES: Record<keyof ServerValues, string> = {
  stdName: 'stdName is the companyName, or firstName and lastName',
  parentStdName: "parentStdName is the parent's stdName (set parentID to move the customer)",
  dateCreated: 'dateCreated is set when the customer is created',
  dateModified: 'dateModified is set by every change',
  isreseller: 'isreseller is set by customer.reseller.create',
};

function serverFieldProblems(
  input: Record<string, unknown>,
  will: ServerValues,
  was: ServerValues | undefined,
  fields: Record<string, string>,
): void {
  for (const k of Object.keys(SERVER_FIELD_RULES) as (keyof ServerValues)[]) {
    const v = input[k];
    if (v === undefined) continue;
    const given =
      k === 'isreseller'
        ? isTrue(v)
        : k === 'stdName'
          ? String(v).trim()
          : k === 'parentStdName' && v === ''
            ? null
            : v;
    if (given !== will[k] && (was === undefined || given !== was[k]))
      fields[k] = `${SERVER_FIELD_RULES[k]}; it is ${JSON.stringify(will[k])}, not ${JSON.stringify(v)}`;
  }
}

/**
 * The promo code asked for: `promoCode` (the customer doc's spelling) or `promocode` (the billing
 * doc's); given both, they must agree.
 */
function promoCodeOf(
  input: { promoCode?: string; promocode?: string },
  fields: Record<string, string>,
): string | undefined {
  if (input.promoCode !== undefined && input.promocode !== undefined && input.promoCode !== input.promocode) {
    fields.promoCode = `promoCode (${input.promoCode}) and promocode (${input.promocode}) differ`;
  }
  return input.promoCode ?? input.promocode;
}

/**
 * The currency asked for: `currencycode` (create's spelling) or `currency` (the customer object's);
 * given both, they must agree.
 */
function currencyOf(
  input: { currency?: string; currencycode?: string },
  fields: Record<string, string>,
): string | undefined {
  if (input.currency !== undefined && input.currencycode !== undefined && input.currency !== input.currencycode) {
    fields.currencycode = `currencycode (${input.currencycode}) and currency (${input.currency}) differ`;
  }
  return input.currencycode ?? input.currency;
}

const CreateFields = {
  firstName: Type.Optional(Text()),
  lastName: Type.Optional(Text()),
  companyName: Type.Optional(Text()),
  status: Type.Optional(Status),
  customID: Type.Optional(Text(64)),
  parentID: Type.Optional(Type.Integer({ minimum: 0 })),
  currencycode: Type.Optional(Currency),
  customerTierID: Type.Optional(Tier),
  promoCode: Type.Optional(Text(64)),
  promocode: Type.Optional(Text(64, 'promoCode as the billing API spells it')),
  autobilling: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
  locations: Locations,
  contacts: Contacts,
  // Customer-object fields beyond the create table: applied, or (server-set ones) checked.
  companyABN: Type.Optional(ABN),
  companyACN: Type.Optional(ACN),
  currency: Type.Optional(Currency),
  id: Type.Optional(Type.Integer({ description: 'Refused: the id is assigned when the customer is created' })),
  ...ServerFields,
};
const CreateInput = Type.Object(CreateFields);
const SignupInput = Type.Object({
  ...CreateFields,
  userLogin: Type.String({ minLength: 1, maxLength: 255 }),
  userPassword: Type.String({ minLength: 1, maxLength: 255 }),
});

type AppliedPromo = Extract<ReturnType<typeof promoToApply>, { promo: unknown }>;

/** Checks shared by create and signup; returns the row to insert and the promo code to apply to it. */
function newCustomer(
  input: typeof CreateInput.static,
  ctx: RackcorpContext,
): { row: NewCustomer; promo?: AppliedPromo } {
  const fields: Record<string, string> = {};
  const company = (input.companyName ?? '').trim();
  if (!company) {
    if (!(input.firstName ?? '').trim()) fields.firstName = 'firstName is required when companyName is not given';
    if (!(input.lastName ?? '').trim()) fields.lastName = 'lastName is required when companyName is not given';
    if (Object.keys(fields).length)
      fields.companyName = 'companyName is required when firstName and lastName are not given';
  }
  if (input.id !== undefined)
    fields.id = 'id is assigned when the customer is created; to change a customer use customer.update';
  let parentID = ctx.auth.customerId;
  if (input.parentID !== undefined && input.parentID !== 0) {
    if (!ctx.store.get(input.parentID) || !ctx.store.visible(ctx.auth.customerId, input.parentID))
      fields.parentID = CUSTOMER_NOT_FOUND;
    else parentID = input.parentID;
  }
  const now = ctx.clock.nowSeconds();
  const currency = currencyOf(input, fields) ?? ctx.store.currency(parentID) ?? 'AUD';
  let promo: AppliedPromo | undefined;
  const promoCode = promoCodeOf(input, fields);
  if (promoCode) {
    // The same rules as billing.promo.addcode, the currency being the new customer's.
    const r = promoToApply(ctx, promoCode, { currency }, 'refuse');
    if ('problem' in r) fields[input.promoCode === undefined ? 'promocode' : 'promoCode'] = r.problem;
    else promo = r;
  }
  const row: NewCustomer = {
    parentID,
    companyName: company,
    firstName: (input.firstName ?? '').trim(),
    lastName: (input.lastName ?? '').trim(),
    companyABN: input.companyABN ?? '',
    companyACN: input.companyACN ?? '',
    // Trimmed like the names here and like every text field of customer.update.
    customID: (input.customID ?? '').trim(),
    status: input.status ?? 'ACTIVE',
    currency,
    customerTierID: input.customerTierID ?? 'DEFAULT',
    autobilling: input.autobilling ?? 0,
    promoCode: promoCode ?? '',
    now,
    locations: input.locations as LocationInput[],
    contacts: input.contacts as ContactInput[],
  };
  serverFieldProblems(
    input,
    {
      stdName: standardName(row),
      parentStdName: ctx.store.get(parentID)?.stdName ?? null,
      dateCreated: now,
      dateModified: now,
      isreseller: false,
    },
    undefined,
    fields,
  );
  if (Object.keys(fields).length)
    throw new RackcorpFault(`Invalid parameters: ${Object.values(fields).join('; ')}`, fields);
  return { row, promo };
}

/** Make the write (`make`: create or update the customer) and record its promo code on it, in one transaction. */
function withPromo<T>(
  ctx: RackcorpContext,
  promo: AppliedPromo | undefined,
  make: () => T,
  idOf: (made: T) => number,
): T {
  if (!promo) return make();
  return ctx.store.atomically(() => {
    const made = make();
    recordPromo(ctx, idOf(made), promo);
    return made;
  });
}

const UpdateInput = Type.Object({
  id: Id,
  firstName: Type.Optional(Text()),
  lastName: Type.Optional(Text()),
  companyName: Type.Optional(Text()),
  status: Type.Optional(Status),
  promoCode: Type.Optional(Text(64)),
  promocode: Type.Optional(Text(64, 'promoCode as the billing API spells it')),
  customID: Type.Optional(Text(64)),
  companyABN: Type.Optional(ABN),
  companyACN: Type.Optional(ACN),
  currency: Type.Optional(Currency),
  currencycode: Type.Optional(Currency),
  customerTierID: Type.Optional(Tier),
  autobilling: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
  parentID: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        "Move the customer under another customer of the caller's tree (0: the caller); not itself or one of its descendants",
    }),
  ),
  locations: Type.Optional(
    Type.Array(LocationSchema, { minItems: 1, maxItems: 20, description: "Replaces the customer's locations" }),
  ),
  contacts: Type.Optional(
    Type.Array(ContactSchema, { minItems: 1, maxItems: 20, description: "Replaces the customer's contacts" }),
  ),
  ...ServerFields,
});

/** Columns `customer.update` sets as given, by input field. */
const UPDATABLE: Record<string, keyof CustomerRow> = {
  firstName: 'firstName',
  lastName: 'lastName',
  companyName: 'companyName',
  status: 'status',
  customID: 'customID',
  companyABN: 'companyABN',
  companyACN: 'companyACN',
  customerTierID: 'customerTierID',
  autobilling: 'autobilling',
};

/** Why customer `id` (whose parent is `current`) cannot move under `parentID`, or null when it can. */
function parentProblem(ctx: RackcorpContext, id: number, parentID: number): string | null {
  if (parentID === id) return 'parentID cannot be the customer itself';
  if (!ctx.store.get(parentID) || !ctx.store.visible(ctx.auth.customerId, parentID)) return CUSTOMER_NOT_FOUND;
  if (ctx.store.visible(id, parentID))
    return `parentID ${parentID} is below customer ${id}: a customer cannot move under its own descendant`;
  return null;
}

export const customerOperations: RackcorpOperation[] = [
  defineOperation({
    cmd: 'session.login',
    summary: 'Log in with a portal user; answers a JWT in the body and the JWTSESSIONID cookie',
    rest: [{ method: 'POST', path: '/session/login' }],
    public: true,
    output: Type.Object({
      message: Message('Login successful'),
      sessionId: Type.String({ description: 'The JWT' }),
      token: Type.String({ description: 'The JWT (same as sessionId)' }),
      customerId: Int,
      userId: Int,
      expires: Type.Integer({ description: 'Unix seconds' }),
    }),
    input: Type.Object({
      username: Type.String({ minLength: 1, maxLength: 255 }),
      password: Type.String({ minLength: 1, maxLength: 255 }),
      jwt: Type.Optional(Flag),
    }),
    async handler(input, ctx) {
      const user = ctx.store.userByLogin(input.username);
      if (!user || user.password !== input.password) throw authFault('wrong username or password', 'password');
      if (user.status !== 'ACTIVE') throw authFault(`the user account is ${user.status}`, 'username');
      const token = await ctx.tokens.sign(user.id, user.customerId, ctx.clock);
      return {
        body: {
          message: 'Login successful',
          sessionId: token,
          token,
          customerId: user.customerId,
          userId: user.id,
          expires: ctx.clock.nowSeconds() + ctx.config.jwtTtl,
        },
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
      if (!answer || !ctx.store.visible(ctx.auth.customerId, input.id))
        throw new RackcorpFault(CUSTOMER_NOT_FOUND, { id: CUSTOMER_NOT_FOUND });
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
    output: Type.Object({
      message: Message('Partner Code is valid'),
      partnercheck: Type.Object({ customerid: Int }, strict),
    }),
    input: Type.Object({ CODE: Type.String({ minLength: 1, maxLength: 64 }) }),
    handler(input, ctx) {
      const customerid = ctx.store.partnerCustomer(input.CODE);
      if (customerid === undefined)
        throw new RackcorpFault('Partner Code is not valid', { CODE: 'Partner Code is not valid' });
      return { body: { message: 'Partner Code is valid', partnercheck: { customerid } } };
    },
  }),
  defineOperation({
    cmd: 'customer.reseller.get',
    summary: 'Reseller portals of the authenticated customer and its descendants',
    rest: [{ method: 'GET', path: '/customers/reseller' }],
    output: Type.Object({
      message: Message('Resellers Data retrieved successfully'),
      data: Type.Array(
        Type.Object({ id: Int, customerid: Int, stdName: Str, name: Str, url: Str, dateCreated: Int }, strict),
      ),
    }),
    input: Type.Object({}),
    handler(_input, ctx) {
      const data = ctx.store.portals(ctx.auth.customerId).map((p) => ({
        id: p.id,
        customerid: p.customerId,
        stdName: p.stdName,
        name: p.name,
        url: p.url,
        dateCreated: p.dateCreated,
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
      const { row, promo } = newCustomer(input, ctx);
      const customerid = withPromo(
        ctx,
        promo,
        () => ctx.store.create(row),
        (id) => id,
      );
      return { body: { message: 'Customer Created Successfully', customerid } };
    },
  }),
  defineOperation({
    cmd: 'customer.signup',
    summary: 'Create a customer and an INACTIVE portal user',
    rest: [{ method: 'POST', path: '/customers/signup' }],
    output: Type.Object({
      message: Message('Customer Created Successfully'),
      customer: Type.Object({ customerid: Int, userid: Int }, strict),
    }),
    input: SignupInput,
    handler(input, ctx) {
      if (ctx.store.userByLogin(input.userLogin)) {
        throw new RackcorpFault('Invalid parameters: userLogin is already in use', {
          userLogin: 'userLogin is already in use',
        });
      }
      const { row, promo } = newCustomer(input, ctx);
      const { customerId, userId } = withPromo(
        ctx,
        promo,
        () => ctx.store.createWithUser(row, input.userLogin, input.userPassword),
        (made) => made.customerId,
      );
      return {
        body: { message: 'Customer Created Successfully', customer: { customerid: customerId, userid: userId } },
      };
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
      visibleCustomer(ctx, input.customerid, 'customerid');
      let ok: boolean;
      try {
        const u = new URL(input.url);
        ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname.includes('.');
      } catch {
        ok = false;
      }
      if (!ok)
        throw new RackcorpFault('Invalid parameters: url must be a valid URL', { url: 'url must be a valid URL' });
      ctx.store.createPortal(input.customerid, input.name, input.url, ctx.clock.nowSeconds());
      return { body: { message: 'Reseller Created Successfully' } };
    },
  }),
  defineOperation({
    cmd: 'customer.contact.send',
    summary: 'Send a contact/sales e-mail for a customer (recorded in the outbox, not sent)',
    rest: [{ method: 'POST', path: '/customers/:id/contact' }],
    output: Type.Object({
      message: Message(
        'Email send successfully.\nOne of our sales team will contact you soon. Thanks for your enquiry',
      ),
    }),
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
        customerId: input.id,
        companyname: input.companyname,
        name: input.name,
        email: input.email,
        phone: input.phone ?? '',
        message: input.message,
        now: ctx.clock.nowSeconds(),
      });
      return {
        body: {
          message: 'Email send successfully.\nOne of our sales team will contact you soon. Thanks for your enquiry',
        },
      };
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
      const currency = currencyOf(input, fields);
      if (currency !== undefined) changes.currency = currency;
      if (input.parentID !== undefined) {
        // 0 is the caller, as on create; the customer's own parent again is no move.
        const parentID = input.parentID === 0 ? ctx.auth.customerId : input.parentID;
        if (parentID !== current.parentID) {
          const problem = parentProblem(ctx, input.id, parentID);
          if (problem) fields.parentID = problem;
          else changes.parentID = parentID;
        }
      }
      const merged = { ...current, ...changes };
      if (!merged.companyName && !(merged.firstName && merged.lastName)) {
        fields.companyName = 'a customer needs companyName or firstName and lastName';
      }
      let promo: AppliedPromo | undefined;
      const promoCode = promoCodeOf(input, fields);
      if (promoCode !== undefined) changes.promoCode = promoCode.trim();
      if (promoCode) {
        // The customer may set a code it already holds again (no new use); the currency is the one it will have.
        const r = promoToApply(ctx, promoCode, { customerId: input.id, currency: merged.currency }, 'keep');
        if ('problem' in r) fields[input.promoCode === undefined ? 'promocode' : 'promoCode'] = r.problem;
        else promo = r;
      }
      const stdNameOf = (parentID: number | null) =>
        parentID === null ? null : (ctx.store.get(parentID)?.stdName ?? null);
      // dateModified: the one the customer has now (the request sets a new one).
      const was = {
        stdName: current.stdName,
        parentStdName: stdNameOf(current.parentID),
        dateCreated: current.dateCreated,
        dateModified: current.dateModified,
        isreseller: current.isreseller === 1,
      };
      serverFieldProblems(
        input,
        { ...was, stdName: standardName(merged), parentStdName: stdNameOf(merged.parentID) },
        was,
        fields,
      );
      if (Object.keys(fields).length)
        throw new RackcorpFault(`Invalid parameters: ${Object.values(fields).join('; ')}`, fields);
      const lists = {
        locations: input.locations as LocationInput[] | undefined,
        contacts: input.contacts as ContactInput[] | undefined,
      };
      const now = ctx.clock.nowSeconds();
      withPromo(
        ctx,
        promo,
        () => ctx.store.update(input.id, changes, now, lists),
        () => input.id,
      );
      return { body: { message: 'Customer Updated Successfully' } };
    },
  }),
];
