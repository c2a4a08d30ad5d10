/**
 * NeuCRM's wire format, in one place: every answer is `{"result": ..., "error": null}` or
 * `{"result": null, "error": "<description>"}`. API-level failures (credentials, fields,
 * scoping) answer HTTP 200, as NeuCRM does and as its clients expect (they read `error`).
 * Transport-level failures (wrong method, unknown path, unreadable or oversized body) keep the
 * envelope but carry the matching 4xx status, so generic HTTP clients notice them too.
 */

/** A failure the vendor reports in its envelope. `status` is 200 for every API-level error. */
export class IspcrmError extends Error {
  constructor(message: string, readonly status = 200, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'IspcrmError';
  }
}

export type Envelope = { result: unknown; error: string | null };

export function success(result: unknown): Envelope {
  return { result, error: null };
}

/** A result already written as JSON text (the list builds its rows as text: no objects to serialise). */
export class RawJson {
  constructor(readonly json: string) {}
}

/** The exact bytes of a success envelope: what JSON.stringify(success(result)) writes. */
export function successBody(result: unknown): string {
  if (result instanceof RawJson) return `{"result":${result.json},"error":null}`;
  return JSON.stringify(success(result));
}

export function failure(message: string): Envelope {
  return { result: null, error: message };
}

/** The exact bytes of an error envelope (for fault presets). */
export function failureBody(message: string): string {
  return JSON.stringify(failure(message));
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
