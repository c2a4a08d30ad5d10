/**
 * RackCorp wire format: `{ "code": "OK", ... }` and `{ "code": "FAULT", "message", "error", "fault" }`.
 *
 * FAULTs answer HTTP 200: RackCorp clients read `code` before the status, and some treat any
 * non-2xx as a transport failure without reading the body (vendor-notes.md). The exceptions are
 * failures below the API (an oversized body, 413; an internal error, 500), still with a FAULT body.
 * `fault.faultcode` / `fault.faultstring` keep the older official CLI working.
 */
import type { Failure, FailureKind, WireAnswer } from '../shared/errors.js';
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

export function faultBody(
  message: string,
  fields?: Record<string, string>,
  faultcode = 'Client',
): Record<string, unknown> {
  const body: Record<string, unknown> = { code: 'FAULT', message };
  if (fields && Object.keys(fields).length > 0) body.error = fields;
  body.fault = { faultcode, faultstring: message };
  return body;
}

export function faultOf(err: RackcorpFault): Record<string, unknown> {
  return faultBody(err.message, err.fields, err.faultcode);
}

export const AUTH_FAILED = 'Authentication failed';

/**
 * An authentication FAULT: `Authentication failed: <reason>`, with the documented `error` object
 * naming the credential at fault (APIUUID, APISECRET, Authorization, JWTSESSIONID, username,
 * password, or `credentials` when none was given).
 */
export function authFault(reason: string, field = 'credentials'): RackcorpFault {
  return new RackcorpFault(`${AUTH_FAILED}: ${reason}`, { [field]: reason }, 'Auth');
}
export const CUSTOMER_NOT_FOUND = 'Customer not found or permission denied';

/** What Fastify sets for an object it serializes. */
export const JSON_TYPE = 'application/json; charset=utf-8';

function answer(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): WireAnswer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

/** The kind and status of a RackcorpFault (what the shared error path asks of every vendor error). */
export function rackcorpFaultKind(err: unknown): { kind: FailureKind; status: number } | undefined {
  if (!(err instanceof RackcorpFault)) return undefined;
  const kind: FailureKind = err.faultcode === 'Auth' ? 'auth' : err.faultcode === 'Server' ? 'internal' : 'validation';
  return { kind, status: err.httpStatus };
}

/**
 * Every failure as a RackCorp FAULT. HTTP 200 for what the API itself refuses (paths, methods,
 * bodies it cannot read), as RackCorp answers; 413 and 500 for failures below the API.
 */
export function renderFailure(f: Failure): WireAnswer {
  if (f.error instanceof RackcorpFault) return answer(f.error.httpStatus, faultOf(f.error));
  switch (f.kind) {
    case 'tooLarge':
      return answer(413, faultBody(`Request body is larger than ${f.limit} bytes`, { body: 'too large' }));
    case 'malformedBody':
      return f.syntax === 'json'
        ? answer(
            200,
            faultBody('The request body is not valid JSON', {
              body: f.reason ? `not valid JSON: ${f.reason}` : 'not valid JSON',
            }),
          )
        : answer(
            200,
            faultBody(`The request body could not be read: ${f.reason ?? 'send a JSON object'}`, {
              body: f.reason ?? 'unreadable',
            }),
          );
    case 'unsupportedMediaType':
      return answer(
        200,
        faultBody(`Unsupported Content-Type "${f.contentType}": send JSON`, { body: 'unsupported Content-Type' }),
      );
    case 'notFound':
      // The emulator's own refusal, not RackCorp's: a 4xx, so a client never reads it as data.
      if (f.unknownSession) return answer(404, faultBody(f.unknownSession, { session: 'unknown' }));
      return answer(200, faultBody(`Unknown API path: ${f.method} ${f.path}`, { path: 'no such API path' }));
    case 'methodNotAllowed': {
      const allow = (f.allow ?? []).join(', ');
      return answer(
        200,
        faultBody(`Method ${f.method} is not allowed on ${f.path}: use ${allow}`, { method: `use ${allow}` }),
        { allow },
      );
    }
    case 'auth':
      return answer(200, faultBody(AUTH_FAILED, { credentials: AUTH_FAILED }, 'Auth'));
    case 'validation':
      return answer(200, faultBody('Invalid parameters', { request: 'invalid parameters' }));
    case 'internal':
      return answer(500, faultBody('Internal error', undefined, 'Server'));
  }
}
