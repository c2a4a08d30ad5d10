/**
 * The RackCorp OpenAPI contract, generated from the operation table: each operation's TypeBox
 * `input` (the schema its requests are validated with) gives the parameters and request bodies,
 * its `output` the OK body; the FAULT body is the envelope's. Three kinds of operations:
 *
 *   - every operation at its REST path below /api/rest/v2.9 (`x-operation: <cmd>`, the name the
 *     plugin sets on the request, so --validate-responses checks it against these responses);
 *   - the json.php dispatcher: `GET /api/rest/v2.9/json.php?cmd=...` and `POST` with a body
 *     discriminated on `cmd` (one schema per cmd). Its `x-operation` is `json.php`, not a cmd: a
 *     request that names a cmd is recorded (and checked) under the cmd, whose REST operation above
 *     documents the precise response; `json.php` itself only answers FAULTs of its own (no cmd,
 *     unknown cmd, a body that is not JSON). `x-commands` lists the cmds;
 *   - `/api/rest/v2.9/{unknownPath}`: any other path answers a FAULT (`x-operation: unknown-path`).
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import type {
  ContractExample,
  JsonSchema,
  OpenApiOperation,
  OpenApiPaths,
  VendorContract,
} from '../shared/contract.js';
import type { RackcorpOperation } from './operation.js';

export const JSON_PHP_OPERATION = 'json.php';
export const UNKNOWN_PATH_OPERATION = 'unknown-path';

const BASE = '/api/rest/v2.9';
const SANDBOX = { uuid: '11111111-2222-4333-8444-555555555555', secret: 'rackcorp-sandbox-secret' };
const LOGIN = { username: 'sandbox@example.com', password: 'rackcorp-sandbox-password' };
const BASIC = { authorization: `Basic ${Buffer.from(`${SANDBOX.uuid}:${SANDBOX.secret}`).toString('base64')}` };
const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
/** A plain JSON copy of a TypeBox schema (drops TypeBox's symbols). */
const plain = (s: TSchema | JsonSchema): JsonSchema => JSON.parse(JSON.stringify(s)) as JsonSchema;
/** `customer.getall.min` -> `RackcorpCustomerGetallMin`. */
export const schemaName = (cmd: string) =>
  `Rackcorp${cmd
    .split(/[._-]/)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('')}`;

const FAULT: JsonSchema = {
  type: 'object',
  description:
    'Every refusal. HTTP 200 (clients read `code` first); 413 for an oversized body, 500 for an internal error.',
  required: ['code', 'message', 'fault'],
  additionalProperties: false,
  properties: {
    code: { const: 'FAULT' },
    message: { type: 'string', examples: ['Customer not found or permission denied'] },
    error: {
      type: 'object',
      description: 'One message per bad field (absent for authentication failures)',
      additionalProperties: { type: 'string' },
    },
    fault: {
      type: 'object',
      required: ['faultcode', 'faultstring'],
      additionalProperties: false,
      description:
        'For the older official CLI: faultcode Client (bad input), Auth (authentication), Server (server faults); faultstring = message',
      properties: { faultcode: { enum: ['Client', 'Server', 'Auth'] }, faultstring: { type: 'string' } },
    },
  },
  // The kinds of refusal a client has to handle, tried in order (the coverage report names each;
  // a FAULT matching none is `other`).
  'x-outcomes': [
    {
      name: 'auth',
      description: 'Authentication failed (faultcode Auth)',
      when: { required: ['fault'], properties: { fault: { properties: { faultcode: { const: 'Auth' } } } } },
    },
    {
      name: 'not-found',
      description: 'Customer or promo code not found or not visible',
      when: { properties: { message: { pattern: 'not found' } } },
    },
    {
      name: 'validation',
      description: 'A bad field or parameter, named in `error` (faultcode Client)',
      when: { required: ['error'], properties: { fault: { properties: { faultcode: { const: 'Client' } } } } },
    },
  ],
};

const CREDENTIAL_FIELDS: Record<string, JsonSchema> = {
  APIUUID: {
    type: 'string',
    description:
      'API key id (with APISECRET): credentials in the body, an alternative to the headers, Basic, Bearer or the cookie',
  },
  APISECRET: { type: 'string', description: 'API key secret (with APIUUID)' },
};

const SECURITY_SCHEMES: Record<string, Record<string, unknown>> = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The JWT answered by session.login (`token` / `sessionId`), HS256, expires after --jwt-ttl seconds.',
  },
  cookieAuth: {
    type: 'apiKey',
    in: 'cookie',
    name: 'JWTSESSIONID',
    description: 'The cookie session.login sets (the same JWT).',
  },
  basicAuth: { type: 'http', scheme: 'basic', description: 'The API key pair as uuid:secret.' },
  apiUuidHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'APIUUID',
    description:
      'API key id; with APISECRET. The pair is also accepted as `APIUUID`/`APISECRET` fields of a JSON or form body (see the request bodies), which OpenAPI cannot express as a security scheme.',
  },
  apiSecretHeader: { type: 'apiKey', in: 'header', name: 'APISECRET', description: 'API key secret; with APIUUID.' },
  apiUuidQuery: {
    type: 'apiKey',
    in: 'query',
    name: 'APIUUID',
    description: 'API key id as a query parameter (GET and json.php); with APISECRET. Also accepted as a body field.',
  },
  apiSecretQuery: {
    type: 'apiKey',
    in: 'query',
    name: 'APISECRET',
    description: 'API key secret as a query parameter; with APIUUID.',
  },
};
const SECURITY: Record<string, string[]>[] = [
  { bearerAuth: [] },
  { cookieAuth: [] },
  { basicAuth: [] },
  { apiUuidHeader: [], apiSecretHeader: [] },
  { apiUuidQuery: [], apiSecretQuery: [] },
];

const ALIASES =
  'Also reached at `/api/v2.9/...` (without `rest/`) and with any version segment `v<major>[.<minor>]` ' +
  '(`/api/rest/v1/...`, `/api/v1.2/...`, `/api/rest/v2.8/...`; not `v01`, which is the UniPay Management API), and through ' +
  '`json.php` with `cmd=<x-operation>`.';

const errorResponses = {
  413: {
    description: 'The body is larger than --max-body-bytes (FAULT body)',
    content: { 'application/json': { schema: ref('RackcorpFault') } },
  },
  500: {
    description: 'An internal error (FAULT body, faultcode Server)',
    content: { 'application/json': { schema: ref('RackcorpFault') } },
  },
};

/** How the PHP service reads text input ($_GET, $_POST): said on every operation that takes it. */
const PHP_FIELDS =
  'The query string and form bodies (url-encoded or multipart) are read as PHP reads them: bracket notation builds lists and ' +
  'objects (`locations[0][suburb]=Sydney`, `tags[]=a`), a field sent twice keeps its last value (with a journal warning), a file part ' +
  'is ignored (with a journal warning); at most 1000 fields and 64 levels of brackets.';

function okSchema(op: RackcorpOperation): JsonSchema {
  const out = plain(op.output);
  return {
    type: 'object',
    description: `${op.cmd}: the OK envelope`,
    required: ['code', ...((out.required as string[] | undefined) ?? [])],
    additionalProperties: false,
    properties: { code: { const: 'OK' }, ...(out.properties as Record<string, JsonSchema>) },
  };
}

/** The body of a REST call (input minus path parameters, plus the credential fields). */
function bodySchema(input: TObject, omit: string[], extra: Record<string, JsonSchema> = {}): JsonSchema {
  const s = plain(input);
  const props = { ...(s.properties as Record<string, JsonSchema>) };
  for (const k of omit) delete props[k];
  const required = ((s.required as string[] | undefined) ?? []).filter((k) => !omit.includes(k));
  return {
    type: 'object',
    description: 'Unknown fields are ignored (as the PHP service does), each named in a journal warning.',
    ...(required.length ? { required } : {}),
    properties: { ...extra, ...props, ...CREDENTIAL_FIELDS },
  };
}

function restOperation(op: RackcorpOperation, method: string, path: string, n: number): OpenApiOperation {
  const input = plain(op.input);
  const props = (input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input.required as string[] | undefined) ?? []);
  const pathParams = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
  const parameters: Record<string, unknown>[] = pathParams.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: props[name] ?? { type: 'string' },
  }));
  const o: OpenApiOperation = {
    operationId: `rackcorp.${op.cmd}${n > 0 ? `.${n + 1}` : ''}`,
    'x-operation': op.cmd,
    summary: op.summary,
    tags: ['rackcorp'],
    responses: {
      200: {
        description: 'OK envelope or FAULT (refusals answer HTTP 200)',
        ...(op.cmd === 'session.login'
          ? {
              headers: {
                'Set-Cookie': {
                  description: '`JWTSESSIONID=<token>; Path=/; HttpOnly; SameSite=Lax`',
                  schema: { type: 'string' },
                },
              },
            }
          : {}),
        content: { 'application/json': { schema: { oneOf: [ref(`${schemaName(op.cmd)}Ok`), ref('RackcorpFault')] } } },
      },
      ...errorResponses,
    },
  };
  if (method === 'GET' || method === 'DELETE') {
    for (const [name, schema] of Object.entries(props)) {
      if (pathParams.includes(name)) continue;
      parameters.push({ name, in: 'query', required: required.has(name), schema });
    }
    o.description = 'Parameters are query parameters (text, coerced to their types).';
  } else {
    const body = bodySchema(op.input, pathParams);
    const required = Array.isArray(body.required) ? (body.required as string[]) : [];
    o.requestBody = {
      required: required.length > 0,
      content: {
        'application/json': { schema: body },
        'application/x-www-form-urlencoded': { schema: body },
        'multipart/form-data': { schema: body },
      },
    };
    o.description =
      'Query parameters are read too; a field given in both must have the same value (else a FAULT naming it). ' +
      'JSON bodies are also accepted with `text/plain` or no content type. ' +
      PHP_FIELDS;
  }
  if (parameters.length) o.parameters = parameters;
  if (op.public) o.security = [];
  return o;
}

function jsonPhp(ops: RackcorpOperation[]): OpenApiPaths[string] {
  const cmds = ops.map((o) => o.cmd);
  const mapping = Object.fromEntries(cmds.map((c) => [c, `#/components/schemas/${schemaName(c)}Request`]));
  const answers = {
    200: {
      description:
        "The cmd's OK envelope (documented precisely by the cmd's REST operation, whose x-operation is the cmd) or a FAULT",
      content: {
        'application/json': {
          schema: { anyOf: [...cmds.map((c) => ref(`${schemaName(c)}Ok`)), ref('RackcorpFault')] },
        },
      },
    },
    ...errorResponses,
  };
  const common = {
    tags: ['rackcorp'],
    'x-operation': JSON_PHP_OPERATION,
    'x-commands': cmds,
    description:
      'One operation per `cmd`. A request naming a known cmd runs that operation (recorded under the cmd, answered as its ' +
      'REST operation documents); `x-operation: json.php` covers the FAULTs of the dispatcher itself: no cmd, an unknown cmd, a body ' +
      'that is not JSON. session.login needs no credentials; every other cmd needs one of the security schemes or APIUUID/APISECRET fields. ' +
      'Path parameters of the REST form (`id`, `customerId`) are ordinary fields here.',
  };
  return {
    description: `The legacy dispatcher. ${ALIASES.replace(', and through `json.php` with `cmd=<x-operation>`', '')}`,
    get: {
      ...common,
      operationId: 'rackcorp.json.php.get',
      summary: 'json.php dispatcher: cmd and its fields as query parameters',
      parameters: [
        { name: 'cmd', in: 'query', required: true, schema: { type: 'string', enum: cmds } },
        {
          name: 'fields',
          in: 'query',
          style: 'form',
          explode: true,
          description:
            "The cmd's fields, each as its own query parameter (text, coerced): see `<cmd>Request` in components (e.g. `?cmd=customer.get&id=123`). " +
            PHP_FIELDS,
          schema: { type: 'object', additionalProperties: true },
        },
      ],
      responses: answers,
    },
    post: {
      ...common,
      operationId: 'rackcorp.json.php.post',
      summary: 'json.php dispatcher: a JSON (or form) body discriminated on cmd',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              oneOf: cmds.map((c) => ref(`${schemaName(c)}Request`)),
              discriminator: { propertyName: 'cmd', mapping },
            },
          },
          'application/x-www-form-urlencoded': {
            schema: {
              oneOf: cmds.map((c) => ref(`${schemaName(c)}Request`)),
              discriminator: { propertyName: 'cmd', mapping },
            },
          },
          'multipart/form-data': {
            schema: {
              oneOf: cmds.map((c) => ref(`${schemaName(c)}Request`)),
              discriminator: { propertyName: 'cmd', mapping },
            },
          },
        },
      },
      responses: answers,
    },
  };
}

function unknownPath(): OpenApiPaths[string] {
  const item: OpenApiPaths[string] = {
    description:
      'Any path below the base that names no operation (at any depth: a path template matches one segment, this one stands for all) answers a FAULT with HTTP 200, as does a known path with a method it does not serve.',
  };
  for (const m of ['get', 'post', 'put', 'delete', 'patch'] as const) {
    item[m] = {
      operationId: `rackcorp.unknown-path.${m}`,
      'x-operation': UNKNOWN_PATH_OPERATION,
      summary: 'No such API path: FAULT',
      tags: ['rackcorp'],
      parameters: [{ name: 'unknownPath', in: 'path', required: true, schema: { type: 'string' } }],
      security: [],
      responses: {
        200: {
          description: 'FAULT `Unknown API path: <METHOD> <path>`',
          content: { 'application/json': { schema: ref('RackcorpFault') } },
        },
        ...errorResponses,
      },
    };
  }
  return item;
}

export function rackcorpContract(ops: RackcorpOperation[]): VendorContract {
  const paths: OpenApiPaths = {};
  const schemas: Record<string, JsonSchema> = { RackcorpFault: FAULT };
  for (const op of ops) {
    schemas[`${schemaName(op.cmd)}Ok`] = okSchema(op);
    const req = bodySchema(op.input, [], { cmd: { const: op.cmd } });
    schemas[`${schemaName(op.cmd)}Request`] = {
      ...req,
      description: `json.php ${op.cmd}. ${req.description as string}`,
      required: ['cmd', ...((req.required as string[] | undefined) ?? [])],
    };
    op.rest.forEach((r, n) => {
      const key = BASE + r.path.replace(/:(\w+)/g, '{$1}');
      const item = (paths[key] ??= { description: ALIASES });
      const m = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'patch';
      if (item[m]) throw new Error(`RackCorp contract: ${r.method} ${key} twice`);
      item[m] = restOperation(op, r.method, r.path, n);
    });
  }
  paths[`${BASE}/json.php`] = jsonPhp(ops);
  paths[`${BASE}/{unknownPath}`] = unknownPath();
  return {
    description:
      'RackCorp REST API v2.9, customers and billing. Every answer is JSON: `{"code":"OK",...}` or the FAULT ' +
      '`{"code":"FAULT","message","error":{field:why},"fault":{faultcode,faultstring}}`, both HTTP 200 (413 for an oversized body, 500 internal). ' +
      'Each operation is documented at its REST path (any version segment and `/api/<ver>/` reach it too) and through the json.php ' +
      'dispatcher (a body discriminated on `cmd`). Unknown fields are ignored in both --strict and --lenient modes, each named in a journal warning; --strict refuses ' +
      'JSON values of the wrong type (numbers may be sent as numeric strings and strings as numbers, as the PHP service reads them); ' +
      '--lenient coerces what it can (true/null for a number or string, "yes"/"no" for a flag) and records a warning.',
    paths,
    components: { schemas, securitySchemes: SECURITY_SCHEMES },
    security: SECURITY,
    examples: rackcorpExamples,
  };
}

const location = {
  typeOfAddress: 'primary',
  addressLine1: '1 Example St',
  suburb: 'Sydney',
  state: 'NSW',
  postcode: '2000',
  country: 'AU',
};
const contact = {
  typeOfContact: 'administrative',
  name: 'Ada Example',
  email: 'ada@example.com',
  phoneNumber: '+61 2 0000 0000',
};

function rackcorpExamples(): ContractExample[] {
  const get = (name: string, path: string, status = 200, headers: Record<string, string> = BASIC): ContractExample => ({
    name,
    method: 'GET',
    url: BASE + path,
    headers,
    status,
  });
  const send = (
    name: string,
    method: 'POST' | 'PUT',
    path: string,
    body: Record<string, unknown> | string,
    headers: Record<string, string> = { ...BASIC, ...JSON_TYPE },
    status = 200,
  ): ContractExample => ({ name, method, url: BASE + path, headers, body, status });
  return [
    send('login', 'POST', '/session/login', { ...LOGIN, jwt: 1 }, JSON_TYPE),
    send(
      'login, wrong password (auth FAULT)',
      'POST',
      '/session/login',
      { ...LOGIN, password: 'nope', jwt: 1 },
      JSON_TYPE,
    ),
    send(
      'login, form body',
      'POST',
      '/session/login',
      `username=${encodeURIComponent(LOGIN.username)}&password=${LOGIN.password}&jwt=1`,
      FORM_TYPE,
    ),
    get('customer.get', '/customers/123'),
    { name: 'customer.get at /api/v2.9', method: 'GET', url: '/api/v2.9/customers/123', headers: BASIC, status: 200 },
    get('customer.get, not visible (not found FAULT)', '/customers/999999'),
    get('customer.get, no credentials (auth FAULT)', '/customers/123', 200, {}),
    get('customer.get, API key headers', '/customers/123', 200, { APIUUID: SANDBOX.uuid, APISECRET: SANDBOX.secret }),
    get(
      'customer.get, API key in the query',
      `/customers/123?APIUUID=${SANDBOX.uuid}&APISECRET=${SANDBOX.secret}`,
      200,
      {},
    ),
    get('customer.get, id not a number (validation FAULT)', '/customers/abc'),
    get('customer.getall', '/customers?keyword=Example&resWindow=5'),
    get('customer.getall minimal', '/customers?minimal=1'),
    get('customer.getall.min', '/customers/min'),
    get('customer.partner.check', '/customer/partner?CODE=PARTNER123'),
    get('customer.partner.check, bad code (FAULT)', '/customer/partner?CODE=NOPE'),
    get('customer.reseller.get', '/customers/reseller'),
    send('customer.create', 'POST', '/customers', {
      companyName: 'Contract Pty Ltd',
      locations: [location],
      contacts: [contact],
    }),
    send('customer.create, no locations (validation FAULT)', 'POST', '/customers', {
      companyName: 'Contract Pty Ltd',
      contacts: [contact],
    }),
    send('customer.create, body not JSON (FAULT)', 'POST', '/customers', '{oops'),
    send('customer.signup', 'POST', '/customers/signup', {
      firstName: 'Ada',
      lastName: 'Example',
      userLogin: 'ada.contract@example.com',
      userPassword: 'pw-12345',
      locations: [location],
      contacts: [contact],
    }),
    send('customer.reseller.create', 'POST', '/customers/reseller', {
      customerid: 123,
      name: 'Portal',
      url: 'https://portal.example.com',
    }),
    send('customer.contact.send', 'POST', '/customers/123/contact', {
      companyname: 'Example',
      name: 'Ada',
      email: 'ada@example.com',
      message: 'Hello',
    }),
    send('customer.update', 'PUT', '/customers/123', { companyName: 'Renamed Pty Ltd' }),
    send('customer.update, form body', 'PUT', '/customers/123', 'companyName=Renamed&status=ACTIVE', {
      ...BASIC,
      ...FORM_TYPE,
    }),
    get('billing.currency.get', '/billing/currencies'),
    get('pricing.get', '/billing/pricing?customerId=123'),
    get('billing.pricing.getall', '/billing/123'),
    get('billing.pricing.options', '/billing/options'),
    get('billing.pricing.options (second path)', '/billing/pricing/options'),
    get('billing.statistics.get', '/billing/statistics'),
    get('billing.history.get', '/billing/history?resStart=0&resWindow=5'),
    get('billing.quotes.get', '/billing/quotes'),
    get('billing.promo.validate', '/billing/promocode/validate?promocode=PROMO123'),
    get('billing.promo.validate, unknown code (FAULT)', '/billing/promocode/validate?promocode=NOSUCHCODE'),
    get('billing.promo.getall', '/billing/promocode'),
    send('billing.promo.create', 'POST', '/billing/promocode', {
      code: 'CONTRACT10',
      discount: 10,
      type: 'PERCENTAGE',
    }),
    send('billing.promo.update', 'PUT', '/billing/promocode/1', { description: 'Updated by the contract test' }),
    send('billing.promo.addcode', 'POST', '/billing/promocode/add', { promocode: 'PROMO123', customerid: 123 }),
    get('billing.promo.types', '/billing/promo/types'),
    get('billing.service.promo', '/billing/service/promo'),
    get('billing.services.get', '/billing/services?resWindow=5'),
    get(
      'billing.usage.get (billing, customer_resource, costs, contracts)',
      '/billing/usage?type=billing&summary=customer_resource&time_start=2024-01-01&time_finish=2024-01-31&customerid=123&costs=1&contracts=1',
    ),
    get(
      'billing.usage.get (usage, services)',
      '/billing/usage?type=usage&summary=services&time_start=2024-01-01&time_finish=2024-01-31',
    ),
    get(
      'billing.usage.get, bad date (validation FAULT)',
      '/billing/usage?type=usage&summary=services&time_start=2024-02-30&time_finish=2024-03-01',
    ),
    get('json.php GET customer.get', '/json.php?cmd=customer.get&id=123'),
    send(
      'json.php POST billing.promo.types',
      'POST',
      '/json.php',
      { cmd: 'billing.promo.types', APIUUID: SANDBOX.uuid, APISECRET: SANDBOX.secret },
      JSON_TYPE,
    ),
    send('json.php POST session.login', 'POST', '/json.php', { cmd: 'session.login', ...LOGIN, jwt: 1 }, JSON_TYPE),
    send('json.php POST without cmd (FAULT)', 'POST', '/json.php', { id: 123 }),
    get('json.php GET unknown cmd (FAULT)', '/json.php?cmd=customer.nope'),
    send('json.php POST body not JSON (FAULT)', 'POST', '/json.php', 'not json'),
    send(
      'json.php POST oversized body (413 FAULT)',
      'POST',
      '/json.php',
      JSON.stringify({ cmd: 'billing.promo.types', pad: 'x'.repeat(1_100_000) }),
      { ...BASIC, ...JSON_TYPE },
      413,
    ),
    get('unknown path (FAULT)', '/nothing/here'),
    {
      name: 'unknown path, POST (FAULT)',
      method: 'POST',
      url: `${BASE}/nope`,
      headers: JSON_TYPE,
      body: {},
      status: 200,
    },
  ];
}
