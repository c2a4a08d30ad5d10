/**
 * NeuCRM's wire format, in one place: every answer is `{"result": ..., "error": null}` or
 * `{"result": null, "error": "<description>"}`. API-level failures (credentials, fields,
 * scoping) answer HTTP 200, as NeuCRM does and as its clients expect (they read `error`).
 * Transport-level failures (wrong method, unknown path, unreadable or oversized body) keep the
 * envelope but carry the matching 4xx status, so generic HTTP clients notice them too.
 */
import type { Failure, FailureKind, RenderFailure, WireAnswer } from '../shared/errors.js';
import { PAGE_CUSTOMER_COLUMNS, type IspcrmPage } from '../../store/ispcrm.js';

/** A failure the vendor reports in its envelope. `status` is 200 for every API-level error. */
export class IspcrmError extends Error {
  constructor(
    message: string,
    readonly status = 200,
    readonly headers: Record<string, string> = {},
  ) {
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
  private body: string | undefined;
  constructor(readonly json: string) {}

  /**
   * Its success envelope's text, made once: a remembered list then answers the same string every time, whose hash
   * (the coverage counter looks the answer up by its text) is computed once instead of on every request.
   */
  get envelope(): string {
    return (this.body ??= `{"result":${this.json},"error":null}`);
  }
}

/** The exact bytes of a success envelope: what JSON.stringify(success(result)) writes. */
export function successBody(result: unknown): string {
  if (result instanceof RawJson) return result.envelope;
  return JSON.stringify(success(result));
}

/** The JSON text before each customer value: its key, in NeuCRM's field order. */
const CUSTOMER_KEYS = PAGE_CUSTOMER_COLUMNS.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c)}:`);

/**
 * One value as JSON.stringify writes it: a finite number as its String() (the same text), anything else through
 * JSON.stringify.
 */
function json(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v);
}

/**
 * A list page as the JSON text of NeuCRM's result: the array of customers, each with its services
 * (a service's id shown as `serviceid`). Written as text from the raw rows, byte for byte what
 * JSON.stringify makes of the same objects, without making the objects.
 */
export function listJson(page: IspcrmPage): string {
  const { customers, services } = page;
  if (customers.length === 0) return '[]';
  const servicesOf = new Map<unknown, string>();
  for (const s of services) {
    const text = `{"serviceid":${json(s[1])},"username":${json(s[2])},"plan":${json(s[3])},"status":${json(s[4])},"created":${json(s[5])}}`;
    const prev = servicesOf.get(s[0]);
    servicesOf.set(s[0], prev === undefined ? text : `${prev},${text}`);
  }
  let out = '[';
  for (let i = 0; i < customers.length; i++) {
    const r = customers[i];
    if (i > 0) out += ',';
    for (let k = 0; k < CUSTOMER_KEYS.length; k++) out += CUSTOMER_KEYS[k] + json(r[k]);
    out += `,"services":[${servicesOf.get(r[0]) ?? ''}]}`;
  }
  return out + ']';
}

export function failure(message: string): Envelope {
  return { result: null, error: message };
}

/** The exact bytes of an error envelope (for fault presets). */
export function failureBody(message: string): string {
  return JSON.stringify(failure(message));
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const AUTH_ERROR = 'Invalid userid or api_key';

/** The kind and status of an IspcrmError (what the shared error path asks of every vendor error). */
export function ispcrmErrorKind(err: unknown): { kind: FailureKind; status: number } | undefined {
  if (!(err instanceof IspcrmError)) return undefined;
  return { kind: err.message === AUTH_ERROR ? 'auth' : 'validation', status: err.status };
}

function answer(status: number, message: string, headers: Record<string, string> = {}): WireAnswer {
  return { status, headers: { ...headers, 'content-type': JSON_CONTENT_TYPE }, body: failureBody(message) };
}

/** Every failure in NeuCRM's envelope; `available` are the API methods an unknown path is told about. */
export function failureRenderer(available: readonly string[]): RenderFailure {
  return (f: Failure): WireAnswer => {
    if (f.error instanceof IspcrmError) return answer(f.error.status, f.error.message, f.error.headers);
    switch (f.kind) {
      case 'tooLarge':
        return answer(413, `Request body too large. Maximum ${f.limit} bytes allowed`);
      case 'unsupportedMediaType':
        return answer(
          415,
          `Unsupported Content-Type "${f.contentType ?? ''}". Send application/x-www-form-urlencoded or application/json`,
        );
      case 'malformedBody':
        if (f.syntax === 'json')
          return answer(f.status, `Invalid request: the body is not valid JSON${f.reason ? ` (${f.reason})` : ''}`);
        return answer(f.status, `Invalid request: ${f.reason ?? 'the body could not be read'}`);
      case 'notFound':
        if (f.unknownSession) return answer(404, f.unknownSession);
        return answer(404, `Unknown API method ${f.path}. Available: ${available.join(', ')}`);
      case 'methodNotAllowed': {
        const allow = (f.allow ?? ['POST']).join(', ');
        return answer(405, `Method ${f.method} not allowed. Use ${allow} ${f.path.replace(/\/+$/, '')}`, { allow });
      }
      case 'auth':
        return answer(200, AUTH_ERROR);
      case 'validation':
        return answer(200, 'Invalid request');
      case 'internal':
        return answer(500, 'Internal server error');
    }
  };
}
