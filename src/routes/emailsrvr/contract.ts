/**
 * The Rackspace Email & Apps contract: OpenAPI 3.1 paths built from the TypeBox schemas the routes
 * validate with (IndexQuery, AddBody, EditBody in customers.ts) and the TypeBox response schemas
 * below, which describe exactly what envelope.ts writes (tests use them too).
 *
 * Path items: the canonical `/v0/customers` and `/v0/customers/{accountNumber}`, and the same
 * operations again under `/v1/customers...` and `/customers...` (separate path items, operationIds
 * suffixed `V1` / `Unversioned`), since clients call all three. Requests that reach no operation
 * (a deeper path, a method the path does not serve) are documented as `notFound` under `unmatched`.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type {
  ContractExample,
  JsonSchema,
  OpenApiOperation,
  OpenApiPaths,
  VendorContract,
} from '../shared/contract.js';
import { AddBody, EditBody, IndexQuery, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './customers.js';
import { formatTimestamp, signatureHeader } from './auth.js';
import type { FaultType } from './envelope.js';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
/** A TypeBox schema as plain JSON (no TypeBox symbols) for the document. */
const plain = (s: TSchema | JsonSchema): JsonSchema => JSON.parse(JSON.stringify(s)) as JsonSchema;

// ---- response bodies -------------------------------------------------------------------------

const customerProperties = {
  name: Type.String({ description: "The customer's display name" }),
  accountNumber: Type.String({ pattern: '^[0-9]+$', description: 'The account number (a string in JSON too)' }),
  referenceNumber: Type.Optional(Type.String({ description: 'Absent when the account has none' })),
};

/** `<customer xmlns="urn:xml:customer">` / `{"name":..,"accountNumber":"460182","referenceNumber":".."}`. */
export const CustomerSchema = Type.Object(customerProperties, {
  additionalProperties: false,
  xml: { name: 'customer', namespace: 'urn:xml:customer' },
  description: 'One account (Show, Add, Edit, and Index with ?referenceNumber=).',
});
const CustomerListEntrySchema = Type.Object(customerProperties, {
  additionalProperties: false,
  xml: { name: 'customer' },
});
/** `<customerList xmlns="urn:xml:customerList">` with offset, size, total and customers/customer. */
export const CustomerListSchema = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, description: 'Offset of the first customer of this page' }),
    size: Type.Integer({
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      description: `The page size used (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`,
    }),
    total: Type.Integer({ minimum: 0, description: 'How many customers match, over all pages' }),
    customers: Type.Array(Type.Unsafe(ref('EmailsrvrCustomerListEntry')), {
      xml: { name: 'customers', wrapped: true },
    }),
  },
  { additionalProperties: false, xml: { name: 'customerList', namespace: 'urn:xml:customerList' } },
);

/** The inside of every fault: `code` (an attribute in XML), `message`, `details`. */
const faultProperties = {
  code: Type.Integer({ description: 'The HTTP status', xml: { attribute: true } }),
  message: Type.String(),
  details: Type.String({ description: 'The specifics; repeats the message when there is nothing more to say' }),
};
export const FaultBodySchema = Type.Object(faultProperties, { additionalProperties: false });

export const FAULTS: readonly FaultType[] = [
  'badRequestFault',
  'validationFault',
  'unauthorizedFault',
  'itemNotFoundFault',
  'appsFault',
];
const cap = (f: string): string => f[0].toUpperCase() + f.slice(1);
/** JSON: `{"<fault>": {code, message, details}}`. */
export const faultJsonSchema = (f: FaultType) =>
  Type.Object({ [f]: Type.Unsafe(ref('EmailsrvrFaultBody')) }, { additionalProperties: false, required: [f] });
/** XML: `<fault code="N"><message/><details/></fault>` (no namespace). */
export const faultXmlSchema = (f: FaultType) =>
  Type.Object(faultProperties, { additionalProperties: false, xml: { name: f } });

const schemas: Record<string, JsonSchema> = {
  EmailsrvrCustomer: plain(CustomerSchema),
  EmailsrvrCustomerListEntry: plain(CustomerListEntrySchema),
  EmailsrvrCustomerList: plain(CustomerListSchema),
  EmailsrvrFaultBody: plain(FaultBodySchema),
  EmailsrvrCustomerAdd: plain(AddBody),
  EmailsrvrCustomerEdit: plain(EditBody),
  EmailsrvrCustomerAddXml: { ...plain(AddBody), xml: { name: 'customer' } },
  EmailsrvrCustomerEditXml: { ...plain(EditBody), xml: { name: 'customer' } },
};
for (const f of FAULTS) {
  schemas[`Emailsrvr${cap(f)}`] = plain(faultJsonSchema(f));
  schemas[`Emailsrvr${cap(f)}Xml`] = plain(faultXmlSchema(f));
}

// ---- responses ---------------------------------------------------------------------------------

type Response = OpenApiOperation['responses'][string];
const XML = 'text/xml';
const JSON_TYPE = 'application/json';

function body(description: string, xml: JsonSchema, json: JsonSchema, headers?: Record<string, unknown>): Response {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { [XML]: { schema: xml }, [JSON_TYPE]: { schema: json } },
  };
}

/** A fault response; several fault kinds at one status: `anyOf` by root element (XML), `oneOf` by key (JSON). */
function fault(
  description: string,
  kinds: FaultType[],
  opts: { xmlOnly?: boolean; headers?: Record<string, unknown> } = {},
): Response {
  // Several roots: `anyOf` the fault documents. The schema itself also names the first root and
  // its layout, because the shared response checker (src/server/control/openapi.ts) reads one root
  // name per response; the others validate once it looks into anyOf/oneOf branches (see README).
  const xml =
    kinds.length === 1
      ? ref(`Emailsrvr${cap(kinds[0])}Xml`)
      : {
          ...plain(faultXmlSchema(kinds[0])),
          description: `The root element is one of: ${kinds.join(', ')}`,
          anyOf: kinds.map((k) => ref(`Emailsrvr${cap(k)}Xml`)),
        };
  const json =
    kinds.length === 1 ? ref(`Emailsrvr${cap(kinds[0])}`) : { oneOf: kinds.map((k) => ref(`Emailsrvr${cap(k)}`)) };
  return {
    description,
    ...(opts.headers ? { headers: opts.headers } : {}),
    content: opts.xmlOnly ? { [XML]: { schema: xml } } : { [XML]: { schema: xml }, [JSON_TYPE]: { schema: json } },
  };
}

const common: OpenApiOperation['responses'] = {
  403: fault(
    'unauthorizedFault: the X-Api-Signature is missing, malformed, of an unknown user key, wrongly hashed or outside the allowed clock skew; the User-Agent is missing; or `Exceeded request limits` (throttled: back off and retry)',
    ['unauthorizedFault'],
  ),
  406: fault(
    'badRequestFault `Invalid format`: the Accept header names nothing served (always XML)',
    ['badRequestFault'],
    { xmlOnly: true },
  ),
  413: fault('badRequestFault `Request body too large`', ['badRequestFault']),
  415: fault('badRequestFault `Unsupported Content-Type` (send form-urlencoded, JSON or XML)', ['badRequestFault']),
  500: fault('appsFault: an internal error (only through fault injection)', ['appsFault']),
};
const badRequest = fault('badRequestFault: an unreadable body (`Invalid request body`, `Invalid XML body`)', [
  'badRequestFault',
]);
const badOrInvalid = (what: string) =>
  fault(
    `badRequestFault (${what}) or validationFault (a parameter or field of the wrong type); the root element (XML) / the key (JSON) names the fault`,
    ['badRequestFault', 'validationFault'],
  );
const notFound = (what: string) => fault(`itemNotFoundFault: ${what}`, ['itemNotFoundFault']);
const customer = (description: string, headers?: Record<string, unknown>) =>
  body(description, ref('EmailsrvrCustomer'), ref('EmailsrvrCustomer'), headers);

// ---- parameters ----------------------------------------------------------------------------------

const userAgent = {
  name: 'User-Agent',
  in: 'header',
  required: true,
  schema: { type: 'string', minLength: 1 },
  description: 'Required: the signature hashes it (a request without one answers 403 `Missing User-Agent header`).',
};
const accountParam = {
  name: 'accountNumber',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^([0-9]{1,15}|[Mm][Ee])$' },
  description:
    "A customer account number of the authenticated reseller, or `me` (the authenticated account itself). Anything else, another reseller's customer included, answers 404 `Invalid account number`.",
};
const queryParams = Object.entries(IndexQuery.properties).map(([name, s]) => {
  const schema = plain(s as TSchema);
  const description = schema.description;
  delete schema.description;
  return { name, in: 'query', required: false, schema, description };
});

const requestBody = (add: boolean) => ({
  required: add,
  description: `The ${add ? 'new' : 'changed'} fields. Form-urlencoded (most clients), JSON, or XML (any root element, \`customer\` by convention, with \`name\` and \`referenceNumber\` child elements; values are trimmed). Fields other than these are ignored, as the real service ignores them.`,
  content: {
    'application/x-www-form-urlencoded': { schema: ref(add ? 'EmailsrvrCustomerAdd' : 'EmailsrvrCustomerEdit') },
    [JSON_TYPE]: { schema: ref(add ? 'EmailsrvrCustomerAdd' : 'EmailsrvrCustomerEdit') },
    [XML]: { schema: ref(add ? 'EmailsrvrCustomerAddXml' : 'EmailsrvrCustomerEditXml') },
    'application/xml': { schema: ref(add ? 'EmailsrvrCustomerAddXml' : 'EmailsrvrCustomerEditXml') },
  },
});

// ---- operations ----------------------------------------------------------------------------------

interface Ops {
  collection: Record<string, OpenApiOperation>;
  item: Record<string, OpenApiOperation>;
}

function operations(suffix: string): Ops {
  const op = (
    id: string,
    operation: string,
    rest: Omit<OpenApiOperation, 'operationId' | 'x-operation'>,
  ): OpenApiOperation => ({ operationId: `${id}${suffix}`, 'x-operation': operation, tags: ['emailsrvr'], ...rest });
  return {
    collection: {
      get: op('customersIndex', 'customers.index', {
        summary: "Index: the reseller's customers, one page",
        description: `Ordered by name (case-insensitive), then account number. v0 pages by \`page\`, v1 by \`offset\`; both work on every prefix. With \`?referenceNumber=X\` it answers a single \`customer\` document like Show (journaled as operation \`customers.show\`), or 404.`,
        parameters: [userAgent, ...queryParams],
        responses: {
          200: body('The page (or, with ?referenceNumber=, one customer)', ref('EmailsrvrCustomerList'), {
            oneOf: [ref('EmailsrvrCustomerList'), ref('EmailsrvrCustomer')],
          }),
          400: badOrInvalid('an unreadable body'),
          404: notFound('`Invalid account number` (no customer has that ?referenceNumber)'),
          ...common,
        },
      }),
      post: op('customersAdd', 'customers.add', {
        summary: 'Add a customer (sub-account)',
        description:
          'The new account number is the next in sequence. Answers 200 with the new customer and a `Location` header on the path form used.',
        parameters: [userAgent],
        requestBody: requestBody(true),
        responses: {
          200: customer('The new customer', {
            Location: { description: 'Where the new customer is, e.g. /customers/460314', schema: { type: 'string' } },
          }),
          400: badOrInvalid(
            '`Missing required field: name`, `Required field name cannot be empty`, `Improper Customer Name`, an unreadable body',
          ),
          ...common,
        },
      }),
    },
    item: {
      get: op('customersShow', 'customers.show', {
        summary: 'Show one customer, or `me`',
        parameters: [userAgent, accountParam],
        responses: {
          200: customer('The customer'),
          400: badRequest,
          404: notFound('`Invalid account number`'),
          ...common,
        },
      }),
      put: op('customersEdit', 'customers.edit', {
        summary: 'Edit a customer (or `me`): only the fields given change',
        parameters: [userAgent, accountParam],
        requestBody: requestBody(false),
        responses: {
          200: customer('The updated customer'),
          400: badOrInvalid('`Required field name cannot be empty`, `Improper Customer Name`, an unreadable body'),
          404: notFound('`Invalid account number`'),
          ...common,
        },
      }),
      delete: op('customersDelete', 'customers.delete', {
        summary: 'Delete a customer',
        parameters: [userAgent, accountParam],
        responses: {
          200: { description: 'Deleted: empty body' },
          400: fault('badRequestFault: `Cannot delete the authenticated account` (`me`), an unreadable body', [
            'badRequestFault',
          ]),
          404: notFound('`Invalid account number`'),
          ...common,
        },
      }),
    },
  };
}

/** What a request that reaches no operation answers (operation `notFound`). */
const unmatchedResponses: OpenApiOperation['responses'] = {
  400: badRequest,
  404: notFound('`Resource not found`: nothing is served at this path'),
  405: fault('badRequestFault `Method not allowed`', ['badRequestFault'], {
    headers: { Allow: { description: 'The methods the path serves', schema: { type: 'string' } } },
  }),
  ...common,
};
const canonical = operations('');
const v1 = operations('V1');
const bare = operations('Unversioned');

const ALIASES =
  "The same operations are served under `/v0/customers` (canonical), `/v1/customers` and `/customers` (the documentation's Add/Edit/Delete form).";

const paths: OpenApiPaths = {
  '/v0/customers': { description: ALIASES, ...canonical.collection },
  '/v0/customers/{accountNumber}': { description: ALIASES, ...canonical.item },
  '/v1/customers': { description: `v1 form of /v0/customers (pages by offset). ${ALIASES}`, ...v1.collection },
  '/v1/customers/{accountNumber}': { description: `v1 form of /v0/customers/{accountNumber}. ${ALIASES}`, ...v1.item },
  '/customers': { description: `Unversioned form, as the documentation shows Add. ${ALIASES}`, ...bare.collection },
  '/customers/{accountNumber}': {
    description: `Unversioned form, as the documentation shows Edit and Delete. ${ALIASES}`,
    ...bare.item,
  },
};

/** What a request that reaches no operation answers (operation `notFound`). */
const unmatched = {
  notFound: {
    description:
      'A method a path does not serve answers 405 `Method not allowed` with Allow; a deeper path (domains, admins, mailboxes of the real API are not emulated) answers 404 `Resource not found`. The same under `/v1/customers` and `/customers`. Signature checks come first (403).',
    requests: [
      'PUT /v0/customers',
      'DELETE /v0/customers',
      'PATCH /v0/customers',
      'POST /v0/customers/{accountNumber}',
      'PATCH /v0/customers/{accountNumber}',
      'GET /v0/customers/{accountNumber}/{subresource}',
      'POST /v0/customers/{accountNumber}/{subresource}',
      'PUT /v0/customers/{accountNumber}/{subresource}',
      'DELETE /v0/customers/{accountNumber}/{subresource}',
    ],
    responses: unmatchedResponses,
  },
};

// ---- examples --------------------------------------------------------------------------------

/** The sandbox key (README, fixtures/emailsrvr/emailsrvr_api_keys.json). */
export const SANDBOX_KEY = { userKey: 'emailsrvr-sandbox-user-key', secretKey: 'emailsrvr-sandbox-secret-key' };
const EXAMPLE_UA = 'contract-example/1.0';

/** Headers of a signed request, timestamped now (UTC): within the default 24 h skew when it runs. */
function signedHeaders(accept: string, extra: Record<string, string> = {}): Record<string, string> {
  const ts = formatTimestamp(new Date().getTime());
  return {
    'user-agent': EXAMPLE_UA,
    'x-api-signature': signatureHeader(SANDBOX_KEY.userKey, SANDBOX_KEY.secretKey, EXAMPLE_UA, ts),
    accept,
    ...extra,
  };
}

function examples(): ContractExample[] {
  const x = 'text/xml';
  const j = 'application/json';
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const jsonBody = { 'content-type': 'application/json' };
  const xmlBody = { 'content-type': 'text/xml' };
  return [
    // Index
    {
      name: "index v0, XML (the documentation's request)",
      method: 'GET',
      url: '/v0/customers?size=100&page=1',
      headers: signedHeaders(x),
      status: 200,
    },
    {
      name: 'index v1, JSON',
      method: 'GET',
      url: '/v1/customers?offset=0&size=50&contains=API',
      headers: signedHeaders(j),
      status: 200,
    },
    {
      name: 'index by reference number, JSON',
      method: 'GET',
      url: '/customers?referenceNumber=49',
      headers: signedHeaders(j),
      status: 200,
    },
    {
      name: 'index by reference number, XML',
      method: 'GET',
      url: '/customers?referenceNumber=49',
      headers: signedHeaders(x),
      status: 200,
    },
    {
      name: 'index: page 0 is a validationFault, JSON',
      method: 'GET',
      url: '/v0/customers?page=0',
      headers: signedHeaders(j),
      status: 400,
    },
    {
      name: 'index: unknown reference number, XML',
      method: 'GET',
      url: '/v0/customers?referenceNumber=nope',
      headers: signedHeaders(x),
      status: 404,
    },
    {
      name: 'index: no signature, XML',
      method: 'GET',
      url: '/v0/customers',
      headers: { 'user-agent': EXAMPLE_UA, accept: x },
      status: 403,
    },
    {
      name: 'index: wrong hash, JSON',
      method: 'GET',
      url: '/v0/customers',
      headers: {
        ...signedHeaders(j),
        'x-api-signature': `${SANDBOX_KEY.userKey}:${formatTimestamp(new Date().getTime())}:AAAAAAAAAAAAAAAAAAAAAAAAAAA=`,
      },
      status: 403,
    },
    {
      name: 'index: Accept naming nothing served',
      method: 'GET',
      url: '/v0/customers',
      headers: signedHeaders('image/png'),
      status: 406,
    },
    // Show
    { name: 'show, XML', method: 'GET', url: '/v0/customers/460182', headers: signedHeaders(x), status: 200 },
    { name: 'show me, JSON', method: 'GET', url: '/v0/customers/me', headers: signedHeaders(j), status: 200 },
    {
      name: 'show: unknown account, JSON',
      method: 'GET',
      url: '/v0/customers/999999',
      headers: signedHeaders(j),
      status: 404,
    },
    {
      name: "show: another reseller's customer, XML",
      method: 'GET',
      url: '/v1/customers/460101',
      headers: signedHeaders(x),
      status: 404,
    },
    // Add
    {
      name: 'add, form-urlencoded, JSON answer',
      method: 'POST',
      url: '/customers',
      headers: signedHeaders(j, form),
      body: 'name=New%20Customer&referenceNumber=12345',
      status: 200,
    },
    {
      name: 'add, JSON body, XML answer',
      method: 'POST',
      url: '/v0/customers',
      headers: signedHeaders(x, jsonBody),
      body: { name: 'JSON Customer', referenceNumber: 7 },
      status: 200,
    },
    {
      name: 'add, XML body, XML answer',
      method: 'POST',
      url: '/customers',
      headers: signedHeaders(x, xmlBody),
      body: '<customer><name>XML Customer</name><referenceNumber>8</referenceNumber></customer>',
      status: 200,
    },
    {
      name: 'add: missing name, XML',
      method: 'POST',
      url: '/customers',
      headers: signedHeaders(x, form),
      body: 'referenceNumber=1',
      status: 400,
    },
    {
      name: 'add: name not a string, JSON',
      method: 'POST',
      url: '/customers',
      headers: signedHeaders(j, jsonBody),
      body: { name: 5 },
      status: 400,
    },
    {
      name: 'add: improper name, JSON',
      method: 'POST',
      url: '/customers',
      headers: signedHeaders(j, form),
      body: 'name=%20Leading',
      status: 400,
    },
    {
      name: 'add: unsupported content type, XML',
      method: 'POST',
      url: '/customers',
      headers: signedHeaders(x, { 'content-type': 'text/csv' }),
      body: 'name\nx',
      status: 415,
    },
    // Edit
    {
      name: 'edit, form-urlencoded, XML answer',
      method: 'PUT',
      url: '/customers/460182',
      headers: signedHeaders(x, form),
      body: 'name=NewName&referenceNumber=12345',
      status: 200,
    },
    {
      name: 'edit, XML body, JSON answer',
      method: 'PUT',
      url: '/v1/customers/460183',
      headers: signedHeaders(j, xmlBody),
      body: '<customer><referenceNumber>99</referenceNumber></customer>',
      status: 200,
    },
    {
      name: 'edit: unknown account, JSON',
      method: 'PUT',
      url: '/customers/999999',
      headers: signedHeaders(j, jsonBody),
      body: { name: 'x' },
      status: 404,
    },
    {
      name: 'edit: empty name, XML',
      method: 'PUT',
      url: '/customers/460182',
      headers: signedHeaders(x, form),
      body: 'name=',
      status: 400,
    },
    // Delete
    { name: 'delete, XML Accept', method: 'DELETE', url: '/customers/460183', headers: signedHeaders(x), status: 200 },
    {
      name: 'delete, JSON Accept',
      method: 'DELETE',
      url: '/v0/customers/460181',
      headers: signedHeaders(j),
      status: 200,
    },
    {
      name: 'delete: unknown account, XML',
      method: 'DELETE',
      url: '/customers/999999',
      headers: signedHeaders(x),
      status: 404,
    },
    { name: 'delete me, JSON', method: 'DELETE', url: '/customers/me', headers: signedHeaders(j), status: 400 },
    // Unmatched
    {
      name: 'a path not emulated, JSON',
      method: 'GET',
      url: '/v0/customers/460182/domains',
      headers: signedHeaders(j),
      status: 404,
    },
    {
      name: 'a method not served, XML',
      method: 'DELETE',
      url: '/v0/customers',
      headers: signedHeaders(x),
      status: 405,
    },
    {
      name: 'unsigned request to a path not emulated, JSON',
      method: 'GET',
      url: '/customers/1/admins',
      headers: { 'user-agent': EXAMPLE_UA, accept: j },
      status: 403,
    },
  ];
}

export const emailsrvrContract: VendorContract = {
  description:
    'The customers resource of the Rackspace Email & Apps API (v0/v1), in XML (the default; `text/xml` or `application/xml`) and JSON (`application/json`), chosen by Accept. Every request is signed with `X-Api-Signature` and carries a `User-Agent`. Faults are named by their root element (XML) or key (JSON): badRequestFault, validationFault (400), unauthorizedFault (403), itemNotFoundFault (404), appsFault (500). Paging: default size 50, at most 250 (a larger size is served as 250). `--strict` (default) refuses parameters and fields of the wrong type with a 400 validationFault; `--lenient` reads them as best it can and records a warning on the journal entry. Unknown fields and parameters are ignored in both modes, as the real service ignores them, each named in a journal warning (as is a repeated query parameter, read by its first value).',
  paths,
  unmatched,
  components: {
    schemas,
    securitySchemes: {
      EmailsrvrApiSignature: {
        type: 'apiKey',
        in: 'header',
        name: 'X-Api-Signature',
        description:
          "X-Api-Signature: `UserKey:yyyyMMddHHmmss:Base64(SHA1(UserKey + UserAgent + Timestamp + SecretKey))`. The hash is Base64 of the binary SHA-1 digest (28 characters) of the user key, the request's own `User-Agent` header, the timestamp and the secret key, concatenated. The timestamp is read as UTC and may differ from the server clock by `--emailsrvr-skew-seconds` (default 86400) each way. Sandbox: user key `emailsrvr-sandbox-user-key`, secret `emailsrvr-sandbox-secret-key`. Failures answer 403 unauthorizedFault.",
      },
    },
  },
  security: [{ EmailsrvrApiSignature: [] }],
  examples,
};
