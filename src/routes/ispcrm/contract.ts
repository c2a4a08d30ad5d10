/**
 * NeuCRM's OpenAPI contract, generated from the operation definitions (customers.ts) and the
 * TypeBox schemas their input checks use (schemas.ts): one POST per call, its form and JSON
 * bodies, its 200 answer (the success envelope or the error envelope: NeuCRM answers API errors
 * with HTTP 200) and the transport statuses, all in the same envelope.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import type {
  ContractExample,
  JsonSchema,
  OpenApiOperation,
  OpenApiPaths,
  VendorContract,
} from '../shared/contract.js';
import { operations, type IspcrmOperation } from './customers.js';
import { Customer, ErrorEnvelope, Service } from './schemas.js';

const PREFIX = '/api/customer';
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const MULTIPART_TYPE = 'multipart/form-data';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const schemaName = (op: IspcrmOperation, what: string) =>
  `Ispcrm${op.operationId.replace(/^ispcrmCustomer/, '')}${what}`;

/**
 * The JSON form of a request schema: the same fields, and (as the emulator reads them) a number
 * may come as a JSON number or as a numeric string, a text field as a string or a number.
 */
function jsonVariant(schema: TSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [k, s] of Object.entries(schema.properties as Record<string, TSchema>)) {
    if (s.type === 'integer') properties[k] = { ...s, type: ['integer', 'string'], pattern: '^\\s*[0-9]{1,10}\\s*$' };
    else if (s.type === 'string' && !s.enum) properties[k] = { ...s, type: ['string', 'number'] };
    else properties[k] = s;
  }
  return {
    ...schema,
    properties,
    description:
      'The same fields as a JSON object. Numbers may be JSON numbers or numeric strings; text fields take strings (or numbers). `null` counts as not sent. Unknown fields are ignored.',
  };
}

const CREDENTIALS_NOTE = {
  in: 'body',
  fields: ['userid', 'api_key'],
  description:
    'NeuCRM authenticates every call with the `userid` and `api_key` fields of the request body (form or JSON), checked before any other field. OpenAPI security schemes cannot live in a body, so the operations declare `security: []` and the two fields are required properties of each request body schema.',
};

const envelopeResponse = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { [JSON_TYPE]: { schema: ref('IspcrmError') } },
});

const TRANSPORT = {
  '400': envelopeResponse('Malformed JSON (or an empty JSON body): `Invalid request: ...`'),
  '413': envelopeResponse('Body above --max-body-bytes: `Request body too large. Maximum N bytes allowed`'),
  '415': envelopeResponse(
    'A Content-Type header that is not a media type (`;;;`): `Unsupported Content-Type "..." ...`. A well-formed type NeuCRM does not read (text/plain, XML) is not refused: its fields are absent',
  ),
  '500': envelopeResponse(
    'The service failing (only with the `server_error` fault preset; anything else is an emulator bug)',
  ),
};

function operationDoc(op: IspcrmOperation): OpenApiOperation {
  return {
    operationId: op.operationId,
    'x-operation': op.name,
    summary: op.summary,
    tags: ['ispcrm'],
    security: [],
    'x-ispcrm-credentials': CREDENTIALS_NOTE,
    requestBody: {
      required: true,
      description:
        'Form fields (what `curl -d` or `curl -F` sends) or the same fields as a JSON object; values are trimmed and an empty value counts as not sent. ' +
        'Query-string fields are not read. Form bodies are read as PHP reads $_POST: a field sent twice keeps its last value (with a journal warning), ' +
        '`name[]=` makes a list (refused where one value is expected), file parts are ignored (with a journal warning). Any other body (text/plain, XML) ' +
        'is not read, as PHP does not read it: its fields are absent (so `userid is required`), with a journal warning.',
      content: {
        [FORM_TYPE]: { schema: ref(schemaName(op, 'Request')) },
        [MULTIPART_TYPE]: { schema: ref(schemaName(op, 'Request')) },
        [JSON_TYPE]: { schema: ref(schemaName(op, 'RequestJson')) },
      },
    },
    responses: {
      '200': {
        description:
          'HTTP 200 for success AND for every API-level error (credentials, fields, scope, not found): read `error`',
        content: { [JSON_TYPE]: { schema: { oneOf: [ref(schemaName(op, 'Result')), ref('IspcrmError')] } } },
      },
      '405': envelopeResponse(
        `Any method but POST on ${PREFIX}${op.path}: \`Method GET not allowed. Use POST ${PREFIX}${op.path}\``,
        {
          Allow: { description: 'Always `POST`', schema: { type: 'string', const: 'POST' } },
        },
      ),
      ...TRANSPORT,
    },
  };
}

function buildPaths(): OpenApiPaths {
  const paths: OpenApiPaths = {};
  for (const op of operations) {
    paths[`${PREFIX}${op.path}`] = {
      description: `Also answered with a trailing slash (${PREFIX}${op.path}/).`,
      post: operationDoc(op),
    };
  }
  return paths;
}

/** Any other path under the prefix, with any method: 404 in the envelope (not an operation). */
const unmatched = {
  notFound: {
    description:
      `Any other path under ${PREFIX} (including ${PREFIX} itself and deeper paths), with any method: 404 in the envelope, ` +
      '`Unknown API method /api/customer/x. Available: /api/customer/list, /api/customer/create, /api/customer/update, /api/customer/delete`.',
    requests: [`POST ${PREFIX}/{method}`, `GET ${PREFIX}/{method}`],
    responses: {
      '404': envelopeResponse('`Unknown API method ...`'),
      '400': TRANSPORT['400'],
      '413': TRANSPORT['413'],
      '415': TRANSPORT['415'],
    },
  },
};

function buildSchemas(): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {
    IspcrmCustomer: Customer,
    IspcrmService: Service,
    IspcrmError: ErrorEnvelope,
  };
  for (const op of operations) {
    schemas[schemaName(op, 'Request')] = op.request;
    schemas[schemaName(op, 'RequestJson')] = jsonVariant(op.request);
    schemas[schemaName(op, 'Result')] = op.result;
  }
  return schemas;
}

// ---- examples (default fixtures, fresh session) -----------------------------------------------

const SANDBOX = { userid: '5', api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4' };
const ISP_USER = { userid: '1', api_key: 'fc83e88dbada5d00dd34727d2ae2db1d951ddd72f43fb38d9f' };
const NEW_CUSTOMER = {
  type: 'Individual',
  name: 'Some Name',
  mobile: '12344444',
  email: 'abc@email.com',
  zipcode: '12345',
  state: 'Goa',
  city: 'Panaji',
  street: '3rd street',
};

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM_HEADERS = { 'content-type': FORM_TYPE };
const JSON_HEADERS = { 'content-type': JSON_TYPE };

function examples(): ContractExample[] {
  const post = (name: string, path: string, fields: Record<string, string>, status = 200): ContractExample => ({
    name,
    method: 'POST',
    url: `${PREFIX}${path}`,
    headers: FORM_HEADERS,
    body: form(fields),
    status,
  });
  const postJson = (name: string, path: string, body: Record<string, unknown>, status = 200): ContractExample => ({
    name,
    method: 'POST',
    url: `${PREFIX}${path}`,
    headers: JSON_HEADERS,
    body,
    status,
  });
  return [
    // list
    post('list (form)', '/list', SANDBOX),
    post('list count (form)', '/list', { ...SANDBOX, show_count: '1', city: 'Panaji' }),
    postJson('list (JSON, numbers as numbers)', '/list', {
      userid: 5,
      api_key: SANDBOX.api_key,
      rows_limit: 3,
      sort_field: 'name',
      sort_order: 'desc',
    }),
    post('list: wrong api_key', '/list', { userid: '5', api_key: 'x'.repeat(50) }),
    postJson('list: invalid sort_order', '/list', { ...SANDBOX, sort_order: 'DESC' }),
    // create
    post('create (form, the doc example)', '/create', { ...SANDBOX, resellerid: '1', ...NEW_CUSTOMER }),
    postJson('create (JSON)', '/create', { ...ISP_USER, resellerid: 2, ...NEW_CUSTOMER }),
    post('create: missing name', '/create', { ...SANDBOX, ...NEW_CUSTOMER, name: '' }),
    postJson('create: ISP user without resellerid', '/create', { ...ISP_USER, ...NEW_CUSTOMER }),
    // update
    post('update (form)', '/update', { ...SANDBOX, customerid: '1093', street: '2nd street' }),
    postJson('update (JSON, reset_password)', '/update', {
      ...SANDBOX,
      customerid: 1094,
      reset_password: 'Y',
      notes: '',
    }),
    post('update: customer not found', '/update', { ...SANDBOX, customerid: '1243', street: '2nd street' }),
    postJson('update: invalid dob', '/update', { ...SANDBOX, customerid: 1093, dob: '2024-02-30' }),
    // delete
    post('delete (form, a fresh customer)', '/delete', { ...SANDBOX, customerid: String(deletable()) }),
    postJson("delete: another tenant's customer", '/delete', { ...SANDBOX, customerid: 1223 }),
    post('delete: no credentials', '/delete', { customerid: '1093' }),
    // transport
    { name: 'list: GET is 405', method: 'GET', url: `${PREFIX}/list`, status: 405 },
    {
      name: 'create: malformed JSON is 400',
      method: 'POST',
      url: `${PREFIX}/create`,
      headers: JSON_HEADERS,
      body: '{"userid": 5,',
      status: 400,
    },
    {
      name: 'update: an XML body is not read (userid is required)',
      method: 'POST',
      url: `${PREFIX}/update`,
      headers: { 'content-type': 'application/xml' },
      body: '<userid>5</userid>',
      status: 200,
    },
    post('unknown method is 404', '/show', SANDBOX, 404),
  ];
}

/** A reseller-1 fixture customer without Active services (so delete succeeds), read from the fixtures. */
function deletable(): number {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/ispcrm');
  const read = <T>(t: string): T[] => JSON.parse(fs.readFileSync(path.join(dir, `${t}.json`), 'utf8')) as T[];
  const customers = read<{ id: number; resellerid: number }>('ispcrm_customers');
  const services = read<{ customerid: number; status: string }>('ispcrm_services');
  const c = customers.find(
    (x) => x.resellerid === 1 && !services.some((s) => s.customerid === x.id && s.status === 'Active'),
  );
  if (!c) throw new Error('ispcrm fixtures: no reseller-1 customer without an Active service');
  return c.id;
}

export const ispcrmContract: VendorContract = {
  description:
    'NeuCRM customers: four POST calls under /api/customer taking form fields (or JSON). Every answer is the envelope ' +
    '`{"result": ..., "error": null}` / `{"result": null, "error": "..."}`; API-level errors answer HTTP 200 (so each 200 ' +
    'is a oneOf of the success and error envelopes), transport failures 400/404/405/413/415 in the same envelope. ' +
    'Credentials are the `userid` + `api_key` body fields (see `x-ispcrm-credentials`). Strict (default) refuses what ' +
    'NeuCRM refuses; --lenient also accepts enum values in another case, yyyy/m/d dates, a list where one value is expected ' +
    '(the last) and unreadable paging/sort values (the default), recording a warning for each. In both modes, as PHP does, a form ' +
    'field sent twice keeps its last value and unknown fields are ignored, each with a journal warning.',
  paths: buildPaths(),
  unmatched,
  components: { schemas: buildSchemas() },
  examples,
};
