/**
 * UniPay wire format, the only place that knows it: Customer and Customer[] in JSON and XML, the
 * error body in both, the XML request body turned into the plain Customer shape, and the choice of
 * format by Accept. See the README section `## UniPay Management API` for examples of each.
 */
import { buildXml } from '../shared/xml.js';
import { mediaType, negotiate } from '../shared/negotiate.js';
import type { MgmtCustomer } from '../../store/mgmt.js';
import {
  ATTRIBUTE_FIELDS,
  CUSTOMER_FIELDS,
  STRICT,
  deviation,
  type CustomerList,
  type InputMode,
  type OperationResult,
} from './customers.js';
import { MgmtError, fieldError, type MgmtErrorCode } from './errors.js';
import type { FastifyRequest } from 'fastify';
import type { Failure, FailureKind } from '../shared/errors.js';

export type Format = 'json' | 'xml';

export type { WireAnswer } from '../shared/errors.js';
import type { WireAnswer } from '../shared/errors.js';

const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
};

const ACCEPT_OFFERS: Record<string, Format> = {
  'application/json': 'json',
  'text/json': 'json',
  'application/xml': 'xml',
  'text/xml': 'xml',
};

/** The format an Accept header asks for: JSON when absent or `*\/*`, null when none can be served (406). */
export function formatFor(accept: string | undefined): Format | null {
  return negotiate(accept, ACCEPT_OFFERS, 'json');
}

/** Whether a Content-Type is one the API consumes (JSON or XML). */
export function bodyFormatOf(contentType: string | undefined): Format | null {
  if (!contentType) return null;
  const type = mediaType(contentType);
  if (type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)) return 'json';
  if (/^(text|application)\/([\w.+-]+\+)?xml$/.test(type)) return 'xml';
  return null;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const xml = (doc: unknown) => XML_DECLARATION + buildXml(doc, { suppressEmptyNode: true });

/** JSON form: every field as a property, absent ones left out; id and accountId are numbers. */
export function customerJson(c: MgmtCustomer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of CUSTOMER_FIELDS) {
    const v = c[f];
    if (v !== null && v !== undefined) out[f] = v;
  }
  return out;
}

/** XML form: id, code and accountId as attributes of <customer>, the others child elements. */
function customerXmlNode(c: MgmtCustomer): Record<string, unknown> {
  const node: Record<string, unknown> = {};
  for (const f of CUSTOMER_FIELDS) {
    const v = c[f];
    if (v === null || v === undefined) continue;
    if ((ATTRIBUTE_FIELDS as readonly string[]).includes(f)) node[`@_${f}`] = String(v);
    else node[f] = v;
  }
  return node;
}

function listHeaders(list: CustomerList): Record<string, string> {
  return { 'X-Total-Count': String(list.total), 'X-Offset': String(list.offset), 'X-Limit': String(list.limit) };
}

export function renderResult(
  result: OperationResult,
  format: Format,
  status = 200,
  extraHeaders: Record<string, string> = {},
): WireAnswer {
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPES[format], ...extraHeaders };
  if (result.kind === 'customer') {
    const body =
      format === 'json'
        ? JSON.stringify(customerJson(result.customer))
        : xml({ customer: customerXmlNode(result.customer) });
    return { status, headers, body };
  }
  const list = result.list;
  Object.assign(headers, listHeaders(list));
  if (format === 'json') return { status, headers, body: JSON.stringify(list.items.map(customerJson)) };
  const root: Record<string, unknown> = {
    '@_offset': String(list.offset),
    '@_limit': String(list.limit),
    '@_total': String(list.total),
  };
  if (list.items.length > 0) root.customer = list.items.map(customerXmlNode);
  return { status, headers, body: xml({ customers: root }) };
}

/** The error body, the same in both formats. */
export function renderError(
  code: MgmtErrorCode | 'E500' | 'E503',
  status: number,
  message: string,
  format: Format,
  field?: string,
  extraHeaders: Record<string, string> = {},
): WireAnswer {
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPES[format], ...extraHeaders };
  if (format === 'json') {
    const response: Record<string, unknown> = { code, status, message };
    if (field !== undefined) response.field = field;
    return { status, headers, body: JSON.stringify({ response }) };
  }
  const node: Record<string, unknown> = { '@_code': code, '@_status': String(status) };
  if (field !== undefined) node['@_field'] = field;
  node.message = message;
  return { status, headers, body: xml({ response: node }) };
}

export function renderMgmtError(e: MgmtError, format: Format): WireAnswer {
  return renderError(e.code, e.status, e.message, format, e.field, e.headers);
}

const KIND_OF_CODE: Record<MgmtErrorCode, FailureKind> = {
  E400: 'validation',
  E401: 'auth',
  E403: 'auth',
  E404: 'notFound',
  E405: 'methodNotAllowed',
  E406: 'validation',
  E413: 'tooLarge',
  E415: 'unsupportedMediaType',
};

/** The kind and status of a MgmtError (what the shared error path asks of every vendor error). */
export function mgmtErrorKind(err: unknown): { kind: FailureKind; status: number } | undefined {
  return err instanceof MgmtError ? { kind: KIND_OF_CODE[err.code], status: err.status } : undefined;
}

const BASE = '/api/v01';

/** The UniPay error for each kind of failure. */
function errorFor(f: Failure): MgmtError | null {
  if (f.error instanceof MgmtError) return f.error;
  const path = f.path.length > 1 ? f.path.replace(/\/+$/, '') : f.path;
  switch (f.kind) {
    case 'tooLarge':
      return new MgmtError('E413', 'Request body is too large');
    case 'unsupportedMediaType':
      return new MgmtError(
        'E415',
        'Unsupported Content-Type: send the Customer as application/json or application/xml',
      );
    case 'malformedBody':
      if (f.empty) return new MgmtError('E400', 'A Customer object is required in the request body', 'customer');
      if (f.syntax === 'json')
        return new MgmtError(
          'E400',
          `Malformed JSON body: ${f.reason ?? 'the Customer is not valid JSON'}`,
          'customer',
        );
      if (f.syntax === 'xml')
        return new MgmtError(
          'E400',
          `Malformed XML body: ${f.reason ?? 'the Customer is not well-formed XML'}`,
          'customer',
        );
      return new MgmtError('E400', f.reason ?? 'The request body could not be read');
    case 'notFound':
      if (f.unknownSession) return new MgmtError('E404', f.unknownSession);
      return new MgmtError(
        'E404',
        `No resource at ${path}: the Management API serves ${BASE}/customers and ${BASE}/customers/{id}`,
      );
    case 'methodNotAllowed': {
      const allow = (f.allow ?? []).join(', ');
      return new MgmtError('E405', `Method ${f.method} is not supported by ${path}; allowed: ${allow}`, undefined, {
        Allow: allow,
      });
    }
    case 'auth':
      return new MgmtError('E401', 'Invalid login or password');
    case 'validation':
      return new MgmtError('E400', 'Invalid request');
    case 'internal':
      return null;
  }
}

/** Every failure in the UniPay error body, in the format Accept asks for (JSON when it cannot be served). */
export function renderFailure(f: Failure, request: FastifyRequest): WireAnswer {
  const format = formatFor(request.headers.accept) ?? 'json';
  const e = errorFor(f);
  return e === null ? renderError('E500', 500, 'Internal error', format) : renderMgmtError(e, format);
}

/**
 * An XML document (as parsed by the shared hardened parser) -> the plain Customer shape the
 * operations take. Attributes become id/code/accountId (accountId made a number when it is one);
 * anything that is not the documented shape is a 400 naming the culprit.
 */
export function customerFromXml(doc: Record<string, unknown>, mode: InputMode = STRICT): Record<string, unknown> {
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?'));
  if (roots.length !== 1 || roots[0] !== 'customer') {
    throw fieldError('customer', `The XML root element must be <customer>, not <${roots[0] ?? ''}>`);
  }
  const node = doc.customer;
  if (node === '' || node === undefined) return {};
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw fieldError('customer', '<customer> must hold child elements, not text');
  }
  const out: Record<string, unknown> = {};
  const put = (name: string, v: unknown) => {
    out[name] = name === 'accountId' && /^[0-9]{1,15}$/.test(String(v)) ? Number(v) : v;
  };
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === '#text') throw fieldError('customer', '<customer> must hold child elements, not text');
    if (k.startsWith('@_')) {
      const name = k.slice(2);
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      if (!(ATTRIBUTE_FIELDS as readonly string[]).includes(name)) {
        if ((CUSTOMER_FIELDS as readonly string[]).includes(name)) {
          deviation(
            mode,
            name,
            `${name} must be a child element of <customer>, not an attribute`,
            `${name} was sent as an attribute of <customer>, not a child element: accepted`,
          );
          if (!(name in out)) out[name] = v;
          continue;
        }
        deviation(
          mode,
          name,
          `${name} is not a known attribute of <customer>`,
          `${name} is not a known attribute of <customer>: ignored`,
        );
        continue;
      }
      put(name, v);
      continue;
    }
    let value = v;
    if (Array.isArray(value)) {
      deviation(
        mode,
        k,
        `${k} must be given at most once`,
        `<${k}> was given ${value.length} times: the first one was used`,
      );
      value = value[0];
    }
    if ((ATTRIBUTE_FIELDS as readonly string[]).includes(k)) {
      deviation(
        mode,
        k,
        `${k} must be an attribute of <customer>, not a child element`,
        `${k} was sent as a child element of <customer>, not an attribute: accepted`,
      );
      if (!(k in out)) put(k, value);
      continue;
    }
    out[k] = value;
  }
  return out;
}
