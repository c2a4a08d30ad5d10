/**
 * The UniPay Management API contract (OpenAPI 3.1 paths, schemas, security, examples), generated
 * from the schemas the routes validate with (customers.ts: CustomerInputSchema, FindQuerySchema)
 * plus the TypeBox response schemas below, which envelope.ts's output matches (the tests check it,
 * and --validate-responses checks every live answer). The document is served at
 * /_emulator/openapi/mgmt.json.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type {
  ContractExample,
  JsonSchema,
  OpenApiOperation,
  OpenApiPaths,
  VendorContract,
} from '../shared/contract.js';
import {
  CustomerInputSchema,
  DEFAULT_LIMIT,
  FILTERS,
  FindQuerySchema,
  LENGTHS,
  MAX_LIMIT,
  XML_ATTRIBUTE,
} from './customers.js';
import { MGMT_ERRORS, type MgmtErrorCode } from './errors.js';

const BASE = '/api/v01';
const SCHEMES = { basic: 'mgmtBasic' } as const;

/** A reference to another schema of the document. */
const ref = (name: string) => Type.Unsafe<unknown>({ $ref: `#/components/schemas/${name}` });

// ---------------------------------------------------------------------------------------------
// Response schemas (what envelope.ts writes)
// ---------------------------------------------------------------------------------------------

const { code: _code, accountId: _accountId, ...customerFields } = CustomerInputSchema.properties;

/** A stored Customer as answered: the input fields plus `id`, with `code` always present. */
export const CustomerSchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1, readOnly: true, ...XML_ATTRIBUTE, description: 'Assigned by the gateway.' }),
    code: Type.String({
      minLength: 1,
      maxLength: LENGTHS.code,
      ...XML_ATTRIBUTE,
      description: 'The code given on create, or the id as a string.',
    }),
    accountId: Type.Integer({ minimum: 1, ...XML_ATTRIBUTE, description: 'The merchant account.' }),
    ...customerFields,
  },
  {
    additionalProperties: false,
    xml: { name: 'customer' },
    description:
      'A Customer. JSON: every field a property, absent fields left out, `id` and `accountId` numbers. ' +
      'XML: <customer id code accountId> with the other fields as child elements.',
  },
);

/** find in JSON: a bare array (paging in the X-Total-Count / X-Offset / X-Limit headers). */
export const CustomerListSchema = Type.Array(ref('MgmtCustomer'), {
  description:
    'find in JSON: Customer[] as a bare array, in id order; paging travels in the X-Total-Count, X-Offset and X-Limit headers.',
});

/** find in XML: <customers offset limit total> wrapping <customer> elements. */
export const CustomerPageSchema = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, ...XML_ATTRIBUTE }),
    limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, ...XML_ATTRIBUTE }),
    total: Type.Integer({ minimum: 0, ...XML_ATTRIBUTE, description: 'All matches, not just this page.' }),
    customer: Type.Optional(
      Type.Array(ref('MgmtCustomer'), {
        description: 'One <customer> element per match on this page (none when empty).',
      }),
    ),
  },
  {
    additionalProperties: false,
    xml: { name: 'customers' },
    description:
      'find in XML: <customers offset="0" limit="100" total="140"> with one <customer> child per match (an empty page is <customers .../>).',
  },
);

const ERROR_WHEN: Record<MgmtErrorCode, string> = {
  E400: 'Bad input: a field or parameter (named in `field`), an unknown field, `id` given, a wrong type, malformed JSON or XML.',
  E401: 'No, malformed or wrong credentials; not a service user (login not starting with `api-`); a disabled user. Carries WWW-Authenticate.',
  E403: 'Create into a merchant account the service user may not act on (field `accountId`).',
  E404: "Unknown (or another merchant's) customer id, or an unknown path.",
  E405: 'Method not supported by the resource. Carries Allow.',
  E406: 'Accept asks for a format other than JSON or XML; the error itself is JSON.',
  E413: 'Request body over the server limit (--max-body-bytes).',
  E415: 'Request body neither JSON nor XML.',
};

/** The error body of one status: `<response code status field><message>` / `{"response":{...}}`. */
function errorSchema(code: MgmtErrorCode): TSchema {
  return Type.Object(
    {
      code: Type.Literal(code, XML_ATTRIBUTE),
      status: Type.Literal(MGMT_ERRORS[code], XML_ATTRIBUTE),
      field: Type.Optional(
        Type.String({ ...XML_ATTRIBUTE, description: 'The field or parameter at fault, when there is one.' }),
      ),
      message: Type.String({ minLength: 1 }),
    },
    { additionalProperties: false, xml: { name: 'response' }, description: ERROR_WHEN[code] },
  );
}

const errorSchemas: Record<string, JsonSchema> = {};
// E405 answers only requests that reach no operation: its schemas are inline in `unmatched` (a
// component that no operation uses is an unused component).
for (const code of (Object.keys(MGMT_ERRORS) as MgmtErrorCode[]).filter((c) => c !== 'E405')) {
  errorSchemas[`MgmtError${MGMT_ERRORS[code]}`] = errorSchema(code);
  errorSchemas[`MgmtErrorBody${MGMT_ERRORS[code]}`] = Type.Object(
    { response: ref(`MgmtError${MGMT_ERRORS[code]}`) },
    {
      additionalProperties: false,
      description: `JSON error body (${code}).`,
    },
  );
}

export const responseSchemas: Record<string, JsonSchema> = {
  MgmtCustomer: CustomerSchema,
  MgmtCustomerList: CustomerListSchema,
  MgmtCustomerPage: CustomerPageSchema,
  ...errorSchemas,
};

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

const JSON_TYPE = 'application/json';
const XML_TYPE = 'application/xml';

const headerSchemas = {
  wwwAuthenticate: {
    description: 'The Basic challenge.',
    schema: { type: 'string', const: 'Basic realm="UniPay Management API", charset="UTF-8"' },
  },
};

function errorResponse(
  status: number,
  description: string,
  opts: { xml?: boolean; headers?: Record<string, unknown> } = {},
) {
  const content: Record<string, { schema: JsonSchema }> = {
    [JSON_TYPE]: { schema: { $ref: `#/components/schemas/MgmtErrorBody${status}` } },
  };
  if (opts.xml !== false) content[XML_TYPE] = { schema: { $ref: `#/components/schemas/MgmtError${status}` } };
  return { description, ...(opts.headers ? { headers: opts.headers } : {}), content };
}

const common = {
  401: errorResponse(401, 'Authentication failed (checked before anything else but the path and method).', {
    headers: { 'WWW-Authenticate': headerSchemas.wwwAuthenticate },
  }),
  406: errorResponse(406, 'Accept asks for a format the API cannot produce; answered in JSON.', { xml: false }),
};

function customerContent(schema: string): Record<string, { schema: JsonSchema }> {
  return {
    [JSON_TYPE]: { schema: { $ref: `#/components/schemas/${schema}` } },
    [XML_TYPE]: { schema: { $ref: `#/components/schemas/${schema}` } },
  };
}

const FORMATS_NOTE =
  'The answer follows Accept: application/json or text/json -> JSON, application/xml or text/xml -> XML ' +
  '(q-values and wildcards honoured; JSON when Accept is absent or */*); 406 otherwise.';

const create: OpenApiOperation = {
  operationId: 'mgmt.customers.create',
  'x-operation': 'create',
  tags: ['mgmt'],
  summary: 'Create a customer',
  description:
    `Creates a Customer in a merchant account the service user may act on; answers 200 (the doc's "Returns: Customer") with the ` +
    `stored Customer and a Location header. Checks run in this order: credentials, Accept, Content-Type, body, fields (first bad one in the ` +
    `documented field order), merchant account; a refused request changes nothing. ${FORMATS_NOTE} ` +
    'Bodies: application/json (or any +json type), application/xml or text/xml (or any +xml type; XML over 64 KiB or nested deeper than 8 is a 400). ' +
    'An XML body: `<customer accountId="2002" code="ACME-42"><organizationName>Acme Ltd</organizationName></customer>` (an OpenAPI example of an ' +
    'object schema must be that object, which cannot show XML attributes).',
  requestBody: {
    required: true,
    content: {
      [JSON_TYPE]: {
        schema: { $ref: '#/components/schemas/MgmtCustomerInput' },
        example: {
          accountId: 2001,
          firstName: 'Ada',
          lastName: 'Lovelace',
          email: 'ada@example.org',
          countryCode: 'GB',
        },
      },
      [XML_TYPE]: { schema: { $ref: '#/components/schemas/MgmtCustomerInput' } },
      'text/xml': { schema: { $ref: '#/components/schemas/MgmtCustomerInput' } },
    },
  },
  responses: {
    200: {
      description: 'The created Customer.',
      headers: {
        Location: {
          description: 'The new customer: /api/v01/customers/{id}.',
          schema: { type: 'string', pattern: '^/api/v01/customers/[0-9]+$' },
        },
      },
      content: customerContent('MgmtCustomer'),
    },
    400: errorResponse(400, 'A bad field (named in `field`), malformed JSON or XML, or no body.'),
    401: common[401],
    403: errorResponse(
      403,
      'accountId is a merchant account the service user may not act on (or one that does not exist).',
    ),
    406: common[406],
    413: errorResponse(413, 'Body over the server limit (--max-body-bytes, 1 MiB by default).'),
    415: errorResponse(415, 'Body neither JSON nor XML (form-urlencoded, text/plain...).'),
  },
};

function filterDescription(name: string): string {
  if (name === 'offset')
    return 'Index of the first record returned (0 to 2147483647). An offset past the end answers an empty list.';
  if (name === 'limit') return `Records per call, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`;
  if (name === 'accountId')
    return "Only this merchant account; one outside the user's reach matches nothing (never an error).";
  return FILTERS[name] === 'contains'
    ? `Case-insensitive substring ("contains", Unicode case folding); % _ \\ are plain characters. An empty value is ignored.`
    : 'Whole value, case-insensitive. An empty value is ignored.';
}

const find: OpenApiOperation = {
  operationId: 'mgmt.customers.find',
  'x-operation': 'find',
  tags: ['mgmt'],
  summary: 'Find customers',
  description:
    "Customers of the service user's merchant accounts matching every given filter (AND), in id order. " +
    'Unknown parameters are ignored (as a Java service ignores them: cache-busters such as `_=12345` are common) and a repeated one is read ' +
    'by its first value, in both modes, each with a journal warning. ' +
    `Values longer than the field's length are a 400 in both modes. ${FORMATS_NOTE}`,
  parameters: Object.entries(FindQuerySchema.properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    description: filterDescription(name),
    schema,
  })),
  responses: {
    200: {
      description:
        'One page of matches. JSON: a bare array; XML: <customers offset limit total>. The paging headers come with both.',
      headers: {
        'X-Total-Count': { description: 'All matches, not just this page.', schema: { type: 'integer', minimum: 0 } },
        'X-Offset': { description: 'The offset used.', schema: { type: 'integer', minimum: 0 } },
        'X-Limit': { description: 'The limit used.', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT } },
      },
      content: {
        [JSON_TYPE]: { schema: { $ref: '#/components/schemas/MgmtCustomerList' } },
        [XML_TYPE]: { schema: { $ref: '#/components/schemas/MgmtCustomerPage' } },
      },
    },
    400: errorResponse(
      400,
      'A bad parameter (named in `field`): out of range, not an integer, too long, repeated or unknown.',
    ),
    401: common[401],
    406: common[406],
  },
};

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: "The customer id. A non-numeric or unknown id, or another merchant's customer, answers 404 (never 400).",
  schema: { type: 'string', examples: ['1'] },
};

const load: OpenApiOperation = {
  operationId: 'mgmt.customers.load',
  'x-operation': 'load',
  tags: ['mgmt'],
  summary: 'Load a customer',
  description: `One Customer of the service user's merchant accounts. ${FORMATS_NOTE}`,
  parameters: [idParameter],
  responses: {
    200: { description: 'The Customer.', content: customerContent('MgmtCustomer') },
    401: common[401],
    404: errorResponse(404, "No such customer among the user's merchant accounts (field `id`)."),
    406: common[406],
  },
};

/** Requests that reach no operation: not operations of the API, but answered in its error format. */
const unmatched = {
  methodNotAllowed: {
    description:
      'Any method a resource does not support (OPTIONS included) answers 405 with Allow, without credentials, before the body is read. HEAD answers like GET without a body.',
    requests: [
      `POST ${BASE}/customers`,
      `DELETE ${BASE}/customers`,
      `PATCH ${BASE}/customers`,
      `PUT ${BASE}/customers/{id}`,
      `POST ${BASE}/customers/{id}`,
      `DELETE ${BASE}/customers/{id}`,
      `PATCH ${BASE}/customers/{id}`,
    ],
    responses: {
      405: {
        description: 'Method not supported.',
        headers: {
          Allow: {
            description: 'The supported methods: `GET, HEAD, PUT` on /customers, `GET, HEAD` on /customers/{id}.',
            schema: { type: 'string', enum: ['GET, HEAD, PUT', 'GET, HEAD'] },
          },
        },
        content: {
          [JSON_TYPE]: {
            schema: Type.Object(
              { response: errorSchema('E405') },
              { additionalProperties: false, description: 'JSON error body (E405).' },
            ),
          },
          [XML_TYPE]: { schema: errorSchema('E405') },
        },
      },
    },
  },
  notFound: {
    description:
      'Any path under /api/v01 other than /customers and /customers/{id} (at any depth, with any method, e.g. /api/v01/customers/1/cards) ' +
      'answers 404 in the UniPay error body, without credentials.',
    requests: [`GET ${BASE}/{resource}`],
    responses: { 404: errorResponse(404, 'No resource at this path.') },
  },
};

const paths: OpenApiPaths = {
  [`${BASE}/customers`]: {
    description:
      'The customers resource (a trailing slash is accepted too). Allowed: GET (find; HEAD answers like it without a body), PUT (create); other methods answer 405 (see x-unmatched-requests).',
    put: create,
    get: find,
  },
  [`${BASE}/customers/{id}`]: {
    description:
      'One customer (a trailing slash is accepted too). Allowed: GET (load; HEAD answers like it without a body); other methods answer 405 (see x-unmatched-requests).',
    get: load,
  },
};

// ---------------------------------------------------------------------------------------------
// Examples (default fixtures, fresh session each)
// ---------------------------------------------------------------------------------------------

const SANDBOX = 'Basic ' + Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64');
const WRONG = 'Basic ' + Buffer.from('api-sandbox:wrong').toString('base64');
const asJson = { authorization: SANDBOX, accept: JSON_TYPE };
const asXml = { authorization: SANDBOX, accept: XML_TYPE };

function examples(): ContractExample[] {
  const url = `${BASE}/customers`;
  const json = { 'content-type': JSON_TYPE };
  const xml = { 'content-type': XML_TYPE };
  return [
    // create
    {
      name: 'create JSON',
      method: 'PUT',
      url,
      headers: { ...asJson, ...json },
      body: { accountId: 2001, firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.org', countryCode: 'gb' },
      status: 200,
    },
    {
      name: 'create XML',
      method: 'PUT',
      url,
      headers: { ...asXml, ...xml },
      body: '<customer accountId="2002" code="ACME-42"><organizationName>Acme Ltd</organizationName><city>Leeds</city></customer>',
      status: 200,
    },
    {
      name: 'create XML body, JSON answer',
      method: 'PUT',
      url,
      headers: { ...asJson, 'content-type': 'text/xml' },
      body: '<customer accountId="2001"><lastName>Byron</lastName></customer>',
      status: 200,
    },
    {
      name: 'create too long (JSON)',
      method: 'PUT',
      url,
      headers: { ...asJson, ...json },
      body: { accountId: 2001, lastName: 'x'.repeat(126) },
      status: 400,
    },
    {
      name: 'create unknown element (XML)',
      method: 'PUT',
      url,
      headers: { ...asXml, ...xml },
      body: '<customer accountId="2001"><nickname>Al</nickname></customer>',
      status: 400,
    },
    {
      name: 'create malformed JSON',
      method: 'PUT',
      url,
      headers: { ...asJson, ...json },
      body: '{"accountId": 2001,',
      status: 400,
    },
    {
      name: 'create without credentials (JSON)',
      method: 'PUT',
      url,
      headers: { accept: JSON_TYPE, ...json },
      body: { accountId: 2001 },
      status: 401,
    },
    {
      name: 'create wrong password (XML)',
      method: 'PUT',
      url,
      headers: { authorization: WRONG, accept: XML_TYPE, ...xml },
      body: '<customer accountId="2001"/>',
      status: 401,
    },
    {
      name: 'create in another merchant (JSON)',
      method: 'PUT',
      url,
      headers: { ...asJson, ...json },
      body: { accountId: 3001, lastName: 'Nope' },
      status: 403,
    },
    {
      name: 'create in another merchant (XML)',
      method: 'PUT',
      url,
      headers: { ...asXml, ...xml },
      body: '<customer accountId="3001"/>',
      status: 403,
    },
    {
      name: 'create with Accept text/html',
      method: 'PUT',
      url,
      headers: { authorization: SANDBOX, accept: 'text/html', ...json },
      body: { accountId: 2001 },
      status: 406,
    },
    {
      name: 'create too large (JSON)',
      method: 'PUT',
      url,
      headers: { ...asJson, ...json },
      body: { accountId: 2001, lastName: 'x'.repeat(1_100_000) },
      status: 413,
    },
    {
      name: 'create too large (XML)',
      method: 'PUT',
      url,
      headers: { ...asXml, ...xml },
      body: `<customer accountId="2001"><lastName>${'x'.repeat(1_100_000)}</lastName></customer>`,
      status: 413,
    },
    {
      name: 'create form body (JSON)',
      method: 'PUT',
      url,
      headers: { ...asJson, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'accountId=2001',
      status: 415,
    },
    {
      name: 'create text body (XML)',
      method: 'PUT',
      url,
      headers: { ...asXml, 'content-type': 'text/plain' },
      body: 'accountId=2001',
      status: 415,
    },
    // find
    { name: 'find JSON', method: 'GET', url: `${url}?city=york&offset=0&limit=5`, headers: asJson, status: 200 },
    { name: 'find XML', method: 'GET', url: `${url}?countryCode=US&limit=3`, headers: asXml, status: 200 },
    {
      name: 'find XML, empty page',
      method: 'GET',
      url: `${url}?lastName=nobody-has-this-name`,
      headers: asXml,
      status: 200,
    },
    { name: 'find bad limit (JSON)', method: 'GET', url: `${url}?limit=0`, headers: asJson, status: 400 },
    {
      name: 'find unknown parameter ignored (XML)',
      method: 'GET',
      url: `${url}?_=12345&limit=2`,
      headers: asXml,
      status: 200,
    },
    { name: 'find without credentials (XML)', method: 'GET', url, headers: { accept: XML_TYPE }, status: 401 },
    {
      name: 'find with Accept text/csv',
      method: 'GET',
      url,
      headers: { authorization: SANDBOX, accept: 'text/csv' },
      status: 406,
    },
    // load
    { name: 'load JSON', method: 'GET', url: `${url}/1`, headers: asJson, status: 200 },
    { name: 'load XML', method: 'GET', url: `${url}/1`, headers: asXml, status: 200 },
    { name: 'load unknown id (JSON)', method: 'GET', url: `${url}/999999`, headers: asJson, status: 404 },
    { name: "load another merchant's customer (XML)", method: 'GET', url: `${url}/141`, headers: asXml, status: 404 },
    {
      name: 'load without credentials (JSON)',
      method: 'GET',
      url: `${url}/1`,
      headers: { accept: JSON_TYPE },
      status: 401,
    },
    {
      name: 'load with Accept application/pdf',
      method: 'GET',
      url: `${url}/1`,
      headers: { authorization: SANDBOX, accept: 'application/pdf' },
      status: 406,
    },
    // not an operation: 405 and 404
    { name: 'DELETE a customer (JSON)', method: 'DELETE', url: `${url}/1`, headers: asJson, status: 405 },
    {
      name: 'POST customers (XML)',
      method: 'POST',
      url,
      headers: { ...asXml, ...xml },
      body: '<customer accountId="2001"/>',
      status: 405,
    },
    {
      name: 'unknown path (JSON)',
      method: 'GET',
      url: `${BASE}/accounts`,
      headers: { accept: JSON_TYPE },
      status: 404,
    },
    {
      name: 'unknown path (XML)',
      method: 'GET',
      url: `${BASE}/customers/1/cards`,
      headers: { accept: XML_TYPE },
      status: 404,
    },
  ];
}

export const mgmtContract: VendorContract = {
  description:
    'UniPay Management API v01, customers resource (create, find, load), JSON and XML. HTTP Basic with service users (logins ' +
    'starting with `api-`); each user acts on its own merchant accounts only. The real error body is not public: this emulator answers ' +
    '`{"response":{"code","status","message","field"}}` / `<response code status field><message/></response>`. --strict (default) refuses ' +
    'unknown fields, repeated elements, misplaced XML attributes/elements and wrong JSON types; --lenient accepts them (ignored, first ' +
    'taken, coerced) with a journal warning each. Unknown query parameters are ignored and a repeated one read by its first value in both ' +
    'modes, with a journal warning each (a Java service refuses neither). Lengths, formats, ranges and required fields are ' +
    'enforced in both modes (the gateway enforces them).',
  paths,
  unmatched,
  components: {
    schemas: {
      MgmtCustomerInput: CustomerInputSchema,
      ...responseSchemas,
    },
    securitySchemes: {
      [SCHEMES.basic]: {
        type: 'http',
        scheme: 'basic',
        description:
          'HTTP Basic with a service user: the login must start with `api-` (back-office users are refused with 401). ' +
          'Sandbox: api-sandbox / mgmt-sandbox-password (merchant accounts 2001, 2002), api-other / mgmt-other-password (3001).',
      },
    },
  },
  security: [{ [SCHEMES.basic]: [] }],
  examples,
};
