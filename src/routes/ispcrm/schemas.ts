/**
 * The TypeBox schemas of NeuCRM's four calls: one object per operation whose properties are the
 * doc's table rows, in the doc's order. The same objects drive the input checks (input.ts reads
 * every field through its property schema: required, type, enum, lengths, formats, defaults) and
 * the OpenAPI document (contract.ts), so the two cannot drift.
 *
 * Conventions read by input.ts:
 *   - `required` of the object: a missing or empty value answers `<field> is required`;
 *   - `minLength: 1` on an optional field: sending it empty answers `<field> cannot be empty`
 *     (update's mandatory columns); without it an empty value means "not given" (PHP's empty());
 *   - `x-ispcrm-error`: the vendor's message when the value breaks its type/pattern/format/range
 *     (else `Invalid <field>`); `maxLength` and `enum` have their own messages;
 *   - `default`: what an absent value means (and what --lenient uses instead of an unreadable one).
 * Response schemas are here too: the envelope of each call, success and error.
 */
import { Type, type TOptional, type TSchema } from '@sinclair/typebox';

/** An object of form fields: the ones named required, the others Optional (TypeBox's way). */
type Fields<P extends Record<string, TSchema>, R extends keyof P> = {
  [K in keyof P]: K extends R ? P[K] : TOptional<P[K]>;
};
function fields<P extends Record<string, TSchema>, R extends keyof P & string>(properties: P, required: readonly R[]) {
  const out: Record<string, TSchema> = {};
  for (const [k, s] of Object.entries(properties))
    out[k] = (required as readonly string[]).includes(k) ? s : Type.Optional(s);
  return Type.Object(out as Fields<P, R>);
}

export const CUSTOMER_TYPES = ['Individual', 'Organisation'] as const;
export const SORT_FIELDS = ['id', 'name', 'mobile', 'email'] as const;
export const SORT_ORDERS = ['asc', 'desc'] as const;
export const SERVICE_STATUSES = ['Active', 'Suspended', 'Terminated'] as const;
export const DEFAULT_ROWS_LIMIT = 10;
export const MAX_ROWS_LIMIT = 100;
export const MAX_ID = 2_147_483_647;

/** NeuCRM's column lengths for the free-text fields. */
export const MAX = {
  name: 100,
  surname: 100,
  mobile: 20,
  email: 100,
  uniqueid: 50,
  zipcode: 12,
  state: 50,
  city: 50,
  street: 255,
  notes: 1000,
} as const;

/** The filter length list accepts for the exact-match text filters. */
const FILTER_MAX = 100;

const EMAIL_PATTERN = '^[^\\s@]+@[^\\s@.]+(\\.[^\\s@.]+)+$';
const DATE_ERROR = 'Date must be a valid date in yyyy-mm-dd format';

// ---- field builders -------------------------------------------------------------------------

const id = (description: string, extra: Record<string, unknown> = {}) =>
  Type.Integer({ minimum: 1, maximum: MAX_ID, description, ...extra });

const text = (max: number, description: string, extra: Record<string, unknown> = {}) =>
  Type.String({ maxLength: max, description, ...extra });

/** A mandatory column: on create required, on update optional but never empty. */
const kept = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description });

const oneOf = <T extends string>(values: readonly T[], description: string, extra: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], description, ...extra });

const date = (description: string) =>
  Type.String({ format: 'date', description, 'x-ispcrm-error': `Invalid {field}. ${DATE_ERROR}` });

const email = (description: string, extra: Record<string, unknown> = {}) =>
  Type.String({
    maxLength: MAX.email,
    pattern: EMAIL_PATTERN,
    description,
    'x-ispcrm-error': 'Invalid {field}. Please provide a valid email address',
    ...extra,
  });

/** An optional field that update clears when it is sent empty. */
const clearable = (s: TSchema) =>
  Type.Union([s, Type.Literal('', { description: 'empty: clears the field' })], {
    description: s.description,
    'x-ispcrm-error': s['x-ispcrm-error'],
  });

// ---- credentials (every call) -----------------------------------------------------------------

const credentials = {
  userid: Type.Integer({
    minimum: 0,
    maximum: 9_999_999_999,
    description: "CRM Login User's numerical ID value (credentials: checked before any other field)",
    'x-ispcrm-error': 'Invalid userid. userid must be numeric',
  }),
  api_key: Type.String({
    minLength: 1,
    description:
      'api_key for the above userid: 50 lowercase hex characters. A wrong pair answers `Invalid userid or api_key`',
    examples: ['0f9895fb407c83e5ea128082098b47681aa75d6944576423c4'],
  }),
};

// ---- requests ----------------------------------------------------------------------------------

export const ListRequest = fields(
  {
    ...credentials,
    ispid: id("ISP ID: only the user's own ISP (else `Invalid ispid`)"),
    resellerid: id(
      "Reseller ID: the user's own reseller, or for an ISP user any reseller of its ISP (else `Invalid resellerid`)",
    ),
    customerid: id('Customer ID'),
    serviceid: id('Service ID: the customer owning that service'),
    username: text(
      FILTER_MAX,
      'PPPoE Username. `%` is the only wildcard (`xyz_%` begins with `xyz_`; `_` is literal); without `%` an exact, case-insensitive match',
    ),
    type: oneOf(CUSTOMER_TYPES, 'Customer Type'),
    name: text(FILTER_MAX, 'Customer Name. `%` is the only wildcard'),
    mobile: text(FILTER_MAX, 'Mobile Number (exact)'),
    email: text(FILTER_MAX, 'Customer Email (exact, case-insensitive)'),
    zipcode: text(FILTER_MAX, 'Zipcode or Postal code (exact)'),
    state: text(FILTER_MAX, 'State (exact, case-insensitive)'),
    city: text(FILTER_MAX, 'City (exact, case-insensitive)'),
    created_from: date('Created from date in yyyy-mm-dd format (inclusive)'),
    created_upto: date('Created upto date in yyyy-mm-dd format (inclusive)'),
    rows_limit: Type.Integer({
      minimum: 1,
      default: DEFAULT_ROWS_LIMIT,
      description: `Limit the number of records in result set. Default: ${DEFAULT_ROWS_LIMIT}. Values above ${MAX_ROWS_LIMIT} count as ${MAX_ROWS_LIMIT} (not refused)`,
      'x-ispcrm-error': 'Invalid {field}. Expected a number of 1 or more',
    }),
    rows_offset: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Fetch records from this offset position. Default: 0. Past the end answers `[]`',
      'x-ispcrm-error': 'Invalid {field}. Expected a number of 0 or more',
    }),
    sort_field: oneOf(SORT_FIELDS, 'Sorts the result (ties by id). Default: id', { default: 'id' }),
    sort_order: oneOf(SORT_ORDERS, 'Sort order (lower case). Default: asc', { default: 'asc' }),
    show_count: oneOf(
      ['0', '1'] as const,
      'Shows Records Count only, instead of detailed results. This ignores (does not even check) rows_limit and rows_offset. Default: 0',
      { default: '0' },
    ),
  },
  ['userid', 'api_key'] as const,
);

export const CreateRequest = fields(
  {
    ...credentials,
    ispid: id("ISP ID: optional, only the user's own ISP"),
    resellerid: id(
      "Reseller ID: optional for a reseller's user (its own reseller), required for an ISP user (a reseller of its ISP)",
    ),
    type: oneOf(CUSTOMER_TYPES, 'Customer Type'),
    name: kept(MAX.name, 'Customer name'),
    surname: text(MAX.surname, 'Surname'),
    dob: date('Date of Birth/Date of Reg. yyyy-mm-dd format'),
    mobile: kept(MAX.mobile, 'Mobile number'),
    email: email('Customer Email', { minLength: 1 }),
    uniqueid: text(MAX.uniqueid, "Customer's UniqueID"),
    zipcode: kept(MAX.zipcode, 'Zipcode or Postal code'),
    state: kept(MAX.state, 'State'),
    city: kept(MAX.city, 'City'),
    street: kept(MAX.street, 'Street Address'),
    notes: text(MAX.notes, 'Notes'),
  },
  ['userid', 'api_key', 'type', 'name', 'mobile', 'email', 'zipcode', 'state', 'city', 'street'] as const,
);

export const UpdateRequest = fields(
  {
    ...credentials,
    customerid: id("Customer ID of the Customer Record to update (another tenant's reads as not found)"),
    type: oneOf(CUSTOMER_TYPES, 'Customer Type', { minLength: 1 }),
    name: kept(MAX.name, 'Customer Name (cannot be emptied)'),
    surname: text(MAX.surname, 'Surname (empty clears it)'),
    dob: clearable(date('Date of Birth/Date of Reg. yyyy-mm-dd format (empty clears it)')),
    mobile: kept(MAX.mobile, 'Customer Mobile Number (cannot be emptied)'),
    email: email('Customer Email ID (cannot be emptied)', { minLength: 1 }),
    uniqueid: text(MAX.uniqueid, "Customer's Unique ID (empty clears it)"),
    reset_password: oneOf(
      ['Y', 'N'] as const,
      'Reset Customer Portal Login Password: Y sends the customer a new password by email and SMS',
    ),
    zipcode: kept(MAX.zipcode, 'Zipcode or Postal code (cannot be emptied)'),
    state: kept(MAX.state, 'State (cannot be emptied)'),
    city: kept(MAX.city, 'City (cannot be emptied)'),
    street: kept(MAX.street, 'Street Address (cannot be emptied)'),
    notes: text(MAX.notes, 'Notes (empty clears it)'),
  },
  ['userid', 'api_key', 'customerid'] as const,
);

export const DeleteRequest = fields(
  {
    ...credentials,
    customerid: id('Customer ID to delete (refused while the customer has an Active service)'),
  },
  ['userid', 'api_key', 'customerid'] as const,
);

/** Any body: the credentials only (what an unknown path would need, were it a method). */
export const AnyRequest = fields(credentials, ['userid', 'api_key'] as const);

// ---- responses ----------------------------------------------------------------------------------

const nullable = (s: TSchema) => Type.Union([s, Type.Null()]);
const DATETIME = '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$';
const datetime = (description: string) => Type.String({ pattern: DATETIME, description });

export const Service = Type.Object(
  {
    serviceid: Type.Integer(),
    username: Type.String({ description: 'PPPoE username' }),
    plan: Type.String(),
    status: oneOf(SERVICE_STATUSES, 'Service status'),
    created: datetime('yyyy-mm-dd hh:mm:ss, UTC'),
  },
  { additionalProperties: false },
);

export const Customer = Type.Object(
  {
    id: Type.Integer(),
    ispid: Type.Integer(),
    resellerid: Type.Integer(),
    type: oneOf(CUSTOMER_TYPES, 'Customer Type'),
    name: Type.String(),
    surname: nullable(Type.String()),
    dob: nullable(Type.String({ format: 'date' })),
    mobile: Type.String(),
    email: Type.String(),
    uniqueid: nullable(Type.String()),
    zipcode: Type.String(),
    state: Type.String(),
    city: Type.String(),
    street: Type.String(),
    notes: nullable(Type.String()),
    created: datetime('yyyy-mm-dd hh:mm:ss, UTC'),
    updated: datetime('yyyy-mm-dd hh:mm:ss, UTC'),
    services: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/IspcrmService' })),
  },
  { additionalProperties: false },
);

const envelope = (result: TSchema, description: string) =>
  Type.Object({ result, error: Type.Null() }, { additionalProperties: false, description });

export const ErrorEnvelope = Type.Object(
  {
    result: Type.Null(),
    error: Type.String({ minLength: 1, description: "NeuCRM's error description" }),
  },
  {
    additionalProperties: false,
    description: 'A failure: `result` is null and `error` says what is wrong',
    // The kinds of error string a client has to handle, tried in order (the coverage report names
    // each; one matching none is `other`, e.g. a delete refused for active services).
    'x-outcomes': [
      {
        name: 'auth',
        description: '`Invalid userid or api_key`',
        when: { properties: { error: { const: 'Invalid userid or api_key' } } },
      },
      {
        name: 'not-found',
        description: '`Invalid customerid. Customer not found`',
        when: { properties: { error: { pattern: 'not found' } } },
      },
      {
        name: 'validation',
        description: 'A field: `<field> is required`, `<field> cannot be empty`, `Invalid <field>`',
        when: { properties: { error: { pattern: '(is required|cannot be empty)$|^Invalid ' } } },
      },
    ],
  },
);

export const ListResult = envelope(
  Type.Union([
    Type.Array(Type.Unsafe({ $ref: '#/components/schemas/IspcrmCustomer' }), {
      maxItems: MAX_ROWS_LIMIT,
      description: 'the page of customers',
    }),
    Type.Integer({ minimum: 0, description: 'with show_count=1: the number of matching customers' }),
  ]),
  'The matching customers, or their count with show_count=1',
);
export const CreateResult = envelope(
  Type.Integer({ minimum: 1, description: 'the new customer id' }),
  'The new customer id',
);
export const DoneResult = envelope(Type.Literal('done'), 'The call succeeded');
