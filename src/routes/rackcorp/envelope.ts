/**
 * RackCorp wire format: `{ "code": "OK", ... }` and `{ "code": "FAULT", "message", "error", "fault" }`.
 *
 * FAULTs answer HTTP 200: RackCorp clients read `code` before the status, and some treat any
 * non-2xx as a transport failure without reading the body (vendor-notes.md). The exceptions are
 * failures below the API (an oversized body, 413; an internal error, 500), still with a FAULT body.
 * `fault.faultcode` / `fault.faultstring` keep the older official CLI working.
 */
export class RackcorpFault extends Error {
  constructor(
    message: string,
    readonly fields?: Record<string, string>,
    readonly faultcode: 'Client' | 'Server' | 'Auth' = 'Client',
    readonly httpStatus = 200,
  ) {
    super(message);
  }
}

export function okBody(result: Record<string, unknown>): Record<string, unknown> {
  return { code: 'OK', ...result };
}

export function faultBody(message: string, fields?: Record<string, string>, faultcode = 'Client'): Record<string, unknown> {
  const body: Record<string, unknown> = { code: 'FAULT', message };
  if (fields && Object.keys(fields).length > 0) body.error = fields;
  body.fault = { faultcode, faultstring: message };
  return body;
}

export function faultOf(err: RackcorpFault): Record<string, unknown> {
  return faultBody(err.message, err.fields, err.faultcode);
}

export const AUTH_FAILED = 'Authentication failed';
export const CUSTOMER_NOT_FOUND = 'Customer not found or permission denied';
