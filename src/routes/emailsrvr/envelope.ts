/**
 * Rackspace Email & Apps wire format, in one place: the customer and customer-list documents and
 * the fault bodies, as XML (byte for byte the documentation's form) or JSON.
 *
 * XML documents start with the `<?xml version="1.0" encoding="utf-8"?>` declaration and put the
 * `xmlns:xsd` attribute on a second line indented by one space, exactly as the documentation
 * shows (that is how .NET's XmlSerializer writes them); children are indented by two spaces.
 */
import { buildXml, escapeXmlText } from '../shared/xml.js';
import { negotiate } from '../shared/negotiate.js';
import { memoize } from '../../core/memoize.js';
import type { FastifyRequest } from 'fastify';
import type { Failure, FailureKind, WireAnswer } from '../shared/errors.js';

export type Format = 'xml' | 'json';

/**
 * Accept -> format. `text/xml` and `application/xml` give XML, `application/json` gives JSON.
 * No Accept (or `*\/*`) gives XML, the format every example of the documentation asks for.
 */
export const DEFAULT_FORMAT: Format = 'xml';
const OFFERS: Record<string, Format> = {
  'text/xml': 'xml',
  'application/xml': 'xml',
  'application/json': 'json',
  'text/json': 'json',
};

/** Negotiated formats by Accept header (a pure function of it), up to 256 distinct headers. */
const negotiated = memoize((accept: string) => negotiate(accept, OFFERS, DEFAULT_FORMAT), 256);

/** The negotiated format, or null when the Accept header names nothing we serve (406). */
export function formatFor(accept: string | undefined): Format | null {
  return accept === undefined ? DEFAULT_FORMAT : negotiated(accept);
}

/** Like formatFor, but never null: an unservable Accept falls back to the default format. */
export function formatOrDefault(accept: string | undefined): Format {
  return formatFor(accept) ?? DEFAULT_FORMAT;
}

export const CONTENT_TYPES: Record<Format, string> = {
  xml: 'text/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XSD = 'http://www.w3.org/2001/XMLSchema';
const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/** A customer as the operations return it. */
export interface Customer {
  name: string;
  accountNumber: number;
  referenceNumber: string | null;
}

/** A page of customers. Never changed once made: its documents are remembered (customerListBody). */
export interface CustomerList {
  readonly offset: number;
  readonly size: number;
  readonly total: number;
  readonly customers: readonly Readonly<Customer>[];
}

/** A serialized answer: status is decided by the caller, this is the body and its type. */
export interface Body {
  contentType: string;
  payload: string;
}

/** `referenceNumber` is left out when the account has none (XmlSerializer omits null strings). */
function customerFields(c: Customer): Record<string, string> {
  const out: Record<string, string> = { name: c.name, accountNumber: String(c.accountNumber) };
  if (c.referenceNumber !== null) out.referenceNumber = c.referenceNumber;
  return out;
}

/*
 * The customer documents are written as text, not through the generic builder (they are the
 * hot path of Index): the same bytes buildXml gives, i.e. the root element's start tag with the
 * documentation's break after xmlns:xsi, children indented by two spaces per level, text escaped
 * as the builder escapes it (escapeXmlText), an empty value as `<x></x>`, no trailing newline.
 */
function rootStart(root: string, namespace: string): string {
  return `${DECLARATION}\n<${root} xmlns:xsi="${XSI}"\n xmlns:xsd="${XSD}" xmlns="${namespace}">\n`;
}
const CUSTOMER_START = rootStart('customer', 'urn:xml:customer');
const CUSTOMER_END = '</customer>';
const LIST_START = rootStart('customerList', 'urn:xml:customerList');
const LIST_END = '</customerList>';

/** A customer's child elements, each on its own line at the given indentation. */
function customerElements(c: Customer, indent: string): string {
  let s = `${indent}<name>${escapeXmlText(c.name)}</name>\n${indent}<accountNumber>${escapeXmlText(String(c.accountNumber))}</accountNumber>\n`;
  if (c.referenceNumber !== null)
    s += `${indent}<referenceNumber>${escapeXmlText(c.referenceNumber)}</referenceNumber>\n`;
  return s;
}

function customerXml(c: Customer): string {
  return CUSTOMER_START + customerElements(c, '  ') + CUSTOMER_END;
}

function customerListXml(list: CustomerList): string {
  let s = `${LIST_START}  <offset>${escapeXmlText(list.offset)}</offset>\n  <size>${escapeXmlText(list.size)}</size>\n  <total>${escapeXmlText(list.total)}</total>\n`;
  if (list.customers.length === 0) {
    s += '  <customers></customers>\n';
  } else {
    s += '  <customers>\n';
    for (const c of list.customers) s += `    <customer>\n${customerElements(c, '      ')}    </customer>\n`;
    s += '  </customers>\n';
  }
  return s + LIST_END;
}

export function customerBody(c: Customer, format: Format): Body {
  if (format === 'json') return { contentType: CONTENT_TYPES.json, payload: JSON.stringify(customerFields(c)) };
  return { contentType: CONTENT_TYPES.xml, payload: customerXml(c) };
}

/**
 * A list's documents, made on first use and kept on the list itself (the store hands out one
 * list while the data is unchanged, so an Index asked again is not serialized again). Not in a
 * WeakMap: V8 keeps WeakMap values of short-lived keys until a full collection.
 */
const DOCUMENTS = Symbol('documents');
type ListWithDocuments = CustomerList & { [DOCUMENTS]?: Partial<Record<Format, Body>> };

export function customerListBody(list: CustomerList, format: Format): Body {
  const l = list as ListWithDocuments;
  const documents = (l[DOCUMENTS] ??= {});
  const known = documents[format];
  if (known !== undefined) return known;
  const payload =
    format === 'json'
      ? JSON.stringify({
          offset: list.offset,
          size: list.size,
          total: list.total,
          customers: list.customers.map(customerFields),
        })
      : customerListXml(list);
  const body = { contentType: CONTENT_TYPES[format], payload };
  documents[format] = body;
  return body;
}

/** The fault root elements real clients recognise, with their HTTP status. */
export type FaultType = 'badRequestFault' | 'validationFault' | 'unauthorizedFault' | 'itemNotFoundFault' | 'appsFault';

/** A failure an operation reports; the plugin's error handler turns it into a fault body. */
export class EmailsrvrFault extends Error {
  constructor(
    readonly fault: FaultType,
    readonly code: number,
    message: string,
    readonly details: string = message,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const faults = {
  badRequest: (message: string, details?: string) => new EmailsrvrFault('badRequestFault', 400, message, details),
  validation: (message: string, details?: string) => new EmailsrvrFault('validationFault', 400, message, details),
  unauthorized: (message: string, details?: string) => new EmailsrvrFault('unauthorizedFault', 403, message, details),
  notFound: (message: string, details?: string) => new EmailsrvrFault('itemNotFoundFault', 404, message, details),
  invalidAccount: (accountNumber: string) =>
    new EmailsrvrFault('itemNotFoundFault', 404, 'Invalid account number', `Invalid account number: ${accountNumber}`),
  throttled: () => new EmailsrvrFault('unauthorizedFault', 403, 'Exceeded request limits', 'Exceeded request limits'),
  apps: (message = 'An internal error occurred', details?: string) =>
    new EmailsrvrFault('appsFault', 500, message, details),
};

/**
 * A fault body: XML `<badRequestFault code="400"><message/><details/></badRequestFault>` (after
 * the declaration, two-space indentation), JSON `{"badRequestFault":{"code":400,"message":..,"details":..}}`.
 */
export function faultBody(fault: FaultType, code: number, message: string, details: string, format: Format): Body {
  if (format === 'json') {
    return { contentType: CONTENT_TYPES.json, payload: JSON.stringify({ [fault]: { code, message, details } }) };
  }
  const xml = buildXml({ [fault]: { '@_code': String(code), message, details } }).trimEnd();
  return { contentType: CONTENT_TYPES.xml, payload: `${DECLARATION}\n${xml}` };
}

const FAULT_KINDS: Record<FaultType, FailureKind> = {
  badRequestFault: 'validation',
  validationFault: 'validation',
  unauthorizedFault: 'auth',
  itemNotFoundFault: 'notFound',
  appsFault: 'internal',
};

/** The kind and status of an EmailsrvrFault (what the shared error path asks of every vendor error). */
export function emailsrvrFaultKind(err: unknown): { kind: FailureKind; status: number } | undefined {
  return err instanceof EmailsrvrFault ? { kind: FAULT_KINDS[err.fault], status: err.code } : undefined;
}

/** The fault for each kind of failure, in Rackspace's words. */
function faultFor(f: Failure): EmailsrvrFault {
  if (f.error instanceof EmailsrvrFault) return f.error;
  switch (f.kind) {
    case 'tooLarge':
      return new EmailsrvrFault(
        'badRequestFault',
        413,
        'Request body too large',
        `The request body is larger than ${f.limit} bytes`,
      );
    case 'unsupportedMediaType':
      return new EmailsrvrFault(
        'badRequestFault',
        415,
        'Unsupported Content-Type',
        `Send application/x-www-form-urlencoded, application/json or text/xml, not "${f.contentType ?? ''}"`,
      );
    case 'malformedBody':
      if (f.syntax === 'xml') return faults.badRequest('Invalid XML body', f.reason);
      if (f.syntax === 'json')
        return faults.badRequest(
          'Invalid request body',
          `The request body is not valid JSON${f.reason ? `: ${f.reason}` : ''}`,
        );
      return new EmailsrvrFault(
        'badRequestFault',
        f.status,
        'Invalid request body',
        f.reason ?? 'The request body could not be read',
      );
    case 'notFound':
      if (f.unknownSession) return faults.notFound('Unknown session', f.unknownSession);
      return faults.notFound('Resource not found', `Nothing is served at ${f.method} ${f.path}`);
    case 'methodNotAllowed': {
      const allow = (f.allow ?? []).join(', ');
      return new EmailsrvrFault(
        'badRequestFault',
        405,
        'Method not allowed',
        `${f.method} is not supported here; use ${allow}`,
        { allow },
      );
    }
    case 'auth':
      return faults.unauthorized('Unauthorized', 'Valid X-Api-Signature credentials are required');
    case 'validation':
      return faults.validation('Invalid request');
    case 'internal':
      return faults.apps('An internal error occurred');
  }
}

/** Every failure as a Rackspace fault, in the format the request negotiated (XML when it could not). */
export function renderFailure(f: Failure, request: FastifyRequest): WireAnswer {
  const fault = faultFor(f);
  const format = request.emailsrvr?.format ?? formatOrDefault(request.headers.accept);
  const body = faultBody(fault.fault, fault.code, fault.message, fault.details, format);
  return { status: fault.code, headers: { ...fault.headers, 'content-type': body.contentType }, body: body.payload };
}
