/**
 * UniPay errors: one table of codes and statuses. Handlers throw MgmtError; envelope.ts turns it into
 * the wire body. The real gateway's error body is not public; this one is designed in its style and
 * documented in the README (`## UniPay Management API`).
 */
export const MGMT_ERRORS = {
  E400: 400, // bad input: a field, a parameter, or a body that cannot be read
  E401: 401, // no, malformed or wrong credentials, or not a service user
  E403: 403, // authenticated, but the merchant account is outside the user's reach
  E404: 404, // unknown customer id or unknown path
  E405: 405, // method not supported by the resource
  E406: 406, // Accept asks for a format the API cannot produce
  E413: 413, // body larger than the server accepts
  E415: 415, // body in a Content-Type the resource does not consume
} as const;

export type MgmtErrorCode = keyof typeof MGMT_ERRORS;

export class MgmtError extends Error {
  readonly status: number;
  constructor(
    readonly code: MgmtErrorCode,
    message: string,
    /** The field or parameter at fault, when there is one. */
    readonly field?: string,
    /** Extra response headers (WWW-Authenticate, Allow). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = MGMT_ERRORS[code];
  }
}

/** A field-level validation failure: the message starts with the field name. */
export function fieldError(field: string, message: string): MgmtError {
  return new MgmtError('E400', message, field);
}
